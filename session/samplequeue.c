/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/samplequeue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

int ct_sample_queue_push(struct ct_sample_queue *q, const struct ct_capture *cap, struct ct_sample **ret)
{
	*ret = NULL;
	size_t max = q->max_bytes ? q->max_bytes : CT_SAMPLE_QUEUE_MAX_BYTES;
	if (q->bytes + cap->stack_len > max) {
		q->dropped++;
		return 0;
	}
	if (q->head && q->head == q->n)
		q->head = q->n = 0;
	if (ct_grow(&q->q, &q->cap, q->n + 1, sizeof(*q->q)) < 0)
		return -ENOMEM;
	struct ct_sample *e = &q->q[q->n];
	memset(e, 0, sizeof(*e));
	e->cap = *cap;
	e->cap.stack = NULL;
	e->cap.interp = NULL; /* the caller's: a queued sample's own chain is set on the entry */
	e->cap.interp_len = 0;
	if (cap->stack_len) {
		e->cap.stack = malloc(cap->stack_len);
		if (!e->cap.stack)
			return -ENOMEM;
		memcpy(e->cap.stack, cap->stack, cap->stack_len);
	}
	q->bytes += cap->stack_len;
	q->n++;
	*ret = e;
	return 0;
}

int ct_sample_queue_drain(struct ct_sample_queue *q, int (*consume)(void *arg, const struct ct_sample *s),
			  int (*refill)(void *arg), void *arg)
{
	uint64_t last_refill = ct_now_ns();
	int r = 0;
	while (q->head < q->n && r >= 0) {
		/* refill may grow the queue: copy the entry out, never keep a pointer into it */
		struct ct_sample e = q->q[q->head++];
		r = consume(arg, &e);
		q->bytes -= e.cap.stack_len;
		free(e.cap.stack);
		free(e.cap.interp);
		if (r >= 0 && refill && ct_now_ns() - last_refill > CT_SAMPLE_QUEUE_REFILL_NS) {
			r = refill(arg);
			last_refill = ct_now_ns();
		}
	}
	if (q->head == q->n)
		q->head = q->n = 0;
	return r < 0 ? r : 0;
}

void ct_sample_queue_free(struct ct_sample_queue *q)
{
	for (size_t i = q->head; i < q->n; i++)
	{
		free(q->q[i].cap.stack);
		free(q->q[i].cap.interp);
	}
	free(q->q);
	memset(q, 0, sizeof(*q));
}
