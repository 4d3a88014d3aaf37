/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/heap.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/banned.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

int ct_heap_prepare(void)
{
	/* blocks up to 32 MiB from the heap (glibc would mmap each one over 128 KiB apart, in fresh
	 * 4 KiB pages), and a freed top kept rather than given back and faulted in again */
	if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 256 << 20))
		return -EINVAL;
	/* the heap made with CT_HEAP_RESERVE bytes of room at once, so that one VMA holds it: a
	 * later growth of the brk is a VMA of its own, without the advice */
	if (!mallopt(M_TOP_PAD, (int)CT_HEAP_RESERVE))
		return -EINVAL;
	void *p = malloc(64);
	mallopt(M_TOP_PAD, 0);
	if (!p)
		return -ENOMEM;
	uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t hi = (uintptr_t)sbrk(0);
	int r = 0;
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_HUGEPAGE) < 0)
		r = -errno;
	free(p);
	return r;
}
