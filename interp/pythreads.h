/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What Python threads blocked in a lock's acquire wait for (interp/pythreads.c), read from the
 * running target after the capture. */
#ifndef CT_INTERP_PYTHREADS_H
#define CT_INTERP_PYTHREADS_H

#include <stddef.h>

#include "interp/python.h"
#include "lib/capture.h"
#include "lib/model.h"

/* For each thread of s captured in caps (s->threads[i] from caps[i], as the snapshot session
 * builds them), blocked on a futex under Python frames: a thread in RLock.acquire gets
 * lock_waiting (the RLock's address) and waiting_on "RLock.acquire", its owner the id in
 * locks_held; a thread in Lock.acquire waiting_on saying the owner cannot be known. Only a lock
 * object found exactly (its semaphore is the futex the thread sleeps on) is named. 0 or -ENOMEM. */
int ct_py_locks_fill(struct ct_py *py, const struct ct_capture *caps, size_t n, struct ct_snapshot *s);

#endif
