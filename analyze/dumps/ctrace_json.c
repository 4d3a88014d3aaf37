/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's own JSON (--backtraces --format json): one document per snapshot, several documents
 * in a row, an array of them, or an object with a "snapshots" array. Parsed with json-c, whose
 * tokener is fed chunk by chunk with a nesting limit; unknown keys are ignored, known keys of the
 * wrong type are errors. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

#define JSON_MAX_DEPTH 16
/* json-c's object tree takes several times the text: one document at a time, at most this big */
#define JSON_MAX_DOC ((size_t)64 << 20)

static struct json_object *get(struct json_object *o, const char *key, enum json_type type, bool *bad)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, type)) {
		*bad = true;
		return NULL;
	}
	return v;
}

static int set_str(struct ct_dump_ctx *c, struct json_object *o, const char *key, char **dst, bool *bad)
{
	struct json_object *v = get(o, key, json_type_string, bad);
	if (!v)
		return 0;
	return ct_dump_set(c, dst, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

static bool get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret, bool *bad)
{
	struct json_object *v = get(o, key, json_type_int, bad);
	if (!v)
		return false;
	int64_t x = json_object_get_int64(v);
	if (x < min || x > max) {
		*bad = true;
		return false;
	}
	*ret = x;
	return true;
}

static bool get_bool(struct json_object *o, const char *key, bool *bad)
{
	struct json_object *v = get(o, key, json_type_boolean, bad);
	return v && json_object_get_boolean(v);
}

/* "0x…" strings (what ctrace writes) or plain integers */
static bool get_addr(struct json_object *o, const char *key, uint64_t *ret, bool *bad)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*ret = (uint64_t)json_object_get_int64(v);
		return true;
	}
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!s || !ct_dump_hex(&s, ret) || *s) {
		*bad = true;
		return false;
	}
	return true;
}

static int frame_from(struct ct_dump_ctx *c, struct json_object *fo, const char *where)
{
	bool bad = false;
	int64_t v;
	if (!json_object_is_type(fo, json_type_object))
		return ct_dump_fail(c, "%s: a frame is not an object", where);
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	get_addr(fo, "pc", &f->pc, &bad);
	if ((err = set_str(c, fo, "function", &f->function, &bad)) < 0 ||
	    (err = set_str(c, fo, "module", &f->module, &bad)) < 0 ||
	    (err = set_str(c, fo, "file", &f->file, &bad)) < 0)
		return err;
	if (get_int(fo, "offset", 0, INT64_MAX, &v, &bad))
		f->offset = (uint64_t)v;
	if (get_int(fo, "line", 0, INT32_MAX, &v, &bad))
		f->line = (int)v;
	f->inlined = get_bool(fo, "inlined", &bad);
	f->jit = get_bool(fo, "jit", &bad);
	f->deleted = get_bool(fo, "deleted", &bad);
	f->kernel = get_bool(fo, "kernel", &bad);
	struct json_object *lang = get(fo, "lang", json_type_string, &bad);
	f->python = lang && strcmp(json_object_get_string(lang), "python") == 0;
	f->ruby = lang && strcmp(json_object_get_string(lang), "ruby") == 0;
	if (bad)
		return ct_dump_fail(c, "%s: a frame has a field of the wrong type", where);
	return 0;
}

static int thread_from(struct ct_dump_ctx *c, struct json_object *to, const char *where)
{
	bool bad = false;
	int64_t v;
	int err;
	if (!json_object_is_type(to, json_type_object))
		return ct_dump_fail(c, "%s: a thread is not an object", where);
	if (!get_int(to, "tid", 1, 0x7fffffff, &v, &bad))
		return ct_dump_fail(c, "%s: a thread without a valid \"tid\"", where);
	struct ct_thread *t = ct_dump_thread(c, (pid_t)v);
	if (!t)
		return -CT_EBADDUMP;
	if ((err = set_str(c, to, "name", &t->name, &bad)) < 0 ||
	    (err = set_str(c, to, "waiting_on", &t->waiting_on, &bad)) < 0 ||
	    (err = set_str(c, to, "wchan", &t->wchan, &bad)) < 0 ||
	    (err = set_str(c, to, "truncated", &t->unwind_error, &bad)) < 0 ||
	    (err = set_str(c, to, "error", &t->error, &bad)) < 0 ||
	    (err = set_str(c, to, "lock_waiting", &t->lock_waiting, &bad)) < 0)
		return err;
	struct json_object *st = get(to, "state", json_type_string, &bad);
	if (st && json_object_get_string_len(st) == 1)
		t->state = json_object_get_string(st)[0];
	struct json_object *sc = get(to, "syscall", json_type_object, &bad);
	if (sc && get_int(sc, "nr", 0, 4095, &v, &bad)) {
		t->syscall_nr = v;
		struct json_object *args = get(sc, "args", json_type_array, &bad);
		for (size_t i = 0; args && i < 6 && i < json_object_array_length(args); i++) {
			struct json_object *a = json_object_array_get_idx(args, i);
			const char *s = json_object_is_type(a, json_type_string) ? json_object_get_string(a) : "";
			if (!ct_dump_hex(&s, &t->syscall_args[i]))
				bad = true;
		}
	} else if (!sc && t->state == 'R') {
		t->syscall_nr = CT_SYSCALL_NONE;
	}
	if (get_bool(to, "passive", &bad))
		t->flags |= CT_THREAD_PASSIVE;
	if (get_bool(to, "sampled", &bad))
		t->flags |= CT_THREAD_PASSIVE | CT_THREAD_SAMPLED;
	if (get_bool(to, "kernel_regs", &bad))
		t->flags |= CT_THREAD_PASSIVE | CT_THREAD_KREGS;
	if (get_bool(to, "job_stopped", &bad))
		t->flags |= CT_THREAD_GROUP_STOPPED;
	if (get_bool(to, "gone", &bad))
		t->flags |= CT_THREAD_GONE;
	struct json_object *gil = get(to, "gil", json_type_string, &bad);
	if (gil && strcmp(json_object_get_string(gil), "waiting") == 0)
		t->flags |= CT_THREAD_GIL_WAITING;
	else if (gil && strcmp(json_object_get_string(gil), "holder") == 0)
		t->flags |= CT_THREAD_GIL_HOLDER;
	struct json_object *held = get(to, "locks_held", json_type_array, &bad);
	size_t nheld = held ? CT_MIN(json_object_array_length(held), (size_t)4096) : 0;
	if (nheld) {
		if (!(t->locks_held = calloc(nheld, sizeof(*t->locks_held))))
			return ct_dump_fail(c, "out of memory");
		for (size_t i = 0; i < nheld; i++) {
			struct json_object *h = json_object_array_get_idx(held, i);
			if (!json_object_is_type(h, json_type_string)) {
				bad = true;
				break;
			}
			if ((err = ct_dump_set(c, &t->locks_held[t->nlocks_held], json_object_get_string(h),
					       (size_t)json_object_get_string_len(h))) < 0)
				return err;
			t->nlocks_held++;
		}
	}
	if (bad)
		return ct_dump_fail(c, "%s: thread %d has a field of the wrong type", where, (int)t->tid);
	struct json_object *frames = get(to, "frames", json_type_array, &bad);
	if (bad)
		return ct_dump_fail(c, "%s: \"frames\" of thread %d is not an array", where, (int)t->tid);
	for (size_t i = 0; frames && i < json_object_array_length(frames); i++)
		if ((err = frame_from(c, json_object_array_get_idx(frames, i), where)) < 0)
			return err;
	return 0;
}

static int snapshot_from(struct ct_dump_ctx *c, struct json_object *o, const char *where)
{
	bool bad = false;
	int64_t v;
	int err;
	if (!json_object_is_type(o, json_type_object))
		return ct_dump_fail(c, "%s: a snapshot is not an object", where);
	struct json_object *snaps = get(o, "snapshots", json_type_array, &bad);
	if (snaps) {
		for (size_t i = 0; i < json_object_array_length(snaps); i++)
			if ((err = snapshot_from(c, json_object_array_get_idx(snaps, i), where)) < 0)
				return err;
		return 0;
	}
	struct json_object *report;
	if (json_object_object_get_ex(o, "groups", &report) || json_object_object_get_ex(o, "summary", &report))
		return ct_dump_fail(c, "%s: a ctrace --threads report, not a dump: give analyze the output "
				       "of --backtraces --format json", where);
	struct json_object *threads = get(o, "threads", json_type_array, &bad);
	if (!threads)
		return ct_dump_fail(c, "%s: no \"threads\" array (not ctrace --backtraces --format json "
				       "output)", where);
	struct ct_snapshot *s = ct_dump_snapshot(c);
	if (!s)
		return -CT_EBADDUMP;
	if (get_int(o, "pid", 0, 0x7fffffff, &v, &bad))
		s->pid = (pid_t)v;
	if ((err = set_str(c, o, "process", &s->comm, &bad)) < 0 || (err = set_str(c, o, "exe", &s->exe, &bad)) < 0)
		return err;
	if (get_int(o, "timestamp_ns", 0, INT64_MAX, &v, &bad))
		s->timestamp_ns = (uint64_t)v;
	if (bad)
		return ct_dump_fail(c, "%s: a field of the wrong type (pid, process, exe)", where);
	for (size_t i = 0; i < json_object_array_length(threads); i++)
		if ((err = thread_from(c, json_object_array_get_idx(threads, i), where)) < 0)
			return err;
	ct_dump_end_snapshot(c);
	return 0;
}

static int document(struct ct_dump_ctx *c, struct json_object *o)
{
	const char *where = "JSON document"; /* the error's line is where the document starts */
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			int err = snapshot_from(c, json_object_array_get_idx(o, i), where);
			if (err < 0)
				return err;
		}
		return 0;
	}
	return snapshot_from(c, o, where);
}

int ct_dump_json_feed(struct ct_dump_ctx *c, const char *data, size_t len)
{
	struct json_tokener *tok = c->json;
	if (!tok) {
		if (!(tok = json_tokener_new_ex(JSON_MAX_DEPTH)))
			return ct_dump_fail(c, "out of memory");
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS); /* ctrace writes strict JSON */
		c->json = tok;
	}
	while (len) {
		if (!c->json_in_doc) {
			size_t i = 0;
			for (; i < len && strchr(" \t\r\n", data[i]); i++)
				c->lineno += data[i] == '\n';
			data += i;
			len -= i;
			if (!len)
				return 0;
			c->json_start_line = c->lineno + 1;
			c->json_in_doc = true;
			c->json_doc_bytes = 0;
		}
		struct json_object *o = json_tokener_parse_ex(tok, data, (int)len);
		enum json_tokener_error e = json_tokener_get_error(tok);
		size_t used = json_tokener_get_parse_end(tok);
		if (used > len)
			used = len;
		for (size_t i = 0; i < used; i++)
			c->lineno += data[i] == '\n';
		c->res->lines = c->lineno;
		c->json_doc_bytes += used;
		if (c->json_doc_bytes > JSON_MAX_DOC) {
			c->lineno = c->json_start_line;
			return ct_dump_fail(c, "JSON document larger than %zu MiB", JSON_MAX_DOC >> 20);
		}
		if (e == json_tokener_continue)
			return 0;
		if (!o) {
			c->lineno++;
			return ct_dump_fail(c, "bad JSON: %s", json_tokener_error_desc(e));
		}
		c->json_in_doc = false;
		json_tokener_reset(tok);
		size_t end_line = c->lineno;
		c->lineno = c->json_start_line; /* errors name the line the document starts on */
		int err = document(c, o);
		c->lineno = end_line;
		json_object_put(o);
		if (err < 0)
			return err;
		data += used;
		len -= used;
	}
	return 0;
}

int ct_dump_json_finish(struct ct_dump_ctx *c)
{
	if (c->json_in_doc && c->res->nsnaps) { /* the last document is cut short: keep the others */
		c->res->truncated = true;
		return 0;
	}
	if (c->json_in_doc) {
		c->lineno = c->json_start_line;
		return ct_dump_fail(c, "truncated JSON document (it does not end)");
	}
	return 0;
}

void ct_dump_json_free(struct ct_dump_ctx *c)
{
	if (c->json)
		json_tokener_free(c->json);
	c->json = NULL;
}
