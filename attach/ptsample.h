/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ptrace sampler: one sample is a snapshot (attach/snapshot.h) of the threads that count, each
 * stopped only for its register and stack copy. The caller drives it from a jittered timer. */
#ifndef CT_PTSAMPLE_H
#define CT_PTSAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/snapshot.h"

/* What CPU mode remembers between samples: each thread's CPU time (schedstat) at the previous
 * one and the CPU time it used since that no sample stood for yet. */
struct ct_ptsample_state {
	uint64_t period_ns;  /* set by the caller: the CPU time one sample stands for */
	pid_t *tids;
	uint64_t *run_ns, *credit_ns;
	size_t n, cap;
	unsigned *counts;    /* after a take: how many samples each capture stands for */
	size_t cap_counts;
};

/* Samples pid (only thread only_tid when > 0): every thread (state NULL: wall-clock mode; each capture is one sample), or, in CPU
 * mode, the threads that /proc shows running (state R) whose CPU time since they were last
 * sampled reaches a period: such a capture stands for that CPU time in periods (state->counts),
 * so a thread that waits for a CPU on a busy machine (R too) is not over-counted, and a blocked
 * thread is never stopped. Returns 0 with *ret (possibly empty), -ESRCH when the process is gone,
 * or -errno. a is the session's capture state (attach/snapshot.h). */
int ct_ptsample_take(struct ct_attach *a, pid_t pid, pid_t only_tid, struct ct_ptsample_state *state,
		     const struct ct_attach_opts *o, struct ct_capture_set **ret);
void ct_ptsample_state_free(struct ct_ptsample_state *state);

/* The next delay of a jittered timer: period_ns +- 50 %, uniformly, so sampling never locks step
 * with periodic work in the target. seed is the caller's PRNG state. */
uint64_t ct_ptsample_next_delay(uint64_t period_ns, uint64_t *seed);

#endif
