/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unwind/unwind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

int ct_unwinder_parse(const char *name, enum ct_unwinder_kind *ret)
{
	if (strcmp(name, "libdw") == 0)
		*ret = CT_UNWIND_LIBDW;
	else if (strcmp(name, "libunwind") == 0)
		*ret = CT_UNWIND_LIBUNWIND;
	else if (strcmp(name, "fp") == 0)
		*ret = CT_UNWIND_FP;
	else
		return -EINVAL;
	return 0;
}

int ct_unwinder_open(enum ct_unwinder_kind kind, struct ct_symbolizer *sym, const struct ct_memsrc *mem,
		     struct ct_unwinder **ret)
{
	if (kind == CT_UNWIND_LIBUNWIND && mem && mem->read)
		return -EOPNOTSUPP;
	struct ct_unwinder *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->sym = sym;
	u->pid = ct_sym_pid(sym);
	u->mem = mem ? *mem : ct_memsrc_live(u->pid);
	switch (kind) {
	case CT_UNWIND_LIBDW: u->ops = &ct_unwind_libdw_ops; break;
	case CT_UNWIND_LIBUNWIND: u->ops = &ct_unwind_libunwind_ops; break;
	case CT_UNWIND_FP: u->ops = &ct_unwind_fp_ops; break;
	default: free(u); return -EINVAL;
	}
	int r = u->ops->init ? u->ops->init(u) : 0;
	if (r < 0) {
		free(u);
		return r;
	}
	*ret = u;
	return 0;
}

/* Could a be a saved frame pointer slot: [a+8] a return address into code, [a] above a or 0? */
static bool fp_slot_at(struct ct_unwinder *u, const struct ct_capture *c, uint64_t a)
{
	uint64_t pair[2];
	if (ct_capture_read(c, &u->mem, a, pair, sizeof(pair)) < 0)
		return false;
	if (!ct_sym_is_exec(u->sym, pair[1]))
		return false;
	return pair[0] == 0 || (pair[0] > a && pair[0] - a < (1u << 20));
}

static int run(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
	       char **ret_err)
{
	*ret_err = NULL;
	u->cur = c;
	int r = u->ops->unwind(u, c, out, max, ret_err);
	u->cur = NULL;
	return r;
}

/* A thread read without stopping it gives only SP and PC. Code built with frame pointers needs RBP
 * to find its frames' CFA. Try the first few stack slots that look like a saved frame pointer as
 * RBP and keep the deepest unwind; code without frame pointers never consults RBP, so a wrong
 * candidate cannot lengthen its unwind. */
static int run_guessing_fp(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out,
			   size_t max, char **ret_err)
{
	int best = run(u, c, out, max, ret_err);
	if (best < 0 || (size_t)best >= max || !c->stack || c->stack_len < 16)
		return best;
	struct ct_upc *tmp = malloc(max * sizeof(*tmp));
	if (!tmp)
		return best;
	struct ct_capture g = *c;
	g.regs_valid |= 1u << CT_REG_RBP;
	int tried = 0;
	uint64_t first = (c->stack_start + 7) & ~7ull;
	for (uint64_t a = first; a + 16 <= c->stack_start + c->stack_len && tried < 32 && a < first + 8192; a += 8) {
		if (!fp_slot_at(u, c, a))
			continue;
		tried++;
		g.regs[CT_REG_RBP] = a;
		char *err = NULL;
		int n = run(u, &g, tmp, max, &err);
		if (n > best) {
			best = n;
			memcpy(out, tmp, (size_t)n * sizeof(*tmp));
			free(*ret_err);
			*ret_err = err;
		} else {
			free(err);
		}
	}
	free(tmp);
	return best;
}

int ct_unwinder_run(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
		    char **ret_err)
{
	*ret_err = NULL;
	if (max == 0)
		return 0;
	if (!(c->regs_valid & (1u << CT_REG_RIP)))
		return -ENODATA;
	if (!(c->regs_valid & (1u << CT_REG_RBP)))
		return run_guessing_fp(u, c, out, max, ret_err);
	return run(u, c, out, max, ret_err);
}

void ct_unwinder_close(struct ct_unwinder *u)
{
	if (!u)
		return;
	if (u->ops->fini)
		u->ops->fini(u);
	free(u);
}
