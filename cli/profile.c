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
#include <sys/resource.h>
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
#include "session/profiler.h"
#include "process/target.h"
#include "lib/banned.h"

#define PROFILE_STACK_DEFAULT (16 * 1024)
#define MAX_SOURCES 4096          /* processes followed at once (several -p, --children) */
#define SCAN_NS 100000000ull      /* new threads and child processes are followed within 0.1 s */

struct tname {
	pid_t tid;
	uint64_t read_ns;
	char name[16];
};

/* One followed process. Allocated one by one: queued samples point at it while the list grows. */
struct source {
	pid_t pid;
	char *comm;
	struct ct_profiler *pr;
	bool gone, perf_on;
	bool exec_pending; /* ptrace sampler: the program changed; followed once a stop proves it ran */
	uint64_t cpu_ticks0, cpu_ticks; /* utime + stime at start and last seen */
	uint64_t weight_ns;
	uint64_t ptrace_samples, ptrace_errors;
	struct ct_ptsample_state pts;
	char exe[256];   /* ptrace sampler: /proc/PID/exe when last seen, to notice an exec */
	struct tname *tn; /* --per-thread: thread names, reread each second */
	size_t ntn, cap_tn;
};

static struct {
	const struct ct_env *env;
	struct ct_profile *prof;
	struct ct_perf *perf;   /* one perf sampler for every process */
	struct source **srcs;
	size_t n, cap;
	uint64_t t0;
	bool use_perf;
} run;

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

/* utime + stime of the whole process (of the thread with --tid); false when it is gone or a zombie. */
static bool proc_cpu(pid_t pid, uint64_t *ret_ticks)
{
	char *text = NULL;
	struct ct_proc_stat st;
	bool alive = false;
	/* --tid: the thread's own CPU time, and the thread's end is the profile's */
	if (ct_proc_read(pid, run.env->tid, "stat", 4096, &text) == 0 && ct_parse_proc_stat(text, &st) == 0 &&
	    st.state != 'Z' && st.state != 'X') {
		alive = true;
		*ret_ticks = st.utime + st.stime;
	}
	free(text);
	return alive;
}

/* --per-thread: the frame under the process, "NAME-TID" (names change: reread each second). */
static const char *thread_frame(struct source *s, pid_t tid, char *buf, size_t n)
{
	if (!run.env->per_thread)
		return NULL;
	uint64_t now = ct_now_ns();
	struct tname *t = NULL;
	for (size_t i = 0; i < s->ntn && !t; i++)
		if (s->tn[i].tid == tid)
			t = &s->tn[i];
	if (!t && s->ntn < MAX_SOURCES * 16 && ct_grow(&s->tn, &s->cap_tn, s->ntn + 1, sizeof(*s->tn)) == 0) {
		t = &s->tn[s->ntn++];
		*t = (struct tname){ tid, 0, "?" };
	}
	if (t && now - t->read_ns >= 1000000000ull) {
		char *text = NULL;
		if (ct_proc_read(s->pid, tid, "comm", 64, &text) == 0) {
			text[strcspn(text, "\n")] = '\0';
			snprintf(t->name, sizeof(t->name), "%s", text);
		}
		free(text);
		t->read_ns = now;
	}
	snprintf(buf, n, "%s-%d", t ? t->name : "?", (int)tid);
	return buf;
}

/* Samples are copied out of the rings at once and unwound afterwards: a slow first symbolization
 * (a large libc debug file) must not let the kernel overwrite the rings meanwhile. */
struct pending {
	struct source *src;
	struct ct_capture cap;
	bool in_kernel;
	bool exec;   /* the process executed a new program here */
	char comm[16];
	char thread[32];
};

static struct {
	struct pending *q;
	size_t head, n, cap;
	size_t bytes;
	uint64_t dropped;
} queue;

#define QUEUE_MAX_BYTES (64u << 20)

static struct source *find_source(pid_t pid)
{
	for (size_t i = run.n; i-- > 0;)
		if (run.srcs[i]->pid == pid)
			return run.srcs[i];
	return NULL;
}

static int perf_sample(void *arg, const struct ct_perf_sample *s)
{
	(void)arg;
	struct source *src = find_source(s->pid);
	if (!src)
		return 0; /* a process no longer followed */
	if (queue.bytes + s->cap.stack_len > QUEUE_MAX_BYTES) {
		queue.dropped++;
		return 0;
	}
	if (queue.head && queue.head == queue.n)
		queue.head = queue.n = 0;
	if (ct_grow(&queue.q, &queue.cap, queue.n + 1, sizeof(*queue.q)) < 0)
		return -ENOMEM;
	struct pending *e = &queue.q[queue.n];
	e->src = src;
	e->cap = s->cap;
	e->in_kernel = s->in_kernel;
	e->exec = s->exec;
	memcpy(e->comm, s->comm, sizeof(e->comm));
	e->thread[0] = '\0';
	if (!s->exec && run.env->per_thread)
		thread_frame(src, s->tid, e->thread, sizeof(e->thread));
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

static int open_profiler(struct source *s)
{
	const struct ct_env *env = run.env;
	struct ct_profiler_opts po = { env->unwinder, env->max_frames,
				       { env->debug_dirs, env->no_inlines, env->no_demangle, env->debuginfod, 0 } };
	char root[96];
	if (env->per_pid)
		snprintf(root, sizeof(root), "%s-%d", s->comm ? s->comm : "?", (int)s->pid);
	else
		snprintf(root, sizeof(root), "%s", s->comm ? s->comm : "?");
	int r = ct_profiler_open(s->pid, root, run.prof, &po, &s->pr);
	if (r == 0 && env->format == CT_FMT_PPROF) {
		/* pprof carries host, pid, comm, thread and tid labels, for fleet-wide aggregation */
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		r = ct_profiler_label(s->pr, host, s->comm);
	}
	return r;
}

/* The process executed a new program: its modules and maybe its name changed, so samples from now
 * on are unwound and symbolized against the new program. comm: the new name when known. */
static int follow_exec(struct source *s, const char *comm)
{
	for (const char *w; s->pr && (w = ct_profiler_next_warning(s->pr));)
		ct_warn("%s", w);
	ct_profiler_close(s->pr);
	s->pr = NULL;
	s->ntn = 0;
	struct ct_target tg;
	if (comm && comm[0]) {
		free(s->comm);
		s->comm = strdup(comm);
	} else if (ct_target_open(s->pid, &tg) == 0) {
		free(s->comm);
		s->comm = tg.comm;
		tg.comm = NULL;
		ct_target_clear(&tg);
	}
	ct_warn("process %d executed a new program (%s); following it", (int)s->pid, s->comm ? s->comm : "?");
	int r = open_profiler(s);
	return r == -ENOMEM ? r : 0; /* gone meanwhile: its samples are dropped */
}

/* Reads the perf rings of every process (timeout_ms 0: what is there now). */
static int perf_read(int timeout_ms)
{
	return run.perf ? ct_perf_read(run.perf, timeout_ms, perf_sample, NULL) : 0;
}

/* Unwinds queued samples, going back to the rings every few milliseconds. */
static int process_queue(void)
{
	uint64_t last_read = ct_now_ns();
	int r = 0;
	while (queue.head < queue.n && r >= 0) {
		struct pending *e = &queue.q[queue.head++];
		if (e->exec)
			r = follow_exec(e->src, e->comm);
		else if (e->src->pr)
			r = ct_profiler_add(e->src->pr, &e->cap, e->in_kernel, e->thread[0] ? e->thread : NULL, 1,
					    e->src->weight_ns);
		queue.bytes -= e->cap.stack_len;
		free(e->cap.stack);
		if (r >= 0 && ct_now_ns() - last_read > 5000000ull) {
			r = perf_read(0);
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
	bool tty, verbose, shown, behind_said, lost_said;
	uint64_t next_ns;
	uint64_t hz;
} progress;

static uint64_t expected_samples(void)
{
	long tck = sysconf(_SC_CLK_TCK);
	uint64_t e = 0;
	for (size_t i = 0; i < run.n && tck > 0; i++)
		e += (run.srcs[i]->cpu_ticks - run.srcs[i]->cpu_ticks0) * progress.hz / (uint64_t)tck;
	return e;
}

static uint64_t lost_samples(void)
{
	return queue.dropped + (run.perf ? ct_perf_stats(run.perf)->lost : 0);
}

static void progress_tick(void)
{
	uint64_t now = ct_now_ns();
	uint64_t lost = lost_samples();
	if (lost && !progress.lost_said) {
		/* the kernel dropped samples (PERF_RECORD_LOST): said at once, whatever the verbosity */
		progress.lost_said = true;
		fprintf(stderr, "%sctrace: warning: losing samples: the kernel dropped %" PRIu64 " (ring "
			"buffers full: ctrace gets too little CPU to read them; lower -r or --stack-bytes, or "
			"run ctrace with a higher priority)\n", progress.tty && progress.shown ? "\r\033[K" : "", lost);
	}
	if ((!progress.tty && !progress.verbose) || now < progress.next_ns)
		return;
	progress.next_ns = now + (progress.tty ? 500000000ull : 5000000000ull);
	double secs = (double)(now - run.t0) / 1e9;
	uint64_t total = run.prof->total, expected = expected_samples();
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

static void say_gone(struct source *src)
{
	if (src->gone)
		return;
	src->gone = true;
	double secs = (double)(ct_now_ns() - run.t0) / 1e9;
	bool given = false; /* a -p (said), or a child followed with --children (said with -v) */
	for (size_t i = 0; i < run.env->npids; i++)
		given |= run.env->pids[i] == src->pid;
	if (run.env->tid)
		ct_warn("thread %d of process %d (%s) exited after %.1f s; the profile covers it until then",
			(int)run.env->tid, (int)src->pid, src->comm ? src->comm : "?", secs);
	else if (given)
		ct_warn("process %d (%s) exited after %.1f s; the profile covers it until then", (int)src->pid,
			src->comm ? src->comm : "?", secs);
	else
		ct_verbose(run.env, "process %d (%s) exited after %.1f s", (int)src->pid, src->comm ? src->comm : "?",
			   secs);
}

/* Starts following process pid: its profiler, and its events with the perf sampler. Returns 0,
 * -ESRCH (gone), or -errno (the message is the caller's). */
static int add_source(pid_t pid, struct source **ret)
{
	if (run.n >= MAX_SOURCES)
		return -E2BIG;
	if (ct_grow(&run.srcs, &run.cap, run.n + 1, sizeof(*run.srcs)) < 0)
		return -ENOMEM;
	struct source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->weight_ns = 1000000000ull / (uint64_t)run.env->rate_hz;
	s->pts.period_ns = s->weight_ns;
	run.srcs[run.n++] = s; /* freed with the others */
	if (ret)
		*ret = s;
	struct ct_target tg;
	if (ct_target_open(pid, &tg) == 0) {
		s->comm = tg.comm;
		tg.comm = NULL;
		ct_target_clear(&tg);
	}
	if (!proc_cpu(pid, &s->cpu_ticks0)) {
		s->gone = true;
		return -ESRCH;
	}
	s->cpu_ticks = s->cpu_ticks0;
	read_exe(pid, s->exe, sizeof(s->exe));
	int r = open_profiler(s);
	if (r == 0 && run.perf) {
		r = ct_perf_add(run.perf, pid, run.env->tid);
		s->perf_on = r == 0;
	}
	if (r < 0)
		s->gone = true;
	return r;
}

static void free_source(struct source *s)
{
	ct_profiler_close(s->pr);
	ct_ptsample_state_free(&s->pts);
	free(s->comm);
	free(s->tn);
	free(s);
}

/* --children: follows every process whose parent is followed, as /proc/PID/task/TID/children
 * shows them (a worker forked during the profile is followed within SCAN_NS). */
static void scan_children(void)
{
	if (!run.env->children)
		return;
	for (size_t i = 0; i < run.n; i++) {
		if (run.srcs[i]->gone)
			continue;
		pid_t *tids = NULL;
		size_t nt = 0;
		if (ct_proc_list_tasks(run.srcs[i]->pid, &tids, &nt) < 0)
			continue;
		for (size_t k = 0; k < nt; k++) {
			char *text = NULL;
			if (ct_proc_read(run.srcs[i]->pid, tids[k], "children", 1 << 20, &text) < 0)
				continue;
			for (char *p = text, *end; *p; p = end) {
				long child = strtol(p, &end, 10);
				if (end == p)
					break;
				if (child <= 0 || find_source((pid_t)child))
					continue;
				struct source *s = NULL;
				int r = add_source((pid_t)child, &s);
				if (r == 0)
					ct_verbose(run.env, "following child process %ld (%s) of %d", child,
						   s->comm ? s->comm : "?", (int)run.srcs[i]->pid);
				else if (r != -ESRCH && r != -E2BIG)
					ct_warn("cannot follow child process %ld: %s", child, ct_strerror(r));
			}
			free(text);
		}
		free(tids);
	}
}

static int run_perf(uint64_t deadline)
{
	uint64_t next_scan = ct_now_ns();
	for (;;) {
		size_t live = 0;
		uint64_t now = ct_now_ns();
		bool scan = now >= next_scan;
		if (scan) {
			next_scan = now + SCAN_NS;
			scan_children();
		}
		for (size_t i = 0; i < run.n; i++) {
			struct source *s = run.srcs[i];
			if (s->gone)
				continue;
			if (scan && (!proc_cpu(s->pid, &s->cpu_ticks) || ct_perf_scan(run.perf, s->pid) == -ESRCH)) {
				say_gone(s); /* its last samples are in the rings still */
				continue;
			}
			live++;
		}
		int r = process_queue();
		if (r < 0)
			return r;
		progress_tick();
		if (!live || stop_signal || ct_now_ns() >= deadline)
			break;
		uint64_t left_ms = (deadline - ct_now_ns()) / 1000000ull;
		r = perf_read((int)CT_MIN(left_ms + 1, 100ull));
		if (r < 0)
			return r;
	}
	/* what the kernel wrote since the last read, whatever ended the profile */
	int r = perf_read(0);
	if (r == 0)
		r = process_queue();
	progress_tick();
	return r;
}

/* One tick of the ptrace sampler for one process. */
static int ptrace_tick(struct source *s, const struct ct_attach_opts *ao, uint64_t period_ns)
{
	const struct ct_env *env = run.env;
	/* the ptrace sampler sees an exec as a new /proc/PID/exe (a program that executes itself
	 * again is not noticed; the perf sampler is told by the kernel) */
	char exe[sizeof(s->exe)];
	read_exe(s->pid, exe, sizeof(exe));
	bool changed = exe[0] && strcmp(exe, s->exe) != 0;
	if (changed) {
		memcpy(s->exe, exe, sizeof(exe));
		s->exec_pending = true;
	}
	struct ct_capture_set *set = NULL;
	int r = proc_cpu(s->pid, &s->cpu_ticks) ?
		ct_ptsample_take(s->pid, env->tid, env->mode_wall ? NULL : &s->pts, ao, &set) : -ESRCH;
	if (r == -ESRCH) {
		say_gone(s);
		return 0;
	}
	if (r < 0) {
		s->ptrace_errors++;
		return 0;
	}
	if (s->exec_pending) {
		/* /proc/PID/exe changes in the middle of the exec, before the new name is set and the
		 * program mapped: the new program is followed once one of its threads has been stopped
		 * (a ptrace stop happens on the way back to user space, after the exec), and the
		 * captures taken until then are dropped (they may be of either program) */
		bool ran = false;
		for (size_t j = 0; j < set->n && !changed; j++)
			ran |= set->caps[j].err == 0 && !(set->caps[j].flags & CT_THREAD_PASSIVE);
		if (!ran) {
			ct_capture_set_free(set);
			return 0;
		}
		s->exec_pending = false;
		if (follow_exec(s, NULL) < 0) {
			ct_capture_set_free(set);
			return -ENOMEM;
		}
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
		char thread[32];
		if (s->pr)
			r = ct_profiler_add(s->pr, c, false, thread_frame(s, c->tid, thread, sizeof(thread)), cnt,
					    cnt * period_ns);
	}
	ct_capture_set_free(set);
	return r;
}

static int run_ptrace(uint64_t deadline, uint64_t period_ns)
{
	const struct ct_env *env = run.env;
	struct ct_attach_opts ao = CT_ATTACH_OPTS_DEFAULT;
	ao.stack_bytes = env->stack_bytes;
	ao.timeout_ns = (uint64_t)(env->timeout_s * 1e9);
	ao.passive = !env->always_stop;
	uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ run.t0;
	uint64_t next = ct_now_ns() + ct_ptsample_next_delay(period_ns, &seed), next_scan = 0;
	for (;;) {
		sleep_until(CT_MIN(next, deadline));
		if (stop_signal || ct_now_ns() >= deadline)
			return 0;
		if (ct_now_ns() < next)
			continue;
		if (ct_now_ns() >= next_scan) {
			next_scan = ct_now_ns() + SCAN_NS;
			scan_children();
		}
		size_t live = 0;
		for (size_t i = 0; i < run.n; i++) {
			struct source *s = run.srcs[i];
			if (s->gone)
				continue;
			int r = ptrace_tick(s, &ao, period_ns);
			if (r < 0)
				return r;
			live += !s->gone;
		}
		if (!live)
			return 0;
		progress_tick();
		/* the next tick from the schedule, not from now, so slow samples do not drift the rate;
		 * ticks already missed are skipped (and show in the delivered count) */
		next += ct_ptsample_next_delay(period_ns, &seed);
		if (next < ct_now_ns())
			next = ct_now_ns() + ct_ptsample_next_delay(period_ns, &seed) / 2;
	}
}

/* Opens the perf sampler; on a refusal with the automatic choice, says so and leaves run.perf NULL
 * (the ptrace sampler). Returns an exit code. */
static int open_perf(const struct ct_env *env, int r_add)
{
	int r = r_add;
	if (r == 0) {
		struct ct_perf_opts pe = { (unsigned)env->rate_hz, env->stack_bytes };
		/* an event per thread and CPU: as many descriptors as the hard limit allows (as perf) */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		r = ct_perf_open(&pe, &run.perf);
	}
	if (r == 0)
		return CT_EXIT_OK;
	ct_perf_close(run.perf);
	run.perf = NULL;
	for (size_t i = 0; i < run.n; i++)
		run.srcs[i]->perf_on = false;
	if (perf_refused(r) && env->sampler == CT_SAMPLER_AUTO) {
		ct_warn("perf_event_open was refused (%s: perf_event_paranoid, a seccomp filter or a "
			"container); using the ptrace sampler, which stops each sampled thread briefly",
			ct_strerror(r));
		return CT_EXIT_OK;
	}
	ct_error("cannot sample process %d with perf_event_open: %s (lower "
		 "/proc/sys/kernel/perf_event_paranoid, or use --sampler ptrace)", (int)env->pids[0],
		 ct_strerror(r));
	return CT_EXIT_TARGET;
}

static int open_sources(const struct ct_env *env)
{
	if (run.use_perf) {
		int code = open_perf(env, 0);
		if (code)
			return code;
	}
	for (size_t i = 0; i < env->npids; i++) {
		struct source *s = NULL;
		int r = add_source(env->pids[i], &s);
		if (r == -ESRCH) {
			if (env->tid)
				ct_error("thread %d of process %d exited before the first sample", (int)env->tid,
					 (int)env->pids[i]);
			else
				ct_error("process %d exited before the first sample", (int)env->pids[i]);
			return CT_EXIT_TARGET;
		}
		if (r < 0 && s && s->pr && run.perf) {
			/* the profiler opened, the perf events did not */
			s->gone = false;
			int code = open_perf(env, r);
			if (code)
				return code;
			continue;
		}
		if (r < 0) {
			ct_error("cannot read the memory map of process %d: %s", (int)env->pids[i], ct_strerror(r));
			return CT_EXIT_TARGET;
		}
	}
	return CT_EXIT_OK;
}

/* The options --profile refuses together. Returns an exit code. */
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

int cmd_profile(struct ct_env *env)
{
	enum ct_format fmt = env->format;
	if (fmt == CT_FMT_DEFAULT)
		fmt = !env->output && isatty(STDOUT_FILENO) ? CT_FMT_TEXT : CT_FMT_FOLDED;
	if (!env->stack_bytes_given)
		env->stack_bytes = PROFILE_STACK_DEFAULT;
	for (size_t i = 0; i < env->npids; i++) {
		int code = ct_cli_check_target(env->pids[i]);
		if (code)
			return code;
	}
	int code = check_profile_options(env);
	if (!code)
		code = check_output(env);
	if (code)
		return code;

	struct ct_profile *prof = NULL;
	if (ct_profile_new(&prof) < 0) {
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	install_handlers();
	run.env = env;
	run.prof = prof;
	run.use_perf = env->sampler != CT_SAMPLER_PTRACE && !env->mode_wall;
	prof->period_ns = 1000000000ull / (uint64_t)env->rate_hz;
	prof->wall = env->mode_wall;
	uint64_t t_open = ct_now_ns();
	code = open_sources(env);
	bool perf = run.perf != NULL;
	/* -d counts from here: opening events on many busy threads can take long (ctrace competes
	 * with them for a CPU), and the profile is the sampling time */
	run.t0 = ct_now_ns();
	prof->start_ns = ct_realtime_ns();
	if (code == CT_EXIT_OK) {
		ct_verbose(env, "sampling %zu process(es) at %ld Hz with the %s sampler (started in %.2f s)", run.n,
			   env->rate_hz, perf ? "perf" : "ptrace", (double)(run.t0 - t_open) / 1e9);
		if (perf)
			ct_verbose(env, "perf: %zu threads, %zu rings of %zu KiB (one per CPU)",
				   ct_perf_stats(run.perf)->threads, ct_perf_stats(run.perf)->cpus,
				   ct_perf_stats(run.perf)->ring_bytes / 1024);
		uint64_t deadline = env->duration_s > 0 ? run.t0 + (uint64_t)(env->duration_s * 1e9) : UINT64_MAX;
		progress.tty = isatty(STDERR_FILENO);
		progress.verbose = env->verbose > 0;
		progress.hz = (uint64_t)env->rate_hz;
		progress.next_ns = run.t0 + 1000000000ull;
		int r = perf ? run_perf(deadline) : run_ptrace(deadline, prof->period_ns);
		if (r < 0) {
			ct_error("sampling failed: %s", ct_strerror(r));
			code = CT_EXIT_TARGET;
		}
	}
	progress_end();
	prof->duration_ns = ct_now_ns() - run.t0;
	if (stop_signal)
		ct_verbose(env, "stopped by signal %d; writing the profile", (int)stop_signal);

	uint64_t requested = 0, truncated = 0, lost = lost_samples();
	long tck = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < run.n; i++) {
		struct source *s = run.srcs[i];
		if (s->pr) {
			for (const char *w; (w = ct_profiler_next_warning(s->pr));)
				ct_warn("%s", w);
			truncated += ct_profiler_stats(s->pr)->truncated;
		}
		if (tck > 0)
			requested += (s->cpu_ticks - s->cpu_ticks0) * (uint64_t)env->rate_hz / (uint64_t)tck;
	}
	if (perf && ct_perf_stats(run.perf)->open_failed)
		ct_warn("%zu threads were not sampled: their perf events could not be opened (%s)%s",
			ct_perf_stats(run.perf)->open_failed, ct_strerror(ct_perf_stats(run.perf)->open_err),
			ct_perf_stats(run.perf)->open_err == -EMFILE ? "; raise the limit with ulimit -n" : "");
	if (code == CT_EXIT_OK) {
		char title[256];
		struct source *s0 = run.srcs[0];
		snprintf(title, sizeof(title), "ctrace profile of %s (%d)%s", s0->comm ? s0->comm : "?",
			 (int)s0->pid, run.n > 1 ? " and others" : "");
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
			   "%" PRIu64 " lost, %" PRIu64 " truncated stacks, %zu stacks, %zu frames, %zu processes",
			   prof->total, (double)prof->duration_ns / 1e9, requested, lost, truncated, prof->nstacks,
			   prof->nframes, run.n);
		if (!env->mode_wall && !progress.behind_said && requested >= 20 && prof->total * 10 < requested * 9)
			ct_warn("behind in sampling: %" PRIu64 " samples for about %" PRIu64 " expected (%.0f%%)%s",
				prof->total, requested, 100.0 * (double)prof->total / (double)requested,
				lost ? "; the kernel dropped some (ring buffer full)" : "");
		if (prof->total == 0)
			ct_warn("no samples: the process did not run on a CPU while sampled (try --mode wall)");
	}
	queue_free();
	ct_perf_close(run.perf);
	for (size_t i = 0; i < run.n; i++)
		free_source(run.srcs[i]);
	free(run.srcs);
	memset(&run, 0, sizeof(run));
	ct_profile_free(prof);
	ct_attach_release_pending();
	return code;
}
