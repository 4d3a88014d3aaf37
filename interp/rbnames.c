/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/rbnames.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_NAME 256        /* bytes of a method name or class path */
#define NAME_CACHE 1024     /* IDs and classes remembered (direct-mapped) */
#define SEARCH_OBJECTS 1024 /* marked objects looked at for the ID table */
#define MAX_IVARS 64        /* instance variables of a class looked through */
#define PLUS_ID 43          /* the operator ID '+', registered first of all (symbol.c Init_op_tbl) */

struct name_slot {
	uint64_t key;
	char *name; /* NULL: looked up, none */
	bool set;
};

struct ct_rb_names {
	struct ct_memsrc mem;
	const struct ct_rb_layout *L;
	uint64_t vm_ptr, ids;
	bool ids_searched;
	uint64_t id_classpath, id_attached; /* the IDs of __classpath__ and __attached__, once seen */
	struct name_slot ids_cache[NAME_CACHE], classes[NAME_CACHE];
};

int ct_rb_names_new(const struct ct_memsrc *mem, const struct ct_rb_layout *L, uint64_t vm_ptr, struct ct_rb_names **ret)
{
	struct ct_rb_names *nm = calloc(1, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	nm->mem = *mem;
	nm->L = L;
	nm->vm_ptr = vm_ptr;
	*ret = nm;
	return 0;
}

void ct_rb_names_free(struct ct_rb_names *nm)
{
	if (!nm)
		return;
	for (size_t i = 0; i < NAME_CACHE; i++) {
		free(nm->ids_cache[i].name);
		free(nm->classes[i].name);
	}
	free(nm);
}

char *ct_rb_string(const struct ct_memsrc *mem, const struct ct_rb_layout *L, uint64_t addr, size_t max)
{
	uint8_t h[48];
	size_t hlen = (size_t)CT_MAX(L->string_ptr, L->string_len) + 8;
	if (hlen > sizeof(h) || ct_interp_read(mem, addr, h, hlen) < 0)
		return NULL;
	uint64_t flags = ct_interp_u64(h, 0), len, data;
	if ((flags & CT_RB_T_MASK) != CT_RB_T_STRING)
		return NULL;
	if (flags & L->string_noembed) {
		len = ct_interp_u64(h, L->string_len);
		data = ct_interp_u64(h, L->string_ptr);
	} else {
		len = (flags & L->string_embed_len_mask) >> L->string_embed_len_shift;
		data = addr + L->string_embed;
	}
	if (len == 0 || len > max)
		return NULL;
	char *s = malloc(len + 1);
	if (!s || ct_interp_read(mem, data, s, len) < 0 || memchr(s, '\0', len)) {
		free(s);
		return NULL;
	}
	s[len] = '\0';
	return s;
}

/* Element idx of the Array at ary (its length checked). 0 or -errno. */
static int array_at(const struct ct_rb_names *nm, uint64_t ary, uint64_t idx, uint64_t *ret)
{
	const struct ct_rb_layout *L = nm->L;
	uint8_t h[64];
	size_t hlen = (size_t)CT_MAX(L->array_len, L->array_ptr) + 8;
	if (hlen > sizeof(h) || (ary & 7) || ary < 4096)
		return -EFAULT;
	int r = ct_interp_read(&nm->mem, ary, h, hlen);
	if (r < 0)
		return r;
	uint64_t flags = ct_interp_u64(h, 0), len, data;
	if ((flags & CT_RB_T_MASK) != CT_RB_T_ARRAY)
		return -EPROTO;
	if (flags & L->array_embed_flag) {
		len = (flags & L->array_embed_len_mask) >> L->array_embed_len_shift;
		data = ary + L->array_embed;
	} else {
		len = ct_interp_u64(h, L->array_len);
		data = ct_interp_u64(h, L->array_ptr);
	}
	if (idx >= len)
		return -ERANGE;
	return ct_interp_read_u64(&nm->mem, data + idx * 8, ret);
}

/* The name of id in the ID table ids: the entry's Symbol must be id's own static Symbol. */
static char *lookup_id(const struct ct_rb_names *nm, uint64_t ids, uint64_t id)
{
	const struct ct_rb_layout *L = nm->L;
	uint64_t serial = id > L->last_op_id ? id >> L->id_scope_shift : id, chunk, str, sym;
	uint64_t at = serial % CT_RB_ID_ENTRY_UNIT * CT_RB_ID_ENTRY_SIZE;
	if (array_at(nm, ids, serial / CT_RB_ID_ENTRY_UNIT, &chunk) < 0 || array_at(nm, chunk, at + 1, &sym) < 0 ||
	    sym != ((id << CT_RB_SPECIAL_SHIFT) | CT_RB_SYMBOL_FLAG) || array_at(nm, chunk, at, &str) < 0)
		return NULL;
	return ct_rb_string(&nm->mem, L, str, MAX_NAME);
}

static bool is_ids(const struct ct_rb_names *nm, uint64_t cand)
{
	char *s = lookup_id(nm, cand, PLUS_ID);
	bool ok = s && strcmp(s, "+") == 0;
	free(s);
	return ok;
}

/* The ID table among the VM's marked objects: an Array of them, or (3.1) an Array of buckets of
 * them; the table is registered early, so only the first objects and buckets are looked at. */
static void find_ids(struct ct_rb_names *nm)
{
	nm->ids_searched = true;
	uint64_t vm, marked, e, f;
	if (ct_interp_read_u64(&nm->mem, nm->vm_ptr, &vm) < 0 ||
	    ct_interp_read_u64(&nm->mem, vm + nm->L->vm_mark_object_ary, &marked) < 0)
		return;
	for (uint64_t i = 0; i < SEARCH_OBJECTS && array_at(nm, marked, i, &e) == 0; i++) {
		if (is_ids(nm, e)) {
			nm->ids = e;
			return;
		}
		for (uint64_t j = 0; i < 4 && j < SEARCH_OBJECTS && array_at(nm, e, j, &f) == 0; j++)
			if (is_ids(nm, f)) {
				nm->ids = f;
				return;
			}
	}
}

/* The name of id, from the cache or the ID table: NULL when there is none (*oom on -ENOMEM). */
static const char *id_name(struct ct_rb_names *nm, uint64_t id)
{
	if (!nm->ids_searched)
		find_ids(nm);
	if (!nm->ids || !id)
		return NULL;
	struct name_slot *s = &nm->ids_cache[(id >> 4) % NAME_CACHE];
	if (s->set && s->key == id)
		return s->name;
	free(s->name);
	s->name = lookup_id(nm, nm->ids, id);
	s->key = id;
	s->set = true;
	return s->name;
}

/* The value of the instance variable called name (__classpath__ or __attached__, whose ID is
 * remembered in *known) of the class whose flags and extension are read. 0 or -errno. */
static int class_ivar(struct ct_rb_names *nm, uint64_t klass, const char *name, uint64_t *known, uint64_t *ret)
{
	const struct ct_rb_layout *L = nm->L;
	uint64_t ext, tbl;
	uint8_t st[64], ents[MAX_IVARS * CT_RB_ST_ENTRY_SIZE];
	size_t stlen = (size_t)CT_MAX(CT_MAX(L->st_entries_start, L->st_entries_bound), L->st_entries) + 8;
	if (stlen > sizeof(st))
		return -EPROTO;
	int r = ct_interp_read_u64(&nm->mem, klass + L->class_ext, &ext);
	if (r == 0)
		r = ct_interp_read_u64(&nm->mem, ext + L->classext_iv_tbl, &tbl);
	if (r == 0)
		r = ct_interp_read(&nm->mem, tbl, st, stlen);
	if (r < 0)
		return r;
	uint64_t start = ct_interp_u64(st, L->st_entries_start), bound = ct_interp_u64(st, L->st_entries_bound);
	if (start > bound || bound - start > MAX_IVARS)
		return -EPROTO;
	uint64_t entries = ct_interp_u64(st, L->st_entries) + start * CT_RB_ST_ENTRY_SIZE;
	size_t n = (size_t)(bound - start);
	if (n == 0 || (r = ct_interp_read(&nm->mem, entries, ents, n * CT_RB_ST_ENTRY_SIZE)) < 0)
		return n == 0 ? -ENOENT : r;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = ents + i * CT_RB_ST_ENTRY_SIZE;
		if (ct_interp_u64(e, 0) == ~0ull) /* a deleted entry */
			continue;
		uint64_t key = ct_interp_u64(e, CT_RB_ST_ENTRY_KEY);
		if (!*known) {
			const char *k = id_name(nm, key);
			if (k && strcmp(k, name) == 0)
				*known = key;
		}
		if (*known && key == *known) {
			*ret = ct_interp_u64(e, CT_RB_ST_ENTRY_RECORD);
			return 0;
		}
	}
	return -ENOENT;
}

/* The class path of the class or module klass ("Thread::Queue"); singleton: the path of the class
 * or module it is the singleton class of. NULL when there is none. */
static char *class_path(struct ct_rb_names *nm, uint64_t klass, bool *singleton)
{
	uint64_t flags, path;
	*singleton = false;
	if (ct_interp_read_u64(&nm->mem, klass, &flags) < 0)
		return NULL;
	unsigned type = (unsigned)(flags & CT_RB_T_MASK);
	if (type != CT_RB_T_CLASS && type != CT_RB_T_MODULE)
		return NULL;
	if (flags & nm->L->fl_singleton) {
		uint64_t attached, aflags;
		if (class_ivar(nm, klass, "__attached__", &nm->id_attached, &attached) < 0 ||
		    ct_interp_read_u64(&nm->mem, attached, &aflags) < 0 ||
		    ((aflags & CT_RB_T_MASK) != CT_RB_T_CLASS && (aflags & CT_RB_T_MASK) != CT_RB_T_MODULE) ||
		    (aflags & nm->L->fl_singleton))
			return NULL;
		*singleton = true;
		klass = attached;
	}
	if (class_ivar(nm, klass, "__classpath__", &nm->id_classpath, &path) < 0)
		return NULL;
	return ct_rb_string(&nm->mem, nm->L, path, MAX_NAME);
}

int ct_rb_cfunc_name(struct ct_rb_names *nm, uint64_t me, char **ret)
{
	const struct ct_rb_layout *L = nm->L;
	*ret = NULL;
	uint8_t m[64], d[64];
	size_t mlen = (size_t)CT_MAX(L->me_def, L->me_owner) + 8, dlen = (size_t)L->def_original_id + 8;
	if (mlen > sizeof(m) || dlen > sizeof(d) || !L->def_type_mask || ct_interp_read(&nm->mem, me, m, mlen) < 0)
		return 0;
	uint64_t flags = ct_interp_u64(m, 0);
	if ((flags & CT_RB_T_MASK) != CT_RB_T_IMEMO || ((flags >> CT_RB_IMEMO_SHIFT) & CT_RB_IMEMO_MASK) != CT_RB_IMEMO_MENT)
		return 0;
	if (ct_interp_read(&nm->mem, ct_interp_u64(m, L->me_def), d, dlen) < 0)
		return 0;
	uint32_t word;
	memcpy(&word, d, sizeof(word));
	if ((word & L->def_type_mask) >> __builtin_ctz(L->def_type_mask) != L->method_type_cfunc)
		return 0;
	const char *method = id_name(nm, ct_interp_u64(d, L->def_original_id));
	if (!method)
		return 0;
	/* the owner's path, remembered by the owner's address */
	uint64_t owner = ct_interp_u64(m, L->me_owner);
	struct name_slot *s = &nm->classes[(owner >> 4) % NAME_CACHE];
	if (!s->set || s->key != owner) {
		bool singleton;
		char *path = class_path(nm, owner, &singleton);
		free(s->name);
		s->name = path ? ct_strf("%s%c", path, singleton ? '.' : '#') : NULL;
		free(path);
		s->key = owner;
		s->set = true;
	}
	*ret = ct_strf("%s%s", s->name ? s->name : "", method);
	return *ret ? 0 : -ENOMEM;
}
