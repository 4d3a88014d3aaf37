/* libFuzzer target for interp/'s readers of target-controlled bytes: the line tables of every
 * CPython version (co_lnotab, 3.10 co_linetable, 3.11+ locations) and the copied frame chain.
 * make fuzz FUZZ_ONLY=fuzz_python */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "interp/pylayout.h"
#include "interp/python.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	int32_t first, addr;
	__builtin_memcpy(&first, data, 4);
	__builtin_memcpy(&addr, data + 4, 4);
	const uint8_t *t = data + 8;
	size_t n = size - 8;
	(void)ct_py_line_lnotab(t, n, first, addr);
	(void)ct_py_line_310(t, n, first, addr);
	(void)ct_py_line_311(t, n, first, addr);
	for (uint32_t minor = 6; minor <= 13; minor++)
		(void)ct_py_line(0x03000000u | minor << 16, t, n, first, addr);
	const struct ct_py_raw_frame *f;
	int k = ct_py_raw_decode(data, size, &f);
	if (k > CT_PY_MAX_FRAMES)
		abort();
	uint64_t sum = 0;
	for (int i = 0; i < k; i++)
		sum += f[i].addr ^ f[i].code ^ f[i].instr;
	(void)sum;
	return 0;
}
