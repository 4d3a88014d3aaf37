/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thread analysis over 1..N snapshots of one process (live or parsed from dumps): groups of
 * identical stacks, a class per thread (blocked on what, spinning, running, idle, stopped, gone),
 * lock owners, wait-for chains and deadlock cycles. Works only on the generic fields of
 * lib/model.h, so live captures and dumps (jstack's "waiting to lock"/"locked") share it. */
#ifndef CT_ANALYZE_THREADS_H
#define CT_ANALYZE_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/model.h"
#include "lib/util.h"

enum ct_thread_class { CT_CLASS_UNKNOWN, CT_CLASS_BLOCKED, CT_CLASS_SPINNING, CT_CLASS_RUNNING,
		       CT_CLASS_IDLE, CT_CLASS_STOPPED, CT_CLASS_GONE };
#define CT_CLASS_COUNT (CT_CLASS_GONE + 1)

/* What a blocked or idle thread waits in, from its stack (and syscall when known). */
enum ct_wait_kind { CT_WAIT_NONE, CT_WAIT_MUTEX, CT_WAIT_CONDVAR, CT_WAIT_RWLOCK, CT_WAIT_SEMAPHORE,
		    CT_WAIT_JOIN, CT_WAIT_IO, CT_WAIT_POLL, CT_WAIT_SLEEP, CT_WAIT_SIGWAIT,
		    CT_WAIT_FUTEX, CT_WAIT_LOCK /* a dump's monitor/lock */, CT_WAIT_SYSCALL,
		    CT_WAIT_OTHER, CT_WAIT_GIL /* an interpreter's lock (CT_THREAD_GIL_WAITING) */ };

struct ct_analyze_opts {
	/* Extra fnmatch(3) patterns of function names where a waiting thread counts as idle (a pool's
	 * worker loop), added to the built-in ones (unless no_builtin_idle). */
	const char *const *idle_patterns;
	size_t nidle_patterns;
	bool no_builtin_idle;
	/* Two consecutive stacks count as "nearly the same" (spinning) when they share at least this
	 * many outermost frames and differ only below them; 0: default (all but the innermost 2). */
	size_t spin_common_frames;
};

/* One thread, as seen across the snapshots; the thread itself is its newest appearance. */
struct ct_thread_info {
	pid_t tid;
	const char *name;                 /* borrowed from thread */
	const struct ct_thread *thread;   /* newest snapshot where the thread was seen (borrowed) */
	enum ct_thread_class cls;
	enum ct_wait_kind wait;           /* for blocked/idle threads */
	char *why;                        /* for people: "mutex 0x…", "read on fd 3 (pipe:[123])", … */
	const char *lock_waiting;         /* the lock id it waits for (borrowed), or NULL */
	ssize_t waits_for;                /* index in threads[] of the lock's holder, or -1 */
	ssize_t gil_holder;               /* a GIL waiter: index of the thread marked holding the GIL
					   * (CT_THREAD_GIL_HOLDER, read just after the capture), or -1 */
	ssize_t deadlock;                 /* index in deadlocks[], or -1 */
	size_t group;                     /* index in groups[] */
	unsigned seen;                    /* in how many snapshots it appears */
	unsigned same_stack;              /* in how many consecutive newest snapshots the stack held */
	uint64_t utime_delta, stime_delta; /* CPU ticks between first and last snapshot */
	double cpu_share;                 /* CPU time / wall time between them (1.0: one core), -1 unknown */
};

/* Threads whose newest symbolized stacks are identical. */
struct ct_group {
	size_t *members;                  /* indexes in threads[], by tid */
	size_t nmembers;
	char *names;                      /* collapsed: "worker-[0-31], main" */
	const struct ct_thread *stack;    /* one member whose stack is printed (borrowed) */
	enum ct_thread_class cls;         /* shared by all members, or CT_CLASS_UNKNOWN when mixed */
};

/* A lock somebody waits for. */
struct ct_lock {
	char *id;                         /* "0x5581e2c0a040" */
	enum ct_wait_kind kind;           /* CT_WAIT_MUTEX, CT_WAIT_LOCK, … */
	ssize_t holder;                   /* index in threads[], or -1 when unknown */
	size_t *waiters;                  /* indexes in threads[] */
	size_t nwaiters;
};

/* A wait-for cycle: threads[i] waits for locks[i], held by threads[(i + 1) % n]. */
struct ct_deadlock {
	size_t *threads;                  /* indexes in threads[] */
	size_t *locks;                    /* indexes in locks[] */
	size_t n;
};

/* A lock whose waiters are not in a cycle: lock → holder → the lock the holder waits for → … */
struct ct_chain {
	size_t lock;                      /* index in locks[] */
	size_t *path;                     /* holders, in order; the last one waits on no known lock */
	size_t npath;
};

struct ct_analysis {
	pid_t pid;
	const char *comm;                 /* borrowed from the newest snapshot */
	const char *source;
	size_t nsnaps;
	uint64_t interval_ns;             /* between first and last snapshot, 0 with one snapshot */
	struct ct_thread_info *threads;   /* sorted by tid */
	size_t nthreads;
	struct ct_group *groups;          /* largest first */
	size_t ngroups;
	struct ct_lock *locks;
	size_t nlocks;
	struct ct_deadlock *deadlocks;
	size_t ndeadlocks;
	struct ct_chain *chains;
	size_t nchains;
	size_t class_count[CT_CLASS_COUNT];
	bool cpu_known;                   /* CPU times were available (live, 2+ snapshots) */
};

/* snaps: 1..N snapshots of the same process, oldest first; they must outlive the analysis. */
int ct_analyze(struct ct_snapshot *const *snaps, size_t nsnaps, const struct ct_analyze_opts *o,
	       struct ct_analysis **ret);
void ct_analysis_free(struct ct_analysis *a);
bool ct_analysis_has_deadlock(const struct ct_analysis *a);
/* A deadlock, a spinning thread, or (over 2+ snapshots) a thread blocked on a lock throughout. */
bool ct_analysis_has_stuck(const struct ct_analysis *a);

const char *ct_class_name(enum ct_thread_class c);  /* "blocked", "spinning", … */
const char *ct_wait_kind_name(enum ct_wait_kind k); /* "mutex", "condvar", … */

/* Pieces exposed for tests and for the dump analyzer. */
/* Collapses names: "worker-0".."worker-31", "main" → "worker-[0-31], main". Allocated, or NULL. */
char *ct_collapse_names(const char *const *names, size_t n);
/* Whether two threads' symbolized stacks are the same (function/module/pc-offset per frame). */
bool ct_stacks_equal(const struct ct_thread *a, const struct ct_thread *b);
/* What a thread waits in, from its frames and syscall. */
enum ct_wait_kind ct_wait_kind_of(const struct ct_thread *t);

/* Renderers, in report/analysis.c. */
void ct_report_analysis_text(const struct ct_analysis *a, struct ct_buf *out);
void ct_report_analysis_json(const struct ct_analysis *a, struct ct_buf *out);

#endif
