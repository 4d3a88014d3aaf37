/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The snapshot session (--backtraces, --threads): capture every thread (attach/), then, with every
 * thread running again, unwind (unwind/), symbolize (symbolize/), add /proc facts (process/) and,
 * when asked, lock owners (process/locks.h). The session owns the capture state, the symbolizer and
 * unwinder (kept across snapshots) and the snapshots it took; close releases all of them.
 * A core file (core/) is the other capture source: its threads' registers become the captures, its
 * memory serves the unwinder and the lock owners, and what only a live process has (/proc facts,
 * the thread's state, what it waits on, its name but the main thread's) is left out. */
#ifndef CT_SESSION_SNAPSHOT_H
#define CT_SESSION_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/snapshot.h"
#include "core/core.h"
#include "interp/python.h"
#include "interp/ruby.h"
#include "lib/model.h"
#include "symbolize/symbolizer.h"
#include "unwind/unwind.h"

struct ct_snapshot_opts {
	struct ct_attach_opts attach;
	enum ct_unwinder_kind unwinder;
	size_t max_frames;
	struct ct_sym_opts sym;
	pid_t only_tid;      /* 0: every thread */
	bool locks;          /* fill lock_waiting and the owners' locks_held (--threads) */
	bool no_interp;      /* native frames only: do not look for an interpreter (--no-interp) */
	long snapshots;      /* ct_snapshot_session_run: how many (>= 1) */
	long interval_ms;    /* ct_snapshot_session_run: the pause between two */
	/* ct_snapshot_session_open_core */
	const char *exe;     /* the executable, when not where the core says (or to check it) */
	const char *sysroot; /* the modules' root (a core from another machine or container) */
	struct ct_core_opts core;
};

struct ct_snapshot_session;

/* Where a session's time went (live or core; summed over its snapshots), for -v. */
struct ct_snapshot_times {
	uint64_t modules_ns;     /* the memory map read and the modules listed (at open) */
	uint64_t interp_open_ns; /* looking for Python or Ruby (at open) */
	uint64_t capture_ns;     /* threads stopped, copied and released */
	uint64_t facts_ns;       /* /proc facts of each thread, what a blocked one waits on */
	uint64_t unwind_ns;
	uint64_t symbolize_ns;   /* pc -> function, file:line, inlines, tail calls */
	uint64_t interp_ns;      /* Python or Ruby frames read and merged */
	uint64_t locks_ns;       /* lock owners and Ruby waits (--threads) */
	struct ct_sym_stats sym; /* modules listed and opened, the time opening them took (within the
				  * phases above), pcs looked up */
};

/* Opens a session on pid (reads its modules; stops nothing). 0, -ESRCH, -EPERM/-EACCES, -ENOMEM or
 * another -errno from reading the memory map. */
int ct_snapshot_session_open(pid_t pid, const struct ct_snapshot_opts *o, struct ct_snapshot_session **ret);
/* Opens a session on the core file at path (one snapshot: o->snapshots is ignored). 0, or -errno
 * with one sentence in *ret_why: as ct_core_open (-ENOEXEC: not a core; -EINVAL: corrupt, also when
 * libdwfl cannot read its modules), and -ENOEXEC when o->exe is not the program that dumped it. */
int ct_snapshot_session_open_core(const char *path, const struct ct_snapshot_opts *o,
				  struct ct_snapshot_session **ret, char **ret_why);
/* A core session: bytes of memory the truncated core lacks (0 when whole, or live). */
uint64_t ct_snapshot_session_missing(const struct ct_snapshot_session *ss);
/* Releases the capture state, the snapshots taken and everything else. NULL is a no-op. */
void ct_snapshot_session_close(struct ct_snapshot_session *ss);
/* Takes one snapshot, owned by the session. 0 with *ret, or -errno when the process could not be
 * captured at all (-ESRCH gone, -EPERM). */
int ct_snapshot_session_take(struct ct_snapshot_session *ss, struct ct_snapshot **ret);
/* Takes o->snapshots snapshots o->interval_ms apart. When the process exits after the first, the
 * series ends there: 0 and ct_snapshot_session_exited() says so. -errno when a capture failed
 * otherwise, or the lock owners could not be read (ct_snapshot_session_locks_failed()); the
 * snapshots taken before stay in the session. */
int ct_snapshot_session_run(struct ct_snapshot_session *ss);
/* The snapshots taken so far, oldest first. */
struct ct_snapshot *const *ct_snapshot_session_snapshots(const struct ct_snapshot_session *ss, size_t *ret_n);
/* Where the time went so far. */
void ct_snapshot_session_times(const struct ct_snapshot_session *ss, struct ct_snapshot_times *ret);
/* Whether a series ended early because the process exited. */
bool ct_snapshot_session_exited(const struct ct_snapshot_session *ss);
/* Whether the last take failed reading lock owners (out of memory), not capturing. */
bool ct_snapshot_session_locks_failed(const struct ct_snapshot_session *ss);
/* The Python interpreter's version ("3.11.2") and the statistics of its frames so far, or NULL
 * when the process shows no Python frames. */
const char *ct_snapshot_session_python(const struct ct_snapshot_session *ss, struct ct_py_stats *ret_stats);
/* The Ruby version and its statistics, or NULL when the target is not a Ruby ctrace reads. */
const char *ct_snapshot_session_ruby(const struct ct_snapshot_session *ss, struct ct_rb_stats *ret_stats);
/* Next warning (symbolization, lock layout), each said once, or NULL. */
const char *ct_snapshot_session_next_warning(struct ct_snapshot_session *ss);

#endif
