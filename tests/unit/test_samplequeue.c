/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sample queue both sampling sessions use: copies, order, the byte bound, refills while draining,
 * and a consumer's failure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "session/samplequeue.h"

struct seen {
	pid_t tids[64];
	uint8_t first_byte[64];
	size_t n;
	int fail_at;            /* consume fails at this sample (1-based), 0 never */
	struct ct_sample_queue *q;
	int refills, refill_pushes;
};

static struct ct_capture capture(pid_t tid, uint8_t *stack, size_t len)
{
	struct ct_capture c;
	memset(&c, 0, sizeof(c));
	c.tid = tid;
	c.stack = stack;
	c.stack_len = len;
	return c;
}

static int consume(void *arg, const struct ct_sample *s)
{
	struct seen *w = arg;
	if (w->fail_at && (int)w->n + 1 == w->fail_at)
		return -EIO;
	w->tids[w->n] = s->cap.tid;
	w->first_byte[w->n] = s->cap.stack_len ? s->cap.stack[0] : 0;
	w->n++;
	return 0;
}

static void copies_in_order(void **state)
{
	(void)state;
	struct ct_sample_queue q = CT_SAMPLE_QUEUE_INIT;
	uint8_t stack[16];
	for (pid_t t = 1; t <= 5; t++) {
		memset(stack, 0x10 + t, sizeof(stack));
		struct ct_capture c = capture(t, stack, sizeof(stack));
		struct ct_sample *e;
		assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
		assert_non_null(e);
		assert_ptr_not_equal(e->cap.stack, stack); /* a copy: the ring may be overwritten */
		e->weight = (uint64_t)t;
	}
	memset(stack, 0, sizeof(stack));
	assert_int_equal(q.bytes, 5 * sizeof(stack));
	struct seen w = { 0 };
	assert_int_equal(ct_sample_queue_drain(&q, consume, NULL, &w), 0);
	assert_int_equal(w.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(w.tids[i], (pid_t)i + 1);
		assert_int_equal(w.first_byte[i], 0x11 + i);
	}
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.n, 0);
	ct_sample_queue_free(&q);
}

static void bound_drops_and_counts(void **state)
{
	(void)state;
	struct ct_sample_queue q = CT_SAMPLE_QUEUE_INIT;
	q.max_bytes = 100;
	uint8_t stack[40] = { 0 };
	struct ct_capture c = capture(1, stack, sizeof(stack));
	struct ct_sample *e;
	assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
	assert_non_null(e);
	assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
	assert_non_null(e);
	assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0); /* 120 > 100 */
	assert_null(e);
	assert_int_equal(q.dropped, 1);
	struct seen w = { 0 };
	assert_int_equal(ct_sample_queue_drain(&q, consume, NULL, &w), 0);
	assert_int_equal(w.n, 2);
	/* drained, the room is back */
	assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
	assert_non_null(e);
	ct_sample_queue_free(&q);
	assert_null(q.q);
}

/* A refill pushes more samples while the queue drains: they are consumed in the same drain. */
static int slow_consume(void *arg, const struct ct_sample *s)
{
	usleep(3000); /* past CT_SAMPLE_QUEUE_REFILL_NS in two samples */
	return consume(arg, s);
}

static int refill(void *arg)
{
	struct seen *w = arg;
	w->refills++;
	if (w->refill_pushes >= 3)
		return 0;
	w->refill_pushes++;
	uint8_t stack[8];
	memset(stack, 0x40 + w->refill_pushes, sizeof(stack));
	struct ct_capture c = capture(100 + w->refill_pushes, stack, sizeof(stack));
	struct ct_sample *e;
	return ct_sample_queue_push(w->q, &c, &e);
}

static void refill_while_draining(void **state)
{
	(void)state;
	struct ct_sample_queue q = CT_SAMPLE_QUEUE_INIT;
	uint8_t stack[8] = { 0 };
	for (pid_t t = 1; t <= 4; t++) {
		struct ct_capture c = capture(t, stack, sizeof(stack));
		struct ct_sample *e;
		assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
	}
	struct seen w = { .q = &q };
	assert_int_equal(ct_sample_queue_drain(&q, slow_consume, refill, &w), 0);
	assert_true(w.refills >= 1);
	assert_int_equal(w.n, 4 + (size_t)w.refill_pushes);
	assert_int_equal(w.tids[4], 101);
	assert_int_equal(w.first_byte[4], 0x41);
	assert_int_equal(q.n, 0);
	ct_sample_queue_free(&q);
}

static void consumer_failure_keeps_the_rest(void **state)
{
	(void)state;
	struct ct_sample_queue q = CT_SAMPLE_QUEUE_INIT;
	uint8_t stack[8] = { 0 };
	for (pid_t t = 1; t <= 4; t++) {
		struct ct_capture c = capture(t, stack, sizeof(stack));
		struct ct_sample *e;
		assert_int_equal(ct_sample_queue_push(&q, &c, &e), 0);
	}
	struct seen w = { .fail_at = 2 };
	assert_int_equal(ct_sample_queue_drain(&q, consume, NULL, &w), -EIO);
	assert_int_equal(w.n, 1);
	assert_int_equal(q.n - q.head, 2); /* the failed one is let go, two stay queued */
	assert_int_equal(q.bytes, 2 * sizeof(stack));
	ct_sample_queue_free(&q); /* frees what is queued (ASan/valgrind see no leak) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copies_in_order),
		cmocka_unit_test(bound_drops_and_counts),
		cmocka_unit_test(refill_while_draining),
		cmocka_unit_test(consumer_failure_keeps_the_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
