/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump reader: detection, caps, bad input (empty, binary, endless lines), stdin-like pipes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dump_helpers.h"

static const char eu[] = "PID 42 - process\nTID 42:\n#0  0x0000000000401000 main\nTID 43:\n"
			 "#0  0x0000000000401100 worker\n#1  0x0000000000401200 start\n";

static void test_empty(void **state)
{
	struct ct_dump_result r = parse_bad("", 0, -CT_EBADDUMP, 0);
	assert_non_null(strstr(r.err_msg, "empty"));
	r = parse_bad("\n  \n\t\n", 6, -CT_EBADDUMP, 0);
	assert_non_null(strstr(r.err_msg, "empty"));
}

static void test_not_a_dump(void **state)
{
	const char *t = "hello world\nthis is a README\n";
	struct ct_dump_result r = parse_bad(t, strlen(t), -CT_EBADDUMP, 1);
	assert_non_null(strstr(r.err_msg, "not a thread dump"));
}

static void test_binary(void **state)
{
	static const char bin[] = "PID 1 - process\nTID 1:\n#0  0x1 f\x00\x01\x02\n";
	struct ct_dump_result r = parse_bad(bin, sizeof(bin) - 1, -CT_EBADDUMP, 3);
	assert_non_null(strstr(r.err_msg, "binary"));
	/* an ELF file */
	const char elf[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\n";
	parse_bad(elf, sizeof(elf) - 1, -CT_EBADDUMP, 1);
}

static void test_long_line(void **state)
{
	/* 3 MiB without a newline after a valid start: refused at the 1 MiB cap, named by line */
	size_t n = 3u << 20;
	char *big = malloc(n);
	assert_non_null(big);
	memcpy(big, eu, sizeof(eu) - 1);
	memset(big + sizeof(eu) - 1, 'A', n - (sizeof(eu) - 1));
	struct ct_dump_result r = parse_bad(big, n, -CT_EBADDUMP, 7);
	assert_non_null(strstr(r.err_msg, "longer than"));
	free(big);
}

static void test_caps(void **state)
{
	struct ct_dump_limits lim;
	struct ct_dump_result r;
	ct_dump_limits_default(&lim);
	lim.max_threads = 1;
	assert_int_equal(ct_dump_parse_mem(eu, strlen(eu), &lim, &r), -CT_EBADDUMP);
	assert_int_equal(r.err_line, 4);
	ct_dump_limits_default(&lim);
	lim.max_bytes = 20;
	assert_int_equal(ct_dump_parse_mem(eu, strlen(eu), &lim, &r), -EFBIG);
	ct_dump_limits_default(&lim);
	lim.max_frames = 1; /* extra frames are dropped and the thread flagged, not an error */
	assert_int_equal(ct_dump_parse_mem(eu, strlen(eu), &lim, &r), 0);
	assert_int_equal(r.snaps[0]->threads[1].nframes, 1);
	assert_true(r.snaps[0]->threads[1].flags & CT_THREAD_TRUNCATED);
	ct_dump_result_free(&r);
	ct_dump_limits_default(&lim);
	lim.max_snapshots = 1;
	char two[512];
	snprintf(two, sizeof(two), "%s%s", eu, eu);
	assert_int_equal(ct_dump_parse_mem(two, strlen(two), &lim, &r), -CT_EBADDUMP);
	assert_int_equal(r.err_line, 7);
}

static void test_crlf_and_no_final_newline(void **state)
{
	const char *t = "PID 7 - process\r\nTID 7:\r\n#0  0x0000000000401000 main";
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(r.format, CT_DUMP_EUSTACK);
	assert_int_equal(r.nsnaps, 1);
	assert_int_equal(r.snaps[0]->pid, 7);
	assert_string_equal(r.snaps[0]->threads[0].frames[0].function, "main");
	ct_dump_result_free(&r);
}

static void test_cut_short(void **state)
{
	/* the last line is cut in the middle and does not parse: left out, the rest kept */
	const char *t = "PID 7 - process\nTID 7:\n#0  0x0000000000401000 main\nTID 8:\n#0  main";
	struct ct_dump_result r = parse_ok(t);
	assert_true(r.truncated);
	assert_int_equal(r.snaps[0]->nthreads, 2);
	ct_dump_result_free(&r);
	t = "PID 7 - process\nTID 7:\n#0  0x0000000000401000 main\nTID 8:\n#0  main\n";
	parse_bad(t, strlen(t), -CT_EBADDUMP, 5); /* with its newline it is a bad line */
	t = "{\"threads\":[{\"tid\":1}]}\n{\"threads\":[{\"ti";
	r = parse_ok(t);
	assert_true(r.truncated);
	assert_int_equal(r.nsnaps, 1);
	ct_dump_result_free(&r);
}

static void test_read_fd_pipe(void **state)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], eu, strlen(eu)), (ssize_t)strlen(eu));
	close(p[1]);
	struct ct_dump_result r;
	assert_int_equal(ct_dump_read_fd(p[0], NULL, &r), 0);
	close(p[0]);
	assert_int_equal(r.nsnaps, 1);
	assert_int_equal(r.snaps[0]->nthreads, 2);
	assert_string_equal(r.snaps[0]->source, "eu-stack");
	size_t n;
	struct ct_snapshot **s = ct_dump_result_steal(&r, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r.nsnaps, 0);
	ct_snapshot_free(s[0]);
	free(s);
}

static void test_detect_names(void **state)
{
	assert_string_equal(ct_dump_format_name(CT_DUMP_GDB), "gdb");
	assert_string_equal(ct_dump_format_name(CT_DUMP_JSTACK), "jstack");
	assert_string_equal(ct_dump_format_name((enum ct_dump_format)99), "unknown");
}

static void test_chunk_boundaries(void **state)
{
	/* lines longer than the reader's chunk cross buffer boundaries */
	size_t fn = 300000;
	size_t n = fn + 64;
	char *t = malloc(n);
	assert_non_null(t);
	int k = snprintf(t, n, "PID 9 - process\nTID 9:\n#0  0x0000000000401000 ");
	memset(t + k, 'f', fn);
	memcpy(t + k + fn, "\n", 2);
	struct ct_dump_result r = parse_ok(t);
	assert_int_equal(strlen(r.snaps[0]->threads[0].frames[0].function), fn);
	ct_dump_result_free(&r);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_not_a_dump),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_crlf_and_no_final_newline),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_read_fd_pipe),
		cmocka_unit_test(test_detect_names),
		cmocka_unit_test(test_chunk_boundaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
