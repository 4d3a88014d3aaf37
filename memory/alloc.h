/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which malloc a process uses: by the libraries it maps, then by the symbols of its executable
 * (an allocator linked in statically, as redis builds jemalloc). Reads ELF files; never the target. */
#ifndef CT_MEMORY_ALLOC_H
#define CT_MEMORY_ALLOC_H

#include <stdbool.h>

#include "memory/procmem.h"
#include "symbolize/symbolizer.h"

enum ct_allocator {
	CT_ALLOC_UNKNOWN,
	CT_ALLOC_GLIBC,
	CT_ALLOC_JEMALLOC,
	CT_ALLOC_TCMALLOC,
	CT_ALLOC_MIMALLOC,
};

struct ct_alloc_info {
	enum ct_allocator kind;
	char *module;       /* the library or executable that holds it; NULL when unknown */
	bool linked_in;     /* found by symbols in the executable rather than as a library */
	bool static_glibc;  /* glibc linked statically into the executable */
};

/* Fills ret from the mappings in l1 and, when no allocator library is mapped, the symbols of the
 * executable (sym may be NULL: then by libraries only). 0 or -ENOMEM. */
int ct_alloc_detect(const struct ct_mem_l1 *l1, struct ct_symbolizer *sym, struct ct_alloc_info *ret);
void ct_alloc_info_clear(struct ct_alloc_info *a);
const char *ct_allocator_name(enum ct_allocator k); /* "glibc", "jemalloc" … */
/* Classifies a library path by its file name: CT_ALLOC_UNKNOWN when it is no allocator. */
enum ct_allocator ct_alloc_library_kind(const char *path);

#endif
