/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach/perf.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/model.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_THREADS 65536

struct ev {
	pid_t tid;
	int fd;
	struct perf_event_mmap_page *meta;
	size_t map_len, data_size; /* data_size is a power of two */
	bool hup;                  /* the thread exited; closed once drained */
	bool present;              /* seen in the last scan of /proc/PID/task */
	int *more_fds;             /* uprobes 1..n-1 of this thread, writing into fd's ring */
};

struct ct_perf {
	pid_t pid;
	struct perf_event_attr attr;
	struct ev *evs;
	size_t nevs, cap_evs;
	struct pollfd *pfds;
	size_t cap_pfds;
	uint8_t *rec;  /* one record, linearized across the ring's wrap */
	struct ct_perf_stats stats;
	bool exclude_kernel;
	struct ct_perf_probe *probes; /* uprobes instead of cpu-clock (paths copied) */
	size_t nprobes;
};

/* Read little-endian fields at a bounded cursor. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool take(struct cursor *c, void *out, size_t n)
{
	if (c->left < n)
		return false;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

/* perf's x86 register order (AX BX CX DX SI DI BP SP IP R8..R15) -> DWARF numbers. */
static const uint8_t perf_to_dwarf[CT_PERF_NREGS] = { 0, 3, 2, 1, 4, 5, 6, 7, CT_REG_RIP,
						      8, 9, 10, 11, 12, 13, 14, 15 };

int ct_perf_decode(const void *rec, size_t len, struct ct_perf_sample *ret, uint64_t *ret_lost)
{
	struct perf_event_header h;
	struct cursor c = { rec, len };
	if (!take(&c, &h, sizeof(h)) || h.size < sizeof(h) || h.size > len)
		return -EBADMSG;
	c.left = h.size - sizeof(h);
	if (h.type == PERF_RECORD_LOST) {
		uint64_t id, lost;
		if (!take(&c, &id, 8) || !take(&c, &lost, 8))
			return -EBADMSG;
		if (ret_lost)
			*ret_lost = lost;
		return -ENOMSG;
	}
	if (h.type == PERF_RECORD_COMM && (h.misc & PERF_RECORD_MISC_COMM_EXEC)) {
		uint32_t ids[2];
		if (!take(&c, ids, 8) || c.left == 0)
			return -EBADMSG;
		memset(ret, 0, sizeof(*ret));
		ret->pid = (pid_t)ids[0];
		ret->tid = (pid_t)ids[1];
		ret->exec = true;
		return 0;
	}
	if (h.type != PERF_RECORD_SAMPLE)
		return -ENOMSG;

	memset(ret, 0, sizeof(*ret));
	uint32_t ids[2];
	uint64_t abi, size;
	if (!take(&c, &ret->ip, 8) || !take(&c, ids, 8) || !take(&c, &ret->time_ns, 8) || !take(&c, &abi, 8))
		return -EBADMSG;
	ret->pid = (pid_t)ids[0];
	ret->tid = (pid_t)ids[1];
	ret->in_kernel = (h.misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;
	ret->cap.tid = ret->tid;
	ret->cap.state_before = 'R';
	ret->cap.syscall_nr = CT_SYSCALL_NONE;
	if (abi == PERF_SAMPLE_REGS_ABI_64) {
		uint64_t regs[CT_PERF_NREGS];
		if (!take(&c, regs, sizeof(regs)))
			return -EBADMSG;
		for (int i = 0; i < CT_PERF_NREGS; i++) {
			ret->cap.regs[perf_to_dwarf[i]] = regs[i];
			ret->cap.regs_valid |= 1u << perf_to_dwarf[i];
		}
	} else if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
		/* a 32-bit task: its registers are there but ctrace does not unwind them */
		uint64_t skip[CT_PERF_NREGS];
		if (!take(&c, skip, sizeof(skip)))
			return -EBADMSG;
		ret->cap.err = -EPROTONOSUPPORT;
	} else {
		ret->cap.err = -ENODATA;
	}
	if (!take(&c, &size, 8))
		return -EBADMSG;
	if (size) {
		if (size > c.left || size % 8)
			return -EBADMSG;
		const uint8_t *data = c.p;
		c.p += size;
		c.left -= size;
		uint64_t dyn;
		if (!take(&c, &dyn, 8) || dyn > size)
			return -EBADMSG;
		if (dyn && ret->cap.err == 0) {
			ret->cap.stack = (uint8_t *)data;
			ret->cap.stack_len = dyn;
			ret->cap.stack_start = ret->cap.regs[CT_REG_RSP];
		}
	}
	return 0;
}

static int perf_open_fd(struct perf_event_attr *attr, pid_t tid)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void ev_close(struct ev *e, size_t nmore)
{
	for (size_t i = 0; e->more_fds && i < nmore; i++)
		if (e->more_fds[i] >= 0)
			close(e->more_fds[i]);
	free(e->more_fds);
	e->more_fds = NULL;
	if (e->meta)
		munmap(e->meta, e->map_len);
	if (e->fd >= 0)
		close(e->fd);
	e->meta = NULL;
	e->fd = -1;
}

/* A ring for about `records` samples. */
static size_t data_pages(size_t stack_bytes, size_t records)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t want = records * (stack_bytes + 512), pages = 8;
	while (pages * page < want)
		pages *= 2;
	return pages;
}

static void set_probe(struct ct_perf *p, size_t k)
{
	if (k < p->nprobes) {
		p->attr.config1 = (uint64_t)(uintptr_t)p->probes[k].path;
		p->attr.config2 = p->probes[k].offset;
	}
}

/* The thread's other uprobes, each sending its samples into the first one's ring. */
static int open_more(struct ct_perf *p, pid_t tid, int fd, int **ret)
{
	*ret = NULL;
	if (p->nprobes < 2)
		return 0;
	int *fds = malloc((p->nprobes - 1) * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	int r = 0;
	for (size_t k = 1; k < p->nprobes; k++) {
		set_probe(p, k);
		fds[k - 1] = r < 0 ? -1 : perf_open_fd(&p->attr, tid);
		if (fds[k - 1] < 0 && r == 0)
			r = fds[k - 1];
		else if (fds[k - 1] >= 0 && ioctl(fds[k - 1], PERF_EVENT_IOC_SET_OUTPUT, fd) < 0 && r == 0)
			r = -errno;
	}
	set_probe(p, 0);
	if (r < 0) {
		for (size_t k = 0; k + 1 < p->nprobes; k++)
			if (fds[k] >= 0)
				close(fds[k]);
		free(fds);
		return r;
	}
	*ret = fds;
	return 0;
}

static int ev_open(struct ct_perf *p, pid_t tid)
{
	if (p->nevs >= MAX_THREADS)
		return -E2BIG;
	set_probe(p, 0);
	int fd = perf_open_fd(&p->attr, tid);
	if (fd == -EACCES && !p->attr.exclude_kernel) {
		/* not allowed to see kernel-mode samples: count only user time */
		p->attr.exclude_kernel = 1;
		p->exclude_kernel = true;
		fd = perf_open_fd(&p->attr, tid);
	}
	if (fd < 0)
		return fd;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* allocations come in bursts (a loop of mallocs) where a clock comes evenly; past 32 threads
	 * rings as small as a clock's, so that many threads do not pin much kernel memory */
	size_t pages = data_pages(p->attr.sample_stack_user, p->nprobes && p->nevs < 32 ? 48 : 6);
	size_t len = (pages + 1) * page;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int e = -errno;
		close(fd);
		return e;
	}
	int *more = NULL;
	int r = open_more(p, tid, fd, &more);
	if (r == 0 && ct_grow(&p->evs, &p->cap_evs, p->nevs + 1, sizeof(*p->evs)) < 0)
		r = -ENOMEM;
	if (r < 0) {
		for (size_t k = 0; more && k + 1 < p->nprobes; k++)
			close(more[k]);
		free(more);
		munmap(m, len);
		close(fd);
		return r;
	}
	struct ev *e = &p->evs[p->nevs++];
	e->more_fds = more;
	e->tid = tid;
	e->fd = fd;
	e->meta = m;
	e->map_len = len;
	e->data_size = pages * page;
	e->hup = false;
	e->present = true;
	p->stats.threads_seen++;
	return 0;
}

static bool followed(struct ct_perf *p, pid_t tid)
{
	for (size_t i = 0; i < p->nevs; i++)
		if (p->evs[i].tid == tid) {
			p->evs[i].present = true;
			return true;
		}
	return false;
}

int ct_perf_scan(struct ct_perf *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	int first_err = 0;
	size_t seen = 0;
	for (size_t i = 0; i < p->nevs; i++)
		p->evs[i].present = false;
	struct dirent *de;
	while ((de = readdir(d)) && seen < MAX_THREADS) {
		long tid;
		if (ct_parse_long(de->d_name, 1, 0x3fffffff, &tid) < 0)
			continue;
		seen++;
		if (followed(p, (pid_t)tid))
			continue;
		int r = ev_open(p, (pid_t)tid);
		if (r == -ESRCH)
			continue; /* exited meanwhile */
		if (r < 0) {
			p->stats.open_failed++;
			if (!first_err)
				first_err = r;
		}
	}
	closedir(d);
	size_t live = 0;
	for (size_t i = 0; i < p->nevs; i++) {
		if (!p->evs[i].present)
			p->evs[i].hup = true; /* exited: closed after its last samples are read */
		live += !p->evs[i].hup;
	}
	p->stats.threads = live;
	if (live == 0)
		return first_err ? first_err : -ESRCH;
	return (int)CT_MIN(live, (size_t)0x7fffffff);
}

/* A sampler with its cpu-clock attributes set, following no thread yet. */
static int perf_new(pid_t pid, const struct ct_perf_opts *o, struct ct_perf **ret)
{
	struct ct_perf *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->rec = malloc(65536);
	if (!p->rec) {
		free(p);
		return -ENOMEM;
	}
	struct perf_event_attr *a = &p->attr;
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	/* cpu-clock counts nanoseconds: a fixed period is an exact rate, unlike freq mode's estimate */
	a->sample_period = 1000000000ull / (o->hz ? o->hz : 99);
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER |
			 PERF_SAMPLE_STACK_USER;
	a->sample_regs_user = CT_PERF_REGS_MASK;
	size_t sb = CT_MIN(o->stack_bytes, (size_t)CT_PERF_MAX_STACK) & ~(size_t)7;
	a->sample_stack_user = (uint32_t)(sb ? sb : 8);
	a->exclude_hv = 1;
	a->exclude_idle = 1;
	a->wakeup_events = 1;
	a->comm = 1;      /* PERF_RECORD_COMM … */
	a->comm_exec = 1; /* … flagged when due to an exec: the symbols must be read again */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	*ret = p;
	return 0;
}

static int perf_start(struct ct_perf *p, struct ct_perf **ret)
{
	int r = ct_perf_scan(p);
	if (r < 0) {
		ct_perf_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

int ct_perf_open(pid_t pid, const struct ct_perf_opts *o, struct ct_perf **ret)
{
	struct ct_perf *p;
	int r = perf_new(pid, o, &p);
	return r < 0 ? r : perf_start(p, ret);
}

static int uprobe_pmu_type(void)
{
	char *text = NULL;
	long type;
	int r = ct_read_file("/sys/bus/event_source/devices/uprobe/type", 64, &text, NULL);
	if (r == 0)
		r = ct_parse_long(ct_rstrip(text), 0, 0x7fffffff, &type);
	free(text);
	if (r < 0)
		return r == -ENOENT ? -ENOSYS : r;
	return (int)type;
}

int ct_perf_open_uprobes(pid_t pid, const struct ct_perf_probe *probes, size_t n, uint64_t period,
			 size_t stack_bytes, struct ct_perf **ret)
{
	if (n == 0 || n > CT_PERF_MAX_PROBES)
		return -EINVAL;
	int type = uprobe_pmu_type();
	if (type < 0)
		return type;
	struct ct_perf_opts o = { 1, stack_bytes };
	struct ct_perf *p;
	int r = perf_new(pid, &o, &p);
	if (r < 0)
		return r;
	p->probes = calloc(n, sizeof(*p->probes));
	if (!p->probes) {
		ct_perf_close(p);
		return -ENOMEM;
	}
	p->nprobes = n;
	for (size_t i = 0; i < n; i++) {
		p->probes[i].offset = probes[i].offset;
		p->probes[i].path = strdup(probes[i].path);
		if (!p->probes[i].path) {
			ct_perf_close(p);
			return -ENOMEM;
		}
	}
	p->attr.type = (uint32_t)type;
	p->attr.config = 0; /* an entry probe, not a return probe */
	p->attr.sample_period = period ? period : 1;
	p->attr.exclude_kernel = 0;
	p->attr.exclude_idle = 0;
	return perf_start(p, ret);
}

void ct_perf_close(struct ct_perf *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nevs; i++)
		ev_close(&p->evs[i], p->nprobes ? p->nprobes - 1 : 0);
	free(p->evs);
	free(p->pfds);
	free(p->rec);
	for (size_t i = 0; p->probes && i < p->nprobes; i++)
		free((char *)p->probes[i].path);
	free(p->probes);
	free(p);
}

const struct ct_perf_stats *ct_perf_stats(const struct ct_perf *p)
{
	return &p->stats;
}

/* Hands every complete record of one ring to cb. */
static int drain(struct ct_perf *p, struct ev *e, ct_perf_cb cb, void *arg)
{
	struct perf_event_mmap_page *m = e->meta;
	const uint8_t *data = (const uint8_t *)m + m->data_offset;
	uint64_t size = m->data_size ? m->data_size : e->data_size;
	if (size != e->data_size || m->data_offset == 0 || m->data_offset + size > e->map_len)
		return -EBADMSG;
	uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = m->data_tail;
	int r = 0;
	if (head - tail > size)
		tail = head - size; /* cannot happen with a writable mapping; stay in bounds anyway */
	while (tail + sizeof(struct perf_event_header) <= head && r == 0) {
		size_t off = (size_t)(tail & (size - 1));
		struct perf_event_header h;
		for (size_t i = 0; i < sizeof(h); i++)
			((uint8_t *)&h)[i] = data[(off + i) & (size - 1)];
		if (h.size < sizeof(h) || tail + h.size > head) {
			/* corrupt or partial: drop what is there rather than loop */
			p->stats.bad++;
			tail = head;
			break;
		}
		size_t first = CT_MIN((size_t)h.size, (size_t)(size - off));
		memcpy(p->rec, data + off, first);
		memcpy(p->rec + first, data, h.size - first);
		tail += h.size;
		struct ct_perf_sample s;
		uint64_t lost = 0;
		int d = ct_perf_decode(p->rec, h.size, &s, &lost);
		if (d == 0) {
			p->stats.samples += !s.exec;
			if (s.cap.err == -ENODATA)
				p->stats.no_regs++;
			r = cb(arg, &s);
		} else if (d == -EBADMSG) {
			p->stats.bad++;
		} else {
			p->stats.lost += lost;
		}
	}
	__atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
	return r;
}

int ct_perf_read(struct ct_perf *p, int timeout_ms, ct_perf_cb cb, void *arg)
{
	if (ct_grow(&p->pfds, &p->cap_pfds, p->nevs + 1, sizeof(*p->pfds)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->nevs; i++)
		p->pfds[i] = (struct pollfd){ .fd = p->evs[i].fd, .events = POLLIN };
	int n = poll(p->pfds, p->nevs, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	int r = 0;
	for (size_t i = 0; i < p->nevs && r == 0; i++) {
		r = drain(p, &p->evs[i], cb, arg);
		if (r == -EBADMSG) {
			p->stats.bad++;
			r = 0;
			p->pfds[i].revents |= POLLHUP; /* a ring we cannot read is closed */
		}
		if (p->pfds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			p->evs[i].hup = true;
	}
	/* close rings of exited threads, now drained */
	size_t w = 0;
	for (size_t i = 0; i < p->nevs; i++) {
		if (p->evs[i].hup && r == 0)
			ev_close(&p->evs[i], p->nprobes ? p->nprobes - 1 : 0);
		else
			p->evs[w++] = p->evs[i];
	}
	p->nevs = w;
	p->stats.threads = w;
	return r;
}
