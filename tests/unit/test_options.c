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
		{ "-p 1 -p 2 --backtraces", "only --profile and --top" },
		{ "--backtraces -p", "wants a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(&env, &err, cases[i].line);
		if (r != CT_EXIT_USAGE || !strstr(ct_buf_cstr(&err), cases[i].msg) || !one_line(&err))
			fail_msg("'%s': got %d '%s', want 64 with '%s' in one line", cases[i].line, r,
				 ct_buf_cstr(&err), cases[i].msg);
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
	assert_string_equal(ct_buf_cstr(&err), "-r wants a number from 1 to 10000 (Hz for --profile, 1 call in "
			    "N for --sites), got '0'");
	ct_buf_free(&err);
}

/* Every mode-specific option against every mode: accepted where the mode uses it, a usage error
 * naming the option where it would be ignored. Written out by hand from the man page, not from
 * the table in cli/options.c, so a slip in either shows. */
static const char *const modes[] = { "-p 9 --backtraces", "-p 9 --threads", "-p 9 --memory",
				     "-p 9 --memory --sites", "-p 9 --profile", "analyze x", "merge x", "-p 9 --top" };
/* bt th mem sites prof analyze merge top: 'y' accepted by the parser, '.' refused; help: where
 * MODE --help lists it, when that differs */
static const struct { const char *opt, *ok, *help; } cases[] = {
	{ "--timeout 2", "yyy.y..y" },
	{ "--stack-bytes 4096", "yy.yy..y" },
	{ "--unwinder fp", "yy.yy..y" },
	{ "--max-frames 9", "yy.yy..y" },
	{ "--debug-dir /x", "yyyyy..y" },
	{ "--no-inlines", "yy.yy..y" },
	{ "--no-demangle", "yy.yy..y" },
	{ "--debuginfod", "yy.yy..y" },
	{ "--always-stop", "yy..y..y" },
	{ "--snapshots 2", ".y......" },
	{ "--interval 10", ".y......" },
	{ "--fail-on stuck", ".y...y.." },
	{ "--idle poll", ".y...y.." },
	{ "--watch 1", "..y....." },
	{ "--top 5", "..yy...." },
	{ "--no-arenas", "..y....." },
	{ "--inject", "..y....." },
	{ "-d 1", "..yyy..y" },
	{ "-r 10", "...yy..y" },
	{ "--sampler ptrace", "....y..y" },
	{ "--mode cpu", "....y..y" },
	{ "--per-pid", "....y..." },
	{ "--children", "....y..y" },
	{ "--per-thread", "....y..." },
	/* the modes that refuse --tid say why themselves, after parsing */
	{ "--tid 9", "yyyyyy.y", "y.y.y..y" },
	/* --top shows a live view: no report to format or write */
	{ "-f json", "yyyyyyy." },
	{ "-o out", "yyyyyyy." },
	{ "-v", "yyyyyyyy" },
};

static void test_option_modes(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	char line[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			snprintf(line, sizeof(line), "%s %s", modes[m], cases[i].opt);
			int r = parse(&env, &err, line);
			char name[64];
			snprintf(name, sizeof(name), "%s", cases[i].opt);
			*strchrnul(name, ' ') = '\0';
			if (cases[i].ok[m] == 'y' && r != 0)
				fail_msg("'%s': refused (%s), want accepted", line, ct_buf_cstr(&err));
			/* "NAME is for MODES; MODE would ignore it: drop it (see ctrace MODE --help)" */
			const char *mode = strncmp(modes[m], "-p 9 ", 5) == 0 ? modes[m] + 5 : modes[m];
			char tail[96];
			snprintf(tail, sizeof(tail), "; %.*s would ignore it: drop it (see ctrace %.*s --help)",
				 (int)strcspn(mode, "x") - (mode[0] != '-'), mode,
				 (int)strcspn(mode, "x") - (mode[0] != '-'), mode);
			if (cases[i].ok[m] == '.' &&
			    (r != CT_EXIT_USAGE || strncmp(ct_buf_cstr(&err), name, strlen(name)) != 0 ||
			     strncmp(ct_buf_cstr(&err) + strlen(name), " is for ", 8) != 0 ||
			     !strstr(ct_buf_cstr(&err), tail) || !one_line(&err)))
				fail_msg("'%s': got %d '%s', want 64: '%s is for …%s'", line, r, ct_buf_cstr(&err),
					 name, tail);
		}
	}
	assert_int_equal(parse(&env, &err, "-p 9 --sites"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "--sites goes with --memory: ctrace -p PID --memory --sites");
	assert_int_equal(parse(&env, &err, "-p 9 --backtraces --sites"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "--sites goes with --memory: ctrace -p PID --memory --sites");
	assert_int_equal(parse(&env, &err, "-p 9 --threads --fail-on stuck -r 5"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "-r is for --memory --sites, --profile or --top; --threads would "
			    "ignore it: drop it (see ctrace --threads --help)");
	assert_int_equal(parse(&env, &err, "-p 1 --backtraces --snapshots 2"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "--snapshots is for --threads; --backtraces would ignore it: "
			    "drop it (see ctrace --backtraces --help)");
	assert_int_equal(parse(&env, &err, "-p 1 --memory --sites --inject"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "--inject is for --memory; --memory --sites would ignore it: "
			    "drop it (see ctrace --memory --sites --help)");
	assert_int_equal(parse(&env, &err, "merge --fail-on stuck x"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "--fail-on is for --threads or analyze; merge would ignore it: "
			    "drop it (see ctrace merge --help)");
	/* options of sub-modes and options several modes share, in the combinations the man page,
	 * README and tests use */
	static const char *const accepted[] = {
		"-p 9 --memory --sites -d 3 -r 10 --top 5 -f text -o x",
		"-p 9 --memory --sites --debuginfod --unwinder fp --max-frames 9 --stack-bytes 4096",
		"-p 9 --memory --watch 0.2 -d 30 --top 3 -f json",
		"-p 9 --memory --inject --tid 9 --timeout 2 --debug-dir /x",
		"-p 9 --children --per-pid --profile -d 30 -r 299 -v",
		"-p 9 -p 10 --per-pid --per-thread --profile --sampler ptrace --mode wall --always-stop",
		"-p 9 --tid 9 --profile --per-thread --stack-bytes 8192 --no-inlines --no-demangle",
		"-p 9 --threads --snapshots 2 --interval 20 --fail-on deadlock --idle poll --timeout 60",
		"-p 9 --backtraces --tid 9 --always-stop --unwinder libunwind --debug-dir /x",
		"-p 9 -p 10 --children --top -d 3 -r 199 --sampler ptrace --mode wall --always-stop -v",
		"-p 9 --tid 9 --top --stack-bytes 8192 --no-inlines --unwinder fp --timeout 2",
		"-p 9 --memory --top=4",
		"analyze --fail-on stuck --idle 'reader_*' -f json -o x y",
		"merge --format pprof -o x y z",
	};
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (parse(&env, &err, accepted[i]) != 0)
			fail_msg("'%s': refused (%s), want accepted", accepted[i], ct_buf_cstr(&err));
	ct_buf_free(&err);
}

/* MODE --help lists exactly the options MODE takes (and each once), with MODE's usage line. */
static void test_mode_help(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT, help = CT_BUF_INIT;
	char line[256], pat[64];
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		snprintf(line, sizeof(line), "%s --help", modes[m]);
		assert_int_equal(parse(&env, &err, line), 0);
		assert_int_equal(env.mode, CT_MODE_HELP);
		ct_buf_reset(&help);
		ct_cli_help(&env, &help);
		const char *h = ct_buf_cstr(&help);
		/* the usage block (up to the first blank line) is MODE's only */
		const char *mode = strncmp(modes[m], "-p 9 ", 5) == 0 ? modes[m] + 5 : modes[m];
		snprintf(pat, sizeof(pat), "%.*s", (int)strcspn(mode, "x") - (mode[0] != '-'), mode);
		const char *blank = strstr(h, "\n\n");
		const char *where = strstr(h, pat);
		if (strncmp(h, "Usage: ctrace ", 14) != 0 || !blank || !where || where > blank ||
		    (strcmp(pat, "--memory") == 0 && memmem(h, (size_t)(blank - h), "--sites", 7)) ||
		    memmem(h, (size_t)(blank - h), "--version", 9))
			fail_msg("'%s': the usage block is not %s's alone:\n%s", line, pat, h);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char name[32];
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(cases[i].opt, " "), cases[i].opt);
			if (name[1] == '-')
				snprintf(pat, sizeof(pat), "\n      %s ", name);
			else
				snprintf(pat, sizeof(pat), "\n  %s, ", name);
			bool want = (cases[i].help ? cases[i].help : cases[i].ok)[m] == 'y';
			const char *at = strstr(h, pat);
			/* --profile's -d, -r, -f, --tid and --stack-bytes are listed once, in Profile options */
			if (want != (at != NULL) || (at && strstr(at + 1, pat)))
				fail_msg("'%s': %s is listed %s, want %s:\n%s", line, name,
					 at ? (strstr(at + 1, pat) ? "twice" : "once") : "not at all", want ? "once" : "not at all", h);
		}
	}
	/* no mode, or two: the whole text */
	assert_int_equal(parse(&env, &err, "--help"), 0);
	ct_buf_reset(&help);
	ct_cli_help(&env, &help);
	assert_string_equal(ct_buf_cstr(&help), ct_usage_text);
	assert_int_equal(parse(&env, &err, "--help --threads --profile"), 0);
	ct_buf_reset(&help);
	ct_cli_help(&env, &help);
	assert_string_equal(ct_buf_cstr(&help), ct_usage_text);
	/* --help first, the mode after it */
	assert_int_equal(parse(&env, &err, "--help --memory --sites"), 0);
	ct_buf_reset(&help);
	ct_cli_help(&env, &help);
	assert_non_null(strstr(ct_buf_cstr(&help), "Usage: ctrace -p PID --memory --sites"));
	/* --top N is --memory's count, not the live view */
	assert_int_equal(parse(&env, &err, "-p 9 --memory --top 5 --help"), 0);
	ct_buf_reset(&help);
	ct_cli_help(&env, &help);
	assert_non_null(strstr(ct_buf_cstr(&help), "Usage: ctrace -p PID --memory [--watch"));
	ct_buf_free(&help);
	ct_buf_free(&err);
}

/* --top alone is the live view; --top N and --top=N are --memory's count, before or after --memory */
static void test_top(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	assert_int_equal(parse(&env, &err, "-p 9 --top"), 0);
	assert_int_equal(env.mode, CT_MODE_TOP);
	assert_int_equal(parse(&env, &err, "-p 9 --top -d 2 -p 10"), 0);
	assert_int_equal(env.mode, CT_MODE_TOP);
	assert_int_equal(env.npids, 2);
	assert_true(env.duration_s == 2);
	assert_int_equal(parse(&env, &err, "-p 9 --memory --top 5"), 0);
	assert_int_equal(env.mode, CT_MODE_MEMORY);
	assert_int_equal(env.mem_top, 5);
	assert_int_equal(parse(&env, &err, "--top 7 -p 9 --memory"), 0);
	assert_int_equal(env.mode, CT_MODE_MEMORY);
	assert_int_equal(env.mem_top, 7);
	assert_int_equal(parse(&env, &err, "-p 9 --memory --top=3"), 0);
	assert_int_equal(env.mem_top, 3);
	assert_int_equal(parse(&env, &err, "-p 9 --memory --top"), CT_EXIT_USAGE);
	assert_true(strncmp(ct_buf_cstr(&err), "--top wants a number with --memory", 34) == 0 && one_line(&err));
	assert_int_equal(parse(&env, &err, "-p 9 --top --profile"), CT_EXIT_USAGE);
	assert_non_null(strstr(ct_buf_cstr(&err), "choose one mode"));
	assert_int_equal(parse(&env, &err, "-p 9 --top -f json"), CT_EXIT_USAGE);
	assert_string_equal(ct_buf_cstr(&err), "-f is for --backtraces, --threads, --memory, --memory --sites, "
			    "--profile, analyze or merge; --top would ignore it: drop it (see ctrace --top --help)");
	ct_buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_defaults), cmocka_unit_test(test_errors),
					    cmocka_unit_test(test_sites), cmocka_unit_test(test_option_modes),
					    cmocka_unit_test(test_mode_help), cmocka_unit_test(test_top) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
