/* Unit tests for interp/pthreadtid.c: where glibc's struct pthread keeps the TID. The truth is this
 * process's own threads: the offset found (in libc's DWARF from libc6-dbg, or from the table of
 * checked glibc versions) must give, read at pthread_self() + offset, the TID gettid() returns, in
 * the main thread and in another. Also the banner parser and the table against the DWARF. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "interp/pthreadtid.h"
#include "lib/error.h"

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file;
	(void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

/* A Dwfl of this process; with_debug: the standard search (/usr/lib/debug, build-id), else none */
static Dwfl *self_dwfl(bool with_debug)
{
	static char *debuginfo_path;
	static const Dwfl_Callbacks std = { .find_elf = dwfl_linux_proc_find_elf,
					    .find_debuginfo = dwfl_standard_find_debuginfo,
					    .debuginfo_path = &debuginfo_path };
	static const Dwfl_Callbacks none = { .find_elf = dwfl_linux_proc_find_elf,
					     .find_debuginfo = no_debuginfo,
					     .debuginfo_path = &debuginfo_path };
	Dwfl *dwfl = dwfl_begin(with_debug ? &std : &none);
	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	assert_int_equal(dwfl_linux_proc_report(dwfl, getpid()), 0);
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
	return dwfl;
}

static void *other_thread(void *arg)
{
	size_t off = *(size_t *)arg;
	pid_t tid = *(const pid_t *)((const char *)pthread_self() + off);
	return (void *)(intptr_t)(tid == my_tid() && tid != getpid() ? 1 : 0);
}

/* The offset names this process's threads: the main thread and one more */
static void check_offset_names_threads(size_t off)
{
	assert_true(off > 0 && off <= CT_PTHREAD_MAX_TID_OFF);
	assert_int_equal(*(const pid_t *)((const char *)pthread_self() + off), getpid());
	pthread_t t;
	void *ok = NULL;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &off), 0);
	assert_int_equal(pthread_join(t, &ok), 0);
	assert_true(ok == (void *)1);
	/* and ct_pthread_tid_read, which reads it through the process's memory */
	assert_int_equal(ct_pthread_tid_read(getpid(), off, (uint64_t)pthread_self()), (uint64_t)getpid());
}

static void test_banner(void **state)
{
	(void)state;
	unsigned ma = 0, mi = 0;
	static const char debian[] = "\0\0GNU C Library (Debian GLIBC 2.36-9+deb12u9) stable release version 2.36.\n"
				     "Copyright (C) 2022 Free Software Foundation, Inc.\n";
	assert_int_equal(ct_glibc_banner_version(debian, sizeof(debian), &ma, &mi), 0);
	assert_int_equal(ma, 2);
	assert_int_equal(mi, 36);
	static const char dev[] = "GNU C Library (GNU libc) development release version 2.39.9000.";
	assert_int_equal(ct_glibc_banner_version(dev, sizeof(dev), &ma, &mi), 0);
	assert_int_equal(mi, 39);
	/* a first match that is not a version, then one that is */
	static const char two[] = "release version x; release version 2.31.";
	assert_int_equal(ct_glibc_banner_version(two, sizeof(two), &ma, &mi), 0);
	assert_int_equal(mi, 31);
	ma = mi = 7;
	static const char *const bad[] = {
		"release version ",          "release version 2",        "release version 2.",
		"release version 12345.1.",  "release version 2.12345.", "release version 1.9.",
		"release version .36.",      "no banner here",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ct_glibc_banner_version(bad[i], strlen(bad[i]) + 1, &ma, &mi), -ENOENT);
	/* cut short by the end of the buffer: not taken as 2.3 */
	static const char cut[] = "release version 2.36";
	assert_int_equal(ct_glibc_banner_version(cut, strlen(cut) - 1, &ma, &mi), -ENOENT);
	assert_int_equal(ct_glibc_banner_version(cut, 0, &ma, &mi), -ENOENT);
	assert_int_equal(ma, 7);
	assert_int_equal(mi, 7);
}

static void test_table(void **state)
{
	(void)state;
	size_t off = 99;
#if defined(__x86_64__)
	assert_int_equal(ct_pthread_tid_known(2, 36, &off), 0);
	assert_int_equal(off, 0x2d0);
	off = 99;
#endif
	assert_int_equal(ct_pthread_tid_known(2, 1, &off), -ENOENT);
	assert_int_equal(ct_pthread_tid_known(3, 36, &off), -ENOENT);
	assert_int_equal(off, 99);
}

/* From libc's DWARF (libc6-dbg): the offset names the threads, and a glibc version the table has
 * gives the table's offset */
static void test_dwarf(void **state)
{
	(void)state;
	Dwfl *dwfl = self_dwfl(true);
	size_t off = 0;
	enum ct_pthread_tid_how how = 0;
	int r = ct_pthread_tid_offset(dwfl, &off, &how);
	if (r == 0 && how != CT_PTHREAD_TID_DWARF)
		r = -CT_ENODEBUG;
	dwfl_end(dwfl);
	if (r == -CT_ENODEBUG) {
		printf("# skipped: no DWARF for libc here (install libc6-dbg: make deps)\n");
		skip();
	}
	assert_int_equal(r, 0);
	check_offset_names_threads(off);
	unsigned ma, mi;
	size_t known;
	assert_int_equal(sscanf(gnu_get_libc_version(), "%u.%u", &ma, &mi), 2);
	if (ct_pthread_tid_known(ma, mi, &known) == 0)
		assert_int_equal(known, off);
}

/* With no debug file: the table, by the version in libc's banner, or nothing */
static void test_no_dwarf(void **state)
{
	(void)state;
	Dwfl *dwfl = self_dwfl(false);
	size_t off = 0;
	enum ct_pthread_tid_how how = 0;
	int r = ct_pthread_tid_offset(dwfl, &off, &how);
	dwfl_end(dwfl);
	unsigned ma, mi;
	size_t known;
	assert_int_equal(sscanf(gnu_get_libc_version(), "%u.%u", &ma, &mi), 2);
	if (ct_pthread_tid_known(ma, mi, &known) < 0) {
		assert_int_equal(r, -CT_ENODEBUG);
		printf("# glibc %u.%u is not in the table: its offset is not checked without DWARF\n", ma, mi);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(how, CT_PTHREAD_TID_TABLE);
	assert_int_equal(off, known);
	check_offset_names_threads(off);
}

static void test_read_and_errors(void **state)
{
	(void)state;
	size_t off = 0;
	assert_int_equal(ct_pthread_tid_offset(NULL, &off, NULL), -ENOENT);
	/* nothing to read: no offset, no pthread_t, an unmapped one, a TID that is not a thread here */
	assert_int_equal(ct_pthread_tid_read(getpid(), 0, (uint64_t)pthread_self()), 0);
	assert_int_equal(ct_pthread_tid_read(getpid(), 0x2d0, 0), 0);
	assert_int_equal(ct_pthread_tid_read(getpid(), 0x2d0, 8), 0);
	static int32_t fake[0x400];
	fake[0x2d0 / 4] = 0x7ffffff0; /* above any pid_max */
	assert_int_equal(ct_pthread_tid_read(getpid(), 0x2d0, (uint64_t)(uintptr_t)fake), 0);
	fake[0x2d0 / 4] = -5;
	assert_int_equal(ct_pthread_tid_read(getpid(), 0x2d0, (uint64_t)(uintptr_t)fake), 0);
	fake[0x2d0 / 4] = my_tid();
	assert_int_equal(ct_pthread_tid_read(getpid(), 0x2d0, (uint64_t)(uintptr_t)fake), (uint64_t)my_tid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_banner),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_dwarf),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_read_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
