/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze/merge.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gzip.h"
#include "formats/protobuf.h"
#include "lib/util.h"
#include "lib/banned.h"

void ct_pread_limits_default(struct ct_pread_limits *l)
{
	l->max_bytes = (size_t)256 << 20;
	l->max_json = (size_t)64 << 20;
	l->max_depth = 65536;
	l->max_frames_total = (size_t)64 << 20;
	l->max_labels = 64;
}

static const char speedscope_schema[] = "https://www.speedscope.app/file-format-schema.json";

enum ct_pformat ct_pformat_detect(const void *data, size_t len)
{
	const unsigned char *s = data;
	if (ct_gzip_magic(data, len))
		return CT_PFMT_PPROF;
	size_t i = 0;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3; /* a UTF-8 byte order mark */
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	if (i < len && s[i] == '{' && memmem(s, len, "\"$schema\"", 9) &&
	    memmem(s, len, "speedscope", 10))
		return CT_PFMT_SPEEDSCOPE;
	return CT_PFMT_FOLDED;
}

const char *ct_pformat_name(enum ct_pformat f)
{
	switch (f) {
	case CT_PFMT_PPROF: return "pprof";
	case CT_PFMT_SPEEDSCOPE: return "speedscope";
	default: return "folded";
	}
}

/* ---- what the three readers share ---- */

struct rd {
	struct ct_profile *p;
	const struct ct_pread_limits *lim;
	struct ct_pread_error *err;
	size_t frames_total;
	struct ct_buf name, file;  /* scratch, NUL-terminated copies */
	uint32_t *stack;           /* root first */
	size_t n, cap;
};

static int rd_fail(struct rd *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int rd_fail(struct rd *r, int code, const char *fmt, ...)
{
	if (!r->err->msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int rd_init(struct rd *r, const struct ct_pread_limits *lim, struct ct_pread_error *err)
{
	memset(r, 0, sizeof(*r));
	memset(err, 0, sizeof(*err));
	r->lim = lim;
	r->err = err;
	if (ct_profile_new(&r->p) < 0)
		return rd_fail(r, -ENOMEM, "out of memory");
	return 0;
}

/* Hands the profile over on success; frees everything. */
static int rd_done(struct rd *r, int code, struct ct_profile **ret)
{
	if (code == 0 && (r->name.err || r->file.err))
		code = rd_fail(r, -ENOMEM, "out of memory");
	if (code == 0) {
		*ret = r->p;
		r->p = NULL;
	} else if (code == -ENOMEM) {
		rd_fail(r, code, "out of memory");
	}
	ct_profile_free(r->p);
	ct_buf_free(&r->name);
	ct_buf_free(&r->file);
	free(r->stack);
	return code;
}

/* The "_[k]", "_[i]", "_[j]" suffix ctrace gives kernel, inlined and JIT frames, taken off. */
static enum ct_pframe_kind kind_of(const char *s, size_t *len, enum ct_pframe_kind dflt)
{
	size_t n = *len;
	if (n < 5 || s[n - 4] != '_' || s[n - 3] != '[' || s[n - 1] != ']')
		return dflt;
	switch (s[n - 2]) {
	case 'k': *len = n - 4; return CT_PFRAME_KERNEL;
	case 'i': *len = n - 4; return CT_PFRAME_INLINED;
	case 'j': *len = n - 4; return CT_PFRAME_JIT;
	default: return dflt;
	}
}

/* Interns a frame from untrusted text (not NUL-terminated; an empty name is "[unknown]"). */
static int rd_frame(struct rd *r, const char *name, size_t len, enum ct_pframe_kind kind, const char *file,
		    size_t file_len, long line, uint32_t *ret_id)
{
	if (kind != CT_PFRAME_ROOT)
		kind = kind_of(name, &len, kind);
	ct_buf_reset(&r->name);
	if (len)
		ct_buf_append(&r->name, name, len);
	else
		ct_buf_puts(&r->name, "[unknown]");
	const char *n = ct_buf_cstr(&r->name);
	if (r->name.err)
		return -ENOMEM;
	if (kind == CT_PFRAME_ROOT || !file_len)
		return ct_profile_frame_named(r->p, n, kind, ret_id);
	ct_buf_reset(&r->file);
	ct_buf_append(&r->file, file, file_len);
	struct ct_frame f = { .function = (char *)n, .file = (char *)ct_buf_cstr(&r->file),
			      .line = line > 0 && line < 0x7fffffff ? (int)line : 0,
			      .inlined = kind == CT_PFRAME_INLINED, .jit = kind == CT_PFRAME_JIT,
			      .kernel = kind == CT_PFRAME_KERNEL };
	if (r->file.err)
		return -ENOMEM;
	return ct_profile_frame(r->p, &f, ret_id);
}

static int rd_push(struct rd *r, uint32_t id)
{
	if (r->n >= r->lim->max_depth)
		return rd_fail(r, -EFBIG, "a stack deeper than %zu frames", r->lim->max_depth);
	if (ct_grow(&r->stack, &r->cap, r->n + 1, sizeof(*r->stack)) < 0)
		return -ENOMEM;
	r->stack[r->n++] = id;
	return 0;
}

/* Adds r->stack; a stack seen for the first time counts against max_frames_total. */
static int rd_add(struct rd *r, uint32_t labels, uint64_t count, uint64_t weight)
{
	size_t before = r->p->nstacks;
	if (r->n == 0) {
		uint32_t id;
		int e = ct_profile_frame_named(r->p, "[unknown]", CT_PFRAME_NORMAL, &id);
		if (e < 0 || (e = rd_push(r, id)) < 0)
			return e;
	}
	int e = ct_profile_add_labeled(r->p, r->stack, r->n, labels, count, weight);
	if (e == -EOVERFLOW)
		return rd_fail(r, -EINVAL, "the sample counts add up beyond 2^64");
	if (e < 0)
		return e;
	if (r->p->nstacks > before) {
		r->frames_total += r->n;
		if (r->frames_total > r->lim->max_frames_total)
			return rd_fail(r, -EFBIG, "more than %zu frames over all stacks",
				       r->lim->max_frames_total);
	}
	return 0;
}

/* ---- folded: "root;caller;callee COUNT" per line ---- */

static int read_folded(struct rd *r, const char *data, size_t len)
{
	int e = 0;
	if (len > r->lim->max_bytes)
		return rd_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_bytes >> 20);
	size_t lineno = 0;
	for (const char *s = data, *end = data + len; e == 0 && s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		lineno++;
		while (le > s && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if (le == s || *s == '#') {
			s = next;
			continue;
		}
		r->err->line = lineno;
		if (memchr(s, '\0', (size_t)(le - s))) {
			e = rd_fail(r, -EINVAL, "binary data, not folded stacks (nor pprof or speedscope)");
			break;
		}
		const char *sp = le;
		while (sp > s && sp[-1] != ' ')
			sp--;
		uint64_t count = 0;
		const char *d = sp;
		for (; d < le && *d >= '0' && *d <= '9'; d++) {
			uint64_t digit = (uint64_t)(*d - '0');
			if (count > (UINT64_MAX - digit) / 10) {
				e = rd_fail(r, -EINVAL, "a count too large");
				break;
			}
			count = count * 10 + digit;
		}
		if (e)
			break;
		if (sp == s || d == sp || d != le) {
			e = rd_fail(r, -EINVAL, "not a folded stack: want 'frame;frame;... COUNT'");
			break;
		}
		const char *fe = sp - 1; /* the frames end at the space before the count */
		while (fe > s && (fe[-1] == ' ' || fe[-1] == '\t'))
			fe--;
		r->n = 0;
		for (const char *f = s; e == 0;) {
			const char *semi = memchr(f, ';', (size_t)(fe - f));
			const char *fend = semi ? semi : fe;
			uint32_t id;
			e = rd_frame(r, f, (size_t)(fend - f), CT_PFRAME_NORMAL, NULL, 0, 0, &id);
			if (e == 0)
				e = rd_push(r, id);
			if (!semi)
				break;
			f = semi + 1;
		}
		if (e == 0 && count)
			e = rd_add(r, 0, count, 0);
		s = next;
	}
	if (e == 0) {
		r->err->line = 0;
		if (r->p->nstacks == 0)
			e = rd_fail(r, -EINVAL, "no stacks in it (an empty profile?)");
	}
	return e;
}

/* ---- pprof: profile.proto (github.com/google/pprof/proto/profile.proto) ---- */

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
	struct rd *r;
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
	struct rd *r = pp->r;
	while (b.p < b.end) {
		uint64_t field, v;
		int wt, e = 0;
		struct ct_pb sub = { NULL, NULL };
		if (ct_pb_next(&b, &field, &wt, &v, &sub) < 0)
			return rd_fail(r, -EINVAL, "not a pprof profile: bad protobuf encoding");
		bool bytes = wt == 2;
		switch (field) {
		case 1: /* sample_type */
			if (!bytes)
				break;
			if (ct_grow(&pp->types, &pp->cap_types, 2 * pp->ntypes + 2, sizeof(*pp->types)) < 0)
				return -ENOMEM;
			if (ct_pb_scalars(sub, &pp->types[2 * pp->ntypes], 2) < 0) /* type, unit */
				return rd_fail(r, -EINVAL, "bad sample_type");
			pp->ntypes++;
			break;
		case 2: if (bytes) e = add_msg(&pp->samples, &pp->nsamples, &pp->cap_samples, &sub); break;
		case 3: if (bytes) e = add_msg(&pp->mapmsgs, &pp->nmapmsgs, &pp->cap_mapmsgs, &sub); break;
		case 4: if (bytes) e = add_msg(&pp->locmsgs, &pp->nlocmsgs, &pp->cap_locmsgs, &sub); break;
		case 5: if (bytes) e = add_msg(&pp->fnmsgs, &pp->nfnmsgs, &pp->cap_fnmsgs, &sub); break;
		case 6:
			if (!bytes)
				return rd_fail(r, -EINVAL, "bad string_table entry");
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
		return rd_fail(r, -EINVAL, "not a pprof profile: its string table does not start with \"\"");
	if (pp->ntypes == 0)
		return rd_fail(r, -EINVAL, "not a pprof profile: no sample_type");
	for (size_t i = 0; i < 2 * pp->ntypes; i++)
		if (!pp_str_ok(pp, pp->types[i]))
			return rd_fail(r, -EINVAL, "a sample_type names string %" PRIu64 " of %zu",
				       pp->types[i], pp->nstrs);
	return 0;
}

static int pp_tables(struct pp *pp)
{
	struct rd *r = pp->r;
	pp->fns = calloc(pp->nfnmsgs + 1, sizeof(*pp->fns));
	pp->locs = calloc(pp->nlocmsgs + 1, sizeof(*pp->locs));
	pp->maps = calloc(pp->nmapmsgs + 1, sizeof(*pp->maps));
	if (!pp->fns || !pp->locs || !pp->maps)
		return -ENOMEM;
	for (size_t i = 0; i < pp->nfnmsgs; i++) {
		struct pp_fn *f = &pp->fns[i];
		uint64_t v[4]; /* id, name, system_name, filename */
		if (ct_pb_scalars(pp->fnmsgs[i], v, 4) < 0)
			return rd_fail(r, -EINVAL, "bad function entry");
		*f = (struct pp_fn){ v[0], v[1] ? v[1] : v[2], v[3] };
		if (!pp_str_ok(pp, f->name) || !pp_str_ok(pp, f->filename))
			return rd_fail(r, -EINVAL, "function %" PRIu64 " names a string beyond the table", f->id);
	}
	for (size_t i = 0; i < pp->nmapmsgs; i++) {
		uint64_t v[5]; /* id, memory_start, memory_limit, file_offset, filename */
		if (ct_pb_scalars(pp->mapmsgs[i], v, 5) < 0)
			return rd_fail(r, -EINVAL, "bad mapping entry");
		pp->maps[i] = (struct pp_map){ v[0], v[4] };
		if (!pp_str_ok(pp, pp->maps[i].filename))
			return rd_fail(r, -EINVAL, "mapping %" PRIu64 " names a string beyond the table", pp->maps[i].id);
	}
	for (size_t i = 0; i < pp->nlocmsgs; i++) {
		uint64_t id;
		if (ct_pb_scalars(pp->locmsgs[i], &id, 1) < 0)
			return rd_fail(r, -EINVAL, "bad location entry");
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
	struct rd *r = pp->r;
	struct ct_pb b = loc->msg;
	uint64_t lines[2 * 64], mapping_id = 0;
	size_t nlines = 0;
	size_t first = pp->nids;
	while (b.p < b.end) {
		struct ct_pb x;
		uint64_t field, v;
		int wt;
		if (ct_pb_next(&b, &field, &wt, &v, &x) < 0)
			return rd_fail(r, -EINVAL, "bad location %" PRIu64, loc->id);
		if (field == 2 && wt == 0)
			mapping_id = v;
		if (field != 4 || wt != 2)
			continue;
		if (nlines >= CT_ARRAY_SIZE(lines) / 2)
			return rd_fail(r, -EFBIG, "location %" PRIu64 " has more than %zu lines", loc->id,
				       CT_ARRAY_SIZE(lines) / 2);
		if (ct_pb_scalars(x, &lines[2 * nlines], 2) < 0) /* function_id, line */
			return rd_fail(r, -EINVAL, "bad line in location %" PRIu64, loc->id);
		nlines++;
	}
	if (ct_grow(&pp->ids, &pp->cap_ids, pp->nids + CT_MAX(nlines, 1), sizeof(*pp->ids)) < 0)
		return -ENOMEM;
	for (size_t i = nlines; i-- > 0;) {
		struct pp_fn key = { lines[2 * i], 0, 0 };
		const struct pp_fn *f = bsearch(&key, pp->fns, pp->nfnmsgs, sizeof(*pp->fns), by_fn_id);
		if (!f)
			return rd_fail(r, -EINVAL, "location %" PRIu64 " calls function %" PRIu64 ", which is not there",
				       loc->id, key.id);
		const struct pp_slice *name = &pp->strs[f->name], *file = &pp->strs[f->filename];
		int e = rd_frame(r, (const char *)name->p, name->len, i + 1 < nlines ? CT_PFRAME_INLINED : CT_PFRAME_NORMAL,
				 (const char *)file->p, file->len, (long)CT_MIN(lines[2 * i + 1], 0x7fffffffull),
				 &pp->ids[pp->nids]);
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
	struct rd *r = pp->r;
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
				e = rd_fail(r, -EINVAL, "bad sample %zu", s);
				break;
			}
			if (field == 1)
				e = ct_pb_ints(wt, v, &x, &locs, &nlocs, &cap_locs);
			else if (field == 2)
				e = ct_pb_ints(wt, v, &x, &vals, &nvals, &cap_vals);
			if (e == -EINVAL)
				e = rd_fail(r, -EINVAL, "bad sample %zu", s);
			if (field != 3 || wt != 2 || e)
				continue;
			uint64_t l[3]; /* key, str, num */
			if (ct_pb_scalars(x, l, 3) < 0) {
				e = rd_fail(r, -EINVAL, "bad label in sample %zu", s);
				break;
			}
			uint64_t key = l[0], str = l[1], num = l[2];
			if (!pp_str_ok(pp, key) || !pp_str_ok(pp, str) || key == 0) {
				e = rd_fail(r, -EINVAL, "a label of sample %zu names a string beyond the table", s);
				break;
			}
			if (str && pp_str_is(pp, key, "process")) {
				process = (int64_t)str;
				continue;
			}
			if (nlabels >= r->lim->max_labels) {
				e = rd_fail(r, -EFBIG, "a sample with more than %zu labels", r->lim->max_labels);
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
			e = rd_fail(r, -EINVAL, "sample %zu has %zu values for %zu sample types", s, nvals, pp->ntypes);
		for (size_t i = 0; e == 0 && i < nvals; i++)
			if (vals[i] > INT64_MAX)
				e = rd_fail(r, -EINVAL, "sample %zu has a negative value", s);
		r->n = 0;
		if (e == 0 && process > 0) {
			uint32_t id;
			e = rd_frame(r, (const char *)pp->strs[process].p, pp->strs[process].len, CT_PFRAME_ROOT,
				     NULL, 0, 0, &id);
			if (e == 0)
				e = rd_push(r, id);
		}
		for (size_t i = nlocs; e == 0 && i-- > 0;) {
			struct pp_loc key = { .id = locs[i] };
			struct pp_loc *loc = bsearch(&key, pp->locs, pp->nlocmsgs, sizeof(*pp->locs), by_loc_id);
			if (!loc) {
				e = rd_fail(r, -EINVAL, "sample %zu names location %" PRIu64 ", which is not there",
					    s, locs[i]);
				break;
			}
			if (loc->n == UINT32_MAX && (e = pp_location(pp, loc)) < 0)
				break;
			for (uint32_t k = 0; e == 0 && k < loc->n; k++)
				e = rd_push(r, pp->ids[loc->first + k]);
		}
		uint32_t set = 0;
		if (e == 0)
			e = ct_profile_labels(r->p, labels, nlabels, &set);
		if (e == 0 && (vals[ci] || (wi != SIZE_MAX && vals[wi])))
			e = rd_add(r, set, vals[ci], wi != SIZE_MAX ? vals[wi] : 0);
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

static int read_pprof(struct rd *r, const char *data, size_t len)
{
	int e = 0;
	struct ct_buf raw = CT_BUF_INIT;
	const uint8_t *p = (const uint8_t *)data;
	if (ct_gzip_magic(data, len)) {
		e = ct_gunzip(data, len, r->lim->max_bytes, &raw);
		if (e == -EFBIG)
			e = rd_fail(r, e, "decompresses to more than %zu MiB", r->lim->max_bytes >> 20);
		else if (e == -EINVAL || e == -ENODATA)
			e = rd_fail(r, -EINVAL, "bad gzip data (%s)", e == -ENODATA ? "truncated" : "corrupt");
		p = (const uint8_t *)raw.data;
		len = raw.len;
	} else if (len > r->lim->max_bytes) {
		e = rd_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_bytes >> 20);
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

/* ---- speedscope: https://www.speedscope.app/file-format-schema.json, sampled profiles ---- */

static struct json_object *js_get(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* A weight in the profile's unit, as nanoseconds (scale > 0) or as a plain count (scale 0). */
static int js_weight(struct json_object *v, double scale, uint64_t *ret)
{
	if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return -EINVAL;
	double d = json_object_get_double(v) * (scale > 0 ? scale : 1);
	if (!(d >= 0) || d > 9e18)
		return -EINVAL;
	*ret = (uint64_t)(d + 0.5);
	return 0;
}

static int ss_profile(struct rd *r, struct json_object *prof, size_t pi, const uint32_t *frame_ids, size_t nframes)
{
	const char *type = json_object_get_string(js_get(prof, "type", json_type_string));
	if (!type || strcmp(type, "sampled") != 0)
		return rd_fail(r, -EINVAL, "profile %zu is %s; only sampled speedscope profiles can be merged",
			       pi, type ? type : "of no known type");
	const char *unit = json_object_get_string(js_get(prof, "unit", json_type_string));
	static const struct { const char *name; double scale; } units[] = {
		{ "nanoseconds", 1 }, { "microseconds", 1e3 }, { "milliseconds", 1e6 }, { "seconds", 1e9 },
		{ "none", 0 }, { "bytes", 0 },
	};
	double scale = -1;
	for (size_t i = 0; unit && i < CT_ARRAY_SIZE(units); i++)
		if (strcmp(unit, units[i].name) == 0)
			scale = units[i].scale;
	if (scale < 0)
		return rd_fail(r, -EINVAL, "profile %zu has unit '%s'", pi, unit ? unit : "(none)");
	struct json_object *samples = js_get(prof, "samples", json_type_array);
	struct json_object *weights = js_get(prof, "weights", json_type_array);
	/* ctrace's own files say how many samples each stack stands for */
	struct json_object *counts = js_get(prof, "ctraceCounts", json_type_array);
	size_t n = samples ? json_object_array_length(samples) : 0;
	if (!samples || !weights || json_object_array_length(weights) != n)
		return rd_fail(r, -EINVAL, "profile %zu wants samples and weights of one length", pi);
	if (counts && json_object_array_length(counts) != n)
		counts = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *st = json_object_array_get_idx(samples, i);
		if (!json_object_is_type(st, json_type_array))
			return rd_fail(r, -EINVAL, "profile %zu: sample %zu is not an array", pi, i);
		uint64_t w, count = 1;
		if (js_weight(json_object_array_get_idx(weights, i), scale, &w) < 0)
			return rd_fail(r, -EINVAL, "profile %zu: weight %zu is not a number >= 0", pi, i);
		if (counts && js_weight(json_object_array_get_idx(counts, i), 0, &count) < 0)
			count = 1;
		if (scale == 0) { /* the weights are the counts */
			count = w;
			w = 0;
		}
		r->n = 0;
		size_t depth = json_object_array_length(st);
		for (size_t k = 0; k < depth; k++) {
			struct json_object *f = json_object_array_get_idx(st, k);
			int64_t idx = json_object_is_type(f, json_type_int) ? json_object_get_int64(f) : -1;
			if (idx < 0 || (uint64_t)idx >= nframes)
				return rd_fail(r, -EINVAL, "profile %zu: sample %zu names frame %s of %zu", pi, i,
					       json_object_to_json_string(f), nframes);
			int e = rd_push(r, frame_ids[idx]);
			if (e < 0)
				return e;
		}
		if (count || w) {
			int e = rd_add(r, 0, count, w);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

static int read_speedscope(struct rd *r, const char *data, size_t len)
{
	int e = 0;
	if (len > r->lim->max_json || len > INT32_MAX)
		return rd_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_json >> 20);
	struct json_tokener *tok = json_tokener_new_ex(16);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *doc = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	uint32_t *ids = NULL;
	if (!doc || je != json_tokener_success) {
		e = rd_fail(r, -EINVAL, "bad JSON: %s", je == json_tokener_continue ? "it ends early" :
			    json_tokener_error_desc(je));
		goto out;
	}
	const char *schema = json_object_get_string(js_get(doc, "$schema", json_type_string));
	if (!schema || strcmp(schema, speedscope_schema) != 0) {
		e = rd_fail(r, -EINVAL, "JSON, but not a speedscope file (no $schema %s)", speedscope_schema);
		goto out;
	}
	struct json_object *frames = js_get(js_get(doc, "shared", json_type_object), "frames", json_type_array);
	struct json_object *profiles = js_get(doc, "profiles", json_type_array);
	if (!frames || !profiles) {
		e = rd_fail(r, -EINVAL, "a speedscope file without shared.frames or profiles");
		goto out;
	}
	size_t nframes = json_object_array_length(frames);
	ids = calloc(nframes + 1, sizeof(*ids));
	if (!ids) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; e == 0 && i < nframes; i++) {
		struct json_object *f = json_object_array_get_idx(frames, i);
		struct json_object *name = js_get(f, "name", json_type_string);
		struct json_object *file = js_get(f, "file", json_type_string);
		struct json_object *line = js_get(f, "line", json_type_int);
		if (!name) {
			e = rd_fail(r, -EINVAL, "frame %zu has no name", i);
			break;
		}
		e = rd_frame(r, json_object_get_string(name), (size_t)json_object_get_string_len(name),
			     CT_PFRAME_NORMAL, file ? json_object_get_string(file) : NULL,
			     file ? (size_t)json_object_get_string_len(file) : 0,
			     line ? (long)CT_MIN(CT_MAX(json_object_get_int64(line), 0), 0x7fffffff) : 0, &ids[i]);
	}
	size_t nprof = json_object_array_length(profiles);
	for (size_t i = 0; e == 0 && i < nprof; i++)
		e = ss_profile(r, json_object_array_get_idx(profiles, i), i, ids, nframes);
	if (e == 0 && r->p->nstacks == 0)
		e = rd_fail(r, -EINVAL, "no samples in it (an empty profile?)");
out:
	free(ids);
	json_object_put(doc);
	json_tokener_free(tok);
	return e;
}

/* One reader with its state set up and torn down: the profile is handed over only on success. */
static int read_with(int (*fn)(struct rd *r, const char *data, size_t len), const void *data, size_t len,
		     const struct ct_pread_limits *lim, struct ct_profile **ret, struct ct_pread_error *err)
{
	struct rd r;
	int e = rd_init(&r, lim, err);
	if (e == 0)
		e = fn(&r, data, len);
	return rd_done(&r, e, ret);
}

int ct_pread_folded(const char *data, size_t len, const struct ct_pread_limits *lim,
		    struct ct_profile **ret, struct ct_pread_error *err)
{
	return read_with(read_folded, data, len, lim, ret, err);
}

int ct_pread_pprof(const void *data, size_t len, const struct ct_pread_limits *lim,
		   struct ct_profile **ret, struct ct_pread_error *err)
{
	return read_with(read_pprof, data, len, lim, ret, err);
}

int ct_pread_speedscope(const char *data, size_t len, const struct ct_pread_limits *lim,
			struct ct_profile **ret, struct ct_pread_error *err)
{
	return read_with(read_speedscope, data, len, lim, ret, err);
}

int ct_pread(const void *data, size_t len, const struct ct_pread_limits *lim, enum ct_pformat *ret_fmt,
	     struct ct_profile **ret, struct ct_pread_error *err)
{
	enum ct_pformat f = ct_pformat_detect(data, len);
	*ret_fmt = f;
	switch (f) {
	case CT_PFMT_PPROF:
		return ct_pread_pprof(data, len, lim, ret, err);
	case CT_PFMT_SPEEDSCOPE:
		return ct_pread_speedscope(data, len, lim, ret, err);
	default:
		return ct_pread_folded(data, len, lim, ret, err);
	}
}
