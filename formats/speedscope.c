/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/speedscope.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "formats/folded.h"
#include "lib/json.h"
#include "lib/banned.h"

bool ct_speedscope_sniff(const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t i = 0;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3; /* a UTF-8 byte order mark */
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i < len && s[i] == '{' && memmem(s, len, "\"$schema\"", 9) && memmem(s, len, "speedscope", 10);
}

/* ---- reading ---- */

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

static int ss_profile(struct ct_preader *r, struct json_object *prof, size_t pi, const uint32_t *frame_ids, size_t nframes)
{
	const char *type = json_object_get_string(js_get(prof, "type", json_type_string));
	if (!type || strcmp(type, "sampled") != 0)
		return ct_preader_fail(r, -EINVAL, "profile %zu is %s; only sampled speedscope profiles can be "
				       "merged", pi, type ? type : "of no known type");
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
		return ct_preader_fail(r, -EINVAL, "profile %zu has unit '%s'", pi, unit ? unit : "(none)");
	struct json_object *samples = js_get(prof, "samples", json_type_array);
	struct json_object *weights = js_get(prof, "weights", json_type_array);
	/* ctrace's own files say how many samples each stack stands for */
	struct json_object *counts = js_get(prof, "ctraceCounts", json_type_array);
	size_t n = samples ? json_object_array_length(samples) : 0;
	if (!samples || !weights || json_object_array_length(weights) != n)
		return ct_preader_fail(r, -EINVAL, "profile %zu wants samples and weights of one length", pi);
	if (counts && json_object_array_length(counts) != n)
		counts = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *st = json_object_array_get_idx(samples, i);
		if (!json_object_is_type(st, json_type_array))
			return ct_preader_fail(r, -EINVAL, "profile %zu: sample %zu is not an array", pi, i);
		uint64_t w, count = 1;
		if (js_weight(json_object_array_get_idx(weights, i), scale, &w) < 0)
			return ct_preader_fail(r, -EINVAL, "profile %zu: weight %zu is not a number >= 0", pi, i);
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
				return ct_preader_fail(r, -EINVAL, "profile %zu: sample %zu names frame %s of %zu", pi, i,
						       json_object_to_json_string(f), nframes);
			int e = ct_preader_push(r, frame_ids[idx]);
			if (e < 0)
				return e;
		}
		if (count || w) {
			int e = ct_preader_add(r, 0, count, w);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

static int read_speedscope(struct ct_preader *r, const char *data, size_t len)
{
	int e = 0;
	if (len > r->lim->max_json || len > INT32_MAX)
		return ct_preader_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_json >> 20);
	struct json_tokener *tok = json_tokener_new_ex(16);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *doc = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	uint32_t *ids = NULL;
	if (!doc || je != json_tokener_success) {
		e = ct_preader_fail(r, -EINVAL, "bad JSON: %s", je == json_tokener_continue ? "it ends early" :
				    json_tokener_error_desc(je));
		goto out;
	}
	const char *schema = json_object_get_string(js_get(doc, "$schema", json_type_string));
	if (!schema || strcmp(schema, CT_SPEEDSCOPE_SCHEMA) != 0) {
		e = ct_preader_fail(r, -EINVAL, "JSON, but not a speedscope file (no $schema %s)", CT_SPEEDSCOPE_SCHEMA);
		goto out;
	}
	struct json_object *frames = js_get(js_get(doc, "shared", json_type_object), "frames", json_type_array);
	struct json_object *profiles = js_get(doc, "profiles", json_type_array);
	if (!frames || !profiles) {
		e = ct_preader_fail(r, -EINVAL, "a speedscope file without shared.frames or profiles");
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
			e = ct_preader_fail(r, -EINVAL, "frame %zu has no name", i);
			break;
		}
		e = ct_preader_frame(r, json_object_get_string(name), (size_t)json_object_get_string_len(name),
				     CT_PFRAME_NORMAL, file ? json_object_get_string(file) : NULL,
				     file ? (size_t)json_object_get_string_len(file) : 0,
				     line ? (long)CT_MIN(CT_MAX(json_object_get_int64(line), 0), 0x7fffffff) : 0, &ids[i]);
	}
	size_t nprof = json_object_array_length(profiles);
	for (size_t i = 0; e == 0 && i < nprof; i++)
		e = ss_profile(r, json_object_array_get_idx(profiles, i), i, ids, nframes);
	if (e == 0 && r->p->nstacks == 0)
		e = ct_preader_fail(r, -EINVAL, "no samples in it (an empty profile?)");
out:
	free(ids);
	json_object_put(doc);
	json_tokener_free(tok);
	return e;
}

int ct_pread_speedscope(const char *data, size_t len, const struct ct_pread_limits *lim,
			struct ct_profile **ret, struct ct_pread_error *err)
{
	return ct_preader_run(read_speedscope, data, len, lim, ret, err);
}

/* ---- writing ---- */

int ct_pwrite_speedscope(const struct ct_profile *p, const char *title, struct ct_buf *out)
{
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "$schema");
	ct_json_str(&j, CT_SPEEDSCOPE_SCHEMA);
	ct_json_key(&j, "exporter");
	ct_json_str(&j, "ctrace");
	ct_json_key(&j, "name");
	ct_json_str(&j, title);
	ct_json_key(&j, "activeProfileIndex");
	ct_json_int(&j, 0);
	ct_json_key(&j, "shared");
	ct_json_obj_begin(&j);
	ct_json_key(&j, "frames");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct ct_pframe *f = &p->frames[i];
		struct ct_buf name = CT_BUF_INIT;
		ct_buf_printf(&name, "%s%s", f->name, ct_folded_suffix(f->kind));
		ct_json_obj_begin(&j);
		ct_json_key(&j, "name");
		ct_json_str(&j, ct_buf_cstr(&name));
		ct_buf_free(&name);
		if (f->file) {
			ct_json_key(&j, "file");
			ct_json_str(&j, f->file);
			if (f->line > 0) {
				ct_json_key(&j, "line");
				ct_json_int(&j, f->line);
			}
		} else if (f->module) {
			ct_json_key(&j, "file");
			ct_json_str(&j, f->module);
		}
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_json_key(&j, "profiles");
	ct_json_arr_begin(&j);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "type");
	ct_json_str(&j, "sampled");
	ct_json_key(&j, "name");
	ct_json_str(&j, title);
	/* without times (a profile merged from folded stacks), the weights are sample counts */
	bool timed = p->total_weight || !p->total;
	ct_json_key(&j, "unit");
	ct_json_str(&j, p->alloc ? "bytes" : timed ? "nanoseconds" : "none");
	ct_json_key(&j, "startValue");
	ct_json_uint(&j, 0);
	ct_json_key(&j, "endValue");
	ct_json_uint(&j, timed ? p->total_weight : p->total);
	ct_json_key(&j, "samples");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++) {
		ct_json_arr_begin(&j);
		for (uint32_t k = 0; k < p->stacks[i].n; k++)
			ct_json_uint(&j, p->stacks[i].frames[k]);
		ct_json_arr_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_key(&j, "weights");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++)
		ct_json_uint(&j, timed ? p->stacks[i].weight : p->stacks[i].count);
	ct_json_arr_end(&j);
	/* the samples each stack stands for (speedscope ignores it; ctrace merge reads it back) */
	ct_json_key(&j, "ctraceCounts");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++)
		ct_json_uint(&j, p->stacks[i].count);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
	return out->err;
}
