/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of a profile (analyze/profile.h) for people: text, svg, ctrace's own json; folded,
 * speedscope and pprof are written by formats/ (ct_report_profile dispatches to them). */
#ifndef CT_REPORT_PROFILE_H
#define CT_REPORT_PROFILE_H

#include "analyze/profile.h"
#include "report/report.h"
#include "lib/util.h"

struct ct_profile_meta {
	const char *title;       /* "ctrace profile of nginx (1234)" */
	const char *sampler;     /* "perf" or "ptrace" */
	unsigned rate_hz;
	uint64_t samples_requested; /* 0 unknown */
	uint64_t period_calls;      /* allocation profile: 1 call in period_calls sampled */
};

/* A frame's name as people read it, as --backtraces text shows frames: "name [inlined]",
 * "name [jit]", "[kernel]", "[vdso]"; none of FlameGraph's suffixes (_[i], _[j], _[k]) that the
 * machine formats carry. */
void ct_report_pframe_name(struct ct_buf *out, const struct ct_pframe *f);
/* Top functions by self and total samples, for people (frames named by ct_report_pframe_name). */
void ct_report_profile_text(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out);
/* A self-contained interactive flame graph (search, zoom, tooltips with counts). */
void ct_report_profile_svg(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out);

/* ctrace's own JSON: frames, stacks (root first, frame indexes) with counts and weights. */
void ct_report_profile_json(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out);

/* Renders p in fmt (folded, text, svg, speedscope, json, pprof); -EINVAL for another format. */
int ct_report_profile(enum ct_format fmt, const struct ct_profile *p, const struct ct_profile_meta *m,
		      struct ct_buf *out);

/* --memory --sites for people: calls and bytes per allocator function, then the top allocation
 * sites (ct_profile_sites) by bytes and by calls. */
struct ct_alloc_fn_total {
	const char *name;
	uint64_t calls, bytes;
};
struct ct_alloc_text {
	const char *allocator;               /* "glibc (/usr/lib/…/libc.so.6)" */
	const struct ct_alloc_fn_total *fns;
	size_t nfns;
	const struct ct_psite *sites;        /* largest bytes first */
	size_t nsites, top;
};
void ct_report_alloc_sites_text(const struct ct_profile *p, const struct ct_profile_meta *m,
				const struct ct_alloc_text *a, struct ct_buf *out);

#endif
