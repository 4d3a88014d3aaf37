/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What DWARF and the ELF symbol table say of a pc, shown the way gdb and eu-stack show it: the scopes
 * and inline chain holding it and the frames that chain makes, the name of a DIE, and two indexes
 * built per module on first use: its ELF function symbols by address (the aliases gdb picks among)
 * and its CUs by address range (for DWARF without .debug_aranges, as Go writes it). */
#ifndef CT_INLINES_H
#define CT_INLINES_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/model.h"

/* The indexes of one symbolizer, one entry per module; they point into its Dwfl's data. */
struct ct_symindex {
	struct ct_cu_index *cuix; /* per module without .debug_aranges */
	size_t ncuix, cap_cuix;
	struct ct_alias_index *aliases; /* per module, built when a frame is named from the ELF symtab */
	size_t naliases, cap_aliases;
	struct ct_scopes_memo *memo;    /* the last scope lists read (ct_symindex_getscopes*) */
	size_t nmemo, next_memo;
};
void ct_symindex_free(struct ct_symindex *x);

/* Several ELF symbols often name one address (clone3/__clone3, clock_gettime/__vdso_clock_gettime).
 * gdb sorts its minimal symbols by address then name and takes the last: do the same, so that a frame
 * without DWARF reads as in gdb. Returns a name (possibly versioned) or sym itself. */
const char *ct_symindex_gdb_alias(struct ct_symindex *x, Dwfl_Module *mod, uint64_t addr, const char *sym);
/* The address of mod's first function symbol (by address) called name, "@VERSION" aside. */
bool ct_symindex_addr_of(struct ct_symindex *x, Dwfl_Module *mod, const char *name, uint64_t *ret_addr);
/* The CU DIE holding pc (module-relative to the DWARF) when libdw found none through aranges. */
bool ct_symindex_cu(struct ct_symindex *x, Dwfl_Module *mod, uint64_t pc, Dwarf_Die *ret, Dwarf_Addr *ret_bias);

/* dwarf_getscopes(cu, addr) and dwarf_getscopes_die(die), remembered: a frame's pc is read for its
 * scopes, then again for the tail calls on either side of it, each a walk of its CU's DIEs (a third
 * of a cold run's symbolization time on Python). *ret is the caller's to free, as libdw's. */
int ct_symindex_getscopes(struct ct_symindex *x, Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die **ret);
int ct_symindex_getscopes_die(struct ct_symindex *x, Dwarf_Die *die, Dwarf_Die **ret);
/* A DIE's linkage name, else its name, or NULL; it lives as long as the DIE's Dwarf. */
const char *ct_die_name(Dwarf_Die *die);
/* Whether die's DWARF refers to a dwz file that was not found: then its scopes are not to be read. */
bool ct_dwz_missing(Dwarf_Die *die);

/* What DWARF says of one pc. */
struct ct_scopes {
	Dwarf_Die *cudie;   /* the CU holding the pc, or NULL */
	Dwarf_Die cu;       /* where cudie points when the CU came from the CU index */
	Dwarf_Addr bias;
	Dwarf_Die *scopes;  /* the scopes holding the pc, innermost first */
	int nscopes;
	Dwarf_Die *chain;   /* nchain > 0: the pc is in inlined code; the inlined instance's scopes */
	int nchain;
	const char *dwname; /* the DWARF subprogram holding the pc, the name gdb shows, or NULL */
	bool unread;        /* no CU, or one whose dwz file is missing: no scopes were read */
};
/* Reads the scopes at pc_adj in mod (pc: the frame's own pc). A CU found through the index gives
 * *file and *line from its line table when *file is unset; without a symbol (have_sym false), *symoff
 * is the offset from the subprogram's start. Free with ct_scopes_free. */
void ct_scopes_at(struct ct_symindex *x, Dwfl_Module *mod, uint64_t pc, uint64_t pc_adj, bool have_sym,
		  const char **file, int *line, uint64_t *symoff, struct ct_scopes *ret);
void ct_scopes_free(struct ct_scopes *sc);

/* What every frame appended for one pc shares. */
struct ct_frame_proto {
	uint64_t pc;
	const char *module; /* module_len bytes of the name shown ("[vdso]", no " (deleted)"), or NULL */
	size_t module_len;
	bool deleted;
	bool demangle;      /* names through ct_sym_display_name, demangled */
};
/* Appends a frame for p named raw (as ct_sym_display_name shows it; NULL: unnamed) in file (NULL:
 * none). NULL on ENOMEM; a frame already appended then stays in t. */
struct ct_frame *ct_frame_add(struct ct_thread *t, const struct ct_frame_proto *p, const char *raw,
			      const char *file);
/* Appends sc's inline chain up to its containing subprogram (named symname when DWARF has no name,
 * at symoff). file and line: where the innermost inlined code is. Returns the frames appended or
 * -ENOMEM. */
int ct_inline_frames(struct ct_thread *t, const struct ct_frame_proto *p, const struct ct_scopes *sc,
		     const char *symname, uint64_t symoff, const char *file, int line);

#endif
