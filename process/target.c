/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "process/target.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

#define CAP_SYS_PTRACE_BIT 19

void ct_target_clear(struct ct_target *t)
{
	free(t->comm);
	free(t->exe);
	free(t->tracer_comm);
	memset(t, 0, sizeof(*t));
}

static char *read_comm(pid_t pid)
{
	char *s = NULL;
	if (ct_proc_read(pid, 0, "comm", 4096, &s) < 0)
		return NULL;
	return ct_rstrip(s);
}

int ct_target_open(pid_t pid, struct ct_target *ret)
{
	struct ct_target t;
	memset(&t, 0, sizeof(t));
	t.pid = pid;
	if (pid <= 0)
		return -ESRCH;

	_cleanup_free_ char *status_text = NULL;
	int r = ct_proc_read(pid, 0, "status", 1 << 16, &status_text);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	struct ct_proc_status st;
	if (ct_parse_proc_status(status_text, &st) < 0)
		return -EINVAL;
	/* /proc/TID exists for threads too; a thread id is not a process id. */
	if (st.tgid != pid)
		return -ESRCH;

	_cleanup_free_ char *stat_text = NULL;
	struct ct_proc_stat ps;
	memset(&ps, 0, sizeof(ps));
	if (ct_proc_read(pid, 0, "stat", 4096, &stat_text) == 0)
		(void)ct_parse_proc_stat(stat_text, &ps);

	t.comm = strdup(st.name);
	t.uid = st.uid[0];
	t.state = st.state;
	t.tracer_pid = st.tracer_pid;
	t.threads = st.threads;
	char buf[PATH_MAX];
	if (ct_proc_exe(pid, buf, sizeof(buf)) > 0)
		t.exe = strdup(buf);
	if (!t.comm) {
		ct_target_clear(&t);
		return -ENOMEM;
	}

	int err = 0;
	if (pid == getpid())
		err = -CT_ESELF;
	else if (ps.flags & CT_PF_KTHREAD)
		err = -CT_EKTHREAD;
	else if (st.state == 'Z' || st.state == 'X')
		err = (st.threads <= 1) ? -CT_EZOMBIE : 0;
	if (!err && st.tracer_pid != 0) {
		if (st.tracer_pid != getpid()) {
			t.tracer_comm = read_comm(st.tracer_pid);
			err = -CT_ETRACED;
		}
	}
	*ret = t;
	return err;
}

static int read_int_file(const char *path, long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = ct_read_file(path, 64, &s, NULL);
	if (r < 0)
		return r;
	return ct_parse_long(ct_rstrip(s), LONG_MIN, LONG_MAX, ret);
}

char *ct_target_explain_eperm(pid_t pid)
{
	struct ct_buf b = CT_BUF_INIT;
	_cleanup_free_ char *self_status = NULL, *target_status = NULL;
	struct ct_proc_status self, tgt;
	bool have_self = ct_proc_read(getpid(), 0, "status", 1 << 16, &self_status) == 0 &&
			 ct_parse_proc_status(self_status, &self) == 0;
	bool have_tgt = ct_proc_read(pid, 0, "status", 1 << 16, &target_status) == 0 &&
			ct_parse_proc_status(target_status, &tgt) == 0;
	bool cap = have_self && (self.cap_eff & (1ull << CAP_SYS_PTRACE_BIT));
	long scope = -1;
	(void)read_int_file("/proc/sys/kernel/yama/ptrace_scope", &scope);

	if (have_tgt && tgt.tracer_pid) {
		ct_buf_printf(&b, "process %d is already traced by %d; detach that tracer first", (int)pid,
			      (int)tgt.tracer_pid);
	} else if (scope == 3) {
		ct_buf_puts(&b, "kernel.yama.ptrace_scope is 3 (ptrace disabled until reboot); no process "
				"can be traced on this machine");
	} else if (!cap && have_self && have_tgt && self.uid[1] != tgt.uid[0]) {
		ct_buf_printf(&b, "process %d belongs to uid %u and ctrace runs as uid %u without "
				  "CAP_SYS_PTRACE; run ctrace as uid %u or as root (sudo)",
			      (int)pid, (unsigned)tgt.uid[0], (unsigned)self.uid[1], (unsigned)tgt.uid[0]);
	} else if (!cap && scope >= 1) {
		ct_buf_printf(&b, "kernel.yama.ptrace_scope is %ld, which lets only ancestors or "
				  "CAP_SYS_PTRACE trace; run as root, or 'sysctl kernel.yama.ptrace_scope=0'",
			      scope);
	} else if (cap) {
		ct_buf_puts(&b, "ptrace was refused despite CAP_SYS_PTRACE: a security module (SELinux, "
				"AppArmor) or a seccomp filter in this container forbids it; check the "
				"audit log, or run ctrace outside the container");
	} else {
		ct_buf_puts(&b, "ptrace was refused: the process may be non-dumpable (setuid or "
				"prctl(PR_SET_DUMPABLE, 0)); run ctrace as root");
	}
	return ct_buf_steal(&b);
}

int ct_target_thread_facts_from(pid_t tid, const struct ct_proc_stat *st, const char *wchan, struct ct_thread *t)
{
	t->tid = tid;
	if (!t->name && !(t->name = strdup(st->comm))) /* the same task name /proc/.../comm shows */
		return -ENOMEM;
	if (t->state == '?' || t->state == 0)
		t->state = st->state;
	t->utime_ticks = st->utime;
	t->stime_ticks = st->stime;
	if (wchan && wchan[0] && strcmp(wchan, "0") != 0 && !(t->wchan = strdup(wchan)))
		return -ENOMEM;
	return 0;
}

int ct_target_thread_facts(pid_t pid, pid_t tid, struct ct_thread *t)
{
	_cleanup_free_ char *stat_text = NULL;
	int r = ct_proc_read(pid, tid, "stat", 4096, &stat_text);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	struct ct_proc_stat st;
	if (ct_parse_proc_stat(stat_text, &st) < 0)
		return -EINVAL;
	_cleanup_free_ char *w = NULL;
	if (ct_proc_read(pid, tid, "wchan", 256, &w) < 0)
		w = NULL;
	return ct_target_thread_facts_from(tid, &st, w, t);
}

static char *fd_target(pid_t pid, uint64_t fd)
{
	if (fd > 1u << 30)
		return NULL;
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/fd/%" PRIu64, (int)pid, fd);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

char *ct_describe_wait(pid_t pid, long nr, const uint64_t a[6])
{
	struct ct_buf b = CT_BUF_INIT;
	switch (nr) {
	case SYS_futex: {
		int op = (int)a[1] & FUTEX_CMD_MASK;
		const char *name = op == FUTEX_WAIT ? "wait" : op == FUTEX_WAIT_BITSET ? "wait" :
				   op == FUTEX_LOCK_PI ? "lock_pi" : op == FUTEX_WAIT_REQUEUE_PI ? "wait_requeue_pi" :
#ifdef FUTEX_LOCK_PI2
				   op == FUTEX_LOCK_PI2 ? "lock_pi" :
#endif
				   "op";
		ct_buf_printf(&b, "futex %s on 0x%" PRIx64, name, a[0]);
		break;
	}
	case SYS_read: case SYS_readv: case SYS_pread64: case SYS_recvfrom: case SYS_recvmsg:
	case SYS_recvmmsg: case SYS_write: case SYS_writev: case SYS_pwrite64: case SYS_sendto:
	case SYS_sendmsg: case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_epoll_wait:
	case SYS_epoll_pwait: case SYS_flock: case SYS_fcntl: case SYS_fsync: case SYS_fdatasync: {
		_cleanup_free_ char *what = fd_target(pid, a[0]);
		ct_buf_printf(&b, "fd %" PRIu64, a[0]);
		if (what)
			ct_buf_printf(&b, " (%s)", what);
		break;
	}
	case SYS_wait4: case SYS_waitid:
		ct_buf_printf(&b, "child %" PRId64, (int64_t)(int32_t)a[nr == SYS_waitid ? 1 : 0]);
		break;
	default:
		return NULL;
	}
	return ct_buf_steal(&b);
}
