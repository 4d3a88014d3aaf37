/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text report of an allocation profile (--memory --sites). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/memory.h"
#include "report/profile.h"
#include "lib/banned.h"

#define B(v) ct_fmt_bytes((v), (char[24]){ 0 }, 24)

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void site_name(const struct ct_profile *p, const struct ct_psite *s, struct ct_buf *out)
{
	const struct ct_pframe *f = &p->frames[s->frame];
	ct_report_pframe_name(out, f);
	/* a site is a function, which may call the allocator from several lines: no line shown */
	if (f->file)
		ct_buf_printf(out, "  %s", f->file);
	else if (f->module)
		ct_buf_printf(out, "  %s", f->module);
	ct_buf_putc(out, '\n');
}

static int by_count(const void *a, const void *b)
{
	const struct ct_psite *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

void ct_report_alloc_sites_text(const struct ct_profile *p, const struct ct_profile_meta *m,
				const struct ct_alloc_text *a, struct ct_buf *out)
{
	ct_buf_printf(out, "%s: %" PRIu64 " calls, %s requested in %.1f s\n", m->title, p->total,
		      B(p->total_weight), (double)p->duration_ns / 1e9);
	ct_buf_printf(out, "allocator %s; ", a->allocator);
	if (m->period_calls > 1)
		ct_buf_printf(out, "1 call in %" PRIu64 " sampled, counts scaled up\n", m->period_calls);
	else
		ct_buf_puts(out, "every call sampled\n");

	ct_buf_puts(out, "\n  function            calls   requested\n");
	for (size_t i = 0; i < a->nfns; i++)
		if (a->fns[i].calls)
				ct_buf_printf(out, "  %-16s %8" PRIu64 "  %10s\n", a->fns[i].name, a->fns[i].calls,
				      B(a->fns[i].bytes));
	if (!p->total)
		ct_buf_puts(out, "  (no call seen)\n");
	if (!a->nsites)
		return;
	size_t top = CT_MIN(a->nsites, a->top ? a->top : 15);
	ct_buf_puts(out, "\nTop allocation sites by bytes (the allocator's caller):\n"
		    "  bytes%   requested     calls  site\n");
	for (size_t i = 0; i < top; i++) {
		const struct ct_psite *s = &a->sites[i];
		ct_buf_printf(out, "  %6.2f  %10s  %8" PRIu64 "  ", pct(s->weight, p->total_weight), B(s->weight),
			      s->count);
		site_name(p, s, out);
	}
	struct ct_psite *by_calls = malloc(a->nsites * sizeof(*by_calls));
	if (!by_calls) {
		out->err = -ENOMEM;
		return;
	}
	memcpy(by_calls, a->sites, a->nsites * sizeof(*by_calls));
	qsort(by_calls, a->nsites, sizeof(*by_calls), by_count);
	ct_buf_puts(out, "\nTop allocation sites by calls:\n"
		    "  calls%       calls   requested  site\n");
	for (size_t i = 0; i < top; i++) {
		const struct ct_psite *s = &by_calls[i];
		ct_buf_printf(out, "  %6.2f  %10" PRIu64 "  %10s  ", pct(s->count, p->total), s->count, B(s->weight));
		site_name(p, s, out);
	}
	free(by_calls);
}
