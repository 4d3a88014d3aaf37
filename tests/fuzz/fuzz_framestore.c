/* libFuzzer target for the on-disk frame store decoder (symbolize/framestore.h). The checksum is
 * made right first, so that what is fuzzed is the structure under it.
 * make fuzz; build/fuzz/fuzz_framestore -max_total_time=60 tests/fuzz/corpus/fuzz_framestore */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/framestore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 16 || size > (1u << 20))
		return 0;
	uint8_t *d = malloc(size);
	if (!d)
		return 0;
	memcpy(d, data, size);
	memcpy(d, "CTFSTOR2", 8);
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size - 8; i++) {
		h ^= d[i];
		h *= 0x100000001b3ull;
	}
	memcpy(d + size - 8, &h, 8);
	struct ct_framestore_debug dbg;
	struct ct_framestore_entry *v;
	size_t n;
	if (ct_framestore_decode(d, size, &dbg, &v, &n) == 0) {
		/* what it returns must encode again to the same bytes */
		struct ct_buf b = CT_BUF_INIT;
		if (ct_framestore_encode(&dbg, v, n, &b) == 0 && (b.len != size || memcmp(b.data, d, size) != 0))
			abort();
		ct_buf_free(&b);
		ct_framestore_free(&dbg, v, n);
	}
	free(d);
	return 0;
}
