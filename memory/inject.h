/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Level 2 of --memory for jemalloc and tcmalloc, only with --inject: their statistics exist only
 * behind their own API, so one thread of the target is stopped at a safe point and made to call it
 * (attach/call.h): jemalloc's mallctl("epoch") then mallctl("stats.*"); tcmalloc's
 * MallocExtension_GetNumericProperty(). The function and the places a thread must not be stopped
 * in (the allocator, malloc, fork, the dynamic linker) are found by symbol before anything is
 * stopped, and the thread's unwind is warmed up then too, so the stop itself only reads registers,
 * unwinds from a stack copy and runs the calls. */
#ifndef CT_MEMORY_INJECT_H
#define CT_MEMORY_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/call.h"
#include "memory/alloc.h"
#include "memory/procmem.h"
#include "symbolize/symbolizer.h"

#define CT_INJECT_MAX_VALUES 8

struct ct_inject_value {
	const char *name;   /* "stats.allocated", "generic.heap_size" … (static) */
	uint64_t value;
	bool ok;            /* the allocator answered this one */
};

struct ct_inject_stats {
	enum ct_allocator kind;
	const char *function;        /* the function called (static) */
	uint64_t function_addr;
	pid_t tid;                   /* the thread that ran the calls */
	size_t attempts;             /* stops taken, refused ones included */
	struct ct_call_stats call;   /* of the stop that ran the calls */
	struct ct_inject_value values[CT_INJECT_MAX_VALUES];
	size_t nvalues;
	bool refreshed;              /* jemalloc: the epoch refresh succeeded */
	bool safe_return;            /* calls returned through libc's rt_sigreturn trampoline */
	uint64_t wall_ns;
};

struct ct_inject_opts {
	pid_t tid;                   /* the thread to use; 0: ctrace chooses (an idle one first) */
	uint64_t timeout_ns;         /* all attempts end by then (0: 2 s) */
	uint64_t call_timeout_ns;    /* one call (0: 1 s) */
	size_t max_attempts;         /* stops at most (0: 20) */
};

/* Reads the allocator's statistics by calling into pid. a: from ct_alloc_detect (jemalloc or
 * tcmalloc); maps: the process's mappings (level 1). Returns 0 and *ret, or -errno with a sentence
 * in *ret_why (free it): -ENOTSUP the allocator has no such API, -ENOENT its function is not found,
 * -EAGAIN every stop was refused (the reason of the last refusal is given), -ETIMEDOUT, -ESRCH,
 * -EPERM, -EFAULT (a call faulted: it was abandoned and the thread restored). */
int ct_inject_read(pid_t pid, struct ct_symbolizer *sym, const struct ct_alloc_info *a,
		   const struct ct_smaps_entry *maps, size_t nmaps, const struct ct_inject_opts *o,
		   struct ct_inject_stats *ret, char **ret_why);

/* The names read, per allocator (NULL-terminated). */
const char *const *ct_inject_names(enum ct_allocator k);

#endif
