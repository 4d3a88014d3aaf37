/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lock owners of a live process, read from the running target after a capture. */
#ifndef CT_LOCKS_H
#define CT_LOCKS_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>

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
 * from the running target at the __owner offset). Without the layout, lock_waiting is the futex word
 * and no owner is known (l->why says so). Call with every thread running. 0 or -ENOMEM. */
int ct_locks_fill(Dwfl *dwfl, struct ct_mutex_layout *l, struct ct_snapshot *s);

#endif
