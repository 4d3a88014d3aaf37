/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/inject.h"

#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "attach/snapshot.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "unwind/unwind.h"
#include "lib/banned.h"

static const char *const je_names[] = {
	"stats.allocated", "stats.active", "stats.resident", "stats.mapped", "stats.retained",
	"stats.metadata", NULL,
};
static const char *const tc_names[] = {
	"generic.current_allocated_bytes", "generic.heap_size", "tcmalloc.pageheap_free_bytes",
	"tcmalloc.pageheap_unmapped_bytes", "tcmalloc.central_cache_free_bytes",
	"tcmalloc.transfer_cache_free_bytes", "tcmalloc.thread_cache_free_bytes", NULL,
};

const char *const *ct_inject_names(enum ct_allocator k)
{
	return k == CT_ALLOC_JEMALLOC ? je_names : k == CT_ALLOC_TCMALLOC ? tc_names : NULL;
}

struct range {
	uint64_t lo, hi;
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static int ranges_add(struct ranges *rs, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return 0;
	if (ct_grow(&rs->r, &rs->cap, rs->n + 1, sizeof(*rs->r)) < 0)
		return -ENOMEM;
	rs->r[rs->n++] = (struct range){ lo, hi };
	return 0;
}

static bool ranges_has(const struct ranges *rs, uint64_t pc)
{
	for (size_t i = 0; i < rs->n; i++)
		if (pc >= rs->r[i].lo && pc < rs->r[i].hi)
			return true;
	return false;
}

/* Functions a thread must not be stopped in for a call: it may hold the allocator's locks, or
 * malloc's, or be half-way through a fork (all allocator locks held) or the dynamic linker. */
static bool unsafe_name(const char *n)
{
	static const char *const exact[] = {
		"malloc", "free", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
		"aligned_alloc", "valloc", "pvalloc", "malloc_usable_size", "malloc_trim", "mallinfo",
		"mallinfo2", "malloc_stats", "malloc_info", "cfree", "sysmalloc", "tcache_init",
		"arena_get2", "fork", "vfork", "_Fork", "__libc_fork", "__run_fork_handlers",
		"__run_prefork_handlers", "__run_postfork_handlers", "mallocx", "rallocx", "xallocx",
		"sallocx", "dallocx", "sdallocx", "nallocx", "mallctl", "mallctlnametomib", "mallctlbymib",
		"malloc_stats_print", "dlopen", "dlclose", "dlsym", "dlvsym", "dl_iterate_phdr",
		"operator new", "operator delete",
	};
	static const char *const prefix[] = {
		"je_", "tc_", "_int_", "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc",
		"__libc_memalign", "__libc_valloc", "__libc_pvalloc", "malloc_", "_dl_", "__libc_dl",
		"_ZN8tcmalloc", "_ZN15MallocExtension", "MallocExtension", "_Znw", "_Zna", "_Zdl", "_Zda",
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(exact); i++)
		if (strcmp(n, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < CT_ARRAY_SIZE(prefix); i++)
		if (ct_startswith(n, prefix[i]))
			return true;
	return false;
}

/* The first frame of a thread: an unwind that ends in one of these reached the bottom. */
static bool outer_name(const char *n)
{
	static const char *const names[] = {
		"_start", "start_thread", "clone", "__clone", "clone3", "__clone3", "__libc_start_main",
		"__libc_start_call_main", "__clone_internal",
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(names); i++)
		if (strcmp(n, names[i]) == 0)
			return true;
	return false;
}

struct scan {
	const struct ct_alloc_info *a;
	const char *exe;
	const char *const *fn_names;  /* the function to call, by preference */
	uint64_t fn_addr;
	size_t fn_rank;
	struct ranges unsafe, outer;
	uint64_t prefix_lo, prefix_hi; /* linked-in allocator: span of its je_/tc_ functions */
	int err;
};

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void scan_symbols(Dwfl_Module *mod, struct scan *s, bool is_alloc, bool linked_in)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 24) && s->err == 0; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (is_alloc) {
			for (size_t k = 0; s->fn_names[k]; k++)
				if (strcmp(name, s->fn_names[k]) == 0 && (!s->fn_addr || k < s->fn_rank)) {
					s->fn_addr = addr;
					s->fn_rank = k;
				}
			if (linked_in && (ct_startswith(name, "je_") || ct_startswith(name, "tc_") ||
					  ct_startswith(name, "_ZN8tcmalloc"))) {
				if (!s->prefix_lo || addr < s->prefix_lo)
					s->prefix_lo = addr;
				s->prefix_hi = CT_MAX(s->prefix_hi, addr + CT_MAX(sym.st_size, 1));
			}
		}
		uint64_t end = addr + CT_MAX(sym.st_size, 1);
		if (unsafe_name(name))
			s->err = ranges_add(&s->unsafe, addr, end);
		else if (outer_name(name))
			s->err = ranges_add(&s->outer, addr, end);
	}
}

static int scan_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct scan *s = arg;
	(void)userdata;
	(void)start;
	if (!name || name[0] != '/')
		return DWARF_CB_OK;
	bool is_alloc = s->a->module && strcmp(name, s->a->module) == 0;
	bool is_exe = s->exe && strcmp(name, s->exe) == 0;
	bool is_libc = ct_alloc_library_kind(name) == CT_ALLOC_GLIBC;
	bool is_ld = ct_startswith(base(name), "ld-linux") || ct_startswith(base(name), "ld-2.");
	Dwarf_Addr low = 0, high = 0;
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	/* every frame in the allocator's own library or in the dynamic linker counts as inside */
	if ((is_alloc && !s->a->linked_in) || is_ld)
		s->err = ranges_add(&s->unsafe, low, high);
	if (is_alloc || is_exe || is_libc)
		scan_symbols(mod, s, is_alloc, is_alloc && s->a->linked_in);
	if (is_exe) {
		/* _start, by the entry point: stripped executables keep no symbol for it */
		GElf_Addr bias = 0;
		Elf *elf = dwfl_module_getelf(mod, &bias);
		GElf_Ehdr eh;
		if (elf && gelf_getehdr(elf, &eh) && eh.e_entry)
			s->err = s->err ? s->err : ranges_add(&s->outer, eh.e_entry + bias, eh.e_entry + bias + 64);
	}
	return s->err ? DWARF_CB_ABORT : DWARF_CB_OK;
}

#define MAX_FRAMES 256

struct check_ctx {
	struct ct_unwinder *unw;
	const struct ranges *unsafe, *outer;
	const struct ct_smaps_entry *maps;
	size_t nmaps;
	struct ct_upc pcs[MAX_FRAMES];
	const char *last_why;
};

/* The call needs room below the stack pointer: a thread stack mapping with less than this left is
 * refused ([stack] grows on demand). */
#define MIN_STACK_ROOM (32 * 1024)

static int check_thread(void *arg, const struct ct_capture *c, const char **why)
{
	struct check_ctx *x = arg;
	uint64_t sp = c->regs[CT_REG_RSP];
	const struct ct_smaps_entry *m = NULL;
	for (size_t i = 0; i < x->nmaps; i++)
		if (sp >= x->maps[i].map.start && sp < x->maps[i].map.end) {
			m = &x->maps[i];
			break;
		}
	if (!m || m->map.perms[0] != 'r' || m->map.perms[1] != 'w') {
		*why = "its stack pointer is not in a writable mapping";
		return -EAGAIN;
	}
	bool grows = m->map.path && strcmp(m->map.path, "[stack]") == 0;
	if (!grows && sp - m->map.start < MIN_STACK_ROOM) {
		*why = "its stack has too little room left for a call";
		return -EAGAIN;
	}
	char *err = NULL;
	int n = ct_unwinder_run(x->unw, c, x->pcs, MAX_FRAMES, &err);
	bool complete = n > 0 && n < MAX_FRAMES && !err;
	free(err);
	for (int i = 0; i < n; i++) {
		uint64_t pc = x->pcs[i].activation ? x->pcs[i].pc : x->pcs[i].pc - 1;
		if (ranges_has(x->unsafe, pc)) {
			*why = "it is inside the allocator (or malloc, fork or the dynamic linker)";
			return -EAGAIN;
		}
	}
	if (!complete || (x->outer->n && !ranges_has(x->outer, x->pcs[n - 1].pc - 1))) {
		*why = "its stack could not be unwound to its first frame, so ctrace cannot tell it is not "
		       "inside the allocator";
		return -EAGAIN;
	}
	return 0;
}

struct cand {
	pid_t tid;
	bool warmed;
};

/* A thread may run a call when it runs, or sleeps in a system call that restarts after a stop.
 * Threads blocked where a stop would end the call with EINTR, in uninterruptible sleep or stopped
 * are left alone. Returns 1 (running), 2 (sleeping), 0 (not usable, *why says why) or -errno. */
static int usable(pid_t pid, pid_t tid, const char **why)
{
	_cleanup_free_ char *st_text = NULL, *sc_text = NULL;
	struct ct_proc_stat st;
	struct ct_proc_syscall sc;
	if (ct_proc_read(pid, tid, "stat", 4096, &st_text) < 0 || ct_parse_proc_stat(st_text, &st) < 0)
		return -ESRCH;
	if (st.state == 'R')
		return 1;
	if (st.state != 'S') {
		*why = "it is neither running nor in an interruptible sleep";
		return 0;
	}
	if (ct_proc_read(pid, tid, "syscall", 512, &sc_text) < 0 || ct_parse_proc_syscall(sc_text, &sc) < 0)
		return -ESRCH;
	if (sc.nr == -2)
		return 1; /* woke up since: running */
	if (sc.nr < 0) {
		*why = "it sleeps outside a system call ctrace can see";
		return 0;
	}
	if (ct_syscall_eintr_prone(pid, sc.nr, sc.args)) {
		*why = "it is blocked in a system call that a stop would end with EINTR";
		return 0;
	}
	return 2;
}

/* Threads by preference: sleeping in a restartable system call (idle; the main thread first, as
 * /proc lists it first), then running. */
static int candidates(pid_t pid, pid_t only, struct cand **ret, size_t *ret_n, char **ret_why)
{
	pid_t *tids = NULL;
	size_t n = 0;
	int r = ct_proc_list_tasks(pid, &tids, &n);
	if (r < 0)
		return r;
	struct cand *c = calloc(n ? n : 1, sizeof(*c));
	int *kind = calloc(n ? n : 1, sizeof(*kind));
	if (!c || !kind) {
		free(tids);
		free(c);
		free(kind);
		return -ENOMEM;
	}
	size_t nc = 0;
	for (size_t i = 0; i < n; i++) {
		if (only && tids[i] != only)
			continue;
		const char *why = NULL;
		kind[i] = usable(pid, tids[i], &why);
		if (only && kind[i] == 0) {
			*ret_why = ct_strf("thread %d cannot run the call: %s; choose another with --tid", (int)only, why);
			nc = 0;
			r = -EBUSY;
			break;
		}
	}
	for (int want = 2; r == 0 && want >= 1; want--)
		for (size_t i = 0; i < n; i++)
			if (kind[i] == want && (!only || tids[i] == only))
				c[nc++] = (struct cand){ tids[i], false };
	free(tids);
	free(kind);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	*ret_n = nc;
	return 0;
}

/* Unwinds a capture of tid before any stop for a call, so libdw has read the CFI of the modules on
 * its stack and the unwind during the stop is quick. A thread asleep is read without a stop; a
 * running one is stopped as --backtraces would stop it. Returns the capture's error. */
static int warm_up(struct ct_attach *att, pid_t pid, pid_t tid, uint64_t deadline, struct ct_unwinder *unw,
		   struct ct_upc *pcs)
{
	struct ct_attach_opts ao = CT_ATTACH_OPTS_DEFAULT;
	struct ct_capture cap;
	int r = ct_attach_thread(att, pid, tid, &ao, deadline, &cap);
	if (r == 0) {
		char *err = NULL;
		(void)ct_unwinder_run(unw, &cap, pcs, MAX_FRAMES, &err);
		free(err);
	}
	free(cap.stack);
	return r;
}

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

static int push_u64(struct ct_call *c, uint64_t v, uint64_t *ret)
{
	return ct_call_push(c, &v, sizeof(v), ret);
}

/* Out-parameters start as this; a call that succeeded overwrote them. The return value is not
 * used: through the rt_sigreturn trampoline it is not available (attach/call.h). */
#define UNSET UINT64_MAX

static int read_jemalloc(struct ct_call *c, struct ct_inject_stats *st)
{
	uint64_t s_epoch, p_epoch, p_old, p_len, ret;
	int r = ct_call_push(c, "epoch", 6, &s_epoch);
	if (r == 0)
		r = push_u64(c, 1, &p_epoch);
	if (r == 0)
		r = push_u64(c, UNSET, &p_old);
	if (r == 0)
		r = push_u64(c, sizeof(uint64_t), &p_len);
	if (r < 0)
		return r;
	uint64_t args[5] = { s_epoch, p_old, p_len, p_epoch, sizeof(uint64_t) };
	r = ct_call_run(c, st->function_addr, args, 5, &ret);
	if (r < 0)
		return r;
	uint64_t epoch = UNSET;
	st->refreshed = ct_call_peek(c, p_old, &epoch, sizeof(epoch)) == 0 && epoch != UNSET;
	for (size_t i = 0; je_names[i] && i < CT_INJECT_MAX_VALUES; i++) {
		uint64_t s_name, p_val, p_sz;
		r = ct_call_push(c, je_names[i], strlen(je_names[i]) + 1, &s_name);
		if (r == 0)
			r = push_u64(c, UNSET, &p_val);
		if (r == 0)
			r = push_u64(c, sizeof(size_t), &p_sz);
		if (r < 0)
			return r;
		uint64_t a[5] = { s_name, p_val, p_sz, 0, 0 };
		r = ct_call_run(c, st->function_addr, a, 5, &ret);
		if (r < 0)
			return r;
		struct ct_inject_value *v = &st->values[st->nvalues++];
		v->name = je_names[i];
		uint64_t val = UNSET, sz = 0;
		v->ok = ct_call_peek(c, p_val, &val, sizeof(val)) == 0 && ct_call_peek(c, p_sz, &sz, sizeof(sz)) == 0 &&
			sz == sizeof(size_t) && val != UNSET;
		v->value = v->ok ? val : 0;
	}
	return 0;
}

static int read_tcmalloc(struct ct_call *c, struct ct_inject_stats *st)
{
	for (size_t i = 0; tc_names[i] && i < CT_INJECT_MAX_VALUES; i++) {
		uint64_t s_name, p_val, ret;
		int r = ct_call_push(c, tc_names[i], strlen(tc_names[i]) + 1, &s_name);
		if (r == 0)
			r = push_u64(c, UNSET, &p_val);
		if (r < 0)
			return r;
		uint64_t a[2] = { s_name, p_val };
		r = ct_call_run(c, st->function_addr, a, 2, &ret);
		if (r < 0)
			return r;
		struct ct_inject_value *v = &st->values[st->nvalues++];
		v->name = tc_names[i];
		uint64_t val = UNSET;
		v->ok = ct_call_peek(c, p_val, &val, sizeof(val)) == 0 && val != UNSET;
		v->value = v->ok ? val : 0;
	}
	return 0;
}

static char *call_error(int r, pid_t tid, const char *fn)
{
	switch (r) {
	case -ETIMEDOUT:
		return ct_strf("%s did not return within the call deadline in thread %d; the call was abandoned and "
			       "the thread restored (a lock it took may still be held: see SAFETY in ctrace(1))", fn, (int)tid);
	case -EFAULT:
		return ct_strf("%s faulted in thread %d; the fault was suppressed and the thread restored", fn, (int)tid);
	case -ESRCH:
		return ct_strf("the process exited while %s ran", fn);
	case -ENOSPC:
		return ct_strf("ctrace's scratch area on the stack of thread %d was too small", (int)tid);
	default:
		return ct_strf("calling %s in thread %d failed: %s", fn, (int)tid, strerror(-r));
	}
}

int ct_inject_read(pid_t pid, struct ct_symbolizer *sym, const struct ct_alloc_info *a,
		   const struct ct_smaps_entry *maps, size_t nmaps, const struct ct_inject_opts *o,
		   struct ct_inject_stats *ret, char **ret_why)
{
	*ret_why = NULL;
	uint64_t t0 = ct_now_ns();
	uint64_t deadline = t0 + (o->timeout_ns ? o->timeout_ns : 2000000000ull);
	size_t max_attempts = o->max_attempts ? o->max_attempts : 20;
	struct ct_inject_stats st;
	memset(&st, 0, sizeof(st));
	st.kind = a->kind;
	/* threads that do not stop in time stay seized until they do (ct_attach_release_pending below)
	 * or ctrace exits */
	struct ct_attach att = CT_ATTACH_INIT;
	static const char *const je_fn[] = { "mallctl", "je_mallctl", NULL };
	static const char *const tc_fn[] = { "MallocExtension_GetNumericProperty", NULL };
	if (a->kind != CT_ALLOC_JEMALLOC && a->kind != CT_ALLOC_TCMALLOC) {
		*ret_why = ct_strf("--inject reads jemalloc and tcmalloc; this process uses %s", ct_allocator_name(a->kind));
		return -ENOTSUP;
	}
	if (!a->module) {
		*ret_why = ct_strf("the module holding %s is not known", ct_allocator_name(a->kind));
		return -ENOENT;
	}
	char exe[PATH_MAX];
	ssize_t el = ct_proc_exe(pid, exe, sizeof(exe));
	struct scan s;
	memset(&s, 0, sizeof(s));
	s.a = a;
	s.exe = el > 0 ? exe : NULL;
	s.fn_names = a->kind == CT_ALLOC_JEMALLOC ? je_fn : tc_fn;
	dwfl_getmodules(ct_sym_dwfl(sym), scan_module, &s, 0);
	int r = s.err;
	if (r == 0 && a->linked_in && s.prefix_lo)
		r = ranges_add(&s.unsafe, s.prefix_lo, s.prefix_hi);
	if (r < 0)
		goto out;
	if (!s.fn_addr) {
		*ret_why = ct_strf("%s has no symbol %s (stripped?), so its statistics cannot be asked for", a->module,
				   s.fn_names[0]);
		r = -ENOENT;
		goto out;
	}
	st.function = s.fn_names[s.fn_rank];
	st.function_addr = s.fn_addr;

	/* calls return through libc's rt_sigreturn trampoline when there is one (see attach/call.h):
	 * then ctrace's death in the middle of a call cannot kill the process */
	uint64_t restorer = 0;
	if (ct_call_find_restorer(pid, &restorer) < 0)
		restorer = 0;
	st.safe_return = restorer != 0;
	struct cand *cands = NULL;
	size_t ncands = 0;
	r = candidates(pid, o->tid, &cands, &ncands, ret_why);
	if (r < 0)
		goto out;
	if (ncands == 0) {
		*ret_why = o->tid ? ct_strf("thread %d of process %d was not found", (int)o->tid, (int)pid)
				  : ct_strf("no thread of process %d runs or sleeps in a restartable system call", (int)pid);
		r = o->tid ? -ESRCH : -EAGAIN;
		free(cands);
		goto out;
	}
	struct check_ctx *x = calloc(1, sizeof(*x));
	r = x ? ct_unwinder_open(CT_UNWIND_LIBDW, sym, NULL, &x->unw) : -ENOMEM;
	if (r < 0) {
		free(x);
		free(cands);
		goto out;
	}
	x->unsafe = &s.unsafe;
	x->outer = &s.outer;
	x->maps = maps;
	x->nmaps = nmaps;
	const char *last_why = NULL;
	int last_r = -EAGAIN;
	/* a stopped thread waits for ctrace to be scheduled after each call: on a busy machine, run at
	 * a higher priority when allowed (as attach/ does for snapshots); the loop is bounded */
	errno = 0;
	int old_nice = getpriority(PRIO_PROCESS, 0);
	bool reniced = errno == 0 && old_nice > -10 && setpriority(PRIO_PROCESS, 0, -10) == 0;
	struct ct_call *call = NULL;
	for (size_t i = 0; st.attempts < max_attempts && ct_now_ns() < deadline; i++) {
		struct cand *cd = &cands[i % ncands];
		if (cd->tid == 0) {
			if (i % ncands == ncands - 1)
				pause_ms(2);
			continue;
		}
		/* a thread given up on earlier (it did not stop in time) is let go if it stopped since */
		ct_attach_release_pending(&att);
		if (!cd->warmed) {
			cd->warmed = true;
			r = warm_up(&att, pid, cd->tid, deadline, x->unw, x->pcs);
			if (r == -ETIMEDOUT || r == -ESRCH) {
				last_r = r;
				last_why = r == -ESRCH ? "it exited" : "it did not stop in time";
				cd->tid = 0;
				continue;
			}
		}
		struct ct_call_opts co = { CT_MIN(deadline, ct_now_ns() + 200000000ull), o->call_timeout_ns, 0,
					   check_thread, x, restorer, &att };
		const char *why = NULL;
		st.attempts++;
		r = ct_call_begin(pid, cd->tid, &co, &call, &why);
		if (r == 0) {
			st.tid = cd->tid;
			break;
		}
		last_r = r;
		last_why = why;
		if (r == -ENOMEM)
			break;
		if (r == -ESRCH || r == -EPERM || r == -ETIMEDOUT)
			cd->tid = 0; /* gone, blocks SIGSEGV, or does not stop: not again */
		/* refused (in the allocator, a signal on its way): try the next thread, and once every
		 * thread was tried, wait a moment for them to move on */
		if (i % ncands == ncands - 1)
			pause_ms(2 + (long)(i % 3));
	}
	ct_unwinder_close(x->unw);
	free(x);
	free(cands);
	ct_attach_release_pending(&att);
	if (!call) {
		if (reniced)
			(void)setpriority(PRIO_PROCESS, 0, old_nice);
		if (r == 0 || r == -ENOMEM)
			r = r ? r : -EAGAIN;
		else
			r = last_r;
		if (r != -ENOMEM)
			*ret_why = ct_strf("no thread could run %s after %zu stop%s: %s %s", st.function, st.attempts,
					   st.attempts == 1 ? "" : "s", o->tid ? "the thread was refused because" :
					   "the last one was refused because", last_why && *last_why ? last_why : strerror(-r));
		goto out;
	}
	r = a->kind == CT_ALLOC_JEMALLOC ? read_jemalloc(call, &st) : read_tcmalloc(call, &st);
	int e = ct_call_end(call, &st.call);
	if (reniced)
		(void)setpriority(PRIO_PROCESS, 0, old_nice);
	if (r < 0) {
		*ret_why = call_error(r, st.tid, st.function);
	} else if (e < 0) {
		r = e;
		*ret_why = e == -ESRCH ? ct_strf("the process exited while %s ran", st.function)
				       : ct_strf("thread %d could not be restored: %s", (int)st.tid, strerror(-e));
	}
out:
	free(s.unsafe.r);
	free(s.outer.r);
	st.wall_ns = ct_now_ns() - t0;
	*ret = st;
	return r;
}
