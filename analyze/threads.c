/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze/threads.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "analyze/rbwaits.h"
#include "lib/capture.h"
#include "lib/banned.h"

/* How many innermost frames are searched for a known waiting function. */
#define WAIT_SCAN_FRAMES 16

static const char *const class_names[CT_CLASS_COUNT] = {
	[CT_CLASS_UNKNOWN] = "unknown", [CT_CLASS_BLOCKED] = "blocked", [CT_CLASS_SPINNING] = "spinning",
	[CT_CLASS_RUNNING] = "running", [CT_CLASS_IDLE] = "idle",       [CT_CLASS_STOPPED] = "stopped",
	[CT_CLASS_GONE] = "gone",
};

static const char *const wait_names[] = {
	[CT_WAIT_NONE] = "none",       [CT_WAIT_MUTEX] = "mutex",   [CT_WAIT_CONDVAR] = "condvar",
	[CT_WAIT_RWLOCK] = "rwlock",   [CT_WAIT_SEMAPHORE] = "semaphore", [CT_WAIT_JOIN] = "join",
	[CT_WAIT_IO] = "io",           [CT_WAIT_POLL] = "poll",     [CT_WAIT_SLEEP] = "sleep",
	[CT_WAIT_SIGWAIT] = "sigwait", [CT_WAIT_FUTEX] = "futex",   [CT_WAIT_LOCK] = "lock",
	[CT_WAIT_SYSCALL] = "syscall", [CT_WAIT_OTHER] = "other",   [CT_WAIT_GIL] = "gil",
};

const char *ct_class_name(enum ct_thread_class c)
{
	return (unsigned)c < CT_CLASS_COUNT ? class_names[c] : "unknown";
}

const char *ct_wait_kind_name(enum ct_wait_kind k)
{
	return (size_t)k < CT_ARRAY_SIZE(wait_names) ? wait_names[k] : "other";
}

/* Functions that say what a thread waits in (glibc's names, a few C++/JVM ones), matched
 * innermost first: __lll_lock_wait under pthread_cond_wait is a mutex wait. */
static const struct {
	const char *pattern;
	enum ct_wait_kind kind;
} wait_functions[] = {
	{ "__lll_lock_wait*", CT_WAIT_MUTEX },
	{ "*__lll_lock_wait*", CT_WAIT_MUTEX },
	{ "*pthread_mutex_lock*", CT_WAIT_MUTEX },
	{ "*pthread_mutex_timedlock*", CT_WAIT_MUTEX },
	{ "*pthread_mutex_clocklock*", CT_WAIT_MUTEX },
	{ "*pthread_mutex_cond_lock*", CT_WAIT_MUTEX },
	{ "*pthread_rwlock_*lock*", CT_WAIT_RWLOCK },
	{ "*pthread_cond_*wait*", CT_WAIT_CONDVAR },
	{ "std::condition_variable::wait*", CT_WAIT_CONDVAR },
	{ "java.lang.Object.wait*", CT_WAIT_CONDVAR },
	{ "*Unsafe.park*", CT_WAIT_CONDVAR },
	{ "*sem_wait*", CT_WAIT_SEMAPHORE },
	{ "*sem_timedwait*", CT_WAIT_SEMAPHORE },
	{ "*sem_clockwait*", CT_WAIT_SEMAPHORE },
	{ "*pthread_join*", CT_WAIT_JOIN },
	{ "*pthread_clockjoin*", CT_WAIT_JOIN },
	{ "*pthread_timedjoin*", CT_WAIT_JOIN },
	{ "java.lang.Thread.join*", CT_WAIT_JOIN },
	{ "*sigwait*", CT_WAIT_SIGWAIT },
	{ "*sigtimedwait*", CT_WAIT_SIGWAIT },
	{ "sigsuspend", CT_WAIT_SIGWAIT },
	{ "__sigsuspend", CT_WAIT_SIGWAIT },
	{ "pause", CT_WAIT_SIGWAIT },
	{ "__libc_pause", CT_WAIT_SIGWAIT },
	{ "*nanosleep*", CT_WAIT_SLEEP },
	{ "sleep", CT_WAIT_SLEEP },
	{ "usleep", CT_WAIT_SLEEP },
	{ "java.lang.Thread.sleep*", CT_WAIT_SLEEP },
	{ "epoll_wait", CT_WAIT_POLL },
	{ "epoll_pwait*", CT_WAIT_POLL },
	{ "poll", CT_WAIT_POLL },
	{ "__poll", CT_WAIT_POLL },
	{ "ppoll", CT_WAIT_POLL },
	{ "__ppoll*", CT_WAIT_POLL },
	{ "select", CT_WAIT_POLL },
	{ "__select", CT_WAIT_POLL },
	{ "pselect*", CT_WAIT_POLL },
	{ "*EPoll*.wait*", CT_WAIT_POLL },
	{ "read", CT_WAIT_IO },
	{ "__libc_read", CT_WAIT_IO },
	{ "__read_nocancel", CT_WAIT_IO },
	{ "readv", CT_WAIT_IO },
	{ "pread*", CT_WAIT_IO },
	{ "__libc_pread*", CT_WAIT_IO },
	{ "recv*", CT_WAIT_IO },
	{ "__libc_recv*", CT_WAIT_IO },
	{ "accept*", CT_WAIT_IO },
	{ "__libc_accept*", CT_WAIT_IO },
	{ "write", CT_WAIT_IO },
	{ "__libc_write", CT_WAIT_IO },
	{ "send*", CT_WAIT_IO },
	{ "connect", CT_WAIT_IO },
	{ "*socketRead*", CT_WAIT_IO },
	{ "waitpid", CT_WAIT_OTHER },
	{ "wait4", CT_WAIT_OTHER },
	{ "__futex_abstimed_wait*", CT_WAIT_FUTEX },
	{ "*futex_wait*", CT_WAIT_FUTEX },
};

/* Places where a waiting thread is idle rather than stuck: worker pools and event loops. */
static const char *const builtin_idle[] = {
	"*pool*", "*Pool*", "*idle*", "*Idle*", "*worker_wait*", "*wait_for_work*", "*wait_for_task*",
	"*event_loop*", "*EventLoop*", "event_base_loop", "uv_run", "g_main_loop_run",
	"g_main_context_iterate*", "g_async_queue_pop*", "g_async_queue_timeout_pop*", "*getTask*",
};

static enum ct_wait_kind kind_of_syscall(long nr)
{
	switch (nr) {
	case SYS_futex: return CT_WAIT_FUTEX;
	case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv: case SYS_recvfrom:
	case SYS_recvmsg: case SYS_recvmmsg: case SYS_accept: case SYS_accept4: case SYS_write:
	case SYS_writev: case SYS_pwrite64: case SYS_sendto: case SYS_sendmsg: case SYS_connect:
		return CT_WAIT_IO;
	case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6: case SYS_epoll_wait:
	case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return CT_WAIT_POLL;
	case SYS_nanosleep: case SYS_clock_nanosleep: return CT_WAIT_SLEEP;
	case SYS_rt_sigtimedwait: case SYS_rt_sigsuspend: case SYS_pause: return CT_WAIT_SIGWAIT;
	default: return nr >= 0 ? CT_WAIT_SYSCALL : CT_WAIT_NONE;
	}
}

enum ct_wait_kind ct_wait_kind_of(const struct ct_thread *t)
{
	bool futex = false;
	enum ct_wait_kind rk = ct_ruby_wait_kind(t);
	if (rk != CT_WAIT_NONE)
		return rk;
	size_t n = CT_MIN(t->nframes, (size_t)WAIT_SCAN_FRAMES);
	if (t->flags & CT_THREAD_GIL_WAITING)
		return CT_WAIT_GIL;
	for (size_t i = 0; i < n; i++) {
		const char *fn = t->frames[i].function;
		if (!fn)
			continue;
		if (strncmp(fn, "__GI_", 5) == 0)
			fn += 5; /* glibc's internal alias, as DWARF names it: __GI___select is __select */
		for (size_t k = 0; k < CT_ARRAY_SIZE(wait_functions); k++) {
			if (fnmatch(wait_functions[k].pattern, fn, 0) != 0)
				continue;
			/* a lock built on a semaphore (Python's RLock) whose id is known is a lock */
			if (wait_functions[k].kind == CT_WAIT_SEMAPHORE && t->lock_waiting)
				return CT_WAIT_LOCK;
			if (wait_functions[k].kind != CT_WAIT_FUTEX)
				return wait_functions[k].kind;
			futex = true;
			break;
		}
	}
	if (t->lock_waiting)
		return CT_WAIT_LOCK;
	if (futex)
		return CT_WAIT_FUTEX;
	if (t->syscall_nr >= 0 && t->state != 'R')
		return kind_of_syscall(t->syscall_nr);
	return CT_WAIT_NONE;
}

/* Whether the thread waits (in the kernel or, in a dump, in a known waiting function). */
static bool is_waiting(const struct ct_thread *t, enum ct_wait_kind k)
{
	if (t->state == 'R')
		return false;
	if (t->syscall_nr >= 0)
		return true;
	if (t->syscall_nr == CT_SYSCALL_NONE)
		return false;
	return k != CT_WAIT_NONE;
}

static bool frame_equal(const struct ct_frame *a, const struct ct_frame *b)
{
	if (a->inlined != b->inlined || a->python != b->python || a->ruby != b->ruby)
		return false;
	if (!a->function || !b->function)
		return !a->function && !b->function && a->pc == b->pc;
	if (strcmp(a->function, b->function) != 0)
		return false;
	/* an interpreter's function is its name in its file (no module; the line is where it is) */
	if ((a->python || a->ruby) && (!a->file || !b->file ? a->file != b->file : strcmp(a->file, b->file) != 0))
		return false;
	if (!a->module || !b->module)
		return !a->module && !b->module;
	return strcmp(a->module, b->module) == 0;
}

bool ct_stacks_equal(const struct ct_thread *a, const struct ct_thread *b)
{
	if (a->nframes != b->nframes)
		return false;
	for (size_t i = 0; i < a->nframes; i++)
		if (!frame_equal(&a->frames[i], &b->frames[i]))
			return false;
	return true;
}

/* Same stack but for at most `slack` innermost frames (a spin loop calling small helpers). */
static bool stacks_nearly_equal(const struct ct_thread *a, const struct ct_thread *b, size_t common_min)
{
	size_t na = a->nframes, nb = b->nframes, common = 0;
	while (common < na && common < nb &&
	       frame_equal(&a->frames[na - 1 - common], &b->frames[nb - 1 - common]))
		common++;
	if (common == na && common == nb)
		return true;
	size_t need = common_min ? common_min : (CT_MAX(na, nb) > 2 ? CT_MAX(na, nb) - 2 : 1);
	return common >= need && common > 0;
}

static uint64_t stack_hash(const struct ct_thread *t)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < t->nframes; i++) {
		const struct ct_frame *f = &t->frames[i];
		const char *s = f->function;
		if (s) {
			for (; *s; s++)
				h = (h ^ (unsigned char)*s) * 1099511628211ull;
		} else {
			h = (h ^ f->pc) * 1099511628211ull;
		}
		h = (h ^ (f->inlined ? 0x9e : 0x37)) * 1099511628211ull;
	}
	return h;
}

/* ---- the analysis ---- */

struct tid_ref {
	pid_t tid;
	const struct ct_thread *t;
};

static int cmp_tid_ref(const void *x, const void *y)
{
	const struct tid_ref *a = x, *b = y;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static const struct ct_thread *find_tid(const struct tid_ref *refs, size_t n, pid_t tid)
{
	struct tid_ref key = { tid, NULL };
	const struct tid_ref *r = bsearch(&key, refs, n, sizeof(*refs), cmp_tid_ref);
	return r ? r->t : NULL;
}

static bool matches_any(const char *fn, const char *const *pats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pats[i] && fnmatch(pats[i], fn, 0) == 0)
			return true;
	return false;
}

static bool in_idle_place(const struct ct_thread *t, const struct ct_analyze_opts *o)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const char *fn = t->frames[i].function;
		if (!fn)
			continue;
		if (o && o->nidle_patterns && matches_any(fn, o->idle_patterns, o->nidle_patterns))
			return true;
		if (!(o && o->no_builtin_idle) && matches_any(fn, builtin_idle, CT_ARRAY_SIZE(builtin_idle)))
			return true;
	}
	return false;
}

/* " in FUNC (FILE:LINE)": the innermost interpreter frame, the line of the program that waits */
static void describe_where(struct ct_buf *b, const struct ct_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const struct ct_frame *f = &t->frames[i];
		if (!f->python && !f->ruby)
			continue;
		if (f->function) {
			ct_buf_printf(b, " in %s", f->function);
			if (f->file)
				ct_buf_printf(b, f->line > 0 ? " (%s:%d)" : " (%s)", f->file, f->line);
		}
		return;
	}
}

static char *describe(const struct ct_thread *t, enum ct_wait_kind k)
{
	struct ct_buf b = CT_BUF_INIT;
	const char *sc = t->syscall_nr >= 0 ? ct_syscall_name(t->syscall_nr) : NULL;
	if (k != CT_WAIT_NONE && ct_ruby_wait_kind(t) == k)
		return ct_strdup(t->waiting_on); /* says it all, with the Ruby line */
	switch (k) {
	case CT_WAIT_MUTEX:
	case CT_WAIT_RWLOCK:
	case CT_WAIT_LOCK:
		ct_buf_puts(&b, ct_wait_kind_name(k));
		if (t->lock_waiting)
			ct_buf_printf(&b, " %s", t->lock_waiting);
		/* what the reader says of it, unless that only repeats the id (a jstack line) */
		if (t->waiting_on && !(t->lock_waiting && strstr(t->waiting_on, t->lock_waiting)))
			ct_buf_printf(&b, " (%s)", t->waiting_on);
		break;
	case CT_WAIT_GIL:
		ct_buf_puts(&b, "the GIL");
		break;
	case CT_WAIT_IO:
	case CT_WAIT_POLL:
		ct_buf_puts(&b, sc ? sc : ct_wait_kind_name(k));
		if (t->waiting_on)
			ct_buf_printf(&b, " on %s", t->waiting_on);
		break;
	case CT_WAIT_SYSCALL:
		ct_buf_printf(&b, "%s()", sc ? sc : "syscall");
		if (t->waiting_on)
			ct_buf_printf(&b, " on %s", t->waiting_on);
		break;
	case CT_WAIT_NONE:
		return NULL;
	case CT_WAIT_CONDVAR:
	case CT_WAIT_SEMAPHORE:
	case CT_WAIT_FUTEX:
		ct_buf_puts(&b, ct_wait_kind_name(k));
		if (t->waiting_on)
			ct_buf_printf(&b, " (%s)", t->waiting_on);
		break;
	default:
		ct_buf_puts(&b, ct_wait_kind_name(k));
		break;
	}
	describe_where(&b, t);
	if (b.err) {
		ct_buf_free(&b);
		return NULL;
	}
	return ct_buf_steal(&b);
}

/* Classifies one thread from its appearances (NULL where absent), oldest first. */
static void classify(struct ct_analysis *a, struct ct_thread_info *ti, const struct ct_thread *const *seen,
		     size_t nsnaps, const struct ct_analyze_opts *o, double ticks_per_interval)
{
	const struct ct_thread *newest = seen[nsnaps - 1];
	const struct ct_thread *first = NULL;
	for (size_t i = 0; i < nsnaps; i++) {
		if (seen[i]) {
			ti->seen++;
			if (!first)
				first = seen[i];
		}
	}
	ti->thread = newest;
	if (!newest) {
		for (size_t i = nsnaps; i-- > 0;)
			if (seen[i]) {
				ti->thread = seen[i];
				break;
			}
		ti->cls = CT_CLASS_GONE;
		return;
	}
	/* consecutive newest snapshots with the same stack */
	ti->same_stack = 1;
	for (size_t i = nsnaps - 1; i-- > 0 && seen[i] && ct_stacks_equal(seen[i], newest);)
		ti->same_stack++;
	if (first && first != newest) {
		ti->utime_delta = newest->utime_ticks >= first->utime_ticks ? newest->utime_ticks - first->utime_ticks : 0;
		ti->stime_delta = newest->stime_ticks >= first->stime_ticks ? newest->stime_ticks - first->stime_ticks : 0;
	}
	if (newest->flags & CT_THREAD_GONE) {
		ti->cls = CT_CLASS_GONE;
		return;
	}
	ti->wait = ct_wait_kind_of(newest);
	ti->lock_waiting = newest->lock_waiting;
	if ((newest->flags & CT_THREAD_GROUP_STOPPED) || newest->state == 'T') {
		/* what it waited for when stopped still counts for the lock graph */
		ti->why = describe(newest, ti->wait);
		ti->cls = CT_CLASS_STOPPED;
		return;
	}
	if (newest->error && newest->nframes == 0) {
		ti->cls = CT_CLASS_UNKNOWN;
		return;
	}
	/* a thread in the interpreter's take_gil waits for the GIL, even when runnable (woken to
	 * ask for it again) */
	if (is_waiting(newest, ti->wait) || ti->wait == CT_WAIT_GIL) {
		ti->why = describe(newest, ti->wait);
		bool lockish = ti->wait == CT_WAIT_MUTEX || ti->wait == CT_WAIT_RWLOCK || ti->wait == CT_WAIT_LOCK;
		if (!lockish && in_idle_place(newest, o))
			ti->cls = CT_CLASS_IDLE;
		else if (ti->same_stack == ti->seen)
			ti->cls = CT_CLASS_BLOCKED;
		else
			ti->cls = CT_CLASS_RUNNING; /* waits now, but its stack moved: it makes progress */
		return;
	}
	ti->wait = CT_WAIT_NONE;
	if (ti->seen < 2 || !a->cpu_known) {
		ti->cls = CT_CLASS_RUNNING;
		return;
	}
	/* On CPU: spinning when it kept (nearly) the same stack, never waited, and used CPU. */
	bool same = true, always_runnable = true;
	const struct ct_thread *prev = NULL;
	for (size_t i = 0; i < nsnaps; i++) {
		if (!seen[i])
			continue;
		if (is_waiting(seen[i], ct_wait_kind_of(seen[i])))
			same = false;
		always_runnable &= seen[i]->state == 'R';
		if (prev && !stacks_nearly_equal(prev, seen[i], o ? o->spin_common_frames : 0))
			same = false;
		prev = seen[i];
	}
	double cpu = (double)(ti->utime_delta + ti->stime_delta);
	if (ticks_per_interval > 0)
		ti->cpu_share = cpu / ticks_per_interval;
	/* On a loaded machine a spinner gets little CPU, but it is runnable at every look and its
	 * CPU time still rises. */
	bool burning = (ticks_per_interval > 0 && cpu >= 0.05 * ticks_per_interval) || (cpu > 0 && always_runnable);
	ti->cls = same && burning ? CT_CLASS_SPINNING : CT_CLASS_RUNNING;
}

/* The GIL's holder, for its waiters: not an edge of the wait-for graph (it changes hands every few
 * milliseconds, and is read a moment after the capture), a fact for people. */
static void find_gil_holder(struct ct_analysis *a)
{
	ssize_t h = -1;
	for (size_t i = 0; i < a->nthreads; i++) {
		const struct ct_thread *t = a->threads[i].thread;
		if (t && a->threads[i].cls != CT_CLASS_GONE && (t->flags & CT_THREAD_GIL_HOLDER))
			h = h < 0 ? (ssize_t)i : -2; /* two holders: say none */
	}
	for (size_t i = 0; h >= 0 && i < a->nthreads; i++)
		if (a->threads[i].wait == CT_WAIT_GIL && (size_t)h != i)
			a->threads[i].gil_holder = h;
}

/* ---- locks, wait-for graph, cycles ---- */

static ssize_t lock_find(struct ct_analysis *a, const char *id)
{
	for (size_t i = 0; i < a->nlocks; i++)
		if (strcmp(a->locks[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t lock_get(struct ct_analysis *a, const char *id, size_t *cap)
{
	ssize_t l = lock_find(a, id);
	if (l >= 0)
		return l;
	if (ct_grow(&a->locks, cap, a->nlocks + 1, sizeof(*a->locks)) < 0)
		return -ENOMEM;
	struct ct_lock *k = &a->locks[a->nlocks];
	memset(k, 0, sizeof(*k));
	k->holder = -1;
	k->kind = CT_WAIT_LOCK;
	k->id = strdup(id);
	if (!k->id)
		return -ENOMEM;
	return (ssize_t)a->nlocks++;
}

static int build_locks(struct ct_analysis *a)
{
	size_t cap = 0;
	/* Locks somebody waits for, with their waiters. */
	for (size_t i = 0; i < a->nthreads; i++) {
		struct ct_thread_info *ti = &a->threads[i];
		if (!ti->lock_waiting || ti->cls == CT_CLASS_GONE)
			continue;
		ssize_t l = lock_get(a, ti->lock_waiting, &cap);
		if (l < 0)
			return (int)l;
		struct ct_lock *k = &a->locks[l];
		size_t *w = realloc(k->waiters, (k->nwaiters + 1) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		k->waiters = w;
		k->waiters[k->nwaiters++] = i;
		if (ti->wait == CT_WAIT_MUTEX || ti->wait == CT_WAIT_RWLOCK)
			k->kind = ti->wait;
	}
	/* Their holders. */
	for (size_t i = 0; i < a->nthreads; i++) {
		const struct ct_thread *t = a->threads[i].thread;
		if (a->threads[i].cls == CT_CLASS_GONE || !t)
			continue;
		for (size_t h = 0; h < t->nlocks_held; h++) {
			ssize_t l = t->locks_held[h] ? lock_find(a, t->locks_held[h]) : -1;
			if (l >= 0 && a->locks[l].holder < 0)
				a->locks[l].holder = (ssize_t)i;
		}
	}
	for (size_t i = 0; i < a->nthreads; i++) {
		struct ct_thread_info *ti = &a->threads[i];
		ti->waits_for = -1;
		ti->deadlock = -1;
		if (!ti->lock_waiting || ti->cls == CT_CLASS_GONE)
			continue;
		/* a thread waiting for a lock it holds itself is a deadlock of one (a relock) */
		ssize_t l = lock_find(a, ti->lock_waiting);
		if (l >= 0)
			ti->waits_for = a->locks[l].holder;
	}
	return 0;
}

/* Each thread waits for at most one holder, so the wait-for graph is a functional graph: walking
 * from every thread, colouring by walk, finds each cycle exactly once. */
static int find_cycles(struct ct_analysis *a)
{
	size_t n = a->nthreads, cap = 0;
	size_t *walk = calloc(n ? n : 1, sizeof(*walk));
	if (!walk)
		return -ENOMEM;
	for (size_t start = 0; start < n; start++) {
		if (walk[start])
			continue;
		size_t v = start;
		ssize_t next;
		for (;;) {
			walk[v] = start + 1;
			next = a->threads[v].waits_for;
			if (next < 0 || walk[next])
				break;
			v = (size_t)next;
		}
		if (next < 0 || walk[next] != start + 1)
			continue;
		/* a new cycle through `next` */
		size_t len = 1;
		bool moved = a->threads[next].cls == CT_CLASS_RUNNING || a->threads[next].cls == CT_CLASS_SPINNING;
		for (ssize_t u = a->threads[next].waits_for; u != next; u = a->threads[u].waits_for) {
			len++;
			moved |= a->threads[u].cls == CT_CLASS_RUNNING || a->threads[u].cls == CT_CLASS_SPINNING;
		}
		/* Over several snapshots a deadlocked thread cannot move: a cycle with a thread whose stack
		 * changed comes from owners read at different moments, not from a deadlock. */
		if (moved && a->nsnaps > 1)
			continue;
		if (ct_grow(&a->deadlocks, &cap, a->ndeadlocks + 1, sizeof(*a->deadlocks)) < 0)
			goto oom;
		struct ct_deadlock *d = &a->deadlocks[a->ndeadlocks];
		d->threads = calloc(len, sizeof(size_t));
		d->locks = calloc(len, sizeof(size_t));
		d->n = len;
		if (!d->threads || !d->locks) {
			free(d->threads);
			free(d->locks);
			goto oom;
		}
		/* start the cycle at its lowest tid, for a stable report */
		size_t lowest = (size_t)next;
		for (ssize_t u = a->threads[next].waits_for; u != next; u = a->threads[u].waits_for)
			if (a->threads[u].tid < a->threads[lowest].tid)
				lowest = (size_t)u;
		size_t u = lowest;
		for (size_t k = 0; k < len; k++) {
			d->threads[k] = u;
			d->locks[k] = (size_t)lock_find(a, a->threads[u].lock_waiting);
			a->threads[u].deadlock = (ssize_t)a->ndeadlocks;
			u = (size_t)a->threads[u].waits_for;
		}
		a->ndeadlocks++;
	}
	free(walk);
	return 0;
oom:
	free(walk);
	return -ENOMEM;
}

static int cmp_chain(const void *x, const void *y, void *arg)
{
	const struct ct_analysis *a = arg;
	const struct ct_chain *p = x, *q = y;
	size_t np = a->locks[p->lock].nwaiters, nq = a->locks[q->lock].nwaiters;
	if (np != nq)
		return np > nq ? -1 : 1;
	return p->lock < q->lock ? -1 : p->lock > q->lock;
}

static int find_chains(struct ct_analysis *a)
{
	size_t cap = 0;
	for (size_t l = 0; l < a->nlocks; l++) {
		const struct ct_lock *k = &a->locks[l];
		bool outside = false;
		for (size_t w = 0; w < k->nwaiters; w++)
			if (a->threads[k->waiters[w]].deadlock < 0)
				outside = true;
		if (!outside)
			continue;
		if (ct_grow(&a->chains, &cap, a->nchains + 1, sizeof(*a->chains)) < 0)
			return -ENOMEM;
		struct ct_chain *c = &a->chains[a->nchains];
		memset(c, 0, sizeof(*c));
		c->lock = l;
		a->nchains++;
		/* holder, then whoever holds what the holder waits for, until the end or a cycle */
		ssize_t h = k->holder;
		while (h >= 0 && c->npath < a->nthreads) {
			bool again = false;
			for (size_t i = 0; i < c->npath; i++)
				again |= c->path[i] == (size_t)h;
			if (again)
				break;
			size_t *p = realloc(c->path, (c->npath + 1) * sizeof(*p));
			if (!p)
				return -ENOMEM;
			c->path = p;
			c->path[c->npath++] = (size_t)h;
			if (a->threads[h].deadlock >= 0)
				break;
			h = a->threads[h].waits_for;
		}
	}
	if (a->nchains > 1)
		qsort_r(a->chains, a->nchains, sizeof(*a->chains), cmp_chain, a);
	return 0;
}

/* ---- groups ---- */

struct gkey {
	size_t idx;
	uint64_t hash;
	enum ct_thread_class cls;
};

static int cmp_gkey(const void *x, const void *y, void *arg)
{
	const struct ct_analysis *a = arg;
	const struct gkey *p = x, *q = y;
	if (p->cls != q->cls)
		return p->cls < q->cls ? -1 : 1;
	if (p->hash != q->hash)
		return p->hash < q->hash ? -1 : 1;
	(void)a;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

static int cmp_group(const void *x, const void *y, void *arg)
{
	const struct ct_analysis *a = arg;
	const struct ct_group *p = x, *q = y;
	if (p->nmembers != q->nmembers)
		return p->nmembers > q->nmembers ? -1 : 1;
	if (p->cls != q->cls)
		return p->cls < q->cls ? -1 : 1;
	pid_t tp = a->threads[p->members[0]].tid, tq = a->threads[q->members[0]].tid;
	return tp < tq ? -1 : tp > tq;
}

static int add_group(struct ct_analysis *a, size_t *cap, const struct gkey *keys, const size_t *idx,
		     size_t n)
{
	if (ct_grow(&a->groups, cap, a->ngroups + 1, sizeof(*a->groups)) < 0)
		return -ENOMEM;
	struct ct_group *g = &a->groups[a->ngroups];
	memset(g, 0, sizeof(*g));
	g->members = calloc(n, sizeof(size_t));
	const char **names = calloc(n, sizeof(char *));
	if (!g->members || !names) {
		free(g->members);
		free(names);
		return -ENOMEM;
	}
	a->ngroups++;
	for (size_t i = 0; i < n; i++) {
		g->members[i] = keys[idx[i]].idx;
		names[i] = a->threads[g->members[i]].name;
	}
	g->nmembers = n;
	g->cls = keys[idx[0]].cls;
	g->stack = a->threads[g->members[0]].thread;
	g->names = ct_collapse_names(names, n);
	free(names);
	return g->names ? 0 : -ENOMEM;
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
}

static int build_groups(struct ct_analysis *a)
{
	size_t n = a->nthreads, cap = 0;
	if (n == 0)
		return 0;
	struct gkey *keys = calloc(n, sizeof(*keys));
	size_t *run = calloc(n, sizeof(*run));
	bool *used = calloc(n, sizeof(*used));
	int r = keys && run && used ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		keys[i].idx = i;
		keys[i].cls = a->threads[i].cls;
		keys[i].hash = a->threads[i].thread ? stack_hash(a->threads[i].thread) : 0;
	}
	if (r == 0)
		qsort_r(keys, n, sizeof(*keys), cmp_gkey, a);
	/* within a run of equal (class, hash), split by exact stack comparison */
	for (size_t i = 0; i < n && r == 0;) {
		size_t j = i + 1;
		while (j < n && keys[j].cls == keys[i].cls && keys[j].hash == keys[i].hash)
			j++;
		for (size_t s = i; s < j && r == 0; s++) {
			if (used[s])
				continue;
			size_t m = 0;
			const struct ct_thread *ts = a->threads[keys[s].idx].thread;
			for (size_t u = s; u < j; u++) {
				const struct ct_thread *tu = a->threads[keys[u].idx].thread;
				if (!used[u] && (u == s || (ts && tu && ct_stacks_equal(ts, tu)))) {
					used[u] = true;
					run[m++] = u;
				}
			}
			r = add_group(a, &cap, keys, run, m);
			if (r == 0)
				qsort(a->groups[a->ngroups - 1].members, m, sizeof(size_t), cmp_size);
		}
		i = j;
	}
	if (r == 0 && a->ngroups > 1)
		qsort_r(a->groups, a->ngroups, sizeof(*a->groups), cmp_group, a);
	for (size_t g = 0; r == 0 && g < a->ngroups; g++)
		for (size_t m = 0; m < a->groups[g].nmembers; m++)
			a->threads[a->groups[g].members[m]].group = g;
	free(keys);
	free(run);
	free(used);
	return r;
}

/* ---- entry points ---- */

static int collect_tids(struct ct_snapshot *const *snaps, size_t nsnaps, struct tid_ref **refs,
			size_t *nrefs, pid_t **ret_tids, size_t *ret_n)
{
	size_t total = 0;
	for (size_t s = 0; s < nsnaps; s++) {
		refs[s] = calloc(snaps[s]->nthreads ? snaps[s]->nthreads : 1, sizeof(**refs));
		if (!refs[s])
			return -ENOMEM;
		for (size_t i = 0; i < snaps[s]->nthreads; i++)
			refs[s][i] = (struct tid_ref){ snaps[s]->threads[i].tid, &snaps[s]->threads[i] };
		nrefs[s] = snaps[s]->nthreads;
		qsort(refs[s], nrefs[s], sizeof(**refs), cmp_tid_ref);
		total += nrefs[s];
	}
	pid_t *tids = calloc(total ? total : 1, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	size_t n = 0;
	for (size_t s = 0; s < nsnaps; s++)
		for (size_t i = 0; i < nrefs[s]; i++)
			tids[n++] = refs[s][i].tid;
	*ret_tids = tids;
	*ret_n = n;
	return 0;
}

static int cmp_pid(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;
	return a < b ? -1 : a > b;
}

int ct_analyze(struct ct_snapshot *const *snaps, size_t nsnaps, const struct ct_analyze_opts *o,
	       struct ct_analysis **ret)
{
	if (!snaps || nsnaps == 0)
		return -EINVAL;
	struct ct_analysis *a = calloc(1, sizeof(*a));
	struct tid_ref **refs = calloc(nsnaps, sizeof(*refs));
	size_t *nrefs = calloc(nsnaps, sizeof(*nrefs));
	const struct ct_thread **seen = calloc(nsnaps, sizeof(*seen));
	pid_t *tids = NULL;
	size_t ntids = 0;
	int r = a && refs && nrefs && seen ? 0 : -ENOMEM;
	if (r == 0)
		r = collect_tids(snaps, nsnaps, refs, nrefs, &tids, &ntids);
	if (r < 0)
		goto out;
	qsort(tids, ntids, sizeof(*tids), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < ntids; i++)
		if (i == 0 || tids[i] != tids[u - 1])
			tids[u++] = tids[i];
	ntids = u;

	const struct ct_snapshot *last = snaps[nsnaps - 1];
	a->pid = last->pid;
	a->comm = last->comm;
	a->source = last->source;
	a->nsnaps = nsnaps;
	if (nsnaps > 1 && last->timestamp_ns > snaps[0]->timestamp_ns && snaps[0]->timestamp_ns)
		a->interval_ns = last->timestamp_ns - snaps[0]->timestamp_ns;
	a->cpu_known = nsnaps > 1 && last->source && strcmp(last->source, "live") == 0;
	long hz = sysconf(_SC_CLK_TCK);
	double ticks = a->interval_ns && hz > 0 ? (double)a->interval_ns / 1e9 * (double)hz : 0;

	a->threads = calloc(ntids ? ntids : 1, sizeof(*a->threads));
	if (!a->threads) {
		r = -ENOMEM;
		goto out;
	}
	a->nthreads = ntids;
	for (size_t i = 0; i < ntids; i++) {
		struct ct_thread_info *ti = &a->threads[i];
		for (size_t s = 0; s < nsnaps; s++)
			seen[s] = find_tid(refs[s], nrefs[s], tids[i]);
		ti->tid = tids[i];
		ti->waits_for = ti->deadlock = ti->gil_holder = -1;
		ti->cpu_share = -1;
		classify(a, ti, seen, nsnaps, o, ticks);
		ti->name = ti->thread && ti->thread->name ? ti->thread->name : "?";
		a->class_count[ti->cls]++;
	}
	find_gil_holder(a);
	r = build_locks(a);
	if (r == 0)
		r = find_cycles(a);
	if (r == 0)
		r = find_chains(a);
	if (r == 0)
		r = build_groups(a);
out:
	if (refs)
		for (size_t s = 0; s < nsnaps; s++)
			free(refs[s]);
	free(refs);
	free(nrefs);
	free(seen);
	free(tids);
	if (r < 0) {
		ct_analysis_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

void ct_analysis_free(struct ct_analysis *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nthreads; i++)
		free(a->threads[i].why);
	free(a->threads);
	for (size_t i = 0; i < a->ngroups; i++) {
		free(a->groups[i].members);
		free(a->groups[i].names);
	}
	free(a->groups);
	for (size_t i = 0; i < a->nlocks; i++) {
		free(a->locks[i].id);
		free(a->locks[i].waiters);
	}
	free(a->locks);
	for (size_t i = 0; i < a->ndeadlocks; i++) {
		free(a->deadlocks[i].threads);
		free(a->deadlocks[i].locks);
	}
	free(a->deadlocks);
	for (size_t i = 0; i < a->nchains; i++)
		free(a->chains[i].path);
	free(a->chains);
	free(a);
}

bool ct_analysis_has_deadlock(const struct ct_analysis *a)
{
	return a && a->ndeadlocks > 0;
}

bool ct_analysis_has_stuck(const struct ct_analysis *a)
{
	if (!a)
		return false;
	if (a->ndeadlocks || a->class_count[CT_CLASS_SPINNING])
		return true;
	for (size_t i = 0; i < a->nthreads; i++) {
		const struct ct_thread_info *ti = &a->threads[i];
		if (ti->cls == CT_CLASS_BLOCKED && a->nsnaps > 1 &&
		    (ti->wait == CT_WAIT_MUTEX || ti->wait == CT_WAIT_RWLOCK || ti->wait == CT_WAIT_LOCK))
			return true;
	}
	return false;
}
