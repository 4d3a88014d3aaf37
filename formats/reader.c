/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/folded.h"
#include "lib/banned.h"

void ct_pread_limits_default(struct ct_pread_limits *l)
{
	l->max_bytes = (size_t)256 << 20;
	l->max_json = (size_t)64 << 20;
	l->max_depth = 65536;
	l->max_frames_total = (size_t)64 << 20;
	l->max_labels = 64;
}

int ct_preader_fail(struct ct_preader *r, int code, const char *fmt, ...)
{
	if (!r->err->msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int reader_init(struct ct_preader *r, const struct ct_pread_limits *lim, struct ct_pread_error *err)
{
	memset(r, 0, sizeof(*r));
	memset(err, 0, sizeof(*err));
	r->lim = lim;
	r->err = err;
	if (ct_profile_new(&r->p) < 0)
		return ct_preader_fail(r, -ENOMEM, "out of memory");
	return 0;
}

/* Hands the profile over on success; frees everything. */
static int reader_done(struct ct_preader *r, int code, struct ct_profile **ret)
{
	if (code == 0 && (r->name.err || r->file.err))
		code = ct_preader_fail(r, -ENOMEM, "out of memory");
	if (code == 0) {
		*ret = r->p;
		r->p = NULL;
	} else if (code == -ENOMEM) {
		ct_preader_fail(r, code, "out of memory");
	}
	ct_profile_free(r->p);
	ct_buf_free(&r->name);
	ct_buf_free(&r->file);
	free(r->stack);
	return code;
}

int ct_preader_frame(struct ct_preader *r, const char *name, size_t len, enum ct_pframe_kind kind,
		     const char *file, size_t file_len, long line, uint32_t *ret_id)
{
	if (kind != CT_PFRAME_ROOT)
		kind = ct_folded_kind(name, &len, kind);
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

int ct_preader_push(struct ct_preader *r, uint32_t id)
{
	if (r->n >= r->lim->max_depth)
		return ct_preader_fail(r, -EFBIG, "a stack deeper than %zu frames", r->lim->max_depth);
	if (ct_grow(&r->stack, &r->cap, r->n + 1, sizeof(*r->stack)) < 0)
		return -ENOMEM;
	r->stack[r->n++] = id;
	return 0;
}

int ct_preader_add(struct ct_preader *r, uint32_t labels, uint64_t count, uint64_t weight)
{
	size_t before = r->p->nstacks;
	if (r->n == 0) {
		uint32_t id;
		int e = ct_profile_frame_named(r->p, "[unknown]", CT_PFRAME_NORMAL, &id);
		if (e < 0 || (e = ct_preader_push(r, id)) < 0)
						  return e;
	}
	int e = ct_profile_add_labeled(r->p, r->stack, r->n, labels, count, weight);
	if (e == -EOVERFLOW)
		return ct_preader_fail(r, -EINVAL, "the sample counts add up beyond 2^64");
	if (e < 0)
		return e;
	if (r->p->nstacks > before) {
		r->frames_total += r->n;
		if (r->frames_total > r->lim->max_frames_total)
			return ct_preader_fail(r, -EFBIG, "more than %zu frames over all stacks",
					       r->lim->max_frames_total);
	}
	return 0;
}

int ct_preader_run(int (*fn)(struct ct_preader *r, const char *data, size_t len), const void *data, size_t len,
		   const struct ct_pread_limits *lim, struct ct_profile **ret, struct ct_pread_error *err)
{
	struct ct_preader r;
	int e = reader_init(&r, lim, err);
	if (e == 0)
		e = fn(&r, data, len);
	return reader_done(&r, e, ret);
}
