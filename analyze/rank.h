/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Functions of a profile ranked by their samples: self (the innermost frame of a stack) and total
 * (anywhere in a stack, once per stack however deep a recursion goes). What --profile's text report
 * lists, and what --top shows each second: over every stack's own count, or over the counts of one
 * interval (session/profile.h), of every thread or of one thread's stacks (--per-thread frames). */
#ifndef CT_RANK_H
#define CT_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/profile.h"

#define CT_PRANK_ALL UINT32_MAX /* every thread */

enum ct_prank_order { CT_PRANK_SELF, CT_PRANK_TOTAL };

struct ct_prank_opts {
	const uint64_t *counts;     /* per stack (index as p->stacks); NULL: the stacks' own counts */
	size_t ncounts;             /* stacks from ncounts on count 0 */
	uint32_t thread;            /* a CT_PFRAME_THREAD frame: only stacks under it; CT_PRANK_ALL */
	enum ct_prank_order order;
};

struct ct_prank_row {
	uint32_t frame;
	uint64_t self, total;
};

struct ct_prank {
	struct ct_prank_row *rows;  /* every frame with samples but process and thread frames, ordered */
	size_t n;
	uint64_t samples;           /* of the stacks counted: the 100% of self and total */
};

/* Ranks p's functions: by self (ties by total), or by total (ties by self), then by frame id. 0 or
 * -ENOMEM. */
int ct_profile_rank(const struct ct_profile *p, const struct ct_prank_opts *o, struct ct_prank *ret);
void ct_prank_free(struct ct_prank *r);
/* The thread frames of p (CT_PFRAME_THREAD, "NAME-TID"), in the order they were first seen: the
 * ids ct_profile_rank filters by. *ret is allocated (free it); 0 or -ENOMEM. */
int ct_profile_threads(const struct ct_profile *p, uint32_t **ret, size_t *ret_n);

#endif
