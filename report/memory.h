/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of the --memory report (text for people, JSON for programs) and of --watch rows. */
#ifndef CT_REPORT_MEMORY_H
#define CT_REPORT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "memory/alloc.h"
#include "memory/glibc.h"
#include "memory/inject.h"
#include "memory/procmem.h"
#include "memory/watch.h"

struct ct_mem_report {
	const struct ct_mem_l1 *l1;
	const struct ct_alloc_info *alloc;
	const struct ct_glibc_stats *glibc; /* NULL when the arenas were not read */
	const char *malloc_note;            /* why they were not, or NULL */
	size_t top;                         /* mapping groups listed (the rest summed up) */
	uint64_t wall_ns;
	const struct ct_inject_stats *inject; /* --inject: jemalloc/tcmalloc statistics, or NULL */
};

void ct_report_memory_text(const struct ct_mem_report *r, struct ct_buf *out);
void ct_report_memory_json(const struct ct_mem_report *r, struct ct_buf *out);

/* --watch: a header (text only), one row per sample with what grew since the previous one, and a
 * summary from the first sample to the last. JSON: one object per line, "type" sample or summary. */
void ct_report_watch_header(struct ct_buf *out);
void ct_report_watch_row(const struct ct_mem_sample *s, const struct ct_mem_growth *gr, size_t ngr, bool json,
			 struct ct_buf *out);
void ct_report_watch_summary(const struct ct_mem_sample *first, const struct ct_mem_sample *last,
			     const struct ct_mem_growth *gr, size_t ngr, size_t nsamples, const char *ended,
			     bool json, struct ct_buf *out);

/* "0 B", "812 B", "4.0 KiB", "12.3 MiB", "1.20 GiB" into buf. */
const char *ct_fmt_bytes(uint64_t v, char *buf, size_t len);

#endif
