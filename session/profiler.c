/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/profiler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/model.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

struct ct_profiler {
	pid_t pid;
	struct ct_profile *prof;
	struct ct_profiler_opts o;
	struct ct_symbolizer *sym;
	struct ct_unwinder *unw;
	bool unw_failed;
	bool pending_refresh; /* a pc fell in no module: reread the maps after this sample */
	struct ct_pccache *cache;
	uint32_t root_id, kernel_id;
	struct ct_upc *pcs;
	uint32_t *stack; /* root first, built per sample */
	size_t cap_stack;
	uint32_t *tmp;
	size_t cap_tmp;
	struct ct_profiler_stats stats;
	char *host, *comm;          /* ct_profiler_label */
	struct tid_labels { pid_t tid; uint32_t id; } *tids; /* open addressing, tid 0 empty */
	size_t cap_tids, ntids;
	uint64_t next_refresh_ns, refresh_gap_ns;
	struct ct_py *py;           /* NULL: not Python, or no_interp */
	struct ct_rb *rb;           /* NULL: not Ruby, or no_interp */
	struct ct_profiler_interp hooks; /* of py or rb (lang NULL: neither) */
	char *py_note;              /* Python or Ruby found but not usable: said once */
	bool py_note_said, interp_off;
	struct ct_interp_frame *pyf;    /* the Python or Ruby frames of the sample being added */
	size_t npyf;
	long *group_of;                 /* per pc of that sample: the call of pyf replacing it, or -1 */
	size_t cap_group_of;
};

/* Refresh the maps when the gap since the last time has passed: a pc in no known module is code
 * mapped since (a library dlopen()ed, or the rest of a program that has just executed: its
 * interpreter maps libc after the kernel maps the program). The gap doubles each time, so code that
 * is never in a module (JIT without a perf map) costs a refresh every 30 s at most. */
#define REFRESH_GAP_MIN_NS 200000000ull
#define REFRESH_GAP_MAX_NS 30000000000ull

static int py_refresh(void *arg)
{
	return ct_py_threads_refresh(arg);
}

static int py_sampled(void *arg, pid_t pid, struct ct_capture *c)
{
	return ct_py_read_sampled(arg, pid, c);
}

static int rb_refresh(void *arg)
{
	return ct_rb_threads_refresh(arg);
}

static int rb_sampled(void *arg, pid_t pid, struct ct_capture *c)
{
	return ct_rb_read_sampled(arg, pid, c);
}

/* Python, else Ruby: the first found (a process embedding both gets the first one's frames). */
static int open_interp(struct ct_profiler *pr)
{
	int r = ct_py_open(pr->sym, &pr->py, &pr->py_note);
	if (r == 0 && !pr->py && !pr->py_note)
		r = ct_rb_open(pr->sym, &pr->rb, &pr->py_note);
	if (r < 0)
		return r;
	struct ct_profiler_interp *h = &pr->hooks;
	if (pr->py)
		*h = (struct ct_profiler_interp){ "Python", ct_py_version(pr->py), pr->py, py_refresh,
						  ct_py_while_stopped, py_sampled, ct_py_needs_thread_pointer(pr->py) };
	else if (pr->rb)
		*h = (struct ct_profiler_interp){ "Ruby", ct_rb_version(pr->rb), pr->rb, rb_refresh,
						  ct_rb_while_stopped, rb_sampled, false };
	return 0;
}

int ct_profiler_open(pid_t pid, const char *root_name, struct ct_profile *prof,
		     const struct ct_profiler_opts *o, struct ct_profiler **ret)
{
	struct ct_profiler *pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->pid = pid;
	pr->prof = prof;
	pr->o = *o;
	if (!pr->o.max_frames)
		pr->o.max_frames = 256;
	int r = -ENOMEM;
	pr->pcs = calloc(pr->o.max_frames, sizeof(*pr->pcs));
	if (!pr->pcs || ct_pccache_new(&pr->cache) < 0)
		goto fail;
	if ((r = ct_profile_frame_named(prof, root_name, CT_PFRAME_ROOT, &pr->root_id)) < 0 ||
	    (r = ct_profile_frame_named(prof, "[kernel]", CT_PFRAME_KERNEL, &pr->kernel_id)) < 0)
		goto fail;
	if ((r = ct_sym_open(pid, &o->sym, &pr->sym)) < 0)
		goto fail;
	if (!o->no_interp && (r = open_interp(pr)) < 0)
		goto fail;
	pr->refresh_gap_ns = REFRESH_GAP_MIN_NS;
	*ret = pr;
	return 0;
fail:
	ct_profiler_close(pr);
	return r;
}

void ct_profiler_close(struct ct_profiler *pr)
{
	if (!pr)
		return;
	ct_unwinder_close(pr->unw);
	ct_sym_close(pr->sym);
	ct_pccache_free(pr->cache);
	ct_py_close(pr->py);
	ct_rb_close(pr->rb);
	free(pr->py_note);
	free(pr->group_of);
	free(pr->pcs);
	free(pr->stack);
	free(pr->tmp);
	free(pr->host);
	free(pr->comm);
	free(pr->tids);
	free(pr);
}

const struct ct_profiler_stats *ct_profiler_stats(const struct ct_profiler *pr)
{
	return &pr->stats;
}

const struct ct_profiler_interp *ct_profiler_interp(struct ct_profiler *pr)
{
	return pr->hooks.lang ? &pr->hooks : NULL;
}

void ct_profiler_set_interp(struct ct_profiler *pr, bool on)
{
	pr->interp_off = !on;
}

const char *ct_profiler_next_warning(struct ct_profiler *pr)
{
	if (pr->py_note && !pr->py_note_said) {
		pr->py_note_said = true;
		return pr->py_note;
	}
	return ct_sym_next_warning(pr->sym);
}

int ct_profiler_label(struct ct_profiler *pr, const char *host, const char *comm)
{
	free(pr->host);
	free(pr->comm);
	pr->host = ct_strdup(host ? host : "");
	pr->comm = ct_strdup(comm ? comm : "");
	return pr->host && pr->comm ? 0 : -ENOMEM;
}

static struct tid_labels *tid_slot(struct tid_labels *v, size_t cap, pid_t tid)
{
	size_t i = ((uint64_t)(uint32_t)tid * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
	while (v[i].tid && v[i].tid != tid)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* The label set of a thread, its name read from /proc on first sight (after the sample: the
 * thread may be gone, then it has no thread label). */
static int thread_labels(struct ct_profiler *pr, pid_t tid, uint32_t *ret)
{
	if ((pr->ntids + 1) * 2 > pr->cap_tids) {
		size_t cap = pr->cap_tids ? pr->cap_tids * 2 : 64;
		struct tid_labels *v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < pr->cap_tids; i++)
			if (pr->tids[i].tid)
				*tid_slot(v, cap, pr->tids[i].tid) = pr->tids[i];
		free(pr->tids);
		pr->tids = v;
		pr->cap_tids = cap;
	}
	struct tid_labels *e = tid_slot(pr->tids, pr->cap_tids, tid);
	if (e->tid) {
		*ret = e->id;
		return 0;
	}
	char *name = NULL;
	struct ct_plabel l[5] = {
		{ "host", pr->host, 0 }, { "pid", NULL, pr->pid }, { "comm", pr->comm, 0 },
		{ "tid", NULL, tid }, { "thread", NULL, 0 },
	};
	size_t n = 4;
	if (tid > 0 && ct_proc_read(pr->pid, tid, "comm", 64, &name) == 0 && *ct_rstrip(name))
		l[n++].str = name;
	int r = ct_profile_labels(pr->prof, l, n, &e->id);
	free(name);
	if (r < 0)
		return r;
	if (tid > 0) {
		e->tid = tid;
		pr->ntids++;
	}
	*ret = e->id;
	return 0;
}

/* Reopens the symbolizer (and what depends on it) over the current maps. */
static int refresh(struct ct_profiler *pr)
{
	struct ct_symbolizer *sym;
	struct ct_pccache *cache;
	int r = ct_sym_open(pr->pid, &pr->o.sym, &sym);
	if (r < 0)
		return r == -ENOMEM ? r : 0; /* gone: keep the old one for its last samples */
	if ((r = ct_pccache_new(&cache)) < 0) {
		ct_sym_close(sym);
		return r;
	}
	ct_unwinder_close(pr->unw);
	pr->unw = NULL;
	pr->unw_failed = false;
	ct_sym_close(pr->sym);
	ct_pccache_free(pr->cache);
	pr->sym = sym;
	pr->cache = cache;
	pr->stats.refreshes++;
	if (!pr->py && !pr->rb && !pr->py_note && !pr->o.no_interp)
		return open_interp(pr);
	return 0;
}

/* The frame ids of one pc, innermost first, symbolizing it on first sight. */
static int pc_frames(struct ct_profiler *pr, const struct ct_upc *u, const uint32_t **ret, size_t *ret_n)
{
	if (ct_pccache_get(pr->cache, u->pc, u->activation, ret, ret_n))
		return 0;
	struct ct_thread t;
	memset(&t, 0, sizeof(t));
	int n = ct_sym_frames(pr->sym, u->pc, u->activation, &t);
	int r = n < 0 ? n : 0;
	/* a pc in no module is not cached: once the maps are reread it may be in one */
	bool unknown = r == 0 && t.nframes == 1 && !t.frames[0].module && !t.frames[0].function;
	if (unknown && ct_now_ns() >= pr->next_refresh_ns) {
		pr->next_refresh_ns = ct_now_ns() + pr->refresh_gap_ns;
		pr->refresh_gap_ns = CT_MIN(pr->refresh_gap_ns * 2, REFRESH_GAP_MAX_NS);
		pr->pending_refresh = true;
	}
	if (r == 0 && ct_grow(&pr->tmp, &pr->cap_tmp, t.nframes + 1, sizeof(*pr->tmp)) < 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < t.nframes; i++)
		r = ct_profile_frame(pr->prof, &t.frames[i], &pr->tmp[i]);
	if (r == 0 && !unknown)
		r = ct_pccache_put(pr->cache, u->pc, u->activation, pr->tmp, t.nframes);
	size_t nf = t.nframes;
	ct_thread_clear(&t);
	if (r < 0)
		return r;
	if (unknown) {
		*ret = pr->tmp;
		*ret_n = nf;
		return 0;
	}
	pr->stats.symbolized_pcs++;
	bool ok = ct_pccache_get(pr->cache, u->pc, u->activation, ret, ret_n);
	return ok ? 0 : -EINVAL;
}

/* A Python or Ruby frame as a profile frame: "name (file:line)", or "name (file)" with no_lines, so
 * a folded line reads like a traceback; file and line stay in the frame for the formats that have a
 * place for them. */
static int python_frame_id(struct ct_profiler *pr, const struct ct_frame *f, uint32_t *ret)
{
	if (!f->function)
		return ct_profile_frame_named(pr->prof, f->ruby ? "[ruby: unreadable frame]" : "[python: unreadable frame]",
					      CT_PFRAME_NORMAL, ret);
	char *name = NULL;
	int r = pr->o.no_lines || f->line <= 0 ? asprintf(&name, "%s (%s)", f->function, f->file)
					       : asprintf(&name, "%s (%s:%d)", f->function, f->file, f->line);
	if (r < 0)
		return -ENOMEM;
	struct ct_frame pf;
	memset(&pf, 0, sizeof(pf));
	pf.function = name;
	pf.file = f->file;
	pf.line = pr->o.no_lines ? 0 : f->line;
	pf.python = f->python;
	pf.ruby = f->ruby;
	r = ct_profile_frame(pr->prof, &pf, ret);
	free(name);
	return r;
}

/* Whether pc is the interpreter loop's: _PyEval_EvalFrameDefault, rb_vm_exec */
static bool is_loop_pc(const struct ct_profiler *pr, uint64_t pc)
{
	return pr->py ? ct_py_is_eval_pc(pr->py, pc) : pr->rb ? ct_rb_is_exec_pc(pr->rb, pc) : false;
}

/* The Python or Ruby frames of c into pr->pyf when its native stack (the n pcs unwound) runs the
 * interpreter loop and the frames copied with it are that stack's; else none, and the sample keeps
 * its native frames only (never an interpreter stack that may not be the sample's). */
static int python_frames(struct ct_profiler *pr, const struct ct_capture *c, size_t n)
{
	if ((!pr->py && !pr->rb) || pr->interp_off)
		return 0;
	size_t evals = 0;
	for (size_t i = 0; i < n; i++)
		evals += is_loop_pc(pr, pr->pcs[i].pc);
	if (evals == 0)
		return 0;
	if (ct_grow(&pr->group_of, &pr->cap_group_of, n, sizeof(*pr->group_of)) < 0)
		return -ENOMEM;
	pr->stats.py_samples++;
	bool exact = false;
	int r;
	if (pr->py) {
		r = ct_py_capture_frames(pr->py, c, pr->pcs, n, &pr->pyf, &pr->npyf, pr->group_of, &exact);
	} else {
		/* Ruby: one rb_vm_exec call per loop frame, counted */
		r = ct_rb_capture_frames(pr->rb, c, evals, &pr->pyf, &pr->npyf);
		for (size_t i = 0, g = 0; i < n; i++)
			pr->group_of[i] = is_loop_pc(pr, pr->pcs[i].pc) ? (long)g++ : -1;
	}
	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		pr->stats.py_merged++;
		pr->stats.py_exact += exact;
	} else if (r == -EAGAIN) {
		pr->stats.py_moved++;
	} else if (r == -EXDEV) {
		pr->stats.py_mismatch++;
	} else {
		pr->stats.py_other++;
	}
	return 0;
}

int ct_profiler_add(struct ct_profiler *pr, const struct ct_capture *c, bool in_kernel, const char *thread,
		    uint64_t count, uint64_t weight)
{
	int n = 0;
	char *why = NULL;
	if (!pr->unw && !pr->unw_failed && ct_unwinder_open(pr->o.unwinder, pr->sym, NULL, &pr->unw) < 0)
		pr->unw_failed = true;
	if (pr->unw && c->err == 0)
		n = ct_unwinder_run(pr->unw, c, pr->pcs, pr->o.max_frames, &why);
	if (why || (n > 0 && (size_t)n == pr->o.max_frames))
		pr->stats.truncated++;
	free(why);
	if (n <= 0) {
		n = 0;
		pr->stats.failed++;
	}
	/* leaf-first frames, expanded through the cache; then reversed into root-first order */
	size_t len = 0;
	int r = 0;
	if (in_kernel) {
		if (ct_grow(&pr->stack, &pr->cap_stack, 1, sizeof(*pr->stack)) < 0)
			return -ENOMEM;
		pr->stack[len++] = pr->kernel_id;
	}
	if ((r = python_frames(pr, c, (size_t)n)) < 0)
		return r;
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		const uint32_t *ids;
		size_t nids;
		if ((r = pc_frames(pr, &pr->pcs[i], &ids, &nids)) < 0)
			break;
		if (ct_grow(&pr->stack, &pr->cap_stack, len + nids + 1, sizeof(*pr->stack)) < 0) {
			r = -ENOMEM;
			break;
		}
		if (!pr->pyf || nids == 0 || pr->group_of[i] < 0) {
			memcpy(pr->stack + len, ids, nids * sizeof(*ids));
			len += nids;
			continue;
		}
		/* an interpreter-loop frame: what is inlined into it, then the Python or Ruby frames
		 * it runs in its place, as --backtraces merges them */
		memcpy(pr->stack + len, ids, (nids - 1) * sizeof(*ids));
		len += nids - 1;
		uint32_t eval_id = ids[nids - 1];
		size_t shown = 0, group = (size_t)pr->group_of[i];
		while (k < pr->npyf && pr->pyf[k].group < group)
			k++;
		for (; k < pr->npyf && pr->pyf[k].group == group && r == 0; k++) {
			if (pr->pyf[k].skip)
				continue;
			if (ct_grow(&pr->stack, &pr->cap_stack, len + 2, sizeof(*pr->stack)) < 0)
				r = -ENOMEM;
			else if ((r = python_frame_id(pr, &pr->pyf[k].f, &pr->stack[len])) == 0)
				len++, shown++;
		}
		if (r < 0)
			break;
		if (shown == 0) /* a call whose frames have not started: the loop itself */
			pr->stack[len++] = eval_id;
	}
	ct_interp_frames_free(pr->pyf, pr->npyf);
	pr->pyf = NULL;
	pr->npyf = 0;
	if (r < 0)
		return r;
	if (ct_grow(&pr->stack, &pr->cap_stack, len + 2, sizeof(*pr->stack)) < 0)
		return -ENOMEM;
	if (thread && (r = ct_profile_frame_named(pr->prof, thread, CT_PFRAME_THREAD, &pr->stack[len++])) < 0)
		return r;
	pr->stack[len++] = pr->root_id;
	for (size_t i = 0; i < len / 2; i++) {
		uint32_t t = pr->stack[i];
		pr->stack[i] = pr->stack[len - 1 - i];
		pr->stack[len - 1 - i] = t;
	}
	pr->stats.samples += count;
	uint32_t labels = 0;
	if (pr->host && (r = thread_labels(pr, c->tid, &labels)) < 0)
		return r;
	r = ct_profile_add_labeled(pr->prof, pr->stack, len, labels, count, weight);
	if (r == 0 && pr->pending_refresh) {
		pr->pending_refresh = false;
		r = refresh(pr);
	}
	return r;
}
