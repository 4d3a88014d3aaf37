/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small shared helpers: growable buffers, bounded file reads, time, cleanup. */
#ifndef CT_UTIL_H
#define CT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CT_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void ct_freep(void *p) { free(*(void **)p); }
static inline void ct_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void ct_fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ __attribute__((cleanup(ct_freep)))
#define _cleanup_close_ __attribute__((cleanup(ct_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(ct_fclosep)))

/* A growable byte buffer, always NUL-terminated when len > 0 or after ct_buf_cstr(). */
struct ct_buf {
	char *data;
	size_t len;
	size_t cap;
	int err; /* sticky: -ENOMEM after a failed growth, further appends are dropped */
};

#define CT_BUF_INIT { NULL, 0, 0, 0 }

int ct_buf_reserve(struct ct_buf *b, size_t extra);
int ct_buf_append(struct ct_buf *b, const void *p, size_t n);
int ct_buf_puts(struct ct_buf *b, const char *s);
/* Appends n bytes as lowercase hex (a build-id in a file name or a message). */
int ct_buf_hex(struct ct_buf *b, const void *bytes, size_t n);
int ct_buf_putc(struct ct_buf *b, char c);
int ct_buf_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ct_buf_vprintf(struct ct_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
const char *ct_buf_cstr(struct ct_buf *b);
/* A freshly allocated formatted string, or NULL on ENOMEM. */
char *ct_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hands the buffer's memory to the caller (NUL-terminated) and resets b. */
char *ct_buf_steal(struct ct_buf *b);
void ct_buf_reset(struct ct_buf *b);
void ct_buf_free(struct ct_buf *b);

/* Reads at most max bytes of a file (a /proc file or another small text file), NUL-terminated.
 * Returns 0 and the buffer in *ret (free it), or -errno. -EFBIG when the file is larger than max. */
int ct_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
int ct_read_fileat(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

/* Parses a decimal integer in [min, max]; the whole string must be the number. */
int ct_parse_long(const char *s, long min, long max, long *ret);
int ct_parse_double(const char *s, double min, double max, double *ret);

uint64_t ct_now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t ct_realtime_ns(void); /* CLOCK_REALTIME */

char *ct_strdup(const char *s);  /* NULL in, NULL out */
char *ct_strndup(const char *s, size_t n);
/* Removes trailing whitespace in place and returns s. */
char *ct_rstrip(char *s);
/* The last component of path (path itself when it ends in "/"); NULL in, NULL out. */
const char *ct_basename(const char *path);
bool ct_startswith(const char *s, const char *prefix);

/* Reallocates *p to hold at least n elements of size sz, growing geometrically. */
int ct_grow(void *p, size_t *cap, size_t n, size_t sz);

#endif
