/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libunwind backend: a remote address space whose accessors serve the capture. Unwind tables are
 * found by libunwind-ptrace's _UPT_find_proc_info, which reads /proc/PID/maps and the ELF files and
 * never calls ptrace itself; memory and registers come from our accessors only.
 * libunwind is loaded with dlopen() when this unwinder is first asked for (--unwinder libunwind),
 * not linked: every other run of ctrace would map its four libraries (libunwind-ptrace,
 * libunwind-x86_64, libunwind, liblzma) at start for nothing. */
#include <dlfcn.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/unwind.h"
#include "lib/util.h"
#include "lib/banned.h"

/* Mutable file-scope state, forced by libunwind's interface (docs/ARCHITECTURE.md lists every such
 * piece): _UPT_find_proc_info hands its own argument (libunwind's ptrace helper) to
 * our accessors, so they cannot be given the unwinder through it, and libunwind has no user data on
 * an address space. The capture being unwound is reached through this pointer, set only for the
 * length of one lu_unwind(); unwinding is single-threaded. */
static struct ct_unwinder *current;

/* libunwind's entry points, from dlopen: unw_* are macros naming the architecture's symbols
 * (_Ux86_64_init_remote…), which LU_NAME spells out. Filled once, then read only. */
#define LU_STR(f) #f
#define LU_NAME(f) LU_STR(f)
static struct {
	bool tried, ok;
	__typeof__(&_UPT_find_proc_info) find_proc_info;
	__typeof__(&_UPT_put_unwind_info) put_unwind_info;
	__typeof__(&_UPT_create) upt_create;
	__typeof__(&_UPT_destroy) upt_destroy;
	__typeof__(&unw_create_addr_space) create_addr_space;
	__typeof__(&unw_destroy_addr_space) destroy_addr_space;
	__typeof__(&unw_set_caching_policy) set_caching_policy;
	__typeof__(&unw_init_remote) init_remote;
	__typeof__(&unw_get_reg) get_reg;
	__typeof__(&unw_is_signal_frame) is_signal_frame;
	__typeof__(&unw_step) step;
	__typeof__(&unw_strerror) strerror;
} lu;

static int lu_load(void)
{
	if (lu.tried)
		return lu.ok ? 0 : -ENOENT;
	lu.tried = true;
	/* libunwind-ptrace calls libunwind-x86_64 without naming it as a dependency (Debian's 1.6: it
	 * counts on the program linking both), so that one is loaded first, for everyone */
	void *arch = dlopen("libunwind-x86_64.so.8", RTLD_NOW | RTLD_GLOBAL);
	void *h = arch ? dlopen("libunwind-ptrace.so.0", RTLD_NOW | RTLD_GLOBAL) : NULL;
	if (!h) {
		if (arch)
			dlclose(arch);
		return -ENOENT;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&lu.find_proc_info, "_UPT_find_proc_info" },
		{ (void **)&lu.put_unwind_info, "_UPT_put_unwind_info" },
		{ (void **)&lu.upt_create, "_UPT_create" },
		{ (void **)&lu.upt_destroy, "_UPT_destroy" },
		{ (void **)&lu.create_addr_space, LU_NAME(unw_create_addr_space) },
		{ (void **)&lu.destroy_addr_space, LU_NAME(unw_destroy_addr_space) },
		{ (void **)&lu.set_caching_policy, LU_NAME(unw_set_caching_policy) },
		{ (void **)&lu.init_remote, LU_NAME(unw_init_remote) },
		{ (void **)&lu.get_reg, LU_NAME(unw_get_reg) },
		{ (void **)&lu.is_signal_frame, LU_NAME(unw_is_signal_frame) },
		{ (void **)&lu.step, LU_NAME(unw_step) },
		{ (void **)&lu.strerror, LU_NAME(unw_strerror) },
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(syms); i++)
		if (!(*syms[i].slot = dlsym(h, syms[i].name)) && !(*syms[i].slot = dlsym(arch, syms[i].name))) {
			dlclose(h);
			dlclose(arch);
			return -ENOENT;
		}
	lu.ok = true; /* the handle stays open: the functions are used until ctrace exits */
	return 0;
}

struct lu_priv {
	unw_addr_space_t as;
	void *upt;
	pid_t upt_tid;
};

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
	return lu.find_proc_info(as, ip, pi, need, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	lu.put_unwind_info(as, pi, arg);
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	(void)as;
	(void)arg;
	if (write || !current)
		return -UNW_EINVAL;
	uint64_t v;
	if (ct_capture_read(current->cur, &current->mem, addr, &v, sizeof(v)) < 0)
		return -UNW_EINVAL;
	*val = v;
	return 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	(void)as;
	(void)arg;
	if (write || !current || reg < 0 || reg >= CT_NREGS)
		return -UNW_EBADREG;
	const struct ct_capture *c = current->cur;
	if (!(c->regs_valid & (1u << reg)))
		return -UNW_EBADREG;
	*val = c->regs[reg];
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = NULL,
};

static int lu_init(struct ct_unwinder *u)
{
	int r = lu_load();
	if (r < 0)
		return r;
	struct lu_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->as = lu.create_addr_space(&accessors, 0);
	if (!p->as) {
		free(p);
		return -ENOMEM;
	}
	lu.set_caching_policy(p->as, UNW_CACHE_GLOBAL);
	u->priv = p;
	return 0;
}

static int lu_unwind(struct ct_unwinder *u, const struct ct_capture *c, struct ct_upc *out, size_t max,
		     char **ret_err)
{
	struct lu_priv *p = u->priv;
	if (!p->upt) {
		/* the maps of the process are the same for every thread: one UPT serves them all */
		p->upt = lu.upt_create(u->pid);
		if (!p->upt)
			return -ENOMEM;
		p->upt_tid = c->tid;
	}
	current = u;
	unw_cursor_t cur;
	int r = lu.init_remote(&cur, p->as, p->upt);
	size_t n = 0;
	if (r < 0) {
		current = NULL;
		*ret_err = ct_strdup(lu.strerror(r));
		return 0;
	}
	bool activation = true;
	uint64_t last_pc = 0, last_sp = 0;
	unsigned repeats = 0;
	while (n < max) {
		unw_word_t ip, sp;
		if (lu.get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		uint64_t fsp = lu.get_reg(&cur, UNW_REG_SP, &sp) == 0 ? sp : 0;
		/* no progress: the same pc, the stack pointer not moving up (a recursion moves it) */
		bool same = n > 0 && ip == last_pc && fsp <= last_sp;
		if (same && ++repeats >= 16) {
			*ret_err = ct_strdup("the unwind repeated a frame without progress (a loop in the CFI)");
			break;
		}
		if (!same)
			repeats = 0;
		last_pc = ip;
		last_sp = fsp;
		out[n].pc = ip;
		out[n].activation = activation;
		out[n].sp = fsp;
		n++;
		activation = lu.is_signal_frame(&cur) > 0;
		r = lu.step(&cur);
		if (r <= 0) {
			if (r < 0)
				*ret_err = ct_strdup(lu.strerror(r));
			break;
		}
	}
	current = NULL;
	return (int)n;
}

static void lu_fini(struct ct_unwinder *u)
{
	struct lu_priv *p = u->priv;
	if (!p)
		return;
	if (p->upt)
		lu.upt_destroy(p->upt);
	lu.destroy_addr_space(p->as);
	free(p);
}

const struct ct_unwind_ops ct_unwind_libunwind_ops = {
	.name = "libunwind",
	.init = lu_init,
	.unwind = lu_unwind,
	.fini = lu_fini,
};
