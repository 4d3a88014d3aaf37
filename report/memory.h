/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of the --memory report (text for people, JSON for programs) and of --watch rows. */
#ifndef CT_REPORT_MEMORY_H
#define CT_REPORT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "memory/levels.h"
#include "memory/watch.h"


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
