/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the profile file readers (folded.c, pprof.c, speedscope.c) share: their limits, their
 * error report, and one reader state that interns frames and adds stacks into a new profile
 * (analyze/profile.h). The files come from other hosts and other tools: every size is capped,
 * every index checked, and a bad file is refused whole with a one-line reason (never half-added). */
#ifndef CT_FORMATS_READER_H
#define CT_FORMATS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/profile.h"
#include "lib/util.h"

struct ct_pread_limits {
	size_t max_bytes;        /* decompressed pprof, folded text (default 256 MiB) */
	size_t max_json;         /* speedscope text: json-c's tree takes several times it (64 MiB) */
	size_t max_depth;        /* frames in one stack (65536) */
	size_t max_frames_total; /* frames over all distinct stacks (64 Mi) */
	size_t max_labels;       /* labels of one sample (64) */
};

struct ct_pread_error {
	size_t line;   /* folded: the line at fault, else 0 */
	char msg[200]; /* what is wrong, for "FILE:LINE: msg" */
};

void ct_pread_limits_default(struct ct_pread_limits *l);

/* ---- for the readers in formats/ only ---- */

struct ct_preader {
	struct ct_profile *p;
	const struct ct_pread_limits *lim;
	struct ct_pread_error *err;
	size_t frames_total;
	struct ct_buf name, file;  /* scratch, NUL-terminated copies */
	uint32_t *stack;           /* root first */
	size_t n, cap;
};

/* Says why (the first reason given is kept) and returns code. */
int ct_preader_fail(struct ct_preader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Interns a frame from untrusted text (not NUL-terminated; an empty name is "[unknown]"). A name
 * ending in a folded suffix (_[k], _[i], _[j]) is of that kind, without it. */
int ct_preader_frame(struct ct_preader *r, const char *name, size_t len, enum ct_pframe_kind kind,
		     const char *file, size_t file_len, long line, uint32_t *ret_id);
/* Pushes a frame onto r->stack (root first), at most max_depth. */
int ct_preader_push(struct ct_preader *r, uint32_t id);
/* Adds r->stack ("[unknown]" when empty); a stack seen for the first time counts against
 * max_frames_total. */
int ct_preader_add(struct ct_preader *r, uint32_t labels, uint64_t count, uint64_t weight);
/* Runs fn with a reader set up, then hands the profile over on success (else frees it). Returns
 * fn's 0 or -errno, with the reason in *err. */
int ct_preader_run(int (*fn)(struct ct_preader *r, const char *data, size_t len), const void *data, size_t len,
		   const struct ct_pread_limits *lim, struct ct_profile **ret, struct ct_pread_error *err);

#endif
