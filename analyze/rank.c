/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze/rank.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

static int by_self(const void *a, const void *b)
{
	const struct ct_prank_row *x = a, *y = b;
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->frame < y->frame ? -1 : 1;
}

static int by_total(const void *a, const void *b)
{
	const struct ct_prank_row *x = a, *y = b;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	return x->frame < y->frame ? -1 : 1;
}

static bool listed(const struct ct_pframe *f)
{
	return f->kind != CT_PFRAME_ROOT && f->kind != CT_PFRAME_THREAD;
}

int ct_profile_rank(const struct ct_profile *p, const struct ct_prank_opts *o, struct ct_prank *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!p->nframes)
		return 0;
	struct ct_prank_row *c = calloc(p->nframes, sizeof(*c));
	size_t *mark = calloc(p->nframes, sizeof(*mark));
	if (!c || !mark) {
		free(c);
		free(mark);
		return -ENOMEM;
	}
	uint64_t samples = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		uint64_t n = !o->counts ? s->count : i < o->ncounts ? o->counts[i] : 0;
		if (!n || !s->n)
			continue;
		if (o->thread != CT_PRANK_ALL && (s->n < 2 || s->frames[1] != o->thread))
			continue;
		samples += n;
		c[s->frames[s->n - 1]].self += n;
		for (uint32_t j = 0; j < s->n; j++) {
			/* a recursive function counts once per stack in its total */
			if (mark[s->frames[j]] == i + 1)
				continue;
			mark[s->frames[j]] = i + 1;
			c[s->frames[j]].total += n;
		}
	}
	free(mark);
	size_t k = 0;
	for (size_t i = 0; i < p->nframes; i++) {
		if (!c[i].total || !listed(&p->frames[i]))
			continue;
		c[k] = c[i];
		c[k++].frame = (uint32_t)i;
	}
	qsort(c, k, sizeof(*c), o->order == CT_PRANK_TOTAL ? by_total : by_self);
	ret->rows = c;
	ret->n = k;
	ret->samples = samples;
	return 0;
}

void ct_prank_free(struct ct_prank *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

int ct_profile_threads(const struct ct_profile *p, uint32_t **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	size_t n = 0;
	for (size_t i = 0; i < p->nframes; i++)
		n += p->frames[i].kind == CT_PFRAME_THREAD;
	if (!n)
		return 0;
	uint32_t *ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < p->nframes; i++)
		if (p->frames[i].kind == CT_PFRAME_THREAD)
			ids[n++] = (uint32_t)i;
	*ret = ids;
	*ret_n = n;
	return 0;
}
