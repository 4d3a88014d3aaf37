/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pprof's profile.proto (github.com/google/pprof/proto/profile.proto), for `go tool pprof` and
 * continuous-profiling engines: written gzip-compressed, read gzip-compressed or not. */
#ifndef CT_FORMATS_PPROF_H
#define CT_FORMATS_PPROF_H

#include <stddef.h>

#include "analyze/profile.h"
#include "formats/reader.h"
#include "lib/util.h"

/* Sample types samples/count and cpu (or wall)/nanoseconds (alloc_objects/count and
 * alloc_space/bytes for an allocation profile; no time type when p has no times), one location
 * and function per frame, the process' root frame as the label "process", every label set of p.
 * Returns 0 or -errno (also left in out->err). */
int ct_pwrite_pprof(const struct ct_profile *p, struct ct_buf *out);
/* Reads a profile.proto, gzip-compressed or not. Samples keep their labels; the "process" label
 * becomes the process' root frame, as in a live profile. Returns 0 and a new profile in *ret, or
 * -errno (-EINVAL malformed, -EFBIG over a limit, -ENOMEM) with the reason in *err. */
int ct_pread_pprof(const void *data, size_t len, const struct ct_pread_limits *lim,
		   struct ct_profile **ret, struct ct_pread_error *err);

#endif
