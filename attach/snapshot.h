/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The snapshot engine: every thread stopped only for a register read and one stack copy. */
#ifndef CT_SNAPSHOT_H
#define CT_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/capture.h"

struct ct_attach_opts {
	size_t stack_bytes;   /* bytes copied from SP upward (default 64 KiB) */
	uint64_t timeout_ns;  /* give up and release everything after this long */
	bool passive;         /* capture threads blocked in EINTR-prone calls without stopping them */
	/* Called after the registers and stack are copied, while the thread is still stopped (or,
	 * for a passive capture, between the two checks that it did not run): copies more of what
	 * changes with the thread into c->interp (interp/: the Python frame chain). It must be
	 * bounded; its time is counted in stop_ns. An error is kept in c->interp's own format,
	 * never fails the capture. NULL: nothing more. */
	void (*while_stopped)(void *arg, pid_t pid, struct ct_capture *c);
	void *while_stopped_arg;
	bool read_wchan;      /* also read each thread's /proc wchan with its stat, before any stop */
	/* a thread running when reached is read from a perf sample, not stopped (attach/oncpu.h);
	 * it is stopped when that is not possible (no cpu-wide events, a stack deeper than a
	 * sample's copy, it stopped running, no sample until 250 ms before the deadline) */
	bool sample_running;
	/* a thread off every CPU (asleep, or waiting for its turn) is read from the registers the
	 * kernel saved for it, with a BPF task iterator, not stopped (attach/kregs.h); where bpf() is
	 * refused, it is stopped (or read as passive) as before */
	bool kernel_regs;
	/* The target's mappings (sorted), as the session read them before the capture: the stacks of
	 * the threads read from kernel-saved registers are then copied in one process_vm_readv, each
	 * up to its mapping's end. A mapping since changed only makes the read come short, and the
	 * threads from there are copied one by one. NULL: one read per thread. */
	const struct ct_proc_map *maps;
	size_t nmaps;
};

#define CT_ATTACH_OPTS_DEFAULT { 64 * 1024, 5000000000ull, true, NULL, NULL }

/* The capture state of one session: threads seized whose stop a capture gave up waiting for (past
 * the deadline). They stay seized, and the kernel releases them when ctrace exits; each capture,
 * and ct_attach_release_pending(), lets go those that have stopped since. A session holds one and
 * releases it on close. Only one should be capturing at a time: a capture's waitpid(-1) sees every
 * tracee's events. Start from CT_ATTACH_INIT. */
struct ct_attach {
	pid_t pending[256];
	size_t npending;
};
#define CT_ATTACH_INIT { { 0 }, 0 }

/* Captures every thread of pid, re-reading /proc/PID/task until no new thread shows up.
 * Threads that vanish are recorded with err -ESRCH; threads not captured before the deadline with
 * -ETIMEDOUT (and set->timed_out). Returns 0 with *ret set (even if some threads failed), or -errno
 * when the process itself cannot be read (-ESRCH gone, -EPERM). */
int ct_attach_snapshot(struct ct_attach *a, pid_t pid, const struct ct_attach_opts *o, struct ct_capture_set **ret);

/* Captures one thread (the same rules as above). */
int ct_attach_thread(struct ct_attach *a, pid_t pid, pid_t tid, const struct ct_attach_opts *o, uint64_t deadline_ns,
		     struct ct_capture *ret);

/* Threads seized but not stopped before a deadline stay seized (the kernel releases them when ctrace
 * exits). This releases those that have stopped since. Returns how many are still pending. */
size_t ct_attach_release_pending(struct ct_attach *a);

/* The primitives above, for the in-target call engine (attach/call.c): PTRACE_SEIZE (reaping exited
 * tracees while it blocks) and PTRACE_INTERRUPT; wait for tid's next stop until deadline_ns (0,
 * -ETIMEDOUT or -errno); leave a seized thread that did not stop to be released later; hold SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT while a thread is seized. */
int ct_attach_seize_interrupt(pid_t tid);
int ct_attach_wait_stop(pid_t tid, int *status, uint64_t deadline_ns);
void ct_attach_give_up(struct ct_attach *a, pid_t tid);
void ct_attach_hold_termination(sigset_t *ret_old);
void ct_attach_release_termination(const sigset_t *old);

/* True for system calls that return EINTR (not restart) when a ptrace stop interrupts them. */
bool ct_syscall_eintr_prone(pid_t pid, long nr, const uint64_t args[6]);

#endif
