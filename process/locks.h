/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lock owners, read from the running target after a capture, or from a core's memory. */
#ifndef CT_LOCKS_H
#define CT_LOCKS_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/memsrc.h"
#include "lib/model.h"

/* Layout of glibc's pthread_mutex_t, from libc's DWARF; looked up once per inspector. */
struct ct_mutex_layout {
	bool tried;        /* looked up already */
	bool known;
	size_t lock_off;   /* offset of __data.__lock (the futex word) */
	size_t owner_off;  /* offset of __data.__owner (the owner's tid) */
	char *why;         /* when not known: why, as one sentence to say once */
};
void ct_mutex_layout_clear(struct ct_mutex_layout *l);

/* For every thread of s blocked in a futex wait inside pthread_mutex_lock (or its timed and condvar
 * variants), sets lock_waiting to the mutex address and adds it to the locks_held of the owner (read
 * from mem at the __owner offset). Without the layout, lock_waiting is the futex word and no owner is
 * known (l->why says so). The futex word of a thread is its futex() call's first argument; futex_words,
 * when not NULL, gives it instead (by thread index, 0: not in futex()), for a source with no system
 * call to show (a core: the word is in its saved registers). Call with every thread running.
 * 0 or -ENOMEM. */
int ct_locks_fill(Dwfl *dwfl, struct ct_mutex_layout *l, const struct ct_memsrc *mem, struct ct_snapshot *s,
		  const uint64_t *futex_words);

#endif
