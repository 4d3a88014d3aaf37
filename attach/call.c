/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach/call.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/snapshot.h"
#include "lib/model.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

#ifndef __x86_64__
#error "the call engine supports x86_64 only"
#endif

#define RED_ZONE 128
#define XSTATE_MAX (64 * 1024)
#define MAX_DEFERRED 16
#define EFLAGS_TF 0x100ull
#define EFLAGS_DF 0x400ull
/* A call that has not returned after call_timeout_ns is given more time, up to this many times
 * as long, unless it has spent call_timeout_ns on a CPU (a runaway): one that waits for a lock or for a CPU on a
 * saturated machine is better waited for than abandoned, since abandoning may leave a lock it took
 * held for good. */
#define CALL_HARD_LIMIT 10
/* After a call's deadline the thread is interrupted; it stops when it next leaves the kernel or an
 * interruptible sleep. Releasing it before that would let it return to address 0 and die, so this
 * waits longer for the stop. */
#define INTERRUPT_GRACE_NS 10000000000ull

/* The x86_64 kernel's signal frame (arch/x86/include/uapi/asm/sigcontext.h and the kernel's
 * rt_sigframe): rt_sigreturn reads it at the stack pointer. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif
#ifndef FP_XSTATE_MAGIC2
#define FP_XSTATE_MAGIC2 0x46505845u
#endif
#define NR_RT_SIGRETURN 15
#define NR_RESTART_SYSCALL 219
#define ERESTARTSYS_ 512
#define ERESTARTNOINTR_ 513
#define ERESTARTNOHAND_ 514
#define ERESTART_RESTARTBLOCK_ 516

struct ct_call {
	pid_t pid, tid;
	struct ct_attach *attach;       /* where a thread that does not stop is left (ct_call_opts) */
	struct user_regs_struct regs;   /* as the thread was stopped (restored at the end) */
	uint8_t *xstate;
	size_t xstate_len;
	int xstate_type;                /* NT_X86_XSTATE, NT_PRFPREG, or 0 when not saved */
	uint64_t sigmask;
	bool mask_set;
	uint64_t call_sp;               /* rsp at a call's entry: it points at the return address 0 */
	uint64_t scratch_lo, scratch_top;
	uint64_t saved_lo;              /* [saved_lo, saved_lo + saved_len) put back at the end */
	uint8_t *saved;
	size_t saved_len;
	uint64_t restorer;              /* rt_sigreturn trampoline, or 0: return to address 0 */
	uint64_t frame;                 /* the signal frame's address (restorer mode) */
	bool frame_written;
	bool in_syscall_stop;           /* at the rt_sigreturn entry of a returned call */
	struct user_regs_struct resume; /* regs with an interrupted system call set to restart */
	bool scratch_dirty;
	bool in_signal_stop;            /* the thread sits in the SIGSEGV stop of a returned call */
	bool broken, gone;
	siginfo_t deferred[MAX_DEFERRED];
	size_t ndeferred, deferred_total;
	uint64_t call_timeout_ns, t0, t_first;
	struct ct_call_stats st;
	sigset_t term_old;
};

static uint64_t sigbit(int sig)
{
	return 1ull << (sig - 1);
}

/* The signals a fault raises. Never blocked during a call: a fault on a blocked signal makes the
 * kernel reset the process's handler to SIG_DFL. */
static bool is_sync_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

static uint64_t sync_mask(void)
{
	return sigbit(SIGSEGV) | sigbit(SIGBUS) | sigbit(SIGILL) | sigbit(SIGFPE) | sigbit(SIGTRAP) | sigbit(SIGSYS);
}

static int getregs(pid_t tid, struct user_regs_struct *r)
{
	struct iovec iov = { r, sizeof(*r) };
	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

static int setregs(pid_t tid, const struct user_regs_struct *r)
{
	struct iovec iov = { (void *)r, sizeof(*r) };
	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

static int save_fp(struct ct_call *c)
{
	c->xstate = malloc(XSTATE_MAX);
	if (!c->xstate)
		return -ENOMEM;
	static const int types[] = { NT_X86_XSTATE, NT_PRFPREG };
	for (size_t i = 0; i < CT_ARRAY_SIZE(types); i++) {
		struct iovec iov = { c->xstate, XSTATE_MAX };
		if (ptrace(PTRACE_GETREGSET, c->tid, (void *)(long)types[i], &iov) == 0) {
			c->xstate_type = types[i];
			c->xstate_len = iov.iov_len;
			return 0;
		}
	}
	return -errno;
}

static int write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* The thread is in an rseq critical section: moving its pc out and back would let it commit
 * after a preemption without the abort rseq promises. */
static bool in_rseq_cs(pid_t tid, uint64_t pc)
{
	struct {
		uint64_t abi_pointer;
		uint32_t abi_size, signature, flags, pad;
	} conf;
	memset(&conf, 0, sizeof(conf));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(conf), &conf) < 0 || !conf.abi_pointer)
		return false;
	uint64_t cs_ptr = 0;
	if (ct_mem_read(tid, conf.abi_pointer + 8, &cs_ptr, sizeof(cs_ptr)) != sizeof(cs_ptr) || !cs_ptr)
		return false;
	struct { uint32_t version, flags; uint64_t start_ip, post_commit_offset, abort_ip; } cs;
	if (ct_mem_read(tid, cs_ptr, &cs, sizeof(cs)) != sizeof(cs))
		return true; /* cannot tell: say yes */
	return pc >= cs.start_ip && pc - cs.start_ip < cs.post_commit_offset;
}

/* Time tid has spent on a CPU (ns), from /proc/PID/task/TID/schedstat; 0 when unknown. */
static uint64_t run_ns(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *text = NULL;
	struct ct_proc_schedstat ss;
	if (ct_proc_read(pid, tid, "schedstat", 256, &text) < 0 || ct_parse_proc_schedstat(text, &ss) < 0)
		return 0;
	return ss.run_ns;
}

/* Releases a thread still in its first stop, nothing changed. */
static void release_untouched(struct ct_call *c, int sig)
{
	(void)ptrace(PTRACE_DETACH, c->tid, 0, sig);
	ct_attach_release_termination(&c->term_old);
	free(c->xstate);
	free(c->saved);
	free(c);
}

/* Reads the masks of tid before stopping it: refuses early what would be refused at the stop. */
static int precheck(pid_t pid, pid_t tid, const char **why)
{
	_cleanup_free_ char *text = NULL;
	struct ct_proc_sigmasks m;
	int r = ct_proc_read(pid, tid, "status", 1 << 16, &text);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	if (ct_parse_proc_sigmasks(text, &m) < 0) {
		*why = "its /proc status could not be parsed";
		return -EINVAL;
	}
	if (m.state == 'T' || m.state == 't') {
		*why = "it is stopped (job control or another tracer)";
		return -EBUSY;
	}
	if (m.state == 'Z' || m.state == 'X')
		return -ESRCH;
	if ((m.pending | m.shared_pending) & ~m.blocked) {
		*why = "a signal is pending for it";
		return -EBUSY;
	}
	if ((m.blocked | m.ignored) & sigbit(SIGSEGV)) {
		*why = "it blocks or ignores SIGSEGV, which ends a call";
		return -EPERM;
	}
	return 0;
}

/* Sets up the scratch area below the red zone (and, in restorer mode, the signal frame and its
 * FP state below it) and saves what the area holds. */
static int setup_scratch(struct ct_call *c, const char **why)
{
	uint64_t sp = c->regs.rsp;
	size_t fp_len = c->restorer ? c->xstate_len + 4 + 64 : 0;
	size_t need = CT_CALL_SCRATCH + RED_ZONE + fp_len + sizeof(struct k_rt_sigframe) + 64;
	if (sp < (1u << 20) + need) {
		*why = "its stack pointer is not usable";
		return -EFAULT;
	}
	uint64_t hi = sp - RED_ZONE;
	c->scratch_top = hi & ~15ull;
	c->scratch_lo = (hi - CT_CALL_SCRATCH) & ~15ull;
	if (c->restorer) {
		uint64_t fp = (c->scratch_lo - (c->xstate_len + 4)) & ~63ull; /* XRSTOR wants 64-byte alignment */
		/* at a function's entry rsp + 8 is 16-aligned; pretcode sits at rsp */
		c->frame = ((fp - sizeof(struct k_rt_sigframe)) & ~15ull) - 8;
		c->call_sp = c->frame;
	} else {
		c->call_sp = c->scratch_lo - 8;
	}
	c->saved_lo = c->call_sp;
	c->saved_len = hi - c->saved_lo;
	c->saved = malloc(c->saved_len);
	if (!c->saved)
		return -ENOMEM;
	if (ct_mem_read(c->pid, c->saved_lo, c->saved, c->saved_len) != (ssize_t)c->saved_len) {
		*why = "its stack below the red zone cannot be read";
		return -EFAULT;
	}
	return 0;
}

/* Writes the signal frame that brings the thread back to where it was stopped, registers, FP
 * state and signal mask, if it returns through the trampoline with no ctrace to catch it. */
static int write_frame(struct ct_call *c)
{
	struct k_rt_sigframe f;
	memset(&f, 0, sizeof(f));
	const struct user_regs_struct *r = &c->resume;
	uint64_t fp = c->frame + sizeof(f);
	fp = (fp + 63) & ~63ull;
	f.pretcode = c->restorer;
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/* an invalid ss_flags makes rt_sigreturn leave the thread's sigaltstack as it is (it ignores
	 * every error of that step but EFAULT); ctrace cannot read the thread's sigaltstack */
	f.uc.ss_flags = 0x7ff0;
	struct k_sigcontext *m = &f.uc.mc;
	m->r8 = r->r8; m->r9 = r->r9; m->r10 = r->r10; m->r11 = r->r11;
	m->r12 = r->r12; m->r13 = r->r13; m->r14 = r->r14; m->r15 = r->r15;
	m->rdi = r->rdi; m->rsi = r->rsi; m->rbp = r->rbp; m->rbx = r->rbx;
	m->rdx = r->rdx; m->rax = r->rax; m->rcx = r->rcx; m->rsp = r->rsp;
	m->rip = r->rip; m->eflags = r->eflags;
	m->cs = (uint16_t)r->cs; m->ss = (uint16_t)r->ss;
	m->fpstate = c->xstate_type == NT_X86_XSTATE ? fp : 0;
	f.uc.sigmask = c->sigmask;
	int e = write_mem(c->pid, c->frame, &f, sizeof(f));
	if (e < 0 || !m->fpstate)
		return e;
	/* the xsave area as ptrace gives it, with the software bytes a signal frame carries */
	uint8_t *x = malloc(c->xstate_len + 4);
	if (!x)
		return -ENOMEM;
	memcpy(x, c->xstate, c->xstate_len);
	uint64_t xcr0;
	memcpy(&xcr0, x + 464, sizeof(xcr0)); /* ptrace keeps XCR0 there */
	uint32_t sw[12];
	memset(sw, 0, sizeof(sw));
	sw[0] = FP_XSTATE_MAGIC1;
	sw[1] = (uint32_t)c->xstate_len + 4;
	memcpy(&sw[2], &xcr0, sizeof(xcr0));
	sw[4] = (uint32_t)c->xstate_len;
	memcpy(x + 464, sw, sizeof(sw));
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	memcpy(x + c->xstate_len, &magic2, sizeof(magic2));
	e = write_mem(c->pid, fp, x, c->xstate_len + 4);
	free(x);
	return e;
}

/* The registers the thread resumes with when nothing (no signal) runs the kernel's restart of an
 * interrupted system call: that restart done by hand, as the kernel does it without a handler. */
static void set_resume(struct ct_call *c)
{
	struct user_regs_struct *r = &c->resume;
	*r = c->regs;
	if ((int64_t)r->orig_rax >= 0) {
		switch ((int64_t)r->rax) {
		case -ERESTARTSYS_:
		case -ERESTARTNOINTR_:
		case -ERESTARTNOHAND_:
			r->rax = r->orig_rax;
			r->rip -= 2;
			break;
		case -ERESTART_RESTARTBLOCK_:
			r->rax = NR_RESTART_SYSCALL;
			r->rip -= 2;
			break;
		default:
			break;
		}
	}
	r->orig_rax = (unsigned long long)-1;
}

int ct_call_begin(pid_t pid, pid_t tid, const struct ct_call_opts *o, struct ct_call **ret, const char **ret_why)
{
	static const char *none = "";
	const char *why_dummy;
	const char **why = ret_why ? ret_why : &why_dummy;
	*why = none;
	int r = precheck(pid, tid, why);
	if (r < 0)
		return r;
	struct ct_call *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->attach = o->attach;
	c->tid = tid;
	c->call_timeout_ns = o->call_timeout_ns ? o->call_timeout_ns : 1000000000ull;
	c->restorer = o->restorer;
	ct_attach_hold_termination(&c->term_old);
	c->t0 = ct_now_ns();
	r = ct_attach_seize_interrupt(tid);
	if (r < 0) {
		ct_attach_release_termination(&c->term_old);
		free(c);
		*why = r == -EPERM ? "it cannot be seized (another tracer?)" : "it cannot be seized";
		return r;
	}
	int status;
	r = ct_attach_wait_stop(tid, &status, o->deadline_ns);
	if (r == -ETIMEDOUT) {
		ct_attach_give_up(o->attach, tid);
		ct_attach_release_termination(&c->term_old);
		free(c);
		*why = "it did not stop in time";
		return r;
	}
	if (r < 0 || !WIFSTOPPED(status)) {
		ct_attach_release_termination(&c->term_old);
		free(c);
		return -ESRCH;
	}
	/* the stop began between the interrupt and our seeing it: count from the interrupt unless the
	 * wait was long, so a slow wake-up of ctrace is not billed to the target (as attach/ does) */
	uint64_t seen = ct_now_ns();
	if (seen - c->t0 >= 1000000)
		c->t0 = seen;
	int sig = WSTOPSIG(status), event = status >> 16;
	if (event == 0) {
		*why = "a signal was being delivered to it";
		release_untouched(c, sig);
		return -EBUSY;
	}
	if (event != PTRACE_EVENT_STOP || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		*why = "the process is stopped by job control";
		release_untouched(c, 0);
		return -EBUSY;
	}
	r = getregs(tid, &c->regs);
	if (r == 0)
		r = save_fp(c);
	if (r == 0 && ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(c->sigmask), &c->sigmask) < 0)
		r = -errno;
	if (r < 0) {
		*why = "its registers could not be read";
		release_untouched(c, 0);
		return r;
	}
	if (c->sigmask & sigbit(SIGSEGV)) {
		*why = "it blocks SIGSEGV, which ends a call";
		release_untouched(c, 0);
		return -EPERM;
	}
	if (in_rseq_cs(tid, c->regs.rip)) {
		*why = "it is inside an rseq critical section";
		release_untouched(c, 0);
		return -EAGAIN;
	}
	if (o->check) {
		struct ct_capture cap;
		memset(&cap, 0, sizeof(cap));
		cap.tid = tid;
		const struct user_regs_struct *u = &c->regs;
		const uint64_t v[CT_NREGS] = {
			u->rax, u->rdx, u->rcx, u->rbx, u->rsi, u->rdi, u->rbp, u->rsp,
			u->r8, u->r9, u->r10, u->r11, u->r12, u->r13, u->r14, u->r15, u->rip,
		};
		memcpy(cap.regs, v, sizeof(v));
		cap.regs_valid = (1u << CT_NREGS) - 1;
		cap.syscall_nr = (int64_t)u->orig_rax >= 0 ? (long)u->orig_rax : CT_SYSCALL_NONE;
		size_t len = o->stack_bytes ? o->stack_bytes : 64 * 1024;
		cap.stack = malloc(len);
		if (cap.stack) {
			ssize_t n = ct_mem_read(tid, u->rsp, cap.stack, len);
			cap.stack_start = u->rsp;
			cap.stack_len = n > 0 ? (size_t)n : 0;
		}
		r = o->check(o->check_arg, &cap, why);
		free(cap.stack);
		if (r < 0) {
			release_untouched(c, 0);
			return r;
		}
	}
	r = setup_scratch(c, why);
	if (r < 0) {
		release_untouched(c, 0);
		return r;
	}
	/* Stopped inside a system call that would fail with EINTR because of our stop: make it restart
	 * instead, as the kernel does for the others (the syscall instruction is 2 bytes: 0f 05). */
	if ((int64_t)c->regs.orig_rax >= 0 && (int64_t)c->regs.rax == -EINTR) {
		uint8_t insn[2];
		if (ct_mem_read(pid, c->regs.rip - 2, insn, 2) == 2 && insn[0] == 0x0f && insn[1] == 0x05) {
			c->regs.rax = c->regs.orig_rax;
			c->regs.rip -= 2;
			c->st.restart_forced = true;
		}
	}
	set_resume(c);
	if (c->restorer && ptrace(PTRACE_SETOPTIONS, tid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
		r = -errno;
		*why = "its ptrace options could not be set";
		release_untouched(c, 0);
		return r;
	}
	*ret = c;
	return 0;
}

int ct_call_push(struct ct_call *c, const void *data, size_t len, uint64_t *ret_addr)
{
	if (len > c->scratch_top - c->scratch_lo)
		return -ENOSPC;
	uint64_t a = (c->scratch_top - len) & ~15ull;
	if (a < c->scratch_lo)
		return -ENOSPC;
	c->scratch_dirty = true;
	int r = write_mem(c->pid, a, data, len);
	if (r < 0)
		return r;
	c->scratch_top = a;
	*ret_addr = a;
	return 0;
}

int ct_call_peek(struct ct_call *c, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = ct_mem_read(c->pid, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

static void defer_signal(struct ct_call *c, const siginfo_t *si)
{
	c->deferred_total++;
	if (c->ndeferred < MAX_DEFERRED)
		c->deferred[c->ndeferred++] = *si;
}

/* Stops a call that overran: interrupt, and wait (long) for the stop, since releasing a thread that
 * is still running the call would let it return to address 0. */
static int interrupt_call(struct ct_call *c)
{
	if (ptrace(PTRACE_INTERRUPT, c->tid, 0, 0) < 0)
		return -errno;
	uint64_t until = ct_now_ns() + INTERRUPT_GRACE_NS;
	for (;;) {
		int status;
		int r = ct_attach_wait_stop(c->tid, &status, until);
		if (r < 0)
			return r;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		int sig = WSTOPSIG(status), event = status >> 16;
		if (c->restorer && sig == (SIGTRAP | 0x80)) {
			/* with PTRACE_SYSCALL in effect the interrupt of a blocking system call is reported
			 * as its syscall-exit-stop (ptrace(2)) */
			c->in_syscall_stop = true;
			c->in_signal_stop = false;
			return 0;
		}
		c->in_syscall_stop = false;
		if (event == 0) {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) == 0 && !(is_sync_signal(sig) && si.si_code > 0))
				defer_signal(c, &si);
			c->in_signal_stop = true;
		} else {
			c->in_signal_stop = false;
		}
		return 0;
	}
}

int ct_call_run(struct ct_call *c, uint64_t fn, const uint64_t *args, size_t nargs, uint64_t *ret)
{
	if (c->broken || c->gone)
		return -ECANCELED;
	if (nargs > 6)
		return -EINVAL;
	struct user_regs_struct r = c->regs;
	uint64_t *const slots[6] = { (uint64_t *)&r.rdi, (uint64_t *)&r.rsi, (uint64_t *)&r.rdx,
				     (uint64_t *)&r.rcx, (uint64_t *)&r.r8, (uint64_t *)&r.r9 };
	for (size_t i = 0; i < nargs; i++)
		*slots[i] = args[i];
	r.rip = fn;
	r.rsp = c->call_sp;
	r.rax = 0;
	/* not in a system call: the kernel must not restart one into our call */
	r.orig_rax = (unsigned long long)-1;
	r.eflags &= ~(EFLAGS_DF | EFLAGS_TF);
	c->scratch_dirty = true;
	int e;
	if (c->restorer) {
		/* the frame first: from the moment the registers point into the call, a thread released
		 * by ctrace's death finds its way back through it */
		e = c->frame_written ? 0 : write_frame(c);
		c->frame_written = e == 0;
		if (e == 0)
			e = write_mem(c->pid, c->call_sp, &c->restorer, sizeof(c->restorer));
	} else {
		uint64_t zero = 0;
		e = write_mem(c->pid, c->call_sp, &zero, sizeof(zero));
	}
	if (e == 0)
		e = setregs(c->tid, &r);
	/* Block everything the kernel lets us but the faults: signals arriving during the calls stay
	 * pending and are delivered after the restore, in the thread's own context. Set at the first
	 * call, not before: the window in which ctrace's death would leave the thread changed is the
	 * calls alone (see SAFETY in ctrace(1)). */
	if (e == 0 && !c->mask_set) {
		uint64_t mask = ~sync_mask();
		if (ptrace(PTRACE_SETSIGMASK, c->tid, (void *)sizeof(mask), &mask) < 0)
			e = -errno;
		else
			c->mask_set = true;
		c->t_first = ct_now_ns();
	}
	const enum __ptrace_request go = c->restorer ? PTRACE_SYSCALL : PTRACE_CONT;
	if (e == 0 && ptrace(go, c->tid, 0, 0) < 0)
		e = -errno;
	if (e < 0) {
		c->broken = true;
		return e == -ESRCH ? (c->gone = true, -ESRCH) : e;
	}
	c->in_signal_stop = false;
	c->in_syscall_stop = false;
	c->st.calls++;
	uint64_t start = ct_now_ns(), deadline = start + c->call_timeout_ns;
	uint64_t ran0 = run_ns(c->pid, c->tid);
	for (;;) {
		int status;
		e = ct_attach_wait_stop(c->tid, &status, deadline);
		if (e == -ETIMEDOUT) {
			uint64_t now = ct_now_ns(), ran = run_ns(c->pid, c->tid);
			bool runaway = ran0 && ran && ran - ran0 >= c->call_timeout_ns;
			uint64_t hard = start + CALL_HARD_LIMIT * c->call_timeout_ns;
			if (!runaway && now < hard) {
				deadline = CT_MIN(now + c->call_timeout_ns, hard);
				continue;
			}
			c->broken = true;
			c->st.abandoned = true;
			e = interrupt_call(c);
			if (e < 0) {
				/* still running the call and not stopping: nothing safe is left to do but keep
				 * it traced (ctrace's exit then releases it) */
				c->gone = true;
				ct_attach_give_up(c->attach, c->tid);
				return -ETIMEDOUT;
			}
			return -ETIMEDOUT;
		}
		if (e < 0 || !WIFSTOPPED(status)) {
			c->gone = true;
			c->broken = true;
			return -ESRCH;
		}
		int sig = WSTOPSIG(status), event = status >> 16;
		if (c->restorer && sig == (SIGTRAP | 0x80)) {
			/* a system call of the function, or its return into the trampoline */
			struct { uint8_t op, pad[3]; uint32_t arch; uint64_t ip, sp, nr; uint64_t rest[7]; } si;
			memset(&si, 0, sizeof(si));
			if (ptrace(PTRACE_GET_SYSCALL_INFO, c->tid, (void *)sizeof(si), &si) <= 0) {
				c->gone = true;
				c->broken = true;
				return -ESRCH;
			}
			if (si.op == 1 /* entry */ && si.nr == NR_RT_SIGRETURN && si.ip == c->restorer + 9 &&
			    si.sp == c->call_sp + 8) {
				c->in_syscall_stop = true;
				*ret = UINT64_MAX; /* rax was spent on the trampoline */
				return 0;
			}
			if (ptrace(PTRACE_SYSCALL, c->tid, 0, 0) < 0) {
				c->gone = true;
				c->broken = true;
				return -ESRCH;
			}
			continue;
		}
		if (event != 0) {
			/* a group stop or an interrupt: the call goes on (a group stop takes the thread back
			 * when it is released) */
			if (ptrace(go, c->tid, 0, 0) < 0) {
				c->gone = true;
				c->broken = true;
				return -ESRCH;
			}
			continue;
		}
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		struct user_regs_struct now;
		if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) < 0 || getregs(c->tid, &now) < 0) {
			c->gone = true;
			c->broken = true;
			return -ESRCH;
		}
		if (sig == SIGSEGV && now.rip == 0 && now.rsp == c->call_sp + 8) {
			c->in_signal_stop = true;
			*ret = now.rax;
			return 0;
		}
		if (is_sync_signal(sig) && si.si_code > 0) {
			/* the function itself faulted: the fault is ours, not the program's */
			c->in_signal_stop = true;
			c->broken = true;
			c->st.abandoned = true;
			return -EFAULT;
		}
		defer_signal(c, &si);
		if (ptrace(go, c->tid, 0, 0) < 0) {
			c->gone = true;
			c->broken = true;
			return -ESRCH;
		}
	}
}

/* "mov $15, %rax; syscall": rt_sigreturn, as glibc's __restore_rt */
static const uint8_t restorer_code[9] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

int ct_call_find_restorer(pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = ct_proc_read(pid, 0, "maps", 8 << 20, &text);
	if (r < 0)
		return r;
	struct ct_proc_map *maps = NULL;
	size_t n = 0;
	r = ct_parse_proc_maps(text, 1 << 16, &maps, &n);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n && r == -ENOENT; i++) {
		const struct ct_proc_map *m = &maps[i];
		const char *b = m->path ? strrchr(m->path, '/') : NULL;
		if (!b || m->perms[2] != 'x' || !(ct_startswith(b + 1, "libc.so") || ct_startswith(b + 1, "libc-")))
			continue;
		size_t len = (size_t)CT_MIN(m->end - m->start, 16u << 20);
		uint8_t *buf = malloc(len);
		if (!buf) {
			r = -ENOMEM;
			break;
		}
		ssize_t got = ct_mem_read(pid, m->start, buf, len);
		const uint8_t *hit = got > 0 ? memmem(buf, (size_t)got, restorer_code, sizeof(restorer_code)) : NULL;
		if (hit) {
			*ret = m->start + (uint64_t)(hit - buf);
			r = 0;
		}
		free(buf);
	}
	ct_proc_maps_free(maps, n);
	return r;
}

/* A deferred signal beyond the one handed back at the release: queued again with its siginfo when
 * the kernel allows it (sigqueue-style si_code), else sent again with tgkill. */
static void requeue(const struct ct_call *c, const siginfo_t *si)
{
	if (si->si_code < 0 && si->si_code != SI_TKILL) {
		siginfo_t copy = *si;
		if (syscall(SYS_rt_tgsigqueueinfo, c->pid, c->tid, si->si_signo, &copy) == 0)
			return;
	}
	(void)syscall(SYS_tgkill, c->pid, c->tid, si->si_signo);
}

int ct_call_end(struct ct_call *c, struct ct_call_stats *ret_stats)
{
	int err = 0;
	if (!c->gone) {
		if (c->scratch_dirty && write_mem(c->pid, c->saved_lo, c->saved, c->saved_len) < 0)
			err = -EIO;
		/* the thread's own interrupted system call restarts by hand (resume, orig_rax -1): at a
		 * system call stop no signal work follows the release to restart it, and at a signal
		 * stop the kernel then finds nothing to restart */
		int r = setregs(c->tid, &c->resume);
		if (r < 0)
			err = r;
		if (c->xstate_type) {
			struct iovec iov = { c->xstate, c->xstate_len };
			if (ptrace(PTRACE_SETREGSET, c->tid, (void *)(long)c->xstate_type, &iov) < 0 && !err)
				err = -errno;
		}
		if (c->mask_set && ptrace(PTRACE_SETSIGMASK, c->tid, (void *)sizeof(c->sigmask), &c->sigmask) < 0 && !err)
			err = -errno;
		int sig = 0;
		size_t first = 0;
		if (c->in_signal_stop && c->ndeferred > 0 &&
		    ptrace(PTRACE_SETSIGINFO, c->tid, 0, &c->deferred[0]) == 0) {
			sig = c->deferred[0].si_signo;
			first = 1;
		}
		if (c->t_first)
			c->st.window_ns = ct_now_ns() - c->t_first;
		if (ptrace(PTRACE_DETACH, c->tid, 0, sig) < 0 && !err)
			err = -errno;
		for (size_t i = first; i < c->ndeferred; i++)
			requeue(c, &c->deferred[i]);
	} else {
		err = -ESRCH;
	}
	c->st.stop_ns = ct_now_ns() - c->t0;
	c->st.deferred_signals = c->deferred_total;
	if (ret_stats)
		*ret_stats = c->st;
	ct_attach_release_termination(&c->term_old);
	free(c->xstate);
	free(c->saved);
	free(c);
	return err;
}
