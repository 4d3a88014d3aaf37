/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session/allocsites.h"

#include <errno.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "attach/perf.h"
#include "process/target.h"
#include "session/samplequeue.h"
#include "lib/util.h"
#include "lib/banned.h"

#define SCAN_NS 100000000ull /* new threads are followed within 0.1 s */

struct ct_allocsites {
	pid_t pid;
	struct ct_allocsites_opts o;
	char *comm;
	struct ct_profile *prof;
	uint64_t t_open;    /* the profile's duration counts from the open (symbols, probes) */
	struct ct_alloc_probes probes;
	struct ct_perf *perf;
	struct ct_profiler *pr;
	uint64_t period;
	struct ct_allocsites_stats stats;
	/* samples are copied out of the rings at once and unwound after the read: a ring is given back
	 * to the kernel only when its whole read ends, allocations come in bursts, and the first
	 * samples wait for debug information to load */
	struct ct_sample_queue queue;
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

/* One descriptor per thread and allocator function: a few hundred threads pass 1024; root may
 * raise the hard limit too. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20)) {
		struct rlimit want = { 1u << 20, CT_MAX(rl.rlim_max, (rlim_t)(1u << 20)) };
		if (setrlimit(RLIMIT_NOFILE, &want) < 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
}

int ct_allocsites_open(pid_t pid, const struct ct_allocsites_opts *o, struct ct_allocsites **ret)
{
	struct ct_allocsites *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->o = *o;
	s->t_open = ct_now_ns();
	struct ct_target tg;
	if (ct_target_open(pid, &tg) == 0) {
		s->comm = tg.comm;
		tg.comm = NULL;
		ct_target_clear(&tg);
	}
	raise_fd_limit();
	s->period = o->period > 1 ? prime_at_least(o->period) : 1;
	s->stats.period = s->period;
	struct ct_symbolizer *sym = NULL;
	struct ct_perf_probe pp[CT_PERF_MAX_PROBES];
	int r = ct_profile_new(&s->prof);
	if (r < 0)
		goto fail;
	s->prof->alloc = true;
	s->prof->start_ns = ct_realtime_ns();
	r = ct_profiler_open(pid, s->comm ? s->comm : "?", s->prof, &o->prof, &s->pr);
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
	ct_sample_queue_free(&s->queue);
	ct_alloc_probes_clear(&s->probes);
	ct_profile_free(s->prof);
	free(s->comm);
	free(s);
}

struct ct_profile *ct_allocsites_profile(const struct ct_allocsites *s)
{
	return s->prof;
}

const char *ct_allocsites_comm(const struct ct_allocsites *s)
{
	return s->comm ? s->comm : "?";
}

const struct ct_alloc_probes *ct_allocsites_probes(const struct ct_allocsites *s)
{
	return &s->probes;
}

/* Follows new threads; -ESRCH when the process is gone. */
static int scan(struct ct_allocsites *s)
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
	struct ct_sample *e;
	int r = ct_sample_queue_push(&s->queue, &ps->cap, &e);
	if (e)
		e->weight = weight;
	return r;
}

static int consume(void *arg, const struct ct_sample *e)
{
	struct ct_allocsites *s = arg;
	return ct_profiler_add(s->pr, &e->cap, false, NULL, s->period, e->weight);
}

static int refill(void *arg)
{
	struct ct_allocsites *s = arg;
	int r = ct_perf_read(s->perf, 0, on_sample, s);
	return r > 0 ? 0 : r;
}

/* Waits up to timeout_ms for samples and counts them. 0 or -errno. */
static int read_samples(struct ct_allocsites *s, int timeout_ms)
{
	int r = ct_perf_read(s->perf, timeout_ms, on_sample, s);
	if (r >= 0)
		r = ct_sample_queue_drain(&s->queue, consume, refill, s);
	if (r < 0) {
		/* what could not be unwound is let go; the count of dropped samples stays */
		uint64_t dropped = s->queue.dropped;
		ct_sample_queue_free(&s->queue);
		s->queue.dropped = dropped;
		return r;
	}
	return 0;
}

int ct_allocsites_run(struct ct_allocsites *s)
{
	uint64_t t0 = ct_now_ns(), next_scan = t0;
	uint64_t deadline = s->o.duration_s > 0 ? t0 + (uint64_t)(s->o.duration_s * 1e9) : UINT64_MAX;
	int r = 0;
	s->stats.end = "the duration ran out";
	while (!(s->o.stop && *s->o.stop) && ct_now_ns() < deadline) {
		if (ct_now_ns() >= next_scan) {
			next_scan = ct_now_ns() + SCAN_NS;
			if (scan(s) == -ESRCH) {
				s->stats.end = s->stats.exec ? "the process executed a new program"
							     : "the process has no thread left (gone)";
				break;
			}
		}
		uint64_t left_ms = (deadline - ct_now_ns()) / 1000000ull;
		if ((r = read_samples(s, (int)CT_MIN(left_ms + 1, 100ull))) < 0) {
			s->stats.end = "reading the samples failed";
			break;
		}
	}
	if (s->o.stop && *s->o.stop)
		s->stats.end = "stopped by a signal (SIGINT or SIGTERM)";
	if (r == 0)
		r = read_samples(s, 0); /* the last samples */
	s->prof->duration_ns = ct_now_ns() - s->t_open;
	ct_profile_sort(s->prof);
	return r;
}

const struct ct_allocsites_stats *ct_allocsites_stats(struct ct_allocsites *s)
{
	const struct ct_perf_stats *ps = ct_perf_stats(s->perf);
	s->stats.lost = ps->lost;
	s->stats.threads_seen = ps->threads_seen;
	s->stats.threads = ps->threads;
	s->stats.open_failed = ps->open_failed;
	s->stats.dropped = s->queue.dropped;
	return &s->stats;
}

const char *ct_allocsites_next_warning(struct ct_allocsites *s)
{
	return ct_profiler_next_warning(s->pr);
}
