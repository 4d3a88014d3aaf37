/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/inlines.h"

#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/symbolizer.h"
#include "lib/util.h"
#include "lib/banned.h"

struct alias {
	uint64_t addr;
	const char *name; /* in libelf's string table; lives as long as the Dwfl */
	size_t len;       /* without "@VERSION" */
};

struct ct_alias_index {
	Dwfl_Module *mod;
	struct alias *v;
	size_t n;
};

struct cu_range {
	uint64_t low, high; /* [low, high) in the DWARF's addresses */
	Dwarf_Off off;      /* of the CU DIE */
};

/* For DWARF without .debug_aranges (Go): which CU covers an address, from the CUs' own ranges. */
struct ct_cu_index {
	Dwfl_Module *mod;
	struct cu_range *v;
	size_t n;
};

/* One remembered scope list: of the pc addr in the CU at off (die false), or of the DIE at off. */
struct ct_scopes_memo {
	Dwarf *dw;
	Dwarf_Off off;
	Dwarf_Addr addr;
	bool die;
	int n;            /* what libdw returned: the count, or -1 */
	Dwarf_Die *v;
};

#define CT_SCOPES_MEMO 256

static struct ct_scopes_memo *memo_find(struct ct_symindex *x, Dwarf *dw, Dwarf_Off off, Dwarf_Addr addr, bool die)
{
	for (size_t i = 0; i < x->nmemo; i++) {
		struct ct_scopes_memo *m = &x->memo[i];
		if (m->dw == dw && m->off == off && m->addr == addr && m->die == die)
			return m;
	}
	return NULL;
}

/* The caller's own copy of a remembered list (n as libdw returned it), or -1 without memory. */
static int memo_copy(const struct ct_scopes_memo *m, Dwarf_Die **ret)
{
	*ret = NULL;
	if (m->n <= 0)
		return m->n;
	*ret = malloc((size_t)m->n * sizeof(**ret));
	if (!*ret)
		return -1;
	memcpy(*ret, m->v, (size_t)m->n * sizeof(**ret));
	return m->n;
}

static void memo_put(struct ct_symindex *x, Dwarf *dw, Dwarf_Off off, Dwarf_Addr addr, bool die, int n,
		     const Dwarf_Die *v)
{
	if (!x->memo && !(x->memo = calloc(CT_SCOPES_MEMO, sizeof(*x->memo))))
		return;
	Dwarf_Die *copy = NULL;
	if (n > 0 && !(copy = malloc((size_t)n * sizeof(*copy))))
		return;
	if (n > 0)
		memcpy(copy, v, (size_t)n * sizeof(*copy));
	struct ct_scopes_memo *m;
	if (x->nmemo < CT_SCOPES_MEMO) {
		m = &x->memo[x->nmemo++];
	} else { /* the oldest goes */
		m = &x->memo[x->next_memo];
		x->next_memo = (x->next_memo + 1) % CT_SCOPES_MEMO;
		free(m->v);
	}
	*m = (struct ct_scopes_memo){ dw, off, addr, die, n, copy };
}

static int getscopes(struct ct_symindex *x, Dwarf_Die *d, Dwarf_Addr addr, bool die, Dwarf_Die **ret)
{
	Dwarf *dw = dwarf_cu_getdwarf(d->cu);
	Dwarf_Off off = dwarf_dieoffset(d);
	struct ct_scopes_memo *m = dw && off != (Dwarf_Off)-1 ? memo_find(x, dw, off, addr, die) : NULL;
	if (m)
		return memo_copy(m, ret);
	int n = die ? dwarf_getscopes_die(d, ret) : dwarf_getscopes(d, addr, ret);
	if (dw && off != (Dwarf_Off)-1)
		memo_put(x, dw, off, addr, die, n, *ret);
	return n;
}

int ct_symindex_getscopes(struct ct_symindex *x, Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die **ret)
{
	return getscopes(x, cu, addr, false, ret);
}

int ct_symindex_getscopes_die(struct ct_symindex *x, Dwarf_Die *die, Dwarf_Die **ret)
{
	return getscopes(x, die, 0, true, ret);
}

const char *ct_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	return name;
}

/* Whether die's DWARF refers to a dwz file that was not found. Its inline records then point into
 * the missing file, and libdw's dwarf_getscopes, unable to reach an inlined function's origin,
 * drops its array without freeing it (fuzz_elf found the leak): such frames are named by the
 * module's symbols instead. */
bool ct_dwz_missing(Dwarf_Die *die)
{
	Dwarf *dw = die ? dwarf_cu_getdwarf(die->cu) : NULL;
	const char *name;
	const void *id;
	return dw && dwelf_dwarf_gnu_debugaltlink(dw, &name, &id) > 0 && !dwarf_getalt(dw);
}

static int cmp_alias(const void *a, const void *b)
{
	const struct alias *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	int c = strncmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

#define CT_MAX_SYMBOLS (4u << 20)

static struct ct_alias_index *alias_index(struct ct_symindex *s, Dwfl_Module *mod)
{
	for (size_t i = 0; i < s->naliases; i++)
		if (s->aliases[i].mod == mod)
			return &s->aliases[i];
	if (ct_grow(&s->aliases, &s->cap_aliases, s->naliases + 1, sizeof(*s->aliases)) < 0)
		return NULL;
	struct ct_alias_index *ix = &s->aliases[s->naliases++];
	memset(ix, 0, sizeof(*ix));
	ix->mod = mod;
	int n = dwfl_module_getsymtab(mod);
	if (n <= 0 || (unsigned)n > CT_MAX_SYMBOLS || !(ix->v = calloc((size_t)n, sizeof(*ix->v))))
		return ix;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		const char *at = strchr(name, '@');
		ix->v[ix->n++] = (struct alias){ addr, name, at && at != name ? (size_t)(at - name) : strlen(name) };
	}
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_alias);
	return ix;
}

bool ct_symindex_addr_of(struct ct_symindex *s, Dwfl_Module *mod, const char *name, uint64_t *ret_addr)
{
	struct ct_alias_index *ix = alias_index(s, mod);
	if (!ix)
		return false;
	size_t len = strlen(name);
	for (size_t i = 0; i < ix->n; i++)
		if (ix->v[i].len == len && strncmp(ix->v[i].name, name, len) == 0) {
			*ret_addr = ix->v[i].addr;
			return true;
		}
	return false;
}

const char *ct_symindex_gdb_alias(struct ct_symindex *s, Dwfl_Module *mod, uint64_t addr, const char *sym)
{
	struct ct_alias_index *ix = alias_index(s, mod);
	if (!ix || !ix->n)
		return sym;
	size_t lo = 0, hi = ix->n;
	while (lo < hi) { /* first entry with addr > the symbol's */
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ix->v[lo - 1].addr != addr)
		return sym;
	return ix->v[lo - 1].name;
}

static int cmp_cu_range(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	return x->low < y->low ? -1 : x->low > y->low;
}

#define CT_MAX_CU_RANGES (1u << 20)

static struct ct_cu_index *cu_index(struct ct_symindex *s, Dwfl_Module *mod, Dwarf *dw)
{
	for (size_t i = 0; i < s->ncuix; i++)
		if (s->cuix[i].mod == mod)
			return &s->cuix[i];
	if (ct_grow(&s->cuix, &s->cap_cuix, s->ncuix + 1, sizeof(*s->cuix)) < 0)
		return NULL;
	struct ct_cu_index *ix = &s->cuix[s->ncuix++];
	memset(ix, 0, sizeof(*ix));
	ix->mod = mod;
	size_t cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw, off + hsize, &cu)) {
			Dwarf_Addr base, start, end;
			ptrdiff_t it = 0;
			while ((it = dwarf_ranges(&cu, it, &base, &start, &end)) > 0 && ix->n < CT_MAX_CU_RANGES) {
				if (start >= end || ct_grow(&ix->v, &cap, ix->n + 1, sizeof(*ix->v)) < 0)
					continue;
				ix->v[ix->n++] = (struct cu_range){ start, end, off + hsize };
			}
		}
		off = next;
	}
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_cu_range);
	return ix;
}

bool ct_symindex_cu(struct ct_symindex *s, Dwfl_Module *mod, uint64_t pc, Dwarf_Die *ret, Dwarf_Addr *ret_bias)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	if (!dw)
		return false;
	struct ct_cu_index *ix = cu_index(s, mod, dw);
	if (!ix || !ix->n || pc < bias)
		return false;
	uint64_t a = pc - bias;
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].low <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges of different CUs do not nest; look back a little for the one that holds a */
	for (size_t i = lo, k = 0; i > 0 && k < 64; i--, k++) {
		const struct cu_range *r = &ix->v[i - 1];
		if (a >= r->low && a < r->high) {
			*ret_bias = bias;
			return dwarf_offdie(dw, r->off, ret) != NULL;
		}
	}
	return false;
}

void ct_symindex_free(struct ct_symindex *x)
{
	for (size_t i = 0; i < x->naliases; i++)
		free(x->aliases[i].v);
	for (size_t i = 0; i < x->ncuix; i++)
		free(x->cuix[i].v);
	free(x->cuix);
	free(x->aliases);
	for (size_t i = 0; i < x->nmemo; i++)
		free(x->memo[i].v);
	free(x->memo);
	memset(x, 0, sizeof(*x));
}

void ct_scopes_at(struct ct_symindex *x, Dwfl_Module *mod, uint64_t pc, uint64_t pc_adj, bool have_sym,
		  const char **file, int *line, uint64_t *symoff, struct ct_scopes *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->cudie = dwfl_module_addrdie(mod, pc_adj, &ret->bias);
	if (!ret->cudie && ct_symindex_cu(x, mod, pc_adj, &ret->cu, &ret->bias)) {
		/* no .debug_aranges (Go): the CU from its ranges, the line from its table */
		ret->cudie = &ret->cu;
		Dwarf_Line *dl = dwarf_getsrc_die(ret->cudie, pc_adj - ret->bias);
		if (dl && !*file) {
			*file = dwarf_linesrc(dl, NULL, NULL);
			dwarf_lineno(dl, line);
		}
	}
	if (ret->cudie && !ct_dwz_missing(ret->cudie))
		ret->nscopes = ct_symindex_getscopes(x, ret->cudie, pc_adj - ret->bias, &ret->scopes);
	else
		ret->unread = true;
	/* The innermost inlined instance, behind any lexical blocks (glibc's are). Past it, dwarf_getscopes
	 * follows the inlined function's own definition, so the call chain comes from
	 * dwarf_getscopes_die, as in eu-addr2line -i. */
	for (int i = 0; i < ret->nscopes; i++) {
		int tag = dwarf_tag(&ret->scopes[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			ret->nchain = ct_symindex_getscopes_die(x, &ret->scopes[i], &ret->chain);
			break;
		}
		if (tag == DW_TAG_subprogram)
			break;
	}
	Dwarf_Die *outer = ret->nchain > 0 ? ret->chain : ret->scopes; /* where the containing subprogram is */
	int nouter = ret->nchain > 0 ? ret->nchain : ret->nscopes;
	/* gdb names code from assembler sources by its ELF symbols (clone3, not __clone3) */
	if (ret->cudie && dwarf_srclang(ret->cudie) == DW_LANG_Mips_Assembler)
		nouter = 0;
	for (int i = 0; i < nouter; i++) {
		if (dwarf_tag(&outer[i]) == DW_TAG_subprogram) {
			Dwarf_Addr low;
			ret->dwname = ct_die_name(&outer[i]);
			if (ret->dwname && !have_sym && dwarf_lowpc(&outer[i], &low) == 0 && pc_adj - ret->bias >= low)
				*symoff = pc - ret->bias - low;
			break;
		}
	}
}

void ct_scopes_free(struct ct_scopes *sc)
{
	free(sc->chain);
	free(sc->scopes);
	sc->chain = sc->scopes = NULL;
	sc->nchain = sc->nscopes = 0;
}

static int set_name(const struct ct_frame_proto *p, char **dst, const char *raw)
{
	if (!raw)
		return 0;
	*dst = ct_sym_display_name(raw, p->demangle);
	return *dst ? 0 : -ENOMEM;
}

static int set_str(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static struct ct_frame *new_frame(struct ct_thread *t, const struct ct_frame_proto *p)
{
	struct ct_frame *f = ct_thread_add_frame(t);
	if (!f)
		return NULL;
	f->pc = p->pc;
	f->deleted = p->deleted;
	if (p->module && !(f->module = strndup(p->module, p->module_len))) {
		t->nframes--;
		return NULL;
	}
	return f;
}

struct ct_frame *ct_frame_add(struct ct_thread *t, const struct ct_frame_proto *p, const char *raw,
			      const char *file)
{
	struct ct_frame *f = new_frame(t, p);
	if (!f || set_name(p, &f->function, raw) < 0 || set_str(&f->file, file) < 0)
		return NULL;
	return f;
}

/* Emits the inline chain for the DIE scopes at pc (as eu-stack does): scopes[0] is the innermost
 * inlined call, with the line table's location; each outer one gets the call site of the one inside. */
int ct_inline_frames(struct ct_thread *t, const struct ct_frame_proto *p, const struct ct_scopes *sc,
		     const char *symname, uint64_t symoff, const char *file, int line)
{
	Dwarf_Die *scopes = sc->chain;
	int nscopes = sc->nchain;
	struct ct_frame *f = ct_frame_add(t, p, ct_die_name(&scopes[0]), file);
	if (!f)
		return -ENOMEM;
	f->line = line;
	f->inlined = true;
	int n = 1;
	Dwarf_Files *files = NULL;
	(void)dwarf_getsrcfiles(sc->cudie, &files, NULL);
	Dwarf_Die *last = &scopes[0];
	for (int i = 1; i < nscopes && n < 64; i++) {
		Dwarf_Die *scope = &scopes[i];
		int tag = dwarf_tag(scope);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram && tag != DW_TAG_entry_point)
			continue;
		f = new_frame(t, p);
		if (!f)
			return -ENOMEM;
		n++;
		/* gdb names a function by its DWARF subprogram (__lll_lock_wait, not __GI___lll_lock_wait) */
		const char *name = ct_die_name(scope);
		if (!name)
			name = symname;
		if (set_name(p, &f->function, name) < 0)
			return -ENOMEM;
		Dwarf_Attribute attr;
		Dwarf_Word val;
		if (files && dwarf_formudata(dwarf_attr(last, DW_AT_call_file, &attr), &val) == 0) {
			if (set_str(&f->file, dwarf_filesrc(files, val, NULL, NULL)) < 0)
				return -ENOMEM;
			if (dwarf_formudata(dwarf_attr(last, DW_AT_call_line, &attr), &val) == 0)
				f->line = (int)val;
		}
		if (tag == DW_TAG_subprogram) {
			f->offset = symoff;
			break;
		}
		f->inlined = true;
		last = scope;
	}
	return n;
}
