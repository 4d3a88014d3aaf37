/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The allocator's entry points, for --memory --sites: which functions of which module serve the
 * target's malloc, where each starts (a file offset, what a uprobe wants, and its address in the
 * target), and how many bytes one call asks for, read from its argument registers. Reads ELF
 * symbols and /proc/PID/maps; never the target's memory. */
#ifndef CT_MEMORY_ALLOCPROBE_H
#define CT_MEMORY_ALLOCPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memory/alloc.h"
#include "symbolize/symbolizer.h"

enum ct_alloc_fn { CT_AFN_MALLOC, CT_AFN_CALLOC, CT_AFN_REALLOC, CT_AFN_POSIX_MEMALIGN,
		   CT_AFN_ALIGNED_ALLOC, CT_AFN_MEMALIGN, CT_AFN_VALLOC, CT_AFN_PVALLOC, CT_AFN_COUNT };

struct ct_alloc_probe {
	enum ct_alloc_fn fn;
	const char *name;   /* "malloc" … */
	char *symbol;       /* the symbol it was found by ("malloc", "je_malloc") */
	char *path;         /* /proc/PID/map_files/START-END of the mapping holding it */
	uint64_t offset;    /* file offset of its first instruction */
	uint64_t addr;      /* its address in the target */
};

struct ct_alloc_probes {
	struct ct_alloc_info alloc;
	struct ct_alloc_probe *p;
	size_t n;
};

/* Finds the entry points of the allocator that serves pid's malloc (ct_alloc_detect's). Two names
 * at one address are probed once. Returns 0; -ENOENT when no allocator function was found (say
 * ret->alloc.kind and module), -ESRCH when the process is gone, -ENOMEM. */
int ct_alloc_probes_find(pid_t pid, struct ct_symbolizer *sym, struct ct_alloc_probes *ret);
void ct_alloc_probes_clear(struct ct_alloc_probes *ps);
/* The probe whose entry is addr, or NULL. */
const struct ct_alloc_probe *ct_alloc_probe_at(const struct ct_alloc_probes *ps, uint64_t addr);

/* The bytes a call asks for, from the registers at its entry (DWARF-numbered, lib/capture.h).
 * Returns false when another probe counts this call: glibc hands realloc(NULL, n) and memalign-
 * family calls with an alignment malloc gives anyway (<= 16) to its own malloc. */
bool ct_alloc_call_bytes(enum ct_allocator kind, enum ct_alloc_fn fn, const uint64_t *regs,
			 uint64_t *ret_bytes);

/* True for a well-known allocation wrapper (operator new, xmalloc, g_malloc, PyMem_Malloc,
 * PyObject_Malloc, redis' zmalloc …): the allocation site is its caller. */
bool ct_alloc_wrapper_name(const char *name);

#endif
