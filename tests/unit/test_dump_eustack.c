/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eu-stack parser: plain output and -v (activation, inlines, module, source). Real elfutils 0.188
 * output on build/fixtures/threads, cut down; the integration test runs eu-stack itself. */
#include "dump_helpers.h"

static const char plain[] =
	"PID 6154 - process\n"
	"TID 6154:\n"
	"#0  0x00007f62f486af16 __futex_abstimed_wait_common\n"
	"#1  0x00007f62f486fce3 __pthread_clockjoin_ex\n"
	"#2  0x00005604d0e5d472 main_wait\n"
	"TID 6155:\n"
	"#0  0x00007f62f48b4545 clock_nanosleep@GLIBC_2.2.5\n"
	"#1  0x00005604d0e5d2b6 sleeper_loop\n"
	"#2  0x00007f62f48ee8ec\n";

static const char verbose[] =
	"PID 6154 - process\n"
	"TID 6154:\n"
	"#0  0x00007f62f486af16     __futex_abstimed_wait_common64 - /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"    ./nptl/futex-internal.c:57:12\n"
	"#1  0x00007f62f486af16     __futex_abstimed_wait_common - /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"    ./nptl/futex-internal.c:87:9\n"
	"#2  0x00007f62f486fce3 - 1 __pthread_clockjoin_ex - /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"    ./nptl/pthread_join_common.c:102:14\n"
	"#3  0x00005604d0e5d472 - 1 main_wait - /work/build/fixtures/threads\n"
	"    [5f0e2b3c1a] @ 0x5604d0e5c000 + 0x1472\n"
	"    tests/fixtures/threads.c:106:2\n"
	"#4  0x00005604d0e5d1c1 - 1 _start - /work/build/fixtures/threads\n";

static void test_plain(void **state)
{
	struct ct_dump_result r = parse_ok(plain);
	assert_int_equal(r.format, CT_DUMP_EUSTACK);
	const struct ct_snapshot *s = r.snaps[0];
	assert_int_equal(s->pid, 6154);
	assert_int_equal(s->nthreads, 2);
	const struct ct_thread *t = find_tid(s, 6155);
	assert_int_equal(t->nframes, 3);
	assert_string_equal(t->frames[0].function, "clock_nanosleep@GLIBC_2.2.5");
	assert_int_equal(t->frames[1].pc, 0x5604d0e5d2b6);
	assert_null(t->frames[2].function);
	ct_dump_result_free(&r);
}

static void test_verbose(void **state)
{
	struct ct_dump_result r = parse_ok(verbose);
	const struct ct_thread *t = &r.snaps[0]->threads[0];
	assert_int_equal(t->nframes, 5);
	assert_true(t->frames[0].inlined);
	assert_false(t->frames[1].inlined);
	assert_string_equal(t->frames[0].function, "__futex_abstimed_wait_common64");
	assert_string_equal(t->frames[0].module, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(t->frames[0].file, "./nptl/futex-internal.c");
	assert_int_equal(t->frames[0].line, 57);
	assert_string_equal(t->frames[2].function, "__pthread_clockjoin_ex");
	assert_string_equal(t->frames[3].function, "main_wait");
	assert_string_equal(t->frames[3].file, "tests/fixtures/threads.c");
	assert_int_equal(t->frames[3].line, 106);
	assert_null(t->frames[4].file);
	ct_dump_result_free(&r);
}

static void test_two_dumps(void **state)
{
	char two[2048];
	snprintf(two, sizeof(two), "%s%s", plain, plain);
	struct ct_dump_result r = parse_ok(two);
	assert_int_equal(r.nsnaps, 2);
	ct_dump_result_free(&r);
}

static void test_malformed(void **state)
{
	const char *t = "PID 1 - process\nTID x:\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "PID 1 - process\nTID 1:\n#0  main\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "0x"));
	t = "PID 1 - process\n#0  0x1 main\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "PID 99999999999 - process\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	t = "PID 1 - process\n"; /* eu-stack that failed on every thread */
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_verbose),
		cmocka_unit_test(test_two_dumps),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
