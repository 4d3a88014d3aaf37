/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's own text and JSON read back: a snapshot rendered by report/ and parsed again keeps its
 * threads, states, system calls and frames. Plus broken JSON: syntax, truncation, wrong types,
 * nesting bombs. */
#include <stdlib.h>

#include "dump_helpers.h"
#include "lib/util.h"
#include "report/report.h"

static struct ct_snapshot *make_snapshot(void)
{
	struct ct_snapshot *s = ct_snapshot_new();
	s->pid = 500;
	s->comm = ct_strdup("server");
	s->exe = ct_strdup("/usr/sbin/server");
	struct ct_thread *t = ct_snapshot_add_thread(s);
	t->tid = 500;
	t->name = ct_strdup("server");
	t->state = 'S';
	t->syscall_nr = 0; /* read */
	t->waiting_on = ct_strdup("fd 3 (pipe:[123])");
	struct ct_frame *f = ct_thread_add_frame(t);
	f->pc = 0x7f0000001234;
	f->function = ct_strdup("read");
	f->offset = 0x4c;
	f->module = ct_strdup("/usr/lib/x86_64-linux-gnu/libc.so.6");
	f->file = ct_strdup("read.c");
	f->line = 26;
	f = ct_thread_add_frame(t);
	f->pc = 0x401000;
	f->function = ct_strdup("ns::handler(int, char const*)");
	f->offset = 0x10;
	f->module = ct_strdup("/usr/sbin/server");
	f = ct_thread_add_frame(t);
	f->pc = 0x401100;
	f->function = ct_strdup("inlined_helper");
	f->inlined = true;
	f->module = ct_strdup("/usr/sbin/server");
	f->file = ct_strdup("h.c");
	f->line = 7;
	t = ct_snapshot_add_thread(s);
	t->tid = 501;
	t->name = ct_strdup("worker \"1\"");
	t->state = 'R';
	t->syscall_nr = CT_SYSCALL_NONE;
	f = ct_thread_add_frame(t);
	f->pc = 0x402000;
	t = ct_snapshot_add_thread(s);
	t->tid = 502;
	t->name = ct_strdup("gone");
	t->error = ct_strdup("exited during capture");
	return s;
}

static void check_roundtrip(const struct ct_snapshot *s, bool json)
{
	assert_int_equal(s->pid, 500);
	assert_string_equal(s->comm, "server");
	assert_string_equal(s->exe, "/usr/sbin/server");
	assert_int_equal(s->nthreads, 3);
	const struct ct_thread *t = find_tid(s, 500);
	assert_int_equal(t->state, 'S');
	assert_int_equal(t->syscall_nr, 0);
	assert_string_equal(t->waiting_on, "fd 3 (pipe:[123])");
	assert_int_equal(t->nframes, 3);
	assert_int_equal(t->frames[0].pc, 0x7f0000001234);
	assert_string_equal(t->frames[0].function, "read");
	assert_int_equal(t->frames[0].offset, 0x4c);
	/* the text has module and file base names only */
	assert_string_equal(t->frames[0].module, json ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "libc.so.6");
	assert_string_equal(t->frames[0].file, "read.c");
	assert_int_equal(t->frames[0].line, 26);
	assert_string_equal(t->frames[1].function, "ns::handler(int, char const*)");
	assert_int_equal(t->frames[1].offset, 0x10);
	assert_null(t->frames[1].file);
	assert_true(t->frames[2].inlined);
	assert_string_equal(t->frames[2].function, "inlined_helper");
	assert_int_equal(t->frames[2].line, 7);
	t = find_tid(s, 501);
	assert_string_equal(t->name, "worker \"1\"");
	assert_int_equal(t->state, 'R');
	assert_null(t->frames[0].function);
	t = find_tid(s, 502);
	assert_string_equal(t->error, "exited during capture");
}

static void test_text_roundtrip(void **state)
{
	struct ct_snapshot *s = make_snapshot();
	struct ct_buf b = CT_BUF_INIT;
	ct_report_snapshot_text(s, &b);
	ct_report_snapshot_text(s, &b); /* two dumps in a row */
	struct ct_dump_result r = parse_ok(ct_buf_cstr(&b));
	assert_int_equal(r.format, CT_DUMP_CTRACE_TEXT);
	assert_int_equal(r.nsnaps, 2);
	check_roundtrip(r.snaps[0], false);
	check_roundtrip(r.snaps[1], false);
	ct_dump_result_free(&r);
	ct_buf_free(&b);
	ct_snapshot_free(s);
}

static void test_json_roundtrip(void **state)
{
	struct ct_snapshot *s = make_snapshot();
	struct ct_buf b = CT_BUF_INIT;
	ct_report_snapshot_json(s, &b);
	ct_report_snapshot_json(s, &b);
	struct ct_dump_result r = parse_ok(ct_buf_cstr(&b));
	assert_int_equal(r.format, CT_DUMP_CTRACE_JSON);
	assert_int_equal(r.nsnaps, 2);
	check_roundtrip(r.snaps[0], true);
	check_roundtrip(r.snaps[1], true);
	ct_dump_result_free(&r);
	/* an array of documents */
	struct ct_buf a = CT_BUF_INIT;
	b.len = 0;
	ct_report_snapshot_json(s, &b);
	ct_buf_printf(&a, "[%s,%s]", ct_buf_cstr(&b), ct_buf_cstr(&b));
	r = parse_ok(ct_buf_cstr(&a));
	assert_int_equal(r.nsnaps, 2);
	check_roundtrip(r.snaps[1], true);
	ct_dump_result_free(&r);
	ct_buf_free(&a);
	ct_buf_free(&b);
	ct_snapshot_free(s);
}

static void test_json_locks(void **state)
{
	const char *t = "{\"snapshots\":[{\"pid\":1,\"threads\":[{\"tid\":1,\"lock_waiting\":\"0xa\","
			"\"locks_held\":[\"0xb\",\"0xc\"],\"frames\":[{\"pc\":4096,\"function\":\"f\"}]}]}]}";
	struct ct_dump_result r = parse_ok(t);
	const struct ct_thread *th = &r.snaps[0]->threads[0];
	assert_string_equal(th->lock_waiting, "0xa");
	assert_int_equal(th->nlocks_held, 2);
	assert_string_equal(th->locks_held[1], "0xc");
	assert_int_equal(th->frames[0].pc, 4096);
	ct_dump_result_free(&r);
}

static void test_json_bad(void **state)
{
	const char *t = "{\"pid\":1,\n\"threads\":[\n{\"tid\":1,}\n]}";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "JSON"));
	t = "{\"pid\":1,\n\"threads\":[\n{\"tid\":1"; /* truncated */
	r = parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	assert_non_null(strstr(r.err_msg, "truncated"));
	t = "{\"pid\":1,\"threads\":[{\"tid\":\"one\"}]}";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	t = "{\"pid\":1,\"threads\":[{\"tid\":1,\"frames\":[{\"pc\":\"zz\"}]}]}";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	t = "{\"pid\":1,\"threads\":[{\"tid\":1,\"frames\":7}]}";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	t = "{\"version\":1}";
	r = parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	assert_non_null(strstr(r.err_msg, "threads"));
	t = "{\"version\":1,\"summary\":{},\"groups\":[],\"threads\":[{\"tid\":1}]}"; /* --threads json */
	r = parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	assert_non_null(strstr(r.err_msg, "--threads report"));
	t = "[]";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 0);
	/* nesting bomb: refused by the depth limit, not by the stack */
	size_t n = 100000;
	char *bomb = malloc(n * 5 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(bomb + i * 5, "{\"a\":", 5);
	bomb[n * 5] = '\0';
	r = parse_bad(bomb, n * 5, -CT_EBADDUMP, 1);
	assert_non_null(strstr(r.err_msg, "JSON"));
	free(bomb);
}

static void test_text_bad(void **state)
{
	const char *t = "Process 5 (x) /x — 1 threads\nThread 5 \"x\" S (sleeping)\n  #0  zz in f\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "ctrace frame"));
	t = "Process 5 (x) /x — 1 threads\nThread 5 \"x S (sleeping)\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 2);
	t = "Process 5 (x): 1 threads, 2 snapshots (from live)\n"; /* --threads text */
	r = parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	assert_non_null(strstr(r.err_msg, "--threads report"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_roundtrip),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_locks),
		cmocka_unit_test(test_json_bad),
		cmocka_unit_test(test_text_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
