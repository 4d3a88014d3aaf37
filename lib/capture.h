/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What attach/ copies out of a stopped thread, and what unwind/ consumes. */
#ifndef CT_CAPTURE_H
#define CT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/memsrc.h"
#include "lib/procfs.h"

/* Registers in DWARF numbering (x86_64: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip). */
#define CT_NREGS 17
#define CT_REG_RBP 6
#define CT_REG_RSP 7
#define CT_REG_RIP 16

struct ct_capture {
	pid_t tid;
	int err;              /* 0 captured; -ESRCH gone; -ETIMEDOUT; -EPERM; … */
	unsigned flags;       /* CT_THREAD_* from lib/model.h */
	char state_before;    /* /proc state letter just before the capture */
	/* the whole /proc stat that letter came from (have_stat): the thread's name and CPU times are
	 * taken from it, not read again after the capture */
	bool have_stat;
	struct ct_proc_stat stat_before;
	char wchan_before[64]; /* its /proc wchan, read with that stat when asked (read_wchan), or "" */
	uint64_t regs[CT_NREGS];
	uint32_t regs_valid;  /* bit i: regs[i] is known */
	long syscall_nr;      /* >= 0 when stopped inside a system call, else CT_SYSCALL_NONE */
	uint64_t syscall_args[6];
	uint8_t *stack;       /* copy of [stack_start, stack_start + stack_len) */
	uint64_t stack_start;
	size_t stack_len;
	uint64_t stop_ns;     /* time the thread spent stopped for us (0 for passive) */
	int reinjected_sig;   /* signal intercepted in signal-delivery-stop and re-injected */
	uint64_t fs_base;     /* the thread pointer (x86_64: pthread_self()); 0 when passive */
	/* what struct ct_attach_opts' while_stopped hook copied (interp/: the Python frame chain),
	 * malloc'd, freed with the capture; NULL when nothing */
	void *interp;
	size_t interp_len;
};

struct ct_capture_set {
	pid_t pid;
	struct ct_capture *caps;
	size_t n, cap;
	uint64_t max_stop_ns, total_stop_ns, wall_ns;
	bool timed_out;       /* the deadline passed before every thread was captured */
	char boost[96];       /* ctrace's own priority during the capture (lib/boost.h), for -v */
	char oncpu[160];      /* how running threads were read (attach/oncpu.h), for -v; "" when none was */
	char kregs[256];      /* how threads off a CPU were read (attach/kregs.h), for -v; "" when not asked */
};

void ct_capture_set_free(struct ct_capture_set *s);
/* Reads len bytes of the target at addr: from the stack copy when it covers the range, else from
 * mem (the running target with process_vm_readv, or a core's memory). 0 or -errno. */
int ct_capture_read(const struct ct_capture *c, const struct ct_memsrc *mem, uint64_t addr, void *buf, size_t len);
/* Reads memory of a process with process_vm_readv split by page, so a fault part-way returns what
 * precedes it. Returns bytes read (>= 0) or -errno. */
ssize_t ct_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

const char *ct_syscall_name(long nr); /* NULL when unknown */

#endif
