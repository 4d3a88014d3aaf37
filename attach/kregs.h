/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user registers the kernel saved for each thread of a process, read without stopping any
 * thread. A thread that is not on a CPU (asleep in a system call, or runnable and waiting for its
 * turn) has its user registers saved at the top of its kernel stack from the moment it entered the
 * kernel, and they cannot change until it runs again. A BPF task iterator (a read-only program of
 * ctrace's own, loaded into the kernel, never into the target) copies them out with the thread's
 * scheduling counters; a thread whose counters are the same in two passes and that was off every
 * CPU in both did not run in between, so its stack copied between the passes matches its
 * registers (attach/snapshot.c does that). Needs CAP_BPF and CAP_PERFMON (or root) and a kernel
 * with BTF (5.15+); -EPERM, -EOPNOTSUPP or the loader's -errno otherwise, and threads are stopped
 * as before.
 * The program is built here, a few dozen instructions with the offsets of task_struct's fields
 * from the kernel's BTF (libbpf parses it, some 35 ms, once per kernel: the offsets are kept in
 * ctrace's cache directory, keyed by the kernel's release, version and BTF size). */
#ifndef CT_KREGS_H
#define CT_KREGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One thread as the kernel holds it. regs are in struct pt_regs' order (x86_64). */
struct ct_kregs_rec {
	int32_t tid, tgid;
	int32_t on_cpu;          /* on a CPU now: its saved registers are stale */
	uint32_t pad;
	uint64_t state;          /* task_struct __state: 0 runnable, 1 interruptible, 2 uninterruptible… */
	uint64_t nvcsw, nivcsw;  /* voluntary and involuntary context switches */
	uint64_t pcount;         /* arrivals on a CPU (sched_info) */
	uint64_t fsbase;         /* the thread pointer */
	char comm[16];           /* the task's name, as /proc/TID/stat shows it (NUL-terminated) */
	uint32_t exit_state;     /* nonzero once the thread has exited (a zombie, or dead) */
	uint32_t pad2;
	uint64_t utime, stime;   /* user and system time as the scheduler's ticks charged them, ns */
	uint64_t runtime;        /* time on a CPU (se.sum_exec_runtime), ns */
	uint64_t regs[21];       /* r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss */
};

enum {
	CT_PTREGS_R15, CT_PTREGS_R14, CT_PTREGS_R13, CT_PTREGS_R12, CT_PTREGS_BP, CT_PTREGS_BX,
	CT_PTREGS_R11, CT_PTREGS_R10, CT_PTREGS_R9, CT_PTREGS_R8, CT_PTREGS_AX, CT_PTREGS_CX,
	CT_PTREGS_DX, CT_PTREGS_SI, CT_PTREGS_DI, CT_PTREGS_ORIG_AX, CT_PTREGS_IP, CT_PTREGS_CS,
	CT_PTREGS_FLAGS, CT_PTREGS_SP, CT_PTREGS_SS,
};

struct ct_kregs;

/* Loads the iterator for the threads of process pid. 0 or -errno; *ret_why (static text) says what
 * failed, for -v. */
int ct_kregs_open(pid_t pid, struct ct_kregs **ret, const char **ret_why);
void ct_kregs_close(struct ct_kregs *k);
/* One pass over the process's threads: *ret (malloc'd, sorted by tid) and *ret_n. 0 or -errno. */
int ct_kregs_read(struct ct_kregs *k, struct ct_kregs_rec **ret, size_t *ret_n);
/* The record of tid in recs (sorted), or NULL. */
const struct ct_kregs_rec *ct_kregs_find(const struct ct_kregs_rec *recs, size_t n, pid_t tid);
/* True when a and b (two passes over one thread) show it off every CPU in both and not run in
 * between, with the same saved registers. */
bool ct_kregs_unchanged(const struct ct_kregs_rec *a, const struct ct_kregs_rec *b);
/* True when the thread was inside a system call (not preempted in user mode, nor in a fault or an
 * interrupt): its orig_ax is the call's number and ax still holds -ENOSYS, as the kernel's entry
 * set it. */
bool ct_kregs_in_syscall(const struct ct_kregs_rec *r);
/* The state letter /proc/TID/stat shows for the thread (R S D T t X Z P I), from its __state and
 * exit_state as the kernel's task_state_index() maps them. */
char ct_kregs_state_letter(const struct ct_kregs_rec *r);
/* Its user and system time in clock ticks as /proc/TID/stat shows them: the time on a CPU split in
 * the proportion the ticks charged, as the kernel's cputime_adjust() does (without the clamp that
 * keeps each part from going down between two reads of /proc, which a single read does not see). */
void ct_kregs_cpu_ticks(const struct ct_kregs_rec *r, long ticks_per_s, uint64_t *ret_utime, uint64_t *ret_stime);

/* For tests: the layout cache's text for the running kernel is parsed by this. 0 or -EINVAL. */
struct ct_kregs_layout {
	uint32_t task_size;
	uint32_t pid, tgid, on_cpu, state, state_size, nvcsw, nivcsw, pcount, fsbase;
	uint32_t comm, exit_state, utime, stime, runtime;
	int32_t iter_btf_id;
};
int ct_kregs_layout_parse(const char *text, const char *key, struct ct_kregs_layout *ret);

#endif
