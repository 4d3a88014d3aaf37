/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile session (--profile): samples the stacks of one or more processes (every descendant
 * with children, followed as they are forked) with the perf sampler, or the ptrace sampler where
 * perf_event_open is refused or asked against, until the caller's stop flag, the duration or the
 * end of every process; each sample is unwound and symbolized by a profiler (session/profiler.h)
 * and counted in one profile. The session owns the sources, the sampler, the sample queue and the
 * profile; close releases all of them. It prints nothing: what it has to say waits in a message
 * queue the caller drains (ct_profile_session_next_message), best from its tick callback. */
#ifndef CT_SESSION_PROFILE_H
#define CT_SESSION_PROFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/profile.h"
#include "session/profiler.h"

enum ct_sampler_kind { CT_SAMPLER_AUTO, CT_SAMPLER_PERF, CT_SAMPLER_PTRACE };

struct ct_profile_session;

struct ct_profile_session_opts {
	const pid_t *pids;          /* the processes given (-p …) */
	size_t npids;
	pid_t tid;                  /* > 0: that one thread of pids[0] */
	bool children;              /* follow every descendant, as it is forked */
	bool per_pid;               /* root frame "name-PID" (else "name") */
	bool per_thread;            /* a frame "threadname-TID" under the root */
	bool labels;                /* pprof labels (host, pid, comm, thread, tid) on every sample */
	bool wall;                  /* wall-clock mode (ptrace sampler only) */
	enum ct_sampler_kind sampler;
	long rate_hz;
	size_t stack_bytes;         /* per sample */
	uint64_t timeout_ns;        /* ptrace sampler: one capture's deadline */
	bool passive;               /* ptrace sampler: read blocked threads without a stop */
	struct ct_profiler_opts prof;
	double duration_s;          /* 0: until *stop or the end of every process */
	const volatile sig_atomic_t *stop; /* set by the caller's signal handler: the run ends */
	bool verbose;               /* queue CT_MSG_VERBOSE messages too (else only warnings) */
	/* Called about every 0.1 s during the run (perf) or after each tick (ptrace), to drain messages
	 * and show progress. May be NULL. */
	void (*tick)(void *arg, struct ct_profile_session *ps);
	void *tick_arg;
};

/* What went wrong in ct_profile_session_open, for the caller's message. */
enum ct_profile_open_error {
	CT_PROFILE_OPEN_SETUP = 0,  /* the session could not be set up (-ENOMEM) */
	CT_PROFILE_OPEN_GONE,       /* *ret_pid exited before the first sample */
	CT_PROFILE_OPEN_MAPS,       /* *ret_pid's memory map could not be read (or its profiler set up) */
	CT_PROFILE_OPEN_PERF,       /* perf_event_open failed (err) with --sampler perf */
};

struct ct_profile_session_stats {
	const char *sampler;        /* "perf" or "ptrace" */
	size_t sources;             /* processes followed, ever */
	uint64_t samples;           /* in the profile */
	uint64_t expected;          /* from the processes' CPU time x rate (clock ticks) */
	uint64_t lost;              /* dropped by the kernel (ring full) or by the sample queue */
	uint64_t truncated;         /* stacks whose unwinding stopped before the outermost frame */
	uint64_t elapsed_ns;        /* since sampling began */
	uint64_t start_ns;          /* monotonic time sampling began (after the sources opened) */
	uint64_t open_ns;           /* how long opening the sources took */
	size_t threads;             /* of the processes followed now, as last seen (1 with tid) */
	/* the perf sampler's figures (0 with ptrace) */
	size_t perf_threads, perf_cpus, perf_ring_bytes, perf_open_failed;
	int perf_open_err;
	/* Python or Ruby (profiler.h's figures, summed): the language ("Python", "Ruby") and version
	 * of the first interpreter found (NULL none), samples in the interpreter loop, merged, and kept
	 * native only (moved on, counts disagreed, no frames or unreadable) */
	const char *interp_lang, *python;
	uint64_t py_samples, py_merged, py_moved, py_mismatch, py_other;
	uint64_t py_exact; /* of py_merged: matched exactly (Python 3.11+) */
};

enum ct_msg_level { CT_MSG_WARN, CT_MSG_VERBOSE };

struct ct_profile_session;
/* --top's n key: Python or Ruby frames merged into the samples taken from now on (true, the default
 * unless no_interp) or native frames only. */
void ct_profile_session_set_interp(struct ct_profile_session *ps, bool on);

/* Opens every source and the sampler. 0, or -errno with *ret_what (and *ret_pid) saying what
 * failed; *ret is set either way when it was allocated (close it). A perf refusal with
 * CT_SAMPLER_AUTO is not an error: the session falls back to the ptrace sampler and says so in a
 * message. */
int ct_profile_session_open(const struct ct_profile_session_opts *o, struct ct_profile_session **ret,
			    enum ct_profile_open_error *ret_what, pid_t *ret_pid);
/* Samples until the run ends. 0 or -errno (sampling failed). */
int ct_profile_session_run(struct ct_profile_session *ps);
void ct_profile_session_close(struct ct_profile_session *ps);

/* The profile (sorted by ct_profile_session_finish). */
struct ct_profile *ct_profile_session_profile(struct ct_profile_session *ps);
/* The samples of one interval, per stack of the profile: counts[i] were added to stacks[i] since
 * the previous call (the first call: since sampling began). Stacks are never reordered while the
 * session runs, so counts[i] and the profile's stacks[i] stay the same stack. */
struct ct_profile_interval {
	const uint64_t *counts;     /* the session's, valid until the next call or close */
	size_t n;                   /* the profile's stacks now (those new in the interval included) */
	uint64_t samples;           /* the sum of counts */
	uint64_t ns;                /* how long the interval was */
};
/* Takes the interval that ends now (a live view calls it from the tick callback, once a refresh):
 * 0, -ENOMEM, or -EINVAL after ct_profile_session_finish (which reorders the stacks). */
int ct_profile_session_interval(struct ct_profile_session *ps, struct ct_profile_interval *ret);
/* Sorts the profile and gathers the profilers' last warnings into the message queue. */
void ct_profile_session_finish(struct ct_profile_session *ps);
void ct_profile_session_stats(const struct ct_profile_session *ps, struct ct_profile_session_stats *ret);
/* The first process followed and its name, for titles. */
pid_t ct_profile_session_first_pid(const struct ct_profile_session *ps);
const char *ct_profile_session_first_comm(const struct ct_profile_session *ps);
/* Next message the session has for the user (its string valid until the next call), or NULL. */
const char *ct_profile_session_next_message(struct ct_profile_session *ps, enum ct_msg_level *ret_level);

#endif
