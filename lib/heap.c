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
	/* The heap begins where the kernel put the break, anywhere in a 2 MiB block (ASLR): up to
	 * 2 MiB of it would lie before the first huge-page boundary, in 4 KiB pages that cost a fault
	 * each (about 10 us on this VM: 60-190 faults a run, the snapshot's thread records among them).
	 * The break is moved first (address space only) to one page short of a boundary: malloc's
	 * first block and its header land in that page, and everything above the boundary, untouched
	 * when the advice is given, can be huge pages. */
	uintptr_t cur = (uintptr_t)sbrk(0);
	if (cur != (uintptr_t)-1) {
		uintptr_t want = ((cur + 4096 + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)) - 4096;
		if (want > cur)
			(void)sbrk((intptr_t)(want - cur));
	}
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

int ct_heap_prefault(size_t bytes)
{
	/* a block of the heap's top, its pages made present in one call, then given back: the
	 * allocations that follow are carved from pages already there (MADV_POPULATE_WRITE costs
	 * 0.7 us a page here, a first touch 11 us) */
	if (bytes < 4096)
		return 0;
	uint8_t *p = malloc(bytes);
	if (!p)
		return -ENOMEM;
	uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, hi = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
	int r = 0;
#ifdef MADV_POPULATE_WRITE
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) < 0)
		r = -errno;
#else
	r = -EOPNOTSUPP;
#endif
	free(p);
	return r;
}
