/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach/oncpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/perf.h"
#include "lib/model.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

/* 1 kHz per CPU: a thread's turn on a CPU under contention is a scheduler slice (1.5 ms with
 * EEVDF's defaults on 2 CPUs, more on bigger machines), so nearly every turn holds a sample. The
 * cost is one stack copy per CPU and millisecond, whatever runs there, for the collection only. */
#define ONCPU_HZ 1000
/* Stack bytes per sample: every sample of every CPU copies this much, so the rings hold twice as
 * many samples as at perf's 63 KiB (measured on 1000 spinning threads: 555-1033 samples lost at 63
 * KiB, none at 32). A thread whose stack is deeper is stopped instead. */
#define ONCPU_MAX_STACK (32 * 1024)
/* How often the threads still waiting are checked for having stopped running (they then need a
 * stop, which is quick for a sleeping thread): after 2 ms, then twice as long each time up to 64 ms
 * (a thread that was running when listed but goes to sleep is stopped soon). */
#define RECHECK_FIRST_NS 2000000ull
#define RECHECK_MAX_NS 64000000ull
#define RECHECK_BATCH 256
#define MAX_MAPS (1u << 20)
#define MAX_MAPS_READS 8

struct want {
	pid_t tid;
	size_t i;  /* index into the caps array */
	bool done; /* captured or handed back */
};

struct ct_oncpu {
	pid_t pid;
	struct ct_perf *perf;
	struct want *w; /* sorted by tid once collecting */
	size_t nw, cap_w, ndone;
	size_t recheck_next; /* where the next recheck starts */
	bool sorted;
	struct ct_proc_map *maps;
	size_t nmaps;
	int maps_reads;
	struct ct_capture *caps; /* during collect */
	struct ct_oncpu_stats stats;
};

int ct_oncpu_open(pid_t pid, size_t stack_bytes, struct ct_oncpu **ret)
{
	struct ct_oncpu *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->pid = pid;
	struct ct_perf_opts po = { ONCPU_HZ, CT_MIN(stack_bytes, (size_t)ONCPU_MAX_STACK) };
	int r = ct_perf_open(&po, &o->perf);
	if (r == 0 && !ct_perf_stats(o->perf)->cpu_wide)
		r = -EOPNOTSUPP; /* an event per thread would start each with a whole period to run */
	if (r == 0)
		r = ct_perf_add(o->perf, pid, 0);
	if (r < 0) {
		ct_oncpu_close(o);
		return r;
	}
	*ret = o;
	return 0;
}

void ct_oncpu_close(struct ct_oncpu *o)
{
	if (!o)
		return;
	ct_perf_close(o->perf);
	ct_proc_maps_free(o->maps, o->nmaps);
	free(o->w);
	free(o);
}

const struct ct_oncpu_stats *ct_oncpu_stats(const struct ct_oncpu *o)
{
	return &o->stats;
}

int ct_oncpu_want(struct ct_oncpu *o, struct ct_capture *caps, size_t i)
{
	if (ct_grow(&o->w, &o->cap_w, o->nw + 1, sizeof(*o->w)) < 0)
		return -ENOMEM;
	o->w[o->nw++] = (struct want){ caps[i].tid, i, false };
	o->sorted = false;
	o->stats.wanted++;
	caps[i].err = -EINPROGRESS;
	return 0;
}

static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static struct want *find_want(struct ct_oncpu *o, pid_t tid)
{
	struct want key = { tid, 0, false };
	return bsearch(&key, o->w, o->nw, sizeof(*o->w), cmp_want);
}

int ct_oncpu_parse_loadavg(const char *text, long *ret_running)
{
	/* "0.52 0.58 0.59 3/1234 5678": the fourth field is runnable/total scheduling entities */
	const char *p = text;
	for (int field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	char *end;
	errno = 0;
	long n = strtol(p, &end, 10);
	if (end == p || *end != '/' || errno || n < 0)
		return -EINVAL;
	*ret_running = n;
	return 0;
}

bool ct_oncpu_saturated(void)
{
	/* The runnable count is of one instant and counts ctrace's own thread: with one thread of
	 * the target on a CPU of two it read 3 in 40% of reads (a kworker, a timer). The fewest of
	 * three reads, less ctrace, must exceed the CPUs: on a saturated machine it does by far. */
	long least = -1, cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *text = NULL;
		long running;
		if (ct_read_file("/proc/loadavg", 256, &text, NULL) < 0 || ct_oncpu_parse_loadavg(text, &running) < 0)
			return false;
		least = least < 0 ? running : CT_MIN(least, running);
	}
	return cpus >= 1 && least - 1 > cpus;
}

size_t ct_oncpu_stack_keep(const struct ct_proc_map *maps, size_t nmaps, uint64_t sp, size_t copied)
{
	const struct ct_proc_map *m = ct_proc_map_find(maps, nmaps, sp);
	if (!m)
		return 0;
	uint64_t need = m->end - sp;
	return need <= copied ? (size_t)need : 0;
}

static int read_maps(struct ct_oncpu *o)
{
	if (o->maps_reads >= MAX_MAPS_READS)
		return -E2BIG;
	o->maps_reads++;
	_cleanup_free_ char *text = NULL;
	int r = ct_proc_read(o->pid, 0, "maps", 256u << 20, &text);
	struct ct_proc_map *maps = NULL;
	size_t n = 0;
	if (r == 0)
		r = ct_parse_proc_maps(text, MAX_MAPS, &maps, &n);
	if (r < 0)
		return r;
	ct_proc_maps_free(o->maps, o->nmaps);
	o->maps = maps;
	o->nmaps = n;
	return 0;
}

static void hand_back(struct ct_oncpu *o, struct want *w)
{
	w->done = true;
	o->ndone++;
	o->stats.left++;
}

static int on_sample(void *arg, const struct ct_perf_sample *ps)
{
	struct ct_oncpu *o = arg;
	if (ps->exec || ps->pid != o->pid)
		return 0;
	o->stats.samples++;
	struct want *w = find_want(o, ps->tid);
	if (!w || w->done || ps->cap.err || !ps->cap.stack || !(ps->cap.regs_valid & (1u << CT_REG_RSP)))
		return 0;
	uint64_t sp = ps->cap.regs[CT_REG_RSP];
	/* a stack mapped since the last read (a new thread's) */
	if (!ct_proc_map_find(o->maps, o->nmaps, sp))
		(void)read_maps(o);
	size_t keep = ct_oncpu_stack_keep(o->maps, o->nmaps, sp, ps->cap.stack_len);
	if (!keep) {
		/* the copy may cut frames off: this thread needs a stop */
		o->stats.incomplete++;
		hand_back(o, w);
		return 0;
	}
	uint8_t *stack = malloc(keep);
	if (!stack)
		return -ENOMEM;
	memcpy(stack, ps->cap.stack, keep);
	struct ct_capture *c = &o->caps[w->i];
	memcpy(c->regs, ps->cap.regs, sizeof(c->regs));
	c->regs_valid = ps->cap.regs_valid;
	free(c->stack);
	c->stack = stack;
	c->stack_start = sp;
	c->stack_len = keep;
	c->syscall_nr = CT_SYSCALL_NONE;
	c->stop_ns = 0;
	c->fs_base = 0;
	c->flags |= CT_THREAD_PASSIVE | CT_THREAD_SAMPLED;
	c->err = 0;
	w->done = true;
	o->ndone++;
	o->stats.sampled++;
	return 0;
}

/* Threads waiting for a sample that no longer run (asleep, stopped, gone) are handed back. */
static void recheck(struct ct_oncpu *o)
{
	/* at most RECHECK_BATCH /proc reads a time, taken in turn: with thousands of threads the reads
	 * must not keep ctrace (boosted) on a CPU between the ring reads */
	size_t start = o->recheck_next;
	for (size_t k = 0, read = 0; k < o->nw && read < RECHECK_BATCH; k++) {
		struct want *w = &o->w[(start + k) % o->nw];
		if (w->done)
			continue;
		read++;
		o->recheck_next = (start + k + 1) % o->nw;
		_cleanup_free_ char *text = NULL;
		struct ct_proc_stat st;
		if (ct_proc_read(o->pid, w->tid, "stat", 4096, &text) < 0 || ct_parse_proc_stat(text, &st) < 0 ||
		    st.state != 'R')
			hand_back(o, w);
	}
}

int ct_oncpu_collect(struct ct_oncpu *o, struct ct_capture *caps, uint64_t until_ns)
{
	if (!o->sorted) {
		qsort(o->w, o->nw, sizeof(*o->w), cmp_want);
		o->sorted = true;
	}
	o->caps = caps;
	uint64_t t0 = ct_now_ns(), every = RECHECK_FIRST_NS, next_check = t0 + every;
	int r = 0;
	if (!o->nmaps)
		(void)read_maps(o);
	while (o->ndone < o->nw) {
		uint64_t now = ct_now_ns();
		if (now >= until_ns)
			break;
		if (now >= next_check) {
			recheck(o);
			every = CT_MIN(every * 2, RECHECK_MAX_NS);
			next_check = now + every;
			continue;
		}
		uint64_t left_ms = (CT_MIN(until_ns, next_check) - now) / 1000000ull + 1;
		r = ct_perf_read(o->perf, (int)CT_MIN(left_ms, 10ull), on_sample, o);
		if (r < 0)
			break;
	}
	for (size_t k = 0; k < o->nw; k++)
		if (!o->w[k].done)
			hand_back(o, &o->w[k]);
	o->stats.lost = ct_perf_stats(o->perf)->lost;
	o->stats.wait_ns += ct_now_ns() - t0;
	o->caps = NULL;
	return r < 0 ? r : 0;
}
