/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libdw backend: dwfl_attach_state with callbacks that serve the captured registers and stack. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/unwind.h"
#include "lib/util.h"
#include "lib/banned.h"

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
	/* A frame that repeats with no progress (the same pc, the stack pointer not moving up) means
	 * a CFI loop: stop, and say so, rather than fill the budget. A recursion repeats its pc with
	 * the stack pointer moving up at each frame: that is progress (a 48-deep recursion was cut
	 * at 17 frames, with no word, when only the pc was compared). */
	bool same = w->n > 0 && pc == w->last_pc && fsp <= w->last_sp;
	if (same && ++w->repeats >= 16) {
		w->looped = true;
		return DWARF_CB_ABORT;
	}
	if (!same)
		w->repeats = 0;
	w->last_pc = pc;
	w->last_sp = fsp;
	w->out[w->n].pc = pc;
	w->out[w->n].activation = activation;
	w->out[w->n].sp = fsp;
	w->n++;
	return w->n >= w->max ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static int libdw_init(struct ct_unwinder *u)
{
	Dwfl *dwfl = ct_sym_dwfl(u->sym);
	if (!dwfl_attach_state(dwfl, ct_sym_core(u->sym), u->pid, &callbacks, u))
		return -ENOEXEC;
	return 0;
}

static int libdw_unwind(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out,
			size_t max, char **ret_err)
{
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
	.fini = NULL,
};
