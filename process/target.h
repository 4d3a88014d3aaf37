/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which process: validation and facts from /proc, and why we may not trace it. Never stops it. */
#ifndef CT_TARGET_H
#define CT_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/model.h"
#include "lib/procfs.h"

struct ct_target {
	pid_t pid;
	char *comm;
	char *exe;         /* readlink of /proc/PID/exe, NULL when unreadable */
	uid_t uid;
	char state;
	pid_t tracer_pid;
	char *tracer_comm; /* name of the tracer, when traced */
	long threads;
};

/* Validates that pid names a process ctrace can inspect: exists, not a zombie, not a kernel thread,
 * not ctrace itself, not already traced. Returns 0, -ESRCH, -CT_EZOMBIE, -CT_EKTHREAD, -CT_ESELF,
 * -CT_ETRACED (ret is filled so tracer_pid can be reported), or another -errno. */
int ct_target_open(pid_t pid, struct ct_target *ret);
void ct_target_clear(struct ct_target *t);

/* Explains why ptrace of pid was refused: a sentence with the cause and the fix. Caller frees. */
char *ct_target_explain_eperm(pid_t pid);

/* Fills the /proc facts of one thread (name, state, syscall when blocked, wchan, CPU times). */
int ct_target_thread_facts(pid_t pid, pid_t tid, struct ct_thread *t);
/* The same from what the capture read just before it: name, state and CPU times from st, the wait
 * channel from wchan (read with st: after a stop the thread may not be back asleep yet; NULL, "" or
 * "0": none, or not read, as for text, which does not show it). 0 or -ENOMEM. */
int ct_target_thread_facts_from(pid_t tid, const struct ct_proc_stat *st, const char *wchan, struct ct_thread *t);

/* Describes what a thread blocked in syscall nr waits on ("fd 3 (pipe:[123])", "futex 0x…").
 * Returns an allocated string or NULL. */
char *ct_describe_wait(pid_t pid, long nr, const uint64_t args[6]);

#endif
