/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --profile: a profile session (session/profile.h) sampled until Ctrl-C, SIGTERM, -d
 * or the target's exit, then the whole profile written at once. This file shows the progress line
 * and the session's messages while it runs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/procfs.h"
#include "report/profile.h"
#include "session/profile.h"
#include "lib/banned.h"

#define PROFILE_STACK_DEFAULT (16 * 1024)

/* Set by the SIGINT/SIGTERM handler (ct_cli_catch_stop): the one piece of state a signal handler
 * needs; the session polls it. */
static volatile sig_atomic_t stop_signal;

/* The progress line: on a terminal one updating stderr line; with -v elsewhere a line every 5 s. */
struct progress {
	const struct ct_env *env;
	bool tty, shown, behind_said, lost_said;
	uint64_t next_ns;
};

static void say_messages(struct progress *pg, struct ct_profile_session *ps)
{
	enum ct_msg_level level;
	for (const char *m; (m = ct_profile_session_next_message(ps, &level));) {
		if (pg->tty && pg->shown && (level == CT_MSG_WARN || pg->env->verbose))
			fputs("\r\033[K", stderr);
		if (level == CT_MSG_WARN)
			ct_warn("%s", m);
		else
			ct_verbose(pg->env, "%s", m);
	}
}

static void progress_tick(void *arg, struct ct_profile_session *ps)
{
	struct progress *pg = arg;
	say_messages(pg, ps);
	struct ct_profile_session_stats st;
	ct_profile_session_stats(ps, &st);
	uint64_t now = ct_now_ns();
	if (st.lost && !pg->lost_said) {
		/* the kernel dropped samples (PERF_RECORD_LOST): said at once, whatever the verbosity */
		pg->lost_said = true;
		fprintf(stderr, "%sctrace: warning: losing samples: the kernel dropped %" PRIu64 " (ring "
			"buffers full: ctrace gets too little CPU to read them; lower -r or --stack-bytes, or "
			"run ctrace with a higher priority)\n", pg->tty && pg->shown ? "\r\033[K" : "", st.lost);
	}
	if ((!pg->tty && !pg->env->verbose) || now < pg->next_ns)
		return;
	pg->next_ns = now + (pg->tty ? 500000000ull : 5000000000ull);
	double secs = (double)st.elapsed_ns / 1e9;
	fprintf(stderr, "%sctrace: %.0f s, %" PRIu64 " samples (%.0f/s), %" PRIu64 " lost%s",
		pg->tty ? "\r" : "", secs, st.samples, secs > 0 ? (double)st.samples / secs : 0.0, st.lost,
		pg->tty ? "\033[K" : "\n");
	fflush(stderr);
	pg->shown = true;
	if (!pg->behind_said && secs >= 5 && st.expected >= 50 && st.samples * 10 < st.expected * 9) {
		/* said once, like py-spy's "behind in sampling" */
		pg->behind_said = true;
		fprintf(stderr, "%sctrace: warning: behind in sampling: %" PRIu64 " samples for about %" PRIu64
			" expected from the CPU time; the profile is still representative if the loss "
			"is even\n", pg->tty ? "\r\033[K" : "", st.samples, st.expected);
	}
}

static void progress_end(struct progress *pg)
{
	if (pg->tty && pg->shown)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* The options --profile and --top refuse together. Returns an exit code. */
static int check_profile_options(const struct ct_env *env)
{
	if (env->mode_wall && env->sampler == CT_SAMPLER_PERF) {
		ct_error("--mode wall needs --sampler ptrace: perf's cpu-clock sees only threads on a CPU");
		return CT_EXIT_USAGE;
	}
	if (env->tid && (env->npids > 1 || env->children)) {
		ct_error("--tid profiles one thread of one process; drop the other -p and --children");
		return CT_EXIT_USAGE;
	}
	if (env->tid) {
		char *text = NULL;
		int r = ct_proc_read(env->pids[0], env->tid, "stat", 4096, &text);
		free(text);
		if (r < 0) {
			ct_error("process %d has no thread %d (its threads are in /proc/%d/task)", (int)env->pids[0],
				 (int)env->tid, (int)env->pids[0]);
			return CT_EXIT_TARGET;
		}
	}
	return CT_EXIT_OK;
}

int ct_cli_profile_open_error(const struct ct_env *env, int r, enum ct_profile_open_error what, pid_t pid)
{
	switch (what) {
	case CT_PROFILE_OPEN_GONE:
		if (env->tid)
			ct_error("thread %d of process %d exited before the first sample", (int)env->tid, (int)pid);
		else
			ct_error("process %d exited before the first sample", (int)pid);
		break;
	case CT_PROFILE_OPEN_PERF:
		ct_error("cannot sample process %d with perf_event_open: %s (lower "
			 "/proc/sys/kernel/perf_event_paranoid, or use --sampler ptrace)", (int)env->pids[0],
			 ct_strerror(r));
		break;
	case CT_PROFILE_OPEN_MAPS:
		ct_error("cannot read the memory map of process %d: %s", (int)pid, ct_strerror(r));
		break;
	default: /* the session itself could not be set up */
		ct_error("out of memory");
		break;
	}
	return CT_EXIT_TARGET;
}

static int write_profile(const struct ct_env *env, enum ct_format fmt, struct ct_profile_session *ps,
			 const struct ct_profile_session_stats *st)
{
	char title[256];
	snprintf(title, sizeof(title), "ctrace profile of %s (%d)%s", ct_profile_session_first_comm(ps),
		 (int)ct_profile_session_first_pid(ps), st->sources > 1 ? " and others" : "");
	struct ct_profile_meta m = { title, st->sampler, (unsigned)env->rate_hz, env->mode_wall ? 0 : st->expected };
	struct ct_buf out = CT_BUF_INIT;
	int code;
	if (ct_report_profile(fmt, ct_profile_session_profile(ps), &m, &out) < 0 || out.err) {
		ct_error("out of memory while writing the profile");
		code = CT_EXIT_TARGET;
	} else {
		code = ct_cli_write_output(env, &out);
	}
	ct_buf_free(&out);
	return code;
}

int ct_cli_profile_prepare(struct ct_env *env)
{
	if (!env->stack_bytes_given)
		env->stack_bytes = PROFILE_STACK_DEFAULT;
	for (size_t i = 0; i < env->npids; i++) {
		int code = ct_cli_check_target(env->pids[i]);
		if (code)
			return code;
	}
	return check_profile_options(env);
}

void ct_cli_profile_session_opts(const struct ct_env *env, struct ct_profile_session_opts *o)
{
	*o = (struct ct_profile_session_opts){
		.pids = env->pids, .npids = env->npids, .tid = env->tid, .children = env->children,
		.per_pid = env->per_pid, .per_thread = env->per_thread,
		.wall = env->mode_wall, .sampler = env->sampler, .rate_hz = env->rate_hz,
		.stack_bytes = env->stack_bytes, .timeout_ns = (uint64_t)(env->timeout_s * 1e9),
		.passive = !env->always_stop,
		.prof = { env->unwinder, env->max_frames,
			  { env->debug_dirs, env->no_inlines, env->no_demangle, env->debuginfod, 0 },
			  env->no_interp, env->no_lines },
		.duration_s = env->duration_s, .verbose = env->verbose > 0,
	};
}

int cmd_profile(struct ct_env *env)
{
	enum ct_format fmt = env->format;
	if (fmt == CT_FMT_DEFAULT)
		fmt = !env->output && isatty(STDOUT_FILENO) ? CT_FMT_TEXT : CT_FMT_FOLDED;
	int code = ct_cli_profile_prepare(env);
	if (!code)
		code = ct_cli_check_output(env);
	if (code)
		return code;

	ct_cli_catch_stop(&stop_signal);
	struct progress pg = { env, isatty(STDERR_FILENO), false, false, false, 0 };
	struct ct_profile_session_opts o;
	ct_cli_profile_session_opts(env, &o);
	o.labels = fmt == CT_FMT_PPROF;
	o.stop = &stop_signal;
	o.tick = progress_tick;
	o.tick_arg = &pg;
	struct ct_profile_session *ps = NULL;
	enum ct_profile_open_error what = 0;
	pid_t failed = 0;
	int r = ct_profile_session_open(&o, &ps, &what, &failed);
	if (ps)
		say_messages(&pg, ps);
	if (r < 0) {
		code = ct_cli_profile_open_error(env, r, what, failed);
		if (ps) {
			/* what the processes opened so far had to say, after the error (as ever) */
			ct_profile_session_finish(ps);
			say_messages(&pg, ps);
		}
		ct_profile_session_close(ps);
		return code;
	}
	struct ct_profile_session_stats st;
	ct_profile_session_stats(ps, &st);
	ct_verbose(env, "sampling %zu process(es) at %ld Hz with the %s sampler (started in %.2f s)", st.sources,
		   env->rate_hz, st.sampler, (double)st.open_ns / 1e9);
	if (strcmp(st.sampler, "perf") == 0)
		ct_verbose(env, "perf: %zu threads, %zu rings of %zu KiB (one per CPU)", st.perf_threads,
			   st.perf_cpus, st.perf_ring_bytes / 1024);
	pg.next_ns = st.start_ns + 1000000000ull;
	r = ct_profile_session_run(ps);
	if (r < 0) {
		ct_error("sampling failed: %s", ct_strerror(r));
		code = CT_EXIT_TARGET;
	}
	progress_end(&pg);
	if (stop_signal)
		ct_verbose(env, "stopped by signal %d; writing the profile", (int)stop_signal);
	ct_profile_session_finish(ps);
	say_messages(&pg, ps);
	ct_profile_session_stats(ps, &st);
	const struct ct_profile *prof = ct_profile_session_profile(ps);
	if (code == CT_EXIT_OK) {
		code = write_profile(env, fmt, ps, &st);
		ct_verbose(env, "%" PRIu64 " samples in %.1f s (about %" PRIu64 " expected from the CPU time), "
			   "%" PRIu64 " lost, %" PRIu64 " truncated stacks, %zu stacks, %zu frames, %zu processes",
			   prof->total, (double)prof->duration_ns / 1e9, st.expected, st.lost, st.truncated,
			   prof->nstacks, prof->nframes, st.sources);
		if (st.python) {
			uint64_t kept = st.py_samples - st.py_merged;
			double pct = st.py_samples ? 100.0 * (double)kept / (double)st.py_samples : 0.0;
			bool rb = strcmp(st.interp_lang, "Ruby") == 0;
			const char *loop = rb ? "rb_vm_exec" : "the eval loop", *frames = rb ? "control frames" : "chain";
			char how[80] = ""; /* Python: matched exactly from 3.11; Ruby: always by counting */
			if (!rb)
				snprintf(how, sizeof(how), " (%" PRIu64 " matched exactly, %" PRIu64 " by counting)",
					 st.py_exact, st.py_merged - st.py_exact);
			ct_verbose(env, "%s %s: %" PRIu64 " samples in %s, %" PRIu64 " with their %s frames%s, %" PRIu64
				   " native only (%.1f%%: %" PRIu64 " moved on before the %s was read, %" PRIu64 " counts "
				   "disagreed, %" PRIu64 " no %s or unreadable)", st.interp_lang, st.python, st.py_samples,
				   loop, st.py_merged, st.interp_lang, how, kept, pct, st.py_moved, frames, st.py_mismatch,
				   st.py_other, frames);
			if (st.py_samples >= 50 && kept * 10 > st.py_samples)
				ct_warn("%s frames missing from %.0f%% of the samples in %s (native frames only there; "
					"-v says why)", st.interp_lang, pct, loop);
		}
		if (!env->mode_wall && !pg.behind_said && st.expected >= 20 && prof->total * 10 < st.expected * 9)
			ct_warn("behind in sampling: %" PRIu64 " samples for about %" PRIu64 " expected (%.0f%%)%s",
				prof->total, st.expected, 100.0 * (double)prof->total / (double)st.expected,
				st.lost ? "; the kernel dropped some (ring buffer full)" : "");
		if (prof->total == 0)
			ct_warn("no samples: the process did not run on a CPU while sampled (try --mode wall)");
	}
	ct_profile_session_close(ps);
	return code;
}
