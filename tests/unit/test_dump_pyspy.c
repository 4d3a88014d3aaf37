/* SPDX-License-Identifier: GPL-2.0-or-later */
/* py-spy dump parser. py-spy is not packaged in Debian; the samples are written by hand to the
 * format of py-spy's src/dump.rs ("Thread TID (STATUS): \"NAME\"", frames "    NAME (FILE:LINE)",
 * --locals indented by 8, colours when written to a terminal). */
#include "dump_helpers.h"

static const char sample[] =
	"Process 4242: /usr/bin/python3 server.py --port 8080\n"
	"Python v3.11.2 (/usr/bin/python3.11)\n"
	"\n"
	"Thread 4242 (idle): \"MainThread\"\n"
	"    wait (threading.py:320)\n"
	"    join (threading.py:1119)\n"
	"    <module> (server.py:40)\n"
	"Thread 4250 (active+gil): \"worker-0\"\n"
	"    spin (server.py:20)\n"
	"        Arguments:\n"
	"            n: 10\n"
	"        Locals:\n"
	"            i: 3\n"
	"    run (threading.py:975)\n"
	"Thread 0x7F2B6A1FC640 (active): \"worker-1\"\n"
	"    clock_nanosleep (libc.so.6)\n"
	"    sleep (server.py:25)\n";

static void test_sample(void **state)
{
	struct ct_dump_result r = parse_ok(sample);
	assert_int_equal(r.format, CT_DUMP_PYSPY);
	const struct ct_snapshot *s = r.snaps[0];
	assert_int_equal(s->pid, 4242);
	assert_string_equal(s->exe, "/usr/bin/python3");
	assert_string_equal(s->comm, "python3");
	assert_int_equal(s->nthreads, 3);
	const struct ct_thread *t = find_tid(s, 4242);
	assert_string_equal(t->name, "MainThread");
	assert_int_equal(t->state, 'S');
	assert_int_equal(t->nframes, 3);
	assert_string_equal(t->frames[2].function, "<module>");
	assert_string_equal(t->frames[2].file, "server.py");
	assert_int_equal(t->frames[2].line, 40);
	t = find_tid(s, 4250);
	assert_int_equal(t->state, 'R');
	assert_int_equal(t->nframes, 2); /* locals are not frames */
	t = &s->threads[2];
	assert_int_equal(t->tid, 0x6A1FC640 & 0x7fffffff);
	assert_string_equal(t->frames[0].file, "libc.so.6");
	assert_int_equal(t->frames[0].line, 0);
	ct_dump_result_free(&r);
}

static void test_colours(void **state)
{
	const char *t = "Process 7: python x.py\n"
			"Thread \x1b[1;33m7\x1b[0m (idle): \"\x1b[34mMainThread\x1b[0m\"\n"
			"    \x1b[32mmain\x1b[0m (\x1b[36mx.py\x1b[0m:3)\n";
	struct ct_dump_result r = parse_ok(t);
	const struct ct_thread *th = &r.snaps[0]->threads[0];
	assert_int_equal(th->tid, 7);
	assert_string_equal(th->name, "MainThread");
	assert_string_equal(th->frames[0].function, "main");
	assert_string_equal(th->frames[0].file, "x.py");
	ct_dump_result_free(&r);
}

static void test_malformed(void **state)
{
	const char *t = "Process 7: python x.py\nThread 7 (idle): \"Main\"\n    no parens here\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "py-spy frame"));
	t = "Process 7: python x.py\n    f (x.py:1)\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "Process 7: python x.py\nThread 7 (idle\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "Process x: python\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_colours),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
