/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kinds of Ruby's waits (Mutex#lock, ConditionVariable#wait, Queue#pop, sleep, IO), from the
 * names interp/rbthreads.c gives them in a thread's waiting_on, for analyze/threads.c. */
#ifndef CT_ANALYZE_RBWAITS_H
#define CT_ANALYZE_RBWAITS_H

#include "analyze/threads.h"
#include "lib/model.h"

/* The kind of t's Ruby wait, or CT_WAIT_NONE when waiting_on names none. */
enum ct_wait_kind ct_ruby_wait_kind(const struct ct_thread *t);

#endif
