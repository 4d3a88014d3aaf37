/* SPDX-License-Identifier: GPL-2.0-or-later */
/* speedscope's file format (https://www.speedscope.app/file-format-schema.json): ctrace writes
 * one sampled profile with shared frames and reads back sampled profiles. */
#ifndef CT_FORMATS_SPEEDSCOPE_H
#define CT_FORMATS_SPEEDSCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "analyze/profile.h"
#include "formats/reader.h"
#include "lib/util.h"

#define CT_SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* A JSON object (after a byte order mark and white space) that names "$schema" and speedscope. */
bool ct_speedscope_sniff(const void *data, size_t len);
/* One sampled profile named title, weighted in nanoseconds (bytes for an allocation profile,
 * sample counts when p has no times), with a "ctraceCounts" array of each stack's samples beside
 * the weights. Returns 0 or out->err. */
int ct_pwrite_speedscope(const struct ct_profile *p, const char *title, struct ct_buf *out);
/* Reads every sampled profile of the file into one profile. Returns 0 and a new profile in *ret,
 * or -errno (-EINVAL malformed, -EFBIG over a limit, -ENOMEM) with the reason in *err. */
int ct_pread_speedscope(const char *data, size_t len, const struct ct_pread_limits *lim,
			struct ct_profile **ret, struct ct_pread_error *err);

#endif
