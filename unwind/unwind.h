/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One table hides the unwinding backends (as strace's unwind.h does); each backend is one file.
 * Every backend works from a capture: registers and a stack copy taken while the thread was
 * stopped, with the running target's memory read only for what lies outside the copy. */
#ifndef CT_UNWIND_H
#define CT_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/capture.h"
#include "symbolize/symbolizer.h"

enum ct_unwinder_kind { CT_UNWIND_LIBDW, CT_UNWIND_LIBUNWIND, CT_UNWIND_FP };

struct ct_upc {
	uint64_t pc;
	bool activation; /* pc is exact (frame 0, or the frame a signal interrupted) */
	uint64_t sp;     /* the frame's stack pointer at pc (its locals lie in [sp, the caller's sp)); 0 unknown */
};

struct ct_unwinder;

struct ct_unwind_ops {
	const char *name;
	int (*init)(struct ct_unwinder *u);
	/* Fills at most max frames; returns the count (>= 0) or -errno. *ret_err, when set, says why
	 * unwinding ended before the outermost frame (allocated, caller frees). */
	int (*unwind)(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
		      char **ret_err);
	void (*fini)(struct ct_unwinder *u);
};

struct ct_unwinder {
	const struct ct_unwind_ops *ops;
	struct ct_symbolizer *sym;
	pid_t pid;
	struct ct_memsrc mem;          /* where memory outside the stack copy is read */
	const struct ct_capture *cur; /* the capture being unwound */
	bool no_rule_cache;           /* libdw: every thread through libdwfl (tests compare the two) */
	uint64_t cached_walks, fallbacks; /* libdw: threads walked by the rule cache, and by libdwfl after it gave up */
	void *priv;
};

extern const struct ct_unwind_ops ct_unwind_libdw_ops;
extern const struct ct_unwind_ops ct_unwind_libunwind_ops;
extern const struct ct_unwind_ops ct_unwind_fp_ops;

/* Parses "libdw", "libunwind" or "fp". */
int ct_unwinder_parse(const char *name, enum ct_unwinder_kind *ret);
/* mem: where memory outside a capture's stack copy is read; NULL: the live process of sym.
 * -EOPNOTSUPP: the backend needs a live process (libunwind reads /proc/PID/maps). */
int ct_unwinder_open(enum ct_unwinder_kind kind, struct ct_symbolizer *sym, const struct ct_memsrc *mem,
		     struct ct_unwinder **ret);
int ct_unwinder_run(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
		    char **ret_err);
void ct_unwinder_close(struct ct_unwinder *u);

#endif
