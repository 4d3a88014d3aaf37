/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pprof: profile.proto (github.com/google/pprof/proto/profile.proto), gzip-compressed or not. */
#include "formats/pprof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/folded.h"
#include "formats/gzip.h"
#include "formats/protobuf.h"
#include "lib/banned.h"

/* ---- reading ---- */

struct pp_slice {
	const uint8_t *p;
	size_t len;
};

struct pp_fn {
	uint64_t id;
	uint64_t name, filename;
};

struct pp_loc {
	uint64_t id;
	struct ct_pb msg;
	uint32_t first, n; /* frame ids in pp.ids, root first; n == UINT32_MAX: not resolved yet */
};

struct pp_map {
	uint64_t id, filename;
};

struct pp {
	struct ct_preader *r;
	struct pp_slice *strs;
	size_t nstrs, cap_strs;
	struct ct_pb *samples, *locmsgs, *fnmsgs, *mapmsgs;
	size_t nsamples, cap_samples, nlocmsgs, cap_locmsgs, nfnmsgs, cap_fnmsgs, nmapmsgs, cap_mapmsgs;
	uint64_t *types; /* sample_type: type, unit string indexes */
	size_t ntypes, cap_types;
	struct pp_fn *fns;
	struct pp_loc *locs;
	struct pp_map *maps;
	uint32_t *ids;
	size_t nids, cap_ids;
	uint64_t time, duration, period;
};

static int add_msg(struct ct_pb **v, size_t *n, size_t *cap, const struct ct_pb *m)
{
	if (ct_grow(v, cap, *n + 1, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = *m;
	return 0;
}

static bool pp_str_ok(const struct pp *pp, uint64_t idx)
{
	return idx < pp->nstrs;
}

static bool pp_str_is(const struct pp *pp, uint64_t idx, const char *s)
{
	size_t n = strlen(s);
	return idx < pp->nstrs && pp->strs[idx].len == n && memcmp(pp->strs[idx].p, s, n) == 0;
}

static int by_fn_id(const void *a, const void *b)
{
	const struct pp_fn *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int by_loc_id(const void *a, const void *b)
{
	const struct pp_loc *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int by_map_id(const void *a, const void *b)
{
	const struct pp_map *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The top level: every field kept as bytes, decoded once the string table is known. */
static int pp_top(struct pp *pp, struct ct_pb b)
{
	struct ct_preader *r = pp->r;
	while (b.p < b.end) {
		uint64_t field, v;
		int wt, e = 0;
		struct ct_pb sub = { NULL, NULL };
		if (ct_pb_next(&b, &field, &wt, &v, &sub) < 0)
			return ct_preader_fail(r, -EINVAL, "not a pprof profile: bad protobuf encoding");
		bool bytes = wt == 2;
		switch (field) {
		case 1: /* sample_type */
			if (!bytes)
				break;
			if (ct_grow(&pp->types, &pp->cap_types, 2 * pp->ntypes + 2, sizeof(*pp->types)) < 0)
				return -ENOMEM;
			if (ct_pb_scalars(sub, &pp->types[2 * pp->ntypes], 2) < 0) /* type, unit */
				return ct_preader_fail(r, -EINVAL, "bad sample_type");
			pp->ntypes++;
			break;
		case 2: if (bytes) e = add_msg(&pp->samples, &pp->nsamples, &pp->cap_samples, &sub); break;
		case 3: if (bytes) e = add_msg(&pp->mapmsgs, &pp->nmapmsgs, &pp->cap_mapmsgs, &sub); break;
		case 4: if (bytes) e = add_msg(&pp->locmsgs, &pp->nlocmsgs, &pp->cap_locmsgs, &sub); break;
		case 5: if (bytes) e = add_msg(&pp->fnmsgs, &pp->nfnmsgs, &pp->cap_fnmsgs, &sub); break;
		case 6:
			if (!bytes)
				return ct_preader_fail(r, -EINVAL, "bad string_table entry");
			if (ct_grow(&pp->strs, &pp->cap_strs, pp->nstrs + 1, sizeof(*pp->strs)) < 0)
				return -ENOMEM;
			pp->strs[pp->nstrs++] = (struct pp_slice){ sub.p, (size_t)(sub.end - sub.p) };
			break;
		case 9: if (wt == 0) pp->time = v; break;
		case 10: if (wt == 0) pp->duration = v; break;
		case 12: if (wt == 0) pp->period = v; break;
		default: break; /* mapping details, drop/keep_frames, comments, period_type … */
		}
		if (e < 0)
			return e;
	}
	if (pp->nstrs == 0 || pp->strs[0].len != 0)
		return ct_preader_fail(r, -EINVAL, "not a pprof profile: its string table does not start with \"\"");
	if (pp->ntypes == 0)
		return ct_preader_fail(r, -EINVAL, "not a pprof profile: no sample_type");
	for (size_t i = 0; i < 2 * pp->ntypes; i++)
		if (!pp_str_ok(pp, pp->types[i]))
			return ct_preader_fail(r, -EINVAL, "a sample_type names string %" PRIu64 " of %zu",
					       pp->types[i], pp->nstrs);
	return 0;
}

static int pp_tables(struct pp *pp)
{
	struct ct_preader *r = pp->r;
	pp->fns = calloc(pp->nfnmsgs + 1, sizeof(*pp->fns));
	pp->locs = calloc(pp->nlocmsgs + 1, sizeof(*pp->locs));
	pp->maps = calloc(pp->nmapmsgs + 1, sizeof(*pp->maps));
	if (!pp->fns || !pp->locs || !pp->maps)
		return -ENOMEM;
	for (size_t i = 0; i < pp->nfnmsgs; i++) {
		struct pp_fn *f = &pp->fns[i];
		uint64_t v[4]; /* id, name, system_name, filename */
		if (ct_pb_scalars(pp->fnmsgs[i], v, 4) < 0)
			return ct_preader_fail(r, -EINVAL, "bad function entry");
		*f = (struct pp_fn){ v[0], v[1] ? v[1] : v[2], v[3] };
		if (!pp_str_ok(pp, f->name) || !pp_str_ok(pp, f->filename))
			return ct_preader_fail(r, -EINVAL, "function %" PRIu64 " names a string beyond the table", f->id);
	}
	for (size_t i = 0; i < pp->nmapmsgs; i++) {
		uint64_t v[5]; /* id, memory_start, memory_limit, file_offset, filename */
		if (ct_pb_scalars(pp->mapmsgs[i], v, 5) < 0)
			return ct_preader_fail(r, -EINVAL, "bad mapping entry");
		pp->maps[i] = (struct pp_map){ v[0], v[4] };
		if (!pp_str_ok(pp, pp->maps[i].filename))
			return ct_preader_fail(r, -EINVAL, "mapping %" PRIu64 " names a string beyond the table", pp->maps[i].id);
	}
	for (size_t i = 0; i < pp->nlocmsgs; i++) {
		uint64_t id;
		if (ct_pb_scalars(pp->locmsgs[i], &id, 1) < 0)
			return ct_preader_fail(r, -EINVAL, "bad location entry");
		pp->locs[i] = (struct pp_loc){ id, pp->locmsgs[i], 0, UINT32_MAX };
	}
	qsort(pp->fns, pp->nfnmsgs, sizeof(*pp->fns), by_fn_id);
	qsort(pp->locs, pp->nlocmsgs, sizeof(*pp->locs), by_loc_id);
	qsort(pp->maps, pp->nmapmsgs, sizeof(*pp->maps), by_map_id);
	return 0;
}

/* A location's frames, root first (its lines are leaf first: all but the last were inlined). */
static int pp_location(struct pp *pp, struct pp_loc *loc)
{
	struct ct_preader *r = pp->r;
	struct ct_pb b = loc->msg;
	uint64_t lines[2 * 64], mapping_id = 0;
	size_t nlines = 0;
	size_t first = pp->nids;
	while (b.p < b.end) {
		struct ct_pb x;
		uint64_t field, v;
		int wt;
		if (ct_pb_next(&b, &field, &wt, &v, &x) < 0)
			return ct_preader_fail(r, -EINVAL, "bad location %" PRIu64, loc->id);
		if (field == 2 && wt == 0)
			mapping_id = v;
		if (field != 4 || wt != 2)
			continue;
		if (nlines >= CT_ARRAY_SIZE(lines) / 2)
			return ct_preader_fail(r, -EFBIG, "location %" PRIu64 " has more than %zu lines", loc->id,
					       CT_ARRAY_SIZE(lines) / 2);
		if (ct_pb_scalars(x, &lines[2 * nlines], 2) < 0) /* function_id, line */
			return ct_preader_fail(r, -EINVAL, "bad line in location %" PRIu64, loc->id);
		nlines++;
	}
	if (ct_grow(&pp->ids, &pp->cap_ids, pp->nids + CT_MAX(nlines, 1), sizeof(*pp->ids)) < 0)
		return -ENOMEM;
	for (size_t i = nlines; i-- > 0;) {
		struct pp_fn key = { lines[2 * i], 0, 0 };
		const struct pp_fn *f = bsearch(&key, pp->fns, pp->nfnmsgs, sizeof(*pp->fns), by_fn_id);
		if (!f)
			return ct_preader_fail(r, -EINVAL, "location %" PRIu64 " calls function %" PRIu64
					       ", which is not there", loc->id, key.id);
		const struct pp_slice *name = &pp->strs[f->name], *file = &pp->strs[f->filename];
		enum ct_pframe_kind kind = i + 1 < nlines ? CT_PFRAME_INLINED : CT_PFRAME_NORMAL;
		int e = ct_preader_frame(r, (const char *)name->p, name->len, kind, (const char *)file->p, file->len,
					 (long)CT_MIN(lines[2 * i + 1], 0x7fffffffull), &pp->ids[pp->nids]);
		if (e < 0)
			return e;
		pp->nids++;
	}
	if (nlines == 0) {
		/* an address without symbols: one frame per module, as a live profile has */
		struct pp_map key = { mapping_id, 0 };
		const struct pp_map *m = bsearch(&key, pp->maps, pp->nmapmsgs, sizeof(*pp->maps), by_map_id);
		const struct pp_slice *file = m ? &pp->strs[m->filename] : NULL;
		const char *base = NULL;
		size_t blen = 0;
		if (file && file->len) {
			const uint8_t *slash = memrchr(file->p, '/', file->len);
			base = (const char *)(slash ? slash + 1 : file->p);
			blen = file->len - (size_t)((const uint8_t *)base - file->p);
		}
		ct_buf_reset(&r->file);
		ct_buf_putc(&r->file, '[');
		ct_buf_append(&r->file, blen ? base : "unknown", blen ? blen : 7);
		ct_buf_putc(&r->file, ']');
		if (r->file.err)
			return -ENOMEM;
		int e = ct_profile_frame_named(r->p, ct_buf_cstr(&r->file), CT_PFRAME_NORMAL, &pp->ids[pp->nids]);
		if (e < 0)
			return e;
		pp->nids++;
	}
	if (pp->nids - first > UINT32_MAX - 1)
		return -EFBIG;
	loc->first = (uint32_t)first;
	loc->n = (uint32_t)(pp->nids - first);
	return 0;
}

/* Which value is the sample count and which the time: "samples" (or a "count" unit) and the
 * first "nanoseconds" unit; a profile with neither counts its first value. */
static void pp_value_index(const struct pp *pp, size_t *ret_count, size_t *ret_weight, bool *ret_wall)
{
	size_t count = SIZE_MAX, weight = SIZE_MAX;
	for (size_t i = 0; i < pp->ntypes; i++) {
		uint64_t type = pp->types[2 * i], unit = pp->types[2 * i + 1];
		if (count == SIZE_MAX && (pp_str_is(pp, type, "samples") || pp_str_is(pp, unit, "count")))
			count = i;
		if (weight == SIZE_MAX && pp_str_is(pp, unit, "nanoseconds"))
			weight = i;
	}
	*ret_wall = weight != SIZE_MAX && pp_str_is(pp, pp->types[2 * weight], "wall");
	*ret_count = count != SIZE_MAX ? count : 0;
	*ret_weight = weight;
}

static int pp_samples(struct pp *pp)
{
	struct ct_preader *r = pp->r;
	size_t ci, wi;
	pp_value_index(pp, &ci, &wi, &r->p->wall);
	uint64_t *locs = NULL, *vals = NULL;
	size_t cap_locs = 0, cap_vals = 0;
	struct ct_plabel *labels = calloc(r->lim->max_labels + 1, sizeof(*labels));
	char **owned = calloc(2 * r->lim->max_labels + 2, sizeof(*owned));
	int e = labels && owned ? 0 : -ENOMEM;
	for (size_t s = 0; e == 0 && s < pp->nsamples; s++) {
		struct ct_pb b = pp->samples[s];
		size_t nlocs = 0, nvals = 0, nlabels = 0, nowned = 0;
		int64_t process = -1;
		while (e == 0 && b.p < b.end) {
			struct ct_pb x = { NULL, NULL };
			uint64_t field, v;
			int wt;
			if (ct_pb_next(&b, &field, &wt, &v, &x) < 0) {
				e = ct_preader_fail(r, -EINVAL, "bad sample %zu", s);
				break;
			}
			if (field == 1)
				e = ct_pb_ints(wt, v, &x, &locs, &nlocs, &cap_locs);
			else if (field == 2)
				e = ct_pb_ints(wt, v, &x, &vals, &nvals, &cap_vals);
			if (e == -EINVAL)
				e = ct_preader_fail(r, -EINVAL, "bad sample %zu", s);
			if (field != 3 || wt != 2 || e)
				continue;
			uint64_t l[3]; /* key, str, num */
			if (ct_pb_scalars(x, l, 3) < 0) {
				e = ct_preader_fail(r, -EINVAL, "bad label in sample %zu", s);
				break;
			}
			uint64_t key = l[0], str = l[1], num = l[2];
			if (!pp_str_ok(pp, key) || !pp_str_ok(pp, str) || key == 0) {
				e = ct_preader_fail(r, -EINVAL, "a label of sample %zu names a string beyond the table", s);
				break;
			}
			if (str && pp_str_is(pp, key, "process")) {
				process = (int64_t)str;
				continue;
			}
			if (nlabels >= r->lim->max_labels) {
				e = ct_preader_fail(r, -EFBIG, "a sample with more than %zu labels", r->lim->max_labels);
				break;
			}
			char *k = ct_strndup((const char *)pp->strs[key].p, pp->strs[key].len);
			char *sv = str ? ct_strndup((const char *)pp->strs[str].p, pp->strs[str].len) : NULL;
			owned[nowned++] = k;
			owned[nowned++] = sv;
			if (!k || (str && !sv)) {
				e = -ENOMEM;
				break;
			}
			labels[nlabels++] = (struct ct_plabel){ k, sv, (int64_t)num };
		}
		if (e == 0 && nvals != pp->ntypes)
			e = ct_preader_fail(r, -EINVAL, "sample %zu has %zu values for %zu sample types", s, nvals, pp->ntypes);
		for (size_t i = 0; e == 0 && i < nvals; i++)
			if (vals[i] > INT64_MAX)
				e = ct_preader_fail(r, -EINVAL, "sample %zu has a negative value", s);
		r->n = 0;
		if (e == 0 && process > 0) {
			uint32_t id;
			e = ct_preader_frame(r, (const char *)pp->strs[process].p, pp->strs[process].len, CT_PFRAME_ROOT,
					     NULL, 0, 0, &id);
			if (e == 0)
				e = ct_preader_push(r, id);
		}
		for (size_t i = nlocs; e == 0 && i-- > 0;) {
			struct pp_loc key = { .id = locs[i] };
			struct pp_loc *loc = bsearch(&key, pp->locs, pp->nlocmsgs, sizeof(*pp->locs), by_loc_id);
			if (!loc) {
				e = ct_preader_fail(r, -EINVAL, "sample %zu names location %" PRIu64 ", which is not there",
						    s, locs[i]);
				break;
			}
			if (loc->n == UINT32_MAX && (e = pp_location(pp, loc)) < 0)
				break;
			for (uint32_t k = 0; e == 0 && k < loc->n; k++)
				e = ct_preader_push(r, pp->ids[loc->first + k]);
		}
		uint32_t set = 0;
		if (e == 0)
			e = ct_profile_labels(r->p, labels, nlabels, &set);
		if (e == 0 && (vals[ci] || (wi != SIZE_MAX && vals[wi])))
			e = ct_preader_add(r, set, vals[ci], wi != SIZE_MAX ? vals[wi] : 0);
		for (size_t i = 0; i < nowned; i++)
			free(owned[i]);
	}
	free(locs);
	free(vals);
	free(labels);
	free(owned);
	return e;
}

static void pp_free(struct pp *pp)
{
	free(pp->strs);
	free(pp->samples);
	free(pp->locmsgs);
	free(pp->fnmsgs);
	free(pp->mapmsgs);
	free(pp->types);
	free(pp->fns);
	free(pp->locs);
	free(pp->maps);
	free(pp->ids);
}

static int read_pprof(struct ct_preader *r, const char *data, size_t len)
{
	int e = 0;
	struct ct_buf raw = CT_BUF_INIT;
	const uint8_t *p = (const uint8_t *)data;
	if (ct_gzip_magic(data, len)) {
		e = ct_gunzip(data, len, r->lim->max_bytes, &raw);
		if (e == -EFBIG)
			e = ct_preader_fail(r, e, "decompresses to more than %zu MiB", r->lim->max_bytes >> 20);
		else if (e == -EINVAL || e == -ENODATA)
			e = ct_preader_fail(r, -EINVAL, "bad gzip data (%s)", e == -ENODATA ? "truncated" : "corrupt");
		p = (const uint8_t *)raw.data;
		len = raw.len;
	} else if (len > r->lim->max_bytes) {
		e = ct_preader_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_bytes >> 20);
	}
	struct pp pp;
	memset(&pp, 0, sizeof(pp));
	pp.r = r;
	if (e == 0)
		e = pp_top(&pp, (struct ct_pb){ p, p + len });
	if (e == 0)
		e = pp_tables(&pp);
	if (e == 0)
		e = pp_samples(&pp);
	if (e == 0) {
		r->p->start_ns = pp.time;
		r->p->duration_ns = pp.duration;
		r->p->period_ns = pp.period;
	}
	pp_free(&pp);
	ct_buf_free(&raw);
	return e;
}

int ct_pread_pprof(const void *data, size_t len, const struct ct_pread_limits *lim,
		   struct ct_profile **ret, struct ct_pread_error *err)
{
	return ct_preader_run(read_pprof, data, len, lim, ret, err);
}

/* ---- writing ---- */

/* The string table: index 0 is "", then each string added once (a linear probe over the frames is
 * avoided by giving every frame name its own index in frame order). */
struct pb_strings {
	struct ct_buf table; /* encoded field 6 entries */
	uint64_t n;
};

static uint64_t pb_str(struct pb_strings *s, const char *str)
{
	ct_pb_put_bytes(&s->table, 6, str, strlen(str));
	return s->n++;
}

/* The strings of the profile's labels, numbered from first on: ret_idx[2 * i] is label i's key,
 * ret_idx[2 * i + 1] its string value. A key is written once. Returns 0 or -ENOMEM. */
static int pprof_label_strings(const struct ct_profile *p, uint64_t first, struct pb_strings *st,
			       uint64_t **ret_idx)
{
	uint64_t *idx = calloc(2 * p->nlabels + 1, sizeof(*idx));
	const char *keys[16];
	uint64_t key_idx[16];
	size_t nkeys = 0;
	if (!idx)
		return -ENOMEM;
	st->n = first;
	for (size_t i = 0; i < p->nlabels; i++) {
		const struct ct_plabel *l = &p->labels[i];
		size_t k = 0;
		while (k < nkeys && strcmp(keys[k], l->key) != 0)
			k++;
		if (k < nkeys) {
			idx[2 * i] = key_idx[k];
		} else {
			idx[2 * i] = pb_str(st, l->key);
			if (nkeys < CT_ARRAY_SIZE(keys)) {
				keys[nkeys] = l->key;
				key_idx[nkeys++] = idx[2 * i];
			}
		}
		if (l->str)
			idx[2 * i + 1] = pb_str(st, l->str);
	}
	*ret_idx = idx;
	return st->table.err;
}

int ct_pwrite_pprof(const struct ct_profile *p, struct ct_buf *out)
{
	struct ct_buf pb = CT_BUF_INIT, sub = CT_BUF_INIT, sub2 = CT_BUF_INIT;
	struct pb_strings st = { CT_BUF_INIT, 0 };
	pb_str(&st, "");
	/* an allocation profile uses pprof's heap names: alloc_objects/count, alloc_space/bytes */
	uint64_t s_samples = pb_str(&st, p->alloc ? "alloc_objects" : "samples"), s_count = pb_str(&st, "count");
	uint64_t s_time = pb_str(&st, p->alloc ? "alloc_space" : p->wall ? "wall" : "cpu");
	uint64_t s_ns = pb_str(&st, p->alloc ? "bytes" : "nanoseconds");
	uint64_t s_process = pb_str(&st, "process");
	/* label strings follow the frames' two strings each (below) */
	struct pb_strings lst = { CT_BUF_INIT, 0 };
	uint64_t *lidx = NULL;
	if (pprof_label_strings(p, s_process + 1 + 2ull * p->nframes, &lst, &lidx) < 0)
		out->err = -ENOMEM;

	/* sample_type: samples/count, cpu|wall/nanoseconds (not when merged from folded stacks,
	 * which have no times) */
	bool timed = p->total_weight || !p->total;
	ct_pb_put_int(&sub, 1, s_samples);
	ct_pb_put_int(&sub, 2, s_count);
	ct_pb_put_msg(&pb, 1, &sub);
	if (timed) {
		ct_pb_put_int(&sub, 1, s_time);
		ct_pb_put_int(&sub, 2, s_ns);
		ct_pb_put_msg(&pb, 1, &sub);
	}

	/* samples: location ids leaf first; the root frame (the process) becomes a label */
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		for (uint32_t k = s->n; k-- > 0;) {
			if (p->frames[s->frames[k]].kind == CT_PFRAME_ROOT)
				continue;
			ct_pb_put_varint(&sub2, s->frames[k] + 1ull);
		}
		ct_pb_put_msg(&sub, 1, &sub2);
		ct_pb_put_varint(&sub2, s->count);
		if (timed)
			ct_pb_put_varint(&sub2, s->weight);
		ct_pb_put_msg(&sub, 2, &sub2);
		if (p->frames[s->frames[0]].kind == CT_PFRAME_ROOT) {
			/* Label { key = "process", str = name }: name's index is 2 * frame + base, below */
			ct_pb_put_int(&sub2, 1, s_process);
			ct_pb_put_int(&sub2, 2, s_process + 1 + 2ull * s->frames[0]);
			ct_pb_put_msg(&sub, 3, &sub2);
		}
		const struct ct_plabelset *set = &p->labelsets[s->labels];
		for (uint32_t k = 0; lidx && k < set->n; k++) {
			const struct ct_plabel *l = &p->labels[set->first + k];
			ct_pb_put_int(&sub2, 1, lidx[2 * (set->first + k)]);     /* Label.key */
			if (l->str)
				ct_pb_put_int(&sub2, 2, lidx[2 * (set->first + k) + 1]); /* Label.str */
			else
				ct_pb_put_int(&sub2, 3, (uint64_t)l->num);              /* Label.num */
			ct_pb_put_msg(&sub, 3, &sub2);
		}
		ct_pb_put_msg(&pb, 2, &sub);
	}

	/* one location and one function per frame (id = frame index + 1); strings name then file */
	uint64_t base = st.n;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct ct_pframe *f = &p->frames[i];
		struct ct_buf name = CT_BUF_INIT;
		ct_buf_printf(&name, "%s%s", f->name, ct_folded_suffix(f->kind));
		uint64_t s_name = pb_str(&st, ct_buf_cstr(&name));
		ct_buf_free(&name);
		uint64_t s_file = pb_str(&st, f->file ? f->file : f->module ? f->module : "");
		if (s_name != base + 2 * i)
			out->err = -EINVAL; /* the label indexes above rely on this layout */

		ct_pb_put_int(&sub, 1, i + 1);               /* Location.id */
		ct_pb_put_int(&sub2, 1, i + 1);              /* Line.function_id */
		if (f->line > 0)
			ct_pb_put_int(&sub2, 2, (uint64_t)f->line);
		ct_pb_put_msg(&sub, 4, &sub2);               /* Location.line */
		ct_pb_put_msg(&pb, 4, &sub);

		ct_pb_put_int(&sub, 1, i + 1);               /* Function.id */
		ct_pb_put_int(&sub, 2, s_name);              /* name */
		ct_pb_put_int(&sub, 3, s_name);              /* system_name */
		ct_pb_put_int(&sub, 4, s_file);              /* filename */
		ct_pb_put_msg(&pb, 5, &sub);
	}
	ct_buf_append(&pb, st.table.data ? st.table.data : "", st.table.len);
	ct_buf_append(&pb, lst.table.data ? lst.table.data : "", lst.table.len);
	if (st.table.err || lst.table.err)
		pb.err = -ENOMEM;
	ct_pb_put_int(&pb, 9, p->start_ns);                  /* time_nanos */
	ct_pb_put_int(&pb, 10, p->duration_ns);              /* duration_nanos */
	if (timed) {
		ct_pb_put_int(&sub, 1, s_time);              /* period_type */
		ct_pb_put_int(&sub, 2, s_ns);
		ct_pb_put_msg(&pb, 11, &sub);
		ct_pb_put_int(&pb, 12, p->period_ns);        /* period */
	}
	if (pb.err || sub.err || sub2.err)
		out->err = -ENOMEM;
	else if (!out->err && ct_gzip(pb.data, pb.len, out) < 0)
		out->err = -ENOMEM;
	ct_buf_free(&pb);
	ct_buf_free(&sub);
	ct_buf_free(&sub2);
	ct_buf_free(&st.table);
	ct_buf_free(&lst.table);
	free(lidx);
	return out->err;
}
