/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The perf rings drained on a thread of their own, apart from unwinding. The session thread unwinds
 * and symbolizes, and a single step of that (the first symbolization of a large library: ~0.1 s of
 * CPU) takes seconds of wall time on a saturated machine, more still at nice 0 when ctrace may not
 * raise its priority; meanwhile nothing read the rings and the kernel dropped samples (measured: an
 * unprivileged ctrace against 150 spinning threads on 2 CPUs went 6.8 s between reads and lost 801
 * samples in a 3 s profile). This thread only waits on the rings and copies each sample out (its
 * registers and stack) into a queue bounded in bytes; the session thread takes the copies and does
 * the rest. It mostly sleeps, so the scheduler lets it run soon after each wakeup, and its work is
 * bounded by the sample rate (at most 99 records a second per CPU to copy at the default rate). It
 * runs at the session thread's priority (inherited), takes no signal, and every use of the perf
 * sampler by either thread is serialized by the caller's lock. */
#ifndef CT_SESSION_RINGREADER_H
#define CT_SESSION_RINGREADER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "attach/perf.h"

#define CT_RING_READER_WAIT_MS 50 /* the rings are read at least this often */

struct ct_ring_reader_stats {
	uint64_t reads;      /* the thread's reads of the rings */
	uint64_t cpu_ns;     /* the thread's CPU time (set once it is stopped) */
	uint64_t dropped;    /* samples refused for the byte bound */
	size_t peak_bytes;   /* the most stack bytes queued at once */
};

struct ct_ring_reader;

/* Starts the thread over p. lock serializes every use of p: the caller holds it around each of its
 * own ct_perf_* calls while the thread runs. max_bytes bounds the stack bytes queued. 0 or -errno
 * (the thread could not be created: the caller reads the rings itself). */
int ct_ring_reader_start(struct ct_perf *p, pthread_mutex_t *lock, size_t max_bytes, struct ct_ring_reader **ret);
/* Waits up to timeout_ms (0: not at all) for queued samples, then hands each to cb in order (the
 * sample's stack is valid during the call only). Returns 0, cb's first non-zero value, or the error
 * that stopped the thread. */
int ct_ring_reader_take(struct ct_ring_reader *r, int timeout_ms, ct_perf_cb cb, void *arg);
/* Stops and joins the thread (within CT_RING_READER_WAIT_MS); queued samples can still be taken.
 * Idempotent. */
void ct_ring_reader_stop(struct ct_ring_reader *r);
void ct_ring_reader_stats(struct ct_ring_reader *r, struct ct_ring_reader_stats *ret);
/* Stops the thread if needed and frees everything, samples not taken included. */
void ct_ring_reader_free(struct ct_ring_reader *r);

#endif
