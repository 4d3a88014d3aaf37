/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/ringreader.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "lib/banned.h"

struct ct_ring_reader {
	struct ct_perf *perf;
	pthread_mutex_t *perf_lock;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;   /* guards what follows */
	pthread_cond_t cond;  /* signalled when samples are queued or the thread ends */
	struct ct_perf_sample *q;
	size_t n, cap, bytes, max_bytes;
	bool stop, done;
	int err;
	struct ct_ring_reader_stats st;
};

/* Called by ct_perf_read on the reading thread: the sample's stack lives in the decoder's buffer
 * until the call returns, so it is copied. */
static int copy_sample(void *arg, const struct ct_perf_sample *s)
{
	struct ct_ring_reader *r = arg;
	uint8_t *stack = NULL;
	if (s->cap.stack_len && !(stack = malloc(s->cap.stack_len)))
		return -ENOMEM;
	if (stack)
		memcpy(stack, s->cap.stack, s->cap.stack_len);
	int ret = 0;
	pthread_mutex_lock(&r->mu);
	if (r->bytes + s->cap.stack_len > r->max_bytes) {
		r->st.dropped++;
		free(stack);
	} else if (ct_grow(&r->q, &r->cap, r->n + 1, sizeof(*r->q)) < 0) {
		free(stack);
		ret = -ENOMEM;
	} else {
		struct ct_perf_sample *e = &r->q[r->n++];
		*e = *s;
		e->cap.stack = stack;
		r->bytes += s->cap.stack_len;
		r->st.peak_bytes = CT_MAX(r->st.peak_bytes, r->bytes);
	}
	pthread_mutex_unlock(&r->mu);
	return ret;
}

static bool stopping(struct ct_ring_reader *r)
{
	pthread_mutex_lock(&r->mu);
	bool s = r->stop;
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void *reader_main(void *arg)
{
	struct ct_ring_reader *r = arg;
	int err = 0;
	while (!err && !stopping(r)) {
		err = ct_perf_wait(r->perf, CT_RING_READER_WAIT_MS);
		if (err < 0)
			break;
		pthread_mutex_lock(r->perf_lock);
		err = ct_perf_read(r->perf, 0, copy_sample, r);
		pthread_mutex_unlock(r->perf_lock);
		pthread_mutex_lock(&r->mu);
		r->st.reads++;
		if (r->n)
			pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->mu);
	}
	struct timespec ts;
	uint64_t cpu = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 ?
		(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec : 0;
	pthread_mutex_lock(&r->mu);
	r->err = err < 0 ? err : 0;
	r->st.cpu_ns = cpu;
	r->done = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int ct_ring_reader_start(struct ct_perf *p, pthread_mutex_t *lock, size_t max_bytes, struct ct_ring_reader **ret)
{
	struct ct_ring_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->perf = p;
	r->perf_lock = lock;
	r->max_bytes = max_bytes;
	pthread_condattr_t ca;
	int e = pthread_condattr_init(&ca);
	if (e == 0) {
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		e = pthread_cond_init(&r->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (e == 0 && (e = pthread_mutex_init(&r->mu, NULL)) != 0)
		pthread_cond_destroy(&r->cond);
	if (e != 0) {
		free(r);
		return -e;
	}
	/* every signal stays with the session thread (stop flags, SIGALRM, SIGXCPU) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cond);
		free(r);
		return -e;
	}
	pthread_setname_np(r->thread, "ctrace-rings");
	r->running = true;
	*ret = r;
	return 0;
}

int ct_ring_reader_take(struct ct_ring_reader *r, int timeout_ms, ct_perf_cb cb, void *arg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->n && !r->done && timeout_ms > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * 1000000ull;
		ts.tv_sec += (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		pthread_cond_timedwait(&r->cond, &r->mu, &ts); /* a timeout or a spurious wakeup: 0 samples */
	}
	struct ct_perf_sample *q = r->q;
	size_t n = r->n;
	int err = r->err;
	r->q = NULL;
	r->n = r->cap = r->bytes = 0;
	pthread_mutex_unlock(&r->mu);
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		if (ret == 0)
			ret = cb(arg, &q[i]);
		free(q[i].cap.stack);
	}
	free(q);
	return ret ? ret : err;
}

void ct_ring_reader_stop(struct ct_ring_reader *r)
{
	if (!r || !r->running)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->running = false;
}

void ct_ring_reader_stats(struct ct_ring_reader *r, struct ct_ring_reader_stats *ret)
{
	pthread_mutex_lock(&r->mu);
	*ret = r->st;
	pthread_mutex_unlock(&r->mu);
}

void ct_ring_reader_free(struct ct_ring_reader *r)
{
	if (!r)
		return;
	ct_ring_reader_stop(r);
	for (size_t i = 0; i < r->n; i++)
		free(r->q[i].cap.stack);
	free(r->q);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	free(r);
}
