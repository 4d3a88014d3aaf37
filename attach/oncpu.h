/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads on a CPU read from a perf sample instead of a stop. A thread that is running when the
 * snapshot reaches it (state R) is not interrupted: a cpu-clock event on every CPU samples whatever
 * runs there every millisecond, and the first sample of each such thread (its user registers and a
 * copy of its user stack, taken by the kernel in one timer interrupt) is its capture. The thread is
 * never stopped. It is done when the machine is saturated (ct_oncpu_saturated), where it keeps a
 * capture short: an interrupted thread enters its stop only at its next turn on a CPU, and a
 * released thread goes back ahead of those still waiting to stop, so each stop costs a scheduler
 * slice; a sample needs only the turn.
 * A sample is used only when its stack copy reaches the top of the mapping that holds the stack
 * pointer (so no frame is cut off); other threads are left to the stop, as are threads that stop
 * running before their sample comes. Needs cpu-wide events (root, CAP_PERFMON or
 * perf_event_paranoid <= 0): -EOPNOTSUPP otherwise, and every thread is stopped as before. */
#ifndef CT_ONCPU_H
#define CT_ONCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/capture.h"

struct ct_oncpu;

struct ct_oncpu_stats {
	size_t wanted;      /* threads handed over */
	size_t sampled;     /* captured from a sample */
	size_t incomplete;  /* samples not used: the stack copy stopped short of the stack's top */
	size_t left;        /* handed back for a stop (no longer running, or no sample in time) */
	uint64_t samples;   /* samples of the target read */
	uint64_t lost;      /* samples the kernel dropped (a ring was full) */
	uint64_t wait_ns;   /* time spent waiting for samples */
};

/* Starts sampling every CPU (1 kHz, stack_bytes of stack per sample, at most CT_PERF_MAX_STACK) for
 * process pid. 0, -EOPNOTSUPP when only per-thread events are allowed, or perf_event_open's -errno. */
int ct_oncpu_open(pid_t pid, size_t stack_bytes, struct ct_oncpu **ret);
void ct_oncpu_close(struct ct_oncpu *o);
/* Hands over caps[i] (prepared by the snapshot: tid, state and stat): its err becomes -EINPROGRESS
 * until a sample captures it. 0 or -ENOMEM. */
int ct_oncpu_want(struct ct_oncpu *o, struct ct_capture *caps, size_t i);
/* Reads samples until every thread handed over is captured or handed back, or until until_ns
 * (CLOCK_MONOTONIC), whichever is first; at until_ns the rest is handed back. A thread handed back
 * keeps err -EINPROGRESS (it needs a stop). A captured thread has err 0, stop_ns 0, CT_THREAD_PASSIVE
 * and CT_THREAD_SAMPLED. caps is the array the indices of ct_oncpu_want refer to. 0 or -errno (the
 * rest handed back). */
int ct_oncpu_collect(struct ct_oncpu *o, struct ct_capture *caps, uint64_t until_ns);
const struct ct_oncpu_stats *ct_oncpu_stats(const struct ct_oncpu *o);

/* Whether more threads are runnable on the machine than it has CPUs (/proc/loadavg's count, the
 * caller included): only then is a running thread read from a sample. On an idle machine a stop of
 * a running thread is over in some 0.1 ms, and a thread running just as it is listed may go to
 * sleep before its sample comes, which costs a wait. */
bool ct_oncpu_saturated(void);
/* Parses /proc/loadavg's runnable count. 0 or -EINVAL. Exposed for tests. */
int ct_oncpu_parse_loadavg(const char *text, long *ret_running);

/* The part of a sampled stack copy to keep: the bytes from sp up to the top of the mapping holding
 * sp (the stack's top). 0 when the copy stops short of it (a frame could be cut off), or when no
 * mapping holds sp. Exposed for tests. */
size_t ct_oncpu_stack_keep(const struct ct_proc_map *maps, size_t nmaps, uint64_t sp, size_t copied);

#endif
