/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Level 3 of --memory: samples of the same process over time and what grew between them. */
#ifndef CT_MEMORY_WATCH_H
#define CT_MEMORY_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory/glibc.h"
#include "memory/procmem.h"

struct ct_mem_sample {
	uint64_t t_ns;          /* since the first sample */
	struct ct_mem_l1 l1;    /* owned */
	bool have_heap;         /* the allocator's numbers were read */
	bool approximate;
	uint64_t heap_in_use;   /* uordblks + hblkhd */
	uint64_t heap_free;     /* fordblks */
};

/* One mapping group that grew between two samples (points into the later sample's groups). */
struct ct_mem_growth {
	const struct ct_mem_group *g;
	uint64_t before;        /* its RSS in the earlier sample (0 when it is new) */
	int64_t delta;          /* RSS change */
};

/* Makes a sample from a level-1 reading (taken over: l is cleared) and optional arena stats. */
void ct_mem_sample_init(struct ct_mem_sample *s, uint64_t t_ns, struct ct_mem_l1 *l,
			const struct ct_glibc_stats *g);
void ct_mem_sample_clear(struct ct_mem_sample *s);
/* The groups whose RSS grew from a to b, largest growth first, at most max. */
int ct_mem_growth(const struct ct_mem_sample *a, const struct ct_mem_sample *b, size_t max,
		  struct ct_mem_growth **ret, size_t *ret_n);

#endif
