/* Unit tests for the backtraces renderers, on a hand-built snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>

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

/* The frame line is formatted by hand: the same as the printf formats it replaced, for every kind
 * of frame (an index past 9 and past 99, no function, offsets, inlined, jit, deleted, no line). */
static void printf_frame(char *buf, size_t n, size_t index, const struct ct_frame *f)
{
	size_t at = (size_t)snprintf(buf, n, "  #%-2zu 0x%016" PRIx64 " in ", index, f->pc);
	if (f->function) {
		at += (size_t)snprintf(buf + at, n - at, "%s", f->function);
		if (!f->inlined && f->offset)
			at += (size_t)snprintf(buf + at, n - at, "+0x%" PRIx64, f->offset);
	} else {
		at += (size_t)snprintf(buf + at, n - at, "??");
	}
	if (f->inlined)
		at += (size_t)snprintf(buf + at, n - at, " [inlined]");
	if (f->jit)
		at += (size_t)snprintf(buf + at, n - at, " [jit]");
	if (f->module) {
		const char *slash = strrchr(f->module, '/');
		at += (size_t)snprintf(buf + at, n - at, " (%s%s)", slash && slash[1] ? slash + 1 : f->module,
				       f->deleted ? " (deleted)" : "");
	}
	if (f->file) {
		const char *slash = strrchr(f->file, '/');
		at += (size_t)snprintf(buf + at, n - at, " %s", slash && slash[1] ? slash + 1 : f->file);
		if (f->line > 0)
			at += (size_t)snprintf(buf + at, n - at, ":%d", f->line);
	}
	snprintf(buf + at, n - at, "\n");
}

static void test_frame_line(void **state)
{
	(void)state;
	char longname[700]; /* past the line's own buffer: the fallback through ct_buf */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char *fn[] = { NULL, "main", "std::vector<int>::push_back(int const&)", longname };
	char *mod[] = { NULL, "/usr/lib/x86_64-linux-gnu/libc.so.6", "[vdso]", "plain" };
	char *file[] = { NULL, "/build/src/poll.c", "x.c" };
	const uint64_t pcs[] = { 0, 0x1, 0x7f1c2a8f7d36, UINT64_MAX };
	const uint64_t offs[] = { 0, 0xa, 0x123456789abcdef0ull };
	const size_t idx[] = { 0, 9, 10, 99, 100, 12345 };
	size_t n = 0;
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++)
			for (size_t c = 0; c < 3; c++)
				for (size_t d = 0; d < 4; d++)
					for (size_t e = 0; e < 3; e++)
						for (unsigned bits = 0; bits < 16; bits++) {
							struct ct_frame f = { .pc = pcs[d], .function = fn[a],
									      .offset = offs[e], .module = mod[b],
									      .file = file[c] };
							f.inlined = bits & 1;
							f.jit = bits & 2;
							f.deleted = bits & 4;
							f.line = bits & 8 ? 0 : (int)(bits * 1000 + 7);
							size_t i = idx[(a + b + c + d + e + bits) % 6];
							char want[1024];
							printf_frame(want, sizeof(want), i, &f);
							struct ct_buf out = CT_BUF_INIT;
							ct_text_frame(&out, i, &f);
							assert_string_equal(ct_buf_cstr(&out), want);
							ct_buf_free(&out);
							n++;
						}
	assert_int_equal(n, 4 * 4 * 3 * 4 * 3 * 16);
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
					    cmocka_unit_test(test_formats),
					    cmocka_unit_test(test_frame_line) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
