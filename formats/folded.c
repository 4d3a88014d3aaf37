/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/folded.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/banned.h"

const char *ct_folded_suffix(enum ct_pframe_kind k)
{
	switch (k) {
	case CT_PFRAME_INLINED: return "_[i]";
	case CT_PFRAME_JIT: return "_[j]";
	case CT_PFRAME_KERNEL: return "_[k]";
	default: return "";
	}
}

enum ct_pframe_kind ct_folded_kind(const char *s, size_t *len, enum ct_pframe_kind dflt)
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

uint64_t ct_folded_value(const struct ct_profile *p, const struct ct_pstack *s)
{
	return p->alloc ? s->weight : s->count;
}

/* A frame name as one folded field: no ';' (the separator) and no line breaks. */
static void folded_name(struct ct_buf *out, const struct ct_pframe *f)
{
	for (const char *s = f->name; *s; s++)
		ct_buf_putc(out, *s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s);
	ct_buf_puts(out, ct_folded_suffix(f->kind));
}

int ct_pwrite_folded(const struct ct_profile *p, struct ct_buf *out)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		for (uint32_t j = 0; j < s->n; j++) {
			if (j)
				ct_buf_putc(out, ';');
			folded_name(out, &p->frames[s->frames[j]]);
		}
		ct_buf_printf(out, " %" PRIu64 "\n", ct_folded_value(p, s));
	}
	return out->err;
}

static int read_folded(struct ct_preader *r, const char *data, size_t len)
{
	int e = 0;
	if (len > r->lim->max_bytes)
		return ct_preader_fail(r, -EFBIG, "larger than %zu MiB", r->lim->max_bytes >> 20);
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
			e = ct_preader_fail(r, -EINVAL, "binary data, not folded stacks (nor pprof or speedscope)");
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
				e = ct_preader_fail(r, -EINVAL, "a count too large");
				break;
			}
			count = count * 10 + digit;
		}
		if (e)
			break;
		if (sp == s || d == sp || d != le) {
			e = ct_preader_fail(r, -EINVAL, "not a folded stack: want 'frame;frame;... COUNT'");
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
			e = ct_preader_frame(r, f, (size_t)(fend - f), CT_PFRAME_NORMAL, NULL, 0, 0, &id);
			if (e == 0)
				e = ct_preader_push(r, id);
			if (!semi)
				break;
			f = semi + 1;
		}
		if (e == 0 && count)
			e = ct_preader_add(r, 0, count, 0);
		s = next;
	}
	if (e == 0) {
		r->err->line = 0;
		if (r->p->nstacks == 0)
			e = ct_preader_fail(r, -EINVAL, "no stacks in it (an empty profile?)");
	}
	return e;
}

int ct_pread_folded(const char *data, size_t len, const struct ct_pread_limits *lim,
		    struct ct_profile **ret, struct ct_pread_error *err)
{
	return ct_preader_run(read_folded, data, len, lim, ret, err);
}
