/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze/profile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

/* Open addressing over entry indexes; the caller owns the entries and says when two are equal. */
struct ct_profile_table {
	uint32_t *slots;  /* entry index + 1, 0 empty */
	uint64_t *hashes;
	size_t cap, n;
};

typedef bool (*eq_fn)(const void *ctx, uint32_t idx, const void *key);

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull; /* FNV-1a */
	}
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return hash_bytes(h, s ? s : "\x01", s ? strlen(s) + 1 : 1);
}

static int table_new(struct ct_profile_table **ret)
{
	struct ct_profile_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cap = 64;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	t->hashes = calloc(t->cap, sizeof(*t->hashes));
	if (!t->slots || !t->hashes) {
		free(t->slots);
		free(t->hashes);
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void table_free(struct ct_profile_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->hashes);
	free(t);
}

/* Returns the entry index for key, or -1. */
static long table_find(const struct ct_profile_table *t, uint64_t h, eq_fn eq, const void *ctx,
		       const void *key)
{
	for (size_t i = h & (t->cap - 1), probes = 0; probes < t->cap; i = (i + 1) & (t->cap - 1), probes++) {
		if (!t->slots[i])
			return -1;
		if (t->hashes[i] == h && eq(ctx, t->slots[i] - 1, key))
			return (long)(t->slots[i] - 1);
	}
	return -1;
}

static void table_place(struct ct_profile_table *t, uint64_t h, uint32_t idx)
{
	size_t i = h & (t->cap - 1);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = idx + 1;
	t->hashes[i] = h;
	t->n++;
}

static int table_insert(struct ct_profile_table *t, uint64_t h, uint32_t idx)
{
	if ((t->n + 1) * 4 > t->cap * 3) {
		struct ct_profile_table big = { NULL, NULL, t->cap * 2, 0 };
		big.slots = calloc(big.cap, sizeof(*big.slots));
		big.hashes = calloc(big.cap, sizeof(*big.hashes));
		if (!big.slots || !big.hashes) {
			free(big.slots);
			free(big.hashes);
			return -ENOMEM;
		}
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i])
				table_place(&big, t->hashes[i], t->slots[i] - 1);
		free(t->slots);
		free(t->hashes);
		*t = big;
	}
	table_place(t, h, idx);
	return 0;
}

int ct_profile_new(struct ct_profile **ret)
{
	struct ct_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (table_new(&p->frame_index) < 0 || table_new(&p->stack_index) < 0 ||
	    table_new(&p->labelset_index) < 0 ||
	    ct_grow(&p->labelsets, &p->cap_labelsets, 1, sizeof(*p->labelsets)) < 0) {
		ct_profile_free(p);
		return -ENOMEM;
	}
	p->labelsets[0] = (struct ct_plabelset){ 0, 0 };
	p->nlabelsets = 1;
	*ret = p;
	return 0;
}

void ct_profile_free(struct ct_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nframes; i++) {
		free(p->frames[i].name);
		free(p->frames[i].module);
		free(p->frames[i].file);
	}
	for (size_t i = 0; i < p->nstacks; i++)
		free(p->stacks[i].frames);
	for (size_t i = 0; i < p->nlabels; i++) {
		free((char *)p->labels[i].key);
		free((char *)p->labels[i].str);
	}
	free(p->frames);
	free(p->stacks);
	free(p->labels);
	free(p->labelsets);
	table_free(p->frame_index);
	table_free(p->stack_index);
	table_free(p->labelset_index);
	free(p);
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool frame_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct ct_pframe *a = &((const struct ct_profile *)ctx)->frames[idx], *b = key;
	return a->kind == b->kind && str_eq(a->name, b->name) && str_eq(a->module, b->module) &&
	       str_eq(a->file, b->file);
}

static int frame_intern(struct ct_profile *p, const struct ct_pframe *key, uint32_t *ret_id)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = hash_bytes(h, &key->kind, sizeof(key->kind));
	h = hash_str(h, key->name);
	h = hash_str(h, key->module);
	h = hash_str(h, key->file);
	long found = table_find(p->frame_index, h, frame_eq, p, key);
	if (found >= 0) {
		*ret_id = (uint32_t)found;
		return 0;
	}
	if (p->nframes >= UINT32_MAX - 1 || ct_grow(&p->frames, &p->cap_frames, p->nframes + 1,
						     sizeof(*p->frames)) < 0)
		return -ENOMEM;
	struct ct_pframe *f = &p->frames[p->nframes];
	memset(f, 0, sizeof(*f));
	f->kind = key->kind;
	f->line = key->line;
	f->name = ct_strdup(key->name);
	f->module = ct_strdup(key->module);
	f->file = ct_strdup(key->file);
	if (!f->name || (key->module && !f->module) || (key->file && !f->file) ||
	    table_insert(p->frame_index, h, (uint32_t)p->nframes) < 0) {
		free(f->name);
		free(f->module);
		free(f->file);
		return -ENOMEM;
	}
	*ret_id = (uint32_t)p->nframes++;
	return 0;
}

int ct_profile_frame_named(struct ct_profile *p, const char *name, enum ct_pframe_kind kind,
			   uint32_t *ret_id)
{
	struct ct_pframe key = { (char *)(name ? name : "[unknown]"), NULL, NULL, 0, kind };
	return frame_intern(p, &key, ret_id);
}

int ct_profile_frame(struct ct_profile *p, const struct ct_frame *f, uint32_t *ret_id)
{
	char unknown[256];
	const char *name = f->function;
	if (!name) {
		/* one frame per module, not per pc: unknown code still groups in a flame graph */
		const char *base = f->module ? strrchr(f->module, '/') : NULL;
		base = base ? base + 1 : f->module;
		snprintf(unknown, sizeof(unknown), "[%s]", base && *base ? base : "unknown");
		name = unknown;
	}
	enum ct_pframe_kind kind = f->kernel ? CT_PFRAME_KERNEL : f->jit ? CT_PFRAME_JIT :
				   f->inlined ? CT_PFRAME_INLINED : CT_PFRAME_NORMAL;
	struct ct_pframe key = { (char *)name, f->module, f->function ? f->file : NULL,
				 f->function ? f->line : 0, kind };
	return frame_intern(p, &key, ret_id);
}

struct stack_key {
	const uint32_t *ids;
	size_t n;
	uint32_t labels;
};

static bool stack_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct ct_pstack *s = &((const struct ct_profile *)ctx)->stacks[idx];
	const struct stack_key *k = key;
	return s->n == k->n && s->labels == k->labels &&
	       memcmp(s->frames, k->ids, k->n * sizeof(*k->ids)) == 0;
}

static uint64_t stack_hash(const uint32_t *ids, size_t n, uint32_t labels)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, ids, n * sizeof(*ids));
	return labels ? hash_bytes(h, &labels, sizeof(labels)) : h;
}

struct labels_key {
	const struct ct_plabel *l;
	size_t n;
};

static bool labelset_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct ct_profile *p = ctx;
	const struct ct_plabelset *set = &p->labelsets[idx];
	const struct labels_key *k = key;
	if (set->n != k->n)
		return false;
	for (size_t i = 0; i < k->n; i++) {
		const struct ct_plabel *a = &p->labels[set->first + i], *b = &k->l[i];
		if (!str_eq(a->key, b->key) || !str_eq(a->str, b->str) || (!a->str && a->num != b->num))
			return false;
	}
	return true;
}

int ct_profile_labels(struct ct_profile *p, const struct ct_plabel *l, size_t n, uint32_t *ret_id)
{
	if (n == 0) {
		*ret_id = 0;
		return 0;
	}
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		if (!l[i].key)
			return -EINVAL;
		h = hash_str(h, l[i].key);
		h = hash_str(h, l[i].str);
		if (!l[i].str)
			h = hash_bytes(h, &l[i].num, sizeof(l[i].num));
	}
	struct labels_key key = { l, n };
	long found = table_find(p->labelset_index, h, labelset_eq, p, &key);
	if (found >= 0) {
		*ret_id = (uint32_t)found;
		return 0;
	}
	if (p->nlabels + n >= UINT32_MAX || p->nlabelsets >= UINT32_MAX - 1 ||
	    ct_grow(&p->labels, &p->cap_labels, p->nlabels + n, sizeof(*p->labels)) < 0 ||
	    ct_grow(&p->labelsets, &p->cap_labelsets, p->nlabelsets + 1, sizeof(*p->labelsets)) < 0)
		return -ENOMEM;
	size_t first = p->nlabels;
	for (size_t i = 0; i < n; i++) {
		struct ct_plabel *d = &p->labels[first + i];
		d->key = ct_strdup(l[i].key);
		d->str = ct_strdup(l[i].str);
		d->num = l[i].str ? 0 : l[i].num;
		if (!d->key || (l[i].str && !d->str)) {
			for (size_t j = first; j <= first + i; j++) {
				free((char *)p->labels[j].key);
				free((char *)p->labels[j].str);
			}
			return -ENOMEM;
		}
	}
	if (table_insert(p->labelset_index, h, (uint32_t)p->nlabelsets) < 0) {
		for (size_t j = first; j < first + n; j++) {
			free((char *)p->labels[j].key);
			free((char *)p->labels[j].str);
		}
		return -ENOMEM;
	}
	p->nlabels += n;
	p->labelsets[p->nlabelsets] = (struct ct_plabelset){ (uint32_t)first, (uint32_t)n };
	*ret_id = (uint32_t)p->nlabelsets++;
	return 0;
}

int ct_profile_add(struct ct_profile *p, const uint32_t *ids, size_t n, uint64_t count, uint64_t weight)
{
	return ct_profile_add_labeled(p, ids, n, 0, count, weight);
}

int ct_profile_add_labeled(struct ct_profile *p, const uint32_t *ids, size_t n, uint32_t labels,
			   uint64_t count, uint64_t weight)
{
	if (n == 0 || n > UINT32_MAX || labels >= p->nlabelsets)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ids[i] >= p->nframes)
			return -EINVAL;
	uint64_t total, total_weight;
	if (__builtin_add_overflow(p->total, count, &total) ||
	    __builtin_add_overflow(p->total_weight, weight, &total_weight))
		return -EOVERFLOW; /* only from counts in a crafted file: the sums stay exact */
	struct stack_key key = { ids, n, labels };
	uint64_t h = stack_hash(ids, n, labels);
	long found = table_find(p->stack_index, h, stack_eq, p, &key);
	if (found < 0) {
		if (ct_grow(&p->stacks, &p->cap_stacks, p->nstacks + 1, sizeof(*p->stacks)) < 0)
			return -ENOMEM;
		struct ct_pstack *s = &p->stacks[p->nstacks];
		memset(s, 0, sizeof(*s));
		s->frames = malloc(n * sizeof(*ids));
		if (!s->frames)
			return -ENOMEM;
		memcpy(s->frames, ids, n * sizeof(*ids));
		s->n = (uint32_t)n;
		s->labels = labels;
		if (table_insert(p->stack_index, h, (uint32_t)p->nstacks) < 0) {
			free(s->frames);
			return -ENOMEM;
		}
		found = (long)p->nstacks++;
	}
	p->stacks[found].count += count;
	p->stacks[found].weight += weight;
	p->total = total;
	p->total_weight = total_weight;
	return 0;
}

/* The frame of another profile, as flags want it, interned in dst. */
static int merge_frame(struct ct_profile *dst, const struct ct_pframe *f, unsigned flags, uint32_t *ret_id)
{
	struct ct_pframe key = *f;
	if (flags & CT_MERGE_NAMES_ONLY) {
		key.module = key.file = NULL;
		key.line = 0;
	}
	if ((flags & CT_MERGE_ROOT_PLAIN) && key.kind == CT_PFRAME_ROOT)
		key.kind = CT_PFRAME_NORMAL;
	return frame_intern(dst, &key, ret_id);
}

int ct_profile_merge(struct ct_profile *dst, const struct ct_profile *src, unsigned flags)
{
	uint32_t *fmap = malloc((src->nframes ? src->nframes : 1) * sizeof(*fmap));
	uint32_t *lmap = malloc((src->nlabelsets ? src->nlabelsets : 1) * sizeof(*lmap));
	uint32_t *ids = NULL;
	size_t cap_ids = 0;
	int r = fmap && lmap ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < src->nframes; i++)
		r = merge_frame(dst, &src->frames[i], flags, &fmap[i]);
	for (size_t i = 0; r == 0 && i < src->nlabelsets; i++) {
		const struct ct_plabelset *set = &src->labelsets[i];
		lmap[i] = 0;
		if (flags & CT_MERGE_LABELS)
			r = ct_profile_labels(dst, set->n ? src->labels + set->first : NULL, set->n, &lmap[i]);
	}
	for (size_t i = 0; r == 0 && i < src->nstacks; i++) {
		const struct ct_pstack *s = &src->stacks[i];
		if (ct_grow(&ids, &cap_ids, s->n, sizeof(*ids)) < 0) {
			r = -ENOMEM;
			break;
		}
		for (uint32_t k = 0; k < s->n; k++)
			ids[k] = fmap[s->frames[k]];
		r = ct_profile_add_labeled(dst, ids, s->n, lmap[s->labels], s->count, s->weight);
	}
	if (r == 0) {
		/* the merged profile spans every input: earliest start to latest end */
		uint64_t end = CT_MAX(dst->start_ns + dst->duration_ns, src->start_ns + src->duration_ns);
		if (src->start_ns && (!dst->start_ns || src->start_ns < dst->start_ns))
			dst->start_ns = src->start_ns;
		if (dst->start_ns && end >= dst->start_ns)
			dst->duration_ns = end - dst->start_ns;
		else
			dst->duration_ns = CT_MAX(dst->duration_ns, src->duration_ns);
		if (!dst->period_ns)
			dst->period_ns = src->period_ns;
		dst->wall = dst->wall || src->wall;
	}
	free(fmap);
	free(lmap);
	free(ids);
	return r;
}

static int stack_cmp(const void *a, const void *b, void *arg)
{
	const struct ct_profile *sort_profile = arg;
	const struct ct_pstack *x = a, *y = b;
	for (uint32_t i = 0; i < x->n && i < y->n; i++) {
		if (x->frames[i] == y->frames[i])
			continue;
		int c = strcmp(sort_profile->frames[x->frames[i]].name, sort_profile->frames[y->frames[i]].name);
		if (c)
			return c;
		return x->frames[i] < y->frames[i] ? -1 : 1;
	}
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->labels < y->labels ? -1 : x->labels > y->labels ? 1 : 0;
}

void ct_profile_sort(struct ct_profile *p)
{
	if (p->nstacks < 2)
		return;
	qsort_r(p->stacks, p->nstacks, sizeof(*p->stacks), stack_cmp, p);
	/* rebuild the index over the new order */
	memset(p->stack_index->slots, 0, p->stack_index->cap * sizeof(*p->stack_index->slots));
	p->stack_index->n = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		table_place(p->stack_index, stack_hash(s->frames, s->n, s->labels), (uint32_t)i);
	}
}

/* The pc cache: its own open-addressing map, keyed by pc with the activation bit folded in. */
struct pc_entry {
	uint64_t key; /* pc << 1 | activation, never 0 in use (the slot is empty when n == UINT32_MAX) */
	uint32_t start, n;
};

struct ct_pccache {
	struct pc_entry *slots;
	size_t cap, used;
	uint32_t *ids;
	size_t nids, cap_ids;
};

#define PC_EMPTY UINT32_MAX

int ct_pccache_new(struct ct_pccache **ret)
{
	struct ct_pccache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cap = 1024;
	c->slots = malloc(c->cap * sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->cap; i++)
		c->slots[i].n = PC_EMPTY;
	*ret = c;
	return 0;
}

void ct_pccache_free(struct ct_pccache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->ids);
	free(c);
}

static size_t pc_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static struct pc_entry *pc_find(struct pc_entry *slots, size_t cap, uint64_t key)
{
	size_t i = pc_slot(key, cap);
	while (slots[i].n != PC_EMPTY && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

bool ct_pccache_get(struct ct_pccache *c, uint64_t pc, bool activation, const uint32_t **ret_ids,
		    size_t *ret_n)
{
	struct pc_entry *e = pc_find(c->slots, c->cap, pc << 1 | activation);
	if (e->n == PC_EMPTY)
		return false;
	*ret_ids = c->ids + e->start;
	*ret_n = e->n;
	return true;
}

int ct_pccache_put(struct ct_pccache *c, uint64_t pc, bool activation, const uint32_t *ids, size_t n)
{
	if (n >= PC_EMPTY || c->nids + n >= UINT32_MAX)
		return -EINVAL;
	if ((c->used + 1) * 4 > c->cap * 3) {
		size_t cap = c->cap * 2;
		struct pc_entry *slots = malloc(cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < cap; i++)
			slots[i].n = PC_EMPTY;
		for (size_t i = 0; i < c->cap; i++)
			if (c->slots[i].n != PC_EMPTY)
				*pc_find(slots, cap, c->slots[i].key) = c->slots[i];
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	struct pc_entry *e = pc_find(c->slots, c->cap, pc << 1 | activation);
	if (e->n != PC_EMPTY)
		return 0; /* already there */
	if (n && ct_grow(&c->ids, &c->cap_ids, c->nids + n, sizeof(*c->ids)) < 0)
		return -ENOMEM;
	if (n)
		memcpy(c->ids + c->nids, ids, n * sizeof(*ids));
	e->key = pc << 1 | activation;
	e->start = (uint32_t)c->nids;
	e->n = (uint32_t)n;
	c->nids += n;
	c->used++;
	return 0;
}

size_t ct_pccache_size(const struct ct_pccache *c)
{
	return c->used;
}

static int by_site_weight(const void *a, const void *b)
{
	const struct ct_psite *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

int ct_profile_sites(const struct ct_profile *p, ct_psite_skip_fn skip, void *arg, struct ct_psite **ret,
		     size_t *ret_n)
{
	/* indexed by frame id while counting, then compacted */
	struct ct_psite *all = calloc(p->nframes ? p->nframes : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		if (!s->n)
			continue;
		uint32_t j = s->n - 1;
		while (j > 0 && skip(&p->frames[s->frames[j]], arg))
			j--;
		struct ct_psite *e = &all[s->frames[j]];
		e->count += s->count;
		e->weight += s->weight;
	}
	size_t n = 0;
	for (size_t i = 0; i < p->nframes; i++)
		if (all[i].count || all[i].weight) {
			all[n] = all[i];
			all[n++].frame = (uint32_t)i;
		}
	qsort(all, n, sizeof(*all), by_site_weight);
	*ret = all;
	*ret_n = n;
	return 0;
}
