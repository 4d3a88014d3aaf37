/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/memory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "interp/coremem.h"
#include "interp/rbgc.h"
#include "interp/ruby.h"
#include "interp/pymem.h"
#include "lib/error.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "memory/glibc.h"
#include "memory/procmem.h"
#include "symbolize/symbolizer.h"
#include "lib/banned.h"

#define ROW_GROWTH 3      /* groups named per --watch row */
#define SUMMARY_GROWTH 10 /* in the summary */

struct ct_memory_session {
	pid_t pid;
	struct ct_memsrc mem;          /* the live process, or the core's memory */
	struct ct_core *core;          /* --core: the core, read once */
	Elf *core_elf;
	struct ct_memory_opts o;
	struct ct_memory_open_stats stats;
	struct ct_alloc_info alloc;
	struct ct_glibc_reader *glibc; /* kept across reports and samples */
	char *note;                    /* why the allocator's figures are not read, or NULL */
	bool partial;                  /* something that should have worked did not */
	struct ct_inject_stats inject; /* --inject: what the allocator said */
	bool injected;
	/* the reading the next report shows (open's, until a report used it) */
	struct ct_mem_l1 l1;
	bool l1_held, l1_used;
	uint64_t l1_t0;                /* when it began */
	struct ct_glibc_stats *gs;     /* the last report's walk */
	char *walk_why;
	bool walk_failed;
	/* a Ruby process: its VM, found at open, and the last report's GC figures */
	struct ct_rb *rb;
	char *rb_note;
	/* --core and Ruby: the core with its modules' read-only data from their files (where
	 * ruby_version lies, which cores leave out), and the modules, kept while rb reads */
	struct ct_symbolizer *core_sym;
	struct ct_coremem core_mem;
	struct ct_memsrc core_interp_mem;
	struct ct_mem_ruby ruby;
	bool is_ruby;
	/* Python's own figures (interp/pymem.h): its reader, the last report's reading, or why not */
	struct ct_pymem *py;
	struct ct_pymem_stats py_stats;
	char *py_note;
	/* --watch */
	struct ct_mem_sample first, prev;
	struct ct_mem_growth *grew;
};

static const char *api_name(enum ct_allocator k)
{
	return k == CT_ALLOC_JEMALLOC ? "mallctl" : k == CT_ALLOC_TCMALLOC ? "MallocExtension" : "mi_stats";
}

/* jemalloc and tcmalloc: their statistics through their own API, called inside the process. */
static void alloc_inject(struct ct_memory_session *ms, struct ct_symbolizer *sym)
{
	struct ct_inject_opts io = { ms->o.inject_tid, ms->o.inject_timeout_ns, 0, 0 };
	char *why = NULL;
	int r = ct_inject_read(ms->pid, sym, &ms->alloc, ms->l1.maps, ms->l1.nmaps, &io, &ms->inject, &why);
	ms->stats.inject = &ms->inject;
	if (r < 0) {
		ms->note = why ? why : ct_strf("--inject failed: %s", ct_strerror(r));
		ms->partial = true;
		return;
	}
	free(why);
	ms->injected = true;
}

/* glibc: the reader of its arenas, unless they cannot be read (static, no debug information). */
static int alloc_glibc(struct ct_memory_session *ms, struct ct_symbolizer *sym)
{
	if (ms->alloc.static_glibc) {
		ms->note = ct_strf("glibc is linked statically into the executable; its arenas are read only "
				   "through a shared libc.so.6 with debug information");
		return 0;
	}
	char *why = NULL;
	int r = ct_glibc_open(&ms->mem, sym, &ms->glibc, &why);
	if (r == -ENOMEM) {
		free(why);
		return r;
	}
	if (r < 0) {
		ms->note = why ? why : ct_strf("malloc's arenas cannot be read: %s", ct_strerror(r));
		if (r != -CT_ENODEBUG)
			ms->partial = true;
	}
	return 0;
}

/* What reads the statistics of the allocator found, or the note saying why nothing does. */
static int alloc_stats(struct ct_memory_session *ms, struct ct_symbolizer *sym)
{
	enum ct_allocator k = ms->alloc.kind;
	switch (k) {
	case CT_ALLOC_GLIBC:
		return ms->o.no_arenas ? 0 : alloc_glibc(ms, sym);
	case CT_ALLOC_JEMALLOC:
	case CT_ALLOC_TCMALLOC:
		if (ms->o.no_arenas)
			return 0;
		if (ms->o.inject) {
			alloc_inject(ms, sym);
			return 0;
		}
		ms->note = ct_strf("%s keeps its statistics behind its own API (%s), which only code inside the "
				   "process can call; --inject would call it from one thread stopped at a safe point "
				   "(for a few milliseconds; see SAFETY in ctrace(1))", ct_allocator_name(k),
				   api_name(k));
		return 0;
	case CT_ALLOC_MIMALLOC:
		ms->note = ct_strf("%s keeps its statistics behind its own API (%s), which only code run inside "
				   "the process can call; ctrace does not do that, so the mappings above are what "
				   "is known", ct_allocator_name(k), api_name(k));
		return 0;
	case CT_ALLOC_UNKNOWN:
		break;
	}
	return 0;
}

/* A Ruby process: its VM (the GC figures are read at each report, through ms->mem: the live
 * process or the core), or why there are none. exe: the executable's path, NULL when unknown. */
static int ruby_open(struct ct_memory_session *ms, struct ct_symbolizer *sym, const struct ct_memsrc *mem,
		     const char *exe)
{
	char *why = NULL;
	int r = ct_rb_open_mem(sym, mem, exe, &ms->rb, &why);
	if (r < 0)
		return r;
	ms->is_ruby = ms->rb || why;
	/* why ends in "native frames only", which is the backtraces' concern */
	if (why && !(ms->rb_note = ct_strf("the GC figures are not read (%s)", why)))
		r = -ENOMEM;
	free(why);
	return r;
}

/* The GC figures of the Ruby VM now, into ms->ruby (the target runs). */
static void ruby_report(struct ct_memory_session *ms)
{
	struct ct_mem_ruby *m = &ms->ruby;
	memset(m, 0, sizeof(*m));
	if (!ms->rb) {
		m->note = ms->rb_note; /* the version has no layout table, or cannot be read */
		return;
	}
	m->version = ct_rb_version(ms->rb);
	struct ct_rb_gc g;
	int r = ct_rb_gc_read(ms->rb, &g);
	if (r == -ENOTSUP)
		m->note = "the GC figures need the layout of gc.c's objspace, which ctrace has for 3.1 only";
	else if (r == -EFAULT)
		m->note = "the GC figures could not be read (the VM is starting or ending)";
	else if (r < 0)
		m->note = "the GC figures did not check out in three readings (a GC under way?); not shown";
	if (r < 0) {
		ms->partial = r != -ENOTSUP;
		return;
	}
	size_t n;
	const char *const *names = ct_rb_gc_names(&n);
	m->n = CT_MIN(n, (size_t)CT_MEM_RUBY_FIGS);
	memcpy(m->name, names, m->n * sizeof(*names));
	ct_rb_gc_values(&g, m->value, m->n);
}

/* CPython's collector and pymalloc, when the process is Python: the reader kept for the reports,
 * or the one line saying why it cannot be read. exe: the executable's path, or NULL. */
static int python_open(struct ct_memory_session *ms, struct ct_symbolizer *sym, const char *exe)
{
	if (ms->o.no_arenas)
		return 0;
	int r = ct_pymem_open(&ms->mem, sym, exe, &ms->py, &ms->py_note);
	return r == -ENOMEM ? r : 0;
}

/* The reading a report shows: NULL when the process is not Python or cannot be read. */
static const struct ct_pymem_stats *python_read(struct ct_memory_session *ms)
{
	if (!ms->py || ct_pymem_read(ms->py, &ms->py_stats) < 0)
		return NULL;
	return &ms->py_stats;
}

/* The allocator of the process and what reads its statistics. 0 or -ENOMEM. */
static int alloc_open(struct ct_memory_session *ms)
{
	struct ct_sym_opts so = { ms->o.debug_dirs, true };
	struct ct_symbolizer *sym = NULL;
	int r = ct_sym_open(ms->pid, &so, &sym);
	if (r < 0) {
		if (ct_alloc_detect(&ms->l1, NULL, &ms->alloc) < 0)
			return -ENOMEM;
		ms->note = ct_strf("the allocator's statistics were not read: %s", ct_strerror(r));
		ms->partial = true;
		return 0;
	}
	r = ct_alloc_detect(&ms->l1, sym, &ms->alloc);
	if (r == 0)
		r = alloc_stats(ms, sym);
	char exe[4096];
	ssize_t n = ct_proc_exe(ms->pid, exe, sizeof(exe));
	if (r == 0)
		r = ruby_open(ms, sym, &ms->mem, n > 0 ? exe : NULL);
	if (r == 0)
		r = python_open(ms, sym, n > 0 ? exe : NULL);
	ct_sym_close(sym);
	return r;
}

int ct_memory_session_open(pid_t pid, const struct ct_memory_opts *o, struct ct_memory_session **ret,
			   enum ct_memory_open_error *ret_what)
{
	struct ct_memory_session *ms = calloc(1, sizeof(*ms));
	if (!ms) {
		*ret_what = CT_MEMORY_OPEN_ALLOC;
		return -ENOMEM;
	}
	ms->pid = pid;
	ms->mem = ct_memsrc_live(pid);
	ms->o = *o;
	ms->l1_t0 = ct_now_ns();
	int r = ct_mem_l1_read(pid, &ms->l1);
	if (r < 0) {
		free(ms);
		*ret_what = CT_MEMORY_OPEN_PROC;
		return r;
	}
	ms->l1_held = true;
	uint64_t t1 = ct_now_ns();
	ms->stats.nmaps = ms->l1.nmaps;
	ms->stats.proc_ns = t1 - ms->l1_t0;
	r = alloc_open(ms);
	if (r < 0) {
		ct_memory_session_close(ms);
		*ret_what = CT_MEMORY_OPEN_ALLOC;
		return r;
	}
	ms->stats.alloc_ns = ct_now_ns() - t1;
	ms->stats.arenas = ms->glibc != NULL;
	*ret = ms;
	return 0;
}

/* Level 1 of a core: its mappings (program headers and NT_FILE) in place of smaps, with what the
 * core holds of each as its "rss"; the threads' stack pointers from their registers. What only
 * /proc has (PSS, swap, the status lines but the name, thread count and size, open fds) is left
 * out. */
static int l1_from_core(const struct ct_core *c, struct ct_mem_l1 *l)
{
	memset(l, 0, sizeof(*l));
	l->pid = ct_core_pid(c);
	l->fds = -1;
	size_t nseg, nthr, nmaps;
	const struct ct_core_segment *seg = ct_core_segments(c, &nseg);
	const struct ct_core_thread *thr = ct_core_threads(c, &nthr);
	struct ct_proc_map *maps = NULL;
	int r = ct_core_maps(c, &maps, &nmaps);
	if (r < 0)
		return r;
	l->maps = calloc(nmaps ? nmaps : 1, sizeof(*l->maps));
	l->sps = calloc(nthr ? nthr : 1, sizeof(*l->sps));
	if (!l->maps || !l->sps) {
		ct_proc_maps_free(maps, nmaps);
		ct_mem_l1_clear(l);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < nmaps; i++) {
		struct ct_smaps_entry *e = &l->maps[i];
		e->map = maps[i];
		e->size = maps[i].end - maps[i].start;
		while (k < nseg && seg[k].vaddr < maps[i].start)
			k++;
		if (k < nseg && seg[k].vaddr == maps[i].start)
			e->rss = seg[k].avail;
		if (!e->map.path)
			e->anonymous = e->rss;
		l->status.vm_size += e->size;
		l->status.vm_rss += e->rss;
	}
	free(maps); /* the paths now belong to l->maps */
	l->nmaps = nmaps;
	for (size_t i = 0; i < nthr; i++) {
		l->sps[i].tid = thr[i].tid;
		l->sps[i].sp = thr[i].regs[CT_REG_RSP];
	}
	l->nsps = nthr;
	const char *comm = ct_core_comm(c);
	snprintf(l->status.name, sizeof(l->status.name), "%s", comm ? comm : "?");
	l->status.threads = (long)nthr;
	return ct_mem_l1_regroup(l, NULL, 0);
}

int ct_memory_session_open_core(const char *path, const struct ct_memory_opts *o, const struct ct_core_opts *co,
				const char *exe, const char *sysroot, struct ct_memory_session **ret, char **ret_why)
{
	*ret_why = NULL;
	struct ct_memory_session *ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	ms->o = *o;
	ms->l1_t0 = ct_now_ns();
	int r = ct_core_open(path, co, &ms->core, ret_why);
	if (r < 0) {
		free(ms);
		return r;
	}
	ms->pid = ct_core_pid(ms->core);
	ms->mem = ct_core_memsrc(ms->core);
	r = l1_from_core(ms->core, &ms->l1);
	if (r < 0) {
		ct_memory_session_close(ms);
		return r;
	}
	ms->l1_held = true;
	uint64_t t1 = ct_now_ns();
	ms->stats.nmaps = ms->l1.nmaps;
	ms->stats.proc_ns = t1 - ms->l1_t0;
	size_t size, nmaps;
	const void *image = ct_core_image(ms->core, &size);
	elf_version(EV_CURRENT);
	ms->core_elf = elf_memory((char *)image, size);
	struct ct_proc_map *maps = NULL;
	struct ct_symbolizer *sym = NULL;
	struct ct_sym_opts so = { ms->o.debug_dirs, true };
	r = ms->core_elf ? ct_core_maps(ms->core, &maps, &nmaps) : -ENOMEM;
	if (r == 0)
		r = ct_sym_open_core(ms->core_elf, ms->pid, maps, nmaps, exe, ct_core_exe(ms->core), sysroot, &so, &sym);
	if (r == 0)
		r = ct_alloc_detect(&ms->l1, sym, &ms->alloc);
	if (r == 0)
		r = alloc_stats(ms, sym);
	ms->core_mem = (struct ct_coremem){ ms->mem, sym, 0 };
	ms->core_interp_mem = ct_coremem_src(&ms->core_mem);
	if (r == 0)
		r = ruby_open(ms, sym, &ms->core_interp_mem, exe ? exe : ct_core_exe(ms->core));
	if (r == 0)
		r = python_open(ms, sym, exe ? exe : ct_core_exe(ms->core));
	if (ms->rb)
		ms->core_sym = sym; /* the Ruby reader reads through it at each report */
	else
		ct_sym_close(sym);
	if (r < 0) {
		*ret_why = ct_strf("cannot read the core's modules: %s", ct_strerror(r));
		ct_memory_session_close(ms);
		return r == -ENOMEM ? r : -EINVAL;
	}
	size_t nseg;
	uint64_t missing = ct_core_missing(ms->core, &nseg);
	if (missing && !ms->note)
		ms->note = ct_strf("the core is truncated: %.1f MiB of memory in %zu mapping%s is missing; the "
				   "figures of what lay there cannot be read", (double)missing / (1 << 20), nseg,
				   nseg == 1 ? "" : "s");
	ms->partial |= missing != 0;
	ms->stats.alloc_ns = ct_now_ns() - t1;
	ms->stats.arenas = ms->glibc != NULL;
	*ret = ms;
	return 0;
}

void ct_memory_session_close(struct ct_memory_session *ms)
{
	if (!ms)
		return;
	ct_alloc_info_clear(&ms->alloc);
	ct_glibc_close(ms->glibc);
	ct_pymem_close(ms->py);
	free(ms->py_note);
	free(ms->note);
	if (ms->l1_held)
		ct_mem_l1_clear(&ms->l1);
	ct_glibc_stats_free(ms->gs);
	free(ms->walk_why);
	ct_mem_sample_clear(&ms->first);
	ct_mem_sample_clear(&ms->prev);
	free(ms->grew);
	ct_rb_close(ms->rb);
	free(ms->rb_note);
	ct_sym_close(ms->core_sym);
	if (ms->core_elf)
		elf_end(ms->core_elf);
	ct_core_close(ms->core);
	free(ms);
}

const struct ct_memory_open_stats *ct_memory_session_open_stats(const struct ct_memory_session *ms)
{
	return &ms->stats;
}

const struct ct_alloc_info *ct_memory_session_allocator(const struct ct_memory_session *ms)
{
	return &ms->alloc;
}

const char *ct_memory_session_note(const struct ct_memory_session *ms)
{
	return ms->walk_failed ? ms->walk_why : ms->note;
}

bool ct_memory_session_partial(const struct ct_memory_session *ms)
{
	return ms->partial || ms->walk_failed;
}

/* Reads the arenas now; on success gives the stats and regroups l1 with the arena heaps. When the
 * walk fails, *ret_why says why (free it). */
static int alloc_walk(struct ct_memory_session *ms, struct ct_mem_l1 *l1, struct ct_glibc_stats **ret,
		      char **ret_why)
{
	*ret = NULL;
	*ret_why = NULL;
	if (!ms->glibc)
		return 0;
	int r = ct_glibc_walk(ms->glibc, l1->maps, l1->nmaps, NULL, ret, ret_why);
	if (r < 0)
		return r;
	if ((*ret)->nheap_ranges)
		ct_mem_l1_regroup(l1, (const uint64_t(*)[2])(*ret)->heap_ranges, (*ret)->nheap_ranges);
	return 0;
}

/* The level-1 reading a report shows: open's the first time, a new one after. */
static int report_reading(struct ct_memory_session *ms)
{
	if (ms->l1_held && (!ms->l1_used || ms->core))
		return 0; /* a core is read once */
	if (ms->l1_held)
		ct_mem_l1_clear(&ms->l1);
	ms->l1_held = false;
	ms->l1_t0 = ct_now_ns();
	int r = ct_mem_l1_read(ms->pid, &ms->l1);
	if (r < 0)
		return r;
	ms->l1_held = true;
	return 0;
}

int ct_memory_session_report(struct ct_memory_session *ms, struct ct_mem_report *ret)
{
	int r = report_reading(ms);
	if (r < 0)
		return r;
	ms->l1_used = true;
	ct_glibc_stats_free(ms->gs);
	free(ms->walk_why);
	ms->walk_failed = alloc_walk(ms, &ms->l1, &ms->gs, &ms->walk_why) < 0;
	*ret = (struct ct_mem_report){
		.l1 = &ms->l1,
		.alloc = &ms->alloc,
		.glibc = ms->gs,
		.malloc_note = ct_memory_session_note(ms),
		.wall_ns = ct_now_ns() - ms->l1_t0,
		.inject = ms->injected ? &ms->inject : NULL,
		.python = python_read(ms),
		.python_note = ms->py_note,
	};
	if (ms->is_ruby) {
		ruby_report(ms);
		ret->ruby = &ms->ruby;
	}
	return 0;
}

int ct_memory_session_sample(struct ct_memory_session *ms, uint64_t t_ns, struct ct_mem_sample *ret)
{
	if (ms->l1_held && !ms->l1_used) { /* open's reading, stale now: no report will show it */
		ct_mem_l1_clear(&ms->l1);
		ms->l1_held = false;
	}
	struct ct_mem_l1 l1;
	int r = ct_mem_l1_read(ms->pid, &l1);
	if (r < 0)
		return r;
	struct ct_glibc_stats *gs = NULL;
	char *why = NULL;
	alloc_walk(ms, &l1, &gs, &why);
	free(why);
	ct_mem_sample_init(ret, t_ns, &l1, gs);
	ct_glibc_stats_free(gs);
	return 0;
}

/* Sleeps until deadline (monotonic ns) or *stop. */
static void sleep_until(uint64_t deadline, const volatile sig_atomic_t *stop)
{
	while (!*stop) {
		uint64_t now = ct_now_ns();
		if (now >= deadline)
			return;
		uint64_t left = deadline - now;
		struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		nanosleep(&ts, NULL); /* EINTR on a signal: the loop looks at *stop */
	}
}

/* Calls the row callback with s and what grew since last (NULL: none); nonzero to end. */
static int watch_row(const struct ct_memory_watch_opts *o, const struct ct_mem_sample *last,
		     const struct ct_mem_sample *s)
{
	struct ct_mem_growth *gr = NULL;
	size_t ngr = 0;
	if (last)
		ct_mem_growth(last, s, ROW_GROWTH, &gr, &ngr);
	int stop = o->row(o->arg, s, gr, ngr);
	free(gr);
	return stop;
}

int ct_memory_session_watch(struct ct_memory_session *ms, const struct ct_memory_watch_opts *o,
			    struct ct_memory_watch_summary *ret)
{
	uint64_t t0 = ct_now_ns(); /* rows count from the first sample, after libc's DWARF was read */
	int r = ct_memory_session_sample(ms, 0, &ms->first);
	if (r < 0)
		return r;
	bool stopped = watch_row(o, NULL, &ms->first) != 0;
	enum ct_memory_watch_end ended = CT_MEMORY_WATCH_INTERRUPTED;
	size_t nsamples = 1;
	uint64_t period = (uint64_t)(o->interval_s * 1e9);
	uint64_t end = o->duration_s > 0 ? t0 + (uint64_t)(o->duration_s * 1e9) : UINT64_MAX;
	const struct ct_mem_sample *last = &ms->first;
	for (uint64_t tick = 1; !stopped && !*o->stop; tick++) {
		uint64_t next = t0 + tick * period;
		if (next > end) {
			sleep_until(end, o->stop);
			ended = *o->stop ? CT_MEMORY_WATCH_INTERRUPTED : CT_MEMORY_WATCH_DURATION;
			break;
		}
		sleep_until(next, o->stop);
		if (*o->stop)
			break;
		struct ct_mem_sample cur;
		r = ct_memory_session_sample(ms, ct_now_ns() - t0, &cur);
		if (r < 0) {
			ended = r == -ESRCH ? CT_MEMORY_WATCH_EXITED : CT_MEMORY_WATCH_UNREADABLE;
			break;
		}
		stopped = watch_row(o, last, &cur) != 0;
		nsamples++;
		ct_mem_sample_clear(&ms->prev);
		ms->prev = cur;
		last = &ms->prev;
	}
	size_t ngrew = 0;
	free(ms->grew);
	ms->grew = NULL;
	ct_mem_growth(&ms->first, last, SUMMARY_GROWTH, &ms->grew, &ngrew);
	*ret = (struct ct_memory_watch_summary){ &ms->first, last, ms->grew, ngrew, nsamples, ended };
	return 0;
}
