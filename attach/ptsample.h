/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ptrace sampler: one sample is a snapshot (attach/snapshot.h) of the threads that count, each
 * stopped only for its register and stack copy. The caller drives it from a jittered timer. */
#ifndef CT_PTSAMPLE_H
#define CT_PTSAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/snapshot.h"

/* Samples pid: every thread (only_running false: wall-clock mode), or only the threads /proc shows
 * running (state R: CPU mode), so a CPU profile never stops a thread that is blocked.
 * Returns 0 with *ret (possibly empty), or -ESRCH when the process is gone, or -errno. */
int ct_ptsample_take(pid_t pid, bool only_running, const struct ct_attach_opts *o,
		     struct ct_capture_set **ret);

/* The next delay of a jittered timer: period_ns +- 50 %, uniformly, so sampling never locks step
 * with periodic work in the target. seed is the caller's PRNG state. */
uint64_t ct_ptsample_next_delay(uint64_t period_ns, uint64_t *seed);

#endif
