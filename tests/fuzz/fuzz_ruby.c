/* libFuzzer target for interp/'s Ruby readers of target-controlled bytes: the succinct line table
 * and insn_info entries of an iseq, and the copied control frames. make fuzz FUZZ_ONLY=fuzz_ruby */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "interp/rblayout.h"
#include "interp/ruby.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint32_t pos, nentries;
	__builtin_memcpy(&pos, data, 4);
	__builtin_memcpy(&nentries, data + 4, 4);
	const uint8_t *t = data + 8;
	size_t n = size - 8, half = n / 2;
	int rank = ct_rb_succ_index(t, n, pos % 4096);
	if (rank > (1 << 28))
		abort();
	nentries %= 64;
	if ((size_t)nentries * 12 > half)
		nentries = (uint32_t)(half / 12);
	(void)ct_rb_line(t, nentries, 12, 0, t + half, n - half, (long)(pos % 4096));
	const struct ct_rb_raw_frame *f;
	int k = ct_rb_raw_decode(data, size, &f);
	if (k > CT_RB_MAX_FRAMES)
		abort();
	uint64_t sum = 0;
	for (int i = 0; i < k; i++)
		sum += f[i].pc ^ f[i].iseq ^ f[i].ep;
	(void)sum;
	return 0;
}
