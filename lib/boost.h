/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bounded raise of the calling thread's own CPU priority, for the few milliseconds a capture
 * keeps target threads stopped: on a machine whose CPUs the target saturates, a stopped thread
 * otherwise waits for ctrace to be scheduled again before it is released. Only ctrace's calling
 * thread is changed, never the target's scheduling (policy, priority, affinity).
 *
 * In order of preference: SCHED_FIFO at the lowest real-time priority (1: above every ordinary
 * thread, below the kernel's own real-time threads), bounded by the kernel with RLIMIT_RTTIME (a
 * thread that runs CT_BOOST_RTTIME_SOFT_US without blocking gets SIGXCPU, whose handler drops it
 * back to SCHED_OTHER; at CT_BOOST_RTTIME_HARD_US the kernel kills it) and by the system's
 * real-time throttling (sched_rt_runtime_us); else nice CT_BOOST_NICE; else nothing. The caller
 * bounds the boost in wall time too: ct_boost_check ends it past max_ns. Children do not inherit
 * it (SCHED_RESET_ON_FORK). */
#ifndef CT_BOOST_H
#define CT_BOOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define CT_BOOST_RTTIME_SOFT_US 200000ul  /* CPU time without blocking before SIGXCPU */
#define CT_BOOST_RTTIME_HARD_US 1000000ul /* ... before the kernel's SIGKILL */
#define CT_BOOST_NICE (-10)          /* a sampling session's thread (--profile, --top) */
#define CT_BOOST_NICE_SNAPSHOT (-20) /* a snapshot session's thread, and the capture without FIFO */

enum ct_boost_kind {
	CT_BOOST_NONE,  /* not permitted, or not asked */
	CT_BOOST_FIFO,  /* SCHED_FIFO priority 1 */
	CT_BOOST_NICEK, /* a nice level (struct ct_boost's nice) */
};

struct ct_boost {
	enum ct_boost_kind kind; /* what holds now */
	enum ct_boost_kind used; /* what was used at begin */
	bool cut;                /* ended early: SIGXCPU, or max_ns passed */
	pid_t tid;
	int old_policy, old_prio, old_nice;
	struct rlimit old_rttime;
	bool rttime_set, handler_set;
	uint64_t start_ns, max_ns;
	int err;               /* why FIFO was refused (-EPERM …), 0 when used */
	int nice;              /* the nice level of CT_BOOST_NICEK */
};

/* Raises the calling thread's priority for at most max_ns of wall time (checked by ct_boost_check
 * and ended by ct_boost_end): SCHED_FIFO, else nice CT_BOOST_NICE_SNAPSHOT. Never fails: b->kind
 * says what was used. */
void ct_boost_begin(struct ct_boost *b, uint64_t max_ns);
/* The CFS part alone: nice `nice` for the calling thread until ct_boost_end (a share of a CPU by
 * weight, never more than its work uses; no real-time policy for a session that may last hours):
 * CT_BOOST_NICE for a sampling session's thread, whose work is bounded by the sample rate;
 * CT_BOOST_NICE_SNAPSHOT for a snapshot session's, whose work is bounded by the threads captured.
 * Nothing when the thread already runs at that level or above. */
void ct_boost_begin_nice_at(struct ct_boost *b, int nice);
/* ct_boost_begin_nice_at(b, CT_BOOST_NICE) */
void ct_boost_begin_nice(struct ct_boost *b);
/* Ends the boost early when it has lasted max_ns, or when SIGXCPU has already dropped it. Cheap:
 * call it in loops. Returns whether the boost still holds. */
bool ct_boost_check(struct ct_boost *b);
/* Restores the thread's policy, priority, nice and RLIMIT_RTTIME. Idempotent. */
void ct_boost_end(struct ct_boost *b);
/* "SCHED_FIFO 1 (RLIMIT_RTTIME 200 ms)", "nice -20", "none (…)": for -v. */
const char *ct_boost_describe(const struct ct_boost *b, char *buf, size_t n);

#endif
