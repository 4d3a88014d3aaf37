/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calls a function inside the target, the way gdb's `call` does, for --inject only.
 *
 * One thread is seized and interrupted (PTRACE_SEIZE + PTRACE_INTERRUPT, never SIGSTOP). It is
 * refused, and released untouched, when a signal is pending for it or being delivered to it, when
 * the process is stopped, when it blocks or ignores SIGSEGV, when it sits inside an rseq critical
 * section, or when the caller's check (which unwinds its stack) says it is inside the allocator.
 * Otherwise its registers (general, FP/xstate) and signal mask are saved, every signal but the
 * synchronous faults is blocked for it, and each call runs on its stack below the 128-byte red
 * zone. Its return address is libc's rt_sigreturn trampoline with a signal frame holding the
 * thread's own context above it (ct_call_opts.restorer): ctrace catches the trampoline's system
 * call, and if ctrace has died the kernel's rt_sigreturn brings the thread back by itself. Without
 * a trampoline the return address is 0 and the fault (SIGSEGV at address 0) ends the call.
 * Arguments go in rdi, rsi, rdx, rcx, r8, r9; strings and out-parameters in a scratch area just
 * below the red zone. At the end the scratch bytes, the registers and the mask are put back
 * exactly and the thread is released; signals that arrived meanwhile stay pending (blocked) and
 * are delivered then, in the restored context. Only cli/ decides to use this (--inject). */
#ifndef CT_CALL_H
#define CT_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/snapshot.h"
#include "lib/capture.h"

/* Decides, with the thread stopped, whether a call may run from where it stands. c holds its
 * registers and a copy of the top of its stack. Must be quick (no symbolization, no debug
 * information read). Returns 0 to go on, or -errno with a reason (a static string). */
typedef int (*ct_call_check_fn)(void *arg, const struct ct_capture *c, const char **ret_why);

struct ct_call_opts {
	uint64_t deadline_ns;     /* monotonic time by which the thread must have stopped */
	uint64_t call_timeout_ns; /* one call running longer is abandoned (0: 1 s) */
	size_t stack_bytes;       /* stack copied for check (0: 64 KiB) */
	ct_call_check_fn check;   /* may be NULL */
	void *check_arg;
	/* Address of an rt_sigreturn trampoline in the target (the bytes of "mov $15, %rax;
	 * syscall", as glibc's __restore_rt), or 0. When set, each call returns through it onto a
	 * signal frame that holds the thread's own context (registers, FP state, signal mask), so a
	 * thread that ctrace's death releases inside a call finishes it and goes back to where it was
	 * stopped; ctrace catches the trampoline's system call (PTRACE_SYSCALL) and restores the
	 * thread itself. A call's return value is then not available: use out-parameters. When 0, a
	 * call returns to address 0 and the fault ends it (a thread released inside a call dies). */
	uint64_t restorer;
	struct ct_attach *attach;  /* the session's capture state: a thread that does not stop in time
				    * is left there (attach/snapshot.h) */
};

#define CT_CALL_SCRATCH 2048 /* bytes below the red zone for strings and out-parameters */

struct ct_call_stats {
	uint64_t stop_ns;         /* from the interrupt to the release */
	uint64_t window_ns;       /* from the first call to the restore: ctrace's death in this window
				   * would leave the thread inside a call (see SAFETY in ctrace(1)) */
	size_t calls;
	size_t deferred_signals;  /* signals that arrived during calls, delivered after the release */
	bool abandoned;           /* a call did not end (timeout or fault) */
	bool restart_forced;      /* an interrupted system call that would have failed with EINTR was
				   * set up to restart instead (see ct_call_begin) */
};

struct ct_call;

/* Seizes tid of pid and stops it for calls. Returns 0 and *ret, or -errno with *ret_why:
 * -EBUSY a signal is pending or being delivered, or the process is stopped; -EAGAIN the check
 * refused; -EPERM the thread blocks or ignores SIGSEGV; -ESRCH gone; -ETIMEDOUT did not stop by
 * the deadline; -EFAULT its stack cannot hold the call. */
int ct_call_begin(pid_t pid, pid_t tid, const struct ct_call_opts *o, struct ct_call **ret, const char **ret_why);

/* Copies len bytes into the scratch area; *ret_addr is where they are in the target (16-aligned).
 * -ENOSPC when the scratch area is full. */
int ct_call_push(struct ct_call *c, const void *data, size_t len, uint64_t *ret_addr);
/* Reads back target memory (an out-parameter in the scratch area). */
int ct_call_peek(struct ct_call *c, uint64_t addr, void *buf, size_t len);

/* Calls fn(args[0], …, args[nargs - 1]) (nargs <= 6, integer or pointer arguments) and returns its
 * rax in *ret. -ETIMEDOUT: it did not return in time and was abandoned; -EFAULT: it faulted;
 * -ESRCH: the process died. After an error no further call is made; ct_call_end still restores. */
int ct_call_run(struct ct_call *c, uint64_t fn, const uint64_t *args, size_t nargs, uint64_t *ret);

/* Restores the scratch bytes, registers and signal mask, releases the thread and frees c.
 * Returns 0 or -errno when the restore failed (the process died, or a ptrace request failed). */
int ct_call_end(struct ct_call *c, struct ct_call_stats *ret_stats);

/* Finds an rt_sigreturn trampoline in the executable mappings of pid's libc (see
 * ct_call_opts.restorer). 0, -ENOENT (none: no shared glibc), or -errno. */
int ct_call_find_restorer(pid_t pid, uint64_t *ret);

#endif
