/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live pipeline up to the thread model: capture every thread (attach/), then, with every
 * thread running again, unwind (unwind/), symbolize (symbolize/) and add /proc facts. */
#ifndef CT_INSPECT_H
#define CT_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <elfutils/libdwfl.h>

#include "attach/snapshot.h"
#include "lib/model.h"
#include "symbolize/symbolizer.h"
#include "unwind/unwind.h"

struct ct_inspect_opts {
	struct ct_attach_opts attach;
	enum ct_unwinder_kind unwinder;
	size_t max_frames;
	struct ct_sym_opts sym;
	pid_t only_tid;      /* 0: every thread */
};

/* An open inspection of one process: its symbolizer and unwinder persist across snapshots. */
struct ct_inspector;

int ct_inspector_open(pid_t pid, const struct ct_inspect_opts *o, struct ct_inspector **ret);
void ct_inspector_close(struct ct_inspector *in);
/* Takes one snapshot. Returns 0 with *ret, or -errno when the process could not be captured at all. */
int ct_inspector_snapshot(struct ct_inspector *in, struct ct_snapshot **ret);
/* Next warning from symbolization (each said once), or NULL. */
const char *ct_inspector_next_warning(struct ct_inspector *in);

/* Builds the thread model from one capture: facts, frames, errors. */
int ct_inspector_thread(struct ct_inspector *in, const struct ct_capture *c, struct ct_thread *t);

/* The inspector's Dwfl over the target's modules (for reading libc's DWARF, e.g. lock layouts). */
Dwfl *ct_inspector_dwfl(struct ct_inspector *in);

#endif
