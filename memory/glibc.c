/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/glibc.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/capture.h"
#include "lib/error.h"
#include "lib/cache.h"
#include "lib/util.h"
#include "layout/dwtype.h"
#include "memory/alloc.h"
#include "lib/banned.h"

/* Where the fields the walk reads sit, all from libc's DWARF. */
struct member {
	const char *name;
	size_t off, size;
	size_t count;  /* arrays: number of elements; else 1 */
	bool found;
};

enum { MS_MUTEX, MS_FASTBINS, MS_TOP, MS_BINS, MS_NEXT, MS_SYSTEM_MEM, MS_N };
enum { MC_SIZE, MC_FD, MC_BK, MC_FD_NEXTSIZE, MC_N };
enum { HI_AR_PTR, HI_PREV, HI_SIZE, HI_N };
enum { MP_N_MMAPS, MP_MMAPPED_MEM, MP_N };

struct layout {
	struct member ms[MS_N], mc[MC_N], hi[HI_N], mp[MP_N];
	size_t ms_size, mc_size, hi_size, mp_size;
	bool have_heap_info;
	bool safe_linking;  /* glibc >= 2.32 mangles singly linked fd pointers (PROTECT_PTR) */
	size_t word;        /* sizeof(INTERNAL_SIZE_T) */
};

static void init_layout(struct layout *l)
{
	memset(l, 0, sizeof(*l));
	static const char *const ms[] = { "mutex", "fastbinsY", "top", "bins", "next", "system_mem" };
	static const char *const mc[] = { "mchunk_size", "fd", "bk", "fd_nextsize" };
	static const char *const hi[] = { "ar_ptr", "prev", "size" };
	static const char *const mp[] = { "n_mmaps", "mmapped_mem" };
	for (int i = 0; i < MS_N; i++) l->ms[i].name = ms[i];
	for (int i = 0; i < MC_N; i++) l->mc[i].name = mc[i];
	for (int i = 0; i < HI_N; i++) l->hi[i].name = hi[i];
	for (int i = 0; i < MP_N; i++) l->mp[i].name = mp[i];
}

/* ---- DWARF ---------------------------------------------------------------------------------- */

/* Fills the wanted members of a struct type; every one must be found. */
static int read_struct(Dwarf_Die *st, struct member *m, size_t nm, size_t *ret_size)
{
	if (dwarf_tag(st) != DW_TAG_structure_type || ct_dwtype_size(st, ret_size) < 0)
		return -EPROTO;
	for (size_t i = 0; i < nm; i++) {
		Dwarf_Die t;
		if (ct_dwtype_member(st, m[i].name, &m[i].off, &t) < 0 || ct_dwtype_array_count(&t, &m[i].count) < 0 ||
		    m[i].count == 0 || ct_dwtype_size(&t, &m[i].size) < 0 || m[i].off + m[i].size > *ret_size)
			return -EPROTO;
		m[i].found = true;
	}
	return 0;
}

struct syms {
	uint64_t main_arena, mp, malloc_fn;
	bool glibc_2_32;
};

static void find_syms(Dwfl_Module *mod, struct syms *s)
{
	memset(s, 0, sizeof(*s));
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 24); i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name)
			continue;
		if (strcmp(name, "main_arena") == 0 && GELF_ST_TYPE(sym.st_info) == STT_OBJECT)
			s->main_arena = addr;
		else if (strcmp(name, "mp_") == 0 && GELF_ST_TYPE(sym.st_info) == STT_OBJECT)
			s->mp = addr;
		else if (strcmp(name, "__libc_malloc") == 0 && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
			s->malloc_fn = addr;
		else if (strcmp(name, "GLIBC_2.32") == 0)
			s->glibc_2_32 = true;
	}
}

static bool word_size(const struct member *m)
{
	return m->count == 1 && (m->size == 4 || m->size == 8);
}

/* What the walker relies on, whether the layout came from DWARF or from the cache: every field it
 * reads is a 4- or 8-byte word inside its struct, the arrays have 8-byte elements, and the structs
 * are small enough to copy whole. */
static bool layout_ok(const struct layout *l)
{
	const struct { const struct member *m; size_t n, size, cap; } all[] = {
		{ l->ms, MS_N, l->ms_size, 1 << 16 }, { l->mc, MC_N, l->mc_size, 64 },
		{ l->hi, HI_N, l->hi_size, 256 }, { l->mp, MP_N, l->mp_size, 1024 },
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(all); i++) {
		if (i == 2 && !l->have_heap_info)
			continue;
		if (all[i].size == 0 || all[i].size > all[i].cap)
			return false;
		for (size_t k = 0; k < all[i].n; k++) {
			const struct member *m = &all[i].m[k];
			if (!m->found || m->off > all[i].size || m->size > all[i].size - m->off)
				return false;
		}
	}
	const struct member *fb = &l->ms[MS_FASTBINS], *bins = &l->ms[MS_BINS];
	return (l->word == 8 || l->word == 4) && l->word == l->mc[MC_SIZE].size &&
	       word_size(&l->ms[MS_MUTEX]) && word_size(&l->ms[MS_SYSTEM_MEM]) && l->ms[MS_TOP].size == 8 &&
	       l->ms[MS_NEXT].size == 8 && fb->count >= 1 && fb->count <= 64 && fb->size == fb->count * 8 &&
	       bins->count >= 4 && bins->count <= 1024 && bins->size == bins->count * 8 &&
	       l->mc[MC_FD].size == 8 && l->mc[MC_BK].size == 8 && l->mc[MC_FD].off >= l->mc[MC_SIZE].off &&
	       l->mc[MC_BK].off >= l->mc[MC_SIZE].off && l->mc[MC_BK].off + 8 - l->mc[MC_SIZE].off <= 64 &&
	       (!l->have_heap_info || (l->hi[HI_AR_PTR].size == 8 && l->hi[HI_PREV].size == 8 &&
				       word_size(&l->hi[HI_SIZE]))) &&
	       word_size(&l->mp[MP_N_MMAPS]) && word_size(&l->mp[MP_MMAPPED_MEM]);
}

static int learn_layout(Dwfl_Module *mod, const struct syms *s, struct layout *l, char **ret_why)
{
	Dwarf_Addr bias;
	const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!modname)
		modname = "libc";
	if (!dwfl_module_getdwarf(mod, &bias)) {
		*ret_why = ct_strf("%s has no debug information, so malloc's arena layout is unknown; install "
				"libc6-dbg (apt-get install libc6-dbg) and run again", modname);
		return -CT_ENODEBUG;
	}
	Dwarf_Die *cup = s->malloc_fn ? dwfl_module_addrdie(mod, s->malloc_fn, &bias) : NULL;
	if (!cup) {
		*ret_why = ct_strf("%s: no debug information for malloc.c; install libc6-dbg", modname);
		return -CT_ENODEBUG;
	}
	Dwarf_Die cu = *cup;
	init_layout(l);
	Dwarf_Die ms, mp, top, mc, hi;
	size_t top_off;
	if (ct_dwtype_var(&cu, "main_arena", &ms) < 0 || read_struct(&ms, l->ms, MS_N, &l->ms_size) < 0 ||
	    ct_dwtype_var(&cu, "mp_", &mp) < 0 || read_struct(&mp, l->mp, MP_N, &l->mp_size) < 0)
		goto bad;
	/* struct malloc_chunk: what malloc_state.top points to */
	if (ct_dwtype_member(&ms, "top", &top_off, &top) < 0 || dwarf_tag(&top) != DW_TAG_pointer_type ||
	    ct_dwtype_strip(&top, true, &mc) < 0 || read_struct(&mc, l->mc, MC_N, &l->mc_size) < 0)
		goto bad;
	if (ct_dwtype_find(&cu, "heap_info", &hi) == 0 && read_struct(&hi, l->hi, HI_N, &l->hi_size) == 0)
		l->have_heap_info = true;
	l->word = l->mc[MC_SIZE].size;
	if (!layout_ok(l))
		goto bad;
	return 0;
bad:
	*ret_why = ct_strf("%s: malloc_state, malloc_chunk or malloc_par in its debug information does not "
			"have the fields ctrace reads; arenas not read", modname);
	return -EPROTO;
}

/* ---- the layout cache --------------------------------------------------------------------------
 * Reading libc's DWARF costs most of a level-2 run (its sections are compressed), and the answer
 * depends only on libc's build. So the layout is kept in the cache directory (lib/cache.h),
 * one small text file per build-id, mode 0600; a file not owned by us, writable
 * by others, malformed, or describing a layout the walker would not accept is ignored. */

static int cache_path(Dwfl_Module *mod, char *buf, size_t len, bool make_dir)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &id, &vaddr);
	if (n <= 0 || n > 64)
		return -ENOENT;
	const char *cdir = ct_cache_dir();
	if (!cdir)
		return -ENOENT;
	if (make_dir && ct_cache_dir_ensure(cdir) < 0)
		return -EPERM;
	struct ct_buf dir = CT_BUF_INIT;
	ct_buf_puts(&dir, cdir);
	ct_buf_puts(&dir, "/glibc-malloc-");
	ct_buf_hex(&dir, id, (size_t)n);
	ct_buf_puts(&dir, ".layout");
	int r = dir.err || dir.len >= len ? -ENAMETOOLONG : 0;
	if (!r)
		memcpy(buf, dir.data, dir.len + 1);
	ct_buf_free(&dir);
	return r;
}

struct group_ref {
	const char *prefix;
	struct member *m;
	size_t n;
	size_t *size;
};

static void groups_of(struct layout *l, struct group_ref g[4])
{
	g[0] = (struct group_ref){ "malloc_state", l->ms, MS_N, &l->ms_size };
	g[1] = (struct group_ref){ "malloc_chunk", l->mc, MC_N, &l->mc_size };
	g[2] = (struct group_ref){ "heap_info", l->hi, HI_N, &l->hi_size };
	g[3] = (struct group_ref){ "malloc_par", l->mp, MP_N, &l->mp_size };
}

static void cache_store(Dwfl_Module *mod, struct layout *l)
{
	char path[4096];
	if (cache_path(mod, path, sizeof(path), true) < 0)
		return;
	struct ct_buf b = CT_BUF_INIT;
	struct group_ref g[4];
	groups_of(l, g);
	ct_buf_puts(&b, "ctrace glibc malloc layout 1\n");
	for (int i = 0; i < 4; i++) {
		if (i == 2 && !l->have_heap_info)
			continue;
		ct_buf_printf(&b, "%s %zu\n", g[i].prefix, *g[i].size);
		for (size_t k = 0; k < g[i].n; k++)
			ct_buf_printf(&b, "%s.%s %zu %zu %zu\n", g[i].prefix, g[i].m[k].name, g[i].m[k].off,
				      g[i].m[k].size, g[i].m[k].count);
	}
	if (!b.err)
		(void)ct_cache_write(path, b.data, b.len);
	ct_buf_free(&b);
}

static int cache_load(Dwfl_Module *mod, struct layout *l)
{
	char path[4096];
	int r = cache_path(mod, path, sizeof(path), false);
	if (r < 0)
		return r;
	char text[4096];
	int fd = ct_cache_open(path, sizeof(text) - 1);
	if (fd == -EPERM)
		return -EINVAL;
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	text[n] = '\0';
	init_layout(l);
	struct group_ref g[4];
	groups_of(l, g);
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, "ctrace glibc malloc layout 1") != 0)
		return -EINVAL;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char key[96];
		unsigned long a, b2, c;
		int f = sscanf(line, "%95s %lu %lu %lu", key, &a, &b2, &c);
		bool used = false;
		for (int i = 0; i < 4 && !used; i++) {
			size_t pl = strlen(g[i].prefix);
			if (strncmp(key, g[i].prefix, pl) != 0)
				continue;
			if (key[pl] == '\0' && f == 2) {
				*g[i].size = a;
				used = true;
				if (i == 2)
					l->have_heap_info = true;
			}
			for (size_t k = 0; k < g[i].n && key[pl] == '.' && f == 4; k++) {
				if (strcmp(key + pl + 1, g[i].m[k].name) == 0 && !g[i].m[k].found) {
					g[i].m[k] = (struct member){ g[i].m[k].name, a, b2, c, true };
					used = true;
				}
			}
		}
		if (!used)
			return -EINVAL;
	}
	l->word = l->mc[MC_SIZE].size;
	return layout_ok(l) ? 0 : -EINVAL;
}

/* ---- reading the target --------------------------------------------------------------------- */

struct region {
	uint64_t start, end;
};

struct walker {
	const struct ct_memsrc *mem;
	const struct layout *l;
	const struct ct_smaps_entry *maps;
	size_t nmaps;
	size_t budget;       /* chunks left to walk in all */
	size_t pagesize;
	int err;             /* sticky read error (-ESRCH when the process is gone) */
	/* a small direct-mapped cache of pages read from the target, dropped on every retry */
	uint64_t *tags;
	uint8_t *pages;
	size_t npages;
	size_t hits, misses;
	bool scattered;
	size_t range_cap, arena_cap;
};

enum { CACHE_PAGES = 64, CACHE_PAGE = 65536 };

/* Reads target memory through a cache of 64 KiB blocks. Free lists often run through memory in
 * address order (a block then serves dozens of chunks, and one system call replaces dozens); when
 * they jump around instead (hits per miss stay low), blocks are no longer filled except one miss in
 * eight, which keeps measuring, and each read asks for just its bytes. */
static int rd(struct walker *w, uint64_t addr, void *buf, size_t len)
{
	if (w->npages && len <= CACHE_PAGE && (addr & (CACHE_PAGE - 1)) + len <= CACHE_PAGE) {
		uint64_t pg = addr / CACHE_PAGE;
		size_t slot = (size_t)(pg % w->npages);
		uint8_t *p = w->pages + slot * CACHE_PAGE;
		if (w->tags[slot] == pg + 1) {
			w->hits++;
			memcpy(buf, p + (addr & (CACHE_PAGE - 1)), len);
			return 0;
		}
		if (++w->misses >= 256) {
			w->scattered = w->hits < w->misses;
			w->hits = w->misses = 0;
		}
		if (!w->scattered || w->misses % 8 == 0) {
			ssize_t n = ct_memsrc_read(w->mem, pg * CACHE_PAGE, p, CACHE_PAGE);
			if (n == CACHE_PAGE) {
				w->tags[slot] = pg + 1;
				memcpy(buf, p + (addr & (CACHE_PAGE - 1)), len);
				return 0;
			}
			w->tags[slot] = 0;
		}
	}
	ssize_t n = ct_memsrc_read(w->mem, addr, buf, len);
	if (n == (ssize_t)len)
		return 0;
	int e = n < 0 ? (int)n : -EFAULT;
	if (e == -ESRCH)
		w->err = e;
	return e;
}

static void drop_cache(struct walker *w)
{
	w->hits = w->misses = 0;
	w->scattered = false;
	if (w->tags)
		memset(w->tags, 0, w->npages * sizeof(*w->tags));
}

static uint64_t get_word(const uint8_t *base, size_t off, size_t size)
{
	if (size == 4) {
		uint32_t v;
		memcpy(&v, base + off, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, base + off, 8);
	return v;
}

static const struct ct_smaps_entry *map_of(const struct walker *w, uint64_t addr)
{
	size_t lo = 0, hi = w->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < w->maps[mid].map.start)
			hi = mid;
		else if (addr >= w->maps[mid].map.end)
			lo = mid + 1;
		else
			return &w->maps[mid];
	}
	return NULL;
}

static bool in_regions(const struct region *rg, size_t n, uint64_t p, uint64_t size)
{
	for (size_t i = 0; i < n; i++)
		if (p >= rg[i].start && p < rg[i].end && size <= rg[i].end - p)
			return true;
	return false;
}

/* One chunk's header, read from the target. */
struct chunk {
	uint64_t size, fd, bk;
};

static int read_chunk(struct walker *w, uint64_t p, struct chunk *c)
{
	const struct layout *l = w->l;
	size_t lo = l->mc[MC_SIZE].off, hi = l->mc[MC_BK].off + l->mc[MC_BK].size;
	if (hi > 64 || l->mc[MC_FD].off < lo || l->mc[MC_BK].off < lo)
		return -EPROTO;
	uint8_t buf[64];
	int r = rd(w, p + lo, buf, hi - lo);
	if (r < 0)
		return r;
	c->size = get_word(buf, 0, l->word) & ~(uint64_t)7; /* PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA */
	c->fd = get_word(buf, l->mc[MC_FD].off - lo, 8);
	c->bk = get_word(buf, l->mc[MC_BK].off - lo, 8);
	return 0;
}

struct arena_pass {
	struct ct_mallinfo mi;
	uint64_t top_size, trimmable;
	size_t chunks;
	char *problem;   /* set when the lists did not hold together */
};

static void trim_chunk(const struct walker *w, uint64_t p, uint64_t size, uint64_t *trim)
{
	uint64_t psm1 = w->pagesize - 1;
	if (size <= psm1 + w->l->mc_size)
		return;
	uint64_t paligned = (p + w->l->mc_size + psm1) & ~psm1;
	if (paligned - p >= size)
		return;
	size -= paligned - p;
	if (size > psm1)
		*trim += size & ~psm1;
}

/* Brent's cycle detection: a corrupted list that loops is noticed within twice its length,
 * without waiting for the chunk limit. */
struct cycle {
	uint64_t mark;
	size_t steps, power;
};

static bool looped(struct cycle *c, uint64_t p)
{
	if (p == c->mark)
		return true;
	if (++c->steps == c->power) {
		c->mark = p;
		c->power *= 2;
		c->steps = 0;
	}
	return false;
}

/* Notes the first problem of a pass; later ones add nothing new for the reader. */
static void problem(struct arena_pass *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct arena_pass *a, const char *fmt, ...)
{
	if (a->problem)
		return;
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	a->problem = ct_buf_steal(&b);
}

/* One step of a list walk: spends one chunk of the budget, checks that p may be a chunk of this
 * arena and reads its header. 1: go on; 0: the list is cut here (the problem is noted);
 * -E2BIG: the budget is spent; another -errno: the memory could not be read. */
static int visit(struct walker *w, struct arena_pass *a, const struct region *rg, size_t nrg, const char *list,
		 size_t i, uint64_t p, struct chunk *c)
{
	if (!w->budget) {
		problem(a, "stopped at the limit of chunks walked");
		return -E2BIG;
	}
	w->budget--;
	if ((p & (2 * w->l->word - 1)) || !in_regions(rg, nrg, p, 4 * w->l->word)) {
		problem(a, "%s %zu: chunk 0x%" PRIx64 " is outside the arena", list, i, p);
		return 0;
	}
	int r = read_chunk(w, p, c);
	return r < 0 ? r : 1;
}

/* Walks one arena from a fresh copy of its malloc_state, as int_mallinfo does. A list that does
 * not hold together is cut where it breaks and the walk goes on with the next one, so *ret always
 * has what could be counted; the return is -EAGAIN when anything was cut, -E2BIG at the chunk limit,
 * another -errno when memory could not be read. */
static int walk_arena(struct walker *w, uint64_t addr, const uint8_t *st, const struct region *rg, size_t nrg,
		      bool main, struct arena_pass *ret)
{
	const struct layout *l = w->l;
	struct arena_pass a;
	memset(&a, 0, sizeof(a));
	uint64_t top = get_word(st, l->ms[MS_TOP].off, 8);
	uint64_t system_mem = get_word(st, l->ms[MS_SYSTEM_MEM].off, l->ms[MS_SYSTEM_MEM].size);
	uint64_t bins_addr = addr + l->ms[MS_BINS].off;
	uint64_t initial_top = bins_addr - l->mc[MC_FD].off; /* bin_at(av, 1): top before first use */
	struct chunk c;
	int r = 0;

	if (top == 0 && system_mem == 0) {
		*ret = a; /* malloc was never called: ptmalloc_init has not run, all is zero */
		return 0;
	}
	if (top != initial_top && !in_regions(rg, nrg, top, 1)) {
		problem(&a, "top chunk 0x%" PRIx64 " is outside the arena's memory", top);
	} else {
		if ((r = read_chunk(w, top, &c)) < 0)
			goto out;
		if (top != initial_top && !in_regions(rg, nrg, top, c.size))
			problem(&a, "top chunk 0x%" PRIx64 " claims %" PRIu64 " bytes, beyond the arena's memory",
				top, c.size);
		else
			a.top_size = c.size;
	}
	uint64_t avail = a.top_size, nblocks = 1, fastavail = 0, nfast = 0;

	size_t nfb = l->ms[MS_FASTBINS].count, fbsz = l->ms[MS_FASTBINS].size / nfb;
	for (size_t i = 0; i < nfb; i++) {
		uint64_t p = get_word(st, l->ms[MS_FASTBINS].off + i * fbsz, fbsz);
		struct cycle cy = { p, 0, 1 };
		while (p) {
			if ((r = visit(w, &a, rg, nrg, "fastbin", i, p, &c)) <= 0)
				break;
			/* fastbin_index(): the size must belong to this bin */
			uint64_t idx = (c.size >> (l->word == 8 ? 4 : 3)) - 2;
			if (c.size < 4 * l->word || idx != i || !in_regions(rg, nrg, p, c.size)) {
				problem(&a, "fastbin %zu: chunk 0x%" PRIx64 " has size %" PRIu64 ", not this bin's",
					i, p, c.size);
				break;
			}
			nfast++;
			fastavail += c.size;
			uint64_t fd = c.fd;
			if (l->safe_linking)
				fd ^= (p + l->mc[MC_FD].off) >> 12; /* REVEAL_PTR */
			p = fd;
			if (looped(&cy, p)) {
				problem(&a, "fastbin %zu loops back to chunk 0x%" PRIx64, i, p);
				break;
			}
		}
		if (r < 0)
			goto out;
	}
	avail += fastavail;

	size_t nbins = l->ms[MS_BINS].count / 2 + 1; /* NBINS: bins[NBINS * 2 - 2] */
	for (size_t i = 1; i < nbins; i++) {
		uint64_t b = bins_addr + (i - 1) * 2 * 8 - l->mc[MC_FD].off; /* bin_at(av, i) */
		uint64_t prev = b;
		struct cycle cy = { b, 0, 1 };
		uint64_t p = get_word(st, l->ms[MS_BINS].off + ((i - 1) * 2 + 1) * 8, 8); /* last(b) = b->bk */
		while (p != b) {
			if ((r = visit(w, &a, rg, nrg, "bin", i, p, &c)) <= 0)
				break;
			if (c.fd != prev || c.size < 4 * l->word || !in_regions(rg, nrg, p, c.size)) {
				problem(&a, "bin %zu: chunk 0x%" PRIx64 " (size %" PRIu64 ") does not link back to "
					"0x%" PRIx64, i, p, c.size, prev);
				break;
			}
			nblocks++;
			avail += c.size;
			a.chunks++;
			trim_chunk(w, p, c.size, &a.trimmable);
			prev = p;
			p = c.bk;
			if (p != b && looped(&cy, p)) {
				problem(&a, "bin %zu loops back to chunk 0x%" PRIx64, i, p);
				break;
			}
		}
		if (r < 0)
			goto out;
	}
	a.chunks += nfast;
	if (avail > system_mem) {
		problem(&a, "free bytes (%" PRIu64 ") exceed the arena's system memory (%" PRIu64 ")", avail,
			system_mem);
		avail = system_mem;
	}
	a.mi.smblks = nfast;
	a.mi.ordblks = nblocks;
	a.mi.fordblks = avail;
	a.mi.uordblks = system_mem - avail;
	a.mi.arena = system_mem;
	a.mi.fsmblks = fastavail;
	if (main) {
		a.mi.keepcost = a.top_size;
		/* systrim(0): the top beyond MINSIZE, in whole pages */
		uint64_t minsize = l->mc[MC_FD_NEXTSIZE].off;
		if (a.top_size > minsize + 1)
			a.trimmable += (a.top_size - minsize - 1) & ~(uint64_t)(w->pagesize - 1);
	}
	r = 0;
out:
	free(ret->problem);
	*ret = a;
	if (r == 0 && a.problem)
		r = -EAGAIN;
	return r;
}

/* The memory an arena's chunks may live in. Main arena: [heap] and anonymous private memory (it
 * falls back to mmap when brk fails). Thread arena: its heaps, found from the heap holding top and
 * their prev links; each must name this arena. */
/* Every [heap] and anonymous private read-write mapping. */
static int broad_regions(struct walker *w, struct region **ret, size_t *ret_n)
{
	struct region *rg = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < w->nmaps; i++) {
		const struct ct_smaps_entry *e = &w->maps[i];
		bool heap = e->map.path && strcmp(e->map.path, "[heap]") == 0;
		if (!heap && (e->map.path || e->map.perms[0] != 'r' || e->map.perms[1] != 'w' || e->map.perms[3] != 'p'))
			continue;
		if (ct_grow(&rg, &cap, n + 1, sizeof(*rg)) < 0) {
			free(rg);
			return -ENOMEM;
		}
		rg[n++] = (struct region){ e->map.start, e->map.end };
	}
	*ret = rg;
	*ret_n = n;
	return 0;
}

/* The memory an arena's chunks may live in. Main arena: [heap] and anonymous private memory (it
 * falls back to mmap when brk fails). Thread arena: its heaps, found from the heap holding top and
 * their prev links; each must name this arena. When they cannot be found, *problem says so and the
 * broad set is used. */
static int arena_regions(struct walker *w, uint64_t addr, const uint8_t *st, bool main, struct region **ret,
			 size_t *ret_n, size_t *ret_nheaps, uint64_t *ret_heap_bytes, char **problem)
{
	const struct layout *l = w->l;
	struct region *rg = NULL;
	size_t n = 0, cap = 0;
	*ret_nheaps = 0;
	*ret_heap_bytes = 0;
	if (main || !l->have_heap_info)
		return broad_regions(w, ret, ret_n);
	uint64_t top = get_word(st, l->ms[MS_TOP].off, 8);
	const struct ct_smaps_entry *m = map_of(w, top);
	uint8_t hib[256];
	if (l->hi_size > sizeof(hib))
		return -EPROTO;
	for (uint64_t h = m ? m->map.start : 0, k = 0; h && k < 65536; k++) {
		if (rd(w, h, hib, l->hi_size) < 0)
			break;
		uint64_t ar = get_word(hib, l->hi[HI_AR_PTR].off, 8);
		uint64_t size = get_word(hib, l->hi[HI_SIZE].off, l->hi[HI_SIZE].size);
		uint64_t prev = get_word(hib, l->hi[HI_PREV].off, 8);
		const struct ct_smaps_entry *hm = map_of(w, h);
		if (ar != addr || !hm || size > (1ull << 40) || size < l->hi_size)
			break;
		if (ct_grow(&rg, &cap, n + 1, sizeof(*rg)) < 0) {
			free(rg);
			return -ENOMEM;
		}
		rg[n++] = (struct region){ h, h + size };
		(*ret_nheaps)++;
		*ret_heap_bytes += size;
		h = prev;
	}
	if (n == 0) {
		*problem = ct_strf("no heap of this arena holds its top chunk 0x%" PRIx64 "; chunks were checked "
				"against all anonymous memory instead", top);
		return broad_regions(w, ret, ret_n);
	}
	*ret = rg;
	*ret_n = n;
	return 0;
}

static void add_mi(struct ct_mallinfo *t, const struct ct_mallinfo *a)
{
	t->arena += a->arena;
	t->ordblks += a->ordblks;
	t->smblks += a->smblks;
	t->hblks += a->hblks;
	t->hblkhd += a->hblkhd;
	t->fsmblks += a->fsmblks;
	t->uordblks += a->uordblks;
	t->fordblks += a->fordblks;
	t->keepcost += a->keepcost;
}

/* Reads one arena (retrying when its lists change under the walk) into ar. Returns the address of
 * the next arena in *ret_next, or -errno when the arena itself could not be read. */
static int read_arena(struct walker *w, uint64_t addr, bool main, int tries, struct ct_glibc_stats *s,
		      struct ct_glibc_arena *ar, uint64_t *ret_next)
{
	const struct layout *l = w->l;
	uint8_t *st = malloc(l->ms_size);
	if (!st)
		return -ENOMEM;
	int r = 0;
	struct arena_pass pass;
	memset(&pass, 0, sizeof(pass));
	ar->addr = addr;
	ar->main = main;
	for (int t = 0; t < tries; t++) {
		if (t)
			drop_cache(w);
		s->tries = CT_MAX(s->tries, (size_t)t + 1);
		ssize_t n = ct_memsrc_read(w->mem, addr, st, l->ms_size);
		if (n != (ssize_t)l->ms_size) {
			r = n < 0 ? (int)n : -EFAULT;
			break;
		}
		*ret_next = get_word(st, l->ms[MS_NEXT].off, 8);
		ar->locked = get_word(st, l->ms[MS_MUTEX].off, CT_MIN(l->ms[MS_MUTEX].size, 4)) != 0;
		struct region *rg = NULL;
		size_t nrg = 0;
		free(pass.problem);
		pass.problem = NULL;
		char *region_problem = NULL;
		r = arena_regions(w, addr, st, main, &rg, &nrg, &ar->nheaps, &ar->heap_bytes, &region_problem);
		if (r == 0)
			r = walk_arena(w, addr, st, rg, nrg, main, &pass);
		if (region_problem && !pass.problem && (r == 0 || r == -EAGAIN)) {
			pass.problem = region_problem;
			region_problem = NULL;
			r = -EAGAIN;
		}
		free(region_problem);
		if (((r != -EAGAIN && r != -EFAULT) || t == tries - 1) && !main) {
			for (size_t i = 0; i < nrg; i++) {
				if (ct_grow(&s->heap_ranges, &w->range_cap, s->nheap_ranges + 1,
					    sizeof(*s->heap_ranges)) < 0) {
					r = -ENOMEM;
					break;
				}
				s->heap_ranges[s->nheap_ranges][0] = rg[i].start;
				s->heap_ranges[s->nheap_ranges][1] = rg[i].end;
				s->nheap_ranges++;
			}
		}
		free(rg);
		if (r != -EAGAIN && r != -EFAULT) /* EFAULT: memory went away under the walk (a trim) */
			break;
	}
	free(st);
	if (w->err)
		r = w->err;
	if (r == -ENOMEM || r == -ESRCH || r == -EPROTO)
		return r;
	ar->mi = pass.mi;
	ar->top_size = pass.top_size;
	ar->trimmable = pass.trimmable;
	ar->chunks = pass.chunks;
	if (r == 0)
		return 0;
	/* its lists never held together: what was counted before they broke, marked as such */
	ar->approximate = true;
	ar->problem = pass.problem ? pass.problem : ct_strf("could not be read: %s", ct_strerror(r));
	return r == -EAGAIN || r == -E2BIG || r == -EFAULT ? 0 : r;
}

struct find_ctx {
	Dwfl_Module *mod;
	const char *name;
};

static int find_libc_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct find_ctx *f = arg;
	(void)userdata;
	(void)start;
	/* a core's modules are named by their link_map names ("libc.so.6"), a live one's by path */
	char base[256];
	const char *path = name;
	if (name && name[0] != '/') {
		snprintf(base, sizeof(base), "/%s", name);
		path = base;
	}
	if (ct_alloc_library_kind(path) == CT_ALLOC_GLIBC) {
		f->mod = mod;
		f->name = name;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static int walk_all(struct walker *w, const struct syms *sy, const struct ct_glibc_opts *o,
		    struct ct_glibc_stats *s)
{
	const struct layout *l = w->l;
	size_t max_arenas = o && o->max_arenas ? o->max_arenas : 1024;
	int tries = o && o->tries ? o->tries : 3;
	uint8_t mpb[1024];
	if (l->mp_size > sizeof(mpb))
		return -EPROTO;
	ssize_t n = ct_memsrc_read(w->mem, sy->mp, mpb, l->mp_size);
	if (n != (ssize_t)l->mp_size)
		return n < 0 ? (int)n : -EIO;
	uint64_t addr = sy->main_arena;
	for (size_t k = 0;; k++) {
		if (k >= max_arenas) {
			s->arenas_truncated = true;
			break;
		}
		struct ct_glibc_arena *ar = NULL;
		if (ct_grow(&s->arenas, &w->arena_cap, s->narenas + 1, sizeof(*s->arenas)) < 0)
			return -ENOMEM;
		ar = &s->arenas[s->narenas];
		memset(ar, 0, sizeof(*ar));
		s->narenas++;
		uint64_t next = 0;
		int r = read_arena(w, addr, k == 0, tries, s, ar, &next);
		if (r < 0)
			return r;
		if (ar->approximate)
			s->approximate = true;
		add_mi(&s->total, &ar->mi);
		s->trimmable += ar->trimmable;
		if (next == 0 && k == 0)
			break; /* malloc was never used: main_arena is still all zeros */
		if (next == sy->main_arena)
			break;
		bool seen = false;
		for (size_t i = 0; i < s->narenas; i++)
			seen |= s->arenas[i].addr == next;
		if (seen || !map_of(w, next)) {
			s->arenas_truncated = true;
			s->approximate = true;
			break;
		}
		addr = next;
	}
	/* mallinfo2: hblks and hblkhd come from mp_, counted once, with the main arena */
	struct ct_mallinfo *m0 = &s->arenas[0].mi;
	m0->hblks = get_word(mpb, l->mp[MP_N_MMAPS].off, l->mp[MP_N_MMAPS].size);
	m0->hblkhd = get_word(mpb, l->mp[MP_MMAPPED_MEM].off, l->mp[MP_MMAPPED_MEM].size);
	if (l->mp[MP_N_MMAPS].size == 4)
		m0->hblks = (uint64_t)(int64_t)(int32_t)m0->hblks;
	s->total.hblks = m0->hblks;
	s->total.hblkhd = m0->hblkhd;
	return 0;
}

struct ct_glibc_reader {
	struct ct_memsrc mem;
	struct layout l;
	struct syms sy;
	char *libc, *debug_file;
	uint64_t layout_ns;
	bool cached;  /* the layout came from the cache, not from DWARF this time */
};

int ct_glibc_open(const struct ct_memsrc *mem, struct ct_symbolizer *sym, struct ct_glibc_reader **ret,
		  char **ret_why)
{
	*ret_why = NULL;
	uint64_t t0 = ct_now_ns();
	struct find_ctx f = { NULL, NULL };
	dwfl_getmodules(ct_sym_dwfl(sym), find_libc_cb, &f, 0);
	if (!f.mod) {
		*ret_why = ct_strf("no libc.so.6 is mapped; glibc's malloc arenas are not there to read");
		return -ENOENT;
	}
	struct ct_glibc_reader *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->mem = *mem;
	find_syms(f.mod, &g->sy);
	if (!g->sy.main_arena || !g->sy.mp) {
		*ret_why = ct_strf("%s has no symbols main_arena and mp_ (its debug information is missing); install "
				"libc6-dbg (apt-get install libc6-dbg) and run again", f.name);
		free(g);
		return -CT_ENODEBUG;
	}
	int r = 0;
	g->cached = cache_load(f.mod, &g->l) == 0;
	if (!g->cached) {
		r = learn_layout(f.mod, &g->sy, &g->l, ret_why);
		if (r < 0) {
			free(g);
			return r;
		}
		cache_store(f.mod, &g->l);
	}
	g->l.safe_linking = g->sy.glibc_2_32;
	const char *mainfile = NULL, *debugfile = NULL;
	dwfl_module_info(f.mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	g->libc = strdup(f.name);
	g->debug_file = ct_strdup(debugfile);
	if (!g->libc || (debugfile && !g->debug_file)) {
		ct_glibc_close(g);
		return -ENOMEM;
	}
	g->layout_ns = ct_now_ns() - t0;
	*ret = g;
	return 0;
}

void ct_glibc_close(struct ct_glibc_reader *g)
{
	if (!g)
		return;
	free(g->libc);
	free(g->debug_file);
	free(g);
}

int ct_glibc_walk(struct ct_glibc_reader *g, const struct ct_smaps_entry *maps, size_t nmaps,
		  const struct ct_glibc_opts *o, struct ct_glibc_stats **ret, char **ret_why)
{
	*ret_why = NULL;
	struct ct_glibc_stats *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->libc = strdup(g->libc);
	s->debug_file = ct_strdup(g->debug_file);
	s->layout_ns = g->layout_ns;
	s->layout_cached = g->cached;
	struct walker w;
	memset(&w, 0, sizeof(w));
	w.mem = &g->mem;
	w.l = &g->l;
	w.maps = maps;
	w.nmaps = nmaps;
	w.budget = o && o->max_chunks ? o->max_chunks : 50000000;
	long ps = sysconf(_SC_PAGESIZE);
	w.pagesize = ps > 0 ? (size_t)ps : 4096;
	w.npages = CACHE_PAGES;
	w.tags = calloc(w.npages, sizeof(*w.tags));
	w.pages = malloc(w.npages * CACHE_PAGE);
	int r;
	if (!s->libc || !w.tags || !w.pages) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t t1 = ct_now_ns();
	r = walk_all(&w, &g->sy, o, s);
	s->walk_ns = ct_now_ns() - t1;
out:
	free(w.tags);
	free(w.pages);
	if (r < 0) {
		if (r == -ESRCH)
			*ret_why = ct_strf("the process exited while its arenas were read");
		else if (r == -EPERM || r == -EACCES)
			*ret_why = ct_strf("reading the process's memory was refused (process_vm_readv: %s)", ct_strerror(r));
		else
			*ret_why = ct_strf("malloc's arenas could not be read: %s", ct_strerror(r));
		ct_glibc_stats_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ct_glibc_read(pid_t pid, struct ct_symbolizer *sym, const struct ct_smaps_entry *maps, size_t nmaps,
		  const struct ct_glibc_opts *o, struct ct_glibc_stats **ret, char **ret_why)
{
	struct ct_glibc_reader *g = NULL;
	struct ct_memsrc mem = ct_memsrc_live(pid);
	int r = ct_glibc_open(&mem, sym, &g, ret_why);
	if (r < 0)
		return r;
	r = ct_glibc_walk(g, maps, nmaps, o, ret, ret_why);
	ct_glibc_close(g);
	return r;
}

void ct_glibc_stats_free(struct ct_glibc_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->narenas; i++)
		free(s->arenas[i].problem);
	free(s->arenas);
	free(s->heap_ranges);
	free(s->libc);
	free(s->debug_file);
	free(s);
}
