/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lock owners: for threads blocked in a glibc pthread mutex, the mutex address and its owner's tid,
 * read from the running target after the capture (or from a core's memory). The layout of the mutex comes from
 * libc's DWARF (the "mutex" parameter of pthread_mutex_lock), never from a guessed offset. */
#include "process/locks.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "analyze/threads.h"
#include "layout/dwtype.h"
#include "lib/capture.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/banned.h"

/* pthread_mutex_t is a few words; an offset beyond this is not one. */
#define MAX_MUTEX_OFFSET 4096

static const char *const mutex_lock_functions[] = {
	"*pthread_mutex_lock*", "*pthread_mutex_timedlock*", "*pthread_mutex_clocklock*",
	"*pthread_mutex_cond_lock*",
};

static bool is_mutex_lock_function(const char *fn)
{
	for (size_t i = 0; fn && i < CT_ARRAY_SIZE(mutex_lock_functions); i++)
		if (fnmatch(mutex_lock_functions[i], fn, 0) == 0)
			return true;
	return false;
}

/* The layout from the parameter "mutex" (pthread_mutex_t *) of a subprogram in scope. */
static int layout_from_scopes(Dwarf_Die *scopes, int nscopes, struct ct_mutex_layout *l)
{
	for (int s = 0; s < nscopes; s++) {
		int tag = dwarf_tag(&scopes[s]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		Dwarf_Die child;
		if (dwarf_child(&scopes[s], &child) != 0)
			continue;
		int n = 0;
		do {
			if (dwarf_tag(&child) != DW_TAG_formal_parameter)
				continue;
			const char *pn = dwarf_diename(&child);
			Dwarf_Die type;
			size_t lock_off, owner_off;
			if (!pn || strcmp(pn, "mutex") != 0 || ct_dwtype_of(&child, &type) < 0 ||
			    ct_dwtype_strip(&type, true, &type) < 0)
				continue;
			if (ct_dwtype_path(&type, "__data.__lock", &lock_off, NULL) < 0 ||
			    ct_dwtype_path(&type, "__data.__owner", &owner_off, NULL) < 0 ||
			    lock_off > MAX_MUTEX_OFFSET || owner_off > MAX_MUTEX_OFFSET)
				continue;
			l->lock_off = lock_off;
			l->owner_off = owner_off;
			l->known = true;
			return 0;
		} while (++n < CT_DWTYPE_MAX_MEMBERS && dwarf_siblingof(&child, &child) == 0);
	}
	return -CT_ENODEBUG;
}

static int find_layout(Dwfl *dwfl, uint64_t pc, struct ct_mutex_layout *l)
{
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, pc) : NULL;
	if (!mod)
		return -ENOENT;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
	if (!cu)
		return -CT_ENODEBUG;
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, pc - bias, &scopes);
	int r = n > 0 ? layout_from_scopes(scopes, n, l) : -CT_ENODEBUG;
	free(scopes);
	return r;
}

static void say_why(struct ct_mutex_layout *l, int err, const char *module)
{
	if (l->why)
		return;
	struct ct_buf b = CT_BUF_INIT;
	if (err == -CT_ENODEBUG)
		ct_buf_printf(&b, "%s has no usable debug information for pthread_mutex_t (install its debug "
			      "symbols, e.g. libc6-dbg); mutex owners are not shown", module ? module : "libc");
	else
		ct_buf_printf(&b, "cannot find the layout of pthread_mutex_t (%s); mutex owners are not shown",
			      ct_strerror(err));
	l->why = ct_buf_steal(&b);
}

void ct_mutex_layout_clear(struct ct_mutex_layout *l)
{
	free(l->why);
	memset(l, 0, sizeof(*l));
}

int ct_locks_fill(Dwfl *dwfl, struct ct_mutex_layout *l, const struct ct_memsrc *mem, struct ct_snapshot *s,
		  const uint64_t *futex_words)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		struct ct_thread *t = &s->threads[i];
		uint64_t futex = futex_words ? futex_words[i] : t->syscall_nr == SYS_futex ? t->syscall_args[0] : 0;
		if (!futex || t->state == 'R' || t->lock_waiting ||
		    (t->flags & CT_THREAD_GONE) || ct_wait_kind_of(t) != CT_WAIT_MUTEX)
			continue;
		const struct ct_frame *lf = NULL;
		for (size_t f = 0; f < t->nframes && f < 16 && !lf; f++)
			if (is_mutex_lock_function(t->frames[f].function))
				lf = &t->frames[f];
		if (!lf)
			continue;
		if (!l->tried) {
			l->tried = true;
			/* lf->pc is a return address into the function: look up the call instruction */
			int r = find_layout(dwfl, lf->pc - 1, l);
			if (r < 0)
				say_why(l, r, ct_basename(lf->module));
		}
		uint64_t mutex = l->known && futex >= l->lock_off ? futex - l->lock_off : futex;
		char id[32];
		snprintf(id, sizeof(id), "0x%" PRIx64, mutex);
		if (!(t->lock_waiting = strdup(id)))
			return -ENOMEM;
		if (!l->known)
			continue;
		int32_t owner = 0;
		if (ct_memsrc_read_all(mem, mutex + l->owner_off, &owner, sizeof(owner)) < 0)
			continue;
		/* 0: released since; glibc marks dead or unrecoverable robust mutexes with 0x7ffffff[ef] */
		if (owner <= 0 || owner >= 0x7ffffffe)
			continue;
		struct ct_thread *o = ct_snapshot_thread_by_tid(s, owner);
		if (o && ct_thread_add_held(o, id) < 0)
			return -ENOMEM;
	}
	return 0;
}
