/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/boost.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/banned.h"

/* The thread whose SCHED_FIFO the SIGXCPU handler drops (the signal is process-directed, so it may
 * land on another thread): the one piece of state a signal handler needs, hence at file scope. */
static volatile sig_atomic_t fifo_tid;
static volatile sig_atomic_t fifo_dropped;

static void on_xcpu(int sig)
{
	(void)sig;
	int e = errno;
	pid_t tid = (pid_t)fifo_tid;
	if (tid > 0) {
		struct sched_param p = { 0 };
		(void)syscall(SYS_sched_setscheduler, tid, SCHED_OTHER, &p);
		fifo_dropped = 1;
		fifo_tid = 0;
	}
	errno = e;
}

static int try_fifo(struct ct_boost *b)
{
	if (getrlimit(RLIMIT_RTTIME, &b->old_rttime) < 0)
		return -errno;
	struct rlimit lim = { CT_BOOST_RTTIME_SOFT_US, CT_BOOST_RTTIME_HARD_US };
	if (setrlimit(RLIMIT_RTTIME, &lim) < 0) {
		/* not allowed to raise the hard limit: keep it when it is a tighter bound */
		if (b->old_rttime.rlim_max == RLIM_INFINITY)
			return -EPERM;
		lim.rlim_max = b->old_rttime.rlim_max;
		lim.rlim_cur = CT_MIN(lim.rlim_cur, lim.rlim_max);
		if (setrlimit(RLIMIT_RTTIME, &lim) < 0)
			return -errno;
	}
	b->rttime_set = true;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xcpu;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	struct sigaction old;
	if (sigaction(SIGXCPU, &sa, &old) < 0)
		return -errno;
	(void)old; /* ctrace installs no SIGXCPU handler of its own: restored to the default at end */
	b->handler_set = true;
	fifo_dropped = 0;
	fifo_tid = b->tid;
	struct sched_param p = { .sched_priority = sched_get_priority_min(SCHED_FIFO) };
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) < 0) {
		int e = -errno;
		fifo_tid = 0;
		return e;
	}
	return 0;
}

static void undo_fifo_setup(struct ct_boost *b)
{
	if (b->handler_set) {
		fifo_tid = 0;
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGXCPU, &sa, NULL);
		b->handler_set = false;
	}
	if (b->rttime_set) {
		(void)setrlimit(RLIMIT_RTTIME, &b->old_rttime);
		b->rttime_set = false;
	}
}

void ct_boost_begin(struct ct_boost *b, uint64_t max_ns)
{
	memset(b, 0, sizeof(*b));
	b->tid = (pid_t)syscall(SYS_gettid);
	b->start_ns = ct_now_ns();
	b->max_ns = max_ns;
	b->old_policy = sched_getscheduler(0);
	struct sched_param op;
	b->old_prio = sched_getparam(0, &op) == 0 ? op.sched_priority : 0;
	errno = 0;
	b->old_nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		b->old_nice = 0;
	if ((b->old_policy & ~SCHED_RESET_ON_FORK) != SCHED_OTHER) {
		/* already real-time or batch/idle by the user's choice: leave it alone */
		b->err = -EEXIST;
		return;
	}
	b->err = try_fifo(b);
	if (b->err == 0) {
		b->kind = b->used = CT_BOOST_FIFO;
		return;
	}
	undo_fifo_setup(b);
	b->nice = CT_BOOST_NICE_SNAPSHOT;
	if (b->old_nice > CT_BOOST_NICE_SNAPSHOT && setpriority(PRIO_PROCESS, 0, CT_BOOST_NICE_SNAPSHOT) == 0)
		b->kind = b->used = CT_BOOST_NICEK;
	else if (b->old_nice <= CT_BOOST_NICE_SNAPSHOT)
		b->used = CT_BOOST_NICEK; /* the session's thread runs there already: nothing to undo */
}

void ct_boost_begin_nice(struct ct_boost *b)
{
	ct_boost_begin_nice_at(b, CT_BOOST_NICE);
}

void ct_boost_begin_nice_at(struct ct_boost *b, int nice)
{
	memset(b, 0, sizeof(*b));
	b->tid = (pid_t)syscall(SYS_gettid);
	b->start_ns = ct_now_ns();
	b->max_ns = UINT64_MAX;
	errno = 0;
	b->old_nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		return;
	b->err = -EPERM;
	b->nice = nice;
	if (b->old_nice > nice && setpriority(PRIO_PROCESS, 0, nice) == 0) {
		b->kind = b->used = CT_BOOST_NICEK;
		b->err = 0;
	}
}

void ct_boost_end(struct ct_boost *b)
{
	if (b->kind == CT_BOOST_FIFO) {
		fifo_tid = 0;
		struct sched_param p = { .sched_priority = b->old_prio };
		(void)sched_setscheduler(0, b->old_policy, &p);
		undo_fifo_setup(b);
	} else if (b->kind == CT_BOOST_NICEK) {
		(void)setpriority(PRIO_PROCESS, 0, b->old_nice);
	}
	b->kind = CT_BOOST_NONE;
}

bool ct_boost_check(struct ct_boost *b)
{
	if (b->kind == CT_BOOST_NONE)
		return false;
	if ((b->kind == CT_BOOST_FIFO && fifo_dropped) || ct_now_ns() - b->start_ns >= b->max_ns) {
		b->cut = true;
		ct_boost_end(b);
		return false;
	}
	return true;
}

const char *ct_boost_describe(const struct ct_boost *b, char *buf, size_t n)
{
	switch (b->used) {
	case CT_BOOST_FIFO:
		snprintf(buf, n, "SCHED_FIFO 1, at most %lu ms without blocking (RLIMIT_RTTIME)%s",
			 CT_BOOST_RTTIME_SOFT_US / 1000, b->cut ? ", cut short" : "");
		break;
	case CT_BOOST_NICEK:
		if (b->err)
			snprintf(buf, n, "nice %d (SCHED_FIFO refused: %s)", b->nice, strerror(-b->err));
		else
			snprintf(buf, n, "nice %d", b->nice);
		break;
	default:
		snprintf(buf, n, "none (%s)", b->err == -EEXIST ? "ctrace's policy was set by the user" : "not permitted");
	}
	return buf;
}
