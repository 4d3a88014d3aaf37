/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --threads: N snapshots, lock owners, then the thread analysis; --core CORE: the
 * one snapshot a core is, with the owners read from its memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/threads.h"
#include "cli/cli.h"
#include "lib/error.h"
#include "session/snapshot.h"
#include "process/target.h"
#include "lib/banned.h"


int cmd_threads(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	int code = env->core ? CT_EXIT_OK : ct_cli_check_target(pid);
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
	if ((code = ct_cli_check_output(env)))
		return code;
	struct ct_snapshot_opts so;
	ct_cli_snapshot_opts(env, &so);
	so.locks = true;
	so.snapshots = env->snapshots;
	so.interval_ms = env->interval_ms;
	struct ct_snapshot_session *ss = NULL;
	code = ct_cli_open_session(env, &so, &ss);
	if (code)
		return code;
	int r = ct_snapshot_session_run(ss);
	size_t n;
	struct ct_snapshot *const *snaps = ct_snapshot_session_snapshots(ss, &n);
	struct ct_analysis *a = NULL;
	if (r < 0 && ct_snapshot_session_locks_failed(ss)) {
		ct_error("out of memory while reading lock owners");
		code = CT_EXIT_TARGET;
	} else if (r < 0 && env->core) {
		ct_error("%s: %s", env->core, ct_strerror(r));
		code = CT_EXIT_TARGET;
	} else if (r < 0) {
		code = ct_cli_capture_error(pid, r);
	} else {
		if (ct_snapshot_session_exited(ss))
			ct_warn("process %d exited after %zu snapshot%s; analyzing those", (int)pid, n,
				n == 1 ? "" : "s");
		for (const char *w; (w = ct_snapshot_session_next_warning(ss));)
			ct_warn("%s", w);
		struct ct_analyze_opts ao = { .idle_patterns = env->idle_patterns,
					      .nidle_patterns = env->nidle_patterns };
		r = ct_analyze(snaps, n, &ao, &a);
		if (r < 0) {
			ct_error("thread analysis failed: %s", ct_strerror(r));
			code = CT_EXIT_TARGET;
		}
	}
	if (a) {
		code = ct_cli_write_analysis(env, a);
		if (code == CT_EXIT_OK && !env->core && a->nthreads &&
		    a->class_count[CT_CLASS_GONE] == a->nthreads) {
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
		if (code == CT_EXIT_OK)
			code = ct_cli_core_partial(env, ss);
	}
	ct_analysis_free(a);
	ct_snapshot_session_close(ss);
	return code;
}
