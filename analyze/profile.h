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
		      CT_PFRAME_ROOT, CT_PFRAME_THREAD /* --per-thread: under the root */ };

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
	uint32_t labels;  /* label set id (ct_profile_labels), 0 none */
};

/* A label of a stack, as pprof's: key = str, or key = num when str is NULL. */
struct ct_plabel {
	const char *key;
	const char *str;
	int64_t num;
};

/* Label set id i holds labels[first, first + n) of the profile; set 0 is empty. */
struct ct_plabelset {
	uint32_t first, n;
};

struct ct_profile_table; /* hash index, private */

struct ct_profile {
	struct ct_pframe *frames;
	size_t nframes, cap_frames;
	struct ct_pstack *stacks;
	size_t nstacks, cap_stacks;
	uint64_t total, total_weight;
	struct ct_plabel *labels;       /* strings owned by the profile */
	size_t nlabels, cap_labels;
	struct ct_plabelset *labelsets; /* [0] is the empty set */
	size_t nlabelsets, cap_labelsets;
	/* Facts the renderers print; filled by whoever collects the samples. */
	bool wall;             /* weight is wall time (else CPU time) */
	bool alloc;            /* an allocation profile: count is calls, weight bytes requested */
	uint64_t period_ns;    /* nominal sampling period */
	uint64_t start_ns;     /* CLOCK_REALTIME at start */
	uint64_t duration_ns;
	struct ct_profile_table *frame_index, *stack_index, *labelset_index;
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
/* Interns the label set l[0..n) (order matters; n == 0 is set 0). */
int ct_profile_labels(struct ct_profile *p, const struct ct_plabel *l, size_t n, uint32_t *ret_id);
/* ct_profile_add for samples carrying the label set labels: stacks that differ only in their
 * labels stay apart. */
int ct_profile_add_labeled(struct ct_profile *p, const uint32_t *ids, size_t n, uint32_t labels,
			   uint64_t count, uint64_t weight);

/* How ct_profile_merge maps src's frames and labels into dst. */
enum {
	CT_MERGE_LABELS = 1,     /* keep label sets (else samples differing in labels add up) */
	CT_MERGE_NAMES_ONLY = 2, /* a frame is its name and kind: module, file and line dropped */
	CT_MERGE_ROOT_PLAIN = 4, /* process root frames become ordinary frames */
};
/* Adds every stack of src to dst; dst's start, duration and period cover both. */
int ct_profile_merge(struct ct_profile *dst, const struct ct_profile *src, unsigned flags);
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
