/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/ruby.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "interp/rblayout.h"
#include "interp/rbnames.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_STR 1024            /* bytes of a label or path */
#define MAX_ENTRIES (1 << 18)   /* insn_info entries of one iseq */
#define MAX_ISEQ (1 << 24)      /* instructions (VALUEs) of one iseq */
#define ISEQ_CACHE 1024         /* iseqs remembered (direct-mapped by address) */

struct rb_thread {
	uint64_t thread, tid;
};

struct rb_iseq {
	uint64_t addr, body, encoded, entries_addr, succ_addr;
	uint32_t size;
	char *label, *path;
	uint8_t *entries, *succ;
	size_t nentries, succ_len;
};

struct ct_rb {
	struct ct_memsrc mem; /* the live process, or a core */
	struct ct_rb_layout L;
	char version[32];
	uint64_t vm_ptr, exec_lo, exec_hi;
	uint64_t kernel; /* the address of rb_mKernel, or 0 */
	uint64_t ractor, gvl_owner;
	struct rb_thread *threads;
	size_t nthreads, cap_threads;
	struct rb_iseq *iseqs; /* ISEQ_CACHE entries */
	struct ct_rb_names *names; /* C functions' names */
	struct ct_rb_stats stats;
};

/* The copied control frames, as c->interp holds them. */
struct rb_raw {
	uint64_t thread;
	int32_t err;       /* 0, -ESTALE (the thread's context moved), -EFAULT, -EPROTO (out of its stack) */
	uint32_t n, truncated, pad;
	uint64_t ns;       /* time spent copying, while the thread was stopped */
	struct ct_rb_raw_frame f[];
};

/* ---- finding the interpreter ---- */

struct rb_syms {
	uint64_t version, vm_ptr, exec, exec_size, kernel;
};

static void module_syms(Dwfl_Module *mod, struct rb_syms *s)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 22); i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || sym.st_shndx == SHN_UNDEF)
			continue;
		if (strcmp(name, "ruby_version") == 0)
			s->version = addr;
		else if (strcmp(name, "ruby_current_vm_ptr") == 0)
			s->vm_ptr = addr;
		else if (strcmp(name, "rb_mKernel") == 0)
			s->kernel = addr;
		else if (strcmp(name, "rb_vm_exec") == 0 && GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
			s->exec = addr;
			s->exec_size = sym.st_size;
		}
	}
}

struct module_pick {
	const char *exe;
	Dwfl_Module *lib, *exe_mod;
};

static int pick_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct module_pick *p = arg;
	(void)userdata;
	(void)start;
	if (!name)
		return DWARF_CB_OK;
	if (!p->lib && ct_startswith(ct_basename(name), "libruby"))
		p->lib = mod;
	else if (p->exe && strcmp(name, p->exe) == 0)
		p->exe_mod = mod;
	return DWARF_CB_OK;
}

/* ruby_version ("3.1.2"): digits and two dots, or "" */
static void read_version(const struct ct_memsrc *mem, uint64_t addr, char *ret, size_t size)
{
	char buf[16];
	ret[0] = '\0';
	if (ct_interp_read(mem, addr, buf, sizeof(buf)) < 0)
		return;
	buf[sizeof(buf) - 1] = '\0';
	unsigned a, b, c;
	int len = 0;
	if (sscanf(buf, "%3u.%3u.%3u%n", &a, &b, &c, &len) == 3 && buf[len] == '\0')
		snprintf(ret, size, "%u.%u.%u", a, b, c);
}

static int note(char **ret_note, const char *what, const char *version)
{
	*ret_note = ct_strf("Ruby %s: %s: native frames only", version, what);
	return *ret_note ? 0 : -ENOMEM;
}

int ct_rb_open(struct ct_symbolizer *sym, struct ct_rb **ret, char **ret_note)
{
	pid_t pid = ct_sym_pid(sym);
	char exe[4096];
	ssize_t n = ct_proc_exe(pid, exe, sizeof(exe));
	struct ct_memsrc live = ct_memsrc_live(pid);
	return ct_rb_open_mem(sym, &live, n > 0 ? exe : NULL, ret, ret_note);
}

int ct_rb_open_mem(struct ct_symbolizer *sym, const struct ct_memsrc *mem, const char *exe, struct ct_rb **ret,
		   char **ret_note)
{
	*ret = NULL;
	*ret_note = NULL;
	struct module_pick pick = { exe, NULL, NULL };
	dwfl_getmodules(ct_sym_dwfl(sym), pick_module, &pick, 0);
	struct rb_syms s;
	memset(&s, 0, sizeof(s));
	if (pick.lib)
		module_syms(pick.lib, &s);
	if (!s.version && pick.exe_mod) {
		memset(&s, 0, sizeof(s));
		module_syms(pick.exe_mod, &s);
	}
	if (!s.version || !s.vm_ptr)
		return 0; /* not Ruby */
	char version[32];
	read_version(mem, s.version, version, sizeof(version));
	if (!version[0])
		return note(ret_note, "ruby_version cannot be read", "(version unknown)");
	const struct ct_rb_layout *L = ct_rb_layout_find(version);
	if (!L)
		return note(ret_note, "ctrace has no layout table for this version (3.1)", version);
	if (!s.exec)
		return note(ret_note, "rb_vm_exec is not in the symbols", version);
	struct ct_rb *rb = calloc(1, sizeof(*rb));
	if (!rb || !(rb->iseqs = calloc(ISEQ_CACHE, sizeof(*rb->iseqs))) ||
	    ct_rb_names_new(mem, &rb->L, s.vm_ptr, &rb->names) < 0) {
		if (rb)
			free(rb->iseqs);
		free(rb);
		return -ENOMEM;
	}
	rb->mem = *mem;
	rb->L = *L;
	snprintf(rb->version, sizeof(rb->version), "%s", version);
	rb->vm_ptr = s.vm_ptr;
	rb->kernel = s.kernel;
	rb->exec_lo = s.exec;
	rb->exec_hi = s.exec + (s.exec_size ? s.exec_size : 1);
	*ret = rb;
	return 0;
}

static void iseq_clear(struct rb_iseq *q)
{
	free(q->label);
	free(q->path);
	free(q->entries);
	free(q->succ);
	memset(q, 0, sizeof(*q));
}

void ct_rb_close(struct ct_rb *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < ISEQ_CACHE; i++)
		iseq_clear(&rb->iseqs[i]);
	free(rb->iseqs);
	ct_rb_names_free(rb->names);
	free(rb->threads);
	free(rb);
}

const char *ct_rb_version(const struct ct_rb *rb)
{
	return rb->version;
}

void ct_rb_get_stats(const struct ct_rb *rb, struct ct_rb_stats *ret)
{
	*ret = rb->stats;
}

/* ---- threads (the target runs) ---- */

/* A forked child (a pre-fork server's worker): Ruby 3.1 keeps the thread that called fork() as the
 * child's only living thread, with the TID it had in the parent. The child's one thread then is its
 * main thread, whose TID is the process ID: when no Ruby thread claims that TID, the one thread whose
 * TID is not a thread of this process is it (none or several such: left unmatched). */
static void fix_forked_tid(struct ct_rb *rb)
{
	struct rb_thread *stale = NULL;
	if (rb->mem.read)
		return; /* a core: its TIDs are not checked against a live /proc */
	for (size_t i = 0; i < rb->nthreads; i++)
		if (rb->threads[i].tid == (uint64_t)rb->mem.pid)
			return;
	for (size_t i = 0; i < rb->nthreads; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task/%" PRIu64, (int)rb->mem.pid, rb->threads[i].tid);
		if (access(path, F_OK) == 0)
			continue;
		if (stale)
			return;
		stale = &rb->threads[i];
	}
	if (stale)
		stale->tid = (uint64_t)rb->mem.pid;
}

int ct_rb_threads_refresh(struct ct_rb *rb)
{
	const struct ct_rb_layout *L = &rb->L;
	rb->nthreads = 0;
	uint64_t vm, ractor, node;
	int r = ct_interp_read_u64(&rb->mem, rb->vm_ptr, &vm);
	if (r == 0)
		r = ct_interp_read_u64(&rb->mem, vm + L->vm_ractor_main_ractor, &ractor);
	if (r < 0)
		return r;
	rb->ractor = ractor;
	uint64_t head = ractor + L->ractor_threads_set;
	if ((r = ct_interp_read_u64(&rb->mem, head, &node)) < 0)
		return r;
	size_t len = (size_t)CT_MAX(CT_MAX(L->thread_ractor, L->thread_ec), L->thread_tid) + 8;
	uint8_t b[512];
	if (len > sizeof(b))
		return -EPROTO;
	while (node != head) {
		if (rb->nthreads >= CT_RB_MAX_THREADS)
			return -ELOOP;
		uint64_t th = node - L->thread_lt_node;
		if ((r = ct_interp_read(&rb->mem, th, b, len)) < 0)
			return r;
		if (ct_interp_u64(b, L->thread_ractor) != ractor)
			return -EPROTO; /* not a thread of this ractor */
		if (ct_grow(&rb->threads, &rb->cap_threads, rb->nthreads + 1, sizeof(*rb->threads)) < 0)
			return -ENOMEM;
		struct rb_thread *t = &rb->threads[rb->nthreads++];
		t->thread = th;
		int32_t tid;
		memcpy(&tid, b + L->thread_tid, sizeof(tid));
		t->tid = (uint64_t)(int64_t)tid;
		if ((r = ct_interp_read_u64(&rb->mem, node, &node)) < 0) /* lt_node.next */
			return r;
	}
	fix_forked_tid(rb);
	return 0;
}

void ct_rb_gvl_refresh(struct ct_rb *rb)
{
	uint64_t owner = 0;
	rb->gvl_owner = 0;
	if (rb->ractor && ct_interp_read_u64(&rb->mem, rb->ractor + rb->L.ractor_gvl_owner, &owner) == 0)
		rb->gvl_owner = owner;
}

/* ---- while the thread is stopped ---- */

/* Where the control frames of the stopped thread lie: [*ret_cfp, *ret_cfp + n frames). 0, or the
 * error the copy records. */
static int frames_where(const struct ct_rb *rb, const struct ct_memsrc *mem, uint64_t thread, uint64_t *ret_cfp, uint64_t *ret_n,
			uint32_t *ret_truncated)
{
	const struct ct_rb_layout *L = &rb->L;
	uint8_t e[64];
	uint64_t ec;
	size_t elen = (size_t)CT_MAX(CT_MAX(L->ec_vm_stack, L->ec_vm_stack_size), CT_MAX(L->ec_cfp, L->ec_thread_ptr)) + 8;
	if (elen > sizeof(e) || L->cfp_size < 40 || L->cfp_size > 256)
		return -EPROTO;
	if (ct_interp_read_u64(mem, thread + L->thread_ec, &ec) < 0 || ct_interp_read(mem, ec, e, elen) < 0)
		return -EFAULT;
	if (ct_interp_u64(e, L->ec_thread_ptr) != thread)
		return -ESTALE;
	uint64_t stack = ct_interp_u64(e, L->ec_vm_stack), size = ct_interp_u64(e, L->ec_vm_stack_size);
	uint64_t cfp = ct_interp_u64(e, L->ec_cfp), end = stack + size * 8;
	if (!stack || size > (1u << 24) || cfp < stack || cfp > end || (end - cfp) % L->cfp_size)
		return -EPROTO;
	uint64_t n = (end - cfp) / L->cfp_size;
	*ret_truncated = n > CT_RB_MAX_FRAMES;
	*ret_n = CT_MIN(n, (uint64_t)CT_RB_MAX_FRAMES);
	*ret_cfp = cfp;
	return 0;
}

static bool in_stack_copy(const struct ct_capture *c, uint64_t addr, size_t len)
{
	return c->stack && addr >= c->stack_start && addr - c->stack_start <= c->stack_len &&
	       len <= c->stack_len - (addr - c->stack_start);
}

/* Whether the sample of c holds the value v: in one of its registers, or in an aligned word of its
 * stack copy (the innermost rb_vm_exec call keeps its control frame pointer in a register, which
 * the functions it calls save on the C stack). */
static bool sample_holds(const struct ct_capture *c, uint64_t v)
{
	for (size_t i = 0; i < CT_NREGS; i++)
		if ((c->regs_valid & (1u << i)) && c->regs[i] == v)
			return true;
	if (!c->stack)
		return false;
	uint64_t a = (c->stack_start + 7) & ~7ull;
	for (; in_stack_copy(c, a, 8); a += 8)
		if (ct_interp_u64(c->stack, a - c->stack_start) == v)
			return true;
	return false;
}

#define SAMPLED_DEPTH 8 /* control frames a perf sample's may lie below the current one */

/* Which of the n control frames copied from cfp (copy) was the current one of the sample: the
 * innermost one the sample holds (the innermost rb_vm_exec keeps it in a register), or the C
 * function's frame pushed just inside it (the VM pushes it, then calls the function, with its
 * register unchanged). The frames inside that one were pushed since the sample (a thread that stops
 * running at a system call's return, on a loaded machine, is read in the middle of it), the frames
 * outside it are the sample's, as far as the sample can tell. 0 with *ret_skip, or -EAGAIN when the
 * sample holds none of them, or holds a frame below the current one (the thread returned past the
 * sampled frame). */
static int sampled_start(const struct ct_capture *c, uint64_t cfp, const uint8_t *copy, uint64_t n,
			 const struct ct_rb_layout *L, uint64_t *ret_skip)
{
	/* a frame popped since: the sample ran inside it, so its caller, now the current frame, has
	 * moved on from the call (its pc, and so its line, is no longer the sample's) */
	for (uint64_t j = 1; j <= SAMPLED_DEPTH && cfp > j * L->cfp_size; j++)
		if (sample_holds(c, cfp - j * L->cfp_size))
			return -EAGAIN;
	for (uint64_t k = 0; k < n && k < SAMPLED_DEPTH; k++) {
		if (!sample_holds(c, cfp + k * L->cfp_size))
			continue;
		bool cframe = k > 0 && ct_interp_u64(copy + (k - 1) * L->cfp_size, L->cfp_pc) == 0;
		*ret_skip = cframe ? k - 1 : k;
		return 0;
	}
	return -EAGAIN;
}

/* sampled: the thread was not stopped (a perf sample, read after it): the control frames read now
 * must be the sample's, as far as its registers and stack copy can tell (sampled_start), and the
 * current frame must not move during the copy. Else err -EAGAIN. */
static void copy_frames(struct ct_rb *rb, const struct ct_memsrc *mem, struct ct_capture *c, bool sampled)
{
	const struct ct_rb_layout *L = &rb->L;
	uint64_t t0 = ct_now_ns();
	const struct rb_thread *th = NULL;
	for (size_t i = 0; i < rb->nthreads && !th; i++)
		if (rb->threads[i].tid == (uint64_t)c->tid)
			th = &rb->threads[i];
	if (!th)
		return; /* not a Ruby thread: c->interp stays NULL */
	uint64_t cfp = 0, n = 0;
	uint32_t truncated = 0;
	int err = frames_where(rb, mem, th->thread, &cfp, &n, &truncated);
	struct rb_raw *raw = malloc(sizeof(*raw) + n * sizeof(raw->f[0]));
	uint8_t small[64 * 64];
	uint8_t *copy = n * L->cfp_size <= sizeof(small) ? small : malloc(n * L->cfp_size);
	if (!raw || !copy) {
		free(raw);
		if (copy != small)
			free(copy);
		return;
	}
	memset(raw, 0, sizeof(*raw));
	raw->thread = th->thread;
	raw->err = err;
	raw->truncated = truncated;
	if (!err && n && ct_interp_read(mem, cfp, copy, n * L->cfp_size) < 0)
		raw->err = -EFAULT;
	uint64_t skip = 0;
	if (!raw->err && sampled) {
		uint64_t again = 0, n2 = 0;
		uint32_t t2 = 0;
		if (frames_where(rb, mem, th->thread, &again, &n2, &t2) < 0 || again != cfp)
			raw->err = -EAGAIN;
		else
			raw->err = sampled_start(c, cfp, copy, n, L, &skip);
	}
	if (!raw->err) {
		for (uint64_t i = skip; i < n; i++) {
			const uint8_t *f = copy + i * L->cfp_size;
			raw->f[i - skip].pc = ct_interp_u64(f, L->cfp_pc);
			raw->f[i - skip].iseq = ct_interp_u64(f, L->cfp_iseq);
			raw->f[i - skip].ep = ct_interp_u64(f, L->cfp_ep);
		}
		raw->n = (uint32_t)(n - skip);
	}
	if (copy != small)
		free(copy);
	raw->ns = ct_now_ns() - t0;
	c->interp = raw;
	c->interp_len = sizeof(*raw) + raw->n * sizeof(raw->f[0]);
}

void ct_rb_while_stopped(void *arg, pid_t pid, struct ct_capture *c)
{
	struct ct_memsrc live = ct_memsrc_live(pid);
	copy_frames(arg, &live, c, false);
}

void ct_rb_copy_stopped(struct ct_rb *rb, struct ct_capture *c)
{
	copy_frames(rb, &rb->mem, c, false);
}

int ct_rb_read_sampled(struct ct_rb *rb, pid_t pid, struct ct_capture *c)
{
	free(c->interp);
	c->interp = NULL;
	c->interp_len = 0;
	struct ct_memsrc live = ct_memsrc_live(pid);
	copy_frames(rb, &live, c, true);
	return 0;
}

int ct_rb_raw_decode(const void *blob, size_t len, const struct ct_rb_raw_frame **ret_frames)
{
	const struct rb_raw *raw = blob;
	if (!blob || len < sizeof(*raw) || raw->n > CT_RB_MAX_FRAMES ||
	    len != sizeof(*raw) + raw->n * sizeof(raw->f[0]))
		return -EINVAL;
	*ret_frames = raw->f;
	return (int)raw->n;
}

/* ---- after the thread resumed: iseqs, strings, line tables ---- */

static char *read_str(struct ct_rb *rb, uint64_t addr)
{
	return ct_rb_string(&rb->mem, &rb->L, addr, MAX_STR);
}

/* An iseq's path: a String, or an Array [path, realpath] whose first element Ruby prints. */
static char *read_path(struct ct_rb *rb, uint64_t obj)
{
	const struct ct_rb_layout *L = &rb->L;
	uint64_t flags, first;
	if (ct_interp_read_u64(&rb->mem, obj, &flags) < 0)
		return NULL;
	if ((flags & CT_RB_T_MASK) == CT_RB_T_ARRAY) {
		uint64_t at = obj + L->array_embed;
		if (!(flags & L->array_embed_flag) && ct_interp_read_u64(&rb->mem, obj + L->array_ptr, &at) < 0)
			return NULL;
		if (ct_interp_read_u64(&rb->mem, at, &first) < 0)
			return NULL;
		obj = first;
	}
	return read_str(rb, obj);
}

static bool is_iseq(uint64_t flags)
{
	return (flags & CT_RB_T_MASK) == CT_RB_T_IMEMO &&
	       ((flags >> CT_RB_IMEMO_SHIFT) & CT_RB_IMEMO_MASK) == CT_RB_IMEMO_ISEQ;
}

/* The iseq at addr, from the cache when its body and tables are where they were. NULL when it is
 * not an iseq or a part of it cannot be read. */
static const struct rb_iseq *iseq_get(struct ct_rb *rb, uint64_t addr)
{
	const struct ct_rb_layout *L = &rb->L;
	uint64_t head[4];
	if (ct_interp_read(&rb->mem, addr, head, sizeof(head)) < 0 || !is_iseq(head[0]) || L->iseq_body > 24)
		return NULL;
	uint64_t body = ct_interp_u64((uint8_t *)head, L->iseq_body);
	uint8_t b[256];
	size_t blen = (size_t)CT_MAX(CT_MAX(L->body_succ_index_table, L->body_insns_size), L->body_label) + 8;
	if (blen > sizeof(b) || ct_interp_read(&rb->mem, body, b, blen) < 0)
		return NULL;
	uint64_t entries = ct_interp_u64(b, L->body_insns_info), succ = ct_interp_u64(b, L->body_succ_index_table);
	uint32_t size, nentries;
	memcpy(&size, b + L->body_iseq_size, sizeof(size));
	memcpy(&nentries, b + L->body_insns_size, sizeof(nentries));
	struct rb_iseq *q = &rb->iseqs[(addr >> 4) % ISEQ_CACHE];
	if (q->addr == addr && q->body == body && q->entries_addr == entries && q->succ_addr == succ &&
	    q->size == size && q->nentries == nentries)
		return q;
	iseq_clear(q);
	if (size == 0 || size > MAX_ISEQ || nentries == 0 || nentries > MAX_ENTRIES || L->insn_info_size < 4)
		return NULL;
	q->label = read_str(rb, ct_interp_u64(b, L->body_label));
	q->path = read_path(rb, ct_interp_u64(b, L->body_path));
	q->nentries = nentries;
	q->entries = malloc(nentries * (size_t)L->insn_info_size);
	q->succ_len = nentries > 1 ? ct_rb_succ_len_for(size) : 0;
	q->succ = q->succ_len ? malloc(q->succ_len) : NULL;
	if (!q->label || !q->path || !q->entries || (q->succ_len && !q->succ) ||
	    ct_interp_read(&rb->mem, entries, q->entries, nentries * (size_t)L->insn_info_size) < 0 ||
	    (q->succ_len && ct_interp_read(&rb->mem, succ, q->succ, q->succ_len) < 0)) {
		iseq_clear(q);
		return NULL;
	}
	q->addr = addr;
	q->body = body;
	q->encoded = ct_interp_u64(b, L->body_iseq_encoded);
	q->entries_addr = entries;
	q->succ_addr = succ;
	q->size = size;
	return q;
}

/* ---- merging ---- */


static bool is_exec(const struct ct_rb *rb, const struct ct_frame *f)
{
	return !f->python && !f->ruby && !f->inlined && f->pc >= rb->exec_lo && f->pc <= rb->exec_hi;
}

static bool is_exec_cb(const void *arg, const struct ct_frame *f)
{
	return is_exec(arg, f);
}

/* One Ruby frame named from its iseq; a frame that fails validation is kept, unnamed. */
static int frame_name(struct ct_rb *rb, const struct ct_rb_raw_frame *r, struct ct_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->ruby = true;
	const struct rb_iseq *q = iseq_get(rb, r->iseq);
	if (!q || r->pc < q->encoded || (r->pc - q->encoded) % 8 || (r->pc - q->encoded) / 8 > q->size) {
		rb->stats.unreadable++;
		return 0;
	}
	out->function = strdup(q->label);
	out->file = strdup(q->path);
	if (!out->function || !out->file)
		return -ENOMEM;
	int line = ct_rb_line(q->entries, q->nentries, rb->L.insn_info_size, rb->L.insn_info_line, q->succ,
			      q->succ_len, (long)((r->pc - q->encoded) / 8));
	out->line = line > 0 ? line : 0;
	return 0;
}

/* A C function's frame named from its method entry ("Kernel#sleep"), at the file and line of the
 * Ruby frame that called it, as Ruby's backtraces show it (set by the caller). 1 named, 0 not (the
 * native frame names the function), -ENOMEM. */
static int cfunc_frame(struct ct_rb *rb, uint64_t me, struct ct_frame *out)
{
	char *name;
	if (ct_rb_cfunc_name(rb->names, me, &name) < 0)
		return -ENOMEM;
	if (!name)
		return 0;
	memset(out, 0, sizeof(*out));
	out->ruby = true;
	out->function = name;
	return 1;
}

/* The Ruby frames of raw, innermost first, each with the index of the rb_vm_exec call that runs
 * it: a call's frames end at the frame it pushed first, flagged FINISH. C functions' frames are
 * named from their method entries where these check out (else left to the native frames); IFUNC
 * and dummy frames are not shown. */
static int raw_frames(struct ct_rb *rb, const struct rb_raw *raw, struct ct_interp_frame **ret, size_t *ret_n,
		      size_t *ret_groups)
{
	struct ct_interp_frame *rf = calloc(raw->n ? raw->n : 1, sizeof(*rf));
	bool *cfunc = calloc(raw->n ? raw->n : 1, sizeof(*cfunc));
	if (!rf || !cfunc) {
		free(rf);
		free(cfunc);
		return -ENOMEM;
	}
	size_t n = 0, group = 0;
	bool open = false;
	int r = 0;
	for (uint32_t i = 0; i < raw->n && r == 0; i++) {
		const struct ct_rb_raw_frame *f = &raw->f[i];
		/* the outermost frame is the thread's or the program's top frame, which Ruby's own
		 * backtraces leave out (rb_ec_partial_backtrace_object) */
		if (i + 1 == raw->n && !raw->truncated)
			continue;
		uint64_t env[3]; /* ep[-2] (method entry or cref), ep[-1], ep[0] (flags) */
		bool readable = f->ep >= 16 && ct_interp_read(&rb->mem, f->ep - 16, env, sizeof(env)) == 0;
		uint64_t flags = readable ? env[2 + CT_RB_ENV_FLAGS] : 0;
		if (readable && (flags & CT_RB_FRAME_MAGIC_MASK) == CT_RB_FRAME_MAGIC_CFUNC) {
			if ((r = cfunc_frame(rb, env[2 + CT_RB_ENV_ME_CREF], &rf[n].f)) == 1) {
				cfunc[n] = true;
				rf[n++].group = group;
				rb->stats.frames++;
				open = true;
				r = 0;
			}
			continue;
		}
		if (!f->iseq || !f->pc)
			continue;
		if (!readable) {
			/* the frame's type is not known: shown unreadable, its group unknown */
			memset(&rf[n].f, 0, sizeof(rf[n].f));
			rf[n].f.ruby = true;
			rf[n++].group = group;
			rb->stats.unreadable++;
			continue;
		}
		if (flags & CT_RB_FRAME_FLAG_CFRAME)
			continue;
		if ((r = frame_name(rb, f, &rf[n].f)) < 0)
			break;
		rf[n++].group = group;
		rb->stats.frames++;
		open = true;
		if (flags & CT_RB_FRAME_FLAG_FINISH) {
			group++;
			open = false;
		}
	}
	/* a C function's frame is at its caller's file and line: the next Ruby frame out */
	const char *file = NULL;
	int line = 0;
	for (size_t k = n; k-- > 0 && r == 0;) {
		if (!cfunc[k]) {
			file = rf[k].f.file;
			line = rf[k].f.line;
		} else if (file && !(rf[k].f.file = strdup(file))) {
			r = -ENOMEM;
		} else {
			rf[k].f.line = line;
		}
	}
	free(cfunc);
	if (r < 0) {
		ct_interp_frames_free(rf, n + 1);
		return r;
	}
	*ret = rf;
	*ret_n = n;
	*ret_groups = group + (open ? 1 : 0);
	return 0;
}

int ct_rb_thread_frames(struct ct_rb *rb, const struct ct_capture *c, struct ct_thread *t)
{
	size_t execs = 0;
	for (size_t i = 0; i < t->nframes; i++)
		execs += is_exec(rb, &t->frames[i]);
	const struct rb_raw *raw = c->interp;
	if (raw && ct_rb_raw_decode(c->interp, c->interp_len, &(const struct ct_rb_raw_frame *){ NULL }) < 0)
		raw = NULL;
	if (raw) {
		if (rb->gvl_owner && raw->thread == rb->gvl_owner)
			t->flags |= CT_THREAD_GVL_HOLDER;
		rb->stats.copies++;
		rb->stats.copy_ns_total += raw->ns;
		rb->stats.copy_ns_max = CT_MAX(rb->stats.copy_ns_max, raw->ns);
	}
	char why[200];
	if (!raw || raw->err) {
		if (!raw && execs == 0)
			return 0;
		snprintf(why, sizeof(why), "Ruby frames not shown: %s", !raw ? "no Ruby thread is this thread"
			 : raw->err == -ESTALE ? "the thread's execution context changed hands (thread starting or ending)"
			 : raw->err == -EPROTO ? "the control frames lie outside the thread's VM stack (corrupt)"
			 : "the control frames could not be read (VM starting, ending or corrupt)");
		t->interp_note = strdup(why);
		return t->interp_note ? 0 : -ENOMEM;
	}
	struct ct_interp_frame *rf;
	size_t n, groups;
	int r = raw_frames(rb, raw, &rf, &n, &groups);
	if (r < 0)
		return r;
	static const struct ct_interp_words words = { "Ruby", "rb_vm_exec frame", "VM entry", "VM entries",
						      "the control frames", "cut at their bound" };
	r = ct_interp_merge_counted(t, rf, n, groups, raw->truncated, is_exec_cb, rb, &words);
	ct_interp_frames_free(rf, n);
	return r < 0 ? r : 0;
}

/* ---- for the readers beside this one (rbthreads.c, rbgc.c) ---- */

pid_t ct_rb_pid(const struct ct_rb *rb)
{
	return rb->mem.read ? 0 : rb->mem.pid;
}

const struct ct_memsrc *ct_rb_mem(const struct ct_rb *rb)
{
	return &rb->mem;
}

const struct ct_rb_layout *ct_rb_layout_of(const struct ct_rb *rb)
{
	return &rb->L;
}

uint64_t ct_rb_vm_ptr(const struct ct_rb *rb)
{
	return rb->vm_ptr;
}

uint64_t ct_rb_kernel_ptr(const struct ct_rb *rb)
{
	return rb->kernel;
}

size_t ct_rb_thread_count(const struct ct_rb *rb)
{
	return rb->nthreads;
}

void ct_rb_thread_at(const struct ct_rb *rb, size_t i, uint64_t *ret_thread, pid_t *ret_tid)
{
	*ret_thread = rb->threads[i].thread;
	*ret_tid = (pid_t)rb->threads[i].tid;
}

bool ct_rb_is_exec_pc(const struct ct_rb *rb, uint64_t pc)
{
	return pc >= rb->exec_lo && pc <= rb->exec_hi;
}

int ct_rb_capture_frames(struct ct_rb *rb, const struct ct_capture *c, size_t execs, struct ct_interp_frame **ret,
			 size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	const struct rb_raw *raw = c->interp;
	if (!raw || ct_rb_raw_decode(c->interp, c->interp_len, &(const struct ct_rb_raw_frame *){ NULL }) < 0)
		return -ENODATA;
	if (raw->err)
		return raw->err;
	rb->stats.copies++;
	rb->stats.copy_ns_total += raw->ns;
	rb->stats.copy_ns_max = CT_MAX(rb->stats.copy_ns_max, raw->ns);
	struct ct_interp_frame *rf;
	size_t n, groups;
	int r = raw_frames(rb, raw, &rf, &n, &groups);
	if (r < 0)
		return r;
	if (groups != execs || raw->truncated) {
		ct_interp_frames_free(rf, n);
		return -EXDEV;
	}
	*ret = rf;
	*ret_n = n;
	return 0;
}
