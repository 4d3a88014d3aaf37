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

#include "interp/coremem.h"
#include "interp/python.h"
#include "interp/rbthreads.h"
#include "interp/pythreads.h"
#include "interp/ruby.h"
#include "lib/boost.h"
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
	struct ct_rb *rb;                /* the Ruby VM found at open, or NULL */
	char *rb_note;                   /* why Ruby frames are not shown at all, said once */
	bool rb_note_said;
	struct ct_mutex_layout locks;    /* looked up at the first mutex wait seen */
	bool locks_said;                 /* locks.why was handed out as a warning */
	struct ct_snapshot **snaps;
	size_t nsnaps, cap_snaps;
	bool exited;
	bool locks_failed;               /* the lock owners of the last snapshot could not be read */
	struct ct_memsrc mem;            /* the live process, or the core's memory */
	struct ct_core *core;            /* a core session's core */
	Elf *core_elf;                   /* libelf's view of it, for libdwfl */
	struct ct_coremem core_mem;      /* the core, and its modules' read-only segments from their files */
	struct ct_memsrc interp_mem;     /* that, for the interpreter readers */
	char *core_warning;              /* what a truncated core lacks, said once */
	bool core_said;
	struct ct_snapshot_times times;  /* where the time went, for -v */
	struct ct_boost nice;            /* a live session's thread at nice -20 until close */
};

int ct_snapshot_session_open(pid_t pid, const struct ct_snapshot_opts *o, struct ct_snapshot_session **ret)
{
	struct ct_snapshot_session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->pid = pid;
	ss->o = *o;
	ss->mem = ct_memsrc_live(pid);
	ss->attach = (struct ct_attach)CT_ATTACH_INIT;
	/* On a machine the target saturates, the work around the capture (modules, unwinding,
	 * symbolization: bounded, some tens of ms of CPU) would wait seconds at nice 0 for its share;
	 * nice -20 weighs as about 87 ordinary threads (at -10, about 9: with 150 spinning threads on
	 * 2 CPUs that was 11% of a CPU, and symbolizing 13 pcs took 0.7-0.8 s), never more than the
	 * work it has. The capture itself runs higher still (attach/snapshot.c). */
	ct_boost_begin_nice_at(&ss->nice, CT_BOOST_NICE_SNAPSHOT);
	if (ss->o.max_frames == 0)
		ss->o.max_frames = 256;
	ss->pcs = calloc(ss->o.max_frames, sizeof(*ss->pcs));
	uint64_t t0 = ct_now_ns();
	int r = ss->pcs ? ct_sym_open(pid, &o->sym, &ss->sym) : -ENOMEM;
	uint64_t t1 = ct_now_ns();
	if (r == 0 && !o->no_interp && (r = ct_py_open(ss->sym, &ss->py, &ss->py_note)) == 0 && !ss->py &&
	    !ss->py_note)
		r = ct_rb_open(ss->sym, &ss->rb, &ss->rb_note);
	ss->times.modules_ns = t1 - t0;
	ss->times.interp_open_ns = ct_now_ns() - t1;
	if (r < 0 && ss->sym)
		ct_sym_close(ss->sym);
	if (r < 0) {
		ct_boost_end(&ss->nice);
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
	ct_rb_close(ss->rb);
	free(ss->rb_note);
	ct_unwinder_close(ss->unw);
	ct_sym_close(ss->sym);
	if (ss->core_elf)
		elf_end(ss->core_elf);
	ct_core_close(ss->core);
	free(ss->core_warning);
	free(ss->pcs);
	/* last: the frees above (libdw's modules) would wait for a CPU at nice 0 too */
	ct_boost_end(&ss->nice);
	free(ss);
}

static void say_missing(struct ct_snapshot_session *ss)
{
	size_t nseg;
	uint64_t missing = ct_core_missing(ss->core, &nseg);
	if (missing)
		ss->core_warning = ct_strf("the core is truncated (a core size limit, such as ulimit -c?): "
					   "%.1f MiB of memory in %zu mapping%s is missing; stacks, Python or Ruby "
					   "frames, lock owners and heap figures that lie there cannot be read",
					   (double)missing / (1 << 20), nseg, nseg == 1 ? "" : "s");
}

int ct_snapshot_session_open_core(const char *path, const struct ct_snapshot_opts *o,
				  struct ct_snapshot_session **ret, char **ret_why)
{
	*ret_why = NULL;
	struct ct_snapshot_session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->o = *o;
	ss->o.snapshots = 1;
	ss->attach = (struct ct_attach)CT_ATTACH_INIT;
	if (ss->o.max_frames == 0)
		ss->o.max_frames = 256;
	int r = ct_core_open(path, &o->core, &ss->core, ret_why);
	if (r < 0)
		goto fail;
	ss->pid = ct_core_pid(ss->core);
	ss->mem = ct_core_memsrc(ss->core);
	size_t size;
	const void *image = ct_core_image(ss->core, &size);
	elf_version(EV_CURRENT);
	ss->core_elf = elf_memory((char *)image, size); /* read only: libelf does not write a read image */
	struct ct_proc_map *maps = NULL;
	size_t nmaps = 0;
	r = ss->core_elf ? ct_core_maps(ss->core, &maps, &nmaps) : -ENOMEM;
	if (r == 0)
		r = ct_sym_open_core(ss->core_elf, ss->pid, maps, nmaps, o->exe, ct_core_exe(ss->core), o->sysroot,
				     &o->sym, &ss->sym);
	if (r == -ENOEXEC) {
		*ret_why = ct_strf("libdwfl cannot read the core's modules: %s", dwfl_errmsg(-1));
		r = -EINVAL;
	}
	else if (r < 0)
		*ret_why = ct_strf("cannot read the core's modules: %s", strerror(-r));
	if (r == 0 && o->exe) {
		char *why = NULL;
		if (ct_sym_check_exe(ss->sym, &why) == 0) {
			*ret_why = why;
			r = -ENOEXEC;
		}
	}
	if (r == 0 && !(ss->pcs = calloc(ss->o.max_frames, sizeof(*ss->pcs))))
		r = -ENOMEM;
	/* Python, else Ruby, read through the core's memory; the modules are named as the core names
	 * them */
	ss->core_mem = (struct ct_coremem){ ss->mem, ss->sym, 0 };
	ss->interp_mem = ct_coremem_src(&ss->core_mem);
	if (r == 0 && !o->no_interp &&
	    (r = ct_py_open_mem(ss->sym, &ss->interp_mem, ct_core_exe(ss->core), &ss->py, &ss->py_note)) == 0 &&
	    !ss->py && !ss->py_note)
		r = ct_rb_open_mem(ss->sym, &ss->interp_mem, ct_core_exe(ss->core), &ss->rb, &ss->rb_note);
	if (r < 0)
		goto fail;
	say_missing(ss);
	*ret = ss;
	return 0;
fail:
	if (r == -ENOMEM && !*ret_why)
		*ret_why = ct_strdup("out of memory");
	ct_snapshot_session_close(ss);
	return r;
}

uint64_t ct_snapshot_session_missing(const struct ct_snapshot_session *ss)
{
	return ss->core ? ct_core_missing(ss->core, NULL) : 0;
}

const char *ct_snapshot_session_next_warning(struct ct_snapshot_session *ss)
{
	if (ss->core_warning && !ss->core_said) {
		ss->core_said = true;
		return ss->core_warning;
	}
	if (ss->py_note && !ss->py_note_said) {
		ss->py_note_said = true;
		return ss->py_note;
	}
	if (ss->rb_note && !ss->rb_note_said) {
		ss->rb_note_said = true;
		return ss->rb_note;
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

const char *ct_snapshot_session_ruby(const struct ct_snapshot_session *ss, struct ct_rb_stats *ret_stats)
{
	if (!ss->rb)
		return NULL;
	ct_rb_get_stats(ss->rb, ret_stats);
	return ct_rb_version(ss->rb);
}

void ct_snapshot_session_times(const struct ct_snapshot_session *ss, struct ct_snapshot_times *ret)
{
	*ret = ss->times;
	if (ss->sym)
		ct_sym_get_stats(ss->sym, &ret->sym);
}

bool ct_snapshot_session_exited(const struct ct_snapshot_session *ss)
{
	return ss->exited;
}

bool ct_snapshot_session_locks_failed(const struct ct_snapshot_session *ss)
{
	return ss->locks_failed;
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

static int frames_from_capture(struct ct_snapshot_session *in, const struct ct_capture *c, struct ct_thread *t);

/* Builds the thread model from one capture: facts, frames, errors. */
static int thread_from_capture(struct ct_snapshot_session *in, const struct ct_capture *c, struct ct_thread *t)
{
	t->tid = c->tid;
	t->flags = c->flags;
	t->stop_ns = c->stop_ns;
	if (c->state_before != '?')
		t->state = c->state_before;
	uint64_t t0 = ct_now_ns();
	/* a captured thread's name, state and CPU times are those the capture read just before it
	 * (no second read of its stat); a thread not captured is looked at again, to tell it gone */
	int fr = c->err == 0 && c->have_stat ? ct_target_thread_facts_from(c->tid, &c->stat_before,
									    c->wchan_before, t)
					     : ct_target_thread_facts(in->pid, c->tid, t);
	if (fr == -ENOMEM)
		return fr;
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
	in->times.facts_ns += ct_now_ns() - t0;

	return frames_from_capture(in, c, t);
}

/* Unwinds and symbolizes one capture into t's frames (or its error). */
static int frames_from_capture(struct ct_snapshot_session *in, const struct ct_capture *c, struct ct_thread *t)
{
	if (!in->unw) {
		int r = ct_unwinder_open(in->o.unwinder, in->sym, &in->mem, &in->unw);
		if (r < 0) {
			t->error = strdup(r == -EOPNOTSUPP ? "the libunwind unwinder needs a live process; use libdw or fp"
					  : r == -ENOENT && in->o.unwinder == CT_UNWIND_LIBUNWIND
						  ? "the libunwind unwinder needs libunwind-ptrace.so.0 (Debian: libunwind8); "
						    "use libdw or fp"
						  : "cannot start the unwinder (no ELF module found)");
			return t->error ? 0 : -ENOMEM;
		}
	}
	char *why = NULL;
	uint64_t t0 = ct_now_ns();
	int n = ct_unwinder_run(in->unw, c, in->pcs, in->o.max_frames, &why);
	uint64_t t1 = ct_now_ns();
	in->times.unwind_ns += t1 - t0;
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
	for (int i = 0; i < n; i++) {
		size_t first = t->nframes;
		if (ct_sym_frames(in->sym, in->pcs[i].pc, in->pcs[i].activation, t) < 0)
			return -ENOMEM;
		for (size_t k = first; k < t->nframes; k++)
			t->frames[k].sp = in->pcs[i].sp; /* the pc's inlined frames share its stack frame */
		if (i + 1 < n && ct_sym_tailcalls(in->sym, in->pcs[i].pc, in->pcs[i].activation,
						  in->pcs[i + 1].pc, t) < 0)
			return -ENOMEM;
	}
	uint64_t t2 = ct_now_ns();
	in->times.symbolize_ns += t2 - t1;
	int r = 0;
	if (in->rb)
		r = ct_rb_thread_frames(in->rb, c, t);
	else if (in->py)
		r = ct_py_thread_frames(in->py, c, t);
	in->times.interp_ns += ct_now_ns() - t2;
	return r;
}

/* The interpreter's waits in a core (Python's lock acquires, Ruby's Mutex, Queue, IO waits): they
 * are told by the system call each thread was in, which the core's registers hold (orig_rax and
 * the argument registers); set for the readers only, as the snapshot shows a core's system calls
 * as unknown. */
static int core_interp_waits(struct ct_snapshot_session *in, const struct ct_core_thread *ct, size_t nct,
			     const struct ct_capture *caps, struct ct_snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++)
		for (size_t k = 0; k < nct; k++)
			if (ct[k].tid == s->threads[i].tid && ct[k].orig_rax >= 0) {
				s->threads[i].syscall_nr = ct[k].orig_rax;
				memcpy(s->threads[i].syscall_args, ct[k].args, sizeof(ct[k].args));
			}
	int r = 0;
	if (in->py)
		r = ct_py_locks_fill(in->py, caps, s->nthreads, s);
	if (r == 0 && in->rb)
		r = ct_rb_waits_fill(in->rb, s);
	for (size_t i = 0; i < s->nthreads; i++) {
		s->threads[i].syscall_nr = CT_SYSCALL_UNKNOWN;
		memset(s->threads[i].syscall_args, 0, sizeof(s->threads[i].syscall_args));
	}
	return r;
}

static const char *list_error(int r)
{
	return r == -EFAULT ? "memory the core does not hold" : r == -EPROTO || r == -ELOOP ? "a list that does not check out (corrupt)"
			    : ct_strerror(r);
}

/* Lists the interpreter's threads and its lock holder from the core. When the list cannot be read,
 * the interpreter is dropped with one warning saying why (native frames only). 0 or -ENOMEM. */
static int core_interp_open(struct ct_snapshot_session *in)
{
	int r;
	if (in->py && (r = ct_py_threads_refresh(in->py)) < 0) {
		if (r == -ENOMEM)
			return r;
		free(in->py_note);
		in->py_note = ct_strf("Python %s: its thread states cannot be read from the core (%s): native "
				      "frames only", ct_py_version(in->py), list_error(r));
		ct_py_close(in->py);
		in->py = NULL;
		if (!in->py_note)
			return -ENOMEM;
	}
	if (in->rb && (r = ct_rb_threads_refresh(in->rb)) < 0) {
		if (r == -ENOMEM)
			return r;
		free(in->rb_note);
		in->rb_note = ct_strf("Ruby %s: its threads cannot be read from the core (%s): native frames only",
				      ct_rb_version(in->rb), list_error(r));
		ct_rb_close(in->rb);
		in->rb = NULL;
		if (!in->rb_note)
			return -ENOMEM;
	}
	if (in->py)
		ct_py_gil_refresh(in->py);
	if (in->rb)
		ct_rb_gvl_refresh(in->rb);
	return 0;
}

/* A thread whose interpreter frames could not be read from a truncated core: say that they may
 * lie in what the core lacks. 0 or -ENOMEM. */
static int note_truncated(struct ct_thread *t)
{
	char *n = ct_strf("%s; the core is truncated, and they may lie in what it lacks", t->interp_note);
	if (!n)
		return -ENOMEM;
	free(t->interp_note);
	t->interp_note = n;
	return 0;
}

static void core_caps_free(struct ct_capture *caps, size_t n)
{
	for (size_t i = 0; caps && i < n; i++)
		free(caps[i].interp);
	free(caps);
}

/* One snapshot of a core: every thread's registers as a capture whose memory is the core's. The
 * thread's state, what it waits on, its CPU time and its name (but the main thread's, from the
 * process's) are not in a core and stay unknown; so is its system call, shown for a live thread
 * only. futex_words: the futex a thread waits on, from its registers, for the lock owners. Python
 * and Ruby frames: every thread of a core is stopped, so each thread's frame chain is read from the
 * core as the attach hook copies it from a stopped thread. */
static int core_snapshot(struct ct_snapshot_session *in, struct ct_snapshot **ret, uint64_t **ret_futex)
{
	size_t n;
	const struct ct_core_thread *ct = ct_core_threads(in->core, &n);
	struct ct_snapshot *s = ct_snapshot_new();
	uint64_t *futex = calloc(n ? n : 1, sizeof(*futex));
	struct ct_capture *caps = calloc(n ? n : 1, sizeof(*caps));
	if (!s || !futex || !caps) {
		ct_snapshot_free(s);
		free(futex);
		free(caps);
		return -ENOMEM;
	}
	/* the interpreter's thread list and lock holder, from the core; a list that does not read
	 * (memory the core lacks or corrupt) is said once, and every thread keeps its native frames */
	int r = core_interp_open(in);
	if (r < 0) {
		ct_snapshot_free(s);
		free(futex);
		free(caps);
		return r;
	}
	bool py = in->py != NULL, rb = in->rb != NULL;
	s->pid = in->pid;
	s->source = strdup("core");
	s->signal = ct_core_signal(in->core, &s->signal_tid);
	const char *comm = ct_core_comm(in->core), *exe = ct_core_exe(in->core);
	s->comm = comm ? strdup(comm) : NULL;
	s->exe = exe ? strdup(exe) : NULL;
	r = s->source ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (in->o.only_tid && ct[i].tid != in->o.only_tid)
			continue;
		struct ct_thread *t = ct_snapshot_add_thread(s);
		if (!t) {
			r = -ENOMEM;
			break;
		}
		struct ct_capture *c = &caps[s->nthreads - 1];
		c->tid = t->tid = ct[i].tid;
		c->syscall_nr = CT_SYSCALL_NONE;
		memcpy(c->regs, ct[i].regs, sizeof(c->regs));
		c->regs_valid = (1u << CT_NREGS) - 1;
		c->fs_base = ct[i].fs_base;
		if (py)
			ct_py_copy_stopped(in->py, c);
		else if (rb)
			ct_rb_copy_stopped(in->rb, c);
		if (ct[i].tid == in->pid && comm && !(t->name = strdup(comm)))
			r = -ENOMEM;
		if (ct[i].orig_rax == SYS_futex)
			futex[s->nthreads - 1] = ct[i].args[0];
		if (r == 0)
			r = frames_from_capture(in, c, t);
		if (r == 0 && t->interp_note && ct_core_missing(in->core, NULL))
			r = note_truncated(t);
	}
	if (r == 0 && (py || rb))
		r = core_interp_waits(in, ct, n, caps, s);
	core_caps_free(caps, n);
	if (r < 0) {
		ct_snapshot_free(s);
		free(futex);
		return r;
	}
	*ret = s;
	*ret_futex = futex;
	return 0;
}

/* One snapshot, not yet kept in the session. */
static int snapshot_take(struct ct_snapshot_session *in, struct ct_snapshot **ret)
{
	struct ct_capture_set *set = NULL;
	struct ct_capture one;
	struct ct_attach_opts ao = in->o.attach;
	ao.maps = ct_sym_maps(in->sym, &ao.nmaps); /* the stacks copied in one read (attach/snapshot.h) */
	int r;
	if (in->py && ct_py_threads_refresh(in->py) == 0) {
		/* the frame chains are copied while each thread is stopped; before 3.11 a thread state
		 * is matched by the thread pointer, which only a stop reads */
		ao.while_stopped = ct_py_while_stopped;
		ao.while_stopped_arg = in->py;
		if (ct_py_needs_thread_pointer(in->py))
			ao.passive = false;
		ao.sample_running = false; /* the chain must be copied with the thread's stack */
	}
	if (in->rb && ct_rb_threads_refresh(in->rb) == 0) {
		/* each thread's control frames are copied while it is stopped */
		ao.while_stopped = ct_rb_while_stopped;
		ao.while_stopped_arg = in->rb;
		ao.sample_running = false;
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
	in->times.capture_ns += set->wall_ns;
	/* From here on every target thread runs again. */
	if (in->py)
		ct_py_gil_refresh(in->py);
	if (in->rb)
		ct_rb_gvl_refresh(in->rb);
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
	memcpy(s->boost, set->boost, sizeof(s->boost));
	memcpy(s->oncpu, set->oncpu, sizeof(s->oncpu));
	memcpy(s->kregs, set->kregs, sizeof(s->kregs));
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
		/* Unwound: its stack copy is read no more (but for the Python lock waits below), and
		 * its memory takes the next threads' frames instead of fresh pages (a page touched for
		 * the first time costs more than most system calls: 200 idle threads' copies are 1.1
		 * MiB, which the frames then doubled) */
		if (!in->py) {
			free(set->caps[i].stack);
			set->caps[i].stack = NULL;
			set->caps[i].stack_len = 0;
		}
	}
	/* what Python threads blocked in a lock's acquire wait for, and the RLocks' owners */
	if (r == 0 && in->py)
		r = ct_py_locks_fill(in->py, set->caps, set->n, s);
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
	_cleanup_free_ uint64_t *futex = NULL;
	int r = ss->core ? core_snapshot(ss, &s, &futex) : snapshot_take(ss, &s);
	if (r < 0)
		return r;
	ss->snaps[ss->nsnaps++] = s;
	/* every thread runs again: what each Ruby thread waits in, and the Mutex owners (before the
	 * pthread owners, which leave a thread with a lock_waiting alone) */
	uint64_t t0 = ct_now_ns();
	if (ss->rb && !ss->core && (r = ct_rb_waits_fill(ss->rb, s)) < 0) /* a core's: in core_snapshot */
		return r;
	/* every thread runs again: the owners are read from the running target (or the core) */
	if (ss->o.locks && (r = ct_locks_fill(ct_sym_dwfl(ss->sym), &ss->locks, &ss->mem, s, futex)) < 0) {
		ss->locks_failed = true;
		return r;
	}
	ss->times.locks_ns += ct_now_ns() - t0;
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
	long want = ss->core ? 1 : CT_MAX(ss->o.snapshots, 1L);
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
