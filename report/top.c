/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/top.h"

#include <inttypes.h>
#include <string.h>

#include "report/profile.h"
#include "lib/banned.h"

/* Cuts what was appended to out since start to width bytes (names are ASCII: symbols, paths). */
static void cut(struct ct_buf *out, size_t start, size_t width)
{
	if (!out->err && out->len - start > width) {
		out->len = start + width;
		out->data[out->len] = '\0';
	}
}

void ct_report_top_head(const struct ct_top_head *h, const struct ct_prank *r, int line, size_t width,
			struct ct_buf *out)
{
	size_t start = out->len;
	if (line == 0) {
		ct_buf_printf(out, "%s (%d)", h->comm ? h->comm : "?", (int)h->pid);
		if (h->processes > 1)
			ct_buf_printf(out, " +%zu", h->processes - 1);
		ct_buf_printf(out, "  %zu thread%s  %s %u Hz  lost %" PRIu64 "  ctrace CPU %.1f%%", h->threads,
			      h->threads == 1 ? "" : "s", h->sampler, h->rate_hz, h->lost, h->cpu_pct);
	} else {
		struct tm tm;
		char clock[16] = "";
		if (localtime_r(&h->when, &tm))
			strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		if (h->since_start)
			ct_buf_printf(out, "since start %.0f s", h->elapsed_s);
		else
			ct_buf_printf(out, "last %.1f s", h->window_s);
		ct_buf_printf(out, ": %" PRIu64 " samples  sort %s  %s%s  %s%s", r->samples,
			      h->sort_total ? "total" : "self", h->thread ? "thread " : "", h->thread ? h->thread : "all threads",
			      clock, h->paused ? "  PAUSED" : "");
	}
	cut(out, start, width);
}

void ct_report_top_columns(size_t width, struct ct_buf *out)
{
	size_t start = out->len;
	ct_buf_puts(out, "  SELF%  TOTAL%    SELF   TOTAL  FUNCTION");
	cut(out, start, width);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void ct_report_top_row(const struct ct_profile *p, const struct ct_prank *r, size_t i, size_t width,
		       struct ct_buf *out)
{
	size_t start = out->len;
	const struct ct_prank_row *row = &r->rows[i];
	double all = r->samples ? (double)r->samples : 1.0;
	ct_buf_printf(out, " %6.1f  %6.1f  %6" PRIu64 "  %6" PRIu64 "  ", 100.0 * (double)row->self / all,
		      100.0 * (double)row->total / all, row->self, row->total);
	const struct ct_pframe *f = &p->frames[row->frame];
	ct_report_pframe_name(out, f);
	if (f->file)
		ct_buf_printf(out, "  (%s)", base_name(f->file));
	cut(out, start, width);
}

void ct_report_top_text(const struct ct_profile *p, const struct ct_prank *r, const struct ct_top_head *h,
			size_t max_rows, size_t width, struct ct_buf *out)
{
	for (int l = 0; l < CT_TOP_HEAD_LINES; l++) {
		ct_report_top_head(h, r, l, width, out);
		ct_buf_putc(out, '\n');
	}
	ct_report_top_columns(width, out);
	ct_buf_putc(out, '\n');
	for (size_t i = 0; i < r->n && i < max_rows; i++) {
		ct_report_top_row(p, r, i, width, out);
		ct_buf_putc(out, '\n');
	}
	ct_buf_putc(out, '\n');
}
