/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

const char *ct_allocator_name(enum ct_allocator k)
{
	switch (k) {
	case CT_ALLOC_GLIBC: return "glibc";
	case CT_ALLOC_JEMALLOC: return "jemalloc";
	case CT_ALLOC_TCMALLOC: return "tcmalloc";
	case CT_ALLOC_MIMALLOC: return "mimalloc";
	case CT_ALLOC_UNKNOWN: break;
	}
	return "unknown";
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

enum ct_allocator ct_alloc_library_kind(const char *path)
{
	if (!path || path[0] != '/')
		return CT_ALLOC_UNKNOWN;
	const char *b = base(path);
	if (ct_startswith(b, "libjemalloc.so") || ct_startswith(b, "libjemalloc-"))
		return CT_ALLOC_JEMALLOC;
	if (ct_startswith(b, "libtcmalloc"))
		return CT_ALLOC_TCMALLOC;
	if (ct_startswith(b, "libmimalloc"))
		return CT_ALLOC_MIMALLOC;
	if (ct_startswith(b, "libc.so.") || (ct_startswith(b, "libc-2.") && strstr(b, ".so")))
		return CT_ALLOC_GLIBC;
	return CT_ALLOC_UNKNOWN;
}

/* What the executable's own symbols say about a linked-in allocator. */
static enum ct_allocator exe_symbols(Dwfl_Module *mod, bool *ret_static_glibc)
{
	static const struct { const char *name; enum ct_allocator kind; } known[] = {
		{ "je_mallctl", CT_ALLOC_JEMALLOC }, { "mallctl", CT_ALLOC_JEMALLOC },
		{ "je_malloc_stats_print", CT_ALLOC_JEMALLOC },
		{ "tc_malloc", CT_ALLOC_TCMALLOC }, { "MallocExtension_GetNumericProperty", CT_ALLOC_TCMALLOC },
		{ "mi_malloc", CT_ALLOC_MIMALLOC },
	};
	int n = dwfl_module_getsymtab(mod);
	*ret_static_glibc = false;
	for (int i = 1; i < n && i < (1 << 24); i++) {
		GElf_Sym s;
		const char *name = dwfl_module_getsym(mod, i, &s, NULL);
		if (!name || s.st_shndx == SHN_UNDEF)
			continue;
		for (size_t k = 0; k < CT_ARRAY_SIZE(known); k++)
			if (strcmp(name, known[k].name) == 0)
				return known[k].kind;
		if (strcmp(name, "main_arena") == 0 || strcmp(name, "__libc_malloc") == 0)
			*ret_static_glibc = true;
	}
	return CT_ALLOC_UNKNOWN;
}

int ct_alloc_detect(const struct ct_mem_l1 *l1, struct ct_symbolizer *sym, struct ct_alloc_info *ret)
{
	struct ct_alloc_info a;
	memset(&a, 0, sizeof(a));
	const char *libc = NULL;
	for (size_t i = 0; i < l1->nmaps; i++) {
		enum ct_allocator k = ct_alloc_library_kind(l1->maps[i].map.path);
		if (k == CT_ALLOC_GLIBC && !libc)
			libc = l1->maps[i].map.path;
		else if (k != CT_ALLOC_UNKNOWN && k != CT_ALLOC_GLIBC && a.kind == CT_ALLOC_UNKNOWN) {
			a.kind = k;
			a.module = strdup(l1->maps[i].map.path);
			if (!a.module)
				return -ENOMEM;
		}
	}
	if (a.kind == CT_ALLOC_UNKNOWN && sym) {
		char exe[PATH_MAX];
		ssize_t n = ct_proc_exe(l1->pid, exe, sizeof(exe));
		if (n > 0) {
			static const char del[] = " (deleted)";
			if ((size_t)n > sizeof(del) - 1 && strcmp(exe + n - (sizeof(del) - 1), del) == 0)
				exe[n - (ssize_t)(sizeof(del) - 1)] = '\0';
			Dwfl_Module *mod = ct_sym_module(sym, exe);
			if (mod) {
				bool st = false;
				enum ct_allocator k = exe_symbols(mod, &st);
				if (k != CT_ALLOC_UNKNOWN || (st && !libc)) {
					a.kind = k != CT_ALLOC_UNKNOWN ? k : CT_ALLOC_GLIBC;
					a.static_glibc = k == CT_ALLOC_UNKNOWN;
					a.linked_in = true;
					a.module = strdup(exe);
					if (!a.module)
						return -ENOMEM;
				}
			}
		}
	}
	if (a.kind == CT_ALLOC_UNKNOWN && libc) {
		a.kind = CT_ALLOC_GLIBC;
		a.module = strdup(libc);
		if (!a.module)
			return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void ct_alloc_info_clear(struct ct_alloc_info *a)
{
	free(a->module);
	memset(a, 0, sizeof(*a));
}
