/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gdb "thread apply all bt" output (also pstack/gstack, which run it):
 *   Thread 10 (Thread 0x7f62f07d96c0 (LWP 6164) "lock-b"):
 *   #0  futex_wait (private=0, expected=2, futex_word=0x5604d0e600e0 <held>) at ../x.h:146
 *   #2  0x00007f62f4871482 in lll_mutex_lock_optimized (mutex=0x…) at ./nptl/pthread_mutex_lock.c:48
 *   #5  0x00007f2a3c0b1a2b in ?? () from /lib/x86_64-linux-gnu/libc.so.6
 *   [Inferior 1 (process 6154) detached]
 * A thread id seen twice, or the "detached" line, ends one dump; the next thread starts another.
 * Lines gdb prints around the stacks (warnings, source lines, locals of "bt full") are skipped. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

struct ct_tidset {
	pid_t *slots; /* 0 = empty; tid 0 is never stored */
	size_t cap, n;
};

void ct_dump_tidset_free(struct ct_tidset *set)
{
	if (set) {
		free(set->slots);
		free(set);
	}
}

static size_t tid_hash(pid_t tid, size_t cap)
{
	return ((uint32_t)tid * 2654435761u) & (cap - 1);
}

/* Adds tid; returns 1 when it was there already, 0 when added, -ENOMEM. */
static int tidset_add(struct ct_tidset *set, pid_t tid)
{
	if (tid == 0)
		return 0;
	if ((set->n + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64;
		pid_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slots[i])
				continue;
			size_t h = tid_hash(set->slots[i], ncap);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = set->slots[i];
		}
		free(set->slots);
		set->slots = ns;
		set->cap = ncap;
	}
	size_t h = tid_hash(tid, set->cap);
	while (set->slots[h]) {
		if (set->slots[h] == tid)
			return 1;
		h = (h + 1) & (set->cap - 1);
	}
	set->slots[h] = tid;
	set->n++;
	return 0;
}

static void tidset_clear(struct ct_tidset *set)
{
	if (set && set->n) {
		memset(set->slots, 0, set->cap * sizeof(*set->slots));
		set->n = 0;
	}
}

static bool num_after(const char *s, const char *key, uint64_t *ret)
{
	const char *p = strstr(s, key);
	if (!p)
		return false;
	p += strlen(key);
	return ct_dump_num(&p, ret);
}

static int thread_header(struct ct_dump_ctx *c, const char *s)
{
	/* "Thread N (Thread 0x… (LWP T) "name"):", "Thread N (LWP T):", "Thread N (process P):" */
	const char *p = s + 7;
	uint64_t gdbnum, tid = 0;
	if (!ct_dump_num(&p, &gdbnum) || p[0] != ' ' || p[1] != '(')
		return 0; /* "Thread debugging using libthread_db enabled" and similar */
	const char *desc = p + 2;
	if (!num_after(desc, "(LWP ", &tid) && !(ct_startswith(desc, "LWP ") && num_after(desc, "LWP ", &tid)) &&
	    !(ct_startswith(desc, "process ") && num_after(desc, "process ", &tid)))
		tid = gdbnum;
	if (tid == 0 || tid > 0x7fffffff)
		return ct_dump_fail(c, "thread header with an invalid thread id");
	if (!c->tids && !(c->tids = calloc(1, sizeof(*c->tids))))
		return -ENOMEM;
	int seen = tidset_add(c->tids, (pid_t)tid);
	if (seen < 0)
		return ct_dump_fail(c, "out of memory");
	if (seen) { /* the same thread again: the next dump of the process */
		ct_dump_end_snapshot(c);
		tidset_clear(c->tids);
		tidset_add(c->tids, (pid_t)tid);
	}
	struct ct_thread *t = ct_dump_thread(c, (pid_t)tid);
	if (!t)
		return -CT_EBADDUMP;
	if (ct_startswith(desc, "process "))
		c->cur->pid = (pid_t)tid;
	const char *q1 = strchr(desc, '"'), *q2 = strrchr(desc, '"');
	if (q1 && q2 > q1)
		return ct_dump_set(c, &t->name, q1 + 1, (size_t)(q2 - q1 - 1));
	return 0;
}

/* End of a C/C++ function name: the " (" of its arguments, outside template brackets. */
static size_t function_len(const char *s)
{
	int angle = 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		char ch = s[i];
		if ((ch == '<' || ch == '>') && !(i >= 8 && memcmp(s + i - 8, "operator", 8) == 0) &&
		    !(i >= 9 && memcmp(s + i - 9, "operator", 8) == 0 && (s[i - 1] == '<' || s[i - 1] == '>' ||
									     s[i - 1] == '-'))) {
			angle += ch == '<' ? 1 : (angle > 0 ? -1 : 0);
		} else if (ch == ' ' && s[i + 1] == '(' && angle == 0) {
			break;
		}
	}
	return i;
}

/* Skips a balanced "(…)" starting at s[0] == '(', minding quoted strings. NULL when unbalanced. */
static const char *skip_args(const char *s)
{
	int depth = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\'') {
			char q = *p;
			for (p++; *p && *p != q; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return NULL;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* A thread inside pthread_mutex_lock(mutex=0x…) (or an rwlock lock) waits for that lock: the
 * analysis groups its waiters under it, as for a live capture (the holder is not in a backtrace). */
static int lock_arg(struct ct_dump_ctx *c, const char *function, const char *args, size_t n)
{
	static const char *const lockers[][2] = {
		{ "pthread_mutex_lock", "mutex=" }, { "pthread_mutex_timedlock", "mutex=" },
		{ "pthread_mutex_clocklock", "mutex=" }, { "pthread_rwlock_rdlock", "rwlock=" },
		{ "pthread_rwlock_wrlock", "rwlock=" }, { "pthread_rwlock_timedrdlock", "rwlock=" },
		{ "pthread_rwlock_timedwrlock", "rwlock=" },
	};
	if (!function || c->thread->lock_waiting)
		return 0;
	const char *name = function;
	while (*name == '_')
		name++;
	if (ct_startswith(name, "GI_"))
		name += 3;
	while (*name == '_')
		name++;
	for (size_t i = 0; i < CT_ARRAY_SIZE(lockers); i++) {
		if (strcmp(name, lockers[i][0]) != 0)
			continue;
		const char *a = memmem(args, n, lockers[i][1], strlen(lockers[i][1]));
		uint64_t addr;
		if (!a)
			return 0;
		a += strlen(lockers[i][1]);
		const char *h = a;
		if (!ct_dump_hex(&h, &addr) || !addr)
			return 0;
		return ct_dump_set(c, &c->thread->lock_waiting, a, (size_t)(h - a));
	}
	return 0;
}

static int frame_line(struct ct_dump_ctx *c, const char *s)
{
	const char *p = s + 1;
	uint64_t num, pc = 0;
	if (!ct_dump_num(&p, &num) || *p != ' ')
		return ct_dump_fail(c, "malformed gdb frame line (want '#N  [0xPC in ]FUNCTION …')");
	p = ct_dump_skip_ws(p);
	if (!*p)
		return ct_dump_fail(c, "gdb frame line without a function");
	if (ct_dump_hex(&p, &pc)) {
		if (ct_startswith(p, " in "))
			p += 4;
		else
			p = ct_dump_skip_ws(p);
	}
	/* the first frame of a thread that has frames already: a second "bt" of a nameless thread */
	if (num == 0 && c->thread && c->thread->nframes && c->thread->tid == 0)
		c->thread = NULL;
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	f->pc = pc;
	size_t fl = function_len(p);
	if (fl && !(fl == 2 && p[0] == '?' && p[1] == '?') && (err = ct_dump_set(c, &f->function, p, fl)) < 0)
		return err;
	p += fl;
	if (*p == ' ' && p[1] == '(') {
		const char *end = skip_args(p + 1);
		if (!end)
			return 0; /* arguments cut short: keep the function */
		if ((err = lock_arg(c, f->function, p + 1, (size_t)(end - p - 1))) < 0)
			return err;
		p = end;
	}
	if (ct_startswith(p, " at ")) {
		p += 4;
		size_t n = strlen(p), flen;
		if (ct_dump_file_line(p, n, &flen, &f->line))
			return ct_dump_set(c, &f->file, p, flen);
		return ct_dump_set(c, &f->file, p, n);
	}
	if (ct_startswith(p, " from "))
		return ct_dump_set(c, &f->module, p + 6, strlen(p + 6));
	return 0;
}

int ct_dump_gdb_line(struct ct_dump_ctx *c, char *s, size_t n)
{
	while (ct_startswith(s, "(gdb) "))
		s += 6;
	if (s[0] == '#' && isdigit((unsigned char)s[1]))
		return frame_line(c, s);
	if (ct_startswith(s, "Thread "))
		return thread_header(c, s);
	if (ct_startswith(s, "Backtrace stopped: ") && c->thread)
		return ct_dump_set(c, &c->thread->unwind_error, s + 19, strlen(s + 19));
	if (ct_startswith(s, "(More stack frames follow...)") && c->thread) {
		c->thread->flags |= CT_THREAD_TRUNCATED;
		return 0;
	}
	uint64_t pid;
	if (ct_startswith(s, "[Inferior ") && strstr(s, "detached]")) {
		if (c->cur && num_after(s, "(process ", &pid) && pid <= 0x7fffffff)
			c->cur->pid = (pid_t)pid;
		ct_dump_end_snapshot(c);
		tidset_clear(c->tids);
		return 0;
	}
	if (ct_startswith(s, "Core was generated by `")) { /* gdb on a core file: its program */
		if (c->cur && c->cur->nthreads)
			ct_dump_end_snapshot(c);
		tidset_clear(c->tids);
		if (!c->cur && !ct_dump_snapshot(c))
			return -CT_EBADDUMP;
		const char *exe = s + 23;
		size_t len = strcspn(exe, " '");
		const char *slash = memrchr(exe, '/', len);
		const char *base = slash ? slash + 1 : exe;
		int err = ct_dump_set(c, &c->cur->exe, exe, len);
		return err < 0 ? err : ct_dump_set(c, &c->cur->comm, base, (size_t)(exe + len - base));
	}
	if (ct_startswith(s, "Attaching to ") && num_after(s, "process ", &pid) && pid <= 0x7fffffff) {
		if (c->cur && c->cur->nthreads)
			ct_dump_end_snapshot(c);
		tidset_clear(c->tids);
		if (!c->cur && !ct_dump_snapshot(c))
			return -CT_EBADDUMP;
		c->cur->pid = (pid_t)pid;
	}
	return 0;
}

int ct_dump_gdb_finish(struct ct_dump_ctx *c)
{
	/* Frames outside any "Thread" line in a dump that has such lines are gdb echoing the current
	 * frame when it attaches or opens a core, not a thread of their own. */
	for (size_t i = 0; i < c->res->nsnaps; i++) {
		struct ct_snapshot *s = c->res->snaps[i];
		bool named = false;
		for (size_t t = 0; t < s->nthreads && !named; t++)
			named = s->threads[t].tid != 0;
		if (!named)
			continue;
		size_t k = 0;
		for (size_t t = 0; t < s->nthreads; t++) {
			if (s->threads[t].tid == 0)
				ct_thread_clear(&s->threads[t]);
			else
				s->threads[k++] = s->threads[t];
		}
		s->nthreads = k;
	}
	return 0;
}
