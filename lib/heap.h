/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's own heap, set up once at start: large blocks kept in the brk heap and the heap's first
 * CT_HEAP_RESERVE bytes eligible for transparent huge pages. libdw allocates tens of MiB for the
 * line tables and CUs of a cold lookup (Python 3.11's LTO units, libc's 2000 CUs), and a page
 * touched for the first time costs 11-15 us of CPU on a VM against 0.2 us per 4 KiB inside a huge
 * page (measured): a cold --backtraces of a Python 3.11 process went from 3856 page faults and
 * 114 ms to 824 and 79 ms. ctrace's own memory only; nothing of the target's. */
#ifndef CT_HEAP_H
#define CT_HEAP_H

#include <stddef.h>

#define CT_HEAP_RESERVE ((size_t)64 << 20)

/* Call first thing in main, before anything allocates much. 0, or -errno when the kernel refused
 * the advice (no THP, an old kernel): the heap then works as before. */
int ct_heap_prepare(void);

/* Makes the next bytes of heap present before a burst of small allocations (a snapshot's stack
 * copies), so that they do not fault page by page. Only a hint: 0, or -errno when the kernel does
 * not know MADV_POPULATE_WRITE (5.14+), and nothing changes. Needs ct_heap_prepare's settings (a
 * freed top kept in the heap). */
int ct_heap_prefault(size_t bytes);

#endif
