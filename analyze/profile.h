/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile model: frames interned once, stacks interned once, stack -> count (and weight).
 * A per-pc cache maps each unwound pc to its symbolized frame ids, so a pc is symbolized once
 * however many samples hold it. Pure data: no symbolization or printing here. */
#ifndef CT_PROFILE_H
#define CT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model.h"

enum ct_pframe_kind { CT_PFRAME_NORMAL, CT_PFRAME_INLINED, CT_PFRAME_JIT, CT_PFRAME_KERNEL,
		      CT_PFRAME_ROOT };

/* One interned frame. Two frames are the same when name, module, file and kind are. */
struct ct_pframe {
	char *name;      /* function, or "[module]" / "[unknown]" when no symbol */
	char *module;    /* mapped file path, or NULL */
	char *file;      /* source file, or NULL */
	int line;        /* a line seen for this frame (the first), 0 unknown */
	enum ct_pframe_kind kind;
};

struct ct_pstack {
	uint32_t *frames; /* frame ids, root first (frames[0] is the process' root frame) */
	uint32_t n;
	uint64_t count;   /* samples */
	uint64_t weight;  /* nanoseconds these samples stand for */
};

struct ct_profile_table; /* hash index, private */

struct ct_profile {
	struct ct_pframe *frames;
	size_t nframes, cap_frames;
	struct ct_pstack *stacks;
	size_t nstacks, cap_stacks;
	uint64_t total, total_weight;
	/* Facts the renderers print; filled by whoever collects the samples. */
	bool wall;             /* weight is wall time (else CPU time) */
	bool alloc;            /* an allocation profile: count is calls, weight bytes requested */
	uint64_t period_ns;    /* nominal sampling period */
	uint64_t start_ns;     /* CLOCK_REALTIME at start */
	uint64_t duration_ns;
	struct ct_profile_table *frame_index, *stack_index;
};

int ct_profile_new(struct ct_profile **ret);
void ct_profile_free(struct ct_profile *p);
/* Interns a symbolized frame. */
int ct_profile_frame(struct ct_profile *p, const struct ct_frame *f, uint32_t *ret_id);
/* Interns a frame given by name (the process' root frame, "[kernel]" …). */
int ct_profile_frame_named(struct ct_profile *p, const char *name, enum ct_pframe_kind kind,
			   uint32_t *ret_id);
/* Adds count samples of weight ns in total to the stack ids[0..n) (root first). */
int ct_profile_add(struct ct_profile *p, const uint32_t *ids, size_t n, uint64_t count, uint64_t weight);
/* Orders stacks by their frame names, root first (what folded output and flame graphs want). */
void ct_profile_sort(struct ct_profile *p);

/* An allocation site: a frame and the calls and bytes of the stacks whose innermost frame not
 * skipped is that frame (the allocator's caller, past wrappers the skip function names). */
struct ct_psite {
	uint32_t frame;
	uint64_t count, weight;
};
typedef bool (*ct_psite_skip_fn)(const struct ct_pframe *f, void *arg);
/* Groups p's stacks by site, largest weight first. A stack of skipped frames only is its root's. */
int ct_profile_sites(const struct ct_profile *p, ct_psite_skip_fn skip, void *arg, struct ct_psite **ret,
		     size_t *ret_n);

/* The per-pc cache: (pc, activation) -> the frame ids ct_sym_frames gave, innermost first. */
struct ct_pccache;
int ct_pccache_new(struct ct_pccache **ret);
void ct_pccache_free(struct ct_pccache *c);
/* Returns true and the ids when pc is cached. The pointer is valid until the next insert. */
bool ct_pccache_get(struct ct_pccache *c, uint64_t pc, bool activation, const uint32_t **ret_ids,
		    size_t *ret_n);
int ct_pccache_put(struct ct_pccache *c, uint64_t pc, bool activation, const uint32_t *ids, size_t n);
size_t ct_pccache_size(const struct ct_pccache *c);

#endif
