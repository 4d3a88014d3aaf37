/* Unit tests for option parsing: defaults, every value check, and conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>

#include "cli/cli.h"
#include "tests/unit/cli_helpers.h"

static void test_defaults(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	assert_int_equal(parse(&env, &err, "-p 42 --backtraces"), 0);
	assert_int_equal(env.mode, CT_MODE_BACKTRACES);
	assert_int_equal(env.npids, 1);
	assert_int_equal(env.pids[0], 42);
	assert_int_equal(env.stack_bytes, 65536);
	assert_int_equal(env.max_frames, 256);
	assert_true(env.timeout_s == 5.0);
	assert_int_equal(env.unwinder, CT_UNWIND_LIBDW);
	assert_int_equal(parse(&env, &err, "--backtraces --pid 7 --format json --unwinder fp --timeout 0.5 "
					   "--stack-bytes 4096 --max-frames 9 --no-inlines --always-stop -o x"), 0);
	assert_int_equal(env.format, CT_FMT_JSON);
	assert_int_equal(env.unwinder, CT_UNWIND_FP);
	assert_true(env.timeout_s == 0.5);
	assert_int_equal(env.stack_bytes, 4096);
	assert_int_equal(env.max_frames, 9);
	assert_true(env.no_inlines && env.always_stop);
	assert_string_equal(env.output, "x");
	ct_buf_free(&err);
}

static void test_errors(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	static const struct { const char *line, *msg; } cases[] = {
		{ "-p 1", "say what to do" },
		{ "--backtraces", "which process" },
		{ "-p abc --backtraces", "wants a process ID" },
		{ "-p 0 --backtraces", "not a valid process ID" },
		{ "-p 1 --backtraces --format yaml", "unknown format" },
		{ "-p 1 --backtraces --unwinder x", "unknown unwinder" },
		{ "-p 1 --backtraces --timeout 0", "--timeout wants" },
		{ "-p 1 --backtraces --max-frames -3", "--max-frames wants" },
		{ "-p 1 --backtraces --bogus", "unknown option '--bogus'" },
		{ "-p 1 --backtraces stray", "unexpected argument" },
		{ "-p 1 -p 2 --backtraces", "only --profile" },
		{ "--backtraces -p", "wants a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(&env, &err, cases[i].line);
		if (r != CT_EXIT_USAGE || !strstr(ct_buf_cstr(&err), cases[i].msg))
			fail_msg("'%s': got %d '%s', want 64 with '%s'", cases[i].line, r, ct_buf_cstr(&err),
				 cases[i].msg);
	}
	assert_int_equal(parse(&env, &err, "--help"), 0);
	assert_int_equal(env.mode, CT_MODE_HELP);
	assert_int_equal(parse(&env, &err, "-V"), 0);
	assert_int_equal(env.mode, CT_MODE_VERSION);
	ct_buf_free(&err);
}

static void test_sites(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	assert_int_equal(parse(&env, &err, "-p 42 --memory --sites -d 2"), 0);
	assert_int_equal(env.mode, CT_MODE_MEMORY);
	assert_true(env.sites);
	assert_false(env.rate_given); /* --sites then samples every call */
	assert_true(env.duration_s == 2.0);
	assert_int_equal(parse(&env, &err, "-p 42 --memory --sites -r 101"), 0);
	assert_true(env.rate_given);
	assert_int_equal(env.rate_hz, 101);
	assert_int_equal(parse(&env, &err, "-p 42 --memory --sites -r 0"), CT_EXIT_USAGE);
	assert_non_null(strstr(ct_buf_cstr(&err), "1 call in N for --sites"));
	ct_buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_defaults), cmocka_unit_test(test_errors),
					    cmocka_unit_test(test_sites) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
