/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --memory: level 1 (/proc), the allocator, level 2 (glibc arenas), --watch; the
 * memory session reads, this command says what it found. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "report/memory.h"
#include "session/memory.h"
#include "session/snapshot.h"
#include "process/target.h"
#include "lib/banned.h"

static int l1_error(pid_t pid, int r)
{
	if (r == -ESRCH)
		ct_error("process %d exited before its memory could be read", (int)pid);
	else if (r == -EACCES || r == -EPERM) {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot read the memory maps of process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
	} else if (r == -EINVAL)
		ct_error("/proc/%d/smaps or status has a shape ctrace does not understand; please report it", (int)pid);
	else
		ct_error("cannot read the memory maps of process %d: %s", (int)pid, ct_strerror(r));
	return CT_EXIT_TARGET;
}

/* Opens the session; says why it could not be and returns an exit code, else CT_EXIT_OK. */
static int open_session(const struct ct_env *env, pid_t pid, struct ct_memory_session **ret)
{
	struct ct_memory_opts o = {
		.debug_dirs = env->debug_dirs,
		.no_arenas = env->no_arenas,
		.inject = env->inject,
		.inject_tid = env->tid,
		.inject_timeout_ns = (uint64_t)(env->timeout_s * 1e9),
	};
	if (env->core) {
		struct ct_snapshot_opts so; /* the core options --backtraces takes (CTRACE_CORE_MAX_MB) */
		ct_cli_snapshot_opts(env, &so);
		char *why = NULL;
		int r = ct_memory_session_open_core(env->core, &o, &so.core, env->exe, env->sysroot, ret, &why);
		if (r == 0)
			return CT_EXIT_OK;
		ct_error("%s: %s", env->core, why ? why : ct_strerror(r));
		free(why);
		return r == -ENOEXEC ? CT_EXIT_USAGE : CT_EXIT_TARGET;
	}
	enum ct_memory_open_error what = 0;
	int r = ct_memory_session_open(pid, &o, ret, &what);
	if (r == 0)
		return CT_EXIT_OK;
	if (what == CT_MEMORY_OPEN_PROC)
		return l1_error(pid, r);
	ct_error("out of memory");
	return CT_EXIT_TARGET;
}

/* -v: what open did. */
static void say_open(const struct ct_env *env, const struct ct_memory_session *ms)
{
	const struct ct_memory_open_stats *st = ct_memory_session_open_stats(ms);
	ct_verbose(env, "level 1 (/proc status, smaps_rollup, smaps: %zu mappings) read in %.1f ms", st->nmaps,
		   (double)st->proc_ns / 1e6);
	const struct ct_inject_stats *in = st->inject;
	if (in)
		ct_verbose(env, "--inject: %zu stop%s, %s in thread %d: %zu calls, thread stopped %.2f ms%s",
			   in->attempts, in->attempts == 1 ? "" : "s", in->function ? in->function : "?",
			   (int)in->tid, in->call.calls, (double)in->call.stop_ns / 1e6,
			   in->call.deferred_signals ? ", signals deferred" : "");
	ct_verbose(env, "allocator %s found%s in %.1f ms", ct_allocator_name(ct_memory_session_allocator(ms)->kind),
		   st->arenas ? ", and the layout of its malloc learnt," : "", (double)st->alloc_ns / 1e6);
}

static int one_report(struct ct_env *env, pid_t pid)
{
	struct ct_memory_session *ms = NULL;
	int code = open_session(env, pid, &ms);
	if (code)
		return code;
	say_open(env, ms);
	struct ct_mem_report rep;
	int r = ct_memory_session_report(ms, &rep);
	if (r < 0) {
		ct_memory_session_close(ms);
		return l1_error(pid, r);
	}
	rep.top = env->mem_top;
	const struct ct_glibc_stats *gs = rep.glibc;
	code = ct_memory_session_partial(ms) ? CT_EXIT_PARTIAL : CT_EXIT_OK;
	const char *note = ct_memory_session_note(ms);
	if (gs)
		ct_verbose(env, "%zu arenas walked in %.1f ms (%zu passes); malloc layout %s", gs->narenas,
			   (double)gs->walk_ns / 1e6, gs->tries,
			   gs->layout_cached ? "from ctrace's cache" : gs->debug_file ? gs->debug_file : "from DWARF");
	if (rep.python)
		ct_verbose(env, "Python %s: collector %s, pymalloc %s (%" PRIu64 " pools) in %.1f ms, no stop",
			   rep.python->version, rep.python->gc ? "read" : "not read",
			   rep.python->pymalloc ? "walked" : "not read", rep.python->pools_carved,
			   (double)rep.python->walk_ns / 1e6);
	struct ct_buf out = CT_BUF_INIT;
	if (env->format == CT_FMT_JSON)
		ct_report_memory_json(&rep, &out);
	else
		ct_report_memory_text(&rep, &out);
	int wcode;
	if (out.err) {
		ct_error("out of memory while writing the report");
		wcode = CT_EXIT_TARGET;
	} else {
		wcode = ct_cli_write_output(env, &out);
	}
	ct_buf_free(&out);
	/* the text report already says it; JSON, -o and a partial result get it on stderr too */
	bool quiet = env->format != CT_FMT_JSON && !env->output && code == CT_EXIT_OK;
	if (wcode == CT_EXIT_OK && note && !quiet)
		ct_warn("%s", note);
	if (wcode == CT_EXIT_OK && gs && gs->approximate) {
		ct_warn("malloc's free lists did not hold together while they were read (changing, or corrupt); "
			"the arena numbers are approximate");
		code = CT_EXIT_PARTIAL;
	}
	if (wcode != CT_EXIT_OK)
		code = wcode;
	ct_memory_session_close(ms);
	return code;
}

/* ---- --watch -------------------------------------------------------------------------------- */

/* Set by the SIGINT/SIGTERM/SIGHUP handler (ct_cli_catch_stop_hangup): the one piece of state a
 * signal handler needs; the session polls it. */
static volatile sig_atomic_t watch_stop;

/* Writes b to stdout now; nonzero when stdout is closed (a pipe to head): stop like Ctrl-C. */
static int put(const struct ct_buf *b)
{
	int closed = b->len && fwrite(b->data, 1, b->len, stdout) != b->len;
	fflush(stdout);
	return closed;
}

struct watch_out {
	bool json;
	size_t rows;
};

/* The session's row callback: the header before the first row (text), then each row as it comes. */
static int watch_row(void *arg, const struct ct_mem_sample *s, const struct ct_mem_growth *gr, size_t ngr)
{
	struct watch_out *w = arg;
	struct ct_buf out = CT_BUF_INIT;
	if (!w->json && w->rows++ == 0)
		ct_report_watch_header(&out);
	ct_report_watch_row(s, gr, ngr, w->json, &out);
	int closed = put(&out);
	ct_buf_free(&out);
	return closed;
}

static const char *watch_end_name(enum ct_memory_watch_end e)
{
	switch (e) {
	case CT_MEMORY_WATCH_DURATION: return "duration reached";
	case CT_MEMORY_WATCH_EXITED: return "the process exited";
	case CT_MEMORY_WATCH_UNREADABLE: return "the process could no longer be read";
	case CT_MEMORY_WATCH_INTERRUPTED: break;
	}
	return "interrupted";
}

static int watch(struct ct_env *env, pid_t pid)
{
	ct_cli_catch_stop_hangup(&watch_stop);
	struct ct_memory_session *ms = NULL;
	int code = open_session(env, pid, &ms);
	if (code)
		return code;
	const char *note = ct_memory_session_note(ms);
	if (note)
		ct_warn("%s", note);
	struct watch_out w = { env->format == CT_FMT_JSON, 0 };
	struct ct_memory_watch_opts o = { env->watch_s, env->duration_s, &watch_stop, watch_row, &w };
	struct ct_memory_watch_summary sum;
	int r = ct_memory_session_watch(ms, &o, &sum);
	if (r < 0) {
		ct_memory_session_close(ms);
		return l1_error(pid, r);
	}
	struct ct_buf out = CT_BUF_INIT;
	ct_report_watch_summary(sum.first, sum.last, sum.grew, sum.ngrew, sum.nsamples, watch_end_name(sum.ended),
				w.json, &out);
	put(&out);
	ct_buf_free(&out);
	ct_memory_session_close(ms);
	return CT_EXIT_OK;
}

int cmd_memory(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	if (env->sites)
		return cmd_memory_sites(env);
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("--memory writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->tid && !env->inject) {
		ct_error("--tid does not apply to --memory: memory belongs to the whole process (with --inject it "
			 "names the thread that runs the call)");
		return CT_EXIT_USAGE;
	}
	if (env->inject && env->watch_s > 0) {
		ct_error("--inject reads the allocator once; run it without --watch");
		return CT_EXIT_USAGE;
	}
	if (env->inject && env->no_arenas) {
		ct_error("--inject and --no-arenas contradict each other: choose one");
		return CT_EXIT_USAGE;
	}
	if (env->duration_s > 0 && env->watch_s <= 0) {
		ct_error("-d goes with --watch SECS (how long to watch)");
		return CT_EXIT_USAGE;
	}
	if (env->watch_s > 0 && env->output) {
		ct_error("--watch writes rows as they come to standard output; redirect it instead of -o");
		return CT_EXIT_USAGE;
	}
	int code = env->core ? CT_EXIT_OK : ct_cli_check_target(pid);
	if (!code)
		code = ct_cli_check_output(env);
	if (code)
		return code;
	if (env->watch_s > 0)
		return watch(env, pid);
	return one_report(env, pid);
}
