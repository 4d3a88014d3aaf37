/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --memory --sites: allocation call stacks sampled by uprobes on the allocator's entry points (no
 * ptrace, nothing written by ctrace into the target; the kernel places and removes the breakpoints).
 * Each sample is unwound and symbolized like a --profile sample (session/profiler.h) and counted in a
 * profile whose count is calls and whose weight is bytes requested, both scaled by the period. The
 * session owns the probes, the sample queue and the profile. */
#ifndef CT_ALLOCSITES_H
#define CT_ALLOCSITES_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/profile.h"
#include "attach/perf.h"
#include "memory/allocprobe.h"
#include "session/profiler.h"

struct ct_allocsites_opts {
	uint64_t period;    /* sample 1 call in period, per thread and function (1: every call), rounded
			     * up to a prime */
	size_t stack_bytes; /* user stack copied per sample */
	struct ct_profiler_opts prof;
	double duration_s;  /* ct_allocsites_run: how long (0: until *stop or the process ends) */
	const volatile sig_atomic_t *stop; /* set by the caller's signal handler: the run ends */
};

struct ct_allocsites_fn {
	const char *name;
	uint64_t calls, bytes;  /* estimated: samples times the period */
	uint64_t samples;
	uint64_t handed_on;     /* samples the allocator handed to another probed function (not counted) */
};

struct ct_allocsites_stats {
	struct ct_allocsites_fn fn[CT_PERF_MAX_PROBES];
	size_t nfn;
	uint64_t samples, lost, unknown; /* unknown: ip at no probe (should not happen) */
	uint64_t dropped;                /* more than 64 MiB of samples waiting to be unwound */
	uint64_t period;                 /* the period used (a prime), 1 when every call is sampled */
	size_t threads_seen, threads;    /* threads ever followed, followed now */
	size_t open_failed;              /* threads whose probes could not be opened (EMFILE …) */
	bool exec;                       /* the process executed a new program: sampling stopped */
	const char *end;                 /* why sampling ended (static text), after ct_allocsites_run */
};

struct ct_allocsites;

/* Finds the allocator's entry points and opens a uprobe on each on every thread of pid (raising the
 * descriptor limit for them). Returns 0, -ENOENT (no allocator function found), -EACCES/-EPERM
 * (perf_event_open refused: needs root or CAP_PERFMON), -ENOSYS (no uprobe PMU), -ESRCH, -ENOMEM. */
int ct_allocsites_open(pid_t pid, const struct ct_allocsites_opts *o, struct ct_allocsites **ret);
void ct_allocsites_close(struct ct_allocsites *s);
/* Samples until *o->stop, o->duration_s, the process's exit or exec, following new threads within
 * 0.1 s. 0 or -errno. */
int ct_allocsites_run(struct ct_allocsites *s);
/* The profile (count: calls, weight: bytes), sorted once the run is over. */
struct ct_profile *ct_allocsites_profile(const struct ct_allocsites *s);
/* The process's name, as the root frame has it ("?" when unknown). */
const char *ct_allocsites_comm(const struct ct_allocsites *s);
const struct ct_alloc_probes *ct_allocsites_probes(const struct ct_allocsites *s);
const struct ct_allocsites_stats *ct_allocsites_stats(struct ct_allocsites *s);
/* Next symbolization warning, or NULL. */
const char *ct_allocsites_next_warning(struct ct_allocsites *s);

#endif
