/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --profile: sample stacks with the perf or the ptrace sampler until Ctrl-C, SIGTERM,
 * -d or the target's exit, then write the whole profile at once. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/profile.h"
#include "attach/perf.h"
#include "attach/ptsample.h"
#include "cli/cli.h"
#include "lib/error.h"
#include "lib/procfs.h"
#include "report/profile.h"
#include "target/profiler.h"
#include "target/target.h"
#include "lib/banned.h"

#define PROFILE_STACK_DEFAULT (16 * 1024)

struct source {
	pid_t pid;
	char *comm;
	struct ct_perf *perf;
	struct ct_profiler *pr;
	bool gone;
	uint64_t cpu_ticks0, cpu_ticks; /* utime + stime at start and last seen */
	uint64_t weight_ns;
	uint64_t ptrace_samples, ptrace_errors;
	struct ct_ptsample_state pts;
	char exe[256];   /* ptrace sampler: /proc/PID/exe when last seen, to notice an exec */
};

static void read_exe(pid_t pid, char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t len = readlink(path, buf, n - 1);
	buf[len > 0 ? len : 0] = '\0';
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: poll and nanosleep return at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* utime + stime of the whole process; false when it is gone or a zombie. */
static bool proc_cpu(pid_t pid, uint64_t *ret_ticks)
{
	char *text = NULL;
	struct ct_proc_stat st;
	bool alive = false;
	if (ct_proc_read(pid, 0, "stat", 4096, &text) == 0 && ct_parse_proc_stat(text, &st) == 0 &&
	    st.state != 'Z' && st.state != 'X') {
		alive = true;
		*ret_ticks = st.utime + st.stime;
	}
	free(text);
	return alive;
}

/* Samples are copied out of the rings at once and unwound afterwards: a slow first symbolization
 * (a large libc debug file) must not let the kernel overwrite the rings meanwhile. */
struct pending {
	struct source *src;
	struct ct_capture cap;
	bool in_kernel;
	bool exec;   /* the process executed a new program here */
};

static struct {
	struct pending *q;
	size_t head, n, cap;
	size_t bytes;
	uint64_t dropped;
} queue;

#define QUEUE_MAX_BYTES (64u << 20)

static int perf_sample(void *arg, const struct ct_perf_sample *s)
{
	if (queue.bytes + s->cap.stack_len > QUEUE_MAX_BYTES) {
		queue.dropped++;
		return 0;
	}
	if (queue.head && queue.head == queue.n)
		queue.head = queue.n = 0;
	if (ct_grow(&queue.q, &queue.cap, queue.n + 1, sizeof(*queue.q)) < 0)
		return -ENOMEM;
	struct pending *e = &queue.q[queue.n];
	e->src = arg;
	e->cap = s->cap;
	e->in_kernel = s->in_kernel;
	e->exec = s->exec;
	if (s->cap.stack_len) {
		e->cap.stack = malloc(s->cap.stack_len);
		if (!e->cap.stack)
			return -ENOMEM;
		memcpy(e->cap.stack, s->cap.stack, s->cap.stack_len);
	}
	queue.bytes += s->cap.stack_len;
	queue.n++;
	return 0;
}

static const struct ct_env *cur_env;
static struct ct_profile *cur_prof;

static int open_profiler(const struct ct_env *env, struct source *s, struct ct_profile *prof)
{
	struct ct_profiler_opts po = { env->unwinder, env->max_frames, { env->debug_dirs, env->no_inlines } };
	char root[96];
	if (env->per_pid)
		snprintf(root, sizeof(root), "%s-%d", s->comm ? s->comm : "?", (int)s->pid);
	else
		snprintf(root, sizeof(root), "%s", s->comm ? s->comm : "?");
	return ct_profiler_open(s->pid, root, prof, &po, &s->pr);
}

/* The process executed a new program: its modules and maybe its name changed, so samples from now
 * on are unwound and symbolized against the new program. */
static int follow_exec(struct source *s)
{
	for (const char *w; s->pr && (w = ct_profiler_next_warning(s->pr));)
		ct_warn("%s", w);
	ct_profiler_close(s->pr);
	s->pr = NULL;
	struct ct_target tg;
	if (ct_target_open(s->pid, &tg) == 0) {
		free(s->comm);
		s->comm = tg.comm;
		tg.comm = NULL;
		ct_target_clear(&tg);
	}
	ct_warn("process %d executed a new program (%s); following it", (int)s->pid, s->comm ? s->comm : "?");
	int r = open_profiler(cur_env, s, cur_prof);
	return r == -ENOMEM ? r : 0; /* gone meanwhile: its samples are dropped */
}

/* Unwinds queued samples, going back to the rings every few milliseconds. */
static int process_queue(struct source *srcs, size_t n)
{
	uint64_t last_read = ct_now_ns();
	int r = 0;
	while (queue.head < queue.n && r >= 0) {
		struct pending *e = &queue.q[queue.head++];
		if (e->exec)
			r = follow_exec(e->src);
		else if (e->src->pr)
			r = ct_profiler_add(e->src->pr, &e->cap, e->in_kernel, 1, e->src->weight_ns);
		queue.bytes -= e->cap.stack_len;
		free(e->cap.stack);
		if (r >= 0 && ct_now_ns() - last_read > 5000000ull) {
			for (size_t i = 0; i < n && r >= 0; i++)
				if (srcs[i].perf)
					r = ct_perf_read(srcs[i].perf, 0, perf_sample, &srcs[i]);
			last_read = ct_now_ns();
		}
	}
	if (queue.head == queue.n)
		queue.head = queue.n = 0;
	return r;
}

static void queue_free(void)
{
	for (size_t i = queue.head; i < queue.n; i++)
		free(queue.q[i].cap.stack);
	free(queue.q);
	memset(&queue, 0, sizeof(queue));
}

static bool perf_refused(int r)
{
	return r == -EACCES || r == -EPERM || r == -ENOSYS || r == -ENOENT || r == -EOPNOTSUPP ||
	       r == -EINVAL;
}

/* Fails early on an -o path that cannot be written, rather than after a long profile. */
static int check_output(const struct ct_env *env)
{
	if (!env->output || strcmp(env->output, "-") == 0)
		return CT_EXIT_OK;
	struct stat st;
	if (stat(env->output, &st) == 0 && S_ISDIR(st.st_mode)) {
		ct_error("cannot write to '%s': it is a directory; give a file name with -o", env->output);
		return CT_EXIT_USAGE;
	}
	struct ct_buf probe = CT_BUF_INIT;
	ct_buf_printf(&probe, "%s.ctrace-tmp.%d", env->output, (int)getpid());
	int fd = open(ct_buf_cstr(&probe), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ct_error("cannot write to '%s': %s; choose another -o path", env->output, strerror(errno));
		ct_buf_free(&probe);
		return CT_EXIT_USAGE;
	}
	close(fd);
	unlink(ct_buf_cstr(&probe));
	ct_buf_free(&probe);
	return CT_EXIT_OK;
}

static void sleep_until(uint64_t when_ns)
{
	uint64_t now = ct_now_ns();
	if (when_ns <= now)
		return;
	struct timespec ts = { (time_t)((when_ns - now) / 1000000000ull), (long)((when_ns - now) % 1000000000ull) };
	nanosleep(&ts, NULL); /* a signal ends it early; the loop checks stop_signal */
}

/* The progress line: on a terminal one updating stderr line; with -v elsewhere a line every 5 s. */
static struct {
	bool tty, verbose, shown, behind_said;
	uint64_t next_ns;
	const struct ct_profile *prof;
	uint64_t hz;
} progress;

static uint64_t expected_samples(const struct source *srcs, size_t n)
{
	long tck = sysconf(_SC_CLK_TCK);
	uint64_t e = 0;
	for (size_t i = 0; i < n && tck > 0; i++)
		e += (srcs[i].cpu_ticks - srcs[i].cpu_ticks0) * progress.hz / (uint64_t)tck;
	return e;
}

static void progress_tick(const struct source *srcs, size_t n, uint64_t t0)
{
	uint64_t now = ct_now_ns();
	if ((!progress.tty && !progress.verbose) || now < progress.next_ns)
		return;
	progress.next_ns = now + (progress.tty ? 500000000ull : 5000000000ull);
	uint64_t lost = queue.dropped;
	for (size_t i = 0; i < n; i++)
		if (srcs[i].perf)
			lost += ct_perf_stats(srcs[i].perf)->lost;
	double secs = (double)(now - t0) / 1e9;
	uint64_t total = progress.prof->total, expected = expected_samples(srcs, n);
	fprintf(stderr, "%sctrace: %.0f s, %" PRIu64 " samples (%.0f/s), %" PRIu64 " lost%s",
		progress.tty ? "\r" : "", secs, total, secs > 0 ? (double)total / secs : 0.0, lost,
		progress.tty ? "\033[K" : "\n");
	fflush(stderr);
	progress.shown = true;
	if (!progress.behind_said && secs >= 5 && expected >= 50 && total * 10 < expected * 9) {
		/* said once, like py-spy's "behind in sampling" */
		progress.behind_said = true;
		fprintf(stderr, "%sctrace: warning: behind in sampling: %" PRIu64 " samples for about %" PRIu64
			" expected from the CPU time; the profile is still representative if the loss "
			"is even\n", progress.tty ? "\r\033[K" : "", total, expected);
	}
}

static void progress_end(void)
{
	if (progress.tty && progress.shown)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static void say_gone(struct source *src, uint64_t t0)
{
	if (src->gone)
		return;
	src->gone = true;
	ct_warn("process %d (%s) exited after %.1f s; the profile covers it until then", (int)src->pid,
		src->comm ? src->comm : "?", (double)(ct_now_ns() - t0) / 1e9);
}

static int run_perf(struct source *srcs, size_t n, uint64_t t0, uint64_t deadline)
{
	uint64_t next_scan = t0;
	for (;;) {
		size_t live = 0;
		uint64_t now = ct_now_ns();
		bool scan = now >= next_scan;
		if (scan)
			next_scan = now + 100000000ull; /* new threads are followed within 0.1 s */
		for (size_t i = 0; i < n; i++) {
			struct source *s = &srcs[i];
			if (s->gone)
				continue;
			if (scan && (!proc_cpu(s->pid, &s->cpu_ticks) || ct_perf_scan(s->perf) == -ESRCH)) {
				ct_perf_read(s->perf, 0, perf_sample, s); /* its last samples */
				say_gone(s, t0);
				continue;
			}
			live++;
		}
		int r = process_queue(srcs, n);
		if (r < 0)
			return r;
		progress_tick(srcs, n, t0);
		if (!live || stop_signal || ct_now_ns() >= deadline)
			return process_queue(srcs, n);
		uint64_t left_ms = (deadline - ct_now_ns()) / 1000000ull;
		int timeout = (int)CT_MIN(CT_MIN(left_ms + 1, 100ull) / live, 100ull);
		for (size_t i = 0; i < n; i++) {
			if (srcs[i].gone)
				continue;
			r = ct_perf_read(srcs[i].perf, timeout, perf_sample, &srcs[i]);
			if (r < 0)
				return r;
		}
	}
}

static int run_ptrace(const struct ct_env *env, struct source *srcs, size_t n, uint64_t t0,
		      uint64_t deadline, uint64_t period_ns)
{
	struct ct_attach_opts ao = CT_ATTACH_OPTS_DEFAULT;
	ao.stack_bytes = env->stack_bytes;
	ao.timeout_ns = (uint64_t)(env->timeout_s * 1e9);
	ao.passive = !env->always_stop;
	uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ t0;
	for (size_t i = 0; i < n; i++)
		read_exe(srcs[i].pid, srcs[i].exe, sizeof(srcs[i].exe));
	uint64_t next = t0 + ct_ptsample_next_delay(period_ns, &seed);
	for (;;) {
		sleep_until(CT_MIN(next, deadline));
		if (stop_signal || ct_now_ns() >= deadline)
			return 0;
		if (ct_now_ns() < next)
			continue;
		size_t live = 0;
		for (size_t i = 0; i < n; i++) {
			struct source *s = &srcs[i];
			if (s->gone)
				continue;
			/* the ptrace sampler sees an exec as a new /proc/PID/exe (a program that executes
			 * itself again is not noticed; the perf sampler is told by the kernel) */
			char exe[sizeof(s->exe)];
			read_exe(s->pid, exe, sizeof(exe));
			if (exe[0] && strcmp(exe, s->exe) != 0) {
				memcpy(s->exe, exe, sizeof(exe));
				if (follow_exec(s) < 0)
					return -ENOMEM;
			}
			struct ct_capture_set *set = NULL;
			int r = proc_cpu(s->pid, &s->cpu_ticks) ?
				ct_ptsample_take(s->pid, env->mode_wall ? NULL : &s->pts, &ao, &set) : -ESRCH;
			if (r == -ESRCH) {
				say_gone(s, t0);
				continue;
			}
			live++;
			if (r < 0) {
				s->ptrace_errors++;
				continue;
			}
			for (size_t j = 0; j < set->n && r >= 0; j++) {
				const struct ct_capture *c = &set->caps[j];
				if (c->err == -ESRCH)
					continue;
				if (c->err) {
					s->ptrace_errors++;
					continue;
				}
				uint64_t cnt = env->mode_wall ? 1 : s->pts.counts[j];
				s->ptrace_samples += cnt;
				if (s->pr)
					r = ct_profiler_add(s->pr, c, false, cnt, cnt * period_ns);
			}
			ct_capture_set_free(set);
			if (r < 0)
				return r;
		}
		if (!live)
			return 0;
		progress_tick(srcs, n, t0);
		/* the next tick from the schedule, not from now, so slow samples do not drift the rate;
		 * ticks already missed are skipped (and show in the delivered count) */
		next += ct_ptsample_next_delay(period_ns, &seed);
		if (next < ct_now_ns())
			next = ct_now_ns() + ct_ptsample_next_delay(period_ns, &seed) / 2;
	}
}

static int open_sources(const struct ct_env *env, struct source *srcs, struct ct_profile *prof,
			bool use_perf, bool *fell_back)
{
	struct ct_perf_opts pe = { (unsigned)env->rate_hz, env->stack_bytes };
	for (size_t i = 0; i < env->npids; i++) {
		struct source *s = &srcs[i];
		s->pid = env->pids[i];
		s->weight_ns = 1000000000ull / (uint64_t)env->rate_hz;
		struct ct_target tg;
		if (ct_target_open(s->pid, &tg) == 0) {
			s->comm = tg.comm;
			tg.comm = NULL;
			ct_target_clear(&tg);
		}
		if (!proc_cpu(s->pid, &s->cpu_ticks0)) {
			ct_error("process %d exited before the first sample", (int)s->pid);
			return CT_EXIT_TARGET;
		}
		s->cpu_ticks = s->cpu_ticks0;
		s->pts.period_ns = s->weight_ns;
		int r = open_profiler(env, s, prof);
		if (r < 0) {
			if (r == -ESRCH)
				ct_error("process %d exited before the first sample", (int)s->pid);
			else
				ct_error("cannot read the memory map of process %d: %s", (int)s->pid, ct_strerror(r));
			return CT_EXIT_TARGET;
		}
		if (!use_perf || *fell_back)
			continue;
		r = ct_perf_open(s->pid, &pe, &s->perf);
		if (r == -ESRCH) {
			ct_error("process %d exited before the first sample", (int)s->pid);
			return CT_EXIT_TARGET;
		}
		if (r < 0 && perf_refused(r) && env->sampler == CT_SAMPLER_AUTO) {
			ct_warn("perf_event_open was refused (%s: perf_event_paranoid, a seccomp filter or a "
				"container); using the ptrace sampler, which stops each sampled thread briefly",
				ct_strerror(r));
			*fell_back = true;
			for (size_t j = 0; j < i; j++) {
				ct_perf_close(srcs[j].perf);
				srcs[j].perf = NULL;
			}
			continue;
		}
		if (r < 0) {
			ct_error("cannot sample process %d with perf_event_open: %s (lower "
				 "/proc/sys/kernel/perf_event_paranoid, or use --sampler ptrace)", (int)s->pid,
				 ct_strerror(r));
			return CT_EXIT_TARGET;
		}
	}
	return CT_EXIT_OK;
}

int cmd_profile(struct ct_env *env)
{
	enum ct_format fmt = env->format;
	if (fmt == CT_FMT_DEFAULT)
		fmt = !env->output && isatty(STDOUT_FILENO) ? CT_FMT_TEXT : CT_FMT_FOLDED;
	if (env->mode_wall && env->sampler == CT_SAMPLER_PERF) {
		ct_error("--mode wall needs --sampler ptrace: perf's cpu-clock sees only threads on a CPU");
		return CT_EXIT_USAGE;
	}
	if (env->tid) {
		ct_error("--profile samples every thread of the process; --tid is for --backtraces");
		return CT_EXIT_USAGE;
	}
	if (!env->stack_bytes_given)
		env->stack_bytes = PROFILE_STACK_DEFAULT;
	for (size_t i = 0; i < env->npids; i++) {
		int code = ct_cli_check_target(env->pids[i]);
		if (code)
			return code;
	}
	int code = check_output(env);
	if (code)
		return code;

	struct ct_profile *prof = NULL;
	struct source *srcs = calloc(env->npids, sizeof(*srcs));
	if (!srcs || ct_profile_new(&prof) < 0) {
		free(srcs);
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	bool use_perf = env->sampler != CT_SAMPLER_PTRACE && !env->mode_wall;
	bool fell_back = false;
	install_handlers();
	cur_env = env;
	cur_prof = prof;
	uint64_t t0 = ct_now_ns();
	prof->start_ns = ct_realtime_ns();
	prof->period_ns = 1000000000ull / (uint64_t)env->rate_hz;
	prof->wall = env->mode_wall;
	code = open_sources(env, srcs, prof, use_perf, &fell_back);
	bool perf = use_perf && !fell_back;
	if (code == CT_EXIT_OK) {
		ct_verbose(env, "sampling %zu process(es) at %ld Hz with the %s sampler", env->npids,
			   env->rate_hz, perf ? "perf" : "ptrace");
		uint64_t deadline = env->duration_s > 0 ? t0 + (uint64_t)(env->duration_s * 1e9) : UINT64_MAX;
		progress.tty = isatty(STDERR_FILENO);
		progress.verbose = env->verbose > 0;
		progress.prof = prof;
		progress.hz = (uint64_t)env->rate_hz;
		progress.next_ns = t0 + 1000000000ull;
		int r = perf ? run_perf(srcs, env->npids, t0, deadline) :
			       run_ptrace(env, srcs, env->npids, t0, deadline, prof->period_ns);
		if (r < 0) {
			ct_error("sampling failed: %s", ct_strerror(r));
			code = CT_EXIT_TARGET;
		}
	}
	progress_end();
	prof->duration_ns = ct_now_ns() - t0;
	if (stop_signal)
		ct_verbose(env, "stopped by signal %d; writing the profile", (int)stop_signal);

	uint64_t requested = 0, lost = 0, truncated = 0;
	long tck = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < env->npids; i++) {
		struct source *s = &srcs[i];
		if (s->pr) {
			for (const char *w; (w = ct_profiler_next_warning(s->pr));)
				ct_warn("%s", w);
			truncated += ct_profiler_stats(s->pr)->truncated;
		}
		if (s->perf)
			lost += ct_perf_stats(s->perf)->lost;
		lost += queue.dropped;
		queue.dropped = 0;
		if (tck > 0)
			requested += (s->cpu_ticks - s->cpu_ticks0) * (uint64_t)env->rate_hz / (uint64_t)tck;
	}
	if (code == CT_EXIT_OK) {
		char title[256];
		snprintf(title, sizeof(title), "ctrace profile of %s (%d)%s",
			 srcs[0].comm ? srcs[0].comm : "?", (int)srcs[0].pid, env->npids > 1 ? " and others" : "");
		struct ct_profile_meta m = { title, perf ? "perf" : "ptrace", (unsigned)env->rate_hz,
					     env->mode_wall ? 0 : requested };
		ct_profile_sort(prof);
		struct ct_buf out = CT_BUF_INIT;
		if (ct_report_profile(fmt, prof, &m, &out) < 0 || out.err) {
			ct_error("out of memory while writing the profile");
			code = CT_EXIT_TARGET;
		} else {
			code = ct_cli_write_output(env, &out);
		}
		ct_buf_free(&out);
		ct_verbose(env, "%" PRIu64 " samples in %.1f s (about %" PRIu64 " expected from the CPU time), "
			   "%" PRIu64 " lost, %" PRIu64 " truncated stacks, %zu stacks, %zu frames", prof->total,
			   (double)prof->duration_ns / 1e9, requested, lost, truncated, prof->nstacks,
			   prof->nframes);
		if (!env->mode_wall && !progress.behind_said && requested >= 20 && prof->total * 10 < requested * 9)
			ct_warn("behind in sampling: %" PRIu64 " samples for about %" PRIu64 " expected (%.0f%%)%s",
				prof->total, requested, 100.0 * (double)prof->total / (double)requested,
				lost ? "; the kernel dropped some (ring buffer full)" : "");
		if (prof->total == 0)
			ct_warn("no samples: the process did not run on a CPU while sampled (try --mode wall)");
	}
	queue_free();
	for (size_t i = 0; i < env->npids; i++) {
		ct_perf_close(srcs[i].perf);
		ct_profiler_close(srcs[i].pr);
		ct_ptsample_state_free(&srcs[i].pts);
		free(srcs[i].comm);
	}
	free(srcs);
	ct_profile_free(prof);
	ct_attach_release_pending();
	return code;
}
