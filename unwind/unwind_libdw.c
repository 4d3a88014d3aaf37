/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libdw backend: dwfl_attach_state with callbacks that serve the captured registers and stack.
 *
 * In front of it, a cache of each pc's CFI rules (libdw's own, from dwarf_cfi_addrframe, asked once
 * per pc) walks the threads whose every frame has rules of the plain forms x86-64 code uses: the
 * CFA a register plus an offset, each register undefined, the same, saved at CFA + n or equal to
 * CFA + n. It computes what libdwfl's handle_cfi would from those rules, without its per-frame work
 * (the FDE found and its CIE's and FDE's instructions run again, each register's rule evaluated as
 * a DWARF expression, two allocations): 200 threads of 22 frames, 1.8 ms in libdwfl. Anything
 * else met on the way (no module or no .eh_frame entry for a pc, a signal frame, an expression
 * rule, a register a rule needs that is not known, an unreadable word, a loop) and the thread is
 * unwound by libdwfl from the start, as before: the cache never decides a case libdw would decide
 * differently. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/unwind.h"
#include "lib/util.h"
#include "lib/banned.h"

#define NREGS 17 /* DWARF's x86-64 numbering, which CT_REG_* follows: rax .. r15, then 16 the return address */
#define RA_REG 16
#define SP_REG 7

enum rule_kind { RULE_UNDEF, RULE_SAME, RULE_AT, RULE_VAL };

/* One pc's rules (lookup pc: the return address less one, or the exact pc of frame 0) */
struct rules {
	uint64_t pc;
	bool used, plain;  /* plain: of the forms above, not a signal frame */
	uint8_t cfa_reg;
	uint8_t kind[NREGS];
	int64_t cfa_off;
	int64_t off[NREGS];
};

/* at most this many pcs kept (about 350 bytes each): a long profile of a large program meets
 * hundreds of thousands; past it, a pc's rules are asked of libdw each time, into scratch */
#define RULES_MAX (1u << 16)

struct rulecache {
	struct rules *v;
	size_t cap, n;     /* cap a power of two, n <= cap / 2 */
	uint64_t hits, misses;
	struct rules scratch;
};

struct walk {
	struct ct_upc *out;
	size_t max, n;
	uint64_t last_pc, last_sp;
	unsigned repeats;
	bool looped;
};

static pid_t next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl;
	(void)dwfl_arg;
	(void)thread_argp;
	return 0; /* threads are named one at a time through get_thread */
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl;
	struct ct_unwinder *u = dwfl_arg;
	if (!u->cur || u->cur->tid != tid)
		return false;
	*thread_argp = u;
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
	(void)dwfl;
	struct ct_unwinder *u = dwfl_arg;
	uint64_t v;
	if (ct_capture_read(u->cur, &u->mem, addr, &v, sizeof(v)) < 0)
		return false;
	*result = v;
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct ct_unwinder *u = thread_arg;
	const struct ct_capture *c = u->cur;
	if ((c->regs_valid & ((1u << CT_NREGS) - 1)) == (1u << CT_NREGS) - 1) {
		if (!dwfl_thread_state_registers(thread, 0, CT_NREGS, c->regs))
			return false;
	} else {
		for (int i = 0; i < CT_NREGS; i++) {
			if (!(c->regs_valid & (1u << i)))
				continue;
			Dwarf_Word w = c->regs[i];
			if (!dwfl_thread_state_registers(thread, i, 1, &w))
				return false;
		}
	}
	dwfl_thread_state_register_pc(thread, c->regs[CT_REG_RIP]);
	return true;
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

enum step { STEP_MORE, STEP_FULL, STEP_LOOPED };

/* One frame into the walk, as both walks (libdwfl's callback, the rule cache's) take it. A frame
 * that repeats with no progress (the same pc, the stack pointer not moving up) means a CFI loop:
 * stop, and say so, rather than fill the budget. A recursion repeats its pc with the stack pointer
 * moving up at each frame: that is progress (a 48-deep recursion was cut at 17 frames, with no
 * word, when only the pc was compared). */
static enum step walk_add(struct walk *w, uint64_t pc, bool activation, uint64_t sp)
{
	bool same = w->n > 0 && pc == w->last_pc && sp <= w->last_sp;
	if (same && ++w->repeats >= 16) {
		w->looped = true;
		return STEP_LOOPED;
	}
	if (!same)
		w->repeats = 0;
	w->last_pc = pc;
	w->last_sp = sp;
	w->out[w->n] = (struct ct_upc){ pc, activation, sp };
	w->n++;
	return w->n >= w->max ? STEP_FULL : STEP_MORE;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (pc == 0)
		return DWARF_CB_ABORT;
	Dwarf_Word sp;
	uint64_t fsp = dwfl_frame_reg(state, 7, &sp) == 0 ? sp : 0; /* DWARF register 7: rsp */
	return walk_add(w, pc, activation, fsp) == STEP_MORE ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static size_t slot_of(const struct rulecache *rc, uint64_t pc)
{
	uint64_t h = pc * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 20) & (rc->cap - 1);
	while (rc->v[i].used && rc->v[i].pc != pc)
		i = (i + 1) & (rc->cap - 1);
	return i;
}

static int cache_grow(struct rulecache *rc)
{
	size_t cap = rc->cap ? rc->cap * 2 : 1024;
	struct rules *old = rc->v;
	size_t ocap = rc->cap;
	rc->v = calloc(cap, sizeof(*rc->v));
	if (!rc->v) {
		rc->v = old;
		return -ENOMEM;
	}
	rc->cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			rc->v[slot_of(rc, old[i].pc)] = old[i];
	free(old);
	return 0;
}

/* A register's rule from the ops dwarf_frame_register gives (libdw/dwarf_frame_register.c): none
 * with ops the caller's buffer, undefined; none with ops NULL, the same value; DW_OP_call_frame_cfa,
 * an optional DW_OP_plus_uconst n, and DW_OP_stack_value for a value rather than a location. */
static bool decode_register(Dwarf_Frame *frame, int regno, uint8_t *ret_kind, int64_t *ret_off)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0;
	if (dwarf_frame_register(frame, regno, mem, &ops, &nops) != 0)
		return false;
	*ret_off = 0;
	if (nops == 0) {
		if (ops == mem)
			*ret_kind = RULE_UNDEF;
		else if (ops == NULL)
			*ret_kind = RULE_SAME;
		else
			return false;
		return true;
	}
	size_t i = 0;
	if (ops[i++].atom != DW_OP_call_frame_cfa)
		return false;
	*ret_kind = RULE_AT;
	if (i < nops && ops[i].atom == DW_OP_plus_uconst)
		*ret_off = (int64_t)ops[i++].number;
	if (i < nops && ops[i].atom == DW_OP_stack_value) {
		*ret_kind = RULE_VAL;
		i++;
	}
	return i == nops;
}

/* libdwfl's choice for a pc (frame_unwind.c): the module's .eh_frame first. A pc for which it has
 * no entry (libdwfl would try .debug_frame, then the backend's frame-pointer guess) is not plain. */
static void rules_build(Dwfl *dwfl, uint64_t pc, struct rules *r)
{
	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->used = true;
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	Dwarf_Addr bias = 0;
	Dwarf_CFI *cfi = mod ? dwfl_module_eh_cfi(mod, &bias) : NULL;
	Dwarf_Frame *frame = NULL;
	if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &frame) != 0)
		return;
	bool signal = false;
	Dwarf_Op *ops = NULL;
	size_t nops = 0;
	if (dwarf_frame_info(frame, NULL, NULL, &signal) != RA_REG || signal ||
	    dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
		goto out;
	if (ops[0].atom == DW_OP_bregx) {
		if (ops[0].number >= NREGS)
			goto out;
		r->cfa_reg = (uint8_t)ops[0].number;
		r->cfa_off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom < DW_OP_breg0 + NREGS) {
		r->cfa_reg = (uint8_t)(ops[0].atom - DW_OP_breg0);
		r->cfa_off = (int64_t)ops[0].number;
	} else {
		goto out;
	}
	for (int i = 0; i < NREGS; i++)
		if (!decode_register(frame, i, &r->kind[i], &r->off[i]))
			goto out;
	r->plain = true;
out:
	free(frame);
}

static const struct rules *rules_for(struct ct_unwinder *u, struct rulecache *rc, uint64_t pc)
{
	bool room = rc->n + 1 <= rc->cap / 2 || (rc->n < RULES_MAX && cache_grow(rc) == 0);
	struct rules *r = rc->cap ? &rc->v[slot_of(rc, pc)] : NULL;
	if (r && r->used) {
		rc->hits++;
		return r;
	}
	rc->misses++;
	if (!room || !r)
		r = &rc->scratch; /* full: asked of libdw again next time */
	rules_build(ct_sym_dwfl(u->sym), pc, r);
	if (r != &rc->scratch)
		rc->n++;
	return r;
}

/* The walk libdwfl and frame_cb would make, for a thread whose frames all have plain rules. The
 * frame count, or -1 when libdwfl is to unwind this thread (see the top of the file). */
static int fast_unwind(struct ct_unwinder *u, struct rulecache *rc, const struct ct_capture *c,
		       struct ct_upc *out, size_t max)
{
	uint64_t regs[NREGS], next[NREGS];
	uint32_t valid, nvalid;
	_Static_assert(CT_NREGS == NREGS, "CT_REG_* is DWARF's numbering");
	memcpy(regs, c->regs, sizeof(regs));
	valid = c->regs_valid & ((1u << NREGS) - 1);
	uint64_t pc = c->regs[CT_REG_RIP];
	struct walk w = { out, max, 0, 0, 0, 0, false };
	for (;;) {
		if (pc == 0)
			return -1;
		uint64_t sp = valid & (1u << SP_REG) ? regs[SP_REG] : 0;
		enum step st = walk_add(&w, pc, w.n == 0, sp);
		if (st == STEP_LOOPED)
			return -1; /* libdwfl's walk says so, with its message */
		if (st == STEP_FULL) {
			/* libdwfl tells this frame's activation by unwinding it: true when its own rules
			 * are a signal frame's (__restore_rt), which are not plain */
			const struct rules *last = w.n == 1 ? NULL : rules_for(u, rc, pc - 1);
			return !last || last->plain ? (int)w.n : -1;
		}
		const struct rules *r = rules_for(u, rc, w.n == 1 ? pc : pc - 1);
		if (!r || !r->plain || !(valid & (1u << r->cfa_reg)))
			return -1;
		uint64_t cfa = regs[r->cfa_reg] + (uint64_t)r->cfa_off;
		nvalid = 0;
		for (int i = 0; i < NREGS; i++) {
			switch (r->kind[i]) {
			case RULE_UNDEF:
				continue;
			case RULE_SAME:
				if (!(valid & (1u << i)))
					continue;
				next[i] = regs[i];
				break;
			case RULE_AT:
				if (ct_capture_read(c, &u->mem, cfa + (uint64_t)r->off[i], &next[i], sizeof(next[i])) < 0)
					return -1;
				break;
			case RULE_VAL:
				next[i] = cfa + (uint64_t)r->off[i];
				break;
			}
			nvalid |= 1u << i;
		}
		/* the return address undefined or 0: the outermost frame, where libdwfl ends cleanly */
		if (!(nvalid & (1u << RA_REG))) {
			if (r->kind[RA_REG] == RULE_UNDEF)
				return (int)w.n;
			return -1; /* "the same" as a register not known: libdwfl's error */
		}
		if (next[RA_REG] == 0)
			return (int)w.n;
		memcpy(regs, next, sizeof(regs));
		valid = nvalid;
		pc = next[RA_REG];
	}
}

static int libdw_init(struct ct_unwinder *u)
{
	Dwfl *dwfl = ct_sym_dwfl(u->sym);
	if (!dwfl_attach_state(dwfl, ct_sym_core(u->sym), u->pid, &callbacks, u))
		return -ENOEXEC;
	u->priv = calloc(1, sizeof(struct rulecache));
	return u->priv ? 0 : -ENOMEM;
}

static void libdw_fini(struct ct_unwinder *u)
{
	struct rulecache *rc = u->priv;
	if (rc)
		free(rc->v);
	free(rc);
	u->priv = NULL;
}

static int libdw_unwind(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out,
			size_t max, char **ret_err)
{
	struct rulecache *rc = u->priv;
	if (rc && !u->no_rule_cache) {
		int n = fast_unwind(u, rc, c, out, max);
		if (n >= 0) {
			u->cached_walks++;
			return n;
		}
		u->fallbacks++;
	}
	struct walk w = { out, max, 0, 0, 0, 0, false };
	int r = dwfl_getthread_frames(ct_sym_dwfl(u->sym), c->tid, frame_cb, &w);
	if (w.looped) {
		*ret_err = ct_strdup("the unwind repeated a frame without progress (a loop in the CFI)");
		return (int)w.n;
	}
	if (r == -1 && w.n < max) {
		int e = dwfl_errno();
		/* libdw reports the end of the chain as an error on some frames; an unwind that reached
		 * a zero return address or an undefined RA is complete. */
		if (e != 0 && w.n > 0) {
			const char *msg = dwfl_errmsg(e);
			if (msg && !strstr(msg, "no error"))
				*ret_err = ct_strdup(msg);
		} else if (w.n == 0) {
			*ret_err = ct_strdup(dwfl_errmsg(e));
		}
	}
	return (int)w.n;
}

const struct ct_unwind_ops ct_unwind_libdw_ops = {
	.name = "libdw",
	.init = libdw_init,
	.unwind = libdw_unwind,
	.fini = libdw_fini,
};
