/* SPDX-License-Identifier: GPL-2.0-or-later */
/* interp/coremem: a core's memory, and what the core left out of read-only module data from the
 * module's own file. The "core" here is a memory source that holds nothing (or one range of this
 * process's memory); the modules are this process's, opened by the symbolizer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "interp/coremem.h"
#include "symbolize/symbolizer.h"

static const char rodata[] = "coremem: read-only data, as in the executable's file";
static char writable[] = "coremem: writable data, never taken from a file";

/* a "core" that holds [lo, hi) of this process's memory and nothing else */
struct fake {
	uint64_t lo, hi;
};

static ssize_t fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct fake *f = arg;
	if (addr < f->lo || addr >= f->hi)
		return -EFAULT;
	size_t n = len < f->hi - addr ? len : (size_t)(f->hi - addr);
	memcpy(buf, (const void *)(uintptr_t)addr, n);
	return (ssize_t)n;
}

static struct ct_symbolizer *self_sym(void)
{
	struct ct_sym_opts so = { NULL, true, false, false, 0 };
	struct ct_symbolizer *sym = NULL;
	assert_int_equal(ct_sym_open(getpid(), &so, &sym), 0);
	return sym;
}

static void test_rodata_from_file(void **state)
{
	(void)state;
	struct ct_symbolizer *sym = self_sym();
	struct fake f = { 0, 0 };
	struct ct_coremem cm = { { getpid(), fake_read, &f }, sym, 0 };
	struct ct_memsrc m = ct_coremem_src(&cm);
	char buf[sizeof(rodata)];
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ct_memsrc_read_all(&m, (uint64_t)(uintptr_t)rodata, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, rodata, sizeof(rodata));
	assert_int_equal(cm.file_bytes, sizeof(rodata));
	/* the core's part first, the rest from the file */
	f.lo = (uint64_t)(uintptr_t)rodata;
	f.hi = f.lo + 8;
	cm.file_bytes = 0;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ct_memsrc_read_all(&m, (uint64_t)(uintptr_t)rodata, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, rodata, sizeof(rodata));
	assert_int_equal(cm.file_bytes, sizeof(rodata) - 8);
	ct_sym_close(sym);
}

static void test_writable_not_from_file(void **state)
{
	(void)state;
	struct ct_symbolizer *sym = self_sym();
	struct fake f = { 0, 0 };
	struct ct_coremem cm = { { getpid(), fake_read, &f }, sym, 0 };
	struct ct_memsrc m = ct_coremem_src(&cm);
	char buf[sizeof(writable)];
	writable[0] = 'C'; /* memory and file differ: the file's bytes would be wrong */
	assert_int_equal(ct_memsrc_read_all(&m, (uint64_t)(uintptr_t)writable, buf, sizeof(buf)), -EFAULT);
	/* the core has it: the core's bytes */
	f.lo = (uint64_t)(uintptr_t)writable;
	f.hi = f.lo + sizeof(writable);
	assert_int_equal(ct_memsrc_read_all(&m, (uint64_t)(uintptr_t)writable, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, writable, sizeof(writable));
	/* the heap (no module) and address 0 */
	char *heap = malloc(64);
	assert_non_null(heap);
	assert_int_equal(ct_memsrc_read_all(&m, (uint64_t)(uintptr_t)heap, buf, 16), -EFAULT);
	assert_int_equal(ct_memsrc_read_all(&m, 0, buf, 16), -EFAULT);
	assert_int_equal(ct_memsrc_read_all(&m, UINT64_MAX - 4, buf, 16), -EFAULT);
	free(heap);
	assert_int_equal(cm.file_bytes, 0);
	ct_sym_close(sym);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rodata_from_file),
		cmocka_unit_test(test_writable_not_from_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
