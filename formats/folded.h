/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Brendan Gregg's folded stacks, the input of flamegraph.pl: "root;caller;callee COUNT", one
 * stack per line. Its frame annotations are FlameGraph's: kernel frames end in "_[k]", inlined
 * in "_[i]", JIT in "_[j]"; ctrace's other machine formats (pprof, speedscope, the svg flame
 * graph) carry the same suffixes, and the readers take them off again. */
#ifndef CT_FORMATS_FOLDED_H
#define CT_FORMATS_FOLDED_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/profile.h"
#include "formats/reader.h"
#include "lib/util.h"

/* "_[k]", "_[i]", "_[j]", or "" for a frame of another kind. */
const char *ct_folded_suffix(enum ct_pframe_kind k);
/* The kind a name's suffix says, the suffix then taken off *len; dflt when it has none. */
enum ct_pframe_kind ct_folded_kind(const char *name, size_t *len, enum ct_pframe_kind dflt);
/* What a flame graph's widths stand for: samples, or bytes requested in an allocation profile. */
uint64_t ct_folded_value(const struct ct_profile *p, const struct ct_pstack *s);

/* Writes p's stacks in p's order (ct_profile_sort first for flamegraph.pl). Returns 0 or out->err. */
int ct_pwrite_folded(const struct ct_profile *p, struct ct_buf *out);
/* Reads folded stacks (empty lines and lines starting with '#' skipped). Returns 0 and a new
 * profile in *ret, or -errno (-EINVAL malformed, -EFBIG over a limit, -ENOMEM) with the reason and
 * the line in *err. */
int ct_pread_folded(const char *data, size_t len, const struct ct_pread_limits *lim,
		    struct ct_profile **ret, struct ct_pread_error *err);

#endif
