/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/rbthreads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "interp/rblayout.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_CFUNCS 4        /* innermost C-function frames looked at */
#define MAX_WAITERS 4096    /* nodes of one wait list walked */
#define MAX_HELD 1024       /* mutexes of one keeping_mutexes list */
#define MAX_HELD_ALL 16384  /* of all threads */
#define T_FILE 0x0b
#define T_DATA 0x0c
#define ENV_ME_CREF (-2)    /* VM_ENV_DATA_INDEX_ME_CREF: the method entry, below ep */

struct rb_ctx {
	const struct ct_rb_mem *m;
	const struct ct_rb_layout *L;
	const struct ct_rb_private_layout *P;
};

static int mem_read(const struct rb_ctx *x, uint64_t addr, void *buf, size_t len)
{
	return x->m->read(x->m->arg, addr, buf, len);
}

static int mem_u64(const struct rb_ctx *x, uint64_t addr, uint64_t *ret)
{
	return mem_read(x, addr, ret, sizeof(*ret));
}

/* A held Mutex (rb_mutex_t) and its holder's index in s->threads. */
struct held {
	uint64_t mutex;
	size_t holder;
};

const char *ct_rb_wait_name(const char *type, unsigned on)
{
	if (strcmp(type, "condvar") == 0)
		return on & CT_RB_ON_WAITQ ? "Thread::ConditionVariable#wait" : NULL;
	if (strcmp(type, "queue") == 0)
		return on & CT_RB_ON_WAITQ ? "Thread::Queue#pop" : NULL;
	if (strcmp(type, "sized_queue") == 0)
		return on & CT_RB_ON_WAITQ ? "Thread::SizedQueue#pop" : on & CT_RB_ON_PUSHQ ? "Thread::SizedQueue#push"
										  : NULL;
	if (strcmp(type, "mutex") == 0)
		return "Thread::Mutex#sleep";
	if (strcmp(type, "IO") == 0)
		return "IO";
	return NULL;
}

/* The type name of a typed data object ("mutex", "queue" …) into name, and its data pointer; or
 * "IO" for an IO, with its rb_io_t (0 when unreadable); "" for another object. -EFAULT when it
 * cannot be read. */
static int object_type(const struct rb_ctx *x, uint64_t obj, char *name, size_t size, uint64_t *ret_data)
{
	uint8_t h[64];
	size_t len = (size_t)CT_MAX(CT_MAX(x->L->typeddata_type, x->L->typeddata_typed), x->L->typeddata_data) + 8;
	name[0] = '\0';
	*ret_data = 0;
	if (obj & 7 || len > sizeof(h) || mem_read(x, obj, h, len) < 0)
		return -EFAULT; /* an immediate (nil, a Fixnum …) or unreadable */
	uint64_t flags = ct_interp_u64(h, 0);
	if ((flags & CT_RB_T_MASK) == T_FILE) {
		snprintf(name, size, "IO");
		if (mem_u64(x, obj + x->L->file_fptr, ret_data) < 0)
			*ret_data = 0;
		return 0;
	}
	if ((flags & CT_RB_T_MASK) != T_DATA || ct_interp_u64(h, x->L->typeddata_typed) != 1)
		return 0;
	uint64_t type = ct_interp_u64(h, x->L->typeddata_type), sp;
	char s[24];
	if (mem_u64(x, type, &sp) < 0 || mem_read(x, sp, s, sizeof(s)) < 0 ||
	    !memchr(s, '\0', sizeof(s)))
		return -EFAULT;
	snprintf(name, size, "%s", s);
	*ret_data = ct_interp_u64(h, x->L->typeddata_data);
	return 0;
}

/* Whether the ccan list at head holds a struct sync_waiter of thread. */
static bool on_list(const struct rb_ctx *x, uint64_t head, uint64_t thread)
{
	uint64_t node;
	if (mem_u64(x, head, &node) < 0)
		return false;
	for (int i = 0; i < MAX_WAITERS && node && node != head; i++) {
		uint64_t th;
		if (node < x->P->waiter_node ||
		    mem_u64(x, node - x->P->waiter_node + x->P->waiter_th, &th) < 0)
			return false;
		if (th == thread)
			return true;
		if (mem_u64(x, node, &node) < 0)
			return false;
	}
	return false;
}

static bool native_sleep(const struct ct_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const char *fn = t->frames[i].function;
		/* rb_thread_wait_for ends in a tail call: a timed sleep shows only where libruby's debug
		 * symbols name Kernel#sleep's own function */
		if (fn && !t->frames[i].ruby &&
		    (strcmp(fn, "rb_thread_sleep_forever") == 0 || strcmp(fn, "rb_thread_wait_for") == 0 ||
		     strcmp(fn, "rb_f_sleep") == 0))
			return true;
	}
	return false;
}

/* What the innermost C-function frames of the thread (control frames from cfp) wait in, or NULL. */
static const char *cfunc_wait(const struct rb_ctx *x, uint64_t thread, uint64_t cfp, uint64_t kernel,
			      const struct ct_thread *t, int *ret_fd)
{
	const char *mutex_sleep = NULL;
	for (int i = 0; i < MAX_CFUNCS; i++) {
		uint8_t f[256];
		if (x->L->cfp_size > sizeof(f) || mem_read(x, cfp + (uint64_t)i * x->L->cfp_size, f,
								   x->L->cfp_size) < 0)
			break;
		uint64_t ep = ct_interp_u64(f, x->L->cfp_ep), self = ct_interp_u64(f, x->L->cfp_self), flags, me;
		if (mem_u64(x, ep, &flags) < 0 ||
		    (flags & CT_RB_FRAME_MAGIC_MASK) != CT_RB_FRAME_MAGIC_CFUNC)
			break; /* a Ruby frame: no more C functions inside it */
		char type[24];
		uint64_t data;
		if (object_type(x, self, type, sizeof(type), &data) < 0)
			type[0] = '\0';
		unsigned on = 0;
		if (strcmp(type, "condvar") == 0)
			on = on_list(x, data + x->P->condvar_waitq, thread) ? CT_RB_ON_WAITQ : 0;
		else if (strcmp(type, "queue") == 0 || strcmp(type, "sized_queue") == 0)
			on = (on_list(x, data + x->P->queue_waitq, thread) ? CT_RB_ON_WAITQ : 0) |
			     (type[0] == 's' && on_list(x, data + x->P->szqueue_pushq, thread) ? CT_RB_ON_PUSHQ : 0);
		const char *name = ct_rb_wait_name(type, on);
		if (name && strcmp(type, "mutex") == 0) {
			mutex_sleep = name; /* ConditionVariable#wait calls Mutex#sleep: look further */
			continue;
		}
		if (name && strcmp(name, "IO") == 0 && t->syscall_nr < 0)
			name = NULL;
		int32_t fd;
		if (name && strcmp(name, "IO") == 0 && data && mem_read(x, data + x->L->io_fd, &fd, sizeof(fd)) == 0 &&
		    fd >= 0 && fd < (1 << 24))
			*ret_fd = fd;
		if (name)
			return name;
		uint64_t owner;
		if (kernel && mem_u64(x, ep + ENV_ME_CREF * 8, &me) == 0 &&
		    mem_u64(x, me + x->L->me_owner, &owner) == 0 && owner == kernel && native_sleep(t))
			return "Kernel#sleep";
		break;
	}
	return mutex_sleep;
}

/* " fd 5 (pipe:[123])": the descriptor of an IO, with what it is when the process is live */
static void io_what(const struct rb_ctx *x, int fd, char *buf, size_t size)
{
	char path[64], target[100];
	ssize_t n = -1;
	if (x->m->pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)x->m->pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
	}
	if (n > 0) {
		target[n] = '\0';
		snprintf(buf, size, " fd %d (%s)", fd, target);
	} else {
		snprintf(buf, size, " fd %d", fd);
	}
}

/* "in grab (app.rb:26)" for the innermost Ruby frame of t, or "" */
static void ruby_line(const struct ct_thread *t, char *buf, size_t size)
{
	buf[0] = '\0';
	const struct ct_frame *fr = t->interp_note ? t->interp_frames : t->frames;
	size_t n = t->interp_note ? t->ninterp_frames : t->nframes;
	for (size_t i = 0; i < n; i++) {
		const struct ct_frame *f = &fr[i];
		/* a C method's frame, where it is named ("Kernel#sleep"; no label of a Ruby 3.1 method or
		 * block has a '#'), is the wait itself: its line is its caller's */
		if (!f->ruby || !f->function || strchr(f->function, '#'))
			continue;
		snprintf(buf, size, " in %s (%s:%d)", f->function, f->file ? ct_basename(f->file) : "?", f->line);
		return;
	}
}

/* The mutexes a thread holds (its keeping_mutexes list), appended to *held. */
static int list_held(const struct rb_ctx *x, uint64_t first, size_t holder, struct held **held, size_t *n,
		     size_t *cap)
{
	uint64_t m = first;
	for (int i = 0; i < MAX_HELD && m && *n < MAX_HELD_ALL; i++) {
		if (ct_grow(held, cap, *n + 1, sizeof(**held)) < 0)
			return -ENOMEM;
		(*held)[(*n)++] = (struct held){ m, holder };
		if (mem_u64(x, m + x->P->mutex_next, &m) < 0)
			break;
	}
	return 0;
}

/* One thread: its wait, and the mutex it waits for (*ret_mutex, the rb_mutex_t) when Mutex#lock. */
static int thread_wait(const struct rb_ctx *x, uint64_t thread, uint64_t kernel, struct ct_thread *t,
		       uint64_t *ret_mutex)
{
	const struct ct_rb_layout *L = x->L;
	uint8_t b[512];
	size_t len = (size_t)CT_MAX(CT_MAX(L->thread_locking_mutex, L->thread_keeping_mutexes), L->thread_ec) + 8;
	*ret_mutex = 0;
	if (len > sizeof(b) || mem_read(x, thread, b, len) < 0)
		return 0;
	uint64_t locking = ct_interp_u64(b, L->thread_locking_mutex), ec = ct_interp_u64(b, L->thread_ec), cfp;
	char where[300], type[24], text[512];
	ruby_line(t, where, sizeof(where));
	const char *name = NULL;
	uint64_t data = 0;
	if (locking) { /* Qfalse is 0 */
		if (object_type(x, locking, type, sizeof(type), &data) < 0 || strcmp(type, "mutex") != 0 || !data)
			return 0;
		snprintf(text, sizeof(text), "Thread::Mutex#lock 0x%" PRIx64 "%s", locking, where);
		char id[32];
		snprintf(id, sizeof(id), "0x%" PRIx64, locking);
		free(t->lock_waiting);
		if (!(t->lock_waiting = strdup(id)))
			return -ENOMEM;
		*ret_mutex = data;
	} else {
		int fd = -1;
		if (mem_u64(x, ec + L->ec_cfp, &cfp) < 0 || !(name = cfunc_wait(x, thread, cfp, kernel, t, &fd)))
			return 0;
		char what[160] = "";
		if (fd >= 0)
			io_what(x, fd, what, sizeof(what));
		snprintf(text, sizeof(text), "%s%s%s", name, what, where);
	}
	char *w = strdup(text);
	if (!w)
		return -ENOMEM;
	free(t->waiting_on);
	t->waiting_on = w;
	return 0;
}

int ct_rb_waits_fill_mem(const struct ct_rb_mem *m, const struct ct_rb_layout *L,
			 const struct ct_rb_private_layout *P, uint64_t kernel, const uint64_t *threads,
			 const pid_t *tids, size_t n, struct ct_snapshot *s)
{
	struct rb_ctx x = { m, L, P };
	size_t nheld = 0, cap = 0;
	struct held *held = NULL;
	uint64_t *waits = calloc(n ? n : 1, sizeof(*waits));
	size_t *index = calloc(n ? n : 1, sizeof(*index));
	int r = waits && index ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		uint64_t first;
		struct ct_thread *t = ct_snapshot_thread_by_tid(s, tids[i]);
		if (!t || (t->flags & CT_THREAD_GONE) || t->error)
			continue;
		index[i] = (size_t)(t - s->threads);
		if (mem_u64(&x, threads[i] + L->thread_keeping_mutexes, &first) == 0)
			r = list_held(&x, first, index[i], &held, &nheld, &cap);
		if (r == 0 && t->state != 'R')
			r = thread_wait(&x, threads[i], kernel, t, &waits[i]);
	}
	/* each waited-for Mutex to the thread whose list holds it, while it has an owner fiber (0:
	 * released since); none: its holder stays unknown */
	for (size_t i = 0; i < n && r == 0; i++) {
		uint64_t fiber = 0;
		if (!waits[i] || mem_u64(&x, waits[i] + P->mutex_fiber, &fiber) < 0 || !fiber)
			continue;
		for (size_t h = 0; h < nheld && r == 0; h++)
			if (held[h].mutex == waits[i])
				r = ct_thread_add_held(&s->threads[held[h].holder], s->threads[index[i]].lock_waiting);
	}
	free(held);
	free(waits);
	free(index);
	return r;
}

static int src_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	return ct_interp_read(arg, addr, buf, len);
}

int ct_rb_waits_fill(struct ct_rb *rb, struct ct_snapshot *s)
{
	const struct ct_rb_layout *L = ct_rb_layout_of(rb);
	const struct ct_rb_private_layout *P = ct_rb_private_find(L->version);
	if (!P)
		return 0;
	const struct ct_memsrc *mem = ct_rb_mem(rb);
	struct ct_rb_mem m = { src_read, (void *)mem, ct_rb_pid(rb) };
	uint64_t kernel = 0;
	if (ct_rb_kernel_ptr(rb))
		ct_interp_read_u64(mem, ct_rb_kernel_ptr(rb), &kernel);
	size_t n = ct_rb_thread_count(rb);
	uint64_t *threads = calloc(n ? n : 1, sizeof(*threads));
	pid_t *tids = calloc(n ? n : 1, sizeof(*tids));
	int r = threads && tids ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		ct_rb_thread_at(rb, i, &threads[i], &tids[i]);
	if (r == 0)
		r = ct_rb_waits_fill_mem(&m, L, P, kernel, threads, tids, n, s);
	free(threads);
	free(tids);
	return r;
}
