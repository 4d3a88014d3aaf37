/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

void ct_mem_sample_init(struct ct_mem_sample *s, uint64_t t_ns, struct ct_mem_l1 *l,
			const struct ct_glibc_stats *g)
{
	memset(s, 0, sizeof(*s));
	s->t_ns = t_ns;
	s->l1 = *l;
	memset(l, 0, sizeof(*l));
	if (g) {
		s->have_heap = true;
		s->approximate = g->approximate;
		s->heap_in_use = g->total.uordblks + g->total.hblkhd;
		s->heap_free = g->total.fordblks;
	}
}

void ct_mem_sample_clear(struct ct_mem_sample *s)
{
	ct_mem_l1_clear(&s->l1);
	memset(s, 0, sizeof(*s));
}

static bool same_group(const struct ct_mem_group *x, const struct ct_mem_group *y)
{
	if (x->kind != y->kind || x->tid != y->tid || strcmp(x->name, y->name) != 0)
		return false;
	/* unidentified thread stacks are told apart by where they are */
	return x->kind != CT_MEM_STACK || x->tid != -1 || x->first_start == y->first_start;
}

static int cmp_growth(const void *a, const void *b)
{
	const struct ct_mem_growth *x = a, *y = b;
	return (x->delta < y->delta) - (x->delta > y->delta);
}

int ct_mem_growth(const struct ct_mem_sample *a, const struct ct_mem_sample *b, size_t max,
		  struct ct_mem_growth **ret, size_t *ret_n)
{
	struct ct_mem_growth *v = NULL;
	size_t n = 0, cap = 0;
	/* groups are few (one per file, thread and kind), and bounded here all the same */
	size_t nb = CT_MIN(b->l1.ngroups, (size_t)8192), na = CT_MIN(a->l1.ngroups, (size_t)8192);
	for (size_t i = 0; i < nb; i++) {
		const struct ct_mem_group *g = &b->l1.groups[i];
		uint64_t before = 0;
		for (size_t j = 0; j < na; j++) {
			if (same_group(g, &a->l1.groups[j])) {
				before = a->l1.groups[j].rss;
				break;
			}
		}
		if (g->rss <= before)
			continue;
		if (ct_grow(&v, &cap, n + 1, sizeof(*v)) < 0) {
			free(v);
			return -ENOMEM;
		}
		v[n++] = (struct ct_mem_growth){ g, before, (int64_t)(g->rss - before) };
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_growth);
	*ret = v;
	*ret_n = CT_MIN(n, max);
	return 0;
}
