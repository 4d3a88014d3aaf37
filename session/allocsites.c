/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/allocsites.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attach/perf.h"
#include "lib/util.h"
#include "lib/banned.h"

/* Samples are copied out of the rings at once and unwound after the read, going back to the rings
 * every few milliseconds meanwhile: a ring is given back to the kernel only when its whole read
 * ends, allocations come in bursts, and the first samples wait for debug information to load. */
struct pending {
	struct ct_capture cap;
	uint64_t bytes;
};

#define QUEUE_MAX_BYTES (64u << 20)

struct ct_allocsites {
	pid_t pid;
	struct ct_alloc_probes probes;
	struct ct_perf *perf;
	struct ct_profiler *pr;
	uint64_t period;
	struct ct_allocsites_stats stats;
	struct pending *q;
	size_t nq, cap_q, q_bytes;
};

/* The prime at or above n: a loop that calls the allocator k times per iteration is sampled at every
 * call of it unless k is a multiple of the period, which a prime makes rare. */
static uint64_t prime_at_least(uint64_t n)
{
	for (;; n++) {
		bool prime = n >= 2;
		for (uint64_t d = 2; prime && d * d <= n; d++)
			prime = n % d != 0;
		if (prime)
			return n;
	}
}

int ct_allocsites_open(pid_t pid, const char *root_name, struct ct_profile *prof,
		       const struct ct_allocsites_opts *o, struct ct_allocsites **ret)
{
	struct ct_allocsites *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->period = o->period > 1 ? prime_at_least(o->period) : 1;
	s->stats.period = s->period;
	struct ct_symbolizer *sym = NULL;
	struct ct_perf_probe pp[CT_PERF_MAX_PROBES];
	int r = ct_profiler_open(pid, root_name, prof, &o->prof, &s->pr);
	if (r == 0)
		r = ct_sym_open(pid, &o->prof.sym, &sym);
	if (r == 0)
		r = ct_alloc_probes_find(pid, sym, &s->probes);
	ct_sym_close(sym);
	if (r < 0)
		goto fail;
	s->stats.nfn = CT_MIN(s->probes.n, (size_t)CT_PERF_MAX_PROBES);
	for (size_t i = 0; i < s->stats.nfn; i++) {
		pp[i] = (struct ct_perf_probe){ s->probes.p[i].path, s->probes.p[i].offset };
		s->stats.fn[i].name = s->probes.p[i].name;
	}
	r = ct_perf_open_uprobes(pid, pp, s->stats.nfn, s->period, o->stack_bytes, &s->perf);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	ct_allocsites_close(s);
	return r;
}

void ct_allocsites_close(struct ct_allocsites *s)
{
	if (!s)
		return;
	ct_perf_close(s->perf);
	ct_profiler_close(s->pr);
	for (size_t i = 0; i < s->nq; i++)
		free(s->q[i].cap.stack);
	free(s->q);
	ct_alloc_probes_clear(&s->probes);
	free(s);
}

const struct ct_alloc_probes *ct_allocsites_probes(const struct ct_allocsites *s)
{
	return &s->probes;
}

int ct_allocsites_scan(struct ct_allocsites *s)
{
	if (s->stats.exec)
		return -ESRCH;
	int r = ct_perf_scan(s->perf, s->pid);
	return r < 0 ? r : 0;
}

static int on_sample(void *arg, const struct ct_perf_sample *ps)
{
	struct ct_allocsites *s = arg;
	if (ps->exec) {
		/* the probes' addresses belong to the old program */
		s->stats.exec = true;
		return 1;
	}
	if (s->stats.exec)
		return 0;
	const struct ct_alloc_probe *p = ct_alloc_probe_at(&s->probes, ps->ip);
	if (!p || ps->cap.err || p - s->probes.p >= (ptrdiff_t)s->stats.nfn) {
		s->stats.unknown++;
		return 0;
	}
	struct ct_allocsites_fn *f = &s->stats.fn[p - s->probes.p];
	f->samples++;
	s->stats.samples++;
	uint64_t bytes;
	if (!ct_alloc_call_bytes(s->probes.alloc.kind, p->fn, ps->cap.regs, &bytes)) {
		f->handed_on++;
		return 0;
	}
	uint64_t weight = bytes > UINT64_MAX / s->period ? UINT64_MAX : bytes * s->period;
	f->calls += s->period;
	f->bytes += weight;
	if (s->q_bytes + ps->cap.stack_len > QUEUE_MAX_BYTES) {
		s->stats.dropped++;
		return 0;
	}
	if (ct_grow(&s->q, &s->cap_q, s->nq + 1, sizeof(*s->q)) < 0)
		return -ENOMEM;
	struct pending *e = &s->q[s->nq];
	e->cap = ps->cap;
	e->bytes = weight;
	if (ps->cap.stack_len) {
		e->cap.stack = malloc(ps->cap.stack_len);
		if (!e->cap.stack)
			return -ENOMEM;
		memcpy(e->cap.stack, ps->cap.stack, ps->cap.stack_len);
	}
	s->q_bytes += ps->cap.stack_len;
	s->nq++;
	return 0;
}

int ct_allocsites_read(struct ct_allocsites *s, int timeout_ms)
{
	int r = ct_perf_read(s->perf, timeout_ms, on_sample, s);
	uint64_t last_read = ct_now_ns();
	for (size_t i = 0; i < s->nq; i++) {
		/* on_sample may grow the queue: index it, never keep a pointer across a read */
		if (r >= 0) {
			int a = ct_profiler_add(s->pr, &s->q[i].cap, false, NULL, s->period, s->q[i].bytes);
			if (a < 0)
				r = a;
		}
		free(s->q[i].cap.stack);
		s->q[i].cap.stack = NULL;
		s->q_bytes -= s->q[i].cap.stack_len;
		if (r >= 0 && ct_now_ns() - last_read > 5000000ull) {
			r = ct_perf_read(s->perf, 0, on_sample, s);
			last_read = ct_now_ns();
		}
	}
	s->nq = 0;
	s->q_bytes = 0;
	return r > 0 ? 0 : r;
}

const struct ct_allocsites_stats *ct_allocsites_stats(struct ct_allocsites *s)
{
	const struct ct_perf_stats *ps = ct_perf_stats(s->perf);
	s->stats.lost = ps->lost;
	s->stats.threads_seen = ps->threads_seen;
	s->stats.threads = ps->threads;
	s->stats.open_failed = ps->open_failed;
	return &s->stats;
}

const char *ct_allocsites_next_warning(struct ct_allocsites *s)
{
	return ct_profiler_next_warning(s->pr);
}
