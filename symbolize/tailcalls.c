/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/tailcalls.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

/* Name of the function a call site calls (DW_AT_call_origin, or DW_AT_abstract_origin for the GNU
 * DWARF 4 extension), or NULL for an indirect call. */
static Dwarf_Die *call_origin(Dwarf_Die *site, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	if (dwarf_attr(site, DW_AT_call_origin, &a) || dwarf_attr(site, DW_AT_abstract_origin, &a))
		return dwarf_formref_die(&a, ret);
	return NULL;
}

static bool site_return_pc(Dwarf_Die *site, Dwarf_Addr *ret)
{
	Dwarf_Attribute a;
	if (dwarf_attr(site, DW_AT_call_return_pc, &a))
		return dwarf_formaddr(&a, ret) == 0;
	return dwarf_lowpc(site, ret) == 0; /* DW_TAG_GNU_call_site */
}

static bool is_call_site(Dwarf_Die *d)
{
	int tag = dwarf_tag(d);
	return tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site;
}

static bool is_tail_call(Dwarf_Die *d)
{
	return dwarf_hasattr(d, DW_AT_call_tail_call) || dwarf_hasattr(d, DW_AT_GNU_tail_call);
}

typedef bool (*site_fn)(Dwarf_Die *site, void *arg);

/* Visits the call sites under a function's DIE (inlined bodies and blocks included), bounded. */
static bool walk_sites(Dwarf_Die *die, site_fn fn, void *arg, int depth, unsigned *budget)
{
	Dwarf_Die child;
	if (depth > 16 || dwarf_child(die, &child) != 0)
		return false;
	do {
		if (!(*budget)--)
			return false;
		if (is_call_site(&child)) {
			if (fn(&child, arg))
				return true;
		} else if (dwarf_haschildren(&child) && walk_sites(&child, fn, arg, depth + 1, budget)) {
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

struct find_ret {
	Dwarf_Addr ret_pc;
	Dwarf_Die site;
};

static bool match_ret(Dwarf_Die *site, void *arg)
{
	struct find_ret *f = arg;
	Dwarf_Addr r;
	if (site_return_pc(site, &r) && r == f->ret_pc) {
		f->site = *site;
		return true;
	}
	return false;
}

struct tail_sites {
	Dwarf_Die site[16];
	int n;
};

static bool collect_tail(Dwarf_Die *site, void *arg)
{
	struct tail_sites *ts = arg;
	if (!is_tail_call(site))
		return false;
	if (ts->n == 16)
		return true;
	ts->site[ts->n++] = *site;
	return false;
}

/* The subprogram DIE holding a module-relative DWARF address (behind lexical blocks and inlines). */
static bool subprogram_at(struct ct_symindex *x, Dwfl_Module *mod, uint64_t pc, Dwarf_Die *ret,
			  Dwarf_Addr *ret_bias)
{
	Dwarf_Die fb, *cu = dwfl_module_addrdie(mod, pc, ret_bias);
	if (!cu && ct_symindex_cu(x, mod, pc, &fb, ret_bias))
		cu = &fb;
	if (!cu || dwarf_srclang(cu) == DW_LANG_Mips_Assembler || ct_dwz_missing(cu))
		return false;
	Dwarf_Die *scopes = NULL;
	int n = ct_symindex_getscopes(x, cu, pc - *ret_bias, &scopes);
	bool ok = false;
	for (int i = 0; i < n && !ok; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Die *chain = NULL;
			int nc = ct_symindex_getscopes_die(x, &scopes[i], &chain);
			for (int j = 0; j < nc && !ok; j++)
				if (dwarf_tag(&chain[j]) == DW_TAG_subprogram) {
					*ret = chain[j];
					ok = true;
				}
			free(chain);
			break;
		}
		if (tag == DW_TAG_subprogram) {
			*ret = scopes[i];
			ok = true;
		}
	}
	free(scopes);
	return ok;
}

/* The function a call site's origin names, as a definition with code: the origin itself, or the
 * module's function of that name (a declaration points to no code). */
static bool origin_definition(struct ct_symindex *x, Dwfl_Module *mod, Dwarf_Die *origin, Dwarf_Die *ret,
			      Dwarf_Addr *ret_bias)
{
	Dwarf_Addr low;
	if (dwarf_lowpc(origin, &low) == 0) {
		Dwarf_Addr bias;
		if (!dwfl_module_getdwarf(mod, &bias))
			return false;
		*ret = *origin;
		*ret_bias = bias;
		return true;
	}
	const char *name = ct_die_name(origin);
	uint64_t addr;
	return name && ct_symindex_addr_of(x, mod, name, &addr) && subprogram_at(x, mod, addr, ret, ret_bias);
}

struct tail_path {
	const char *callee;
	Dwfl_Module *mod;
	uint64_t pcs[CT_TAILCALL_DEPTH]; /* return pcs of the tail-call sites, outermost first */
	int depth;
	int npaths;                       /* paths found; more than one is ambiguous */
	uint64_t best[CT_TAILCALL_DEPTH];
	int nbest;
	unsigned budget;
};

/* Depth-first over the tail calls of fn (a definition), counting the paths that end at the callee. */
static void tail_search(struct ct_symindex *x, struct tail_path *tp, Dwarf_Die *fn, Dwarf_Addr bias)
{
	if (tp->depth >= CT_TAILCALL_DEPTH || tp->npaths > 1)
		return;
	struct tail_sites ts = { .n = 0 };
	walk_sites(fn, collect_tail, &ts, 0, &tp->budget);
	for (int i = 0; i < ts.n && tp->npaths <= 1; i++) {
		Dwarf_Die o, def;
		Dwarf_Addr r, dbias;
		const char *name;
		if (!call_origin(&ts.site[i], &o) || !(name = ct_die_name(&o)) || !site_return_pc(&ts.site[i], &r))
			continue;
		tp->pcs[tp->depth] = r + bias;
		if (strcmp(name, tp->callee) == 0) {
			if (++tp->npaths == 1) {
				memcpy(tp->best, tp->pcs, sizeof(tp->best));
				tp->nbest = tp->depth + 1;
			}
			continue;
		}
		if (!origin_definition(x, tp->mod, &o, &def, &dbias))
			continue;
		tp->depth++;
		tail_search(x, tp, &def, dbias);
		tp->depth--;
	}
}

int ct_tailcalls_infer(Dwfl *dwfl, struct ct_symindex *x, uint64_t callee_pc, bool callee_activation,
		       uint64_t caller_pc, uint64_t ret_pcs[CT_TAILCALL_DEPTH])
{
	uint64_t cpc = callee_activation || callee_pc == 0 ? callee_pc : callee_pc - 1;
	if (caller_pc == 0)
		return 0;
	Dwfl_Module *cmod = dwfl_addrmodule(dwfl, cpc), *mod = dwfl_addrmodule(dwfl, caller_pc - 1);
	if (!cmod || cmod != mod) /* a tail call into another module goes through the PLT: not inferred */
		return 0;
	Dwarf_Die callee, caller, target, origin;
	Dwarf_Addr bias, tbias;
	const char *callee_name, *called;
	if (!subprogram_at(x, cmod, cpc, &callee, &bias) || !(callee_name = ct_die_name(&callee)) ||
	    !subprogram_at(x, mod, caller_pc - 1, &caller, &bias))
		return 0;
	/* the call the caller made, found by its return address */
	struct find_ret fr = { .ret_pc = caller_pc - bias };
	unsigned budget = 100000;
	if (!walk_sites(&caller, match_ret, &fr, 0, &budget) || !call_origin(&fr.site, &origin) ||
	    !(called = ct_die_name(&origin)) || strcmp(called, callee_name) == 0)
		return 0; /* unknown, indirect, or the callee itself: no tail call in between */
	if (!origin_definition(x, mod, &origin, &target, &tbias))
		return 0;
	struct tail_path tp = { .callee = callee_name, .mod = mod, .budget = 200000 };
	tail_search(x, &tp, &target, tbias);
	if (tp.npaths != 1)
		return 0; /* none, or ambiguous: gdb shows nothing then either */
	/* the function the caller called holds the outermost site: innermost first, as frames go */
	for (int i = 0; i < tp.nbest; i++)
		ret_pcs[i] = tp.best[tp.nbest - 1 - i];
	return tp.nbest;
}
