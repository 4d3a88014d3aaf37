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
#define MAX_CPUS 4096

/* One followed thread: its event on each CPU (all writing into that CPU's ring). */
struct thr {
	pid_t tid;
	bool present; /* seen in the last scan of /proc/PID/task */
	int *fds;     /* ncpus, times nprobes for uprobes: [probe * ncpus + cpu] */
};

struct proc {
	pid_t pid, only_tid;
	struct thr *thr;
	size_t nthr, cap_thr;
	size_t hint;   /* where the next scan's lookup starts (readdir order is stable) */
	bool gone;
	bool reopen;   /* it executed: reopen its events */
};

/* A ring: a dummy event on ctrace itself on one CPU, mmapped; the sampling events of that CPU are
 * redirected into it. It never exits, so its fd is what poll waits on. */
struct ring {
	int cpu, fd;
	struct perf_event_mmap_page *meta;
	size_t map_len, data_size; /* data_size is a power of two */
};

struct ct_perf {
	struct perf_event_attr attr;
	struct ring *rings;
	size_t ncpus;
	struct proc *procs;
	size_t nprocs, cap_procs;
	struct pollfd *pfds; /* ncpus */
	struct pollfd *wait_pfds; /* ncpus, ct_perf_wait's own (it runs without the caller's lock) */
	int *cpu_fds;        /* ncpus cpu-wide sampling events (NULL: an event per thread and CPU) */
	struct ct_perf_probe *probes; /* uprobes instead of cpu-clock (paths copied) */
	size_t nprobes;
	uint8_t *rec;  /* one record, linearized across the ring's wrap */
	uint64_t read_end_ns; /* when the last ct_perf_read ended (0: none yet) */
	struct ct_perf_stats stats;
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
		size_t n = CT_MIN(c.left, sizeof(ret->comm) - 1);
		memcpy(ret->comm, c.p, n);
		ret->comm[n] = '\0'; /* the kernel pads it with NULs; this bounds it if not */
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

static int perf_open_fd(struct perf_event_attr *attr, pid_t tid, int cpu)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ct_perf_parse_cpus(const char *text, int *ret, size_t max)
{
	size_t n = 0;
	const char *s = text;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a >= MAX_CPUS)
			return -EINVAL;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= MAX_CPUS)
				return -EINVAL;
			s = end;
		}
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -EINVAL;
			ret[n++] = (int)c;
		}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return n ? (int)n : -EINVAL;
}

static int online_cpus(int *ret, size_t max)
{
	char *text = NULL;
	int n = ct_read_file("/sys/devices/system/cpu/online", 4096, &text, NULL);
	if (n == 0)
		n = ct_perf_parse_cpus(text, ret, max);
	free(text);
	if (n > 0)
		return n;
	long c = sysconf(_SC_NPROCESSORS_ONLN); /* no sysfs: assume 0..n-1 */
	if (c < 1)
		return -ENOSYS;
	for (long i = 0; i < c && (size_t)i < max; i++)
		ret[i] = (int)i;
	return (int)CT_MIN((size_t)c, max);
}

/* Opens and maps one CPU's ring, as large as the locked-memory budget allows: the kernel charges
 * ring pages to perf_event_mlock_kb per CPU, then RLIMIT_MEMLOCK, and says EPERM beyond (root with
 * CAP_IPC_LOCK is exempt), so the size is halved down to min_pages. */
static int ring_open(struct ring *rg, int cpu, size_t pages, size_t min_pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (;; pages /= 2) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_DUMMY;
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		a.watermark = 1; /* wake the reader when a quarter of the ring is full */
		a.wakeup_watermark = (uint32_t)(pages * page / 4);
		a.use_clockid = 1; /* redirected events must use the ring's clock */
		a.clockid = CLOCK_MONOTONIC;
		int fd = perf_open_fd(&a, 0, cpu);
		if (fd < 0)
			return fd;
		size_t len = (pages + 1) * page;
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			*rg = (struct ring){ cpu, fd, m, len, pages * page };
			return 0;
		}
		int e = -errno;
		close(fd);
		if ((e != -EPERM && e != -ENOMEM) || pages / 2 < min_pages)
			return e;
	}
}

/* Ring pages: room for about 128 samples (1.3 s of one CPU at 99 Hz), so a reader that waits for a
 * CPU on a saturated machine loses nothing; all rings together at most CT_PERF_RINGS_MAX_BYTES
 * (locked memory), and at least 4 samples. The budget (perf_event_mlock_kb, RLIMIT_MEMLOCK) may
 * halve this again in ring_open. Measured on 150 spinning threads, 2 CPUs, 64 KiB stacks: rings of
 * 32 samples (1 MiB) lost 44 of 187 samples in 3 s. */
#define CT_PERF_RINGS_MAX_BYTES (64u << 20)
static void ring_pages(size_t stack_bytes, size_t ncpus, size_t *ret_want, size_t *ret_min)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), rec = stack_bytes + 512;
	size_t want = 8, min = 2;
	size_t cap = CT_PERF_RINGS_MAX_BYTES / (ncpus ? ncpus : 1);
	while (want * page < 128 * rec && want * 2 * page <= cap)
		want *= 2;
	while (min * page < 4 * rec)
		min *= 2;
	*ret_want = CT_MAX(want, min);
	*ret_min = min;
}

/* Events per thread: one per CPU, and per probed function for uprobes. */
static size_t thr_nfds(const struct ct_perf *p)
{
	return p->ncpus * (p->nprobes ? p->nprobes : 1);
}

static void thr_close(struct ct_perf *p, struct thr *t)
{
	for (size_t i = 0; t->fds && !p->cpu_fds && i < thr_nfds(p); i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	free(t->fds);
	t->fds = NULL;
}

/* Opens tid's events on every CPU (for each probed function), each redirected into that CPU's ring. */
static int thr_open(struct ct_perf *p, struct proc *pr, pid_t tid)
{
	if (pr->nthr >= MAX_THREADS)
		return -E2BIG;
	if (ct_grow(&pr->thr, &pr->cap_thr, pr->nthr + 1, sizeof(*pr->thr)) < 0)
		return -ENOMEM;
	size_t nfds = p->cpu_fds ? 0 : thr_nfds(p);
	struct thr t = { tid, true, malloc(CT_MAX(nfds, (size_t)1) * sizeof(int)) };
	if (!t.fds)
		return -ENOMEM;
	for (size_t i = 0; i < nfds; i++)
		t.fds[i] = -1;
	int r = 0;
	for (size_t i = 0; i < nfds && r == 0; i++) {
		size_t c = i % p->ncpus;
		if (p->nprobes) {
			p->attr.config1 = (uint64_t)(uintptr_t)p->probes[i / p->ncpus].path;
			p->attr.config2 = p->probes[i / p->ncpus].offset;
		}
		int fd = perf_open_fd(&p->attr, tid, p->rings[c].cpu);
		if (fd == -EACCES && !p->attr.exclude_kernel) {
			/* not allowed to see kernel-mode samples: count only user time */
			p->attr.exclude_kernel = 1;
			fd = perf_open_fd(&p->attr, tid, p->rings[c].cpu);
		}
		if (fd < 0) {
			r = fd;
			break;
		}
		t.fds[i] = fd;
		if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, p->rings[c].fd) < 0)
			r = -errno;
	}
	if (r < 0) {
		thr_close(p, &t);
		return r;
	}
	pr->thr[pr->nthr++] = t;
	p->stats.threads_seen++;
	return 0;
}

static struct thr *find_thr(struct proc *pr, pid_t tid)
{
	for (size_t k = 0; k < pr->nthr; k++) {
		size_t i = (pr->hint + k) % pr->nthr;
		if (pr->thr[i].tid == tid) {
			pr->hint = i + 1;
			return &pr->thr[i];
		}
	}
	return NULL;
}

static struct proc *find_proc(struct ct_perf *p, pid_t pid)
{
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pid)
			return &p->procs[i];
	return NULL;
}

static void proc_close_all(struct ct_perf *p, struct proc *pr)
{
	for (size_t i = 0; i < pr->nthr; i++)
		thr_close(p, &pr->thr[i]);
	pr->nthr = 0;
}

static size_t count_threads(const struct ct_perf *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nprocs; i++)
		n += p->procs[i].nthr;
	return n;
}

/* Scans /proc/PID/task: opens events on new threads, closes those of exited ones (their samples
 * are in the rings already). A thread whose events cannot be opened is counted once and not tried
 * again (a budget such as RLIMIT_NOFILE does not grow back by retrying every 0.1 s). */
static int proc_scan(struct ct_perf *p, struct proc *pr, int *ret_err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pr->pid);
	DIR *d = opendir(path);
	if (!d) {
		int e = errno == ENOENT ? -ESRCH : -errno;
		if (e == -ESRCH) {
			proc_close_all(p, pr);
			pr->gone = true;
		}
		return e;
	}
	for (size_t i = 0; i < pr->nthr; i++)
		pr->thr[i].present = false;
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) && seen < MAX_THREADS) {
		long tid;
		if (ct_parse_long(de->d_name, 1, 0x3fffffff, &tid) < 0)
			continue;
		if (pr->only_tid > 0 && tid != pr->only_tid)
			continue;
		seen++;
		struct thr *t = find_thr(pr, (pid_t)tid);
		if (t) {
			t->present = true;
			continue;
		}
		int r = thr_open(p, pr, (pid_t)tid);
		if (r == -ESRCH)
			continue; /* exited meanwhile */
		if (r < 0) {
			/* remembered with no events, so it is not tried again */
			if (ct_grow(&pr->thr, &pr->cap_thr, pr->nthr + 1, sizeof(*pr->thr)) == 0)
				pr->thr[pr->nthr++] = (struct thr){ (pid_t)tid, true, NULL };
			p->stats.open_failed++;
			if (!p->stats.open_err)
				p->stats.open_err = r;
			if (ret_err && !*ret_err)
				*ret_err = r;
		}
	}
	closedir(d);
	size_t w = 0, live = 0;
	for (size_t i = 0; i < pr->nthr; i++) {
		if (!pr->thr[i].present) {
			thr_close(p, &pr->thr[i]);
			continue;
		}
		live += pr->thr[i].fds != NULL;
		pr->thr[w++] = pr->thr[i];
	}
	pr->nthr = w;
	p->stats.threads = count_threads(p);
	if (w == 0) {
		pr->gone = true; /* no thread left (the process is a zombie, or tid exited) */
		return -ESRCH;
	}
	return (int)CT_MIN(live, (size_t)0x7fffffff);
}

int ct_perf_scan(struct ct_perf *p, pid_t pid)
{
	struct proc *pr = find_proc(p, pid);
	if (!pr || pr->gone)
		return -ESRCH;
	return proc_scan(p, pr, NULL);
}

int ct_perf_add(struct ct_perf *p, pid_t pid, pid_t tid)
{
	if (find_proc(p, pid))
		return 0;
	if (ct_grow(&p->procs, &p->cap_procs, p->nprocs + 1, sizeof(*p->procs)) < 0)
		return -ENOMEM;
	struct proc *pr = &p->procs[p->nprocs++];
	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
	pr->only_tid = tid;
	int err = 0;
	int r = proc_scan(p, pr, &err);
	if (r > 0)
		return 0;
	proc_close_all(p, pr);
	free(pr->thr);
	p->nprocs--;
	return r == -ESRCH || err == 0 ? r : err;
}

/* Where allowed (root, CAP_PERFMON, perf_event_paranoid <= 0), one cpu-clock event per CPU that
 * samples whatever runs there, the followed processes' samples kept and the others dropped as they
 * are read. An event per thread and CPU starts with a whole period of that thread's CPU time on that
 * CPU to run down and keeps the part of a period not yet run down at the end: 150 threads spinning on
 * 2 CPUs get ~6.7 ms of a CPU per event and second, so in a 3 s profile each of the 302 events takes
 * ~1.5 s to its first sample and about half of the samples are never taken (measured 54 of 187
 * expected from the CPU time). A CPU's event runs its period down with whatever runs, so the
 * followed threads get samples in proportion to their CPU time from the start, and new threads are
 * sampled before a scan sees them. Refused: an event per thread and CPU, as before. */
static void open_cpu_wide(struct ct_perf *p)
{
	const char *env = getenv("CTRACE_PERF_PER_THREAD");
	if (env && *env)
		return;
	int *fds = calloc(p->ncpus, sizeof(int));
	if (!fds)
		return;
	size_t c = 0;
	for (; c < p->ncpus; c++) {
		fds[c] = perf_open_fd(&p->attr, -1, p->rings[c].cpu);
		if (fds[c] == -EACCES && !p->attr.exclude_kernel) {
			p->attr.exclude_kernel = 1;
			fds[c] = perf_open_fd(&p->attr, -1, p->rings[c].cpu);
		}
		if (fds[c] < 0 || ioctl(fds[c], PERF_EVENT_IOC_SET_OUTPUT, p->rings[c].fd) < 0) {
			if (fds[c] >= 0)
				close(fds[c]);
			break;
		}
	}
	if (c == p->ncpus) {
		p->cpu_fds = fds;
		p->stats.cpu_wide = true;
		return;
	}
	while (c-- > 0)
		close(fds[c]);
	free(fds);
	p->attr.exclude_kernel = 0;
}

int ct_perf_open(const struct ct_perf_opts *o, struct ct_perf **ret)
{
	struct ct_perf *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus, MAX_CPUS);
	p->rec = malloc(65536);
	p->rings = n > 0 ? calloc((size_t)n, sizeof(*p->rings)) : NULL;
	p->pfds = n > 0 ? calloc((size_t)n, sizeof(*p->pfds)) : NULL;
	p->wait_pfds = n > 0 ? calloc((size_t)n, sizeof(*p->wait_pfds)) : NULL;
	if (n < 0 || !p->rec || !p->rings || !p->pfds || !p->wait_pfds) {
		ct_perf_close(p);
		return n < 0 ? n : -ENOMEM;
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
	a->watermark = 1; /* wakeups come from the ring's watermark, not every sample */
	a->wakeup_watermark = 1;
	a->comm = 1;      /* PERF_RECORD_COMM … */
	a->comm_exec = 1; /* … flagged when due to an exec: the symbols must be read again */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	size_t want, min;
	ring_pages(a->sample_stack_user, (size_t)n, &want, &min);
	p->stats.ring_bytes = SIZE_MAX;
	for (int i = 0; i < n; i++) {
		int r = ring_open(&p->rings[i], cpus[i], want, min);
		if (r < 0) {
			ct_perf_close(p);
			return r;
		}
		p->ncpus++;
		p->stats.ring_bytes = CT_MIN(p->stats.ring_bytes, p->rings[i].data_size);
	}
	p->stats.cpus = p->ncpus;
	open_cpu_wide(p);
	*ret = p;
	return 0;
}

void ct_perf_close(struct ct_perf *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nprocs; i++) {
		proc_close_all(p, &p->procs[i]);
		free(p->procs[i].thr);
	}
	for (size_t c = 0; p->cpu_fds && c < p->ncpus; c++)
		close(p->cpu_fds[c]);
	free(p->cpu_fds);
	p->cpu_fds = NULL;
	for (size_t c = 0; c < p->ncpus; c++) {
		munmap(p->rings[c].meta, p->rings[c].map_len);
		close(p->rings[c].fd);
	}
	free(p->procs);
	free(p->rings);
	free(p->pfds);
	free(p->wait_pfds);
	free(p->rec);
	for (size_t i = 0; p->probes && i < p->nprobes; i++)
		free((char *)p->probes[i].path);
	free(p->probes);
	free(p);
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
	int r = ct_perf_open(&o, &p);
	if (r < 0)
		return r;
	/* a probe's samples come from its own events per thread */
	for (size_t c = 0; p->cpu_fds && c < p->ncpus; c++)
		close(p->cpu_fds[c]);
	free(p->cpu_fds);
	p->cpu_fds = NULL;
	p->stats.cpu_wide = false;
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
	if ((r = ct_perf_add(p, pid, 0)) < 0) {
		ct_perf_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

const struct ct_perf_stats *ct_perf_stats(const struct ct_perf *p)
{
	return &p->stats;
}

/* Whether a cpu-wide event's sample (or exec) is of a followed process (thread, with a tid). */
static bool followed(struct ct_perf *p, const struct ct_perf_sample *s)
{
	struct proc *pr = find_proc(p, s->pid);
	return pr && !pr->gone && (pr->only_tid <= 0 || pr->only_tid == s->tid || s->exec);
}

/* Hands every complete record of one ring to cb. */
static int drain(struct ct_perf *p, struct ring *e, ct_perf_cb cb, void *arg)
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
	p->stats.ring_peak = CT_MAX(p->stats.ring_peak, (size_t)(head - tail));
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
		if (d == 0 && p->cpu_fds && !followed(p, &s))
			continue; /* a cpu-wide event's sample of a process not followed */
		if (d == 0) {
			p->stats.samples += !s.exec;
			if (s.cap.err == -ENODATA)
				p->stats.no_regs++;
			if (s.exec) {
				struct proc *pr = find_proc(p, s.pid);
				if (pr)
					pr->reopen = true;
			}
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

int ct_perf_wait(struct ct_perf *p, int timeout_ms)
{
	for (size_t c = 0; c < p->ncpus; c++)
		p->wait_pfds[c] = (struct pollfd){ .fd = p->rings[c].fd, .events = POLLIN };
	int n = poll(p->wait_pfds, p->ncpus, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n > 0;
}

int ct_perf_read(struct ct_perf *p, int timeout_ms, ct_perf_cb cb, void *arg)
{
	for (size_t c = 0; c < p->ncpus; c++)
		p->pfds[c] = (struct pollfd){ .fd = p->rings[c].fd, .events = POLLIN };
	if (timeout_ms > 0 && poll(p->pfds, p->ncpus, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	uint64_t start = ct_now_ns();
	if (p->read_end_ns && start - p->read_end_ns > p->stats.read_gap_ns)
		p->stats.read_gap_ns = start - p->read_end_ns;
	p->stats.reads++;
	int r = 0;
	for (size_t c = 0; c < p->ncpus && r == 0; c++) {
		r = drain(p, &p->rings[c], cb, arg);
		if (r == -EBADMSG) {
			p->stats.bad++;
			r = 0;
		}
	}
	/* an exec from a secondary thread hands the process' id to that thread: start afresh */
	for (size_t i = 0; i < p->nprocs; i++) {
		struct proc *pr = &p->procs[i];
		if (!pr->reopen || pr->gone)
			continue;
		pr->reopen = false;
		proc_close_all(p, pr);
		proc_scan(p, pr, NULL);
	}
	p->read_end_ns = ct_now_ns();
	return r;
}
