/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/gzip.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "lib/banned.h"

bool ct_gzip_magic(const void *data, size_t len)
{
	const unsigned char *s = data;
	return len >= 2 && s[0] == 0x1f && s[1] == 0x8b;
}

int ct_gzip(const void *in, size_t len, struct ct_buf *out)
{
	if (len > UINT32_MAX / 2)
		return -EFBIG;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	uLong bound = deflateBound(&z, (uLong)len);
	if (ct_buf_reserve(out, bound + 1) < 0) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)(in ? in : "");
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)bound;
	int r = deflate(&z, Z_FINISH);
	if (r == Z_STREAM_END)
		out->len += z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -ENOMEM;
}

int ct_gunzip(const void *data, size_t len, size_t max, struct ct_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	int zr = Z_OK;
	size_t in_left = len;
	while (zr != Z_STREAM_END) {
		if (out->len >= max) {
			inflateEnd(&z);
			return -EFBIG;
		}
		/* at most 1 MiB more at a time, and never past max */
		size_t chunk = CT_MIN((size_t)1 << 20, max - out->len);
		if (ct_buf_reserve(out, chunk + 1) < 0) {
			inflateEnd(&z);
			return -ENOMEM;
		}
		if (!z.avail_in) {
			z.avail_in = (uInt)CT_MIN(in_left, (size_t)UINT32_MAX);
			in_left -= z.avail_in;
		}
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += chunk - z.avail_out;
		if (zr == Z_BUF_ERROR && !z.avail_in && !in_left)
			break;
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			break;
	}
	inflateEnd(&z);
	if (zr != Z_STREAM_END)
		return zr == Z_BUF_ERROR ? -ENODATA : -EINVAL;
	return 0;
}
