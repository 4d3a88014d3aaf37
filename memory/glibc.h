/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Level 2 of --memory for glibc malloc, read from outside while the target runs: main_arena and mp_
 * are found by libc's symbols, the layout of malloc_state, malloc_chunk, heap_info and malloc_par
 * is read from libc's DWARF (libc6-dbg), and the arenas are walked with process_vm_readv (or in a
 * core's memory: lib/memsrc.h), the way
 * mallinfo2() walks them: top, fastbins and bins; tcache'd chunks count as in use, as there.
 * Every walk is bounded and every chunk checked against the arena's own memory; a list that
 * changes under the walk is walked again, and after a few tries reported as approximate. */
#ifndef CT_MEMORY_GLIBC_H
#define CT_MEMORY_GLIBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memsrc.h"
#include "memory/procmem.h"
#include "symbolize/symbolizer.h"

/* The fields of struct mallinfo2, in bytes or counts. */
struct ct_mallinfo {
	uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};

struct ct_glibc_arena {
	uint64_t addr;
	bool main;
	size_t nheaps;          /* thread arenas: heaps in its chain; main: 0 */
	uint64_t heap_bytes;    /* thread arenas: the heaps' sizes */
	uint64_t top_size;
	uint64_t trimmable;     /* what malloc_trim(0) could hand back, estimated */
	size_t chunks;          /* free chunks walked */
	struct ct_mallinfo mi;  /* this arena's share (hblks/hblkhd/keepcost only in the main arena) */
	bool locked;            /* its mutex was held (a thread was inside malloc) when it was read */
	bool approximate;       /* lists changed under every try, or a broken list was cut short */
	char *problem;          /* what was wrong, or NULL */
};

struct ct_glibc_stats {
	char *libc;             /* the libc module path */
	char *debug_file;       /* where its DWARF came from */
	struct ct_glibc_arena *arenas;
	size_t narenas;
	struct ct_mallinfo total;
	uint64_t trimmable;
	bool approximate;
	bool arenas_truncated;  /* the arena ring did not close within the bound */
	uint64_t (*heap_ranges)[2]; /* [start, end) of every thread-arena heap */
	size_t nheap_ranges;
	size_t tries;           /* passes needed (1 when nothing changed under the walk) */
	uint64_t walk_ns, layout_ns;
	bool layout_cached;     /* the layout came from ctrace's cache (see ct_glibc_open) */
};

struct ct_glibc_opts {
	size_t max_chunks;      /* free chunks walked in all, at most (0: 50 million) */
	size_t max_arenas;      /* 0: 1024 */
	int tries;              /* 0: 3 */
};

/* Returns 0 and the stats, or -errno with a sentence in *ret_why (free it):
 * -CT_ENODEBUG (libc has no DWARF: install libc6-dbg), -ENOENT (no libc mapped or no main_arena),
 * -ESRCH (the process exited), -EPERM, -EPROTO (the layout is not one this reader understands),
 * -EIO (the arena could not be read). maps are the target's mappings (from level 1). */
int ct_glibc_read(pid_t pid, struct ct_symbolizer *sym, const struct ct_smaps_entry *maps, size_t nmaps,
		  const struct ct_glibc_opts *o, struct ct_glibc_stats **ret, char **ret_why);
void ct_glibc_stats_free(struct ct_glibc_stats *s);

/* The same in two steps, for reading one process again and again (--watch): open learns the
 * layout once (the slow part: libc's DWARF, so the result is cached per libc build-id in
 * $XDG_CACHE_HOME/ctrace or ~/.cache/ctrace), walk reads the arenas as they are now. */
struct ct_glibc_reader;
/* mem: the live process (ct_memsrc_live) or a core's memory. */
int ct_glibc_open(const struct ct_memsrc *mem, struct ct_symbolizer *sym, struct ct_glibc_reader **ret,
		  char **ret_why);
int ct_glibc_walk(struct ct_glibc_reader *g, const struct ct_smaps_entry *maps, size_t nmaps,
		  const struct ct_glibc_opts *o, struct ct_glibc_stats **ret, char **ret_why);
void ct_glibc_close(struct ct_glibc_reader *g);

#endif
