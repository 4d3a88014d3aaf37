/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "layout/dwtype.h"

#include <dwarf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "lib/banned.h"

/* Top-level entries of one CU and CUs of one module looked at, at most. */
#define MAX_CU_ENTRIES (1u << 20)
#define MAX_CUS (1u << 16)
#define MAX_PATH_STEPS 16

static bool is_qualifier(int tag)
{
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type;
}

static bool is_aggregate(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type;
}

/* The DIE that DW_AT_type names, as written. */
static int type_ref(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a))
		return -ENOENT;
	return dwarf_formref_die(&a, ret) ? 0 : -EPROTO;
}

int ct_dwtype_strip(Dwarf_Die *type, bool deref, Dwarf_Die *ret)
{
	Dwarf_Die d = *type;
	for (int hop = 0;; hop++) {
		int tag = dwarf_tag(&d);
		if (tag == DW_TAG_pointer_type && deref) {
			deref = false;
		} else if (!is_qualifier(tag)) {
			if (tag == DW_TAG_invalid)
				return -EPROTO;
			*ret = d;
			return 0;
		}
		if (hop >= CT_DWTYPE_MAX_HOPS)
			return -E2BIG;
		int r = type_ref(&d, &d);
		if (r < 0)
			return r;
	}
}

int ct_dwtype_of(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Die t;
	int r = type_ref(die, &t);
	return r < 0 ? r : ct_dwtype_strip(&t, false, ret);
}

int ct_dwtype_size(Dwarf_Die *type, size_t *ret)
{
	Dwarf_Die d;
	int r = ct_dwtype_strip(type, false, &d);
	if (r < 0)
		return r;
	Dwarf_Word sz;
	Dwarf_Attribute a;
	if (dwarf_tag(&d) == DW_TAG_pointer_type) {
		if (dwarf_formudata(dwarf_attr(&d, DW_AT_byte_size, &a), &sz) == 0) {
			*ret = (size_t)sz;
			return 0;
		}
		Dwarf_Die cu;
		uint8_t asz = 0;
		if (!dwarf_diecu(&d, &cu, &asz, NULL) || !asz)
			return -EPROTO;
		*ret = asz;
		return 0;
	}
	if (dwarf_aggregate_size(&d, &sz) != 0)
		return -EPROTO;
	*ret = (size_t)sz;
	return 0;
}

int ct_dwtype_array_count(Dwarf_Die *type, size_t *ret)
{
	Dwarf_Die t, sub;
	int r = ct_dwtype_strip(type, false, &t);
	if (r < 0)
		return r;
	if (dwarf_tag(&t) != DW_TAG_array_type) {
		*ret = 1;
		return 0;
	}
	if (dwarf_child(&t, &sub) != 0)
		return -EPROTO;
	/* the first subrange: further ones would be further dimensions */
	for (unsigned n = 0; n < CT_DWTYPE_MAX_MEMBERS; n++) {
		if (dwarf_tag(&sub) == DW_TAG_subrange_type) {
			Dwarf_Attribute a;
			Dwarf_Word v;
			if (dwarf_formudata(dwarf_attr(&sub, DW_AT_count, &a), &v) == 0)
				*ret = (size_t)v;
			else if (dwarf_formudata(dwarf_attr(&sub, DW_AT_upper_bound, &a), &v) == 0)
				*ret = (size_t)v + 1;
			else
				return -EPROTO;
			return 0;
		}
		if (dwarf_siblingof(&sub, &sub) != 0)
			return -EPROTO;
	}
	return -E2BIG;
}

/* A member's constant DW_AT_data_member_location. */
static int member_offset(Dwarf_Die *m, bool in_union, size_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Word off = 0;
	if (!dwarf_attr_integrate(m, DW_AT_data_member_location, &a)) {
		if (!in_union)
			return -EPROTO;
	} else if (dwarf_formudata(&a, &off) != 0) {
		return -EPROTO; /* a location expression (DWARF 2): not a layout this walker reads */
	}
	if (off > CT_DWTYPE_MAX_OFFSET)
		return -E2BIG;
	*ret = (size_t)off;
	return 0;
}

/* Depth-first in declaration order: C forbids a name twice among a type's members, anonymous
 * members' included, so the first hit is the only one. *seen counts members over all levels. */
static int find_member(Dwarf_Die *agg, const char *name, size_t base, int depth, unsigned *seen,
		       size_t *ret_off, Dwarf_Die *ret_type)
{
	int tag = dwarf_tag(agg);
	if (!is_aggregate(tag))
		return -EPROTO;
	bool in_union = tag == DW_TAG_union_type;
	Dwarf_Die c;
	int r = dwarf_child(agg, &c);
	if (r != 0)
		return r < 0 ? -EPROTO : -ENOENT;
	do {
		if (++*seen > CT_DWTYPE_MAX_MEMBERS)
			return -E2BIG;
		if (dwarf_tag(&c) != DW_TAG_member)
			continue;
		const char *mn = dwarf_diename(&c);
		size_t off;
		if (mn) {
			if (strcmp(mn, name) != 0)
				continue;
			Dwarf_Die t;
			if ((r = member_offset(&c, in_union, &off)) < 0 || (ret_type && (r = ct_dwtype_of(&c, &t)) < 0))
				return r;
			*ret_off = base + off;
			if (ret_type)
				*ret_type = t;
			return 0;
		}
		/* an anonymous struct or union: its members are members of agg */
		Dwarf_Die t;
		if (ct_dwtype_of(&c, &t) < 0 || !is_aggregate(dwarf_tag(&t)) || member_offset(&c, in_union, &off) < 0)
			continue;
		if (depth >= CT_DWTYPE_MAX_NESTING)
			return -E2BIG;
		r = find_member(&t, name, base + off, depth + 1, seen, ret_off, ret_type);
		if (r != -ENOENT)
			return r;
	} while ((r = dwarf_siblingof(&c, &c)) == 0);
	return r < 0 ? -EPROTO : -ENOENT;
}

int ct_dwtype_member(Dwarf_Die *type, const char *name, size_t *ret_off, Dwarf_Die *ret_type)
{
	Dwarf_Die agg;
	unsigned seen = 0;
	int r = ct_dwtype_strip(type, false, &agg);
	return r < 0 ? r : find_member(&agg, name, 0, 0, &seen, ret_off, ret_type);
}

int ct_dwtype_path(Dwarf_Die *type, const char *path, size_t *ret_off, Dwarf_Die *ret_type)
{
	Dwarf_Die t = *type;
	size_t off = 0;
	const char *p = path;
	for (int step = 0; step < MAX_PATH_STEPS; step++) {
		char name[128];
		size_t len = strcspn(p, "."), o;
		if (len == 0 || len >= sizeof(name))
			return -EINVAL;
		memcpy(name, p, len);
		name[len] = '\0';
		int r = ct_dwtype_member(&t, name, &o, &t);
		if (r < 0)
			return r;
		off += o;
		if (!p[len]) {
			*ret_off = off;
			if (ret_type)
				*ret_type = t;
			return 0;
		}
		p += len + 1;
	}
	return -E2BIG;
}

/* A top-level entry named name of a CU: a variable's type (var) or a complete struct or union. */
static int cu_lookup(Dwarf_Die *cu, const char *name, bool var, Dwarf_Die *ret)
{
	Dwarf_Die c;
	int r = dwarf_child(cu, &c);
	if (r != 0)
		return r < 0 ? -EPROTO : -ENOENT;
	unsigned n = 0;
	do {
		if (++n > MAX_CU_ENTRIES)
			return -E2BIG;
		int tag = dwarf_tag(&c);
		if (var ? tag != DW_TAG_variable : !is_qualifier(tag) && !is_aggregate(tag))
			continue;
		const char *cn = dwarf_diename(&c);
		if (!cn || strcmp(cn, name) != 0)
			continue;
		Dwarf_Die t;
		if (var) {
			if (ct_dwtype_of(&c, &t) < 0)
				continue;
		} else if (ct_dwtype_strip(&c, false, &t) < 0 || !is_aggregate(dwarf_tag(&t)) ||
			   !dwarf_hasattr(&t, DW_AT_byte_size)) {
			continue; /* a declaration, or a typedef of something else */
		}
		*ret = t;
		return 0;
	} while ((r = dwarf_siblingof(&c, &c)) == 0);
	return r < 0 ? -EPROTO : -ENOENT;
}

int ct_dwtype_find(Dwarf_Die *cu, const char *name, Dwarf_Die *ret)
{
	return cu_lookup(cu, name, false, ret);
}

int ct_dwtype_var(Dwarf_Die *cu, const char *name, Dwarf_Die *ret)
{
	return cu_lookup(cu, name, true, ret);
}

int ct_dwtype_find_in_module(Dwfl_Module *mod, const char *name, Dwarf_Die *ret)
{
	Dwarf_Addr bias;
	if (!dwfl_module_getdwarf(mod, &bias))
		return -CT_ENODEBUG;
	Dwarf_Die *cu = NULL;
	for (unsigned n = 0; (cu = dwfl_module_nextcu(mod, cu, &bias)) != NULL; n++) {
		if (n >= MAX_CUS)
			return -E2BIG;
		/* a CU that cannot be read does not stop the search in the others */
		if (ct_dwtype_find(cu, name, ret) == 0)
			return 0;
	}
	return -ENOENT;
}
