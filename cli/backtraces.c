/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "session/snapshot.h"
#include "process/target.h"
#include "lib/procfs.h"
#include "lib/banned.h"

/* ctrace's own time before cmd_backtraces, since the process began (its schedstat; 0 when
 * unknown): on a CPU (exec, the dynamic linker, main) and runnable but waiting for one, which is
 * most of it on a busy machine. */
struct startup {
	uint64_t run_ns, wait_ns;
};

static struct startup startup_times(void)
{
	char *text = NULL;
	struct ct_proc_schedstat ss;
	struct startup st = { 0, 0 };
	if (ct_proc_read(getpid(), 0, "schedstat", 256, &text) == 0 && ct_parse_proc_schedstat(text, &ss) == 0)
		st = (struct startup){ ss.run_ns, ss.wait_ns };
	free(text);
	return st;
}

static void say_times(const struct ct_env *env, struct ct_snapshot_session *ss, struct startup startup,
		      uint64_t output)
{
	struct ct_snapshot_times t;
	ct_snapshot_session_times(ss, &t);
	ct_verbose(env, "time: start-up %.1f ms (%.1f on a CPU, %.1f waiting for one), modules listed %.1f ms, "
		   "interpreter looked for %.1f ms, capture %.1f ms, /proc facts %.1f ms",
		   (double)(startup.run_ns + startup.wait_ns) / 1e6, (double)startup.run_ns / 1e6,
		   (double)startup.wait_ns / 1e6, (double)t.modules_ns / 1e6, (double)t.interp_open_ns / 1e6,
		   (double)t.capture_ns / 1e6, (double)t.facts_ns / 1e6);
	ct_verbose(env, "time: unwinding %.1f ms, symbolization %.1f ms, interpreter frames %.1f ms, locks %.1f ms, "
		   "output %.1f ms", (double)t.unwind_ns / 1e6, (double)t.symbolize_ns / 1e6,
		   (double)t.interp_ns / 1e6, (double)t.locks_ns / 1e6, (double)output / 1e6);
	ct_verbose(env, "modules: %" PRIu64 " listed, %" PRIu64 " files opened, %" PRIu64 " debug files looked for "
		   "(%.1f ms, within the times above); %" PRIu64 " pcs looked up, %" PRIu64 " already named; "
		   "%" PRIu64 " files' frames from the cache (%" PRIu64 " pcs)",
		   t.sym.modules, t.sym.elf_opened, t.sym.debug_looked, (double)t.sym.open_ns / 1e6, t.sym.lookups,
		   t.sym.shared_hits, t.sym.store_files, t.sym.store_entries);
}


void ct_cli_snapshot_opts(const struct ct_env *env, struct ct_snapshot_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->attach.stack_bytes = env->stack_bytes;
	o->attach.timeout_ns = (uint64_t)(env->timeout_s * 1e9);
	o->attach.passive = !env->always_stop;
	o->unwinder = env->unwinder;
	o->max_frames = env->max_frames;
	o->sym.debug_dirs = env->debug_dirs;
	o->sym.no_inlines = env->no_inlines;
	o->no_interp = env->no_interp;
	/* the wait channel is in --backtraces' JSON only (--threads' reports do not show it) */
	o->attach.read_wchan = env->mode == CT_MODE_BACKTRACES && env->format == CT_FMT_JSON;
	o->attach.sample_running = !env->always_stop && !env->core;
	o->attach.kernel_regs = !env->always_stop && !env->no_bpf && !env->core;
	o->sym.no_demangle = env->no_demangle;
	o->sym.debuginfod = env->debuginfod; /* with DEBUGINFOD_URLS set too: main() */
	o->sym.debuginfod_timeout_ms = (unsigned)(env->timeout_s * 1000);
	o->only_tid = env->tid;
	o->snapshots = 1;
	o->exe = env->exe;
	o->sysroot = env->sysroot;
	const char *cap = getenv("CTRACE_CORE_MAX_MB"); /* how large a compressed core may inflate */
	long mb;
	if (cap && ct_parse_long(cap, 1, 1L << 30, &mb) == 0)
		o->core.max_bytes = (uint64_t)mb << 20;
}

int ct_cli_open_session(const struct ct_env *env, const struct ct_snapshot_opts *o,
			struct ct_snapshot_session **ret)
{
	if (env->core)
		return ct_cli_open_core_session(env, o, ret);
	return ct_cli_open_snapshot_session(env->pids[0], o, ret);
}

int ct_cli_core_partial(const struct ct_env *env, struct ct_snapshot_session *ss)
{
	if (!env->core || !ct_snapshot_session_missing(ss))
		return CT_EXIT_OK;
	ct_error("%s is truncated; the result is partial (see the warning above)", env->core);
	return CT_EXIT_PARTIAL;
}

int cmd_backtraces(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	uint64_t t0 = ct_now_ns();
	struct startup startup = env->verbose ? startup_times() : (struct startup){ 0, 0 };
	int code = env->core ? CT_EXIT_OK : ct_cli_check_target(pid);
	if (code)
		return code;
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("--backtraces writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->tid && !env->core) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)env->tid);
		if (access(path, F_OK) < 0) {
			ct_error("process %d has no thread %d (list them with 'ls /proc/%d/task')", (int)pid,
				 (int)env->tid, (int)pid);
			return CT_EXIT_TARGET;
		}
	}

	if ((code = ct_cli_check_output(env)))
		return code;
	struct ct_snapshot_opts so;
	ct_cli_snapshot_opts(env, &so);
	struct ct_snapshot_session *ss = NULL;
	code = ct_cli_open_session(env, &so, &ss);
	if (code)
		return code;
	struct ct_snapshot *s = NULL;
	int r = ct_snapshot_session_take(ss, &s);
	if (r < 0) {
		ct_snapshot_session_close(ss);
		if (env->core) {
			ct_error("%s: %s", env->core, ct_strerror(r));
			return CT_EXIT_TARGET;
		}
		return ct_cli_capture_error(pid, r);
	}
	if (env->core && env->tid && s->nthreads == 0) {
		ct_error("%s has no thread %d", env->core, (int)env->tid);
		ct_snapshot_session_close(ss);
		return CT_EXIT_TARGET;
	}
	for (const char *w; (w = ct_snapshot_session_next_warning(ss));)
		ct_warn("%s", w);
	s->wall_ns = ct_now_ns() - t0;
	ct_verbose(env, "captured %zu threads in %.3f ms (longest stop %.3f ms); whole run %.3f ms",
		   s->nthreads, (double)s->capture_ns / 1e6, (double)s->max_stop_ns / 1e6,
		   (double)s->wall_ns / 1e6);
	if (s->boost[0])
		ct_verbose(env, "ctrace's priority while capturing: %s", s->boost);
	if (s->kregs[0])
		ct_verbose(env, "threads off a CPU: %s", s->kregs);
	if (s->oncpu[0])
		ct_verbose(env, "threads on a CPU: %s", s->oncpu);

	struct ct_py_stats ps;
	const char *pyv = ct_snapshot_session_python(ss, &ps);
	if (pyv)
		ct_verbose(env, "Python %s: %" PRIu64 " frames (%" PRIu64 " unreadable); %" PRIu64 " chains copied "
			   "while stopped, %.1f us each on average, %.1f us at most, %" PRIu64 " reads; threads "
			   "merged: %" PRIu64 " exactly, %" PRIu64 " by counting, %" PRIu64 " kept apart",
			   pyv, ps.frames, ps.unreadable, ps.copies,
			   ps.copies ? (double)ps.copy_ns_total / (double)ps.copies / 1e3 : 0.0,
			   (double)ps.copy_ns_max / 1e3, ps.reads_while_stopped, ps.threads_exact,
			   ps.threads_counted, ps.threads_apart);
	struct ct_rb_stats rs;
	const char *rbv = ct_snapshot_session_ruby(ss, &rs);
	if (rbv)
		ct_verbose(env, "Ruby %s: %" PRIu64 " frames (%" PRIu64 " unreadable); %" PRIu64 " control-frame "
			   "copies while stopped, %.1f us each on average, %.1f us at most",
			   rbv, rs.frames, rs.unreadable, rs.copies,
			   rs.copies ? (double)rs.copy_ns_total / (double)rs.copies / 1e3 : 0.0,
			   (double)rs.copy_ns_max / 1e3);
	size_t gone = 0, failed = 0, eperm = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct ct_thread *t = &s->threads[i];
		if (t->flags & CT_THREAD_GONE)
			gone++;
		else if (t->error)
			failed++;
		if (t->error && strstr(t->error, "not permitted"))
			eperm++;
	}
	struct ct_buf out = CT_BUF_INIT;
	uint64_t t_out = ct_now_ns();
	if (env->format == CT_FMT_JSON)
		ct_report_snapshot_json(s, &out);
	else
		ct_report_snapshot_text(s, &out);
	code = ct_cli_write_output(env, &out);
	ct_buf_free(&out);
	if (env->verbose)
		say_times(env, ss, startup, ct_now_ns() - t_out);

	if (code == CT_EXIT_OK) {
		if (gone == s->nthreads && !env->core) {
			ct_error("process %d exited during capture", (int)pid);
			code = CT_EXIT_TARGET;
		} else if (eperm == s->nthreads && !env->core) {
			char *why = ct_target_explain_eperm(pid);
			ct_error("cannot inspect process %d: %s", (int)pid, why ? why : "permission denied");
			free(why);
			code = CT_EXIT_TARGET;
		} else if (failed) {
			ct_error("%zu of %zu threads were not captured (see the report); the result is partial",
				 failed, s->nthreads);
			code = CT_EXIT_PARTIAL;
		}
		if (code == CT_EXIT_OK)
			code = ct_cli_core_partial(env, ss);
	}
	ct_snapshot_session_close(ss);
	return code;
}
