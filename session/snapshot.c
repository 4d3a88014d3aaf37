/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "interp/python.h"
#include "lib/error.h"
#include "process/locks.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "process/target.h"
#include "lib/banned.h"

#define MAX_SNAPSHOTS 10000

struct ct_snapshot_session {
	pid_t pid;
	struct ct_snapshot_opts o;
	struct ct_attach attach;         /* the capture state (threads given up on, to release) */
	struct ct_symbolizer *sym;
	struct ct_unwinder *unw;
	struct ct_upc *pcs;
	struct ct_py *py;                /* the Python interpreter found at open, or NULL */
	char *py_note;                   /* why Python frames are not shown at all, said once */
	bool py_note_said;
	struct ct_mutex_layout locks;    /* looked up at the first mutex wait seen */
	bool locks_said;                 /* locks.why was handed out as a warning */
	struct ct_snapshot **snaps;
	size_t nsnaps, cap_snaps;
	bool exited;
};

int ct_snapshot_session_open(pid_t pid, const struct ct_snapshot_opts *o, struct ct_snapshot_session **ret)
{
	struct ct_snapshot_session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->pid = pid;
	ss->o = *o;
	ss->attach = (struct ct_attach)CT_ATTACH_INIT;
	if (ss->o.max_frames == 0)
		ss->o.max_frames = 256;
	ss->pcs = calloc(ss->o.max_frames, sizeof(*ss->pcs));
	int r = ss->pcs ? ct_sym_open(pid, &o->sym, &ss->sym) : -ENOMEM;
	if (r == 0 && !o->no_interp && (r = ct_py_open(ss->sym, &ss->py, &ss->py_note)) < 0)
		ct_sym_close(ss->sym);
	if (r < 0) {
		free(ss->pcs);
		free(ss);
		return r;
	}
	*ret = ss;
	return 0;
}

void ct_snapshot_session_close(struct ct_snapshot_session *ss)
{
	if (!ss)
		return;
	ct_attach_release_pending(&ss->attach);
	for (size_t i = 0; i < ss->nsnaps; i++)
		ct_snapshot_free(ss->snaps[i]);
	free(ss->snaps);
	ct_mutex_layout_clear(&ss->locks);
	ct_py_close(ss->py);
	free(ss->py_note);
	ct_unwinder_close(ss->unw);
	ct_sym_close(ss->sym);
	free(ss->pcs);
	free(ss);
}

const char *ct_snapshot_session_next_warning(struct ct_snapshot_session *ss)
{
	if (ss->py_note && !ss->py_note_said) {
		ss->py_note_said = true;
		return ss->py_note;
	}
	if (ss->locks.why && !ss->locks_said) {
		ss->locks_said = true;
		return ss->locks.why;
	}
	return ct_sym_next_warning(ss->sym);
}

struct ct_snapshot *const *ct_snapshot_session_snapshots(const struct ct_snapshot_session *ss, size_t *ret_n)
{
	*ret_n = ss->nsnaps;
	return ss->snaps;
}

const char *ct_snapshot_session_python(const struct ct_snapshot_session *ss, struct ct_py_stats *ret_stats)
{
	if (!ss->py)
		return NULL;
	ct_py_get_stats(ss->py, ret_stats);
	return ct_py_version(ss->py);
}

bool ct_snapshot_session_exited(const struct ct_snapshot_session *ss)
{
	return ss->exited;
}

static const char *capture_error(int err)
{
	switch (-err) {
	case ESRCH: return "thread exited during capture";
	case ETIMEDOUT: return "thread did not stop before the deadline (in uninterruptible sleep?)";
	case EPERM: return "not permitted to trace this thread";
	default: return NULL;
	}
}

/* Builds the thread model from one capture: facts, frames, errors. */
static int thread_from_capture(struct ct_snapshot_session *in, const struct ct_capture *c, struct ct_thread *t)
{
	t->tid = c->tid;
	t->flags = c->flags;
	t->stop_ns = c->stop_ns;
	if (c->state_before != '?')
		t->state = c->state_before;
	int fr = ct_target_thread_facts(in->pid, c->tid, t);
	if (c->err == -ESRCH || (c->err && fr == -ESRCH))
		t->flags |= CT_THREAD_GONE;

	if (c->err) {
		const char *msg = capture_error(c->err);
		t->error = strdup(msg ? msg : ct_strerror(c->err));
		return t->error ? 0 : -ENOMEM;
	}
	t->syscall_nr = c->syscall_nr;
	memcpy(t->syscall_args, c->syscall_args, sizeof(t->syscall_args));
	if (t->syscall_nr >= 0 && !(t->state == 'R'))
		t->waiting_on = ct_describe_wait(in->pid, t->syscall_nr, t->syscall_args);

	if (!in->unw) {
		int r = ct_unwinder_open(in->o.unwinder, in->sym, &in->unw);
		if (r < 0) {
			t->error = strdup("cannot start the unwinder (no ELF module found)");
			return t->error ? 0 : -ENOMEM;
		}
	}
	char *why = NULL;
	int n = ct_unwinder_run(in->unw, c, in->pcs, in->o.max_frames, &why);
	if (n < 0) {
		free(why);
		t->error = strdup(ct_strerror(n));
		return t->error ? 0 : -ENOMEM;
	}
	if (why) {
		t->unwind_error = why;
		t->flags |= CT_THREAD_TRUNCATED;
	}
	if ((size_t)n == in->o.max_frames) {
		t->flags |= CT_THREAD_TRUNCATED;
		if (!t->unwind_error)
			t->unwind_error = strdup("--max-frames reached");
	}
	for (int i = 0; i < n; i++)
		if (ct_sym_frames(in->sym, in->pcs[i].pc, in->pcs[i].activation, t) < 0 ||
		    (i + 1 < n && ct_sym_tailcalls(in->sym, in->pcs[i].pc, in->pcs[i].activation,
						   in->pcs[i + 1].pc, t) < 0))
			return -ENOMEM;
	return in->py ? ct_py_thread_frames(in->py, c, t) : 0;
}

/* One snapshot, not yet kept in the session. */
static int snapshot_take(struct ct_snapshot_session *in, struct ct_snapshot **ret)
{
	struct ct_capture_set *set = NULL;
	struct ct_capture one;
	struct ct_attach_opts ao = in->o.attach;
	int r;
	if (in->py && ct_py_threads_refresh(in->py) == 0) {
		/* the frame chains are copied while each thread is stopped; before 3.11 a thread state
		 * is matched by the thread pointer, which only a stop reads */
		ao.while_stopped = ct_py_while_stopped;
		ao.while_stopped_arg = in->py;
		if (ct_py_needs_thread_pointer(in->py))
			ao.passive = false;
	}
	if (in->o.only_tid) {
		set = calloc(1, sizeof(*set));
		if (!set)
			return -ENOMEM;
		uint64_t t0 = ct_now_ns();
		ct_attach_thread(&in->attach, in->pid, in->o.only_tid, &ao, t0 + ao.timeout_ns, &one);
		set->caps = malloc(sizeof(one));
		if (!set->caps) {
			free(one.stack);
			free(one.interp);
			free(set);
			return -ENOMEM;
		}
		set->caps[0] = one;
		set->n = set->cap = 1;
		set->max_stop_ns = set->total_stop_ns = one.stop_ns;
		set->wall_ns = ct_now_ns() - t0;
		set->timed_out = one.err == -ETIMEDOUT;
	} else {
		r = ct_attach_snapshot(&in->attach, in->pid, &ao, &set);
		if (r < 0)
			return r;
	}
	/* From here on every target thread runs again. */
	if (in->py)
		ct_py_gil_refresh(in->py);
	struct ct_snapshot *s = ct_snapshot_new();
	if (!s) {
		ct_capture_set_free(set);
		return -ENOMEM;
	}
	s->pid = in->pid;
	s->source = strdup("live");
	s->timestamp_ns = ct_realtime_ns();
	s->max_stop_ns = set->max_stop_ns;
	s->total_stop_ns = set->total_stop_ns;
	s->capture_ns = set->wall_ns;
	struct ct_target tg;
	int tr = ct_target_open(in->pid, &tg);
	if (tr == 0 || tr == -CT_ETRACED || tr == -CT_EZOMBIE) {
		s->comm = tg.comm;
		s->exe = tg.exe;
		tg.comm = tg.exe = NULL;
		ct_target_clear(&tg);
	}
	r = 0;
	for (size_t i = 0; i < set->n && r == 0; i++) {
		struct ct_thread *t = ct_snapshot_add_thread(s);
		r = t ? thread_from_capture(in, &set->caps[i], t) : -ENOMEM;
	}
	ct_capture_set_free(set);
	if (r < 0) {
		ct_snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ct_snapshot_session_take(struct ct_snapshot_session *ss, struct ct_snapshot **ret)
{
	if (ss->nsnaps >= MAX_SNAPSHOTS)
		return -E2BIG;
	if (ct_grow(&ss->snaps, &ss->cap_snaps, ss->nsnaps + 1, sizeof(*ss->snaps)) < 0)
		return -ENOMEM;
	struct ct_snapshot *s = NULL;
	int r = snapshot_take(ss, &s);
	if (r < 0)
		return r;
	ss->snaps[ss->nsnaps++] = s;
	/* every thread runs again: the owners are read from the running target */
	if (ss->o.locks && (r = ct_locks_fill(ct_sym_dwfl(ss->sym), &ss->locks, s)) < 0)
		return r;
	*ret = s;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int ct_snapshot_session_run(struct ct_snapshot_session *ss)
{
	long want = CT_MAX(ss->o.snapshots, 1L);
	for (long i = 0; i < want; i++) {
		if (i > 0)
			sleep_ms(ss->o.interval_ms);
		struct ct_snapshot *s;
		int r = ct_snapshot_session_take(ss, &s);
		if (r == -ESRCH && ss->nsnaps > 0) {
			ss->exited = true;
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}
