/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles read back from files, for `ctrace merge`: folded stacks, pprof (profile.proto, gzip or
 * not) and speedscope, each into the profile model (analyze/profile.h). The files come from other
 * hosts and other tools: every size is capped, every index checked, and a bad file is refused
 * whole with a one-line reason (never half-added). */
#ifndef CT_MERGE_H
#define CT_MERGE_H

#include <stddef.h>

#include "analyze/profile.h"

enum ct_pformat { CT_PFMT_FOLDED, CT_PFMT_PPROF, CT_PFMT_SPEEDSCOPE };

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
/* gzip magic: pprof; a JSON object naming speedscope's $schema: speedscope; else folded. */
enum ct_pformat ct_pformat_detect(const void *data, size_t len);
const char *ct_pformat_name(enum ct_pformat f);

/* Each returns 0 and a new profile in *ret, or -errno (-EINVAL for a malformed file, -EFBIG over
 * a limit, -ENOMEM) with the reason in *err. pprof samples keep their labels; the "process" label
 * becomes the process' root frame, as in a live profile. */
int ct_pread_folded(const char *data, size_t len, const struct ct_pread_limits *lim,
		    struct ct_profile **ret, struct ct_pread_error *err);
int ct_pread_pprof(const void *data, size_t len, const struct ct_pread_limits *lim,
		   struct ct_profile **ret, struct ct_pread_error *err);
int ct_pread_speedscope(const char *data, size_t len, const struct ct_pread_limits *lim,
			struct ct_profile **ret, struct ct_pread_error *err);
/* Detects the format and reads with the matching reader. */
int ct_pread(const void *data, size_t len, const struct ct_pread_limits *lim, enum ct_pformat *ret_fmt,
	     struct ct_profile **ret, struct ct_pread_error *err);

#endif
