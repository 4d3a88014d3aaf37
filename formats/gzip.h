/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gzip with zlib, for pprof files: compressing what ctrace wrote, and inflating what came from
 * elsewhere with a cap on the output (a small file can inflate to gigabytes). */
#ifndef CT_FORMATS_GZIP_H
#define CT_FORMATS_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

/* The gzip magic bytes 1f 8b. */
bool ct_gzip_magic(const void *data, size_t len);
/* Appends in[0..len) gzip-compressed to out. Returns 0, -EFBIG (over 2 GiB in) or -ENOMEM. */
int ct_gzip(const void *in, size_t len, struct ct_buf *out);
/* Appends the inflated gzip (or zlib) stream in data[0..len) to out, out never holding more than
 * max bytes in all. Returns 0, -EFBIG when there is more than that, -ENODATA when the stream ends
 * early (truncated), -EINVAL when it is corrupt, -ENOMEM. */
int ct_gunzip(const void *data, size_t len, size_t max, struct ct_buf *out);

#endif
