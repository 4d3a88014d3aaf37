/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --threads for Ruby: what each Ruby thread waits in, named as Ruby names it, and who holds the
 * Mutex it waits for. Read from the running target after a snapshot, with the thread list of
 * interp/ruby.c and the layouts of interp/rblayout.c (the public one and the private one of
 * thread_sync.c). Each wait is only said when the VM shows it exactly:
 *   Thread::Mutex#lock           rb_thread_t's locking_mutex (set while it waits in Mutex#lock)
 *   Thread::ConditionVariable#wait, Thread::Queue#pop, Thread::SizedQueue#pop and #push
 *                                the receiver of the innermost C-function frame is that object and
 *                                the thread is on its wait list
 *   Thread::Mutex#sleep          the receiver is a Mutex (and no condition variable calls it)
 *   Kernel#sleep                 the method's owner is Kernel and rb_thread_sleep_forever or
 *                                rb_thread_wait_for is on the native stack
 *   IO fd N (what it is)         the receiver is an IO (its descriptor read from its rb_io_t)
 *                                and the thread is in a system call
 * A Mutex's holder is the thread whose keeping_mutexes list holds it. */
#ifndef CT_INTERP_RBTHREADS_H
#define CT_INTERP_RBTHREADS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp/rblayout.h"
#include "interp/ruby.h"
#include "lib/model.h"

/* Fills, for each Ruby thread of s that is not running: waiting_on ("Thread::Mutex#lock 0x7f.. in
 * grab (app.rb:26)", "IO fd 5 (pipe:[123]) in read_pipe (app.rb:38)", replacing /proc's), lock_waiting
 * (the Mutex object's address) and, for the holder, locks_held. What cannot be read or does not
 * check out is left unsaid. 0 or -ENOMEM. */
int ct_rb_waits_fill(struct ct_rb *rb, struct ct_snapshot *s);

/* Where the readers take the target's memory from: the live process, or (the fuzzer, the unit tests)
 * a buffer. read: exactly len bytes at addr, 0 or -errno. */
struct ct_rb_mem {
	int (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
	pid_t pid; /* the live process (for what an IO's descriptor is), or 0 */
};
/* ct_rb_waits_fill over any memory: threads[i] is the rb_thread_t of the thread whose TID is tids[i];
 * kernel the value of rb_mKernel (0: unknown). 0 or -ENOMEM. */
int ct_rb_waits_fill_mem(const struct ct_rb_mem *m, const struct ct_rb_layout *L,
			 const struct ct_rb_private_layout *P, uint64_t kernel, const uint64_t *threads,
			 const pid_t *tids, size_t n, struct ct_snapshot *s);

/* The wait named by the receiver's type (the wrap_struct_name of a typed data object, "" for
 * another object, "IO" for an IO) and the wait lists the thread was found on: for the fuzzer and
 * the unit tests. NULL when nothing is said. */
enum { CT_RB_ON_WAITQ = 1, CT_RB_ON_PUSHQ = 2 };
const char *ct_rb_wait_name(const char *type, unsigned on_lists);

#endif
