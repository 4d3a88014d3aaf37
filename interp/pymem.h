/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPython's memory as the interpreter itself counts it, read from outside with no stop (a running
 * process through process_vm_readv, or a core): the cyclic collector's generations (gc.get_count(),
 * gc.get_threshold(), gc.get_stats(), gc.isenabled()) and pymalloc's arenas, pools and blocks (what
 * sys.getallocatedblocks() and sys._debugmallocstats() count). Layouts come from interp/pylayout.c.
 *
 * Where the state is: the collector's in _PyRuntime (3.7-3.8) or in the main interpreter (3.9+),
 * both found from the exported _PyRuntime; in 3.6 static variables of gcmodule.c. pymalloc's in the
 * main interpreter from 3.12; before, static variables of obmalloc.c, which only a symbol table
 * (.symtab, or the separate debug file) names: without one those figures are left out and a note
 * says why. Nothing is guessed: a value that does not validate drops its part with a note.
 *
 * Every read goes through a struct ct_memsrc, so the same walk serves a live process, a core, and
 * the fuzzer (ct_pymem_read_at over random bytes). */
#ifndef CT_INTERP_PYMEM_H
#define CT_INTERP_PYMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/pylayout.h"
#include "lib/memsrc.h"
#include "symbolize/symbolizer.h"

#define CT_PYMEM_GENERATIONS 3
#define CT_PYMEM_MAX_ARENAS (1u << 20)  /* arena objects looked at (1 TiB of 1 MiB arenas) */
#define CT_PYMEM_MAX_POOLS (1u << 22)   /* pool headers read per walk; past it the walk is cut */

struct ct_pymem_gen {
	int64_t count, threshold;                    /* gc.get_count(), gc.get_threshold() */
	int64_t collections, collected, uncollectable; /* gc.get_stats() */
};

struct ct_pymem_stats {
	char version[32];       /* "3.11.7", or "3.9" when only the file name says it */
	const char *module;     /* the file it was found in (the reader's until close) */
	/* the collector: valid when gc */
	bool gc, gc_enabled;
	struct ct_pymem_gen gen[CT_PYMEM_GENERATIONS];
	/* pymalloc: valid when pymalloc */
	bool pymalloc;
	uint64_t arena_size, pool_size;
	int64_t arenas_allocated;   /* narenas_currently_allocated, as pymalloc keeps it; -1 unknown */
	uint64_t arenas_walked;     /* arena objects with an arena, as walked */
	uint64_t arenas_in_use;     /* of those, with at least one block in use */
	int64_t arenas_total;       /* ever allocated (ntimes_arena_allocated); -1 unknown */
	int64_t arenas_highwater;   /* most at once (narenas_highwater); -1 unknown */
	uint64_t pools_carved;      /* pools cut from the arenas so far */
	uint64_t pools_used;        /* with at least one block in use */
	uint64_t pools_full;
	uint64_t pools_unreadable;  /* that did not validate (changing while read) or could not be read */
	uint64_t blocks;            /* blocks in use in pymalloc's pools */
	uint64_t bytes;             /* their size classes summed */
	int64_t raw_blocks;         /* 3.9+: blocks PyObject_Malloc passed on to malloc; -1 unknown */
	int64_t allocated_blocks;   /* sys.getallocatedblocks() as the interpreter computes it; -1 unknown */
	bool truncated;             /* CT_PYMEM_MAX_POOLS reached */
	uint64_t walk_ns;
	/* why a part is missing (static strings), or NULL */
	const char *gc_note, *pymalloc_note;
};

struct ct_pymem;

/* Looks for CPython in the modules of sym (a libpython3.X.so, else the module named exe: the
 * executable, NULL when not known). 0 with *ret when it is Python of a version with a table; 0
 * with *ret NULL when it is not Python (*ret_note NULL: nothing to say) or is one ctrace cannot
 * read (*ret_note one line saying why; caller frees); -ENOMEM. Reads go through mem, which must
 * outlive the reader. */
int ct_pymem_open(const struct ct_memsrc *mem, struct ct_symbolizer *sym, const char *exe, struct ct_pymem **ret,
		  char **ret_note);
void ct_pymem_close(struct ct_pymem *pm);
/* Reads the figures now, the process running. Fills *ret (a part that cannot be read is left out
 * with its note). 0, or -ENOMEM. */
int ct_pymem_read(struct ct_pymem *pm, struct ct_pymem_stats *ret);

/* Where the state is, as ct_pymem_open found it: 0 for what was not found. */
struct ct_pymem_addrs {
	uint64_t runtime;                               /* _PyRuntime (3.7+) */
	uint64_t gc_enabled, gc_generations, gc_stats;  /* 3.6: gcmodule.c's statics */
	uint64_t arenas, maxarenas, narenas_currently_allocated, ntimes_arena_allocated, narenas_highwater;
	uint64_t raw_allocated_blocks;                  /* 3.9-3.11 */
	uint64_t allocated_blocks;                      /* 3.6-3.8: _Py_AllocatedBlocks */
};
/* The walk itself, for the fuzzer and the unit tests: reads the figures of the interpreter laid
 * out as L, whose state is at a, through mem. Notes are static strings. 0. */
int ct_pymem_read_at(const struct ct_memsrc *mem, const struct ct_py_layout *L, const struct ct_pymem_addrs *a,
		     struct ct_pymem_stats *ret);

#endif
