/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table of --top, as lines of text: the header (what is sampled, how, what it costs), the
 * column titles and one line per function (analyze/rank.h's rows), each cut to a width. The
 * terminal view (cli/topscreen.c) draws these lines; without a terminal, ct_report_top_text is the
 * whole table printed each refresh. */
#ifndef CT_REPORT_TOP_H
#define CT_REPORT_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "analyze/profile.h"
#include "analyze/rank.h"
#include "lib/util.h"

/* What the header says. */
struct ct_top_head {
	const char *comm;           /* the first process' name */
	pid_t pid;                  /* and PID */
	size_t processes;           /* followed now (several -p, --children) */
	size_t threads;             /* theirs, as last seen */
	const char *sampler;        /* "perf" or "ptrace" */
	unsigned rate_hz;
	uint64_t lost;              /* samples lost since the start */
	double cpu_pct;             /* ctrace's own CPU over the last refresh, % of one CPU */
	double elapsed_s;           /* since sampling began */
	double window_s;            /* the interval the rows count (since_start: elapsed_s) */
	time_t when;                /* the refresh's wall-clock time */
	bool since_start;           /* the rows count every sample, not the last interval's */
	bool sort_total;            /* ranked by total (else self) */
	bool paused;
	const char *thread;         /* the one thread shown ("NAME-TID"), or NULL for all */
};

#define CT_TOP_HEAD_LINES 2

/* Header line i (0 or 1) of h, at most width columns, into out (no newline). */
void ct_report_top_head(const struct ct_top_head *h, const struct ct_prank *r, int line, size_t width,
			struct ct_buf *out);
/* The column titles, at most width columns (no newline). */
void ct_report_top_columns(size_t width, struct ct_buf *out);
/* Row i of r, at most width columns (no newline): self %, total %, self and total samples, the
 * function (named as ct_report_pframe_name names it) and its source file's base name. */
void ct_report_top_row(const struct ct_profile *p, const struct ct_prank *r, size_t i, size_t width,
		       struct ct_buf *out);
/* The whole table for a pipe or a log: header, column titles, at most max_rows rows, a blank line. */
void ct_report_top_text(const struct ct_profile *p, const struct ct_prank *r, const struct ct_top_head *h,
			size_t max_rows, size_t width, struct ct_buf *out);

#endif
