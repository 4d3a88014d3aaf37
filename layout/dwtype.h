/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking DWARF types to learn where a field sits in a target's data: the glibc malloc layouts and
 * the pthread mutex of lock owners read offsets this way, never from a guessed number. The DWARF
 * comes from the target's files, so it is untrusted: every walk has a bound on hops, members,
 * nesting and offsets, and an unexpected shape is an error, not a guess.
 * Every function returns 0 or -errno and writes its ret_* only on success:
 * -ENOENT (no such name, or no type: void), -EPROTO (a shape this walker does not understand),
 * -E2BIG (a bound was reached). */
#ifndef CT_LAYOUT_DWTYPE_H
#define CT_LAYOUT_DWTYPE_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>

#define CT_DWTYPE_MAX_HOPS 16       /* typedefs and qualifiers followed in one strip */
#define CT_DWTYPE_MAX_MEMBERS 4096  /* members looked at in one member lookup */
#define CT_DWTYPE_MAX_NESTING 8     /* anonymous struct/union members inside each other */
#define CT_DWTYPE_MAX_OFFSET (1u << 24)

/* Follows typedef, const, volatile, restrict and _Atomic (and, when deref, at most one pointer) to
 * the type underneath. _Atomic is stripped: an _Atomic T has T's layout. ret may be type. */
int ct_dwtype_strip(Dwarf_Die *type, bool deref, Dwarf_Die *ret);

/* The type of a variable, member or parameter (its DW_AT_type), stripped of qualifiers. */
int ct_dwtype_of(Dwarf_Die *die, Dwarf_Die *ret);

/* Byte size of a type (qualifiers stripped); a pointer without DW_AT_byte_size has its CU's
 * address size. */
int ct_dwtype_size(Dwarf_Die *type, size_t *ret);

/* Element count of a one-dimensional array type (the first subrange), 1 for any other type.
 * The count may be 0 (a flexible array); -EPROTO when the bound is not a constant. */
int ct_dwtype_array_count(Dwarf_Die *type, size_t *ret);

/* Member `name` of a struct or union type (qualifiers stripped), also inside anonymous struct and
 * union members: its byte offset from the start of type and its type, stripped of qualifiers
 * (ret_type may be NULL). A member without DW_AT_data_member_location sits at 0 in a union and is
 * -EPROTO in a struct; a location expression instead of a constant is -EPROTO. */
int ct_dwtype_member(Dwarf_Die *type, const char *name, size_t *ret_off, Dwarf_Die *ret_type);

/* The same along a dotted path of members ("__data.__owner"); each step but the last must be a
 * struct or union. The offset is the sum of the steps'. */
int ct_dwtype_path(Dwarf_Die *type, const char *path, size_t *ret_off, Dwarf_Die *ret_type);

/* A complete struct or union type named `name` (a struct/union tag or a typedef of one) among the
 * top-level entries of a CU, stripped to the struct or union. Declarations are skipped. */
int ct_dwtype_find(Dwarf_Die *cu, const char *name, Dwarf_Die *ret);

/* The same in every CU of a module (the first CU that has one); -CT_ENODEBUG when the module
 * has no DWARF. */
int ct_dwtype_find_in_module(Dwfl_Module *mod, const char *name, Dwarf_Die *ret);

/* The type of the top-level variable `name` of a CU, stripped of qualifiers. */
int ct_dwtype_var(Dwarf_Die *cu, const char *name, Dwarf_Die *ret);

#endif
