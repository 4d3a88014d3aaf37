/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The perf_event sampler: a software cpu-clock event per thread of the target, each sample carrying
 * the user registers and a copy of the user stack, read from per-thread mmap ring buffers. The
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
	struct ct_capture cap; /* regs in DWARF order and the stack copy; cap.stack points into the
				* decoder's buffer and is valid only during the callback */
};

struct ct_perf_stats {
	uint64_t samples;      /* decoded samples */
	uint64_t lost;         /* samples the kernel dropped (ring full) */
	uint64_t bad;          /* malformed records skipped */
	uint64_t no_regs;      /* samples without user registers (a kernel-only moment) */
	size_t threads;        /* threads with an event now */
	size_t threads_seen;   /* threads ever followed */
	size_t open_failed;    /* threads whose event could not be opened */
};

struct ct_perf;

/* Opens events on every thread of pid. Returns 0, or -errno: -EACCES/-EPERM when perf_event_open
 * is refused (perf_event_paranoid, seccomp), -ENOSYS/-ENOENT when unsupported, -ESRCH gone. */
int ct_perf_open(pid_t pid, const struct ct_perf_opts *o, struct ct_perf **ret);
void ct_perf_close(struct ct_perf *p);
/* A uprobe: the function at file offset offset of the ELF file at path (a path ctrace can open;
 * the kernel probes that inode, in the target only). */
struct ct_perf_probe {
	const char *path;
	uint64_t offset;
};

#define CT_PERF_MAX_PROBES 16

/* Like ct_perf_open, but a sample is taken at every period-th call of each probed function (per
 * thread and function) instead of on a clock: the sample's ip is the function's entry and its
 * registers are its arguments. All probes of a thread share one ring. Needs CAP_PERFMON or root:
 * -EACCES otherwise; -ENOSYS when the kernel has no uprobe PMU. */
int ct_perf_open_uprobes(pid_t pid, const struct ct_perf_probe *probes, size_t n, uint64_t period,
			 size_t stack_bytes, struct ct_perf **ret);
/* Follows threads created since the last scan. Returns the number of live threads followed,
 * or -ESRCH when the process is gone. */
int ct_perf_scan(struct ct_perf *p);
/* Waits up to timeout_ms for samples and hands each to cb (a non-zero return stops the read and is
 * returned). Returns 0, a cb value, or -errno. */
typedef int (*ct_perf_cb)(void *arg, const struct ct_perf_sample *s);
int ct_perf_read(struct ct_perf *p, int timeout_ms, ct_perf_cb cb, void *arg);
const struct ct_perf_stats *ct_perf_stats(const struct ct_perf *p);

/* The record decoder (exposed for tests): rec is one whole record, header included, len its bytes.
 * Returns 0 with *ret filled for a PERF_RECORD_SAMPLE (cap.stack points into rec) and for the
 * PERF_RECORD_COMM of an exec (ret->exec set, pid and tid filled), -ENOMSG for another record
 * (*ret_lost set for PERF_RECORD_LOST), -EBADMSG when malformed. */
int ct_perf_decode(const void *rec, size_t len, struct ct_perf_sample *ret, uint64_t *ret_lost);

#endif
