/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump reader: bounded line splitting, format detection, snapshot building helpers. */
#include "analyze/dumps/dumps.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

#define CT_DUMP_CHUNK (256u * 1024)

static const char *const format_names[CT_DUMP_FORMAT_COUNT] = {
	[CT_DUMP_UNKNOWN] = "unknown", [CT_DUMP_CTRACE_JSON] = "ctrace-json",
	[CT_DUMP_CTRACE_TEXT] = "ctrace-text", [CT_DUMP_GDB] = "gdb", [CT_DUMP_EUSTACK] = "eu-stack",
	[CT_DUMP_PYSPY] = "py-spy", [CT_DUMP_JSTACK] = "jstack",
};

const char *ct_dump_format_name(enum ct_dump_format f)
{
	return (unsigned)f < CT_DUMP_FORMAT_COUNT ? format_names[f] : "unknown";
}

void ct_dump_limits_default(struct ct_dump_limits *lim)
{
	lim->max_bytes = (size_t)1 << 30;
	lim->max_line = (size_t)1 << 20;
	lim->max_snapshots = 10000;
	lim->max_threads = (size_t)1 << 20;
	lim->max_frames = 65536;
}

/* ---- helpers for the parsers ---- */

int ct_dump_fail(struct ct_dump_ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (c->res->err_msg[0]) /* keep the first error */
		return -CT_EBADDUMP;
	va_start(ap, fmt);
	vsnprintf(c->res->err_msg, sizeof(c->res->err_msg), fmt, ap);
	va_end(ap);
	c->res->err_line = c->lineno;
	return -CT_EBADDUMP;
}

static int fail_errno(struct ct_dump_ctx *c, int err)
{
	if (!c->res->err_msg[0]) {
		snprintf(c->res->err_msg, sizeof(c->res->err_msg), "%s", ct_strerror(err));
		c->res->err_line = c->lineno;
	}
	return err;
}

struct ct_snapshot *ct_dump_snapshot(struct ct_dump_ctx *c)
{
	struct ct_dump_result *r = c->res;
	if (r->nsnaps >= c->lim.max_snapshots) {
		ct_dump_fail(c, "more than %zu dumps in one input", c->lim.max_snapshots);
		return NULL;
	}
	if (ct_grow(&r->snaps, &c->cap_snaps, r->nsnaps + 1, sizeof(*r->snaps)) < 0) {
		fail_errno(c, -ENOMEM);
		return NULL;
	}
	struct ct_snapshot *s = ct_snapshot_new();
	if (!s || !(s->source = ct_strdup(ct_dump_format_name(c->format)))) {
		ct_snapshot_free(s);
		fail_errno(c, -ENOMEM);
		return NULL;
	}
	r->snaps[r->nsnaps++] = s;
	c->cur = s;
	c->thread = NULL;
	return s;
}

void ct_dump_end_snapshot(struct ct_dump_ctx *c)
{
	c->cur = NULL;
	c->thread = NULL;
}

struct ct_thread *ct_dump_thread(struct ct_dump_ctx *c, pid_t tid)
{
	if (!c->cur && !ct_dump_snapshot(c))
		return NULL;
	if (c->cur->nthreads >= c->lim.max_threads) {
		ct_dump_fail(c, "more than %zu threads in one dump", c->lim.max_threads);
		return NULL;
	}
	struct ct_thread *t = ct_snapshot_add_thread(c->cur);
	if (!t) {
		fail_errno(c, -ENOMEM);
		return NULL;
	}
	t->tid = tid;
	c->thread = t;
	return t;
}

int ct_dump_frame(struct ct_dump_ctx *c, struct ct_frame **ret)
{
	*ret = NULL;
	if (!c->thread && !ct_dump_thread(c, 0))
		return -CT_EBADDUMP;
	struct ct_thread *t = c->thread;
	if (t->nframes >= c->lim.max_frames) {
		t->flags |= CT_THREAD_TRUNCATED;
		return 0;
	}
	struct ct_frame *f = ct_thread_add_frame(t);
	if (!f)
		return fail_errno(c, -ENOMEM);
	*ret = f;
	return 0;
}

int ct_dump_set(struct ct_dump_ctx *c, char **dst, const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return fail_errno(c, -ENOMEM);
	memcpy(d, s, n);
	d[n] = '\0';
	free(*dst);
	*dst = d;
	return 0;
}

const char *ct_dump_skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

bool ct_dump_hex(const char **s, uint64_t *ret)
{
	const char *p = *s;
	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X') || !isxdigit((unsigned char)p[2]))
		return false;
	p += 2;
	uint64_t v = 0;
	int digits = 0;
	for (; isxdigit((unsigned char)*p); p++, digits++) {
		int d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		v = (v << 4) | (uint64_t)d;
	}
	if (digits > 16)
		return false;
	*ret = v;
	*s = p;
	return true;
}

bool ct_dump_num(const char **s, uint64_t *ret)
{
	if (ct_dump_hex(s, ret))
		return true;
	const char *p = *s;
	if (!isdigit((unsigned char)*p))
		return false;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret = v;
	*s = p;
	return true;
}

bool ct_dump_file_line(const char *s, size_t n, size_t *ret_file_len, int *ret_line)
{
	/* FILE:LINE or FILE:LINE:COLUMN; the file part must not be empty */
	size_t end = n, colon[2], k = 0;
	for (int part = 0; part < 2; part++) {
		size_t i = end;
		while (i > 0 && isdigit((unsigned char)s[i - 1]))
			i--;
		if (i == end || i == 0 || s[i - 1] != ':' || end - i > 9)
			break;
		colon[k++] = i - 1;
		end = i - 1;
	}
	if (k == 0)
		return false;
	size_t c = colon[k - 1]; /* the first colon: FILE ends there */
	if (c == 0)
		return false;
	*ret_file_len = c;
	*ret_line = atoi(s + c + 1);
	return true;
}

/* ---- detection ---- */

static bool starts(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && memcmp(s, p, k) == 0;
}

static const char *after_num(const char *s)
{
	uint64_t v;
	return ct_dump_num(&s, &v) ? s : NULL;
}

enum ct_dump_format ct_dump_detect_line(const char *s, size_t n)
{
	const char *p;
	while (starts(s, n, "(gdb) ")) {
		s += 6;
		n -= 6;
	}
	/* not "\tat …" alone: Java exception traces in a log before a kill -3 dump look the same */
	if (starts(s, n, "Full thread dump ") || starts(s, n, "   java.lang.Thread.State: "))
		return CT_DUMP_JSTACK;
	if (s[0] == '"' && (strstr(s, " nid=") || strstr(s, " prio=")))
		return CT_DUMP_JSTACK;
	if (starts(s, n, "Python v") && isdigit((unsigned char)s[8]))
		return CT_DUMP_PYSPY;
	if (starts(s, n, "PID ") && (p = after_num(s + 4)) && starts(p, strlen(p), " - "))
		return CT_DUMP_EUSTACK;
	if (starts(s, n, "TID ") && (p = after_num(s + 4)) && p[0] == ':' && p[1] == '\0')
		return CT_DUMP_EUSTACK;
	if (starts(s, n, "Process ") && (p = after_num(s + 8))) {
		if (p[0] == ':' && p[1] == ' ')
			return CT_DUMP_PYSPY;
		if (p[0] == ' ' && p[1] == '(')
			return CT_DUMP_CTRACE_TEXT;
	}
	if (starts(s, n, "Thread ") && (p = after_num(s + 7))) {
		if (p[0] == ' ' && p[1] == '"') { /* ctrace: Thread 12 "name" S (sleeping) */
			for (const char *q = strchr(p + 2, '"'); q; q = strchr(q + 1, '"'))
				if ((q[1] == ' ' && q[2] && q[3] == ' ' && q[4] == '(') || (q[1] == ':' && q[2] == ' '))
					return CT_DUMP_CTRACE_TEXT;
			return CT_DUMP_UNKNOWN; /* gdb: Thread 1 "prog" received signal SIGSEGV */
		}
		if (p[0] == ' ' && p[1] == '(') {
			p += 2;
			if (starts(p, strlen(p), "Thread ") || starts(p, strlen(p), "LWP ") ||
			    starts(p, strlen(p), "process "))
				return CT_DUMP_GDB;
			while (islower((unsigned char)*p) || *p == '+')
				p++;
			if (*p == ')')
				return CT_DUMP_PYSPY;
		}
	}
	if (starts(s, n, "[New LWP ") || starts(s, n, "[New Thread ") || starts(s, n, "[Inferior "))
		return CT_DUMP_GDB;
	if (s[0] == '#' && (p = after_num(s + 1)) && *p == ' ') {
		p = ct_dump_skip_ws(p);
		uint64_t pc;
		if (ct_dump_hex(&p, &pc))
			return starts(p, strlen(p), " in ") ? CT_DUMP_GDB : CT_DUMP_EUSTACK;
		if (isalpha((unsigned char)*p) || *p == '_')
			return CT_DUMP_GDB;
	}
	return CT_DUMP_UNKNOWN;
}

/* ---- the reader ---- */

struct reader {
	struct ct_dump_ctx c;
	struct ct_buf carry; /* a line split across chunks */
	bool started, json;
	size_t total;
};

static int parse_line(struct reader *r, char *s, size_t n)
{
	struct ct_dump_ctx *c = &r->c;
	c->lineno++;
	c->res->lines = c->lineno;
	if (n > c->lim.max_line)
		return ct_dump_fail(c, "line longer than %zu bytes", c->lim.max_line);
	if (n && s[n - 1] == '\r')
		s[--n] = '\0';
	if (memchr(s, '\0', n))
		return ct_dump_fail(c, "binary data (a NUL byte): not a text dump");
	if (c->format == CT_DUMP_UNKNOWN) {
		c->format = ct_dump_detect_line(s, n);
		if (c->format == CT_DUMP_UNKNOWN) {
			ct_dump_jstack_preamble(c, s, n); /* timestamp, jcmd's "PID:" */
			return 0;
		}
		c->res->format = c->format;
	}
	switch (c->format) {
	case CT_DUMP_GDB: return ct_dump_gdb_line(c, s, n);
	case CT_DUMP_EUSTACK: return ct_dump_eustack_line(c, s, n);
	case CT_DUMP_CTRACE_TEXT: return ct_dump_ctext_line(c, s, n);
	case CT_DUMP_PYSPY: return ct_dump_pyspy_line(c, s, n);
	case CT_DUMP_JSTACK: return ct_dump_jstack_line(c, s, n);
	default: return 0;
	}
}

static int reader_feed(struct reader *r, char *data, size_t len)
{
	struct ct_dump_ctx *c = &r->c;
	r->total += len;
	c->res->bytes = r->total;
	if (r->total > c->lim.max_bytes) {
		snprintf(c->res->err_msg, sizeof(c->res->err_msg), "input larger than %zu MiB",
			 c->lim.max_bytes >> 20);
		return -EFBIG;
	}
	if (!r->started) {
		size_t i = 0;
		while (i < len && isspace((unsigned char)data[i]))
			i++;
		if (i == len) { /* all blank so far: keep the line count right */
			for (size_t k = 0; k < len; k++)
				c->lineno += data[k] == '\n';
			return 0;
		}
		r->started = true;
		size_t k = i + 1; /* "[{" or "[]" is JSON; "[New LWP 12]" (gdb) is not */
		while (k < len && isspace((unsigned char)data[k]))
			k++;
		if (data[i] == '{' || (data[i] == '[' && (k == len || data[k] == '{' || data[k] == ']'))) {
			r->json = true;
			c->format = c->res->format = CT_DUMP_CTRACE_JSON;
			for (size_t b = 0; b < i; b++)
				c->lineno += data[b] == '\n';
			return ct_dump_json_feed(c, data + i, len - i);
		}
	}
	if (r->json)
		return ct_dump_json_feed(c, data, len);
	size_t pos = 0;
	while (pos < len) {
		char *nl = memchr(data + pos, '\n', len - pos);
		size_t seg = nl ? (size_t)(nl - (data + pos)) : len - pos;
		if (r->carry.len + seg > c->lim.max_line) {
			c->lineno++;
			return ct_dump_fail(c, "line longer than %zu bytes", c->lim.max_line);
		}
		if (!nl) {
			if (ct_buf_append(&r->carry, data + pos, seg) < 0)
				return fail_errno(c, -ENOMEM);
			break;
		}
		int err;
		if (r->carry.len) {
			if (ct_buf_append(&r->carry, data + pos, seg) < 0)
				return fail_errno(c, -ENOMEM);
			err = parse_line(r, r->carry.data, r->carry.len);
			r->carry.len = 0;
		} else {
			*nl = '\0';
			err = parse_line(r, data + pos, seg);
		}
		if (err < 0)
			return err;
		pos += seg + 1;
	}
	return 0;
}

static int reader_finish(struct reader *r)
{
	struct ct_dump_ctx *c = &r->c;
	struct ct_dump_result *res = c->res;
	int err = 0;
	if (r->carry.len) { /* the last line had no newline */
		size_t n = r->carry.len;
		err = parse_line(r, (char *)ct_buf_cstr(&r->carry), n);
		r->carry.len = 0;
		if (err == -CT_EBADDUMP && res->nsnaps) {
			/* cut short (a dump copied while written, a full disk): keep what came before */
			res->truncated = true;
			res->err_msg[0] = '\0';
			res->err_line = 0;
			err = 0;
		}
	}
	if (err < 0)
		return err;
	if (!r->started)
		return ct_dump_fail(c, "the input is empty");
	switch (c->format) {
	case CT_DUMP_CTRACE_JSON: err = ct_dump_json_finish(c); break;
	case CT_DUMP_GDB: err = ct_dump_gdb_finish(c); break;
	case CT_DUMP_JSTACK: err = ct_dump_jstack_finish(c); break;
	case CT_DUMP_UNKNOWN:
		c->lineno = 1;
		return ct_dump_fail(c, "not a thread dump ctrace knows (gdb, eu-stack, pstack, jstack, "
				       "py-spy or ctrace output)");
	default: break;
	}
	if (err < 0)
		return err;
	/* drop dumps without threads (a gdb session that attached and printed nothing) */
	size_t k = 0;
	for (size_t i = 0; i < res->nsnaps; i++) {
		if (res->snaps[i]->nthreads)
			res->snaps[k++] = res->snaps[i];
		else
			ct_snapshot_free(res->snaps[i]);
	}
	res->nsnaps = k;
	for (size_t i = 0; i < k; i++) { /* the process name is the main thread's */
		struct ct_snapshot *s = res->snaps[i];
		for (size_t t = 0; !s->comm && s->pid && t < s->nthreads; t++)
			if (s->threads[t].tid == s->pid && s->threads[t].name &&
			    !(s->comm = ct_strdup(s->threads[t].name)))
				return fail_errno(c, -ENOMEM);
	}
	if (!k)
		return ct_dump_fail(c, "no thread found in this %s dump", ct_dump_format_name(c->format));
	return 0;
}

void ct_dump_result_free(struct ct_dump_result *res)
{
	for (size_t i = 0; i < res->nsnaps; i++)
		ct_snapshot_free(res->snaps[i]);
	free(res->snaps);
	res->snaps = NULL;
	res->nsnaps = 0;
}

struct ct_snapshot **ct_dump_result_steal(struct ct_dump_result *res, size_t *ret_n)
{
	struct ct_snapshot **s = res->snaps;
	*ret_n = res->nsnaps;
	res->snaps = NULL;
	res->nsnaps = 0;
	return s;
}

static void reader_init(struct reader *r, const struct ct_dump_limits *lim, struct ct_dump_result *res)
{
	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	if (lim)
		r->c.lim = *lim;
	else
		ct_dump_limits_default(&r->c.lim);
	r->c.res = res;
}

static int reader_done(struct reader *r, int err)
{
	if (!err)
		err = reader_finish(r);
	ct_buf_free(&r->carry);
	ct_dump_json_free(&r->c);
	ct_dump_tidset_free(r->c.tids);
	free(r->c.waited_obj);
	if (err < 0)
		ct_dump_result_free(r->c.res);
	return err < 0 ? err : 0;
}

int ct_dump_read_fd(int fd, const struct ct_dump_limits *lim, struct ct_dump_result *res)
{
	struct reader r;
	reader_init(&r, lim, res);
	char *buf = malloc(CT_DUMP_CHUNK);
	if (!buf)
		return reader_done(&r, fail_errno(&r.c, -ENOMEM));
	int err = 0;
	for (;;) {
		ssize_t n = read(fd, buf, CT_DUMP_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fail_errno(&r.c, -errno);
			break;
		}
		if (n == 0)
			break;
		err = reader_feed(&r, buf, (size_t)n);
		if (err < 0)
			break;
	}
	free(buf);
	return reader_done(&r, err);
}

int ct_dump_parse_mem(const char *data, size_t len, const struct ct_dump_limits *lim,
		      struct ct_dump_result *res)
{
	struct reader r;
	reader_init(&r, lim, res);
	/* reader_feed ends lines in place, so it gets a writable copy, one chunk at a time; a
	 * small input gets a buffer of its own size */
	char *buf = malloc(CT_MAX(CT_MIN(len, (size_t)CT_DUMP_CHUNK), (size_t)1));
	if (!buf)
		return reader_done(&r, fail_errno(&r.c, -ENOMEM));
	int err = 0;
	for (size_t off = 0; off < len && !err;) {
		size_t n = CT_MIN(len - off, (size_t)CT_DUMP_CHUNK);
		memcpy(buf, data + off, n);
		err = reader_feed(&r, buf, n);
		off += n;
	}
	free(buf);
	return reader_done(&r, err);
}
