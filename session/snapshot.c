/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "process/target.h"
#include "lib/banned.h"

struct ct_inspector {
	pid_t pid;
	struct ct_inspect_opts o;
	struct ct_symbolizer *sym;
	struct ct_unwinder *unw;
	struct ct_upc *pcs;
};

int ct_inspector_open(pid_t pid, const struct ct_inspect_opts *o, struct ct_inspector **ret)
{
	struct ct_inspector *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->pid = pid;
	in->o = *o;
	if (in->o.max_frames == 0)
		in->o.max_frames = 256;
	in->pcs = calloc(in->o.max_frames, sizeof(*in->pcs));
	int r = in->pcs ? ct_sym_open(pid, &o->sym, &in->sym) : -ENOMEM;
	if (r < 0) {
		free(in->pcs);
		free(in);
		return r;
	}
	*ret = in;
	return 0;
}

void ct_inspector_close(struct ct_inspector *in)
{
	if (!in)
		return;
	ct_unwinder_close(in->unw);
	ct_sym_close(in->sym);
	free(in->pcs);
	free(in);
}

Dwfl *ct_inspector_dwfl(struct ct_inspector *in)
{
	return ct_sym_dwfl(in->sym);
}

const char *ct_inspector_next_warning(struct ct_inspector *in)
{
	return ct_sym_next_warning(in->sym);
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

int ct_inspector_thread(struct ct_inspector *in, const struct ct_capture *c, struct ct_thread *t)
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
	return 0;
}

int ct_inspector_snapshot(struct ct_inspector *in, struct ct_snapshot **ret)
{
	struct ct_capture_set *set = NULL;
	struct ct_capture one;
	int r;
	if (in->o.only_tid) {
		set = calloc(1, sizeof(*set));
		if (!set)
			return -ENOMEM;
		uint64_t t0 = ct_now_ns();
		ct_attach_thread(in->pid, in->o.only_tid, &in->o.attach, t0 + in->o.attach.timeout_ns, &one);
		set->caps = malloc(sizeof(one));
		if (!set->caps) {
			free(one.stack);
			free(set);
			return -ENOMEM;
		}
		set->caps[0] = one;
		set->n = set->cap = 1;
		set->max_stop_ns = set->total_stop_ns = one.stop_ns;
		set->wall_ns = ct_now_ns() - t0;
		set->timed_out = one.err == -ETIMEDOUT;
	} else {
		r = ct_attach_snapshot(in->pid, &in->o.attach, &set);
		if (r < 0)
			return r;
	}
	/* From here on every target thread runs again. */
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
		r = t ? ct_inspector_thread(in, &set->caps[i], t) : -ENOMEM;
	}
	ct_capture_set_free(set);
	if (r < 0) {
		ct_snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}
