/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory session (--memory without --sites): level 1 from /proc (memory/procmem.h), the
 * allocator (memory/alloc.h) and, for glibc, its arenas (memory/glibc.h), or with --inject the
 * statistics of jemalloc or tcmalloc (memory/inject.h); then one report, or --watch samples over
 * time (memory/watch.h). Open finds the allocator once and keeps glibc's reader for every report and
 * sample after it. The session owns its readings, samples and notes; close releases all of them. It
 * prints nothing: why a figure is missing is a note, and a partial result is a flag. */
#ifndef CT_SESSION_MEMORY_H
#define CT_SESSION_MEMORY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/core.h"
#include "memory/alloc.h"
#include "memory/inject.h"
#include "memory/watch.h"
#include "memory/levels.h"

struct ct_memory_opts {
	const char *debug_dirs; /* extra debug directories (libc's, for its malloc layout) */
	bool no_arenas;         /* level 1 and the allocator's name only */
	bool inject;            /* jemalloc, tcmalloc: call their statistics API inside the process */
	pid_t inject_tid;       /* --inject: the thread that runs the calls (0: ctrace chooses) */
	uint64_t inject_timeout_ns; /* --inject: every attempt ends by then (0: 2 s) */
};

/* What failed in ct_memory_session_open, for the caller's message. */
enum ct_memory_open_error {
	CT_MEMORY_OPEN_PROC = 1, /* level 1 could not be read (-ESRCH gone, -EACCES/-EPERM, -EINVAL …) */
	CT_MEMORY_OPEN_ALLOC,    /* out of memory while the allocator was looked at */
};

/* What open did, for -v. */
struct ct_memory_open_stats {
	size_t nmaps;            /* mappings in the level-1 reading */
	uint64_t proc_ns;        /* reading level 1 */
	uint64_t alloc_ns;       /* finding the allocator and learning its layout, or --inject */
	bool arenas;             /* glibc's arenas can be walked */
	const struct ct_inject_stats *inject; /* --inject was tried: what the stops and calls did */
};

struct ct_memory_session;

/* Reads level 1 of pid, finds its allocator and opens what reads its statistics. 0, or -errno with
 * *ret_what. A missing figure (no debug information, static glibc, --inject refused …) is not an
 * error: ct_memory_session_note says why. */
int ct_memory_session_open(pid_t pid, const struct ct_memory_opts *o, struct ct_memory_session **ret,
			   enum ct_memory_open_error *ret_what);
/* The same for a core file (--core): level 1 from its mappings (program headers and NT_FILE; "rss"
 * is what the core holds of each mapping, and PSS, swap and open fds are not in a core), the
 * allocator and glibc's arenas from its memory; one report, no --watch and no --inject. 0, or
 * -errno with a sentence in *ret_why (as ct_core_open; -EINVAL also when its modules cannot be read).
 * A truncated core is a note and a partial result. */
int ct_memory_session_open_core(const char *path, const struct ct_memory_opts *o, const struct ct_core_opts *co,
				const char *exe, const char *sysroot, struct ct_memory_session **ret, char **ret_why);
void ct_memory_session_close(struct ct_memory_session *ms);
const struct ct_memory_open_stats *ct_memory_session_open_stats(const struct ct_memory_session *ms);
const struct ct_alloc_info *ct_memory_session_allocator(const struct ct_memory_session *ms);
/* Why the allocator's figures are missing or incomplete (after a report: its walk's reason), or NULL. */
const char *ct_memory_session_note(const struct ct_memory_session *ms);
/* Whether something that should have worked did not (the result is partial). */
bool ct_memory_session_partial(const struct ct_memory_session *ms);

/* One report: the first is of open's reading, the next of a new one, with the arenas walked now.
 * Fills *ret but for ret->top; what it points to is the session's until the next report or close.
 * 0 or -errno from level 1. A failed walk is a note and a partial result, not an error. */
int ct_memory_session_report(struct ct_memory_session *ms, struct ct_mem_report *ret);
/* One --watch sample at t_ns: level 1 now and the arenas (a failed walk: no heap figures). 0 with
 * *ret (clear it), or -errno from level 1 (-ESRCH: gone). */
int ct_memory_session_sample(struct ct_memory_session *ms, uint64_t t_ns, struct ct_mem_sample *ret);

enum ct_memory_watch_end {
	CT_MEMORY_WATCH_INTERRUPTED, /* *stop, or the row callback asked to end */
	CT_MEMORY_WATCH_DURATION,
	CT_MEMORY_WATCH_EXITED,      /* the process exited */
	CT_MEMORY_WATCH_UNREADABLE,  /* level 1 could no longer be read */
};

struct ct_memory_watch_opts {
	double interval_s;           /* between two samples, counted from the first */
	double duration_s;           /* 0: until *stop or the process's end */
	const volatile sig_atomic_t *stop; /* set by the caller's signal handler: the watch ends */
	/* Called with each sample and the groups that grew most since the previous one (none with the
	 * first). Returns nonzero to end the watch (its output is gone). */
	int (*row)(void *arg, const struct ct_mem_sample *s, const struct ct_mem_growth *gr, size_t ngr);
	void *arg;
};

/* From the first sample to the last; the session's until close. */
struct ct_memory_watch_summary {
	const struct ct_mem_sample *first, *last;
	const struct ct_mem_growth *grew; /* the groups that grew most from first to last */
	size_t ngrew;
	size_t nsamples;
	enum ct_memory_watch_end ended;
};

/* Samples every o->interval_s until o->duration_s, *o->stop, the row callback's wish or the
 * process's end. 0 with *ret, or -errno from level 1 when not even the first sample was taken. */
int ct_memory_session_watch(struct ct_memory_session *ms, const struct ct_memory_watch_opts *o,
			    struct ct_memory_watch_summary *ret);

#endif
