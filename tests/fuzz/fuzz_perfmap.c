/* libFuzzer target for the /tmp/perf-PID.map parser (target-controlled text).
 * make fuzz; build/fuzz/fuzz_perfmap -max_total_time=60 tests/fuzz/corpus/fuzz_perfmap */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "symbolize/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_perfmap m;
	if (ct_perfmap_parse((const char *)data, size, 1024, &m) < 0)
		return 0;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < m.n; i++) {
		const struct ct_perfmap_entry *e = &m.e[i];
		if (e->start >= e->end || e->start < prev_end || !e->name[0])
			abort(); /* sorted, non-overlapping, non-empty: what lookups rely on */
		if (ct_perfmap_lookup(&m, e->start) != e || ct_perfmap_lookup(&m, e->end - 1) != e)
			abort();
		prev_end = e->end;
	}
	if (size >= 8) {
		uint64_t a;
		__builtin_memcpy(&a, data, 8);
		(void)ct_perfmap_lookup(&m, a);
	}
	ct_perfmap_free(&m);
	return 0;
}
