/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tail calls: the functions that tail-called their way from a caller's call to the callee found on
 * the stack, which left no frame of their own. Inferred as gdb does from DWARF call-site records
 * (DW_TAG_call_site, DW_AT_call_tail_call, and the GNU DWARF 4 extensions), and only when the chain
 * is unique; a tail call into another module goes through the PLT and is not inferred. */
#ifndef CT_TAILCALLS_H
#define CT_TAILCALLS_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "symbolize/inlines.h"

#define CT_TAILCALL_DEPTH 4 /* tail calls in a row, at most */

/* The return addresses of the tail-call sites between the frames of callee_pc (exact when
 * callee_activation) and caller_pc (a return address), innermost first as frames go, in ret_pcs;
 * each is to be symbolized as a return address. Returns their number, 0 when none is inferred. */
int ct_tailcalls_infer(Dwfl *dwfl, struct ct_symindex *x, uint64_t callee_pc, bool callee_activation,
		       uint64_t caller_pc, uint64_t ret_pcs[CT_TAILCALL_DEPTH]);

#endif
