/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thread names collapsed for a group's header: "worker-0".."worker-31", "main" → "worker-[0-31],
 * main" (ct_collapse_names, declared in analyze/threads.h). */
#include <stdlib.h>
#include <string.h>

#include "analyze/threads.h"
#include "lib/banned.h"

struct name_part {
	const char *name;
	size_t prefix_len;  /* name without its trailing number */
	long number;        /* -1: no collapsible trailing number */
	size_t order;
};

static int cmp_name_part(const void *x, const void *y)
{
	const struct name_part *a = x, *b = y;
	size_t la = a->prefix_len, lb = b->prefix_len;
	int c = memcmp(a->name, b->name, CT_MIN(la, lb));
	if (c == 0 && la != lb)
		c = la < lb ? -1 : 1;
	if (c == 0 && (a->number < 0) != (b->number < 0))
		c = a->number < 0 ? -1 : 1;
	if (c == 0 && a->number < 0)
		c = strcmp(a->name, b->name);
	if (c == 0 && a->number != b->number)
		c = a->number < b->number ? -1 : 1;
	return c;
}

static void split_name(const char *name, struct name_part *p)
{
	size_t len = strlen(name), d = len;
	while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
		d--;
	p->name = name;
	p->prefix_len = len;
	p->number = -1;
	size_t digits = len - d;
	/* "w-01" keeps its zero; a name that is only digits is kept whole */
	if (digits == 0 || digits > 9 || d == 0 || (digits > 1 && name[d] == '0'))
		return;
	p->prefix_len = d;
	p->number = strtol(name + d, NULL, 10);
}

struct run_group {
	size_t first, end;   /* range in the sorted parts */
	size_t order;        /* first appearance, to keep the output in the threads' order */
};

static int cmp_run(const void *x, const void *y)
{
	const struct run_group *a = x, *b = y;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Ranges printed per name at most; "…" stands for the rest (the group's size is printed anyway). */
#define MAX_RANGES 8

static void emit_numbers(struct ct_buf *b, const struct name_part *p, size_t n)
{
	/* p sorted by number; duplicates are printed once */
	size_t ranges = 0;
	ct_buf_append(b, p[0].name, p[0].prefix_len);
	ct_buf_putc(b, '[');
	size_t i = 0;
	bool first = true;
	while (i < n) {
		long lo = p[i].number, hi = lo;
		size_t j = i + 1;
		while (j < n && (p[j].number == hi || p[j].number == hi + 1))
			hi = p[j++].number;
		if (++ranges > MAX_RANGES) {
			ct_buf_puts(b, ",…");
			break;
		}
		ct_buf_printf(b, first ? "%ld" : ",%ld", lo);
		if (hi != lo)
			ct_buf_printf(b, "-%ld", hi);
		first = false;
		i = j;
	}
	ct_buf_putc(b, ']');
}

char *ct_collapse_names(const char *const *names, size_t n)
{
	struct ct_buf b = CT_BUF_INIT;
	if (n == 0)
		return ct_strdup("");
	struct name_part *p = calloc(n, sizeof(*p));
	struct run_group *runs = calloc(n, sizeof(*runs));
	if (!p || !runs) {
		free(p);
		free(runs);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		split_name(names[i] ? names[i] : "?", &p[i]);
		p[i].order = i;
	}
	qsort(p, n, sizeof(*p), cmp_name_part);
	size_t nruns = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1, order = p[i].order;
		while (j < n && p[j].prefix_len == p[i].prefix_len && (p[j].number < 0) == (p[i].number < 0) &&
		       memcmp(p[j].name, p[i].name, p[i].prefix_len) == 0 &&
		       (p[i].number >= 0 || strcmp(p[j].name, p[i].name) == 0)) {
			order = CT_MIN(order, p[j].order);
			j++;
		}
		runs[nruns++] = (struct run_group){ i, j, order };
		i = j;
	}
	qsort(runs, nruns, sizeof(*runs), cmp_run);
	for (size_t r = 0; r < nruns; r++) {
		const struct name_part *q = &p[runs[r].first];
		size_t cnt = runs[r].end - runs[r].first;
		if (r)
			ct_buf_puts(&b, ", ");
		if (q->number < 0) {
			ct_buf_puts(&b, q->name);
			if (cnt > 1)
				ct_buf_printf(&b, " (%zu)", cnt);
		} else if (cnt == 1) {
			ct_buf_puts(&b, q->name);
		} else {
			emit_numbers(&b, q, cnt);
		}
	}
	free(p);
	free(runs);
	if (b.err) {
		ct_buf_free(&b);
		return NULL;
	}
	return ct_buf_steal(&b);
}
