/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "core/inflate.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/util.h"
#include "lib/banned.h"

#define DEFAULT_MAX (64ull << 30)
#define OUT_CHUNK (1u << 20)

static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
static const uint8_t lz4_magic[4] = { 0x04, 0x22, 0x4d, 0x18 };
static const char apport_field[] = "\nCoreDump: base64\n";

/* Bounded search for apport's field: a report starts with "ProblemType:" and keeps the core last,
 * after text fields that are not large. */
static const char *apport_core(const void *data, size_t size)
{
	if (size < 12 || memcmp(data, "ProblemType:", 12) != 0)
		return NULL;
	const char *f = memmem(data, size, apport_field, sizeof(apport_field) - 1);
	return f ? f + sizeof(apport_field) - 1 : NULL;
}

const char *ct_inflate_kind(const void *data, size_t size)
{
	if (size >= 4 && memcmp(data, zstd_magic, 4) == 0)
		return "zstd";
	if (size >= 4 && memcmp(data, lz4_magic, 4) == 0)
		return "lz4";
	if (size >= 12 && memcmp(data, "ProblemType:", 12) == 0)
		return "apport";
	return NULL;
}

struct sink {
	int fd;
	uint64_t written, max;
	char **why;
};

static int sink_open(struct sink *k, const char *tmpdir)
{
	const char *dirs[3] = { tmpdir, tmpdir ? NULL : getenv("TMPDIR"), tmpdir ? NULL : "/var/tmp" };
	for (size_t i = 0; i < 3; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		k->fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (k->fd >= 0)
			return 0;
		if (tmpdir)
			return -errno;
	}
	k->fd = memfd_create("ctrace-core", MFD_CLOEXEC);
	return k->fd < 0 ? -errno : 0;
}

static int sink_write(struct sink *k, const void *buf, size_t len)
{
	if (len > k->max - k->written) {
		*k->why = ct_strf("the core inflates to more than %llu MiB; not read (raise the cap with "
				  "CTRACE_CORE_MAX_MB)", (unsigned long long)(k->max >> 20));
		return -EFBIG;
	}
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(k->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;
			*k->why = ct_strf("cannot write the inflated core: %s", strerror(e));
			return -e;
		}
		p += n;
		len -= (size_t)n;
		k->written += (uint64_t)n;
	}
	return 0;
}

static int corrupt(struct sink *k, const char *kind, const char *detail)
{
	*k->why = ct_strf("corrupt %s core: %s", kind, detail);
	return -EINVAL;
}

static int inflate_zstd(struct sink *k, const uint8_t *data, size_t size, uint8_t *out)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z)
		return -ENOMEM;
	ZSTD_initDStream(z);
	ZSTD_inBuffer in = { data, size, 0 };
	size_t last = 1;
	int r = 0;
	while (r == 0 && (in.pos < in.size || last != 0)) {
		ZSTD_outBuffer o = { out, OUT_CHUNK, 0 };
		size_t before = in.pos;
		last = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(last)) {
			r = corrupt(k, "zstd", ZSTD_getErrorName(last));
			break;
		}
		r = sink_write(k, out, o.pos);
		if (r == 0 && o.pos == 0 && in.pos == before) {
			if (last)
				r = corrupt(k, "zstd", "the stream ends early (truncated file?)");
			break; /* no progress either way */
		}
		if (r == 0 && last == 0 && in.pos == in.size)
			break;
	}
	ZSTD_freeDStream(z);
	return r;
}

static int inflate_lz4(struct sink *k, const uint8_t *data, size_t size, uint8_t *out)
{
	LZ4F_dctx *d;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
		return -ENOMEM;
	size_t pos = 0, hint = 1;
	int r = 0;
	while (r == 0 && hint != 0) {
		size_t olen = OUT_CHUNK, ilen = size - pos;
		hint = LZ4F_decompress(d, out, &olen, data + pos, &ilen, NULL);
		if (LZ4F_isError(hint)) {
			r = corrupt(k, "lz4", LZ4F_getErrorName(hint));
			break;
		}
		pos += ilen;
		r = sink_write(k, out, olen);
		if (r == 0 && hint != 0 && olen == 0 && ilen == 0)
			r = corrupt(k, "lz4", "the stream ends early (truncated file?)");
	}
	LZ4F_freeDecompressionContext(d);
	return r;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decodes one base64 line (its own padding) into out; returns the length or -1. */
static ssize_t b64_line(const char *p, size_t n, uint8_t *out)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=')
			break;
		int v = b64_value((unsigned char)p[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (ssize_t)o;
}

/* apport: each continuation line (" " then base64) of CoreDump is one piece of a gzip stream. */
static int inflate_apport(struct sink *k, const uint8_t *data, size_t size, uint8_t *out)
{
	const char *p = apport_core(data, size), *end = (const char *)data + size;
	if (!p)
		return *k->why = ct_strdup("an apport crash report without a CoreDump field"), -EINVAL;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	uint8_t *piece = NULL;
	size_t piece_cap = 0;
	int r = 0, zr = Z_OK;
	while (r == 0 && zr != Z_STREAM_END && p < end && *p == ' ') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p - 1);
		if (n / 4 * 3 + 3 > piece_cap) {
			free(piece);
			piece_cap = n / 4 * 3 + 3;
			if (!(piece = malloc(piece_cap))) {
				r = -ENOMEM;
				break;
			}
		}
		ssize_t got = b64_line(p + 1, n, piece);
		if (got < 0) {
			r = corrupt(k, "apport", "its CoreDump field is not base64");
			break;
		}
		z.next_in = piece;
		z.avail_in = (uInt)got;
		while (r == 0 && z.avail_in > 0 && zr != Z_STREAM_END) {
			z.next_out = out;
			z.avail_out = OUT_CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				r = corrupt(k, "apport", z.msg ? z.msg : "bad gzip data");
				break;
			}
			r = sink_write(k, out, OUT_CHUNK - z.avail_out);
			if (zr == Z_BUF_ERROR && z.avail_out == OUT_CHUNK)
				break;
		}
		p = le + (nl ? 1 : 0);
	}
	if (r == 0 && zr != Z_STREAM_END)
		r = corrupt(k, "apport", "its CoreDump field ends early (truncated report?)");
	free(piece);
	inflateEnd(&z);
	return r;
}

int ct_inflate_mem(const char *kind, const void *data, size_t size, uint64_t max, const char *tmpdir,
		   int *ret_fd, char **ret_why)
{
	*ret_why = NULL;
	struct sink k = { -1, 0, max ? max : DEFAULT_MAX, ret_why };
	int r = sink_open(&k, tmpdir);
	if (r < 0) {
		*ret_why = ct_strf("cannot make a temporary file to inflate the core into: %s", strerror(-r));
		return r;
	}
	uint8_t *out = malloc(OUT_CHUNK);
	if (!out)
		r = -ENOMEM;
	else if (strcmp(kind, "zstd") == 0)
		r = inflate_zstd(&k, data, size, out);
	else if (strcmp(kind, "lz4") == 0)
		r = inflate_lz4(&k, data, size, out);
	else
		r = inflate_apport(&k, data, size, out);
	free(out);
	if (r < 0) {
		if (!*ret_why)
			*ret_why = ct_strf("cannot inflate the %s core: %s", kind, strerror(-r));
		close(k.fd);
		return r;
	}
	*ret_fd = k.fd;
	return 0;
}

int ct_map_fd(int fd, void **ret, size_t *ret_len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0) {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	if ((uint64_t)st.st_size > SIZE_MAX)
		return -EFBIG;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	*ret = m;
	*ret_len = (size_t)st.st_size;
	return 0;
}
