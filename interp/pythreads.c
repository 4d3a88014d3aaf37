/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a Python thread blocked in a lock's acquire waits for, read from the running target after
 * the capture.
 *
 * A _thread.lock and a _thread.RLock each wait on their own PyThread_type_lock, a sem_t whose
 * address is the futex word the blocked thread sleeps on (glibc x86_64: the semaphore's value sits
 * at its start). The lock object itself is found on the innermost Python frame: the object whose
 * acquire is running is on that frame's evaluation stack (LOAD_METHOD / LOAD_ATTR pushed it, or
 * the bound method holding it, as `with` keeps __exit__). Every slot of that frame is a candidate;
 * one is taken only when its type is the lock's and its PyThread_type_lock is the very futex the
 * thread sleeps on, and only when exactly one object passes. Nothing else is inferred: a wait that
 * cannot be tied to one object this way stays a plain semaphore wait.
 *
 * An RLock records its owner (the owner's thread ident, pthread_self(), with a count): the waiter
 * gets lock_waiting, the owner locks_held, and analyze/threads.c finds chains and cycles as for
 * pthread mutexes. A Lock records none, so for a Lock the owner is said to be unknown. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "interp/interp.h"
#include "interp/pyinternal.h"
#include "interp/pythreads.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_SLOTS 4096 /* slots of one frame read (locals and evaluation stack) */

enum obj_kind { OBJ_OTHER, OBJ_LOCK, OBJ_RLOCK, OBJ_BOUND_BUILTIN };

struct type_memo {
	uint64_t type;
	enum obj_kind kind;
};

struct wait_reader {
	struct ct_py *py;
	struct type_memo memo[16];
	size_t nmemo;
};

/* A type's name, NUL-terminated in size bytes: read whole, or its first 16 bytes (which hold
 * "_thread.RLock" and its NUL) when size would cross the end of a mapping */
static int read_name(const struct ct_memsrc *mem, uint64_t addr, char *buf, size_t size)
{
	memset(buf, 0, size);
	if (ct_interp_read(mem, addr, buf, size - 1) == 0)
		return 0;
	return ct_interp_read(mem, addr, buf, CT_MIN(size - 1, (size_t)16));
}

static enum obj_kind kind_of_type(struct wait_reader *w, uint64_t type)
{
	for (size_t i = 0; i < w->nmemo; i++)
		if (w->memo[i].type == type)
			return w->memo[i].kind;
	uint64_t name_ptr;
	char name[32];
	enum obj_kind k = OBJ_OTHER;
	if (ct_interp_read_u64(&w->py->mem, type + w->py->L.type_name, &name_ptr) == 0 &&
	    read_name(&w->py->mem, name_ptr, name, sizeof(name)) == 0) {
		if (strcmp(name, "_thread.lock") == 0)
			k = OBJ_LOCK;
		else if (strcmp(name, "_thread.RLock") == 0)
			k = OBJ_RLOCK;
		else if (strcmp(name, "builtin_function_or_method") == 0)
			k = OBJ_BOUND_BUILTIN;
	}
	if (w->nmemo < CT_ARRAY_SIZE(w->memo))
		w->memo[w->nmemo++] = (struct type_memo){ type, k };
	return k;
}

static enum obj_kind kind_of_object(struct wait_reader *w, uint64_t obj)
{
	uint64_t type;
	if (!obj || (obj & 7) || ct_interp_read_u64(&w->py->mem, obj + w->py->L.object_type, &type) < 0 || !type)
		return OBJ_OTHER;
	return kind_of_type(w, type);
}

/* Whether obj is a lock or RLock waiting on the semaphore at futex: its kind, else OBJ_OTHER. */
static enum obj_kind lock_on(struct wait_reader *w, uint64_t obj, uint64_t futex)
{
	const struct ct_py_layout *L = &w->py->L;
	enum obj_kind k = kind_of_object(w, obj);
	uint64_t sem;
	if (k == OBJ_LOCK || k == OBJ_RLOCK)
		return ct_interp_read_u64(&w->py->mem, obj + (k == OBJ_LOCK ? L->lock_lock : L->rlock_lock), &sem) == 0 &&
		       sem == futex ? k : OBJ_OTHER;
	return OBJ_OTHER;
}

/* The innermost Python frame's slots: 3.11+ its locals and evaluation stack (localsplus), before
 * its evaluation stack (f_valuestack). *ret_n 0 when they cannot be read. */
static int frame_slots(struct ct_py *py, const struct ct_py_raw_frame *f, uint64_t **ret, size_t *ret_n)
{
	const struct ct_py_layout *L = &py->L;
	*ret = NULL;
	*ret_n = 0;
	uint8_t code[512];
	size_t clen = (size_t)CT_MAX(L->object_type, L->code_stacksize) + 8;
	if (has(L->code_nlocalsplus))
		clen = CT_MAX(clen, (size_t)L->code_nlocalsplus + 8);
	if (clen > sizeof(code) || ct_interp_read(&py->mem, f->code, code, clen) < 0 ||
	    ct_interp_u64(code, L->object_type) != py->type_code)
		return 0;
	int32_t stacksize, nlocals = 0;
	memcpy(&stacksize, code + L->code_stacksize, sizeof(stacksize));
	if (has(L->code_nlocalsplus))
		memcpy(&nlocals, code + L->code_nlocalsplus, sizeof(nlocals));
	uint64_t start;
	if (has(L->code_nlocalsplus)) {
		start = f->addr + L->frame_size;
	} else if (!has(L->frame_valuestack) || ct_interp_read_u64(&py->mem, f->addr + L->frame_valuestack, &start) < 0) {
		return 0;
	}
	if (stacksize < 0 || nlocals < 0 || (size_t)stacksize + (size_t)nlocals > MAX_SLOTS || !start)
		return 0;
	size_t n = (size_t)stacksize + (size_t)nlocals;
	uint64_t *slots = calloc(n ? n : 1, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (n && ct_interp_read(&py->mem, start, slots, n * sizeof(*slots)) < 0) {
		free(slots);
		return 0;
	}
	*ret = slots;
	*ret_n = n;
	return 0;
}

/* The one lock object among the frame's slots (or the object of a bound builtin method there)
 * that waits on futex; 0 when none or more than one. */
static uint64_t find_lock(struct wait_reader *w, const uint64_t *slots, size_t n, uint64_t futex,
			  enum obj_kind *ret_kind)
{
	uint64_t found = 0;
	enum obj_kind fk = OBJ_OTHER;
	for (size_t i = 0; i < n; i++) {
		uint64_t obj = slots[i];
		enum obj_kind k = lock_on(w, obj, futex);
		if (k == OBJ_OTHER && kind_of_object(w, slots[i]) == OBJ_BOUND_BUILTIN &&
		    ct_interp_read_u64(&w->py->mem, slots[i] + w->py->L.cfunc_self, &obj) == 0)
			k = lock_on(w, obj, futex);
		if (k == OBJ_OTHER || obj == found)
			continue;
		if (found)
			return 0; /* two objects on one semaphore: a stale slot; say nothing */
		found = obj;
		fk = k;
	}
	*ret_kind = fk;
	return found;
}

/* The snapshot's thread whose thread ident (pthread_self()) is ident: by the thread pointer read
 * with its registers, else by the interpreter's thread states. */
static struct ct_thread *thread_of_ident(const struct ct_py *py, const struct ct_capture *caps, size_t n,
					 struct ct_snapshot *s, uint64_t ident)
{
	pid_t tid = 0;
	for (size_t i = 0; i < n && !tid; i++)
		if (caps[i].fs_base == ident)
			tid = caps[i].tid;
	for (size_t i = 0; i < py->nthreads && !tid; i++)
		if (py->threads[i].thread_id == ident)
			tid = (pid_t)py->threads[i].native_tid;
	for (size_t i = 0; tid && i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}

static int set_wait(struct ct_thread *t, const char *id, const char *what)
{
	free(t->waiting_on);
	t->waiting_on = strdup(what);
	if (!t->waiting_on)
		return -ENOMEM;
	if (id && !(t->lock_waiting = strdup(id)))
		return -ENOMEM;
	return 0;
}

static bool in_native(const struct ct_thread *t, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < t->nframes && i < 16; i++) {
		const char *fn = t->frames[i].function;
		if (fn && !t->frames[i].python && strncmp(fn, name, len) == 0 && (fn[len] == '\0' || fn[len] == '.'))
			return true;
	}
	return false;
}

static int thread_wait(struct wait_reader *w, const struct ct_capture *c, const struct ct_capture *caps, size_t ncaps,
		       struct ct_snapshot *s, struct ct_thread *t)
{
	struct ct_py *py = w->py;
	const struct ct_py_raw_frame *rf;
	int nraw = ct_py_raw_decode(c->interp, c->interp_len, &rf);
	const struct py_raw *raw = c->interp;
	/* a futex wait with a timeout that a stop interrupted resumes as restart_syscall, the futex
	 * address still in the first argument's register (a system call keeps it) */
	if (nraw <= 0 || raw->err || t->lock_waiting || t->state == 'R' ||
	    (t->syscall_nr != SYS_futex && t->syscall_nr != SYS_restart_syscall) || (t->flags & CT_THREAD_GONE))
		return 0;
	const struct ct_py_raw_frame *f = NULL;
	for (int i = 0; i < nraw && !f; i++)
		if (!(py->hex >= 0x030c0000 && rf[i].owner == CT_PY_OWNED_BY_CSTACK))
			f = &rf[i];
	uint64_t *slots = NULL;
	size_t n = 0;
	int r = f ? frame_slots(py, f, &slots, &n) : 0;
	if (r < 0)
		return r;
	enum obj_kind k = OBJ_OTHER;
	uint64_t obj = find_lock(w, slots, n, t->syscall_args[0], &k);
	free(slots);
	char id[32], what[96];
	snprintf(id, sizeof(id), "0x%" PRIx64, obj);
	if (k == OBJ_LOCK) {
		/* not a lock wait for the analysis: with no owner it can be in no wait-for chain, and
		 * a Condition or Event waits this way in every idle pool */
		snprintf(what, sizeof(what), "Lock.acquire on %s: owner unknown, a Lock has no owner", id);
		return set_wait(t, NULL, what);
	}
	if (k != OBJ_RLOCK) {
		if (in_native(t, "rlock_acquire"))
			return set_wait(t, NULL, "RLock.acquire: the RLock could not be read exactly, owner unknown");
		if (in_native(t, "lock_PyThread_acquire_lock"))
			return set_wait(t, NULL, "Lock.acquire: owner unknown, a Lock has no owner");
		return 0;
	}
	uint64_t owner = 0, count = 0;
	if ((r = set_wait(t, id, "RLock.acquire")) < 0)
		return r;
	if (ct_interp_read_u64(&py->mem, obj + py->L.rlock_owner, &owner) < 0 ||
	    ct_interp_read_u64(&py->mem, obj + py->L.rlock_count, &count) < 0 || !owner || !count)
		return 0; /* released since, or unreadable: holder unknown */
	struct ct_thread *holder = thread_of_ident(py, caps, ncaps, s, owner);
	return holder ? ct_thread_add_held(holder, id) : 0;
}

int ct_py_locks_fill(struct ct_py *py, const struct ct_capture *caps, size_t n, struct ct_snapshot *s)
{
	struct wait_reader w = { .py = py };
	for (size_t i = 0; i < n && i < s->nthreads; i++) {
		if (!caps[i].interp || s->threads[i].tid != caps[i].tid)
			continue;
		int r = thread_wait(&w, &caps[i], caps, n, s, &s->threads[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
