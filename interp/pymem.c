/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/pymem.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "interp/pyscan.h"
#include "interp/python.h"
#include "lib/util.h"
#include "lib/banned.h"

#define ARENA_CHUNK 512   /* arena objects read at once */
#define POOLS_PER_READ 64 /* pool headers read by one process_vm_readv */
#define AMBIGUOUS UINT64_MAX

struct ct_pymem {
	struct ct_memsrc mem;
	const struct ct_py_layout *L;
	struct ct_pymem_addrs a;
	char version[32];
	char *module;
};

static bool has(uint16_t off)
{
	return off != CT_PY_NONE;
}

/* ---- the walk ---- */

static int rd(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len)
{
	return addr ? ct_memsrc_read_all(m, addr, buf, len) : -EFAULT;
}

static int rd_u64(const struct ct_memsrc *m, uint64_t addr, uint64_t *ret)
{
	return rd(m, addr, ret, sizeof(*ret));
}

static int32_t i32_at(const uint8_t *b, size_t off)
{
	int32_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t u32_at(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint64_t u64_at(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* The main interpreter (3.7+): 0, or -EFAULT when it cannot be read or is not there yet. */
static int main_interp(const struct ct_memsrc *m, const struct ct_py_layout *L, const struct ct_pymem_addrs *a,
		       uint64_t *ret)
{
	if (!a->runtime || !has(L->runtime_interpreters_main))
		return -EFAULT;
	int r = rd_u64(m, a->runtime + L->runtime_interpreters_main, ret);
	return r < 0 ? r : *ret ? 0 : -EFAULT;
}

static const char *read_gc(const struct ct_memsrc *m, const struct ct_py_layout *L, const struct ct_pymem_addrs *a,
			   struct ct_pymem_stats *s)
{
	uint64_t enabled, gens, stats;
	if (has(L->runtime_gc) || has(L->interp_gc)) {
		uint64_t state = 0;
		if (has(L->runtime_gc) && a->runtime)
			state = a->runtime + L->runtime_gc;
		else if (has(L->interp_gc) && main_interp(m, L, a, &state) == 0)
			state += L->interp_gc;
		if (!a->runtime)
			return "_PyRuntime is neither in the symbols nor found by a scan that validates: left out";
		if (!state)
			return "the collector's state cannot be read (the interpreter is not initialized, or "
			       "_PyRuntime is not readable)";
		enabled = state + L->gc_enabled;
		gens = state + L->gc_generations;
		stats = state + L->gc_generation_stats;
	} else {
		if (!a->gc_enabled || !a->gc_generations || !a->gc_stats)
			return "the collector's state is static in gcmodule.c in 3.6, and no symbol table names it "
			       "(enabled, generations, generation_stats): left out";
		enabled = a->gc_enabled;
		gens = a->gc_generations;
		stats = a->gc_stats;
	}
	uint8_t gb[CT_PYMEM_GENERATIONS * 64], sb[CT_PYMEM_GENERATIONS * 64];
	int32_t en;
	size_t glen = (size_t)L->gcgen_size * CT_PYMEM_GENERATIONS, slen = (size_t)L->gcstats_size * CT_PYMEM_GENERATIONS;
	if (glen > sizeof(gb) || slen > sizeof(sb) || L->gcgen_threshold + 4u > L->gcgen_size ||
	    L->gcgen_count + 4u > L->gcgen_size || L->gcstats_collections + 8u > L->gcstats_size ||
	    L->gcstats_collected + 8u > L->gcstats_size || L->gcstats_uncollectable + 8u > L->gcstats_size)
		return "the layout table's collector fields are out of range";
	if (rd(m, enabled, &en, sizeof(en)) < 0 || rd(m, gens, gb, glen) < 0 || rd(m, stats, sb, slen) < 0)
		return "the collector's state cannot be read";
	if (en != 0 && en != 1)
		return "the collector's state does not validate (enabled is neither 0 nor 1): left out";
	for (int i = 0; i < CT_PYMEM_GENERATIONS; i++) {
		struct ct_pymem_gen *g = &s->gen[i];
		const uint8_t *gp = gb + (size_t)i * L->gcgen_size, *sp = sb + (size_t)i * L->gcstats_size;
		g->count = i32_at(gp, L->gcgen_count);
		g->threshold = i32_at(gp, L->gcgen_threshold);
		g->collections = (int64_t)u64_at(sp, L->gcstats_collections);
		g->collected = (int64_t)u64_at(sp, L->gcstats_collected);
		g->uncollectable = (int64_t)u64_at(sp, L->gcstats_uncollectable);
		if (g->count < 0 || g->threshold < 0 || g->collections < 0 || g->collected < 0 || g->uncollectable < 0)
			return "the collector's state does not validate (a negative count): left out";
	}
	s->gc = true;
	s->gc_enabled = en == 1;
	return NULL;
}

/* Where pymalloc's management fields are: the statics (before 3.12) or the main interpreter's
 * struct _obmalloc_state (3.12 in it, 3.13 pointed to by it). */
struct om_where {
	uint64_t arenas, maxarenas, cur, ntimes, highwater, raw, allocated;
};

static const char *om_where(const struct ct_memsrc *m, const struct ct_py_layout *L, const struct ct_pymem_addrs *a,
			    struct om_where *w)
{
	memset(w, 0, sizeof(*w));
	if (!has(L->interp_obmalloc) && !has(L->interp_obmalloc_ptr)) {
		*w = (struct om_where){ a->arenas, a->maxarenas, a->narenas_currently_allocated,
					a->ntimes_arena_allocated, a->narenas_highwater, a->raw_allocated_blocks,
					a->allocated_blocks };
		if (!w->arenas || !w->maxarenas)
			return "pymalloc's state is static in obmalloc.c before 3.12, and no symbol table names "
			       "it (arenas, maxarenas): left out";
		return NULL;
	}
	uint64_t interp, om;
	if (!a->runtime)
		return "_PyRuntime is neither in the symbols nor found by a scan that validates: left out";
	if (main_interp(m, L, a, &interp) < 0)
		return "pymalloc's state cannot be read (the interpreter is not initialized, or _PyRuntime is "
		       "not readable)";
	if (has(L->interp_obmalloc))
		om = interp + L->interp_obmalloc;
	else if (rd_u64(m, interp + L->interp_obmalloc_ptr, &om) < 0 || !om)
		return "pymalloc's state cannot be read (the interpreter's obmalloc pointer)";
	*w = (struct om_where){ om + L->om_arenas, om + L->om_maxarenas, om + L->om_narenas_currently_allocated,
				om + L->om_ntimes_arena_allocated, om + L->om_narenas_highwater,
				om + L->om_raw_allocated_blocks, 0 };
	return NULL;
}

/* One pool: adds what it holds. False when its header does not validate. */
static bool add_pool(const struct ct_py_layout *L, const uint8_t *h, uint32_t arena, struct ct_pymem_stats *s)
{
	uint32_t count = u32_at(h, L->pool_count);
	if (count == 0)
		return true; /* empty: on its arena's free list, its size class meaningless */
	uint32_t szidx = u32_at(h, L->pool_szidx);
	if (u32_at(h, L->pool_arenaindex) != arena || szidx >= L->small_classes)
		return false;
	uint64_t size = (uint64_t)(szidx + 1) << L->alignment_shift;
	uint64_t nblocks = (s->pool_size - L->pool_overhead) / size;
	if (count > nblocks)
		return false;
	s->pools_used++;
	s->pools_full += count == nblocks;
	s->blocks += count;
	s->bytes += count * size;
	return true;
}

/* The headers of n pools from base on, stride apart, hlen bytes each, into h; ok[k] says which
 * were read. A live process: one process_vm_readv for them all (pool headers start pages, so it
 * stops only between two headers, at the first that cannot be read; those after it are read one by
 * one); a core or another source: one read each. */
static void read_headers(const struct ct_memsrc *m, uint64_t base, uint64_t stride, size_t n, size_t hlen,
			 uint8_t *h, bool *ok)
{
	size_t done = 0;
	if (!m->read && m->pid > 0) {
		struct iovec local[POOLS_PER_READ], remote[POOLS_PER_READ];
		for (size_t k = 0; k < n; k++) {
			local[k] = (struct iovec){ h + k * hlen, hlen };
			remote[k] = (struct iovec){ (void *)(uintptr_t)(base + k * stride), hlen };
		}
		ssize_t r = process_vm_readv(m->pid, local, n, remote, n, 0);
		done = r > 0 ? (size_t)r / hlen : 0;
	}
	for (size_t k = 0; k < n; k++)
		ok[k] = k < done || rd(m, base + k * stride, h + k * hlen, hlen) == 0;
}

/* One arena object: its pools, carved from the pool-aligned start up to pool_address. */
static void walk_arena(const struct ct_memsrc *m, const struct ct_py_layout *L, const uint8_t *ao, uint32_t idx,
		       struct ct_pymem_stats *s)
{
	uint64_t address = u64_at(ao, L->arena_address);
	if (!address)
		return;
	s->arenas_walked++;
	uint64_t pool_address = u64_at(ao, L->arena_pool_address);
	uint64_t base = (address + s->pool_size - 1) & ~(s->pool_size - 1);
	uint32_t nfree = u32_at(ao, L->arena_nfreepools), ntotal = u32_at(ao, L->arena_ntotalpools);
	if (base < address || pool_address < base || pool_address - base > s->arena_size ||
	    ntotal > s->arena_size / s->pool_size || nfree > ntotal) {
		s->pools_unreadable++; /* being set up or torn down while read */
		return;
	}
	uint64_t used_before = s->pools_used;
	uint64_t npools = (pool_address - base) / s->pool_size;
	for (uint64_t i = 0; i < npools; i += POOLS_PER_READ) {
		size_t n = npools - i < POOLS_PER_READ ? (size_t)(npools - i) : POOLS_PER_READ;
		if (s->pools_carved + n > CT_PYMEM_MAX_POOLS) {
			s->truncated = true;
			break;
		}
		s->pools_carved += n;
		uint8_t h[POOLS_PER_READ * 128];
		bool ok[POOLS_PER_READ];
		read_headers(m, base + i * s->pool_size, s->pool_size, n, L->pool_overhead, h, ok);
		for (size_t k = 0; k < n; k++)
			if (!ok[k] || !add_pool(L, h + k * L->pool_overhead, idx, s))
				s->pools_unreadable++;
	}
	s->arenas_in_use += s->pools_used > used_before;
}

static const char *read_pymalloc(const struct ct_memsrc *m, const struct ct_py_layout *L,
				 const struct ct_pymem_addrs *a, struct ct_pymem_stats *s)
{
	struct om_where w;
	const char *why = om_where(m, L, a, &w);
	if (why)
		return why;
	if (L->pool_overhead > 128 || L->pool_count + 4u > L->pool_overhead || L->pool_szidx + 4u > L->pool_overhead ||
	    L->pool_arenaindex + 4u > L->pool_overhead || L->arena_size > 128 || L->arena_address + 8u > L->arena_size ||
	    L->arena_pool_address + 8u > L->arena_size || L->arena_nfreepools + 4u > L->arena_size ||
	    L->arena_ntotalpools + 4u > L->arena_size || L->pool_bits >= L->arena_bits || L->arena_bits > 30 ||
	    L->small_classes == 0 || L->alignment_shift > 8)
		return "the layout table's pymalloc fields are out of range";
	uint64_t arenas;
	uint32_t maxarenas;
	if (rd_u64(m, w.arenas, &arenas) < 0 || rd(m, w.maxarenas, &maxarenas, sizeof(maxarenas)) < 0)
		return "pymalloc's state cannot be read";
	if (maxarenas > CT_PYMEM_MAX_ARENAS || (maxarenas && !arenas))
		return "pymalloc's state does not validate (maxarenas): left out";
	uint64_t v;
	s->arenas_allocated = rd_u64(m, w.cur, &v) == 0 && v <= CT_PYMEM_MAX_ARENAS ? (int64_t)v : -1;
	s->arenas_total = rd_u64(m, w.ntimes, &v) == 0 && v < (1ull << 62) ? (int64_t)v : -1;
	s->arenas_highwater = rd_u64(m, w.highwater, &v) == 0 && v <= CT_PYMEM_MAX_ARENAS ? (int64_t)v : -1;
	s->raw_blocks = w.raw && rd_u64(m, w.raw, &v) == 0 ? (int64_t)v : -1;
	s->pool_size = 1ull << L->pool_bits;
	s->arena_size = 1ull << L->arena_bits;
	uint8_t chunk[ARENA_CHUNK * 128];
	for (uint32_t i = 0; i < maxarenas && !s->truncated; i += ARENA_CHUNK) {
		uint32_t n = maxarenas - i < ARENA_CHUNK ? maxarenas - i : ARENA_CHUNK;
		if (rd(m, arenas + (uint64_t)i * L->arena_size, chunk, (size_t)n * L->arena_size) < 0)
			return "pymalloc's arena objects cannot be read (freed or moved while read)";
		for (uint32_t k = 0; k < n && !s->truncated; k++)
			walk_arena(m, L, chunk + (size_t)k * L->arena_size, i + k, s);
	}
	/* sys.getallocatedblocks(): the pools' blocks and the ones passed to malloc (3.9+), or the
	 * counter 3.6-3.8 keep */
	if (w.allocated)
		s->allocated_blocks = rd_u64(m, w.allocated, &v) == 0 ? (int64_t)v : -1;
	else if (s->raw_blocks >= 0 && !s->pools_unreadable && !s->truncated)
		s->allocated_blocks = (int64_t)s->blocks + s->raw_blocks;
	s->pymalloc = true;
	return NULL;
}

int ct_pymem_read_at(const struct ct_memsrc *mem, const struct ct_py_layout *L, const struct ct_pymem_addrs *a,
		     struct ct_pymem_stats *ret)
{
	uint64_t t0 = ct_now_ns();
	struct ct_pymem_stats gc;
	memset(&gc, 0, sizeof(gc));
	const char *gc_note = read_gc(mem, L, a, &gc);
	memset(ret, 0, sizeof(*ret));
	ret->raw_blocks = ret->allocated_blocks = -1;
	const char *pm_note = read_pymalloc(mem, L, a, ret);
	if (!ret->pymalloc) { /* nothing half read */
		memset(ret, 0, sizeof(*ret));
		ret->raw_blocks = ret->allocated_blocks = -1;
	}
	ret->gc = gc.gc;
	ret->gc_enabled = gc.gc_enabled;
	memcpy(ret->gen, gc.gen, sizeof(ret->gen));
	ret->gc_note = gc_note;
	ret->pymalloc_note = pm_note;
	ret->walk_ns = ct_now_ns() - t0;
	return 0;
}

/* ---- finding the interpreter ---- */

/* A static's symbol: the name, or the name with GCC's LTO suffix ("arenas.lto_priv.0"). */
static bool sym_is(const char *name, const char *want)
{
	size_t n = strlen(want);
	return strncmp(name, want, n) == 0 && (name[n] == '\0' || ct_startswith(name + n, ".lto_priv."));
}

/* Keeps addr in *slot; a second, different address makes the name ambiguous (never guessed). */
static void keep(uint64_t *slot, uint64_t addr)
{
	*slot = *slot == 0 || *slot == addr ? addr : AMBIGUOUS;
}

struct found {
	struct ct_pymem_addrs a;
	uint64_t code, version;
	bool exact; /* the version read from Py_Version, not taken from the file name */
};

static void module_syms(Dwfl_Module *mod, const struct ct_py_layout *L, struct found *f)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 22); i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || name[0] == '\0' || sym.st_shndx == SHN_UNDEF || GELF_ST_TYPE(sym.st_info) == STT_FUNC)
			continue;
		uint64_t size = sym.st_size;
		if (strcmp(name, "_PyRuntime") == 0)
			keep(&f->a.runtime, addr);
		else if (strcmp(name, "PyCode_Type") == 0)
			keep(&f->code, addr);
		else if (strcmp(name, "Py_Version") == 0)
			keep(&f->version, addr);
		else if (sym_is(name, "generations") && size == (uint64_t)L->gcgen_size * CT_PYMEM_GENERATIONS)
			keep(&f->a.gc_generations, addr);
		else if (sym_is(name, "generation_stats") && size == (uint64_t)L->gcstats_size * CT_PYMEM_GENERATIONS)
			keep(&f->a.gc_stats, addr);
		else if (sym_is(name, "enabled") && size == 4)
			keep(&f->a.gc_enabled, addr);
		else if (sym_is(name, "arenas") && size == 8)
			keep(&f->a.arenas, addr);
		else if (sym_is(name, "maxarenas") && size == 4)
			keep(&f->a.maxarenas, addr);
		else if (sym_is(name, "narenas_currently_allocated") && size == 8)
			keep(&f->a.narenas_currently_allocated, addr);
		else if (sym_is(name, "ntimes_arena_allocated") && size == 8)
			keep(&f->a.ntimes_arena_allocated, addr);
		else if (sym_is(name, "narenas_highwater") && size == 8)
			keep(&f->a.narenas_highwater, addr);
		else if (sym_is(name, "raw_allocated_blocks") && size == 8)
			keep(&f->a.raw_allocated_blocks, addr);
		else if (sym_is(name, "_Py_AllocatedBlocks") && size == 8)
			keep(&f->a.allocated_blocks, addr);
	}
	/* an ambiguous name is a name not found */
	uint64_t *all = (uint64_t *)&f->a;
	for (size_t i = 0; i < sizeof(f->a) / sizeof(uint64_t); i++)
		if (all[i] == AMBIGUOUS)
			all[i] = 0;
}

/* Whether mod is Python: the code type and, for the layout, a version. */
static uint32_t module_version(const struct ct_memsrc *mem, Dwfl_Module *mod, const char *name, struct found *f)
{
	memset(f, 0, sizeof(*f));
	/* the version decides the table, the table the symbol sizes: a first pass with any table */
	size_t n;
	module_syms(mod, ct_py_layouts(&n), f);
	if (!f->code)
		return 0;
	uint32_t hex = 0;
	if (f->version && (rd(mem, f->version, &hex, sizeof(hex)) < 0 || (hex >> 24) != 3))
		hex = 0;
	f->exact = hex != 0;
	return hex ? hex : ct_py_hex_from_name(ct_basename(name));
}

int ct_pymem_open(const struct ct_memsrc *mem, struct ct_symbolizer *sym, const char *exe, struct ct_pymem **ret,
		  char **ret_note)
{
	*ret = NULL;
	*ret_note = NULL;
	struct ct_py_modules p;
	ct_py_find_modules(ct_sym_dwfl(sym), exe, &p);
	struct found f;
	Dwfl_Module *mod = p.lib;
	const char *name = p.lib_name;
	memset(&f, 0, sizeof(f));
	uint32_t hex = mod ? module_version(mem, mod, name, &f) : 0;
	if (!f.code && p.exe) {
		mod = p.exe;
		name = p.exe_name;
		hex = module_version(mem, mod, name, &f);
	}
	if (!mod || !f.code)
		return 0; /* not Python */
	const struct ct_py_layout *L = hex ? ct_py_layout_find(hex) : NULL;
	if (!L) {
		*ret_note = hex ? ct_strf("Python %u.%u: ctrace has no layout table for this version (3.6 to 3.13): "
					  "its memory figures are not read", hex >> 24, (hex >> 16) & 0xff)
				: ct_strf("Python found in %s, but not its version: its memory figures are not read",
					  ct_basename(name));
		return *ret_note ? 0 : -ENOMEM;
	}
	struct ct_pymem *pm = calloc(1, sizeof(*pm));
	if (!pm || !(pm->module = strdup(name))) {
		free(pm);
		return -ENOMEM;
	}
	bool exact = f.exact;
	memset(&f, 0, sizeof(f));
	module_syms(mod, L, &f); /* again, the symbol sizes checked against this version's table */
	if (!f.a.runtime && has(L->runtime_interpreters_main)) /* stripped: a scan that validates */
		f.a.runtime = ct_py_scan_runtime(mem, mod, hex, L);
	/* 3.13+: the _Py_DebugOffsets at _PyRuntime's start say the version and whether the build is
	 * free-threaded, whose objects, collector and allocator (mimalloc) are laid out otherwise */
	uint64_t d[3];
	if (hex >= 0x030d0000 && f.a.runtime &&
	    (rd(mem, f.a.runtime, d, sizeof(d)) < 0 || memcmp(d, "xdebugpy", 8) != 0 || (d[1] >> 16) != (hex >> 16) ||
	     d[2] != 0)) {
		ct_pymem_close(pm);
		*ret_note = ct_strf("Python %u.%u: _Py_DebugOffsets at _PyRuntime has a bad cookie, another version or "
				    "says a free-threaded build: its memory figures are not read", hex >> 24,
				    (hex >> 16) & 0xff);
		return *ret_note ? 0 : -ENOMEM;
	}
	pm->mem = *mem;
	pm->L = L;
	pm->a = f.a;
	if (exact)
		snprintf(pm->version, sizeof(pm->version), "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
	else
		snprintf(pm->version, sizeof(pm->version), "%u.%u", hex >> 24, (hex >> 16) & 0xff);
	*ret = pm;
	return 0;
}

void ct_pymem_close(struct ct_pymem *pm)
{
	if (!pm)
		return;
	free(pm->module);
	free(pm);
}

int ct_pymem_read(struct ct_pymem *pm, struct ct_pymem_stats *ret)
{
	ct_pymem_read_at(&pm->mem, pm->L, &pm->a, ret);
	snprintf(ret->version, sizeof(ret->version), "%s", pm->version);
	ret->module = pm->module;
	return 0;
}
