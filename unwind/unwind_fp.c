/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Frame-pointer backend: follows the rbp chain. Fast and dependency-free; skips the caller of a
 * frame-0 function that has not set up its frame, and stops at code built without frame pointers. */
#include <errno.h>
#include <stdlib.h>

#include "unwind/unwind.h"
#include "lib/util.h"
#include "lib/banned.h"

static int fp_unwind(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
		     char **ret_err)
{
	size_t n = 0;
	out[n].pc = c->regs[CT_REG_RIP];
	out[n].activation = true;
	out[n].sp = (c->regs_valid & (1u << CT_REG_RSP)) ? c->regs[CT_REG_RSP] : 0;
	n++;
	if (!(c->regs_valid & (1u << CT_REG_RBP)) || !(c->regs_valid & (1u << CT_REG_RSP))) {
		*ret_err = ct_strdup("frame pointer not captured");
		return (int)n;
	}
	uint64_t sp = c->regs[CT_REG_RSP], fp = c->regs[CT_REG_RBP];
	/* stack frames live above SP; bound the walk to a sane stack size */
	const uint64_t limit = sp + (64ull << 20);
	while (n < max) {
		if (fp < sp || fp >= limit || (fp & 7)) {
			if (fp != 0)
				*ret_err = ct_strdup("frame pointer chain left the stack");
			break;
		}
		uint64_t pair[2];
		if (ct_capture_read(c, &u->mem, fp, pair, sizeof(pair)) < 0) {
			*ret_err = ct_strdup("cannot read a saved frame pointer");
			break;
		}
		if (pair[1] == 0)
			break;
		out[n].pc = pair[1];
		out[n].activation = false;
		out[n].sp = fp + 16; /* the caller's stack pointer once the call returns */
		n++;
		if (pair[0] <= fp) {
			if (pair[0] != 0)
				*ret_err = ct_strdup("frame pointer chain does not grow");
			break;
		}
		sp = fp + 16;
		fp = pair[0];
	}
	return (int)n;
}

const struct ct_unwind_ops ct_unwind_fp_ops = {
	.name = "fp",
	.init = NULL,
	.unwind = fp_unwind,
	.fini = NULL,
};
