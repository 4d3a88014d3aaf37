/* SPDX-License-Identifier: GPL-2.0-or-later */
/* attach/kregs: the layout cache's parser on good, stale and damaged lines; the checks that a
 * thread did not run between two passes and was inside a system call; and, where bpf() is
 * permitted, the iterator on this test's own threads, against what the test knows of them. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "attach/kregs.h"
#include "attach/snapshot.h"
#include "lib/model.h"
#include "lib/procfs.h"
#include <signal.h>
#include <sys/wait.h>

#define KEY "6.1.0-13-amd64/0123456789abcdef/5482185"
#define GOOD "ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n"

static void layout_good(void **state)
{
	(void)state;
	struct ct_kregs_layout l;
	assert_int_equal(ct_kregs_layout_parse(GOOD, KEY, &l), 0);
	assert_int_equal(l.task_size, 3264);
	assert_int_equal(l.pid, 1264);
	assert_int_equal(l.tgid, 1268);
	assert_int_equal(l.state_size, 4);
	assert_int_equal(l.fsbase, 3128);
	assert_int_equal(l.comm, 1752);
	assert_int_equal(l.exit_state, 1160);
	assert_int_equal(l.utime, 1488);
	assert_int_equal(l.stime, 1496);
	assert_int_equal(l.runtime, 232);
	assert_int_equal(l.iter_btf_id, 63693);
	/* without its newline too */
	char s[256];
	snprintf(s, sizeof(s), "%s", GOOD);
	s[strlen(s) - 1] = '\0';
	assert_int_equal(ct_kregs_layout_parse(s, KEY, &l), 0);
}

static void layout_rejected(void **state)
{
	(void)state;
	struct ct_kregs_layout l;
	/* another kernel's line */
	assert_int_equal(ct_kregs_layout_parse(GOOD, "6.1.0-14-amd64/0123456789abcdef/5482185", &l), -EINVAL);
	const char *bad[] = {
		"",
		"ctrace-kregs-layout 1 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 63693\n", /* the layout before comm and the CPU times */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232\n",
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693 7\n",
		"ctrace-kregs-layout 2 " KEY " 3264 3262 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n", /* pid past the end */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 3 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n", /* state of 3 bytes */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3260 1752 1160 1488 1496 232 63693\n", /* fsbase past */
		"ctrace-kregs-layout 2 " KEY " 100 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n",  /* task too small */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 0\n",     /* no iterator */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 -5\n",
		"ctrace-kregs-layout 2 " KEY " 4294967295 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n",
		"ctrace-kregs-layout 2 " KEY " 3264 x 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n",
		"ctrace-kregs-layout 2\n",
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 3250 1160 1488 1496 232 63693\n", /* comm past */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 3260 63693\n", /* runtime past */
		"ctrace-kregs-layout 2 " KEY "  3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n", /* two spaces */
		"ctrace-kregs-layout 2 " KEY " 3264 4294967297 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 63693\n", /* 2^32 + 1, not 1 */
		"ctrace-kregs-layout 2 " KEY " 3264 1264 1268 52 24 4 1536 1544 1008 3128 1752 1160 1488 1496 232 2147483648\n", /* id past int32 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ct_kregs_layout_parse(bad[i], KEY, &l) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void layout_random_bytes(void **state)
{
	(void)state;
	char buf[160];
	struct ct_kregs_layout l;
	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rand() % sizeof(buf);
		snprintf(buf, sizeof(buf), "%s", GOOD);
		for (size_t k = 0; k < 4; k++)
			buf[(size_t)rand() % sizeof(buf)] = (char)(rand() % 256);
		buf[n] = '\0';
		(void)ct_kregs_layout_parse(buf, KEY, &l); /* must not crash (ASan in make fuzz builds) */
	}
}

static struct ct_kregs_rec rec(int32_t tid, uint64_t pcount)
{
	struct ct_kregs_rec r;
	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.tgid = 1;
	r.pcount = pcount;
	r.nvcsw = 10;
	r.nivcsw = 2;
	r.regs[CT_PTREGS_IP] = 0x401000;
	r.regs[CT_PTREGS_SP] = 0x7ffc0000;
	return r;
}

static void unchanged_rules(void **state)
{
	(void)state;
	struct ct_kregs_rec a = rec(5, 3), b = rec(5, 3);
	assert_true(ct_kregs_unchanged(&a, &b));
	b.pcount = 4; /* it came on a CPU in between */
	assert_false(ct_kregs_unchanged(&a, &b));
	b = rec(5, 3);
	b.on_cpu = 1; /* on a CPU now: its saved registers are stale */
	assert_false(ct_kregs_unchanged(&a, &b));
	b = rec(5, 3);
	a.on_cpu = 1;
	assert_false(ct_kregs_unchanged(&a, &b));
	a = rec(5, 3);
	b.nivcsw++;
	assert_false(ct_kregs_unchanged(&a, &b));
	b = rec(5, 3);
	b.regs[CT_PTREGS_SP] += 8;
	assert_false(ct_kregs_unchanged(&a, &b));
}

static void syscall_rules(void **state)
{
	(void)state;
	struct ct_kregs_rec r = rec(5, 1);
	r.regs[CT_PTREGS_ORIG_AX] = SYS_futex;
	r.regs[CT_PTREGS_AX] = (uint64_t)-ENOSYS;
	assert_true(ct_kregs_in_syscall(&r));
	/* preempted in user code: orig_ax -1 */
	r.regs[CT_PTREGS_ORIG_AX] = (uint64_t)-1;
	assert_false(ct_kregs_in_syscall(&r));
	/* a device interrupt's vector, or a page fault's error code, with ax the program's own */
	r.regs[CT_PTREGS_ORIG_AX] = 0x21;
	r.regs[CT_PTREGS_AX] = 12345;
	assert_false(ct_kregs_in_syscall(&r));
	/* a call that has returned (ax holds its result) */
	r.regs[CT_PTREGS_ORIG_AX] = SYS_read;
	r.regs[CT_PTREGS_AX] = 0;
	assert_false(ct_kregs_in_syscall(&r));
}

static void find_sorted(void **state)
{
	(void)state;
	struct ct_kregs_rec r[3] = { rec(3, 0), rec(9, 0), rec(40, 0) };
	assert_ptr_equal(ct_kregs_find(r, 3, 9), &r[1]);
	assert_ptr_equal(ct_kregs_find(r, 3, 40), &r[2]);
	assert_null(ct_kregs_find(r, 3, 10));
	assert_null(ct_kregs_find(NULL, 0, 3));
}

/* The state letters and CPU times /proc shows, from the task's fields as the kernel maps them. */
static void state_and_times(void **state)
{
	(void)state;
	struct ct_kregs_rec r;
	memset(&r, 0, sizeof(r));
	const struct { uint64_t state; uint32_t exit_state; char letter; } cases[] = {
		{ 0x0, 0, 'R' },    { 0x1, 0, 'S' },  { 0x2, 0, 'D' },    { 0x4, 0, 'T' },
		{ 0x8, 0, 't' },    { 0x40, 0, 'P' }, { 0x402, 0, 'I' },  { 0x2001, 0, 'S' }, /* freezable sleep */
		{ 0x1000, 0, 'D' }, /* an rtlock wait */ { 0x8000, 0, 'D' }, /* frozen */
		{ 0x0, 0x20, 'Z' }, { 0x0, 0x10, 'X' }, { 0x81, 0, 'S' }, /* TASK_WAKEKILL|INTERRUPTIBLE */
		{ 0x102, 0, 'D' }, /* TASK_KILLABLE */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.state = cases[i].state;
		r.exit_state = cases[i].exit_state;
		if (ct_kregs_state_letter(&r) != cases[i].letter)
			fail_msg("state 0x%llx exit 0x%x: '%c', not '%c'", (unsigned long long)r.state, r.exit_state,
				 ct_kregs_state_letter(&r), cases[i].letter);
	}
	uint64_t ut, st;
	/* 3 s on a CPU, the ticks charging 1 of every 4 to the kernel: 2.25 s user, 0.75 s system */
	r.runtime = 3000000000ull;
	r.utime = 300000000ull;
	r.stime = 100000000ull;
	ct_kregs_cpu_ticks(&r, 100, &ut, &st);
	assert_int_equal(ut, 225);
	assert_int_equal(st, 75);
	r.stime = 0; /* never in the kernel at a tick: all of it user time */
	ct_kregs_cpu_ticks(&r, 100, &ut, &st);
	assert_int_equal(ut, 300);
	assert_int_equal(st, 0);
	r.utime = 0;
	r.stime = 5; /* the other way */
	ct_kregs_cpu_ticks(&r, 100, &ut, &st);
	assert_int_equal(ut, 0);
	assert_int_equal(st, 300);
	r.utime = UINT64_MAX / 2; /* no overflow in the product */
	r.stime = UINT64_MAX / 2;
	r.runtime = UINT64_MAX / 4;
	ct_kregs_cpu_ticks(&r, 100, &ut, &st);
	assert_true(ut + st <= UINT64_MAX / 4 / 10000000 + 1);
}

static volatile pid_t sleeper_tid;

static void *sleeper(void *arg)
{
	(void)arg;
	/* some CPU time, in user mode and in the kernel, for the times to compare with /proc's */
	pthread_setname_np(pthread_self(), "kregs-sleeper");
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	static volatile uint64_t spin; /* kept: a static volatile is read back by no one, but written */
	do {
		for (int i = 0; i < 100000; i++)
			spin = spin + (uint64_t)i * 7;
		(void)getppid();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) < 80000000L);
	sleeper_tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* The iterator on this process: the sleeping thread is off its CPU inside pause(), with the thread
 * pointer pthread gave it; the test's own thread is on a CPU. */
static void live_self(void **state)
{
	(void)state;
	setenv("CTRACE_CACHE_DIR", "off", 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sleeper, NULL), 0);
	struct timespec ts = { 0, 20000000 };
	while (!sleeper_tid)
		nanosleep(&ts, NULL);
	nanosleep(&ts, NULL);
	struct ct_kregs *k = NULL;
	const char *why = NULL;
	int r = ct_kregs_open(getpid(), &k, &why);
	if (r < 0) {
		fprintf(stderr, "SKIP live_self: the BPF iterator is not available here: %s (%s)\n", why, strerror(-r));
		pthread_cancel(t);
		pthread_join(t, NULL);
		skip();
	}
	struct ct_kregs_rec *recs = NULL;
	size_t n = 0;
	assert_int_equal(ct_kregs_read(k, &recs, &n), 0);
	assert_int_equal(n, 2);
	const struct ct_kregs_rec *me = ct_kregs_find(recs, n, getpid());
	const struct ct_kregs_rec *s = ct_kregs_find(recs, n, sleeper_tid);
	assert_non_null(me);
	assert_non_null(s);
	assert_int_equal(me->on_cpu, 1);
	assert_int_equal(s->on_cpu, 0);
	assert_true(ct_kregs_in_syscall(s));
	assert_int_equal(s->regs[CT_PTREGS_ORIG_AX], SYS_pause);
	assert_int_equal(s->fsbase, (uint64_t)t); /* glibc's pthread_t is the thread pointer */
	/* its name, state and CPU times as /proc shows them (an independent reading), asleep since */
	assert_string_equal(s->comm, "kregs-sleeper");
	assert_int_equal(ct_kregs_state_letter(s), 'S');
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)sleeper_tid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	const char *p = strrchr(text, ')');
	assert_non_null(p);
	char pstate;
	unsigned long long put, pst;
	assert_int_equal(sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pstate, &put, &pst), 3);
	uint64_t ut, st;
	ct_kregs_cpu_ticks(s, sysconf(_SC_CLK_TCK), &ut, &st);
	assert_int_equal(pstate, 'S');
	if (ut != put || st != pst)
		fail_msg("utime/stime %llu/%llu ticks, /proc says %llu/%llu", (unsigned long long)ut,
			 (unsigned long long)st, put, pst);
	assert_true(ut + st >= 5); /* the 80 ms it ran */
	struct ct_kregs_rec before = *s;
	free(recs);
	assert_int_equal(ct_kregs_read(k, &recs, &n), 0);
	s = ct_kregs_find(recs, n, sleeper_tid);
	assert_non_null(s);
	assert_true(ct_kregs_unchanged(&before, s));
	free(recs);
	ct_kregs_close(k);
	pthread_cancel(t);
	pthread_join(t, NULL);
}

/* A child with sleeping threads, captured from kernel-saved registers with its mappings given (the
 * stacks in one read), without (one read each), and with every stack mapping said to end 64 KiB
 * too high (the read comes short at the first thread's true end: the rest are read one by one):
 * the same threads, the same stack bytes. */
static void *child_sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static struct ct_capture_set *capture(pid_t pid, const struct ct_proc_map *maps, size_t nmaps)
{
	struct ct_attach a = CT_ATTACH_INIT;
	struct ct_attach_opts o = CT_ATTACH_OPTS_DEFAULT;
	o.kernel_regs = true;
	o.maps = maps;
	o.nmaps = nmaps;
	struct ct_capture_set *set = NULL;
	assert_int_equal(ct_attach_snapshot(&a, pid, &o, &set), 0);
	return set;
}

static const struct ct_capture *find_cap(const struct ct_capture_set *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->caps[i].tid == tid)
			return &s->caps[i];
	return NULL;
}

static pid_t bulk_child;

static int bulk_teardown(void **state)
{
	(void)state;
	if (bulk_child > 0) {
		kill(bulk_child, SIGKILL);
		waitpid(bulk_child, NULL, 0);
	}
	bulk_child = 0;
	return 0;
}

static void bulk_copy(void **state)
{
	(void)state;
	setenv("CTRACE_CACHE_DIR", "off", 1);
	struct ct_kregs *k = NULL;
	const char *why = NULL;
	int r = ct_kregs_open(getpid(), &k, &why);
	if (r < 0) {
		fprintf(stderr, "SKIP bulk_copy: the BPF iterator is not available here: %s (%s)\n", why, strerror(-r));
		skip();
	}
	ct_kregs_close(k);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		bulk_child = pid; /* killed by bulk_teardown, even when an assertion fails */
	if (pid == 0) {
		for (int i = 0; i < 8; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, child_sleeper, NULL) != 0)
				_exit(1);
		}
		char c = 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		child_sleeper(NULL);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	struct timespec ts = { 0, 100000000 }; /* every thread into pause() */
	nanosleep(&ts, NULL);
	char path[64], *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cap = 1 << 20, len;
	text = calloc(1, cap);
	len = fread(text, 1, cap - 1, f);
	fclose(f);
	text[len] = '\0';
	struct ct_proc_map *maps = NULL, *wrong = NULL;
	size_t nmaps = 0;
	assert_int_equal(ct_parse_proc_maps(text, 1 << 20, &maps, &nmaps), 0);
	wrong = calloc(nmaps, sizeof(*wrong));
	memcpy(wrong, maps, nmaps * sizeof(*wrong));
	/* the main thread's stack said to go on 64 KiB past its end (the other threads' copies end at
	 * their thread pointers, below their mappings' ends) */
	for (size_t i = 0; i < nmaps; i++)
		if (wrong[i].path && strcmp(wrong[i].path, "[stack]") == 0)
			wrong[i].end += 64 << 10;
	struct ct_capture_set *bulk = capture(pid, maps, nmaps), *one = capture(pid, NULL, 0),
			      *shortread = capture(pid, wrong, nmaps);
	assert_int_equal(bulk->n, 9);
	if (!strstr(bulk->kregs, "9 stacks copied in 1 reads") || !strstr(one->kregs, "9 stacks copied in 9 reads"))
		fail_msg("the stacks' reads: with the mappings \"%s\", without \"%s\"", bulk->kregs, one->kregs);
	/* the main thread is first: the one read comes short at once, and all 9 are read one by one */
	if (!strstr(shortread->kregs, "9 stacks copied in 10 reads"))
		fail_msg("a read past a stack's end: %s", shortread->kregs);
	for (size_t i = 0; i < bulk->n; i++) {
		const struct ct_capture *b = &bulk->caps[i], *o1 = find_cap(one, b->tid), *s1 = find_cap(shortread, b->tid);
		assert_non_null(o1);
		assert_non_null(s1);
		assert_int_equal(b->err, 0);
		assert_int_equal(o1->err, 0);
		assert_int_equal(s1->err, 0);
		assert_true(b->flags & CT_THREAD_KREGS);
		assert_true(s1->flags & CT_THREAD_KREGS);
		assert_int_equal(b->stack_start, o1->stack_start);
		/* one by one reads to the mapping's end; the bulk read stops at the thread pointer */
		assert_true(b->stack_len > 0 && b->stack_len <= o1->stack_len);
		assert_int_equal(s1->stack_len >= b->stack_len, 1);
		assert_memory_equal(b->stack, o1->stack, b->stack_len);
		assert_memory_equal(b->stack, s1->stack, b->stack_len);
	}
	ct_capture_set_free(bulk);
	ct_capture_set_free(one);
	ct_capture_set_free(shortread);
	ct_proc_maps_free(maps, nmaps);
	free(wrong); /* its paths are maps' */
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_good),
		cmocka_unit_test(layout_rejected),
		cmocka_unit_test(layout_random_bytes),
		cmocka_unit_test(unchanged_rules),
		cmocka_unit_test(syscall_rules),
		cmocka_unit_test(find_sorted),
		cmocka_unit_test(state_and_times),
		cmocka_unit_test(live_self),
		cmocka_unit_test_teardown(bulk_copy, bulk_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
