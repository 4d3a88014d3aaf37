/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gdb "thread apply all bt" (and pstack/gstack) parser. The sample is real gdb 13 output on
 * build/fixtures/threads, cut down; the integration test runs gdb itself. */
#include <stdlib.h>

#include "dump_helpers.h"

static const char sample[] =
	"[New LWP 6155]\n"
	"[Thread debugging using libthread_db enabled]\n"
	"Using host libthread_db library \"/lib/x86_64-linux-gnu/libthread_db.so.1\".\n"
	"__futex_abstimed_wait_common64 (private=128, cancel=true, abstime=0x0, op=265) at ./nptl/futex-internal.c:57\n"
	"\n"
	"Thread 10 (Thread 0x7f62f07d96c0 (LWP 6164) \"lock-b\"):\n"
	"#0  futex_wait (private=0, expected=2, futex_word=0x5604d0e600e0 <held>) at ../sysdeps/nptl/futex-internal.h:146\n"
	"#1  __GI___lll_lock_wait (futex=futex@entry=0x5604d0e600e0 <held>, private=0) at ./nptl/lowlevellock.c:49\n"
	"#2  0x00007f62f4871482 in lll_mutex_lock_optimized (mutex=0x5604d0e600e0 <held>) at ./nptl/pthread_mutex_lock.c:48\n"
	"#3  ___pthread_mutex_lock (mutex=0x5604d0e600e0 <held>) at ./nptl/pthread_mutex_lock.c:93\n"
	"#4  0x00005604d0e5d2d4 in lock_waiter (a=0x0) at tests/fixtures/threads.c:39\n"
	"#5  0x00007f62f486e1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442\n"
	"#6  0x00007f62f48ee8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81\n"
	"\n"
	"Thread 1 (Thread 0x7f62f47e2740 (LWP 6154) \"threads\"):\n"
	"#0  0x00007f62f486fce3 in __pthread_clockjoin_ex (threadid=140062918284992, thread_return=0x0) at ./nptl/pthread_join_common.c:102\n"
	"#1  0x00005604d0e5d472 in main_wait (t=140062918284992) at tests/fixtures/threads.c:106\n"
	"#2  0x00005604d0e5d66a in main (argc=1, argv=0x7ffd5767b238) at tests/fixtures/threads.c:135\n"
	"[Inferior 1 (process 6154) detached]\n"
	"57\t./nptl/futex-internal.c: No such file or directory.\n";

static void test_sample(void **state)
{
	struct ct_dump_result r = parse_ok(sample);
	assert_int_equal(r.format, CT_DUMP_GDB);
	assert_int_equal(r.nsnaps, 1);
	const struct ct_snapshot *s = r.snaps[0];
	assert_int_equal(s->pid, 6154);
	assert_string_equal(s->comm, "threads");
	assert_string_equal(s->source, "gdb");
	assert_int_equal(s->nthreads, 2);
	const struct ct_thread *t = find_tid(s, 6164);
	assert_string_equal(t->name, "lock-b");
	assert_int_equal(t->nframes, 7);
	assert_string_equal(t->frames[0].function, "futex_wait");
	assert_int_equal(t->frames[0].pc, 0);
	assert_string_equal(t->frames[0].file, "../sysdeps/nptl/futex-internal.h");
	assert_int_equal(t->frames[0].line, 146);
	assert_string_equal(t->frames[4].function, "lock_waiter");
	assert_int_equal(t->frames[4].pc, 0x5604d0e5d2d4);
	assert_int_equal(t->frames[4].line, 39);
	assert_string_equal(t->frames[6].function, "clone3");
	assert_string_equal(t->lock_waiting, "0x5604d0e600e0"); /* from ___pthread_mutex_lock (mutex=…) */
	t = find_tid(s, 6154);
	assert_string_equal(t->frames[2].function, "main");
	assert_null(t->lock_waiting);
	ct_dump_result_free(&r);
}

static void test_cxx_from_and_unknown(void **state)
{
	const char *t =
		"Thread 2 (Thread 0x7f00 (LWP 101) \"pool\"):\n"
		"#0  0x00007f0000001000 in ?? () from /lib/x86_64-linux-gnu/libc.so.6\n"
		"#1  0x00007f0000002000 in std::thread::_State_impl<std::thread::_Invoker<std::tuple<void (*)(int), int> > >::_M_run (this=0x55) at /usr/include/c++/12/bits/std_thread.h:253\n"
		"#2  0x00007f0000003000 in std::operator<< <std::char_traits<char> > (__out=..., __s=0x4 \"a (b\") at ostream:611\n"
		"#3  0x00007f0000004000 in worker (s=0x5 \"unbalanced \\\" ( quote\") at w.cc:9\n"
		"#4  <signal handler called>\n"
		"#5  0x00007f0000005000 in cut (x=\n";
	struct ct_dump_result r = parse_ok(t);
	const struct ct_thread *th = &r.snaps[0]->threads[0];
	assert_int_equal(th->tid, 101);
	assert_int_equal(th->nframes, 6);
	assert_null(th->frames[0].function);
	assert_string_equal(th->frames[0].module, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(th->frames[1].function,
			    "std::thread::_State_impl<std::thread::_Invoker<std::tuple<void (*)(int), int> > >::_M_run");
	assert_int_equal(th->frames[1].line, 253);
	assert_string_equal(th->frames[2].function, "std::operator<< <std::char_traits<char> >");
	assert_string_equal(th->frames[2].file, "ostream");
	assert_string_equal(th->frames[3].function, "worker");
	assert_string_equal(th->frames[3].file, "w.cc");
	assert_string_equal(th->frames[4].function, "<signal handler called>");
	assert_string_equal(th->frames[5].function, "cut");
	ct_dump_result_free(&r);
}

static void test_two_dumps(void **state)
{
	/* the same tids again: a second dump of the process (gdb run twice into one file) */
	const char *t = "Thread 2 (LWP 11):\n#0  0x1 in a ()\nThread 1 (LWP 10):\n#0  0x2 in b ()\n"
			"Thread 2 (LWP 11):\n#0  0x1 in a ()\nThread 1 (LWP 10):\n#0  0x3 in c ()\n"
			"Thread 3 (LWP 12):\n#0  0x4 in d ()\n";
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(r.nsnaps, 2);
	assert_int_equal(r.snaps[0]->nthreads, 2);
	assert_int_equal(r.snaps[1]->nthreads, 3);
	assert_string_equal(find_tid(r.snaps[1], 10)->frames[0].function, "c");
	ct_dump_result_free(&r);
	/* "detached" ends a dump too, and a gstack-style dump has only Thread and frame lines */
	t = "Thread 1 (process 77):\n#0  0x1 in a ()\n[Inferior 1 (process 77) detached]\n"
	    "Thread 1 (process 77):\n#0  0x1 in b ()\n";
	r = parse_ok(t);
	assert_int_equal(r.nsnaps, 2);
	assert_int_equal(r.snaps[0]->pid, 77);
	assert_int_equal(r.snaps[1]->pid, 77);
	ct_dump_result_free(&r);
}

static void test_core(void **state)
{
	/* gdb on a core file (real gdb 13 output, cut down): the frame it echoes on loading the core
	 * is not a thread; the program comes from the "Core was generated by" line */
	const char *t =
		"[New LWP 27032]\n"
		"Core was generated by `/work/build/fixtures/threads 3'.\n"
		"#0  __futex_abstimed_wait_common64 (private=128, cancel=true) at ./nptl/futex-internal.c:57\n"
		"[Current thread is 1 (Thread 0x7fc8d7a97740 (LWP 27017))]\n"
		"Thread 2 (Thread 0x7fc8d3a8e6c0 (LWP 27032)):\n"
		"#0  0x00007fc8d7c04545 in clock_nanosleep () from /lib/x86_64-linux-gnu/libc.so.6\n"
		"Thread 1 (Thread 0x7fc8d7a97740 (LWP 27017)):\n"
		"#0  __futex_abstimed_wait_common64 (private=128, cancel=true) at ./nptl/futex-internal.c:57\n"
		"#1  0x00005604d0e5d472 in main_wait (t=1) at tests/fixtures/threads.c:106\n";
	struct ct_dump_result r = parse_ok(t);
	const struct ct_snapshot *s = r.snaps[0];
	assert_int_equal(s->nthreads, 2);
	assert_string_equal(s->exe, "/work/build/fixtures/threads");
	assert_string_equal(s->comm, "threads");
	assert_string_equal(find_tid(s, 27017)->frames[1].function, "main_wait");
	ct_dump_result_free(&r);
}

static void test_plain_bt(void **state)
{
	/* "bt" of one thread: frames without a Thread line; two of them are two threads */
	const char *t = "#0  0x0000000000401000 in f (x=1) at a.c:3\n#1  0x0000000000401100 in main () at a.c:9\n"
			"#0  0x0000000000401200 in g () at a.c:5\n";
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(r.snaps[0]->nthreads, 2);
	assert_int_equal(r.snaps[0]->threads[0].nframes, 2);
	ct_dump_result_free(&r);
}

static void test_malformed(void **state)
{
	const char *t = "Thread 1 (LWP 10):\n#0  0x1 in a ()\n#1x in b ()\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "gdb frame"));
	t = "Thread 1 (LWP 10):\n#0  0x1 in a ()\n#1   \n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	t = "Thread 1 (LWP 0):\n#0  0x1 in a ()\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	t = "[New LWP 5]\n[Inferior 1 (process 5) detached]\n"; /* gdb attached, printed no stack */
	r = parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	assert_non_null(strstr(r.err_msg, "no thread"));
}

static void test_truncated(void **state)
{
	/* every prefix of the sample parses or fails cleanly (never crashes) */
	size_t n = strlen(sample), ok = 0;
	for (size_t k = 0; k <= n; k++) {
		struct ct_dump_result r;
		if (ct_dump_parse_mem(sample, k, NULL, &r) == 0) {
			ok++;
			ct_dump_result_free(&r);
		} else {
			assert_true(r.err_msg[0] != '\0');
		}
	}
	assert_true(ok > n / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_cxx_from_and_unknown),
		cmocka_unit_test(test_two_dumps),
		cmocka_unit_test(test_core),
		cmocka_unit_test(test_plain_bt),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
