/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach/snapshot.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/kregs.h"
#include "attach/oncpu.h"
#include "lib/boost.h"
#include "lib/heap.h"
#include "lib/model.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

#ifndef __x86_64__
#error "ctrace's capture supports x86_64 only for now"
#endif

#define CT_D_STATE_BUDGET_NS 200000000ull

static void pending_add(struct ct_attach *a, pid_t tid)
{
	/* without a capture state the thread stays seized until ctrace exits */
	if (a && a->npending < CT_ARRAY_SIZE(a->pending))
		a->pending[a->npending++] = tid;
}

size_t ct_attach_release_pending(struct ct_attach *a)
{
	size_t keep = 0;
	for (size_t i = 0; i < a->npending; i++) {
		int status;
		pid_t w = waitpid(a->pending[i], &status, __WALL | WNOHANG);
		if (w == 0) {
			a->pending[keep++] = a->pending[i];
			continue;
		}
		if (w > 0 && WIFSTOPPED(status)) {
			int sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
			(void)ptrace(PTRACE_DETACH, a->pending[i], 0, sig);
		}
	}
	a->npending = keep;
	return keep;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Runs handler every usec microseconds on SIGALRM (no SA_RESTART) until ticks_stop(): it breaks a
 * blocking wait so a deadline is checked even when no event comes. */
static void ticks_start(void (*handler)(int), long usec, struct sigaction *ret_old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, ret_old);
	struct itimerval it = { { 0, usec }, { 0, usec } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static void ticks_stop(const struct sigaction *old)
{
	int e = errno;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, old, NULL);
	errno = e;
}

/* Waits for tid to stop or exit, until deadline. Returns 0, -ETIMEDOUT or -errno. A periodic timer
 * breaks the blocking wait so a lost wake-up cannot hang us past the deadline. *ret_quiet (may be
 * NULL) is the time just before the last poll that found tid not yet stopped: its stop began later. */
static int wait_stop_quiet(pid_t tid, int *status, uint64_t deadline, uint64_t *ret_quiet)
{
	for (;;) {
		uint64_t before = ct_now_ns();
		pid_t w = waitpid(tid, status, __WALL | WNOHANG);
		if (w == tid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w == 0 && ret_quiet)
			*ret_quiet = before;
		uint64_t now = ct_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct sigaction old;
		/* 1 ms: the poll after each tick bounds how early a stop may have begun */
		ticks_start(on_alarm, 1000, &old);
		w = waitpid(tid, status, __WALL);
		ticks_stop(&old);
		if (w == tid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
	}
}

static int wait_stop(pid_t tid, int *status, uint64_t deadline)
{
	return wait_stop_quiet(tid, status, deadline, NULL);
}

static void regs_from_user(const struct user_regs_struct *u, struct ct_capture *c)
{
	const uint64_t v[CT_NREGS] = {
		u->rax, u->rdx, u->rcx, u->rbx, u->rsi, u->rdi, u->rbp, u->rsp,
		u->r8, u->r9, u->r10, u->r11, u->r12, u->r13, u->r14, u->r15, u->rip,
	};
	memcpy(c->regs, v, sizeof(v));
	c->regs_valid = (1u << CT_NREGS) - 1;
	/* orig_rax >= 0 means the thread stopped inside (or restarting) a system call */
	if ((int64_t)u->orig_rax >= 0) {
		c->syscall_nr = (long)u->orig_rax;
		const uint64_t a[6] = { u->rdi, u->rsi, u->rdx, u->r10, u->r8, u->r9 };
		memcpy(c->syscall_args, a, sizeof(a));
	} else {
		c->syscall_nr = CT_SYSCALL_NONE;
	}
}

/* While a thread is stopped its stack is read into scratch (allocated and touched before any
 * thread is stopped, so no allocation or page fault of ctrace's lengthens a stop); c->stack points
 * into scratch until keep_stack() copies it out after the release. */
static int read_stack_scratch(pid_t tid, uint64_t sp, size_t len, uint8_t *scratch, struct ct_capture *c)
{
	if (len == 0)
		return 0;
	ssize_t n = ct_mem_read(tid, sp, scratch, len);
	if (n <= 0)
		return n < 0 ? (int)n : -EFAULT;
	c->stack = scratch;
	c->stack_start = sp;
	c->stack_len = (size_t)n;
	return 0;
}

/* The bytes of a stack copy from sp worth keeping: a thread's pointer (fs_base) is, for the threads
 * glibc and musl start, its control block at the top of its stack mapping, above its static TLS
 * and every frame, so what lies past it is no frame. len when fs_base is not above sp within it. */
static size_t below_thread_pointer(uint64_t sp, size_t len, uint64_t fs_base)
{
	return fs_base > sp && fs_base - sp < len ? (size_t)(fs_base - sp) : len;
}

static int keep_stack(uint8_t *scratch, struct ct_capture *c)
{
	if (!c->stack || c->stack != scratch)
		return 0;
	/* what the read took past the thread pointer is not kept (an idle glibc thread: 2368 of 5136
	 * bytes, the pages of 200 such copies being the largest memory a snapshot touches). An
	 * unwinder reads what a copy lacks from the target, as it does past stack_bytes. */
	c->stack_len = below_thread_pointer(c->stack_start, c->stack_len, c->fs_base);
	c->stack = malloc(c->stack_len);
	if (!c->stack) {
		c->stack_len = 0;
		return -ENOMEM;
	}
	memcpy(c->stack, scratch, c->stack_len);
	return 0;
}

static int copy_stack(pid_t tid, uint64_t sp, size_t len, struct ct_capture *c)
{
	if (len == 0)
		return 0;
	c->stack = malloc(len);
	if (!c->stack)
		return -ENOMEM;
	ssize_t n = ct_mem_read(tid, sp, c->stack, len);
	if (n <= 0) {
		free(c->stack);
		c->stack = NULL;
		return n < 0 ? (int)n : -EFAULT;
	}
	c->stack_start = sp;
	c->stack_len = (size_t)n;
	if ((size_t)n < len / 2) {
		/* most threads sit near the top of their stack: keep only what was read */
		uint8_t *shrunk = realloc(c->stack, (size_t)n);
		if (shrunk)
			c->stack = shrunk;
	}
	return 0;
}

static bool is_socket_fd(pid_t pid, uint64_t fd)
{
	char path[64], buf[64];
	if (fd > 1u << 30)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fd/%llu", (int)pid, (unsigned long long)fd);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return ct_startswith(buf, "socket:");
}

bool ct_syscall_eintr_prone(pid_t pid, long nr, const uint64_t args[6])
{
	switch (nr) {
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
	case SYS_rt_sigtimedwait:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_io_getevents:
#ifdef SYS_io_pgetevents
	case SYS_io_pgetevents:
#endif
#ifdef SYS_io_uring_enter
	case SYS_io_uring_enter:
#endif
		return true;
	/* socket calls with SO_RCVTIMEO/SO_SNDTIMEO return EINTR instead of restarting */
	case SYS_read:
	case SYS_write:
	case SYS_readv:
	case SYS_writev:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_recvmmsg:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_sendmmsg:
	case SYS_accept:
	case SYS_accept4:
	case SYS_connect:
		return is_socket_fd(pid, args[0]);
	default:
		return false;
	}
}

static int read_runs(pid_t pid, pid_t tid, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = ct_proc_read(pid, tid, "schedstat", 256, &s);
	/* a thread that ever ran has arrived on a CPU at least once: 0 is a kernel without
	 * schedstats ("0 0 0"), where the context switches in status count instead */
	struct ct_proc_schedstat ss;
	if (r == 0 && ct_parse_proc_schedstat(s, &ss) == 0 && ss.pcount > 0) {
		*ret = ss.pcount;
		return 0;
	}
	free(s);
	s = NULL;
	r = ct_proc_read(pid, tid, "status", 1 << 16, &s);
	if (r < 0)
		return r;
	struct ct_proc_status st;
	if (ct_parse_proc_status(s, &st) < 0 || !st.has_ctxt)
		return -EINVAL;
	*ret = st.voluntary_ctxt + st.nonvoluntary_ctxt;
	return 0;
}

static int read_syscall(pid_t pid, pid_t tid, struct ct_proc_syscall *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = ct_proc_read(pid, tid, "syscall", 512, &s);
	if (r < 0)
		return r;
	return ct_parse_proc_syscall(s, ret);
}

/* Frees what a capture without a stop copied (its stack, the interp hook's copy) that did not
 * count: the thread ran meanwhile. */
static void drop_copy(struct ct_capture *c)
{
	free(c->stack);
	c->stack = NULL;
	c->stack_len = 0;
	free(c->interp);
	c->interp = NULL;
	c->interp_len = 0;
}

/* A thread blocked in the kernel does not touch its user stack or registers, so both can be copied
 * while it keeps running; the capture counts only if the thread did not run in between (its
 * schedstat run count and syscall position are unchanged). Returns -EAGAIN to ask for a stop. */
static int capture_passive(pid_t pid, pid_t tid, const struct ct_attach_opts *o, struct ct_capture *c)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t runs1, runs2;
		struct ct_proc_syscall s1, s2;
		/* The call first, alone: most sleeping threads are in one a stop restarts, and need
		 * no more. Then the run count, then the call again: a thread seen blocked after the
		 * count was read raises it if it runs at all (schedstat counts arrivals on a CPU, so
		 * a thread already running when the count was read would not raise it). */
		struct ct_proc_syscall s0;
		if (read_syscall(pid, tid, &s0) < 0)
			return -EAGAIN;
		if (s0.nr < 0 || !ct_syscall_eintr_prone(pid, s0.nr, s0.args))
			return -EAGAIN;
		if (read_runs(pid, tid, &runs1) < 0 || read_syscall(pid, tid, &s1) < 0)
			return -EAGAIN;
		if (memcmp(&s0, &s1, sizeof(s0)) != 0)
			continue;
		drop_copy(c);
		if (copy_stack(tid, s1.sp, o->stack_bytes, c) < 0)
			return -EAGAIN;
		if (o->while_stopped)
			o->while_stopped(o->while_stopped_arg, pid, c);
		if (read_syscall(pid, tid, &s2) < 0 || read_runs(pid, tid, &runs2) < 0)
			return -EAGAIN;
		if (runs1 != runs2 || memcmp(&s1, &s2, sizeof(s1)) != 0)
			continue;
		memset(c->regs, 0, sizeof(c->regs));
		c->regs[CT_REG_RSP] = s1.sp;
		c->regs[CT_REG_RIP] = s1.pc;
		c->regs_valid = (1u << CT_REG_RSP) | (1u << CT_REG_RIP);
		c->syscall_nr = s1.nr;
		memcpy(c->syscall_args, s1.args, sizeof(s1.args));
		c->flags |= CT_THREAD_PASSIVE;
		return 0;
	}
	drop_copy(c);
	return -EAGAIN;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Threads in flight that exited and were reaped while a PTRACE_SEIZE was blocked (see below): the
 * state the SIGALRM handler reap_exited() needs, so it is at file scope. */
static pid_t reaped[64];
static volatile sig_atomic_t nreaped;

/* An exec in the target kills its other threads and waits, holding the lock PTRACE_SEIZE takes,
 * until the killed threads are released; a traced thread is released only when its tracer reaps
 * it. A SEIZE issued while other threads are in flight would wait for the exec, and the exec for
 * us. So while a SEIZE blocks, a timer reaps exited tracees (waitid WEXITED only: stop events
 * stay queued) and notes them. */
static void reap_exited(int sig)
{
	(void)sig;
	int saved = errno;
	while (nreaped < (sig_atomic_t)CT_ARRAY_SIZE(reaped)) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) != 0 || si.si_pid == 0)
			break;
		reaped[nreaped] = si.si_pid;
		nreaped = nreaped + 1;
	}
	errno = saved;
}

static void reap_timer(long usec)
{
	struct itimerval it = { { 0, usec }, { 0, usec } };
	setitimer(ITIMER_REAL, &it, NULL);
}

/* reap_exited() as SIGALRM's handler, until the old one is put back (capture_batch: once for all
 * its threads; wait_any() puts its own in while it waits and this one back after) */
static void reap_install(struct sigaction *ret_old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reap_exited;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, ret_old);
}

/* Seizes tid and asks it to stop; the stop is reported later through waitpid. reap_exited() must
 * be SIGALRM's handler: only its timer is set around the SEIZE. */
static int begin_active_reaping(pid_t tid)
{
	reap_timer(20000);
	int r = ptrace(PTRACE_SEIZE, tid, 0, 0) < 0 ? -errno : 0;
	reap_timer(0);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno; /* seized but exiting: the kernel drops us when it is gone */
	return 0;
}

/* begin_active_reaping for one thread, the handler installed around it */
static int begin_active(pid_t tid)
{
	struct sigaction old;
	reap_install(&old);
	int r = begin_active_reaping(tid);
	sigaction(SIGALRM, &old, NULL);
	return r;
}

/* tid reported status: copy registers and stack, detach at once (re-injecting an intercepted
 * signal). t_start is the earliest the stop can have begun. scratch (o->stack_bytes, or NULL to
 * allocate per thread) takes the stack copy while the thread is stopped. */
static int finish_active(pid_t pid, pid_t tid, int status, const struct ct_attach_opts *o, uint64_t t_start,
			 uint8_t *scratch, struct ct_capture *c)
{
	if (!WIFSTOPPED(status))
		return -ESRCH; /* exited or killed while we waited */
	int sig = WSTOPSIG(status), event = status >> 16, inject = 0;
	if (event == PTRACE_EVENT_STOP) {
		if (is_stop_signal(sig))
			c->flags |= CT_THREAD_GROUP_STOPPED;
	} else if (event == 0) {
		/* signal-delivery-stop: the signal is ours to re-inject, or it is lost */
		inject = sig;
		c->flags |= CT_THREAD_SIGNAL;
		c->reinjected_sig = sig;
	}

	struct user_regs_struct u;
	struct iovec iov = { &u, sizeof(u) };
	int err = 0;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) == 0) {
		regs_from_user(&u, c);
		c->fs_base = u.fs_base;
		err = scratch ? read_stack_scratch(tid, u.rsp, o->stack_bytes, scratch, c)
			      : copy_stack(tid, u.rsp, o->stack_bytes, c);
		if (err == -EFAULT)
			err = 0; /* registers alone still give frame 0 */
		if (err == 0 && o->while_stopped)
			o->while_stopped(o->while_stopped_arg, pid, c);
	} else {
		err = -errno;
	}
	if (ptrace(PTRACE_DETACH, tid, 0, inject) < 0 && errno != ESRCH)
		err = err ? err : -errno;
	c->stop_ns = ct_now_ns() - t_start;
	/* the thread runs again: now the copy gets its own memory */
	int k = keep_stack(scratch, c);
	return err ? err : k;
}

static int capture_active(struct ct_attach *a, pid_t pid, pid_t tid, const struct ct_attach_opts *o, uint64_t deadline,
			  struct ct_capture *c)
{
	uint64_t t0 = ct_now_ns();
	int r = begin_active(tid);
	if (r < 0)
		return r;
	int status;
	uint64_t quiet = t0;
	r = wait_stop_quiet(tid, &status, deadline, &quiet);
	if (r == -ETIMEDOUT) {
		pending_add(a, tid);
		return r;
	}
	if (r < 0)
		return r == -ECHILD ? -ESRCH : r;
	/* The stop began after the interrupt and after the last poll that did not see it: counting
	 * from there bounds the stop from above (by at most the 1 ms between polls). */
	return finish_active(pid, tid, status, o, CT_MAX(t0, quiet), NULL, c);
}

/* The thread's wait channel into c, when asked (--backtraces' JSON). */
static void read_wchan(pid_t pid, pid_t tid, const struct ct_attach_opts *o, struct ct_capture *c)
{
	_cleanup_free_ char *wchan = NULL;
	if (o->read_wchan && ct_proc_read(pid, tid, "wchan", 256, &wchan) == 0)
		snprintf(c->wchan_before, sizeof(c->wchan_before), "%s", wchan);
}

/* The thread's /proc stat (and wchan when asked) into c: -ESRCH when it is gone. */
static int read_state(pid_t pid, pid_t tid, const struct ct_attach_opts *o, struct ct_capture *c)
{
	_cleanup_free_ char *stat_text = NULL;
	struct ct_proc_stat st;
	int r = ct_proc_read(pid, tid, "stat", 4096, &stat_text);
	if (r < 0 || ct_parse_proc_stat(stat_text, &st) < 0 || st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	c->state_before = st.state;
	c->stat_before = st;
	c->have_stat = true;
	read_wchan(pid, tid, o, c);
	return 0;
}

/* Reads the thread's state and captures it without a stop when it may be. Returns 1 when the
 * capture is complete (passive, or the thread is gone), 0 when it needs a stop, and sets
 * *ret_deadline for that stop. */
static int capture_prepare(pid_t pid, pid_t tid, const struct ct_attach_opts *o, uint64_t deadline,
			   struct ct_capture *c, uint64_t *ret_deadline)
{
	memset(c, 0, sizeof(*c));
	c->tid = tid;
	c->syscall_nr = CT_SYSCALL_NONE;
	c->state_before = '?';
	if (read_state(pid, tid, o, c) < 0) {
		c->err = -ESRCH;
		return 1;
	}
	const struct ct_proc_stat st = c->stat_before;
	if (o->passive && st.state == 'S' && capture_passive(pid, tid, o, c) == 0)
		return 1;
	/* A thread in uninterruptible sleep stops only when it leaves it, which may be never (vfork,
	 * hung NFS): give it a short budget so it cannot starve the other threads of the deadline. */
	*ret_deadline = st.state == 'D' ? CT_MIN(deadline, ct_now_ns() + CT_D_STATE_BUDGET_NS) : deadline;
	return 0;
}

/* Linux drops a signal that a tracee holds in signal-delivery-stop when its tracer dies (measured
 * by `make stress`): a Ctrl-C, SIGTERM or SIGHUP to ctrace while a thread is seized would cost the
 * target that signal. Termination is held back until every thread is released, then delivered. */
static void hold_termination(sigset_t *ret_old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &s, ret_old);
}

static void release_termination(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int ct_attach_thread(struct ct_attach *a, pid_t pid, pid_t tid, const struct ct_attach_opts *o, uint64_t deadline_ns,
		     struct ct_capture *c)
{
	uint64_t d;
	if (capture_prepare(pid, tid, o, deadline_ns, c, &d))
		return c->err;
	sigset_t old;
	hold_termination(&old);
	c->err = capture_active(a, pid, tid, o, d, c);
	release_termination(&old);
	return c->err;
}

/* Threads asked to stop and not yet seen stopped. On a saturated machine an interrupted thread
 * stops only when the scheduler next gives it a CPU (up to a whole scheduling period away), so
 * every thread is interrupted at once and the waits overlap; the window bounds how many can be
 * stopped and queued behind ctrace at the same moment (each capture takes some 45 us once
 * stopped). Measured on 2 CPUs: 150 spinning threads, a window of 8 left 87 of 151 uncaptured at
 * the 5 s deadline, 128 captured all in 0.3-3.8 s; 1000 spinning threads, 128 captured 379-413
 * of 1001 in 5 s, 1024 all in 1.9 s (longest stop 40 ms). */
#define CT_WINDOW 1024

struct inflight {
	pid_t tid;
	struct ct_capture *c;
	uint64_t t_interrupt, deadline;
};

static bool is_pending(const struct ct_attach *a, pid_t tid)
{
	for (size_t i = 0; i < a->npending; i++)
		if (a->pending[i] == tid)
			return true;
	return false;
}

/* Waits for any tracee event until the earliest deadline in flight. 0 and *ret_tid, -ETIMEDOUT, or
 * -ECHILD when nothing is traced any more. *ret_quiet is moved to the time just before each poll
 * that found no event: every stop seen after it began after it. */
static int wait_any(struct inflight *in, size_t n, pid_t *ret_tid, int *status, uint64_t *ret_quiet)
{
	uint64_t earliest = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		earliest = CT_MIN(earliest, in[i].deadline);
	for (;;) {
		uint64_t before = ct_now_ns();
		pid_t w = waitpid(-1, status, __WALL | WNOHANG);
		if (w > 0) {
			*ret_tid = w;
			return 0;
		}
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w == 0)
			*ret_quiet = before;
		if (ct_now_ns() >= earliest)
			return -ETIMEDOUT;
		struct sigaction old;
		/* 1 ms: a tracee's stop notification has been seen to wake ctrace late on a loaded
		 * machine; the tick bounds that delay for the stopped threads, and how early a stop
		 * seen after it may have begun */
		ticks_start(on_alarm, 1000, &old);
		w = waitpid(-1, status, __WALL);
		int e = errno;
		ticks_stop(&old);
		if (w > 0) {
			*ret_tid = w;
			return 0;
		}
		if (e != EINTR)
			return -e;
	}
}

static void inflight_remove(struct inflight *in, size_t *n, size_t i)
{
	in[i] = in[--*n];
}

/* Captures caps[first..last) with a window of threads in flight. */
/* Threads in flight that were reaped while a SEIZE blocked have gone. */
static void absorb_reaped(struct inflight *in, size_t *n)
{
	for (sig_atomic_t k = 0; k < nreaped; k++)
		for (size_t i = 0; i < *n; i++)
			if (in[i].tid == reaped[k]) {
				in[i].c->err = -ESRCH;
				inflight_remove(in, n, i);
				break;
			}
	nreaped = 0;
}

/* Handles one waitpid event for the threads in flight. t_quiet: the time just before the last poll
 * that found no event. */
static void handle_event(struct ct_attach *a, pid_t pid, pid_t w, int status, uint64_t t_quiet,
			 const struct ct_attach_opts *o, uint8_t *scratch, struct inflight *in, size_t *n)
{
	size_t i;
	for (i = 0; i < *n && in[i].tid != w; i++)
		;
	if (i == *n) {
		/* a thread given up on earlier stopped after all: let it go */
		if (is_pending(a, w) && WIFSTOPPED(status))
			(void)ptrace(PTRACE_DETACH, w, 0, (status >> 16) == 0 ? WSTOPSIG(status) : 0);
		return;
	}
	/* The stop began after the interrupt, and after the last poll that found no event at all: the
	 * stop counted from there is an upper bound (a thread stopped while others were being copied
	 * is billed its wait behind them; one seen after a blocking wait, up to 1 ms more). */
	uint64_t t_start = CT_MAX(in[i].t_interrupt, t_quiet);
	in[i].c->err = finish_active(pid, w, status, o, t_start, scratch, in[i].c);
	inflight_remove(in, n, i);
}

/* The on-CPU sampler of one snapshot (attach/oncpu.h), opened once a batch has met running threads
 * and released every thread it stopped (opening maps its rings: milliseconds that must not fall
 * inside a stop). */
struct oncpu_state {
	struct ct_oncpu *o;
	int err;       /* why it could not be opened (then every thread is stopped) */
	bool tried;
	bool sample;   /* the machine was saturated: running threads are set aside */
	size_t *idx;   /* running threads of this batch, set aside (err -EINPROGRESS) */
	size_t n, cap;
};

/* Sets a running thread aside for the on-CPU sampler: true when it did. */
static bool oncpu_take(struct oncpu_state *oc, struct ct_capture *caps, size_t i)
{
	if (!oc || caps[i].state_before != 'R' || (oc->tried && !oc->o))
		return false;
	if (ct_grow(&oc->idx, &oc->cap, oc->n + 1, sizeof(*oc->idx)) < 0)
		return false;
	oc->idx[oc->n++] = i;
	caps[i].err = -EINPROGRESS;
	return true;
}

/* Reads the threads set aside from their samples, until deadline less a reserve for stopping those
 * it hands back (their err stays -EINPROGRESS). Returns how many are handed back. */
static size_t oncpu_collect(struct oncpu_state *oc, pid_t pid, const struct ct_attach_opts *o, struct ct_capture *caps,
			    uint64_t deadline)
{
	size_t n = oc->n;
	oc->n = 0;
	if (!oc->tried) {
		oc->tried = true;
		oc->err = ct_oncpu_open(pid, o->stack_bytes, &oc->o);
	}
	if (!oc->o)
		return n;
	size_t failed = 0;
	for (size_t k = 0; k < n; k++)
		failed += ct_oncpu_want(oc->o, caps, oc->idx[k]) < 0; /* its err stays -EINPROGRESS */
	/* The running threads' samples, while they run; what is left is stopped after, in the last
	 * 250 ms at the latest. Waiting longer for a sample costs nothing: on 1000 spinning threads,
	 * those still without one then had not been given a CPU since they were listed (their
	 * schedstat unchanged), so a stop would not have come sooner. */
	uint64_t reserve = CT_MIN(o->timeout_ns / 4, 250000000ull);
	size_t before = ct_oncpu_stats(oc->o)->left;
	ct_oncpu_collect(oc->o, caps, deadline > reserve ? deadline - reserve : 0);
	return ct_oncpu_stats(oc->o)->left - before + failed;
}

/* Captures caps[first..last) with a window of threads in flight. Threads that have stopped are
 * always released before the next one is prepared, so /proc reads and passive copies never keep a
 * stopped thread waiting. With oc, running threads are handed to the on-CPU sampler instead (their
 * err -EINPROGRESS); redo: only the threads it handed back are captured. */
static void capture_batch(struct ct_attach *a, pid_t pid, const struct ct_attach_opts *o, uint64_t deadline,
			  struct ct_capture *caps, size_t first, size_t last, struct ct_boost *boost,
			  struct oncpu_state *oc, bool redo)
{
	size_t W = CT_WINDOW;
	struct inflight *in = calloc(W, sizeof(*in));
	/* touched now so that no page fault of ctrace's falls inside a stop */
	uint8_t *scratch = o->stack_bytes ? malloc(o->stack_bytes) : NULL;
	if (!in || (o->stack_bytes && !scratch)) {
		for (size_t i = first; i < last; i++)
			caps[i].err = -ENOMEM;
		free(in);
		free(scratch);
		return;
	}
	if (scratch)
		memset(scratch, 0, o->stack_bytes);
	struct sigaction old_alarm;
	reap_install(&old_alarm);
	size_t n = 0, next = first;
	uint64_t t_quiet = 0;
	while (next < last || n > 0) {
		if (boost)
			ct_boost_check(boost);
		int status;
		pid_t w = 0;
		for (;;) {
			if (n == 0)
				break;
			uint64_t before = ct_now_ns();
			w = waitpid(-1, &status, __WALL | WNOHANG);
			if (w <= 0) {
				if (w == 0)
					t_quiet = before;
				break;
			}
			handle_event(a, pid, w, status, t_quiet, o, scratch, in, &n);
		}
		if (n < W && next < last) {
			struct ct_capture *c = &caps[next++];
			pid_t tid = c->tid;
			uint64_t d;
			if (c->flags & CT_THREAD_KREGS)
				continue; /* read from the kernel-saved registers (kregs_phase) */
			if (redo && c->err != -EINPROGRESS)
				continue;
			if (ct_now_ns() >= deadline) {
				c->err = -ETIMEDOUT;
				continue;
			}
			if (capture_prepare(pid, tid, o, deadline, c, &d))
				continue;
			if (oncpu_take(oc, caps, (size_t)(c - caps)))
				continue;
			uint64_t t0 = ct_now_ns();
			int r = begin_active_reaping(tid);
			if (r < 0) {
				c->err = r;
				continue;
			}
			in[n++] = (struct inflight){ tid, c, t0, d };
			absorb_reaped(in, &n);
			continue;
		}
		if (n == 0)
			break;
		w = -1;
		int r = wait_any(in, n, &w, &status, &t_quiet);
		if (r == -ETIMEDOUT) {
			uint64_t now = ct_now_ns();
			for (size_t i = 0; i < n;) {
				if (now >= in[i].deadline) {
					in[i].c->err = -ETIMEDOUT;
					pending_add(a, in[i].tid);
					inflight_remove(in, &n, i);
				} else {
					i++;
				}
			}
			continue;
		}
		if (r < 0) {
			/* nothing traced any more: whatever was in flight has gone */
			for (size_t i = 0; i < n; i++)
				in[i].c->err = -ESRCH;
			n = 0;
			continue;
		}
		handle_event(a, pid, w, status, t_quiet, o, scratch, in, &n);
	}
	sigaction(SIGALRM, &old_alarm, NULL);
	free(in);
	free(scratch);
}

/* The BPF task iterator of one snapshot (attach/kregs.h), opened at the first batch. */
struct kregs_state {
	struct ct_kregs *k;
	int err;
	const char *why;
	bool tried;
	size_t wanted, read, rejected, passes, waits, copied, reads;
	uint64_t ns;
};

static void regs_from_kregs(const struct ct_kregs_rec *r, struct ct_capture *c)
{
	const uint64_t *p = r->regs;
	const uint64_t v[CT_NREGS] = {
		p[CT_PTREGS_AX], p[CT_PTREGS_DX], p[CT_PTREGS_CX], p[CT_PTREGS_BX], p[CT_PTREGS_SI],
		p[CT_PTREGS_DI], p[CT_PTREGS_BP], p[CT_PTREGS_SP], p[CT_PTREGS_R8], p[CT_PTREGS_R9],
		p[CT_PTREGS_R10], p[CT_PTREGS_R11], p[CT_PTREGS_R12], p[CT_PTREGS_R13], p[CT_PTREGS_R14],
		p[CT_PTREGS_R15], p[CT_PTREGS_IP],
	};
	memcpy(c->regs, v, sizeof(v));
	c->regs_valid = (1u << CT_NREGS) - 1;
	if (ct_kregs_in_syscall(r)) {
		c->syscall_nr = (long)p[CT_PTREGS_ORIG_AX];
		const uint64_t a[6] = { p[CT_PTREGS_DI], p[CT_PTREGS_SI], p[CT_PTREGS_DX],
					p[CT_PTREGS_R10], p[CT_PTREGS_R8], p[CT_PTREGS_R9] };
		memcpy(c->syscall_args, a, sizeof(a));
	} else {
		c->syscall_nr = CT_SYSCALL_NONE;
	}
	c->fs_base = r->fsbase;
}

/* The thread's facts as the second pass found them, as read_state() would have read them from
 * /proc (its name, state and CPU times: attach/kregs.h), without a /proc read per thread (200
 * threads: 2.5 ms of a capture's 8). The wait channel, in --backtraces' JSON only, is read from
 * /proc still. -ESRCH when the thread has exited. */
static int state_from_kregs(pid_t pid, const struct ct_kregs_rec *r, const struct ct_attach_opts *o,
			    struct ct_capture *c)
{
	static long ticks_per_s;
	char state = ct_kregs_state_letter(r);
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	if (!ticks_per_s)
		ticks_per_s = sysconf(_SC_CLK_TCK);
	struct ct_proc_stat *st = &c->stat_before;
	memset(st, 0, sizeof(*st));
	memcpy(st->comm, r->comm, sizeof(r->comm));
	st->comm[sizeof(r->comm)] = '\0';
	st->state = state;
	ct_kregs_cpu_ticks(r, ticks_per_s, &st->utime, &st->stime);
	c->state_before = state;
	c->have_stat = true;
	read_wchan(pid, c->tid, o, c);
	return 0;
}

/* The stacks of caps[cand[0..n)] (their registers in recs), each from its SP: in one
 * process_vm_readv where o->maps gives each stack's mapping (each copy up to its end, or to the
 * thread pointer below it: below_thread_pointer), one
 * ct_mem_read each otherwise, and for those a read that came short did not reach (a mapping
 * changed since the session read them). ok[j] says whether candidate j was copied (with
 * --stack-bytes 0, every one, with no stack). Returns how many were; *ret_reads counts the reads. */
static size_t copy_stacks(pid_t pid, const struct ct_attach_opts *o, struct ct_capture *caps, const size_t *cand,
			  const struct ct_kregs_rec *recs, size_t n, bool *ok, size_t *ret_reads)
{
	size_t done = 0, copied = 0;
	for (size_t j = 0; j < n; j++)
		ok[j] = false;
	if (o->stack_bytes == 0) { /* --stack-bytes 0: the registers only */
		for (size_t j = 0; j < n; j++) {
			drop_copy(&caps[cand[j]]);
			ok[j] = true;
		}
		return n;
	}
	struct iovec local[256], remote[256];
	while (o->maps && done < n) {
		size_t k = 0;
		for (; done + k < n && k < CT_ARRAY_SIZE(local); k++) {
			struct ct_capture *c = &caps[cand[done + k]];
			uint64_t sp = recs[done + k].regs[CT_PTREGS_SP], fs = recs[done + k].fsbase;
			const struct ct_proc_map *m = ct_proc_map_find(o->maps, o->nmaps, sp);
			if (!m)
				break;
			size_t len = below_thread_pointer(sp, (size_t)CT_MIN(m->end - sp, (uint64_t)o->stack_bytes), fs);
			drop_copy(c);
			c->stack = len ? malloc(len) : NULL;
			if (!c->stack)
				break;
			c->stack_start = sp;
			c->stack_len = len;
			local[k] = (struct iovec){ c->stack, len };
			remote[k] = (struct iovec){ (void *)(uintptr_t)sp, len };
		}
		if (k == 0)
			break;
		ssize_t got;
		do
			got = process_vm_readv(pid, local, k, remote, k, 0);
		while (got < 0 && errno == EINTR);
		size_t whole = 0;
		for (size_t left = got > 0 ? (size_t)got : 0; whole < k && local[whole].iov_len <= left; whole++)
			left -= local[whole].iov_len;
		for (size_t j = 0; j < whole; j++)
			ok[done + j] = true;
		for (size_t j = whole; j < k; j++)
			drop_copy(&caps[cand[done + j]]); /* read one by one, below */
		(*ret_reads)++;
		copied += whole;
		done += whole;
		if (whole < k)
			break;
	}
	for (size_t j = done; j < n; j++) {
		struct ct_capture *c = &caps[cand[j]];
		(*ret_reads)++;
		if (copy_stack(c->tid, recs[j].regs[CT_PTREGS_SP], o->stack_bytes, c) == 0) {
			ok[j] = true;
			copied++;
		} else {
			drop_copy(c);
		}
	}
	return copied;
}

/* how long a saturated capture waits for a thread on a CPU to be preempted (kregs_phase), and for
 * how long without any thread read before it stops waiting */
#define KREGS_WAIT_NS 50000000ull
#define KREGS_IDLE_NS 10000000ull

/* 64-bit user code segment: a thread of a 32-bit process is left to the stop */
#define USER64_CS 0x33
/* task_struct __state's __TASK_STOPPED and __TASK_TRACED */
#define TASK_STOPPED_BITS (0x4 | 0x8)

/* Reads the threads of caps[first..last) that are off every CPU from the registers the kernel saved
 * for them, stopping none: one pass of the iterator, each such thread's stack copied, a second pass;
 * a thread whose counters and registers are the same in both did not run in between, and its
 * capture is kept (CT_THREAD_PASSIVE | CT_THREAD_KREGS, err 0). A thread that ran meanwhile is tried
 * again at once, in up to 3 more pairs of passes; on a saturated machine (wait_running) threads on
 * a CPU are waited for until preempted, below. What is left goes to the batch (stopped, or
 * sampled). */
static void kregs_phase(struct kregs_state *ks, pid_t pid, const struct ct_attach_opts *o, struct ct_capture *caps,
			size_t first, size_t last, uint64_t deadline, bool wait_running, struct ct_kregs_rec **first_pass,
			size_t nfirst)
{
	if (!ks->k || first == last)
		return;
	uint64_t t0 = ct_now_ns();
	size_t *cand = malloc((last - first) * sizeof(*cand));
	struct ct_kregs_rec *before = malloc((last - first) * sizeof(*before));
	bool *copied_ok = malloc((last - first) * sizeof(*copied_ok));
	if (!cand || !before || !copied_ok)
		goto out;
	ks->wanted += last - first;
	/* the stack copies are small (a few KiB) and one per thread: their pages made present at once */
	(void)ct_heap_prefault(CT_MIN((last - first) * 8192, (size_t)16 << 20));
	/* On a saturated machine a thread on a CPU now is preempted within a scheduler slice: it is
	 * waited for (1 ms sleeps, KREGS_WAIT_NS at most, never past the deadline) and read then,
	 * where a stop or a perf sample would need its next turn, far later on such a machine (150
	 * spinning threads on 2 CPUs: 310-345 ms for the samples of the 2 that were running). */
	uint64_t wait_until = wait_running ? CT_MIN(t0 + KREGS_WAIT_NS, deadline) : 0;
	/* ... but only while the machine does preempt them: a thread on a CPU no one else wants is
	 * not preempted at all (the runnable count that said "saturated" may have been other work's
	 * moment), so the waiting ends when KREGS_IDLE_NS pass without a thread read */
	uint64_t progress = t0;
	int quick = 0;
	for (int pass = 0; pass < 256 && ct_now_ns() < deadline; pass++) {
		struct ct_kregs_rec *r1 = NULL, *r2 = NULL;
		size_t n1 = 0, n2 = 0, nc = 0, oncpu = 0, again = 0, read_before = ks->read;
		if (first_pass && *first_pass) {
			r1 = *first_pass; /* the pass that listed the threads (ct_attach_snapshot) */
			n1 = nfirst;
			*first_pass = NULL;
		} else {
			if (ct_kregs_read(ks->k, &r1, &n1) < 0)
				break;
			ks->passes++;
		}
		for (size_t i = first; i < last; i++) {
			struct ct_capture *c = &caps[i];
			if (c->flags & CT_THREAD_KREGS)
				continue;
			const struct ct_kregs_rec *r = ct_kregs_find(r1, n1, c->tid);
			/* in a job-control or ptrace stop: left to the batch, which reports and keeps it so */
			if (!r || r->regs[CT_PTREGS_CS] != USER64_CS || (r->state & TASK_STOPPED_BITS))
				continue;
			if (r->on_cpu) {
				oncpu++;
				continue;
			}
			before[nc] = *r;
			cand[nc++] = i;
		}
		/* the candidates' stacks, all in one read where the mappings are known */
		ks->copied += copy_stacks(pid, o, caps, cand, before, nc, copied_ok, &ks->reads);
		size_t nk = 0;
		for (size_t j = 0; j < nc; j++) {
			struct ct_capture *c = &caps[cand[j]];
			if (!copied_ok[j])
				continue; /* unreadable: left to the batch */
			/* kept only if the second pass finds the same registers */
			regs_from_kregs(&before[j], c);
			if (o->while_stopped)
				o->while_stopped(o->while_stopped_arg, pid, c);
			before[nk] = before[j];
			cand[nk++] = cand[j];
		}
		nc = nk;
		free(r1);
		if (nc > 0 && ct_kregs_read(ks->k, &r2, &n2) < 0) {
			for (size_t j = 0; j < nc; j++)
				drop_copy(&caps[cand[j]]);
			break;
		}
		if (nc > 0)
			ks->passes++;
		for (size_t j = 0; j < nc; j++) {
			struct ct_capture *c = &caps[cand[j]];
			const struct ct_kregs_rec *r = ct_kregs_find(r2, n2, c->tid);
			if (!r || !ct_kregs_unchanged(&before[j], r)) {
				drop_copy(c);
				ks->rejected++;
				again += r && !r->on_cpu;
				continue;
			}
			if (state_from_kregs(pid, r, o, c) < 0) {
				drop_copy(c);
				c->err = -ESRCH;
				c->flags |= CT_THREAD_KREGS; /* settled: gone */
				continue;
			}
			c->err = 0;
			c->stop_ns = 0;
			c->flags |= CT_THREAD_PASSIVE | CT_THREAD_KREGS;
			ks->read++;
		}
		free(r2);
		uint64_t now = ct_now_ns();
		if (ks->read > read_before)
			progress = now;
		if (again > 0 && quick++ < 3)
			continue; /* ran in between: at once again */
		if (again + oncpu > 0 && now < wait_until && now - progress < KREGS_IDLE_NS) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			ks->waits++;
			continue;
		}
		break;
	}
out:
	free(cand);
	free(before);
	free(copied_ok);
	ks->ns += ct_now_ns() - t0;
}

/* For -v: how the threads off a CPU were read. */
static void describe_kregs(const struct kregs_state *ks, char *buf, size_t n)
{
	if (!ks->tried)
		snprintf(buf, n, "not used");
	else if (!ks->k)
		snprintf(buf, n, "not used: %s (%s)", ks->why ? ks->why : "?", strerror(-ks->err));
	else
		snprintf(buf, n, "%zu of %zu threads read from the registers the kernel saved, in %.1f ms (%zu passes, "
			 "%zu stacks copied in %zu reads, %zu copies dropped because the thread ran, %zu waits of 1 ms "
			 "for a thread on a CPU)", ks->read, ks->wanted, (double)ks->ns / 1e6, ks->passes, ks->copied,
			 ks->reads, ks->rejected, ks->waits);
}

/* For -v: how the running threads were read. */
static void describe_oncpu(const struct oncpu_state *oc, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!oc->sample || !oc->tried)
		return; /* no thread was met running: nothing to say */
	if (!oc->o) {
		snprintf(buf, n, "stopped: no cpu-wide perf event (%s)", strerror(-oc->err));
		return;
	}
	const struct ct_oncpu_stats *st = ct_oncpu_stats(oc->o);
	snprintf(buf, n, "%zu of %zu read from perf samples in %.1f ms (%zu stopped instead, %zu of them with a "
		 "stack deeper than a sample's copy; %" PRIu64 " samples read, %" PRIu64 " lost)",
		 st->sampled, st->wanted, (double)st->wait_ns / 1e6, st->left, st->incomplete, st->samples, st->lost);
}

/* The threads of a pass, in the order /proc/PID/task lists them as far as it matters here: the
 * leader first, then by thread ID. */
static int kregs_tids(pid_t pid, const struct ct_kregs_rec *recs, size_t n, pid_t **ret, size_t *ret_n)
{
	pid_t *tids = malloc(n * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	size_t k = 0;
	if (ct_kregs_find(recs, n, pid))
		tids[k++] = pid;
	for (size_t i = 0; i < n; i++)
		if (recs[i].tid != pid)
			tids[k++] = recs[i].tid;
	*ret = tids;
	*ret_n = k;
	return 0;
}

static bool contains(const struct ct_capture_set *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->caps[i].tid == tid)
			return true;
	return false;
}

int ct_attach_snapshot(struct ct_attach *a, pid_t pid, const struct ct_attach_opts *o, struct ct_capture_set **ret)
{
	struct ct_capture_set *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	uint64_t start = ct_now_ns(), deadline = start + o->timeout_ns;

	ct_attach_release_pending(a);
	/* On a machine whose CPUs are saturated (the incident ctrace is run in), a stopped thread waits
	 * for ctrace to be scheduled again before it is released: ctrace's own thread runs the capture
	 * at SCHED_FIFO when allowed (lib/boost.h: bounded by RLIMIT_RTTIME and by the deadline), else
	 * at nice -20. The target's scheduling is never touched. */
	struct ct_boost boost;
	ct_boost_begin(&boost, o->timeout_ns);
	struct oncpu_state oc = { NULL, 0, false, false, NULL, 0, 0 };
	/* saturated: running threads are sampled (not for Python or Ruby, whose chains are copied
	 * with the stack) or, with the kernel-saved registers, waited for until preempted (for all) */
	bool saturated = (o->sample_running || o->kernel_regs) && ct_oncpu_saturated();
	struct kregs_state ks = { 0 };
	/* With the kernel-saved registers, their first pass lists the threads too (the same thread
	 * group /proc/PID/task lists; 0.3 ms for 200 threads there) and is kregs_phase's first */
	struct ct_kregs_rec *first_pass = NULL;
	size_t nfirst = 0;
	if (o->kernel_regs) {
		ks.tried = true;
		ks.err = ct_kregs_open(pid, &ks.k, &ks.why);
		if (ks.k && ct_kregs_read(ks.k, &first_pass, &nfirst) == 0)
			ks.passes++;
	}
	/* The run queues' count says saturated, but runnable tasks may be of a moment (a pipe's
	 * reader starting, a kworker): with the pass in hand, the machine counts as saturated only
	 * when a thread of the target itself waits in a run queue, runnable and on no CPU (else a
	 * running thread is stopped, at once, rather than waited for or sampled: 6-10 ms each) */
	if (saturated && first_pass) {
		bool queued = false;
		for (size_t i = 0; i < nfirst && !queued; i++)
			queued = first_pass[i].state == 0 && !first_pass[i].on_cpu && !first_pass[i].exit_state;
		saturated = queued;
	}
	oc.sample = o->sample_running && saturated;

	int r = 0;
	/* Threads born while we capture are caught by listing again; churn cannot keep us forever. */
	for (int round = 0; round < 64; round++) {
		pid_t *tids = NULL;
		size_t n = 0;
		if (round == 0 && first_pass && nfirst > 0)
			r = kregs_tids(pid, first_pass, nfirst, &tids, &n);
		else
			r = ct_proc_list_tasks(pid, &tids, &n);
		if (r < 0)
			break;
		size_t first = s->n;
		for (size_t i = 0; i < n; i++) {
			if (contains(s, tids[i]))
				continue;
			if (ct_grow(&s->caps, &s->cap, s->n + 1, sizeof(*s->caps)) < 0) {
				r = -ENOMEM;
				break;
			}
			struct ct_capture *c = &s->caps[s->n++];
			memset(c, 0, sizeof(*c));
			c->tid = tids[i];
			c->syscall_nr = CT_SYSCALL_NONE;
			c->state_before = '?';
		}
		free(tids);
		size_t added = s->n - first;
		sigset_t old;
		hold_termination(&old);
		if (o->kernel_regs)
			kregs_phase(&ks, pid, o, s->caps, first, s->n, deadline, saturated, &first_pass, nfirst);
		free(first_pass); /* not taken: no thread to read */
		first_pass = NULL;
		capture_batch(a, pid, o, deadline, s->caps, first, s->n, &boost, oc.sample ? &oc : NULL, false);
		release_termination(&old);
		if (oc.n && oncpu_collect(&oc, pid, o, s->caps, deadline) > 0) {
			hold_termination(&old);
			capture_batch(a, pid, o, deadline, s->caps, first, s->n, &boost, NULL, true);
			release_termination(&old);
		}
		for (size_t i = first; i < s->n; i++) {
			s->total_stop_ns += s->caps[i].stop_ns;
			s->max_stop_ns = CT_MAX(s->max_stop_ns, s->caps[i].stop_ns);
		}
		if (ct_now_ns() >= deadline)
			for (size_t i = first; i < s->n; i++)
				if (s->caps[i].err == -ETIMEDOUT)
					s->timed_out = true;
		if (r < 0 || added == 0 || s->timed_out)
			break;
	}
	free(first_pass); /* the loop left before round 0 took it (the process gone, no memory) */
	ct_boost_end(&boost);
	ct_boost_describe(&boost, s->boost, sizeof(s->boost));
	describe_oncpu(&oc, s->oncpu, sizeof(s->oncpu));
	if (o->kernel_regs)
		describe_kregs(&ks, s->kregs, sizeof(s->kregs));
	ct_kregs_close(ks.k);
	ct_oncpu_close(oc.o);
	free(oc.idx);
	s->wall_ns = ct_now_ns() - start;
	if (r < 0 && s->n == 0) {
		ct_capture_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* The same primitives for the in-target call engine (attach/call.c). */
int ct_attach_seize_interrupt(pid_t tid)
{
	return begin_active(tid);
}

int ct_attach_wait_stop(pid_t tid, int *status, uint64_t deadline_ns)
{
	return wait_stop(tid, status, deadline_ns);
}

void ct_attach_give_up(struct ct_attach *a, pid_t tid)
{
	pending_add(a, tid);
}

void ct_attach_hold_termination(sigset_t *ret_old)
{
	hold_termination(ret_old);
}

void ct_attach_release_termination(const sigset_t *old)
{
	release_termination(old);
}
