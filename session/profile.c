/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/profile.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "attach/perf.h"
#include "attach/ptsample.h"
#include "lib/boost.h"
#include "lib/error.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "process/target.h"
#include "session/ringreader.h"
#include "session/samplequeue.h"
#include "lib/banned.h"

#define MAX_SOURCES 4096          /* processes followed at once (several -p, --children) */
#define CHILDREN_MAX_BYTES (1 << 20) /* of a children file: "PID " each, so at most half as many */
#define SCAN_NS 100000000ull      /* new threads and child processes are followed within 0.1 s */
#define MAX_MESSAGES 4096
#define PY_POLL_MS 2ull           /* perf rings read this often when a process is Python or Ruby */         /* waiting for the caller; more are counted, and said in one line */

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
	long threads;    /* as last seen (1 with tid) */
	uint64_t weight_ns;
	uint64_t ptrace_samples, ptrace_errors;
	struct ct_ptsample_state pts;
	char exe[256];   /* ptrace sampler: /proc/PID/exe when last seen, to notice an exec */
	struct tname *tn; /* --per-thread: thread names, reread each second */
	size_t ntn, cap_tn;
};

struct message {
	enum ct_msg_level level;
	char *text;
};

struct ct_profile_session {
	struct ct_profile_session_opts o;
	pid_t *pids;              /* a copy of o.pids */
	struct ct_profile *prof;
	struct ct_perf *perf;     /* one perf sampler for every process; NULL: the ptrace sampler */
	struct ct_attach attach;  /* the ptrace sampler's capture state */
	struct source **srcs;
	size_t n, cap;
	uint64_t t_open, t0;
	struct ct_sample_queue queue;
	struct message *msgs;
	size_t head_msgs, nmsgs, cap_msgs;
	char *said;               /* the message last handed out */
	uint64_t msgs_dropped;    /* messages beyond MAX_MESSAGES, not yet said */
	/* ct_profile_session_interval: each stack's count at the last call, and the delta since */
	uint64_t *mark, *delta;
	size_t nmark, cap_mark, cap_delta;
	uint64_t mark_ns;
	bool sorted;              /* ct_profile_session_finish reordered the stacks */
	bool interp_off;          /* ct_profile_session_set_interp(false): native frames only */
	struct ct_boost boost;    /* the session thread's nice, for the session (lib/boost.h) */
	uint64_t cpu0_ns, cpu_ns; /* ctrace's CPU time at t0, and used from t0 to the end of the run */
	/* the perf rings drained on a thread of their own (session/ringreader.h) while run_perf runs;
	 * perf_lock serializes every use of perf meanwhile */
	struct ct_ring_reader *reader;
	pthread_mutex_t perf_lock;
	int reader_err;           /* why the thread was not started (0: it was, or not tried) */
	struct ct_ring_reader_stats reader_st;
	bool reader_used;
};

static void perf_lock(const struct ct_profile_session *ps)
{
	pthread_mutex_lock((pthread_mutex_t *)&ps->perf_lock);
}

static void perf_unlock(const struct ct_profile_session *ps)
{
	pthread_mutex_unlock((pthread_mutex_t *)&ps->perf_lock);
}

/* ctrace's own CPU time (every thread), for -v: what sampling cost while it ran. */
static uint64_t own_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void say(struct ct_profile_session *ps, enum ct_msg_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct ct_profile_session *ps, enum ct_msg_level level, const char *fmt, ...)
{
	if (level == CT_MSG_VERBOSE && !ps->o.verbose)
		return;
	if (ps->nmsgs - ps->head_msgs >= MAX_MESSAGES) {
		ps->msgs_dropped++;
		return;
	}
	if (ps->head_msgs && ps->head_msgs == ps->nmsgs)
		ps->head_msgs = ps->nmsgs = 0;
	if (ct_grow(&ps->msgs, &ps->cap_msgs, ps->nmsgs + 1, sizeof(*ps->msgs)) < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	ps->msgs[ps->nmsgs++] = (struct message){ level, text };
}

const char *ct_profile_session_next_message(struct ct_profile_session *ps, enum ct_msg_level *ret_level)
{
	free(ps->said);
	ps->said = NULL;
	if (ps->head_msgs == ps->nmsgs) {
		if (!ps->msgs_dropped)
			return NULL;
		/* the caller drains at every tick: this takes thousands of messages in one tick */
		if (asprintf(&ps->said, "%" PRIu64 " more messages were not kept (too many at once)",
			     ps->msgs_dropped) < 0)
			return NULL;
		ps->msgs_dropped = 0;
		*ret_level = CT_MSG_WARN;
		return ps->said;
	}
	struct message *m = &ps->msgs[ps->head_msgs++];
	*ret_level = m->level;
	ps->said = m->text;
	return ps->said;
}

static void read_exe(pid_t pid, char *buf, size_t n)
{
	(void)ct_proc_exe(pid, buf, n); /* "" when unreadable */
}

static bool stopped(const struct ct_profile_session *ps)
{
	return ps->o.stop && *ps->o.stop;
}

static void tick(struct ct_profile_session *ps)
{
	if (ps->o.tick)
		ps->o.tick(ps->o.tick_arg, ps);
}

/* utime + stime of the whole process (of the thread with tid), and its thread count; false when it
 * is gone or a zombie. */
static bool proc_cpu(const struct ct_profile_session *ps, pid_t pid, uint64_t *ret_ticks, long *ret_threads)
{
	char *text = NULL;
	struct ct_proc_stat st;
	bool alive = false;
	/* tid: the thread's own CPU time, and the thread's end is the profile's */
	if (ct_proc_read(pid, ps->o.tid, "stat", 4096, &text) == 0 && ct_parse_proc_stat(text, &st) == 0 &&
	    st.state != 'Z' && st.state != 'X') {
		alive = true;
		*ret_ticks = st.utime + st.stime;
		*ret_threads = ps->o.tid ? 1 : st.num_threads;
	}
	free(text);
	return alive;
}

/* per_thread: the frame under the process, "NAME-TID" (names change: reread each second). */
static const char *thread_frame(const struct ct_profile_session *ps, struct source *s, pid_t tid, char *buf,
				size_t n)
{
	if (!ps->o.per_thread)
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

static struct source *find_source(const struct ct_profile_session *ps, pid_t pid)
{
	for (size_t i = ps->n; i-- > 0;)
		if (ps->srcs[i]->pid == pid)
			return ps->srcs[i];
	return NULL;
}

/* Samples are copied out of the rings at once and unwound afterwards (session/samplequeue.h). */
static int perf_sample(void *arg, const struct ct_perf_sample *s)
{
	struct ct_profile_session *ps = arg;
	struct source *src = find_source(ps, s->pid);
	if (!src)
		return 0; /* a process no longer followed */
	struct ct_sample *e;
	int r = ct_sample_queue_push(&ps->queue, &s->cap, &e);
	if (!e)
		return r;
	e->owner = src;
	/* Python, Ruby: the thread was not stopped, so its frames are read now, as close to the sample
	 * as the ring allows, and checked against the sample (ct_py_read_sampled, ct_rb_read_sampled) */
	const struct ct_profiler_interp *in = !s->exec && src->pr ? ct_profiler_interp(src->pr) : NULL;
	if (in && (r = in->read_sampled(in->arg, s->pid, &e->cap)) < 0)
		return r;
	e->in_kernel = s->in_kernel;
	e->exec = s->exec;
	memcpy(e->comm, s->comm, sizeof(e->comm));
	if (!s->exec && ps->o.per_thread)
		thread_frame(ps, src, s->tid, e->thread, sizeof(e->thread));
	return 0;
}

static int open_profiler(struct ct_profile_session *ps, struct source *s)
{
	char root[96];
	if (ps->o.per_pid)
		snprintf(root, sizeof(root), "%s-%d", s->comm ? s->comm : "?", (int)s->pid);
	else
		snprintf(root, sizeof(root), "%s", s->comm ? s->comm : "?");
	int r = ct_profiler_open(s->pid, root, ps->prof, &ps->o.prof, &s->pr);
	if (r == 0 && ps->interp_off)
		ct_profiler_set_interp(s->pr, false);
	if (r == 0 && ps->o.labels) {
		/* pprof carries host, pid, comm, thread and tid labels, for fleet-wide aggregation */
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		r = ct_profiler_label(s->pr, host, s->comm);
	}
	return r;
}

static void drain_warnings(struct ct_profile_session *ps, struct source *s)
{
	for (const char *w; s->pr && (w = ct_profiler_next_warning(s->pr));)
		say(ps, CT_MSG_WARN, "%s", w);
}

/* The process executed a new program: its modules and maybe its name changed, so samples from now
 * on are unwound and symbolized against the new program. comm: the new name when known. */
static int follow_exec(struct ct_profile_session *ps, struct source *s, const char *comm)
{
	drain_warnings(ps, s);
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
	say(ps, CT_MSG_WARN, "process %d executed a new program (%s); following it", (int)s->pid,
	    s->comm ? s->comm : "?");
	int r = open_profiler(ps, s);
	return r == -ENOMEM ? r : 0; /* gone meanwhile: its samples are dropped */
}

/* Reads the perf rings of every process (timeout_ms 0: what is there now). */
static int perf_read(struct ct_profile_session *ps, int timeout_ms)
{
	if (ps->reader)
		return ct_ring_reader_take(ps->reader, timeout_ms, perf_sample, ps);
	return ps->perf ? ct_perf_read(ps->perf, timeout_ms, perf_sample, ps) : 0;
}

static int refill(void *arg)
{
	return perf_read(arg, 0);
}

static int consume(void *arg, const struct ct_sample *e)
{
	struct ct_profile_session *ps = arg;
	struct source *src = e->owner;
	if (e->exec)
		return follow_exec(ps, src, e->comm);
	if (!src->pr)
		return 0;
	return ct_profiler_add(src->pr, &e->cap, e->in_kernel, e->thread[0] ? e->thread : NULL, 1, src->weight_ns);
}

static void sleep_until(uint64_t when_ns)
{
	uint64_t now = ct_now_ns();
	if (when_ns <= now)
		return;
	struct timespec ts = { (time_t)((when_ns - now) / 1000000000ull), (long)((when_ns - now) % 1000000000ull) };
	nanosleep(&ts, NULL); /* a signal ends it early; the loop checks the stop flag */
}

static void say_gone(struct ct_profile_session *ps, struct source *src)
{
	if (src->gone)
		return;
	src->gone = true;
	double secs = (double)(ct_now_ns() - ps->t0) / 1e9;
	bool given = false; /* a -p (said), or a child followed with children (said with -v) */
	for (size_t i = 0; i < ps->o.npids; i++)
		given |= ps->pids[i] == src->pid;
	const char *comm = src->comm ? src->comm : "?";
	if (ps->o.tid)
		say(ps, CT_MSG_WARN, "thread %d of process %d (%s) exited after %.1f s; the profile covers it "
		    "until then", (int)ps->o.tid, (int)src->pid, comm, secs);
	else if (given)
		say(ps, CT_MSG_WARN, "process %d (%s) exited after %.1f s; the profile covers it until then",
		    (int)src->pid, comm, secs);
	else
		say(ps, CT_MSG_VERBOSE, "process %d (%s) exited after %.1f s", (int)src->pid, comm, secs);
}

/* Starts following process pid: its profiler, and its events with the perf sampler. Returns 0,
 * -ESRCH (gone), or -errno. */
static int add_source(struct ct_profile_session *ps, pid_t pid, struct source **ret)
{
	if (ps->n >= MAX_SOURCES)
		return -E2BIG;
	if (ct_grow(&ps->srcs, &ps->cap, ps->n + 1, sizeof(*ps->srcs)) < 0)
		return -ENOMEM;
	struct source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->weight_ns = 1000000000ull / (uint64_t)ps->o.rate_hz;
	s->pts.period_ns = s->weight_ns;
	ps->srcs[ps->n++] = s; /* freed with the others */
	if (ret)
		*ret = s;
	struct ct_target tg;
	if (ct_target_open(pid, &tg) == 0) {
		s->comm = tg.comm;
		tg.comm = NULL;
		ct_target_clear(&tg);
	}
	if (!proc_cpu(ps, pid, &s->cpu_ticks0, &s->threads)) {
		s->gone = true;
		return -ESRCH;
	}
	s->cpu_ticks = s->cpu_ticks0;
	read_exe(pid, s->exe, sizeof(s->exe));
	int r = open_profiler(ps, s);
	if (r == 0 && ps->perf) {
		perf_lock(ps);
		r = ct_perf_add(ps->perf, pid, ps->o.tid);
		perf_unlock(ps);
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

/* Follows child, a child process of parent, unless it is followed already. */
static void follow_child(struct ct_profile_session *ps, pid_t parent, pid_t child)
{
	if (find_source(ps, child))
		return;
	struct source *s = NULL;
	int r = add_source(ps, child, &s);
	if (r == 0)
		say(ps, CT_MSG_VERBOSE, "following child process %d (%s) of %d", (int)child, s->comm ? s->comm : "?",
		    (int)parent);
	else if (r != -ESRCH && r != -E2BIG)
		say(ps, CT_MSG_WARN, "cannot follow child process %d: %s", (int)child, ct_strerror(r));
}

/* children: follows every process whose parent is followed, as /proc/PID/task/TID/children shows
 * them (a worker forked during the profile is followed within SCAN_NS). */
static void scan_children(struct ct_profile_session *ps)
{
	if (!ps->o.children)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->srcs[i]->gone)
			continue;
		pid_t pid = ps->srcs[i]->pid;
		pid_t *tids = NULL;
		size_t nt = 0;
		if (ct_proc_list_tasks(pid, &tids, &nt) < 0)
			continue;
		for (size_t k = 0; k < nt; k++) {
			char *text = NULL;
			pid_t *kids = NULL;
			size_t nk = 0;
			int r = ct_proc_read(pid, tids[k], "children", CHILDREN_MAX_BYTES, &text);
			if (r == 0)
				r = ct_parse_proc_children(text, CHILDREN_MAX_BYTES / 2, &kids, &nk);
			free(text);
			for (size_t j = 0; r == 0 && j < nk; j++)
				follow_child(ps, pid, kids[j]);
			free(kids);
		}
		free(tids);
	}
}

static int perf_scan(struct ct_profile_session *ps, pid_t pid)
{
	perf_lock(ps);
	int r = ct_perf_scan(ps->perf, pid);
	perf_unlock(ps);
	return r;
}

/* The rings' reading thread, but for Python and Ruby, whose frames are read from the running process
 * as each sample comes out of the ring (as close to it as possible: the session thread reads the
 * rings every PY_POLL_MS itself). Not started (the session thread reads them) when it cannot be. */
static void start_reader(struct ct_profile_session *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (!ps->srcs[i]->gone && ps->srcs[i]->pr && ct_profiler_interp(ps->srcs[i]->pr))
			return;
	ps->reader_err = ct_ring_reader_start(ps->perf, &ps->perf_lock, CT_SAMPLE_QUEUE_MAX_BYTES, &ps->reader);
	ps->reader_used = ps->reader_err == 0;
	if (ps->reader_err == 0)
		say(ps, CT_MSG_VERBOSE, "perf rings read by their own thread (ctrace-rings, at the session thread's "
		    "priority: it only copies samples out, at most %ld a second per CPU, and reads at least every "
		    "%d ms); unwinding on the session thread", ps->o.rate_hz, CT_RING_READER_WAIT_MS);
	else
		say(ps, CT_MSG_VERBOSE, "perf rings read by the session thread (no thread of their own: %s)",
		    ct_strerror(ps->reader_err));
}

/* Stops the reading thread: what it copied out is queued, what is left in the rings is read next. */
static void stop_reader(struct ct_profile_session *ps)
{
	if (!ps->reader)
		return;
	ct_ring_reader_stop(ps->reader);
	ct_ring_reader_stats(ps->reader, &ps->reader_st);
	int r = ct_ring_reader_take(ps->reader, 0, perf_sample, ps);
	if (r < 0 && !ps->reader_err)
		ps->reader_err = r;
	ct_ring_reader_free(ps->reader);
	ps->reader = NULL;
}

static int run_perf_loop(struct ct_profile_session *ps, uint64_t deadline);

static int run_perf(struct ct_profile_session *ps, uint64_t deadline)
{
	start_reader(ps);
	int r = run_perf_loop(ps, deadline);
	stop_reader(ps);
	/* the CPU time the samples are held against, up to the last read (the last scan may be 0.1 s
	 * old, or seconds when the session thread waited for a CPU) */
	for (size_t i = 0; i < ps->n; i++)
		if (!ps->srcs[i]->gone)
			(void)proc_cpu(ps, ps->srcs[i]->pid, &ps->srcs[i]->cpu_ticks, &ps->srcs[i]->threads);
	if (r == 0 && ps->reader_err < 0 && ps->reader_used)
		r = ps->reader_err;
	/* what the kernel wrote since the last read, whatever ended the profile */
	if (r == 0)
		r = perf_read(ps, 0);
	if (r == 0)
		r = ct_sample_queue_drain(&ps->queue, consume, refill, ps);
	tick(ps);
	return r;
}

static int run_perf_loop(struct ct_profile_session *ps, uint64_t deadline)
{
	uint64_t next_scan = ct_now_ns();
	bool python = false;
	for (;;) {
		size_t live = 0;
		uint64_t now = ct_now_ns();
		bool scan = now >= next_scan;
		if (scan) {
			next_scan = now + SCAN_NS;
			scan_children(ps);
		}
		for (size_t i = 0; i < ps->n; i++) {
			struct source *s = ps->srcs[i];
			if (s->gone)
				continue;
			if (scan && (!proc_cpu(ps, s->pid, &s->cpu_ticks, &s->threads) || perf_scan(ps, s->pid) == -ESRCH)) {
				say_gone(ps, s); /* its last samples are in the rings still */
				continue;
			}
			const struct ct_profiler_interp *in = s->pr ? ct_profiler_interp(s->pr) : NULL;
			if (scan && in)
				in->threads_refresh(in->arg);
			python |= in != NULL;
			live++;
		}
		int r = ct_sample_queue_drain(&ps->queue, consume, refill, ps);
		if (r < 0)
			return r;
		tick(ps);
		if (!live || stopped(ps) || ct_now_ns() >= deadline)
			break;
		uint64_t left_ms = (deadline - ct_now_ns()) / 1000000ull;
		/* Python, Ruby: the frames are read when a sample is drained, so the rings are read often */
		r = perf_read(ps, (int)CT_MIN(left_ms + 1, python ? PY_POLL_MS : 100ull));
		if (r < 0)
			return r;
	}
	return 0;
}

/* One tick of the ptrace sampler for one process. */
static int ptrace_tick(struct ct_profile_session *ps, struct source *s, const struct ct_attach_opts *ao,
		       uint64_t period_ns)
{
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
	struct ct_attach_opts pao = *ao;
	const struct ct_profiler_interp *in = s->pr && !s->exec_pending ? ct_profiler_interp(s->pr) : NULL;
	if (in && in->threads_refresh(in->arg) == 0) {
		/* the frames are copied while each sampled thread is stopped (bounded), and decoded
		 * after it runs again; before Python 3.11 the thread pointer, read only by a stop, matches it */
		pao.while_stopped = in->while_stopped;
		pao.while_stopped_arg = in->arg;
		if (in->needs_thread_pointer)
			pao.passive = false;
	}
	int r = proc_cpu(ps, s->pid, &s->cpu_ticks, &s->threads) ?
		ct_ptsample_take(&ps->attach, s->pid, ps->o.tid, ps->o.wall ? NULL : &s->pts, &pao, &set) : -ESRCH;
	if (r == -ESRCH) {
		say_gone(ps, s);
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
		if (follow_exec(ps, s, NULL) < 0) {
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
		uint64_t cnt = ps->o.wall ? 1 : s->pts.counts[j];
		s->ptrace_samples += cnt;
		char thread[32];
		if (s->pr)
			r = ct_profiler_add(s->pr, c, false, thread_frame(ps, s, c->tid, thread, sizeof(thread)), cnt,
					    cnt * period_ns);
	}
	ct_capture_set_free(set);
	return r;
}

static int run_ptrace(struct ct_profile_session *ps, uint64_t deadline, uint64_t period_ns)
{
	struct ct_attach_opts ao = CT_ATTACH_OPTS_DEFAULT;
	ao.stack_bytes = ps->o.stack_bytes;
	ao.timeout_ns = ps->o.timeout_ns;
	ao.passive = ps->o.passive;
	uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ ps->t0;
	uint64_t next = ct_now_ns() + ct_ptsample_next_delay(period_ns, &seed), next_scan = 0;
	for (;;) {
		sleep_until(CT_MIN(next, deadline));
		if (stopped(ps) || ct_now_ns() >= deadline)
			return 0;
		if (ct_now_ns() < next)
			continue;
		if (ct_now_ns() >= next_scan) {
			next_scan = ct_now_ns() + SCAN_NS;
			scan_children(ps);
		}
		size_t live = 0;
		for (size_t i = 0; i < ps->n; i++) {
			struct source *s = ps->srcs[i];
			if (s->gone)
				continue;
			int r = ptrace_tick(ps, s, &ao, period_ns);
			if (r < 0)
				return r;
			live += !s->gone;
		}
		if (!live)
			return 0;
		tick(ps);
		/* the next tick from the schedule, not from now, so slow samples do not drift the rate;
		 * ticks already missed are skipped (and show in the delivered count) */
		next += ct_ptsample_next_delay(period_ns, &seed);
		if (next < ct_now_ns())
			next = ct_now_ns() + ct_ptsample_next_delay(period_ns, &seed) / 2;
	}
}

static bool perf_refused(int r)
{
	return r == -EACCES || r == -EPERM || r == -ENOSYS || r == -ENOENT || r == -EOPNOTSUPP ||
	       r == -EINVAL;
}

/* Opens the perf sampler (r_add: an error from adding a process, 0 to open it); on a refusal with
 * the automatic choice, says so and leaves ps->perf NULL (the ptrace sampler). 0 or -errno. */
static int open_perf(struct ct_profile_session *ps, int r_add)
{
	int r = r_add;
	if (r == 0) {
		struct ct_perf_opts pe = { (unsigned)ps->o.rate_hz, ps->o.stack_bytes };
		/* an event per thread and CPU: as many descriptors as the hard limit allows (as perf) */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		r = ct_perf_open(&pe, &ps->perf);
	}
	if (r == 0)
		return 0;
	ct_perf_close(ps->perf);
	ps->perf = NULL;
	for (size_t i = 0; i < ps->n; i++)
		ps->srcs[i]->perf_on = false;
	if (perf_refused(r) && ps->o.sampler == CT_SAMPLER_AUTO) {
		say(ps, CT_MSG_WARN, "perf_event_open was refused (%s: perf_event_paranoid, a seccomp filter or a "
		    "container); using the ptrace sampler, which stops each sampled thread briefly", ct_strerror(r));
		return 0;
	}
	return r;
}

int ct_profile_session_open(const struct ct_profile_session_opts *o, struct ct_profile_session **ret,
			    enum ct_profile_open_error *ret_what, pid_t *ret_pid)
{
	*ret = NULL;
	*ret_what = CT_PROFILE_OPEN_SETUP;
	*ret_pid = o->npids ? o->pids[0] : 0;
	struct ct_profile_session *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	*ret = ps;
	ps->o = *o;
	ps->attach = (struct ct_attach)CT_ATTACH_INIT;
	ps->perf_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	ps->queue = (struct ct_sample_queue)CT_SAMPLE_QUEUE_INIT;
	if (ps->o.rate_hz <= 0)
		ps->o.rate_hz = 99;
	ps->pids = calloc(CT_MAX(o->npids, (size_t)1), sizeof(*ps->pids));
	if (!ps->pids || ct_profile_new(&ps->prof) < 0)
		return -ENOMEM;
	memcpy(ps->pids, o->pids, o->npids * sizeof(*ps->pids));
	ps->o.pids = ps->pids;
	ps->prof->period_ns = 1000000000ull / (uint64_t)ps->o.rate_hz;
	ps->prof->wall = o->wall;
	ps->t_open = ct_now_ns();
	/* on a saturated machine the rings are read only as often as this thread gets a CPU */
	ct_boost_begin_nice(&ps->boost);
	char bdesc[96];
	say(ps, CT_MSG_VERBOSE, "ctrace's priority while profiling: %s",
	    ct_boost_describe(&ps->boost, bdesc, sizeof(bdesc)));
	int r;
	if (o->sampler != CT_SAMPLER_PTRACE && !o->wall && (r = open_perf(ps, 0)) < 0) {
		*ret_what = CT_PROFILE_OPEN_PERF;
		*ret_pid = o->pids[0];
		return r;
	}
	for (size_t i = 0; i < o->npids; i++) {
		struct source *s = NULL;
		*ret_pid = o->pids[i];
		r = add_source(ps, o->pids[i], &s);
		if (r == -ESRCH) {
			*ret_what = CT_PROFILE_OPEN_GONE;
			return r;
		}
		if (r < 0 && s && s->pr && ps->perf) {
			/* the profiler opened, the perf events did not */
			s->gone = false;
			if ((r = open_perf(ps, r)) < 0) {
				*ret_what = CT_PROFILE_OPEN_PERF;
				return r;
			}
			continue;
		}
		if (r < 0) {
			*ret_what = CT_PROFILE_OPEN_MAPS;
			return r;
		}
	}
	/* the duration counts from here: opening events on many busy threads can take long (ctrace
	 * competes with them for a CPU), and the profile is the sampling time */
	ps->t0 = ct_now_ns();
	ps->cpu0_ns = own_cpu_ns();
	ps->prof->start_ns = ct_realtime_ns();
	return 0;
}

int ct_profile_session_run(struct ct_profile_session *ps)
{
	uint64_t deadline = ps->o.duration_s > 0 ? ps->t0 + (uint64_t)(ps->o.duration_s * 1e9) : UINT64_MAX;
	int r = ps->perf ? run_perf(ps, deadline) : run_ptrace(ps, deadline, ps->prof->period_ns);
	ps->prof->duration_ns = ct_now_ns() - ps->t0;
	ps->cpu_ns = own_cpu_ns() - ps->cpu0_ns;
	return r;
}

/* -v: how near the rings came to full and what reading them cost, so a loss (or its absence) can be
 * told apart from a short window or a target that got less CPU. */
static void say_costs(struct ct_profile_session *ps)
{
	if (!ps->t0 || !ps->prof->duration_ns)
		return; /* not run */
	if (ps->perf) {
		const struct ct_perf_stats *st = ct_perf_stats(ps->perf);
		say(ps, CT_MSG_VERBOSE, "perf rings: read %" PRIu64 " times, longest gap between reads %.0f ms, "
		    "fullest %zu KiB of %zu KiB (%.0f%%); samples dropped: %" PRIu64 " by the kernel (ring full), "
		    "%" PRIu64 " for the queue's bound", st->reads,
		    (double)st->read_gap_ns / 1e6, st->ring_peak / 1024, st->ring_bytes / 1024,
		    st->ring_bytes ? 100.0 * (double)st->ring_peak / (double)st->ring_bytes : 0.0, st->lost,
		    ps->queue.dropped + ps->reader_st.dropped);
		if (ps->reader_used)
			say(ps, CT_MSG_VERBOSE, "ring reader thread: %.0f ms of CPU (%.1f%% of one CPU), %zu KiB "
			    "queued at most", (double)ps->reader_st.cpu_ns / 1e6,
			    100.0 * (double)ps->reader_st.cpu_ns / (double)ps->prof->duration_ns,
			    ps->reader_st.peak_bytes / 1024);
	}
	say(ps, CT_MSG_VERBOSE, "ctrace's CPU while sampling: %.0f ms in %.1f s (%.1f%% of one CPU)",
	    (double)ps->cpu_ns / 1e6, (double)ps->prof->duration_ns / 1e9,
	    100.0 * (double)ps->cpu_ns / (double)ps->prof->duration_ns);
}

void ct_profile_session_finish(struct ct_profile_session *ps)
{
	if (!ps->prof)
		return; /* open failed before anything was set up */
	for (size_t i = 0; i < ps->n; i++)
		drain_warnings(ps, ps->srcs[i]);
	say_costs(ps);
	if (ps->perf && ct_perf_stats(ps->perf)->open_failed)
		say(ps, CT_MSG_WARN, "%zu threads were not sampled: their perf events could not be opened (%s)%s",
		    ct_perf_stats(ps->perf)->open_failed, ct_strerror(ct_perf_stats(ps->perf)->open_err),
		    ct_perf_stats(ps->perf)->open_err == -EMFILE ? "; raise the limit with ulimit -n" : "");
	ct_profile_sort(ps->prof);
	ps->sorted = true;
}

void ct_profile_session_stats(const struct ct_profile_session *ps, struct ct_profile_session_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->sampler = ps->perf ? "perf" : "ptrace";
	ret->sources = ps->n;
	ret->samples = ps->prof ? ps->prof->total : 0;
	ret->start_ns = ps->t0;
	ret->open_ns = ps->t0 ? ps->t0 - ps->t_open : 0;
	ret->elapsed_ns = ps->t0 ? ct_now_ns() - ps->t0 : 0;
	ret->lost = ps->queue.dropped;
	long tck = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < ps->n; i++) {
		const struct source *s = ps->srcs[i];
		if (tck > 0)
			ret->expected += (s->cpu_ticks - s->cpu_ticks0) * (uint64_t)ps->o.rate_hz / (uint64_t)tck;
		if (s->pr) {
			const struct ct_profiler_stats *pst = ct_profiler_stats(s->pr);
			ret->truncated += pst->truncated;
			ret->py_samples += pst->py_samples;
			ret->py_merged += pst->py_merged;
			ret->py_moved += pst->py_moved;
			ret->py_mismatch += pst->py_mismatch;
			ret->py_other += pst->py_other;
			ret->py_exact += pst->py_exact;
			const struct ct_profiler_interp *in = ct_profiler_interp(s->pr);
			if (!ret->python && in) {
				ret->interp_lang = in->lang;
				ret->python = in->version;
			}
		}
		if (!s->gone)
			ret->threads += (size_t)CT_MAX(s->threads, 0L);
	}
	if (ps->perf) {
		perf_lock(ps);
		struct ct_perf_stats pst = *ct_perf_stats(ps->perf);
		perf_unlock(ps);
		const struct ct_perf_stats *st = &pst;
		ret->lost += st->lost + ps->reader_st.dropped;
		ret->perf_threads = st->threads;
		ret->perf_cpus = st->cpus;
		ret->perf_ring_bytes = st->ring_bytes;
		ret->perf_open_failed = st->open_failed;
		ret->perf_open_err = st->open_err;
	}
}

struct ct_profile *ct_profile_session_profile(struct ct_profile_session *ps)
{
	return ps->prof;
}

/* Stacks are interned once and never move while the session runs (only finish sorts them), so a
 * copy of every stack's count is the whole state of an interval: the next one is the difference. */
int ct_profile_session_interval(struct ct_profile_session *ps, struct ct_profile_interval *ret)
{
	if (ps->sorted)
		return -EINVAL;
	const struct ct_profile *p = ps->prof;
	if (ct_grow(&ps->mark, &ps->cap_mark, CT_MAX(p->nstacks, (size_t)1), sizeof(*ps->mark)) < 0 ||
	    ct_grow(&ps->delta, &ps->cap_delta, CT_MAX(p->nstacks, (size_t)1), sizeof(*ps->delta)) < 0)
		return -ENOMEM;
	uint64_t now = ct_now_ns(), total = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		uint64_t before = i < ps->nmark ? ps->mark[i] : 0;
		ps->delta[i] = p->stacks[i].count - before;
		ps->mark[i] = p->stacks[i].count;
		total += ps->delta[i];
	}
	ps->nmark = p->nstacks;
	uint64_t from = ps->mark_ns ? ps->mark_ns : ps->t0;
	ps->mark_ns = now;
	*ret = (struct ct_profile_interval){ ps->delta, p->nstacks, total, now > from ? now - from : 0 };
	return 0;
}

pid_t ct_profile_session_first_pid(const struct ct_profile_session *ps)
{
	return ps->n ? ps->srcs[0]->pid : ps->o.npids ? ps->pids[0] : 0;
}

const char *ct_profile_session_first_comm(const struct ct_profile_session *ps)
{
	return ps->n && ps->srcs[0]->comm ? ps->srcs[0]->comm : "?";
}

void ct_profile_session_close(struct ct_profile_session *ps)
{
	if (!ps)
		return;
	ct_boost_end(&ps->boost);
	ct_ring_reader_free(ps->reader);
	ct_sample_queue_free(&ps->queue);
	ct_perf_close(ps->perf);
	for (size_t i = 0; i < ps->n; i++)
		free_source(ps->srcs[i]);
	free(ps->srcs);
	ct_attach_release_pending(&ps->attach);
	ct_profile_free(ps->prof);
	for (size_t i = ps->head_msgs; i < ps->nmsgs; i++)
		free(ps->msgs[i].text);
	free(ps->msgs);
	free(ps->said);
	free(ps->mark);
	free(ps->delta);
	free(ps->pids);
	free(ps);
}

void ct_profile_session_set_interp(struct ct_profile_session *ps, bool on)
{
	ps->interp_off = !on;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->srcs[i]->pr)
			ct_profiler_set_interp(ps->srcs[i]->pr, on);
}
