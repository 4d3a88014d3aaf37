/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

static const char *kind_suffix(enum ct_pframe_kind k)
{
	switch (k) {
	case CT_PFRAME_INLINED: return "_[i]";
	case CT_PFRAME_JIT: return "_[j]";
	case CT_PFRAME_KERNEL: return "_[k]";
	default: return "";
	}
}

/* A frame name as one folded field: no ';' (the separator) and no line breaks. */
static void folded_name(struct ct_buf *out, const struct ct_pframe *f)
{
	for (const char *s = f->name; *s; s++)
		ct_buf_putc(out, *s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s);
	ct_buf_puts(out, kind_suffix(f->kind));
}

void ct_report_profile_folded(const struct ct_profile *p, struct ct_buf *out)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		for (uint32_t j = 0; j < s->n; j++) {
			if (j)
				ct_buf_putc(out, ';');
			folded_name(out, &p->frames[s->frames[j]]);
		}
		ct_buf_printf(out, " %" PRIu64 "\n", s->count);
	}
}

struct fn_count {
	uint32_t id;
	uint64_t self, total;
};

static int by_self(const void *a, const void *b)
{
	const struct fn_count *x = a, *y = b;
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->id < y->id ? -1 : 1;
}

void ct_report_profile_text(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	ct_buf_printf(out, "%s: %" PRIu64 " samples (%s sampler, %u Hz)\n", m->title, p->total,
		      m->sampler, m->rate_hz);
	if (!p->total || !p->nframes)
		return;
	struct fn_count *c = calloc(p->nframes, sizeof(*c));
	size_t *mark = calloc(p->nframes, sizeof(*mark));
	if (!c || !mark) {
		free(c);
		free(mark);
		out->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < p->nframes; i++)
		c[i].id = (uint32_t)i;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		c[s->frames[s->n - 1]].self += s->count;
		for (uint32_t j = 0; j < s->n; j++) {
			/* a recursive function counts once per stack in its total */
			if (mark[s->frames[j]] == i + 1)
				continue;
			mark[s->frames[j]] = i + 1;
			c[s->frames[j]].total += s->count;
		}
	}
	qsort(c, p->nframes, sizeof(*c), by_self);
	ct_buf_puts(out, "\n   self%   total%  function\n");
	for (size_t i = 0; i < p->nframes && i < 30; i++) {
		const struct ct_pframe *f = &p->frames[c[i].id];
		if (!c[i].self || f->kind == CT_PFRAME_ROOT)
			continue;
		ct_buf_printf(out, "  %6.2f  %6.2f   %s%s", 100.0 * (double)c[i].self / (double)p->total,
			      100.0 * (double)c[i].total / (double)p->total, f->name, kind_suffix(f->kind));
		if (f->file)
			ct_buf_printf(out, "  (%s)", f->file);
		ct_buf_putc(out, '\n');
	}
	free(c);
	free(mark);
}
