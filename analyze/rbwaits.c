/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze/rbwaits.h"

#include <fnmatch.h>

#include "lib/util.h"
#include "lib/banned.h"

/* Ruby's waits, as interp/rbthreads.c names them in waiting_on: they come before the native frames,
 * which show only the condition variable each of them sleeps on. */
static const struct {
	const char *pattern;
	enum ct_wait_kind kind;
} ruby_waits[] = {
	{ "Thread::Mutex#lock 0x*", CT_WAIT_MUTEX },
	{ "Thread::ConditionVariable#wait*", CT_WAIT_CONDVAR },
	{ "Thread::Mutex#sleep*", CT_WAIT_CONDVAR },
	{ "Thread::Queue#pop*", CT_WAIT_CONDVAR },
	{ "Thread::SizedQueue#p*", CT_WAIT_CONDVAR },
	{ "Kernel#sleep*", CT_WAIT_SLEEP },
	{ "IO in *", CT_WAIT_IO },
	{ "IO fd *", CT_WAIT_IO },
};

enum ct_wait_kind ct_ruby_wait_kind(const struct ct_thread *t)
{
	for (size_t k = 0; t->waiting_on && k < CT_ARRAY_SIZE(ruby_waits); k++)
		if (fnmatch(ruby_waits[k].pattern, t->waiting_on, 0) == 0)
			return ruby_waits[k].kind;
	return CT_WAIT_NONE;
}
