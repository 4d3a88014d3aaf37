/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one --memory report holds: level 1 (/proc), the allocator, and level 2 (glibc's arenas, or
 * jemalloc/tcmalloc's statistics with --inject). Filled by the memory session, rendered by
 * report/memory.h. */
#ifndef CT_MEMORY_LEVELS_H
#define CT_MEMORY_LEVELS_H

#include <stddef.h>
#include <stdint.h>

#include "interp/pymem.h"
#include "memory/alloc.h"
#include "memory/glibc.h"
#include "memory/inject.h"
#include "memory/procmem.h"

/* Ruby's GC figures (the process runs Ruby: interp/rbgc.h), under GC.stat's names, or why not. */
#define CT_MEM_RUBY_FIGS 12
struct ct_mem_ruby {
	const char *version;     /* "3.1.2" */
	const char *note;        /* why the figures are not shown (n is 0), or NULL */
	size_t n;
	const char *name[CT_MEM_RUBY_FIGS];
	uint64_t value[CT_MEM_RUBY_FIGS];
};

struct ct_mem_report {
	const struct ct_mem_l1 *l1;
	const struct ct_alloc_info *alloc;
	const struct ct_glibc_stats *glibc; /* NULL when the arenas were not read */
	const char *malloc_note;            /* why they were not, or NULL */
	size_t top;                         /* mapping groups listed (the rest summed up) */
	uint64_t wall_ns;
	const struct ct_inject_stats *inject; /* --inject: jemalloc/tcmalloc statistics, or NULL */
	const struct ct_mem_ruby *ruby;     /* a Ruby process: its GC figures, or NULL */
	const struct ct_pymem_stats *python;  /* CPython's collector and pymalloc, or NULL */
	const char *python_note;              /* Python found but not read: why, or NULL */
};

#endif
