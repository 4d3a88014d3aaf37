/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the interpreter readers of interp/ share: bounded reads of target memory and the merge of
 * interpreter frames into a thread's native stack at the frames of the loop that runs them. */
#ifndef CT_INTERP_INTERP_H
#define CT_INTERP_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/memsrc.h"
#include "lib/model.h"

/* Exactly len bytes at addr of m (the live process or a core): 0, -EFAULT (address 0, or a short
 * read) or -errno. */
int ct_interp_read(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len);
int ct_interp_read_u64(const struct ct_memsrc *m, uint64_t addr, uint64_t *ret);
/* The unaligned 64-bit value at b + off */
uint64_t ct_interp_u64(const uint8_t *b, size_t off);

/* An interpreter frame, with the index of the interpreter-loop call that runs it. */
struct ct_interp_frame {
	struct ct_frame f;
	size_t group;
	bool skip; /* not shown (a Python 3.11+ frame not started yet) */
};
void ct_interp_frames_free(struct ct_interp_frame *pf, size_t n);

/* Replaces each of t's native frames for which is_loop(arg, frame) holds by the interpreter frames
 * of its group (groups numbered innermost first, as pf is ordered); a loop frame whose group shows
 * nothing stays. 0 or -ENOMEM (t unchanged). */
int ct_interp_merge(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n,
		    bool (*is_loop)(const void *arg, const struct ct_frame *f), const void *arg);
/* As ct_interp_merge, with the groups given: each native frame i with group_of[i] >= 0 is replaced
 * by the frames of that group (groups ascending along the stack; it stays when the group shows
 * nothing), one with -1 stays. 0 or -ENOMEM (t unchanged). */
int ct_interp_merge_groups(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, const long *group_of);
/* Exact matching: group g ends at an address, addr[g], that the loop call running it keeps in its
 * own native stack frame, between that frame's sp and its caller's. Fills group_of[0..t->nframes)
 * (-1 where no group) when each group lies in exactly one loop frame and the groups keep the
 * stack's order; else -ESRCH (match by counting then). A loop frame whose call has not pushed its
 * entry yet gets no group. -ENOMEM. */
int ct_interp_match_stack(const struct ct_thread *t, bool (*is_loop)(const void *arg, const struct ct_frame *f),
			  const void *arg, const uint64_t *addr, size_t ngroups, long *group_of);
/* ct_interp_match_stack on the bare stack a profile sample has: each physical native frame's stack
 * pointer (0 unknown) and whether it is a loop frame, innermost first. 0 or -ESRCH. */
struct ct_interp_span {
	uint64_t sp;
	bool loop;
};
int ct_interp_match_spans(const struct ct_interp_span *s, size_t n, const uint64_t *addr, size_t ngroups,
			  long *group_of);
/* How a reader names its loop frames and calls in the note of a thread kept apart. */
struct ct_interp_words {
	const char *lang;         /* "Python" */
	const char *loop;         /* "eval-loop frame", made plural with an s */
	const char *call, *calls; /* "Python call", "Python calls" */
	const char *where;        /* "the interpreter's chain" */
	const char *cut;          /* "chain cut at its bound" */
};
/* The end of every reader's merge, by counting: when the loop frames of t (is_loop) are as many as
 * the calls counted (groups) and the chain was not cut (truncated), merges (nothing when there are
 * none) and returns 1; else keeps the frames apart, the note saying both counts in w's words, and
 * returns 0. -ENOMEM. */
int ct_interp_merge_counted(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, size_t groups,
			    bool truncated, bool (*is_loop)(const void *arg, const struct ct_frame *f), const void *arg,
			    const struct ct_interp_words *w);
/* Keeps the interpreter frames apart, in t->interp_frames, with t->interp_note = why. 0 or -ENOMEM. */
int ct_interp_keep_apart(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, const char *why);

#endif
