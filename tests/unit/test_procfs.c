/* Unit tests for the /proc parsers, with well-formed and malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "lib/procfs.h"
#include "lib/util.h"

static void test_stat_ok(void **state)
{
	(void)state;
	struct ct_proc_stat st;
	/* comm with a space and a parenthesis, as a process may name itself */
	const char *s = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 2 0 "
			"12345 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
	assert_int_equal(ct_parse_proc_stat(s, &st), 0);
	assert_string_equal(st.comm, "we (ird) name");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.utime, 7);
	assert_int_equal(st.stime, 3);
	assert_int_equal(st.num_threads, 2);
	assert_int_equal(st.starttime, 12345);
	assert_int_equal(st.processor, 1);
}

static void test_stat_bad(void **state)
{
	(void)state;
	struct ct_proc_stat st;
	assert_int_equal(ct_parse_proc_stat("", &st), -EINVAL);
	assert_int_equal(ct_parse_proc_stat("12 (x", &st), -EINVAL);
	assert_int_equal(ct_parse_proc_stat("12 x) S 1", &st), -EINVAL);
	assert_int_equal(ct_parse_proc_stat("12 (x) 5 1 2", &st), -EINVAL);
	assert_int_equal(ct_parse_proc_stat("12 (x) S 1 2 3", &st), -EINVAL); /* truncated */
}

static void test_status(void **state)
{
	(void)state;
	struct ct_proc_status st;
	const char *s = "Name:\tredis-server\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t812\nNgid:\t0\n"
			"Pid:\t812\nPPid:\t1\nTracerPid:\t77\nUid:\t0\t105\t7\t105\n"
			"Threads:\t5\nCapEff:\t000001ffffffffff\nvoluntary_ctxt_switches:\t10\n"
			"nonvoluntary_ctxt_switches:\t3\n";
	assert_int_equal(ct_parse_proc_status(s, &st), 0);
	assert_string_equal(st.name, "redis-server");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.tgid, 812);
	assert_int_equal(st.tracer_pid, 77);
	assert_int_equal(st.uid[0], 0);
	assert_int_equal(st.uid[1], 105); /* tab-separated */
	assert_int_equal(st.uid[2], 7);
	assert_int_equal(st.threads, 5);
	assert_true(st.cap_eff & (1ull << 19));
	assert_true(st.has_ctxt);
	assert_int_equal(st.voluntary_ctxt + st.nonvoluntary_ctxt, 13);
	assert_int_equal(ct_parse_proc_status("State:\tS\n", &st), -EINVAL); /* no Name, no Tgid */
	assert_int_equal(ct_parse_proc_status("", &st), -EINVAL);
	/* a 10 KiB line must not overflow anything */
	char *big = malloc(20000);
	assert_non_null(big);
	memset(big, 'A', 19990);
	memcpy(big, "Name:\t", 6);
	memcpy(big + 19990, "\nTgid:\t1\n", 10);
	assert_int_equal(ct_parse_proc_status(big, &st), 0);
	assert_int_equal(strlen(st.name), sizeof(st.name) - 1);
	free(big);
}

static void test_syscall(void **state)
{
	(void)state;
	struct ct_proc_syscall sc;
	assert_int_equal(ct_parse_proc_syscall("232 0x5 0x7ffd1 0x1 0xffffffff 0x0 0x0 0x7ffd0000 0x7f00aa\n", &sc), 0);
	assert_int_equal(sc.nr, 232);
	assert_int_equal(sc.args[0], 5);
	assert_int_equal(sc.args[3], 0xffffffff);
	assert_int_equal(sc.sp, 0x7ffd0000);
	assert_int_equal(sc.pc, 0x7f00aa);
	assert_int_equal(ct_parse_proc_syscall("-1 0x7ffd0000 0x7f00aa\n", &sc), 0);
	assert_int_equal(sc.nr, -1);
	assert_int_equal(sc.sp, 0x7ffd0000);
	assert_int_equal(ct_parse_proc_syscall("running\n", &sc), 0);
	assert_int_equal(sc.nr, -2);
	assert_int_equal(ct_parse_proc_syscall("232 0x5\n", &sc), -EINVAL);
	assert_int_equal(ct_parse_proc_syscall("abc", &sc), -EINVAL);
	assert_int_equal(ct_parse_proc_syscall("99999 0 0 0 0 0 0 0 0", &sc), -EINVAL);
}

static void test_maps(void **state)
{
	(void)state;
	struct ct_proc_map *m = NULL;
	size_t n = 0;
	const char *s =
		"55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1234 /usr/bin/prog\n"
		"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
		"7f1000000000-7f1000001000 r-xp 00001000 fe:01 99 /tmp/my lib.so (deleted)\n"
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";
	assert_int_equal(ct_parse_proc_maps(s, 100, &m, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(m[0].path, "/usr/bin/prog");
	assert_string_equal(m[0].perms, "r--p");
	assert_null(m[1].path);
	assert_string_equal(m[2].path, "/tmp/my lib.so");
	assert_true(m[2].deleted);
	assert_int_equal(m[2].offset, 0x1000);
	assert_string_equal(m[3].path, "[stack]");
	ct_proc_maps_free(m, n);
	assert_int_equal(ct_parse_proc_maps("zzzz-1 r--p 0 0:0 0\n", 100, &m, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_maps("2000-1000 r--p 0 0:0 0\n", 100, &m, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_maps("1000-2000 rQ-p 0 0:0 0\n", 100, &m, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_maps(s, 2, &m, &n), -E2BIG);
}

static void test_schedstat(void **state)
{
	(void)state;
	struct ct_proc_schedstat ss;
	assert_int_equal(ct_parse_proc_schedstat("123 456 789\n", &ss), 0);
	assert_int_equal(ss.run_ns, 123);
	assert_int_equal(ss.wait_ns, 456);
	assert_int_equal(ss.pcount, 789);
	assert_int_equal(ct_parse_proc_schedstat("18446744073709551615 0 0", &ss), 0); /* no newline */
	assert_true(ss.run_ns == UINT64_MAX);
	assert_int_equal(ct_parse_proc_schedstat("0 0 0 \n", &ss), 0);
	assert_int_equal(ss.pcount, 0);
	/* truncated, empty, malformed, overflow */
	assert_int_equal(ct_parse_proc_schedstat("123 456\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("123", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("-1 2 3\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("1 2 3x\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("1 2 3 4\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("1\n2 3\n", &ss), -EINVAL);
	assert_int_equal(ct_parse_proc_schedstat("18446744073709551616 0 0\n", &ss), -EINVAL);
}

static void test_sigmasks(void **state)
{
	(void)state;
	struct ct_proc_sigmasks m;
	const char *ok = "Name:\tx\nState:\tS (sleeping)\nSigQ:\t0/1\nSigPnd:\t0000000000000000\n"
			 "ShdPnd:\t0000000000000100\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000001000\n"
			 "SigCgt:\t0\n";
	assert_int_equal(ct_parse_proc_sigmasks(ok, &m), 0);
	assert_int_equal(m.state, 'S');
	assert_int_equal(m.pending, 0);
	assert_int_equal(m.shared_pending, 0x100);
	assert_int_equal(m.blocked, 0x10000);
	assert_int_equal(m.ignored, 0x1000);
	/* State on the first line, the last mask without a newline, all bits of a mask */
	const char *edge = "State:\tT (stopped)\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\tffffffffffffffff\n"
			   "SigIgn:\t1";
	assert_int_equal(ct_parse_proc_sigmasks(edge, &m), 0);
	assert_int_equal(m.state, 'T');
	assert_true(m.blocked == UINT64_MAX);
	assert_int_equal(m.ignored, 1);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tt (tracing stop)\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\n"
						"SigIgn:\t0\n", &m), 0);
	assert_int_equal(m.state, 't');

	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\tzz\n", &m), -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("SigPnd:\t0\n", &m), -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("", &m), -EINVAL);
	/* a missing or truncated mask, a key only inside another line, an overflow, trailing junk */
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\n", &m), -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:", &m),
			 -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nX SigIgn:\t0\n", &m),
			 -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t10000000000000000\nShdPnd:\t0\n"
						"SigBlk:\t0\nSigIgn:\t0\n", &m), -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t0 1\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n", &m),
			 -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\tR\nSigPnd:\t-1\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n", &m),
			 -EINVAL);
	/* a state that is not a letter, or none */
	assert_int_equal(ct_parse_proc_sigmasks("State:\t\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n", &m),
			 -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:\t1\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n", &m),
			 -EINVAL);
	assert_int_equal(ct_parse_proc_sigmasks("State:", &m), -EINVAL);
}

static void test_children(void **state)
{
	(void)state;
	pid_t *p = NULL;
	size_t n = 0;
	assert_int_equal(ct_parse_proc_children("12 345 1073741823 ", 10, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0], 12);
	assert_int_equal(p[1], 345);
	assert_int_equal(p[2], 1073741823);
	free(p);
	assert_int_equal(ct_parse_proc_children("7", 1, &p, &n), 0); /* truncated after the number */
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 7);
	free(p);
	/* no children: an empty file */
	p = (pid_t *)&n;
	assert_int_equal(ct_parse_proc_children("", 10, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	assert_int_equal(ct_parse_proc_children(" \n", 10, &p, &n), 0);
	assert_int_equal(n, 0);
	/* malformed, out of range, overflowing, too many; nothing is written */
	n = 99;
	assert_int_equal(ct_parse_proc_children("12 x ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("12x ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("-12 ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("+12 ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("0 ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("1073741824 ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("18446744073709551616 ", 10, &p, &n), -EINVAL);
	assert_int_equal(ct_parse_proc_children("1 2 3 ", 2, &p, &n), -E2BIG);
	assert_int_equal(n, 99);
}

static const char status_text[] =
	"Name:\tredis-server\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"VmPeak:\t  123456 kB\n"
	"VmSize:\t  120000 kB\n"
	"VmHWM:\t    9000 kB\n"
	"VmRSS:\t    8000 kB\n"
	"RssAnon:\t    5000 kB\n"
	"RssFile:\t    2900 kB\n"
	"RssShmem:\t     100 kB\n"
	"VmSwap:\t      12 kB\n"
	"Threads:\t5\n"
	"Cpus_allowed_list:\t0-1\n";

static void test_mem_status(void **state)
{
	(void)state;
	struct ct_mem_status st;
	assert_int_equal(ct_parse_proc_mem_status(status_text, &st), 0);
	assert_string_equal(st.name, "redis-server");
	assert_int_equal(st.threads, 5);
	assert_int_equal(st.vm_rss, 8000 * 1024ull);
	assert_int_equal(st.rss_anon, 5000 * 1024ull);
	assert_int_equal(st.rss_file, 2900 * 1024ull);
	assert_int_equal(st.rss_shmem, 100 * 1024ull);
	assert_int_equal(st.vm_swap, 12 * 1024ull);
	assert_int_equal(st.vm_peak, 123456 * 1024ull);
	assert_true(st.has_rss_split);
}

static void test_mem_status_malformed(void **state)
{
	(void)state;
	struct ct_mem_status st;
	static const char *const bad[] = {
		"",                                         /* no Name */
		"VmRSS:\t8000 kB\n",                        /* no Name */
		"Name:\tx\nVmRSS:\t8000\n",                 /* no unit */
		"Name:\tx\nVmRSS:\t8000 MB\n",              /* wrong unit */
		"Name:\tx\nVmRSS:\t-5 kB\n",                /* negative */
		"Name:\tx\nVmRSS:\t99999999999999999999999 kB\n", /* overflows bytes */
		"Name:\tx\nVmRSS:\t kB\n",                  /* no number */
		"Name:\tx\nno colon here\n",                /* not a field */
		"Name:\tx\nThreads:\tmany\n",
		"Name:\tx\nThreads:\t12x\n",
		":\tvalue\n",                               /* empty key */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ct_parse_proc_mem_status(bad[i], &st), -EINVAL);
	/* a name cut to the field's size, with odd bytes, is fine */
	char longname[300] = "Name:\t";
	memset(longname + 6, 'n', 200);
	memcpy(longname + 206, "\n", 2);
	assert_int_equal(ct_parse_proc_mem_status(longname, &st), 0);
	assert_int_equal(strlen(st.name), sizeof(st.name) - 1);
}

static void test_smaps_malformed(void **state)
{
	(void)state;
	struct ct_smaps_entry *e = NULL;
	size_t n = 0;
	static const char *const bad[] = {
		"Rss: 4 kB\n",                                                 /* field before a mapping */
		"1000-2000 rw-p 00000000 00:00 0\nRss: 4\n",                   /* no unit */
		"1000-2000 rw-p 00000000 00:00 0\nRss: 4 kB extra\n",          /* trailing text */
		"1000-2000 rw-p 00000000 00:00 0\nRss: x kB\n",
		"1000-2000 rw-p 00000000 00:00 0\nRss: 18446744073709551615 kB\n", /* overflow */
		"1000-2000 rw-p 00000000 00:00 0\ngarbage line\n",
		"2000-1000 rw-p 00000000 00:00 0\n",                           /* end before start */
		"1000-2000 rwzp 00000000 00:00 0\n",                           /* bad perms */
		"1000-2000 rw-p 00000000 00:00\n",                             /* truncated header */
		("1000-2000 rw-p 00000000 00:00 0\nShared_Clean: 18014398509481983 kB\n"
		 "Shared_Dirty: 18014398509481983 kB\n"),                       /* sum overflows */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ct_parse_proc_smaps(bad[i], 100, &e, &n);
		if (r != -EINVAL)
			fail_msg("case %zu: got %d, want -EINVAL", i, r);
	}
	/* more mappings than the cap */
	assert_int_equal(ct_parse_proc_smaps("1000-2000 rw-p 0 00:00 0\n3000-4000 rw-p 0 00:00 0\n", 1, &e, &n), -E2BIG);
	/* a path that looks like a field is still a path */
	assert_int_equal(ct_parse_proc_smaps("1000-2000 rw-p 0 00:00 5 /tmp/Rss: 99 kB\nRss: 4 kB\n", 10, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].map.path, "/tmp/Rss: 99 kB");
	assert_int_equal(e[0].rss, 4096);
	ct_proc_smaps_free(e, n);
	/* empty input: no mappings, not an error; a missing final newline is fine */
	assert_int_equal(ct_parse_proc_smaps("", 10, &e, &n), 0);
	assert_int_equal(n, 0);
	ct_proc_smaps_free(e, n);
	assert_int_equal(ct_parse_proc_smaps("1000-2000 rw-p 0 00:00 0\nRss: 8 kB", 10, &e, &n), 0);
	assert_int_equal(e[0].rss, 8192);
	ct_proc_smaps_free(e, n);
}

static void test_nspid(void **state)
{
	(void)state;
	pid_t p = 0;
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t4242\n", &p), 0);
	assert_int_equal(p, 4242);
	/* nested namespaces: the innermost, last */
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n", &p), 0);
	assert_int_equal(p, 1);
	/* numbers on the next line are not this line's */
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t5\t\n99\n", &p), 0);
	assert_int_equal(p, 5);
	p = 7;
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nPid:\t4242\n", &p), -ENOENT);
	assert_int_equal(ct_parse_proc_nspid("NSpid:\t4242\n", &p), -ENOENT); /* not a line of its own */
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:", &p), -EINVAL);
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\tx\n", &p), -EINVAL);
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t0\n", &p), -EINVAL);
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t5\t-1\n", &p), -EINVAL);
	assert_int_equal(ct_parse_proc_nspid("Name:\tx\nNSpid:\t1073741824\n", &p), -EINVAL);
	assert_int_equal(p, 7);
}

static void test_live_self(void **state)
{
	(void)state;
	pid_t *tids = NULL;
	size_t n = 0;
	assert_int_equal(ct_proc_list_tasks(getpid(), &tids, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(tids[0], getpid());
	free(tids);
	assert_int_equal(ct_proc_list_tasks(0x3ffffff0, &tids, &n), -ESRCH);
}

/* The files read in one read() (stat, status, syscall, wchan, schedstat) give the same text as the
 * loop that reads to the end, and a text over max is refused the same way. */
static void test_one_record(void **state)
{
	(void)state;
	char *one = NULL, *loop = NULL, path[64];
	assert_int_equal(ct_proc_read(getpid(), 0, "status", 1 << 16, &one), 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	assert_int_equal(ct_read_file(path, 1 << 16, &loop, NULL), 0);
	/* the same lines up to the memory figures, which may move between the two reads */
	char *a = strstr(one, "VmPeak"), *b = strstr(loop, "VmPeak");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a - one, b - loop);
	assert_memory_equal(one, loop, (size_t)(a - one));
	assert_int_equal(one[strlen(one) - 1], '\n');
	free(one);
	free(loop);
	struct ct_proc_stat st;
	assert_int_equal(ct_proc_read(getpid(), getpid(), "stat", 4096, &one), 0);
	assert_int_equal(ct_parse_proc_stat(one, &st), 0);
	assert_int_equal(st.state, 'R');
	free(one);
	assert_int_equal(ct_proc_read(getpid(), 0, "stat", 10, &one), -EFBIG);
	assert_int_equal(ct_proc_read(getpid(), 0, "status", 100, &one), -EFBIG);
	assert_int_equal(ct_proc_read(getpid(), 0, "schedstat", 256, &one), 0);
	struct ct_proc_schedstat ss;
	assert_int_equal(ct_parse_proc_schedstat(one, &ss), 0);
	free(one);
	assert_int_equal(ct_proc_read(0x3ffffff0, 0, "stat", 4096, &one), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_ok),   cmocka_unit_test(test_stat_bad), cmocka_unit_test(test_status),
		cmocka_unit_test(test_syscall),   cmocka_unit_test(test_maps),     cmocka_unit_test(test_schedstat),
		cmocka_unit_test(test_sigmasks), cmocka_unit_test(test_children),
		cmocka_unit_test(test_mem_status), cmocka_unit_test(test_mem_status_malformed),
		cmocka_unit_test(test_smaps_malformed), cmocka_unit_test(test_nspid),
		cmocka_unit_test(test_live_self), cmocka_unit_test(test_one_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
