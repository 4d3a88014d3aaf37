/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --threads: N snapshots, lock owners, then the thread analysis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/threads.h"
#include "cli/cli.h"
#include "lib/error.h"
#include "session/snapshot.h"
#include "process/locks.h"
#include "process/target.h"
#include "lib/banned.h"


static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int snapshot_error(pid_t pid, int r)
{
	if (r == -ESRCH) {
		ct_error("process %d exited before it could be captured", (int)pid);
	} else if (r == -EPERM) {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot inspect process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
	} else {
		ct_error("capture of process %d failed: %s", (int)pid, ct_strerror(r));
	}
	return CT_EXIT_TARGET;
}

/* Takes env->snapshots snapshots into snaps[], filling lock owners in each. Returns how many were
 * taken (the process may exit part-way), or a negative exit code already reported. */
static long take_snapshots(struct ct_env *env, struct ct_inspector *in, struct ct_snapshot **snaps)
{
	pid_t pid = env->pids[0];
	struct ct_mutex_layout layout = { 0 };
	long n = 0;
	for (long i = 0; i < env->snapshots; i++) {
		if (i > 0)
			sleep_ms(env->interval_ms);
		int r = ct_inspector_snapshot(in, &snaps[n]);
		if (r == -ESRCH && n > 0) {
			ct_warn("process %d exited after %ld snapshot%s; analyzing those", (int)pid, n,
				n == 1 ? "" : "s");
			break;
		}
		if (r < 0) {
			ct_mutex_layout_clear(&layout);
			return -snapshot_error(pid, r);
		}
		r = ct_locks_fill(ct_inspector_dwfl(in), &layout, snaps[n]);
		n++;
		if (r < 0) {
			ct_mutex_layout_clear(&layout);
			ct_error("out of memory while reading lock owners");
			return -CT_EXIT_TARGET;
		}
	}
	if (layout.why)
		ct_warn("%s", layout.why);
	ct_mutex_layout_clear(&layout);
	for (const char *w; (w = ct_inspector_next_warning(in));)
		ct_warn("%s", w);
	return n;
}

int cmd_threads(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	int code = ct_cli_check_target(pid);
	if (code)
		return code;
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("--threads writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->tid) {
		ct_error("--threads looks at every thread (lock owners need them all); drop --tid");
		return CT_EXIT_USAGE;
	}
	struct ct_inspector *in = NULL;
	code = ct_cli_open_inspector(env, pid, &in);
	if (code)
		return code;
	int r;
	struct ct_snapshot **snaps = calloc((size_t)env->snapshots, sizeof(*snaps));
	if (!snaps) {
		ct_inspector_close(in);
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	long n = take_snapshots(env, in, snaps);
	struct ct_analysis *a = NULL;
	if (n > 0) {
		struct ct_analyze_opts ao = { .idle_patterns = env->idle_patterns,
					      .nidle_patterns = env->nidle_patterns };
		r = ct_analyze(snaps, (size_t)n, &ao, &a);
		if (r < 0) {
			ct_error("thread analysis failed: %s", ct_strerror(r));
			code = CT_EXIT_TARGET;
		}
	} else {
		code = (int)-n;
	}
	if (a) {
		code = ct_cli_write_analysis(env, a);
		if (code == CT_EXIT_OK && a->nthreads && a->class_count[CT_CLASS_GONE] == a->nthreads) {
			ct_error("process %d exited during capture", (int)pid);
			code = CT_EXIT_TARGET;
		}
		size_t failed = 0;
		for (size_t i = 0; i < a->nthreads; i++)
			if (a->threads[i].cls != CT_CLASS_GONE && a->threads[i].thread && a->threads[i].thread->error)
				failed++;
		if (code == CT_EXIT_OK &&
		    ((env->fail_on == CT_FAIL_DEADLOCK && ct_analysis_has_deadlock(a)) ||
		     (env->fail_on == CT_FAIL_STUCK && ct_analysis_has_stuck(a)))) {
			code = CT_EXIT_FOUND;
		} else if (code == CT_EXIT_OK && failed) {
			ct_error("%zu of %zu threads were not captured (see the report); the result is partial",
				 failed, a->nthreads);
			code = CT_EXIT_PARTIAL;
		}
	}
	ct_analysis_free(a);
	for (long i = 0; i < n; i++)
		ct_snapshot_free(snaps[i]);
	free(snaps);
	ct_inspector_close(in);
	ct_attach_release_pending();
	return code;
}
