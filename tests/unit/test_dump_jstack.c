/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jstack parser on real JDK 17 dumps (tests/data/jstack*.txt: jstack [-l] on
 * tests/fixtures/java/Deadlock.java: an AB-BA monitor deadlock, a ReentrantLock deadlock, a
 * thread in Object.wait(), a sleeper), plus hand-written JDK 21 and broken variants. */
#include <stdlib.h>

#include "dump_helpers.h"
#include "lib/util.h"

static char *load(const char *name, size_t *len)
{
	char path[512];
	const char *top = getenv("TOP");
	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	char *data = NULL;
	if (ct_read_file(path, 1 << 20, &data, len) < 0)
		fail_msg("cannot read %s", path);
	return data;
}

static const struct ct_thread *by_name(const struct ct_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].name && strcmp(s->threads[i].name, name) == 0)
			return &s->threads[i];
	fail_msg("no thread named %s", name);
	return NULL;
}

static void test_locks_l(void **state)
{
	size_t len;
	char *d = load("jstack-l-deadlock.txt", &len);
	struct ct_dump_result r = parse_ok(d);
	assert_int_equal(r.format, CT_DUMP_JSTACK);
	assert_int_equal(r.nsnaps, 1);
	const struct ct_snapshot *s = r.snaps[0];
	assert_int_equal(s->nthreads, 25); /* the JVM's deadlock summary adds none */
	assert_true(s->timestamp_ns > 0);
	const struct ct_thread *m1 = by_name(s, "monitor-1"), *m2 = by_name(s, "monitor-2");
	assert_int_equal(m1->tid, 0x2aa);
	assert_int_equal(m1->state, 'S');
	assert_string_equal(m1->lock_waiting, "0x000000069ec19848");
	assert_int_equal(m1->nlocks_held, 1);
	assert_string_equal(m1->locks_held[0], "0x000000069ec19838");
	assert_string_equal(m2->lock_waiting, m1->locks_held[0]);
	assert_string_equal(m2->locks_held[0], m1->lock_waiting);
	assert_string_equal(m1->frames[0].function, "Deadlock.lockBoth");
	assert_string_equal(m1->frames[0].file, "Deadlock.java");
	assert_int_equal(m1->frames[0].line, 12);
	/* ReentrantLock: parked, holder from "Locked ownable synchronizers" */
	const struct ct_thread *r1 = by_name(s, "rlock-1"), *r2 = by_name(s, "rlock-2");
	assert_string_equal(r1->lock_waiting, r2->locks_held[0]);
	assert_string_equal(r2->lock_waiting, r1->locks_held[0]);
	assert_string_equal(r1->frames[0].module, "java.base@17.0.15");
	assert_null(r1->frames[0].file); /* Native Method */
	/* wait() released the monitor jstack lists as "locked" */
	const struct ct_thread *w = by_name(s, "waiter");
	assert_null(w->lock_waiting);
	assert_int_equal(w->nlocks_held, 0);
	assert_int_equal(by_name(s, "VM Thread")->nframes, 0);
	assert_int_equal(by_name(s, "Signal Dispatcher")->state, 'R');
	ct_dump_result_free(&r);
	free(d);
}

static void test_two_dumps(void **state)
{
	size_t l1, l2;
	char *a = load("jstack-l-deadlock.txt", &l1), *b = load("jstack-deadlock.txt", &l2);
	char *both = malloc(l1 + l2 + 1);
	memcpy(both, a, l1);
	memcpy(both + l1, b, l2 + 1);
	struct ct_dump_result r = parse_ok(both);
	assert_int_equal(r.nsnaps, 2);
	assert_int_equal(r.snaps[1]->nthreads, 25);
	/* without -l the ReentrantLock holders are unknown; the monitors still are */
	assert_int_equal(by_name(r.snaps[1], "rlock-1")->nlocks_held, 0);
	assert_int_equal(by_name(r.snaps[1], "monitor-1")->nlocks_held, 1);
	ct_dump_result_free(&r);
	free(both);
	free(a);
	free(b);
}

static void test_jdk21_decimal_nid(void **state)
{
	const char *t = "Full thread dump OpenJDK 64-Bit Server VM (21.0.2+13 mixed mode):\n\n"
			"\"main\" #1 [4101] prio=5 os_prio=0 cpu=50.1ms elapsed=3.2s tid=0x00007f nid=4101 waiting on condition  [0x7f]\n"
			"   java.lang.Thread.State: TIMED_WAITING (sleeping)\n"
			"\tat java.lang.Thread.sleep0(java.base@21.0.2/Native Method)\n"
			"\tat Main.main(Main.java:5)\n\n";
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(r.snaps[0]->threads[0].tid, 4101);
	assert_int_equal(r.snaps[0]->threads[0].nframes, 2);
	ct_dump_result_free(&r);
}

static void test_jcmd_and_log(void **state)
{
	/* kill -3 into an application log: exception traces and quoted log lines around the dump
	 * are not threads; jcmd's first line gives the pid */
	const char *t = "4242:\n"
			"2026-11-23 12:49:05\n"
			"Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n"
			"\"main\" #1 prio=5 os_prio=0 tid=0x7f nid=0x1092 runnable  [0x7f]\n"
			"   java.lang.Thread.State: RUNNABLE\n"
			"\tat Main.main(Main.java:5)\n\n";
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(r.snaps[0]->pid, 4242);
	assert_int_equal(r.snaps[0]->timestamp_ns, 1795438145ull * 1000000000ull);
	ct_dump_result_free(&r);
	t = "12:00:01 ERROR request failed\n"
	    "java.lang.IllegalStateException: boom\n"
	    "\tat com.example.Handler.run(Handler.java:42)\n"
	    "\"GET / HTTP/1.1\" 500 12\n"
	    "Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n"
	    "\"main\" #1 prio=5 os_prio=0 tid=0x7f nid=0x1092 runnable  [0x7f]\n"
	    "\tat Main.main(Main.java:5)\n";
	r = parse_ok(t);
	assert_int_equal(r.nsnaps, 1);
	assert_int_equal(r.snaps[0]->nthreads, 1);
	assert_int_equal(r.snaps[0]->threads[0].nframes, 1);
	ct_dump_result_free(&r);
}

static void test_malformed(void **state)
{
	const char *t = "Full thread dump X:\n\"main\" #1 nid=0x10 runnable\n\tat broken frame\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "jstack frame"));
	t = "Full thread dump X:\n\"main\" #1 nid=0x10 runnable\n\tat A.b(A.java:1)\n\t- locked 0x10\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 4);
	t = "Full thread dump X:\n\"main\" #1 nid=0x10 runnable\n\tat A.b(A.java:1)\n\t- locked <0x10\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 4);
	t = "Full thread dump X:\n\"main #1 nid=0x10 runnable\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "Full thread dump X:\n\"main\" #1 nid=zz runnable\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locks_l),
		cmocka_unit_test(test_two_dumps),
		cmocka_unit_test(test_jdk21_decimal_nid),
		cmocka_unit_test(test_jcmd_and_log),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
