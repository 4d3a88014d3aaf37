/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of analyze/threads.c on hand-built snapshots: name collapsing, grouping, wait kinds,
 * classification over snapshots, wait-for cycles and chains, interpreter threads. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/threads.h"

static struct ct_thread *add(struct ct_snapshot *s, pid_t tid, const char *name, char state, long sc,
			     uint64_t utime, const char *const *fns)
{
	struct ct_thread *t = ct_snapshot_add_thread(s);
	assert_non_null(t);
	t->tid = tid;
	t->name = strdup(name);
	t->state = state;
	t->syscall_nr = sc;
	t->utime_ticks = utime;
	for (size_t i = 0; fns && fns[i]; i++) {
		struct ct_frame *f = ct_thread_add_frame(t);
		assert_non_null(f);
		f->function = strdup(fns[i]);
		f->module = strdup("/usr/bin/app");
		f->pc = 0x1000 + 0x10 * i + (uint64_t)tid; /* differs per thread: grouping ignores it */
	}
	return t;
}

static void hold(struct ct_thread *t, const char *waiting, const char *held)
{
	if (waiting)
		t->lock_waiting = strdup(waiting);
	if (held) {
		t->locks_held = realloc(t->locks_held, (t->nlocks_held + 1) * sizeof(char *));
		t->locks_held[t->nlocks_held++] = strdup(held);
	}
}

static struct ct_snapshot *snap(const char *source, uint64_t ts)
{
	struct ct_snapshot *s = ct_snapshot_new();
	assert_non_null(s);
	s->pid = 100;
	s->comm = strdup("app");
	s->source = strdup(source);
	s->timestamp_ns = ts;
	return s;
}

static ssize_t index_of(const struct ct_analysis *a, pid_t tid)
{
	for (size_t i = 0; i < a->nthreads; i++)
		if (a->threads[i].tid == tid)
			return (ssize_t)i;
	return -1;
}

static void check_collapse(const char *const *names, size_t n, const char *want)
{
	char *got = ct_collapse_names(names, n);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_collapse_names(void **state)
{
	(void)state;
	char buf[32][16];
	const char *names[33];
	for (int i = 0; i < 32; i++) {
		snprintf(buf[i], sizeof(buf[i]), "worker-%d", 31 - i);
		names[i] = buf[i];
	}
	names[32] = "main";
	check_collapse(names, 33, "worker-[0-31], main");
	const char *gaps[] = { "w-5", "x", "w-1", "w-3", "w-4", "x", "w-4" };
	check_collapse(gaps, 7, "w-[1,3-5], x (2)");
	const char *zeros[] = { "w-01", "w-02" };
	check_collapse(zeros, 2, "w-01, w-02");
	const char *one[] = { "a7" };
	check_collapse(one, 1, "a7");
	const char *digits[] = { "123", "124", NULL };
	check_collapse(digits, 3, "123, 124, ?");
	check_collapse(NULL, 0, "");
	const char *many[] = { "p-1", "p-3", "p-5", "p-7", "p-9", "p-11", "p-13", "p-15", "p-17", "p-19" };
	check_collapse(many, 10, "p-[1,3,5,7,9,11,13,15,…]");
}

static void test_wait_kind(void **state)
{
	(void)state;
	struct ct_snapshot *s = snap("gdb", 0);
	const char *mutex[] = { "__lll_lock_wait", "__pthread_mutex_cond_lock", "pthread_cond_wait", "f", NULL };
	const char *cond[] = { "__futex_abstimed_wait_common", "pthread_cond_wait", "f", NULL };
	const char *rd[] = { "read", "f", NULL };
	const char *join[] = { "__futex_abstimed_wait_common", "__pthread_clockjoin_ex", "main", NULL };
	const char *user[] = { "compute", "main", NULL };
	add(s, 1, "a", '?', CT_SYSCALL_UNKNOWN, 0, mutex);
	add(s, 2, "b", '?', CT_SYSCALL_UNKNOWN, 0, cond);
	add(s, 3, "c", 'S', SYS_read, 0, rd);
	add(s, 4, "d", '?', CT_SYSCALL_UNKNOWN, 0, join);
	add(s, 5, "e", '?', CT_SYSCALL_UNKNOWN, 0, user);
	add(s, 6, "f", 'S', SYS_nanosleep, 0, user);
	const char *sel[] = { "__GI___select", "pysleep", NULL }; /* a core: no system call, the frames */
	add(s, 7, "g", '?', CT_SYSCALL_UNKNOWN, 0, sel);
	assert_int_equal(ct_wait_kind_of(&s->threads[0]), CT_WAIT_MUTEX);
	assert_int_equal(ct_wait_kind_of(&s->threads[1]), CT_WAIT_CONDVAR);
	assert_int_equal(ct_wait_kind_of(&s->threads[2]), CT_WAIT_IO);
	assert_int_equal(ct_wait_kind_of(&s->threads[3]), CT_WAIT_JOIN);
	assert_int_equal(ct_wait_kind_of(&s->threads[4]), CT_WAIT_NONE);
	assert_int_equal(ct_wait_kind_of(&s->threads[5]), CT_WAIT_SLEEP); /* from the syscall */
	assert_int_equal(ct_wait_kind_of(&s->threads[6]), CT_WAIT_POLL);
	ct_snapshot_free(s);
}

static void test_grouping(void **state)
{
	(void)state;
	struct ct_snapshot *s = snap("eu-stack", 0);
	const char *pool[] = { "__futex_abstimed_wait_common", "pthread_cond_wait", "queue_pop", "worker",
			       NULL };
	const char *rd[] = { "read", "conn_loop", NULL };
	const char *rd2[] = { "read", "other_loop", NULL };
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "worker-%d", i);
		add(s, 10 + i, name, 'S', SYS_futex, 0, pool);
	}
	add(s, 20, "conn-1", 'S', SYS_read, 0, rd);
	add(s, 21, "conn-2", 'S', SYS_read, 0, rd);
	add(s, 22, "odd", 'S', SYS_read, 0, rd2);
	struct ct_analysis *a = NULL;
	assert_int_equal(ct_analyze(&s, 1, NULL, &a), 0);
	assert_int_equal(a->nthreads, 8);
	assert_int_equal(a->ngroups, 3);
	assert_int_equal(a->groups[0].nmembers, 5);
	assert_string_equal(a->groups[0].names, "worker-[0-4]");
	assert_int_equal(a->groups[0].cls, CT_CLASS_BLOCKED);
	assert_int_equal(a->groups[1].nmembers, 2);
	assert_string_equal(a->groups[1].names, "conn-[1-2]");
	assert_int_equal(a->groups[2].nmembers, 1);
	assert_string_equal(a->groups[2].names, "odd");
	assert_true(ct_stacks_equal(&s->threads[0], &s->threads[4]));
	assert_false(ct_stacks_equal(&s->threads[5], &s->threads[7]));
	for (size_t i = 0; i < a->nthreads; i++)
		assert_int_equal(a->threads[i].cls, CT_CLASS_BLOCKED);
	assert_int_equal(a->ndeadlocks, 0);
	ct_analysis_free(a);

	/* an idle pattern makes the pool idle */
	const char *pats[] = { "queue_pop" };
	struct ct_analyze_opts o = { .idle_patterns = pats, .nidle_patterns = 1 };
	assert_int_equal(ct_analyze(&s, 1, &o, &a), 0);
	assert_int_equal(a->class_count[CT_CLASS_IDLE], 5);
	assert_int_equal(a->class_count[CT_CLASS_BLOCKED], 3);
	ct_analysis_free(a);
	ct_snapshot_free(s);
}

/* Interpreter threads: a Python frame is its function in its file (the line apart); a waiting
 * thread's why ends with its innermost Python frame; take_gil makes it a GIL waiter, runnable or
 * not; an RLock waiter (a semaphore wait whose lock id is known) is a lock wait, in a cycle. */
static struct ct_frame *py_frame(struct ct_thread *t, const char *fn, const char *file, int line)
{
	struct ct_frame *f = ct_thread_add_frame(t);
	assert_non_null(f);
	f->python = true;
	f->function = strdup(fn);
	f->file = strdup(file);
	f->line = line;
	return f;
}

static void test_python_threads(void **state)
{
	(void)state;
	struct ct_snapshot *s = snap("live", 0);
	const char *sem[] = { "do_futex_wait", "__new_sem_wait_slow64", "PyThread_acquire_lock_timed",
			      "rlock_acquire", NULL };
	const char *gil[] = { "___pthread_cond_timedwait64", "take_gil.lto_priv.0", NULL };
	struct ct_thread *a1 = add(s, 1, "a", 'S', SYS_futex, 0, sem);
	py_frame(a1, "dead_a", "/srv/jobs.py", 42);
	hold(a1, "0xb", "0xa");
	a1->waiting_on = strdup("RLock.acquire");
	struct ct_thread *b1 = add(s, 2, "b", 'S', SYS_futex, 0, sem);
	py_frame(b1, "dead_b", "/srv/jobs.py", 50);
	hold(b1, "0xa", "0xb");
	b1->waiting_on = strdup("RLock.acquire");
	struct ct_thread *g1 = add(s, 3, "burn", 'R', CT_SYSCALL_NONE, 0, gil);
	g1->flags |= CT_THREAD_GIL_WAITING;
	py_frame(g1, "burn", "/srv/jobs.py", 72);
	struct ct_thread *g2 = add(s, 4, "burn", 'S', SYS_futex, 0, gil);
	g2->flags |= CT_THREAD_GIL_WAITING;
	py_frame(g2, "burn", "/srv/jobs.py", 73);
	struct ct_thread *h1 = add(s, 6, "holder", 'R', CT_SYSCALL_NONE, 0, NULL);
	h1->flags |= CT_THREAD_GIL_HOLDER;
	py_frame(h1, "burn", "/srv/jobs.py", 74);
	struct ct_thread *o1 = add(s, 5, "other", 'S', SYS_futex, 0, gil);
	o1->flags |= CT_THREAD_GIL_WAITING;
	py_frame(o1, "burn", "/srv/other.py", 72);
	assert_int_equal(ct_wait_kind_of(a1), CT_WAIT_LOCK);
	assert_int_equal(ct_wait_kind_of(g1), CT_WAIT_GIL);
	/* the same function in the same file at another line: one stack; in another file: not */
	assert_true(ct_stacks_equal(g1, g2));
	assert_false(ct_stacks_equal(g1, o1));
	struct ct_analysis *an = NULL;
	assert_int_equal(ct_analyze(&s, 1, NULL, &an), 0);
	assert_int_equal(an->ndeadlocks, 1);
	assert_int_equal(an->deadlocks[0].n, 2);
	const struct ct_thread_info *ta = &an->threads[index_of(an, 1)];
	assert_string_equal(ta->why, "lock 0xb (RLock.acquire) in dead_a (/srv/jobs.py:42)");
	const struct ct_thread_info *tg = &an->threads[index_of(an, 3)];
	assert_int_equal(tg->wait, CT_WAIT_GIL);
	assert_string_equal(tg->why, "the GIL in burn (/srv/jobs.py:72)");
	assert_int_equal(tg->gil_holder, index_of(an, 6));
	assert_int_equal(an->threads[index_of(an, 6)].gil_holder, -1);
	assert_int_equal(an->threads[index_of(an, 3)].group, an->threads[index_of(an, 4)].group);
	assert_int_not_equal(an->threads[index_of(an, 3)].group, an->threads[index_of(an, 5)].group);
	struct ct_buf out = CT_BUF_INIT;
	ct_report_analysis_text(an, &out);
	assert_false(out.err);
	/* one group, each at its own line */
	assert_non_null(strstr(out.data, "  3 \"burn\": waiting for the GIL in burn (/srv/jobs.py:72), held by \"holder\" (tid 6)\n"));
	assert_non_null(strstr(out.data, "  4 \"burn\": waiting for the GIL in burn (/srv/jobs.py:73), held by \"holder\" (tid 6)\n"));
	ct_buf_free(&out);
	ct_analysis_free(an);
	ct_snapshot_free(s);
}

static void test_cycles_and_chains(void **state)
{
	(void)state;
	struct ct_snapshot *s = snap("jstack", 0);
	const char *lk[] = { "java.lang.Foo.bar", "java.lang.Thread.run", NULL };
	const char *sl[] = { "java.lang.Thread.sleep", "java.lang.Thread.run", NULL };
	/* AB-BA */
	hold(add(s, 1, "t1", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L2", "L1");
	hold(add(s, 2, "t2", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L1", "L2");
	/* 3-cycle, listed out of order */
	hold(add(s, 5, "t5", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L3", "L5");
	hold(add(s, 3, "t3", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L4", "L3");
	hold(add(s, 4, "t4", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L5", "L4");
	/* a chain: t6 -> L9 held by t7, sleeping */
	hold(add(s, 6, "t6", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L9", NULL);
	hold(add(s, 7, "t7", '?', CT_SYSCALL_UNKNOWN, 0, sl), NULL, "L9");
	/* a waiter on a deadlocked lock (L1, held by t1) is not in the deadlock */
	hold(add(s, 8, "t8", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L1", NULL);
	/* relocking a mutex it holds: a deadlock of one */
	hold(add(s, 11, "self", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L7", "L7");
	/* a lock nobody is known to hold */
	hold(add(s, 9, "t9", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L0", NULL);
	struct ct_analysis *a = NULL;
	assert_int_equal(ct_analyze(&s, 1, NULL, &a), 0);
	assert_true(ct_analysis_has_deadlock(a));
	assert_int_equal(a->ndeadlocks, 3);
	const struct ct_deadlock *d1 = NULL, *d2 = NULL, *d3 = NULL;
	for (size_t d = 0; d < a->ndeadlocks; d++) {
		if (a->deadlocks[d].n == 1)
			d1 = &a->deadlocks[d];
		else if (a->deadlocks[d].n == 2)
			d2 = &a->deadlocks[d];
		else if (a->deadlocks[d].n == 3)
			d3 = &a->deadlocks[d];
	}
	assert_true(d1 && d2 && d3);
	assert_int_equal(a->threads[d1->threads[0]].tid, 11);
	assert_string_equal(a->locks[d1->locks[0]].id, "L7");
	assert_int_equal(d2->n, 2);
	assert_int_equal(d3->n, 3);
	/* starts at the lowest tid and follows waits-for */
	assert_int_equal(a->threads[d2->threads[0]].tid, 1);
	assert_int_equal(a->threads[d2->threads[1]].tid, 2);
	assert_string_equal(a->locks[d2->locks[0]].id, "L2");
	assert_int_equal(a->threads[d3->threads[0]].tid, 3);
	assert_int_equal(a->threads[d3->threads[1]].tid, 4);
	assert_int_equal(a->threads[d3->threads[2]].tid, 5);
	assert_string_equal(a->locks[d3->locks[2]].id, "L3");

	ssize_t t6 = index_of(a, 6), t7 = index_of(a, 7), t8 = index_of(a, 8), t1 = index_of(a, 1);
	ssize_t t9 = index_of(a, 9);
	assert_int_equal(a->threads[t6].waits_for, t7);
	assert_int_equal(a->threads[t6].deadlock, -1);
	assert_int_equal(a->threads[t7].waits_for, -1);
	assert_int_equal(a->threads[t8].waits_for, t1);
	assert_int_equal(a->threads[t8].deadlock, -1);
	assert_int_equal(a->threads[t9].waits_for, -1);
	assert_int_equal(a->threads[t6].wait, CT_WAIT_LOCK);
	assert_int_equal(a->threads[t7].wait, CT_WAIT_SLEEP);
	/* chains: L9 -> t7; L1 (t8) -> t1, which is deadlocked; L0 -> unknown */
	assert_int_equal(a->nchains, 3);
	bool seen9 = false, seen1 = false, seen0 = false;
	for (size_t c = 0; c < a->nchains; c++) {
		const struct ct_chain *ch = &a->chains[c];
		const char *id = a->locks[ch->lock].id;
		if (strcmp(id, "L9") == 0) {
			seen9 = true;
			assert_int_equal(ch->npath, 1);
			assert_int_equal(ch->path[0], t7);
		} else if (strcmp(id, "L1") == 0) {
			seen1 = true;
			assert_int_equal(ch->npath, 1);
			assert_int_equal(ch->path[0], t1);
		} else if (strcmp(id, "L0") == 0) {
			seen0 = true;
			assert_int_equal(ch->npath, 0);
			assert_int_equal(a->locks[ch->lock].holder, -1);
		}
	}
	assert_true(seen9 && seen1 && seen0);
	ct_analysis_free(a);

	/* break t5's wait: no 3-cycle any more, t3 -> t4 -> t5 is a chain */
	free(s->threads[2].lock_waiting);
	s->threads[2].lock_waiting = NULL;
	assert_int_equal(ct_analyze(&s, 1, NULL, &a), 0);
	assert_int_equal(a->ndeadlocks, 2);
	ssize_t t3 = index_of(a, 3);
	assert_int_equal(a->threads[t3].deadlock, -1);
	for (size_t c = 0; c < a->nchains; c++)
		if (strcmp(a->locks[a->chains[c].lock].id, "L4") == 0)
			assert_int_equal(a->chains[c].npath, 2); /* t4, then t5 which waits for nothing */
	struct ct_buf out = CT_BUF_INIT;
	ct_report_analysis_text(a, &out);
	assert_non_null(strstr(ct_buf_cstr(&out), "lock L4: 1 waiting (t3), held by \"t4\" (tid 4), blocked in lock L5\n"
					      "    \"t4\" (tid 4) waits for lock L5, held by \"t5\" (tid 5), running\n"));
	assert_non_null(strstr(ct_buf_cstr(&out), "\"self\" (tid 11) waits for lock L7, held by \"self\" (tid 11)\n"));
	ct_buf_free(&out);
	ct_analysis_free(a);
	ct_snapshot_free(s);
}

static void test_classify_snapshots(void **state)
{
	(void)state;
	long hz = sysconf(_SC_CLK_TCK);
	struct ct_snapshot *s[3];
	const char *spin[] = { "spin", "start_thread", NULL };
	const char *spin_in[] = { "cas_try", "spin", "start_thread", NULL };
	const char *run_a[] = { "parse", "handle", "start_thread", NULL };
	const char *run_b[] = { "hash", "store", "flush", "start_thread", NULL };
	const char *blk[] = { "read", "loop", "start_thread", NULL };
	const char *slp[] = { "clock_nanosleep", "loop", "start_thread", NULL };
	const char *slp2[] = { "clock_nanosleep", "other", "start_thread", NULL };
	for (int i = 0; i < 3; i++) {
		s[i] = snap("live", 1000000000ull * (uint64_t)(i + 1));
		uint64_t cpu = (uint64_t)hz * (uint64_t)i; /* one full core */
		add(s[i], 1, "spinner", 'R', CT_SYSCALL_NONE, cpu, i == 1 ? spin_in : spin);
		add(s[i], 2, "runner", 'R', CT_SYSCALL_NONE, cpu, i % 2 ? run_b : run_a);
		add(s[i], 3, "reader", 'S', SYS_read, 0, blk);
		add(s[i], 4, "napper", 'S', SYS_clock_nanosleep, 0, i == 2 ? slp2 : slp);
		add(s[i], 5, "lazy", 'R', CT_SYSCALL_NONE, 0, spin); /* same stack, no CPU used */
		if (i < 2)
			add(s[i], 6, "exiting", 'S', SYS_read, 0, blk);
		add(s[i], 7, "stopped", 'T', SYS_read, 0, blk);
	}
	struct ct_analysis *a = NULL;
	assert_int_equal(ct_analyze(s, 3, NULL, &a), 0);
	assert_true(a->cpu_known);
	assert_int_equal(a->threads[index_of(a, 1)].cls, CT_CLASS_SPINNING);
	assert_int_equal(a->threads[index_of(a, 2)].cls, CT_CLASS_RUNNING);
	assert_int_equal(a->threads[index_of(a, 3)].cls, CT_CLASS_BLOCKED);
	assert_int_equal(a->threads[index_of(a, 3)].same_stack, 3);
	assert_int_equal(a->threads[index_of(a, 4)].cls, CT_CLASS_RUNNING); /* stack moved */
	assert_int_equal(a->threads[index_of(a, 5)].cls, CT_CLASS_RUNNING);
	assert_int_equal(a->threads[index_of(a, 6)].cls, CT_CLASS_GONE);
	assert_int_equal(a->threads[index_of(a, 7)].cls, CT_CLASS_STOPPED);
	assert_int_equal(a->class_count[CT_CLASS_SPINNING], 1);
	assert_true(ct_analysis_has_stuck(a));
	assert_false(ct_analysis_has_deadlock(a));
	assert_true(a->threads[index_of(a, 1)].cpu_share > 0.9);
	ct_analysis_free(a);
	/* one snapshot cannot tell spinning from running */
	assert_int_equal(ct_analyze(&s[2], 1, NULL, &a), 0);
	assert_int_equal(a->threads[index_of(a, 1)].cls, CT_CLASS_RUNNING);
	assert_false(ct_analysis_has_stuck(a));
	ct_analysis_free(a);
	for (int i = 0; i < 3; i++)
		ct_snapshot_free(s[i]);
}

/* Over several snapshots, a cycle through a thread whose stack moved is no deadlock. */
static void test_cycle_needs_stuck_threads(void **state)
{
	(void)state;
	const char *lk[] = { "__lll_lock_wait", "pthread_mutex_lock", "f", NULL };
	const char *lk2[] = { "__lll_lock_wait", "pthread_mutex_lock", "g", NULL };
	struct ct_snapshot *s[2];
	for (int i = 0; i < 2; i++) {
		s[i] = snap("live", 1000000000ull * (uint64_t)(i + 1));
		hold(add(s[i], 1, "a", 'S', SYS_futex, 0, lk), "0x10", "0x20");
		hold(add(s[i], 2, "b", 'S', SYS_futex, 0, i ? lk2 : lk), "0x20", "0x10");
	}
	struct ct_analysis *a = NULL;
	assert_int_equal(ct_analyze(s, 2, NULL, &a), 0);
	assert_int_equal(a->threads[1].cls, CT_CLASS_RUNNING);
	assert_int_equal(a->ndeadlocks, 0);
	assert_int_equal(a->nchains, 2);
	ct_analysis_free(a);
	/* the newest snapshot alone shows the cycle */
	assert_int_equal(ct_analyze(&s[1], 1, NULL, &a), 0);
	assert_int_equal(a->ndeadlocks, 1);
	ct_analysis_free(a);
	ct_snapshot_free(s[0]);
	ct_snapshot_free(s[1]);
}

static void test_report_renders(void **state)
{
	(void)state;
	struct ct_snapshot *s = snap("jstack", 0);
	const char *lk[] = { "Foo.bar", NULL };
	hold(add(s, 1, "t\"1", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L2", "L1");
	hold(add(s, 2, "t2", '?', CT_SYSCALL_UNKNOWN, 0, lk), "L1", "L2");
	struct ct_analysis *a = NULL;
	assert_int_equal(ct_analyze(&s, 1, NULL, &a), 0);
	struct ct_buf out = CT_BUF_INIT;
	ct_report_analysis_text(a, &out);
	assert_non_null(strstr(ct_buf_cstr(&out), "Found 1 deadlock.\n"));
	assert_non_null(strstr(ct_buf_cstr(&out), "\"t2\" (tid 2) waits for lock L1, held by \"t\"1\" (tid 1)"));
	ct_buf_reset(&out);
	ct_report_analysis_json(a, &out);
	assert_non_null(strstr(ct_buf_cstr(&out), "\"name\":\"t\\\"1\""));
	assert_non_null(strstr(ct_buf_cstr(&out), "\"version\":1"));
	ct_buf_free(&out);
	ct_analysis_free(a);
	ct_snapshot_free(s);
	assert_int_equal(ct_analyze(NULL, 0, NULL, &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collapse_names),
		cmocka_unit_test(test_wait_kind),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_python_threads),
		cmocka_unit_test(test_cycles_and_chains),
		cmocka_unit_test(test_classify_snapshots),
		cmocka_unit_test(test_cycle_needs_stuck_threads),
		cmocka_unit_test(test_report_renders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
