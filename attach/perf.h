/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The perf_event sampler: a software cpu-clock event per CPU where allowed (other processes' samples
 * dropped as read: no start-up period per thread), else per thread of each followed process and per CPU,
 * each sample carrying the user registers and a copy of the user stack. The events of every thread
 * write (PERF_EVENT_IOC_SET_OUTPUT) into one ring buffer per CPU, as perf record does: memory stays
 * ncpus rings whatever the thread count (per-thread rings exhaust perf_event_mlock_kb and
 * RLIMIT_MEMLOCK past some 70 threads for a non-root user), and a read drains ncpus rings. The
 * target is never stopped; unwinding happens later, on the copies, as for a ptrace capture. */
#ifndef CT_PERF_H
#define CT_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/capture.h"

struct ct_perf_opts {
	unsigned hz;        /* samples per second of CPU time, per thread */
	size_t stack_bytes; /* user stack copied per sample (rounded down to 8, at most CT_PERF_MAX_STACK) */
};

#define CT_PERF_MAX_STACK 63 * 1024

/* The x86_64 perf register mask ctrace asks for (AX..IP, R8..R15) and its size in a record. */
#define CT_PERF_REGS_MASK 0xff01ffull
#define CT_PERF_NREGS 17

struct ct_perf_sample {
	pid_t pid, tid;
	uint64_t time_ns;   /* CLOCK_MONOTONIC */
	uint64_t ip;        /* where the sample hit (a kernel address when in_kernel) */
	bool in_kernel;     /* the thread was in a system call or fault */
	bool exec;          /* not a sample: the process executed a new program here (cap unset) */
	char comm[16];      /* exec: the new program's name */
	struct ct_capture cap; /* regs in DWARF order and the stack copy; cap.stack points into the
				* decoder's buffer and is valid only during the callback */
};

struct ct_perf_stats {
	uint64_t samples;      /* decoded samples */
	uint64_t lost;         /* samples the kernel dropped (PERF_RECORD_LOST: a ring was full) */
	uint64_t bad;          /* malformed records skipped */
	uint64_t no_regs;      /* samples without user registers (a kernel-only moment) */
	size_t threads;        /* threads with events now */
	size_t threads_seen;   /* threads ever followed */
	size_t open_failed;    /* threads whose events could not be opened (each counted once) */
	int open_err;          /* the first such error (-EMFILE: too many open files …) */
	size_t cpus;           /* rings, one per online CPU */
	size_t ring_bytes;     /* data bytes of the smallest ring */
	size_t ring_peak;      /* the most bytes found waiting in one ring at a read: how near the
				* rings came to full (lost samples) */
	uint64_t reads;        /* reads of the rings (ct_perf_read calls) */
	uint64_t read_gap_ns;  /* the longest time from the end of one read to the start of the next:
				* the reader waiting in poll, unwinding, or waiting for a CPU */
	bool cpu_wide;         /* one cpu-clock event per CPU, other processes' samples dropped */
};

struct ct_perf;

/* Opens the per-CPU rings (each as large as the locked-memory budget allows, halved on EPERM down
 * to a few samples). Returns 0, or -errno: -EACCES/-EPERM when perf_event_open is refused
 * (perf_event_paranoid, seccomp), -ENOSYS/-ENOENT when unsupported. */
int ct_perf_open(const struct ct_perf_opts *o, struct ct_perf **ret);
void ct_perf_close(struct ct_perf *p);
/* Follows process pid: every thread, or only tid when tid > 0. Returns 0, -ESRCH when it is gone,
 * or the error that kept every thread from being followed (-EACCES …). */
int ct_perf_add(struct ct_perf *p, pid_t pid, pid_t tid);
/* Follows threads of pid created since the last scan and closes the events of exited ones.
 * Returns the number of live threads followed, or -ESRCH when the process is gone. */
int ct_perf_scan(struct ct_perf *p, pid_t pid);

/* A uprobe: the function at file offset offset of the ELF file at path (a path ctrace can open;
 * the kernel probes that inode, in the target only). */
struct ct_perf_probe {
	const char *path;
	uint64_t offset;
};

#define CT_PERF_MAX_PROBES 16

/* Like ct_perf_open + ct_perf_add(pid, 0), but a sample is taken at every period-th call of each
 * probed function (per thread, function and CPU) instead of on a clock: the sample's ip is the
 * function's entry and its registers are its arguments. Needs CAP_PERFMON or root: -EACCES
 * otherwise; -ENOSYS when the kernel has no uprobe PMU. */
int ct_perf_open_uprobes(pid_t pid, const struct ct_perf_probe *probes, size_t n, uint64_t period,
			 size_t stack_bytes, struct ct_perf **ret);
/* Waits up to timeout_ms for samples and hands each to cb (a non-zero return stops the read and is
 * returned). A process that executes a new program has its events reopened (an exec from a
 * secondary thread changes which thread holds the process' id). Returns 0, a cb value, or -errno. */
typedef int (*ct_perf_cb)(void *arg, const struct ct_perf_sample *s);
int ct_perf_read(struct ct_perf *p, int timeout_ms, ct_perf_cb cb, void *arg);
/* Waits up to timeout_ms for a ring to reach its wakeup mark, reading nothing: 1 when one did, 0 on
 * timeout (or a signal), -errno. It touches only the rings, fixed from ct_perf_open to ct_perf_close,
 * so a reading thread may wait while another thread calls the other functions (which the caller
 * serializes). */
int ct_perf_wait(struct ct_perf *p, int timeout_ms);
const struct ct_perf_stats *ct_perf_stats(const struct ct_perf *p);

/* Parses /sys/devices/system/cpu/online ("0-3,6"): the CPU numbers, at most max. Returns their
 * number or -EINVAL. */
int ct_perf_parse_cpus(const char *text, int *ret, size_t max);

/* The record decoder (exposed for tests): rec is one whole record, header included, len its bytes.
 * Returns 0 with *ret filled for a PERF_RECORD_SAMPLE (cap.stack points into rec) and for the
 * PERF_RECORD_COMM of an exec (ret->exec set, pid and tid filled), -ENOMSG for another record
 * (*ret_lost set for PERF_RECORD_LOST), -EBADMSG when malformed. */
int ct_perf_decode(const void *rec, size_t len, struct ct_perf_sample *ret, uint64_t *ret_lost);

#endif
