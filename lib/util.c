/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "lib/banned.h"

int ct_buf_reserve(struct ct_buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (extra > SIZE_MAX / 2 - b->len)
		return b->err = -ENOMEM;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d)
		return b->err = -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

int ct_buf_append(struct ct_buf *b, const void *p, size_t n)
{
	int r = ct_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ct_buf_puts(struct ct_buf *b, const char *s)
{
	return ct_buf_append(b, s, strlen(s));
}

int ct_buf_putc(struct ct_buf *b, char c)
{
	return ct_buf_append(b, &c, 1);
}

int ct_buf_vprintf(struct ct_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	char small[256];

	va_copy(aq, ap);
	int n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return ct_buf_append(b, small, (size_t)n);
	int r = ct_buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int ct_buf_hex(struct ct_buf *b, const void *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = bytes;
	for (size_t i = 0; i < n; i++) {
		char two[2] = { digits[p[i] >> 4], digits[p[i] & 0xf] };
		if (ct_buf_append(b, two, 2) < 0)
			return b->err;
	}
	return b->err;
}

int ct_buf_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *ct_strf(const char *fmt, ...)
{
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.err) {
		ct_buf_free(&b);
		return NULL;
	}
	return ct_buf_steal(&b);
}

const char *ct_buf_cstr(struct ct_buf *b)
{
	if (!b->data && ct_buf_reserve(b, 0) < 0)
		return "";
	b->data[b->len] = '\0';
	return b->data;
}

char *ct_buf_steal(struct ct_buf *b)
{
	if (!b->data && ct_buf_reserve(b, 0) < 0)
		return NULL;
	char *d = b->data;
	d[b->len] = '\0';
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
	return d;
}

void ct_buf_reset(struct ct_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

void ct_buf_free(struct ct_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

int ct_read_fileat(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t cap = max < 4096 ? max + 1 : 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			size_t ncap = CT_MIN(cap * 2, max + 2);
			char *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int ct_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return ct_read_fileat(AT_FDCWD, path, max, ret, ret_len);
}

int ct_parse_long(const char *s, long min, long max, long *ret)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int ct_parse_double(const char *s, double min, double max, double *ret)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0' || v != v)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ct_now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t ct_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

char *ct_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *ct_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *ct_rstrip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool ct_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ct_grow(void *p, size_t *cap, size_t n, size_t sz)
{
	void **pp = p;
	if (n <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		ncap *= 2;
	}
	void *np = realloc(*pp, ncap * sz);
	if (!np)
		return -ENOMEM;
	*pp = np;
	*cap = ncap;
	return 0;
}

const char *ct_basename(const char *path)
{
	if (!path)
		return NULL;
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}
