/* Unit tests for the backtraces renderers, on a hand-built snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

static struct ct_snapshot *sample(void)
{
	struct ct_snapshot *s = ct_snapshot_new();
	assert_non_null(s);
	s->pid = 4242;
	s->comm = strdup("demo");
	s->exe = strdup("/usr/bin/demo");
	s->capture_ns = 2100000;
	s->max_stop_ns = 61200;
	struct ct_thread *t = ct_snapshot_add_thread(s);
	t->tid = 4243;
	t->name = strdup("lock \"a\"");
	t->state = 'S';
	t->syscall_nr = 202;
	t->syscall_args[0] = 0x5581e2c0a040;
	t->waiting_on = strdup("futex wait on 0x5581e2c0a040");
	struct ct_frame *f = ct_thread_add_frame(t);
	f->pc = 0x7f1c2a8f7d36;
	f->function = strdup("__futex_abstimed_wait_common64");
	f->offset = 0x106;
	f->module = strdup("/usr/lib/x86_64-linux-gnu/libc.so.6");
	f->file = strdup("./nptl/futex-internal.c");
	f->line = 57;
	f = ct_thread_add_frame(t);
	f->pc = 0x5581e2c07312;
	f->function = strdup("helper");
	f->inlined = true;
	f->module = strdup("/usr/bin/demo");
	f = ct_thread_add_frame(t);
	f->pc = 0x5581e2c07399;
	struct ct_thread *gone = ct_snapshot_add_thread(s);
	gone->tid = 4250;
	gone->name = strdup("brief");
	gone->flags = CT_THREAD_GONE;
	gone->error = strdup("thread exited during capture");
	return s;
}

static void test_text(void **state)
{
	(void)state;
	struct ct_snapshot *s = sample();
	struct ct_buf b = CT_BUF_INIT;
	ct_report_snapshot_text(s, &b);
	const char *t = ct_buf_cstr(&b);
	assert_non_null(strstr(t, "Process 4242 (demo) /usr/bin/demo — 2 threads, captured in 2.100 ms, "
				  "longest stop 0.061 ms, 1 exited meanwhile\n"));
	assert_non_null(strstr(t, "Thread 4243 \"lock \"a\"\" S (sleeping), in futex(): futex wait on 0x5581e2c0a040\n"));
	assert_non_null(strstr(t, "  #0  0x00007f1c2a8f7d36 in __futex_abstimed_wait_common64+0x106 (libc.so.6) "
				  "futex-internal.c:57\n"));
	assert_non_null(strstr(t, "  #1  0x00005581e2c07312 in helper [inlined] (demo)\n"));
	assert_non_null(strstr(t, "  #2  0x00005581e2c07399 in ??\n"));
	assert_non_null(strstr(t, "Thread 4250 \"brief\": thread exited during capture\n"));
	ct_buf_free(&b);
	ct_snapshot_free(s);
}

static void test_json(void **state)
{
	(void)state;
	struct ct_snapshot *s = sample();
	struct ct_buf b = CT_BUF_INIT;
	ct_report_snapshot_json(s, &b);
	const char *j = ct_buf_cstr(&b);
	assert_true(strncmp(j, "{\"version\":1,\"pid\":4242,\"process\":\"demo\"", 40) == 0);
	assert_non_null(strstr(j, "\"name\":\"lock \\\"a\\\"\""));
	assert_non_null(strstr(j, "\"syscall\":{\"nr\":202,\"name\":\"futex\",\"args\":[\"0x5581e2c0a040\",\"0x0\""));
	assert_non_null(strstr(j, "{\"pc\":\"0x7f1c2a8f7d36\",\"function\":\"__futex_abstimed_wait_common64\","
				  "\"offset\":262,\"module\":\"/usr/lib/x86_64-linux-gnu/libc.so.6\","
				  "\"file\":\"./nptl/futex-internal.c\",\"line\":57,\"inlined\":false"));
	assert_non_null(strstr(j, "\"function\":\"helper\",\"offset\":null"));
	assert_non_null(strstr(j, "{\"pc\":\"0x5581e2c07399\",\"function\":null,\"offset\":null,\"module\":null,"
				  "\"file\":null,\"line\":null"));
	assert_non_null(strstr(j, "\"gone\":true,\"frames\":[],\"truncated\":null,\"error\":\"thread exited during capture\""));
	assert_int_equal(j[b.len - 1], '\n');
	ct_buf_free(&b);
	ct_snapshot_free(s);
}

static void test_formats(void **state)
{
	(void)state;
	enum ct_format f;
	assert_int_equal(ct_format_parse("json", &f), 0);
	assert_int_equal(f, CT_FMT_JSON);
	assert_int_equal(ct_format_parse("default", &f), -1);
	assert_int_equal(ct_format_parse("JSON", &f), -1);
	assert_string_equal(ct_basename("/a/b/c.so"), "c.so");
	assert_string_equal(ct_basename("c.so"), "c.so");
	assert_string_equal(ct_basename("/a/"), "/a/");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_text), cmocka_unit_test(test_json),
					    cmocka_unit_test(test_formats) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
