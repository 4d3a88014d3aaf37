/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles read back from files (for `ctrace merge`): the file's format told by its content, then
 * read by that format's reader in formats/ into the profile model (analyze/profile.h), ready for
 * ct_profile_merge. */
#ifndef CT_FORMATS_DETECT_H
#define CT_FORMATS_DETECT_H

#include <stddef.h>

#include "analyze/profile.h"
#include "formats/reader.h"

enum ct_pformat { CT_PFMT_FOLDED, CT_PFMT_PPROF, CT_PFMT_SPEEDSCOPE };

/* gzip magic: pprof; a JSON object naming speedscope's $schema: speedscope; else folded. */
enum ct_pformat ct_pformat_detect(const void *data, size_t len);
const char *ct_pformat_name(enum ct_pformat f);

/* Detects the format and reads with the matching reader (formats/folded.h, pprof.h,
 * speedscope.h): 0 and a new profile in *ret, or -errno with the reason in *err. */
int ct_pread(const void *data, size_t len, const struct ct_pread_limits *lim, enum ct_pformat *ret_fmt,
	     struct ct_profile **ret, struct ct_pread_error *err);

#endif
