/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/allocprobe.h"

#include <errno.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture.h"
#include "lib/util.h"
#include "lib/banned.h"

static const char *const fn_names[CT_AFN_COUNT] = {
	[CT_AFN_MALLOC] = "malloc", [CT_AFN_CALLOC] = "calloc", [CT_AFN_REALLOC] = "realloc",
	[CT_AFN_POSIX_MEMALIGN] = "posix_memalign", [CT_AFN_ALIGNED_ALLOC] = "aligned_alloc",
	[CT_AFN_MEMALIGN] = "memalign", [CT_AFN_VALLOC] = "valloc", [CT_AFN_PVALLOC] = "pvalloc",
};

/* x86_64 SysV: the first three integer arguments, as DWARF register numbers */
enum { ARG0 = 5 /* rdi */, ARG1 = 4 /* rsi */, ARG2 = 1 /* rdx */ };
#define GLIBC_MALLOC_ALIGNMENT 16

bool ct_alloc_call_bytes(enum ct_allocator kind, enum ct_alloc_fn fn, const uint64_t *regs,
			 uint64_t *ret_bytes)
{
	bool glibc = kind == CT_ALLOC_GLIBC;
	uint64_t bytes = 0;
	switch (fn) {
	case CT_AFN_MALLOC:
	case CT_AFN_VALLOC:
	case CT_AFN_PVALLOC:
		bytes = regs[ARG0];
		break;
	case CT_AFN_CALLOC:
		if (__builtin_mul_overflow(regs[ARG0], regs[ARG1], &bytes))
			bytes = 0; /* calloc refuses it */
		break;
	case CT_AFN_REALLOC:
		if (glibc && regs[ARG0] == 0)
			return false;
		bytes = regs[ARG1];
		break;
	case CT_AFN_ALIGNED_ALLOC:
	case CT_AFN_MEMALIGN:
		if (glibc && regs[ARG0] <= GLIBC_MALLOC_ALIGNMENT)
			return false;
		bytes = regs[ARG1];
		break;
	case CT_AFN_POSIX_MEMALIGN:
		if (glibc && regs[ARG1] <= GLIBC_MALLOC_ALIGNMENT)
			return false;
		bytes = regs[ARG2];
		break;
	case CT_AFN_COUNT:
		return false;
	}
	*ret_bytes = bytes;
	return true;
}

/* Which allocator function a symbol names: "malloc", or jemalloc's prefixed "je_malloc". */
static int fn_of(const char *name)
{
	if (ct_startswith(name, "je_"))
		name += 3;
	for (int i = 0; i < CT_AFN_COUNT; i++)
		if (strcmp(name, fn_names[i]) == 0)
			return i;
	return -1;
}

/* The executable mapping of the target that holds addr: its map_files path and addr's file offset. */
static int locate(pid_t pid, uint64_t addr, char **ret_path, uint64_t *ret_off)
{
	char *text = NULL;
	int r = ct_proc_read(pid, 0, "maps", 64u << 20, &text);
	if (r < 0)
		return r;
	struct ct_proc_map *maps = NULL;
	size_t n = 0;
	r = ct_parse_proc_maps(text, 1u << 20, &maps, &n);
	free(text);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		const struct ct_proc_map *m = &maps[i];
		if (addr < m->start || addr >= m->end || m->perms[2] != 'x' || !m->path || m->path[0] != '/')
			continue;
		*ret_path = ct_strf("/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)m->start,
				    (unsigned long long)m->end);
		*ret_off = addr - m->start + m->offset;
		r = *ret_path ? 0 : -ENOMEM;
		break;
	}
	ct_proc_maps_free(maps, n);
	return r;
}

static int add_probe(struct ct_alloc_probes *ps, pid_t pid, enum ct_alloc_fn fn, const char *symbol,
		     uint64_t addr)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].addr == addr || ps->p[i].fn == fn)
			return 0; /* an alias (memalign and aligned_alloc in older glibc), or found already */
	struct ct_alloc_probe *np = realloc(ps->p, (ps->n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	ps->p = np;
	struct ct_alloc_probe *p = &ps->p[ps->n];
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->name = fn_names[fn];
	p->addr = addr;
	p->symbol = strdup(symbol);
	if (!p->symbol)
		return -ENOMEM;
	int r = locate(pid, addr, &p->path, &p->offset);
	if (r < 0) {
		free(p->symbol);
		return r == -ENOENT ? 0 : r;
	}
	ps->n++;
	return 0;
}

int ct_alloc_probes_find(pid_t pid, struct ct_symbolizer *sym, struct ct_alloc_probes *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct ct_mem_l1 l1;
	int r = ct_mem_l1_read(pid, &l1);
	if (r < 0)
		return r;
	r = ct_alloc_detect(&l1, sym, &ret->alloc);
	ct_mem_l1_clear(&l1);
	if (r < 0)
		return r;
	if (!ret->alloc.module)
		return -ENOENT;
	Dwfl_Module *mod = ct_sym_module(sym, ret->alloc.module);
	if (!mod)
		return -ENOENT;
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 24) && r == 0; i++) {
		GElf_Sym s;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &s, &addr, NULL, NULL, NULL);
		if (!name || s.st_shndx == SHN_UNDEF || GELF_ST_TYPE(s.st_info) != STT_FUNC)
			continue;
		int fn = fn_of(name);
		if (fn >= 0)
			r = add_probe(ret, pid, (enum ct_alloc_fn)fn, name, addr);
	}
	if (r == 0 && ret->n == 0)
		r = -ENOENT;
	return r;
}

void ct_alloc_probes_clear(struct ct_alloc_probes *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->p[i].symbol);
		free(ps->p[i].path);
	}
	free(ps->p);
	ct_alloc_info_clear(&ps->alloc);
	memset(ps, 0, sizeof(*ps));
}

const struct ct_alloc_probe *ct_alloc_probe_at(const struct ct_alloc_probes *ps, uint64_t addr)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].addr == addr)
			return &ps->p[i];
	return NULL;
}

bool ct_alloc_wrapper_name(const char *name)
{
	static const char *const globs[] = {
		"operator new*", "x[mcr]alloc", "xstrdup", "xmemdup*", "g_malloc*", "g_malloc0*", "g_realloc*",
		"g_try_malloc*", "g_slice_alloc*", "g_new*", "PyMem_*", "_PyMem_*", "PyObject_Malloc",
		"PyObject_Calloc", "PyObject_Realloc", "_PyObject_Malloc", "_PyObject_Calloc",
		"_PyObject_Realloc", "pymalloc_*", "zmalloc*", "zcalloc*", "zrealloc*", "ztrymalloc*",
		"ztrycalloc*", "ztryrealloc*", "palloc", "palloc0", "repalloc", "MemoryContextAlloc*",
		"AllocSetAlloc", "AllocSetRealloc",
	};
	if (!name)
		return false;
	for (size_t i = 0; i < CT_ARRAY_SIZE(globs); i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return true;
	return false;
}
