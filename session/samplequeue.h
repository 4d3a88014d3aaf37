/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sample queue both sampling sessions use: a sample is copied out of the perf ring at once (the
 * kernel may overwrite the ring as soon as the read ends) and unwound afterwards, going back to the
 * rings every few milliseconds meanwhile, so a slow first symbolization (a large libc debug file)
 * does not let the rings fill. The stack copies are bounded in bytes; a sample beyond the bound is
 * dropped and counted. */
#ifndef CT_SESSION_SAMPLEQUEUE_H
#define CT_SESSION_SAMPLEQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/capture.h"

#define CT_SAMPLE_QUEUE_MAX_BYTES (64u << 20)
#define CT_SAMPLE_QUEUE_REFILL_NS 5000000ull /* back to the rings this often while draining */

/* One queued sample. cap.stack is the queue's copy; cap.interp (NULL when pushed) is freed with the
 * entry; the other fields are the caller's to fill. */
struct ct_sample {
	struct ct_capture cap;
	void *owner;          /* what the sample belongs to (a followed process) */
	uint64_t count, weight;
	bool in_kernel;
	bool exec;            /* the process executed a new program here */
	char comm[16];
	char thread[32];      /* --per-thread frame, or "" */
};

struct ct_sample_queue {
	struct ct_sample *q;
	size_t head, n, cap;
	size_t bytes, max_bytes;  /* stack bytes queued; the bound (0: CT_SAMPLE_QUEUE_MAX_BYTES) */
	uint64_t dropped;         /* samples refused for the bound */
};

#define CT_SAMPLE_QUEUE_INIT { NULL, 0, 0, 0, 0, 0, 0 }

/* Queues a copy of cap (its stack copied). *ret is the entry to fill (valid until the next push),
 * or NULL when the sample was dropped for the byte bound. 0 or -ENOMEM. */
int ct_sample_queue_push(struct ct_sample_queue *q, const struct ct_capture *cap, struct ct_sample **ret);
/* Hands every queued sample to consume, oldest first, and calls refill (which may push) every
 * CT_SAMPLE_QUEUE_REFILL_NS. Stops at the first negative return, which it returns; the samples not
 * consumed stay queued. */
int ct_sample_queue_drain(struct ct_sample_queue *q, int (*consume)(void *arg, const struct ct_sample *s),
			  int (*refill)(void *arg), void *arg);
void ct_sample_queue_free(struct ct_sample_queue *q);

#endif
