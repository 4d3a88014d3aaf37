/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "lib/banned.h"

void ct_json_init(struct ct_json *j, struct ct_buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void pre_value(struct ct_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && j->depth <= CT_JSON_MAX_DEPTH) {
		if (j->need_comma[j->depth - 1])
			ct_buf_putc(j->out, ',');
		j->need_comma[j->depth - 1] = true;
	}
}

static void open(struct ct_json *j, char c)
{
	pre_value(j);
	ct_buf_putc(j->out, c);
	if (j->depth < CT_JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void close_(struct ct_json *j, char c)
{
	ct_buf_putc(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void ct_json_obj_begin(struct ct_json *j) { open(j, '{'); }
void ct_json_obj_end(struct ct_json *j) { close_(j, '}'); }
void ct_json_arr_begin(struct ct_json *j) { open(j, '['); }
void ct_json_arr_end(struct ct_json *j) { close_(j, ']'); }

void ct_json_key(struct ct_json *j, const char *key)
{
	pre_value(j);
	ct_json_escape(j->out, key);
	ct_buf_putc(j->out, ':');
	j->after_key = true;
}

/* Length of a valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void ct_json_escape(struct ct_buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	ct_buf_putc(out, '"');
	while (*s) {
		/* the common case, a run of printable ASCII, goes in with one append */
		const unsigned char *run = s;
		while (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\')
			s++;
		if (s > run)
			ct_buf_append(out, run, (size_t)(s - run));
		if (!*s)
			break;
		unsigned char c = *s;
		switch (c) {
		case '"': ct_buf_puts(out, "\\\""); s++; continue;
		case '\\': ct_buf_puts(out, "\\\\"); s++; continue;
		case '\n': ct_buf_puts(out, "\\n"); s++; continue;
		case '\r': ct_buf_puts(out, "\\r"); s++; continue;
		case '\t': ct_buf_puts(out, "\\t"); s++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			ct_buf_printf(out, "\\u%04x", c);
			s++;
			continue;
		}
		size_t n = utf8_len(s);
		if (n == 0) {
			ct_buf_puts(out, "\\ufffd");
			s++;
			continue;
		}
		ct_buf_append(out, s, n);
		s += n;
	}
	ct_buf_putc(out, '"');
}

void ct_json_str(struct ct_json *j, const char *s)
{
	pre_value(j);
	if (!s)
		ct_buf_puts(j->out, "null");
	else
		ct_json_escape(j->out, s);
}

void ct_json_int(struct ct_json *j, int64_t v)
{
	pre_value(j);
	ct_buf_printf(j->out, "%" PRId64, v);
}

void ct_json_uint(struct ct_json *j, uint64_t v)
{
	pre_value(j);
	ct_buf_printf(j->out, "%" PRIu64, v);
}

void ct_json_double(struct ct_json *j, double v, int decimals)
{
	pre_value(j);
	if (!isfinite(v))
		ct_buf_puts(j->out, "null");
	else
		ct_buf_printf(j->out, "%.*f", decimals, v);
}

void ct_json_bool(struct ct_json *j, bool v)
{
	pre_value(j);
	ct_buf_puts(j->out, v ? "true" : "false");
}

void ct_json_null(struct ct_json *j)
{
	pre_value(j);
	ct_buf_puts(j->out, "null");
}

void ct_json_hex(struct ct_json *j, uint64_t v)
{
	pre_value(j);
	ct_buf_printf(j->out, "\"0x%" PRIx64 "\"", v);
}
