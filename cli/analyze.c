/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace analyze FILE… | -: thread dumps from gdb, eu-stack, pstack, jstack, py-spy or ctrace,
 * read into snapshots and analyzed like a live --threads run. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/dumps/dumps.h"
#include "analyze/threads.h"
#include "cli/cli.h"
#include "lib/error.h"
#include "lib/banned.h"

struct snaps {
	struct ct_snapshot **v;
	size_t n, cap;
};

static void snaps_free(struct snaps *s)
{
	for (size_t i = 0; i < s->n; i++)
		ct_snapshot_free(s->v[i]);
	free(s->v);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads one FILE (or stdin for "-") and appends its snapshots. Returns an exit code. */
static int read_one(const struct ct_env *env, const char *name, struct snaps *all)
{
	bool is_stdin = strcmp(name, "-") == 0;
	const char *shown = is_stdin ? "standard input" : name;
	int fd = is_stdin ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ct_error("cannot open %s: %s", name, strerror(errno));
		return CT_EXIT_TARGET;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		ct_error("%s is a directory; give the dump file itself", name);
		if (!is_stdin)
			close(fd);
		return CT_EXIT_TARGET;
	}
	struct ct_dump_result res;
	uint64_t cpu0 = cpu_ns();
	int r = ct_dump_read_fd(fd, NULL, &res);
	uint64_t cpu = cpu_ns() - cpu0;
	if (!is_stdin)
		close(fd);
	if (r < 0) {
		const char *msg = res.err_msg[0] ? res.err_msg : ct_strerror(r);
		if (r == -CT_EBADDUMP && res.err_line)
			ct_error("%s:%zu: %s", shown, res.err_line, msg);
		else if (r == -CT_EBADDUMP || r == -EFBIG)
			ct_error("%s: %s", shown, msg);
		else
			ct_error("cannot read %s: %s", shown, msg);
		return CT_EXIT_TARGET;
	}
	if (res.truncated)
		ct_warn("%s ends in the middle of a line or document; analyzing what comes before it", shown);
	ct_verbose(env, "%s: %s dump, %zu snapshot%s, %zu lines, read in %.0f ms of CPU (%.0f MB/s)", shown,
		   ct_dump_format_name(res.format), res.nsnaps, res.nsnaps == 1 ? "" : "s", res.lines,
		   (double)cpu / 1e6, cpu ? (double)res.bytes / 1e6 / ((double)cpu / 1e9) : 0.0);
	size_t n;
	struct ct_snapshot **v = ct_dump_result_steal(&res, &n);
	if (ct_grow(&all->v, &all->cap, all->n + n, sizeof(*all->v)) < 0) {
		for (size_t i = 0; i < n; i++)
			ct_snapshot_free(v[i]);
		free(v);
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	memcpy(all->v + all->n, v, n * sizeof(*v));
	all->n += n;
	free(v);
	return CT_EXIT_OK;
}

int cmd_analyze(struct ct_env *env)
{
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("analyze writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->npids || env->tid) {
		ct_error("analyze reads saved dumps, not a live process: drop -p/--tid (or use --threads)");
		return CT_EXIT_USAGE;
	}
	if (!env->nargs) {
		ct_error("which dump? give one or more files, or - to read standard input");
		return CT_EXIT_USAGE;
	}
	size_t nstdin = 0;
	for (size_t i = 0; i < env->nargs; i++)
		nstdin += strcmp(env->args[i], "-") == 0;
	if (nstdin > 1) {
		ct_error("standard input (-) can be read only once");
		return CT_EXIT_USAGE;
	}
	struct snaps all = { 0 };
	int code = CT_EXIT_OK;
	for (size_t i = 0; i < env->nargs && code == CT_EXIT_OK; i++)
		code = read_one(env, env->args[i], &all);
	if (code != CT_EXIT_OK) {
		snaps_free(&all);
		return code;
	}
	for (size_t i = 1; i < all.n; i++) {
		pid_t a = all.v[0]->pid, b = all.v[i]->pid;
		if (a && b && a != b) {
			ct_warn("the dumps come from different processes (%d and %d); comparing them as "
				"snapshots of one", (int)a, (int)b);
			break;
		}
	}
	struct ct_analysis *a = NULL;
	struct ct_analyze_opts ao = { .idle_patterns = env->idle_patterns,
				      .nidle_patterns = env->nidle_patterns };
	int r = ct_analyze(all.v, all.n, &ao, &a);
	if (r < 0) {
		ct_error("thread analysis failed: %s", ct_strerror(r));
		snaps_free(&all);
		return CT_EXIT_TARGET;
	}
	code = ct_cli_write_analysis(env, a);
	if (code == CT_EXIT_OK &&
	    ((env->fail_on == CT_FAIL_DEADLOCK && ct_analysis_has_deadlock(a)) ||
	     (env->fail_on == CT_FAIL_STUCK && ct_analysis_has_stuck(a))))
		code = CT_EXIT_FOUND;
	ct_analysis_free(a);
	snaps_free(&all);
	return code;
}
