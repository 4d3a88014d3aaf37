/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/detect.h"

#include "formats/folded.h"
#include "formats/gzip.h"
#include "formats/pprof.h"
#include "formats/speedscope.h"
#include "lib/banned.h"

enum ct_pformat ct_pformat_detect(const void *data, size_t len)
{
	if (ct_gzip_magic(data, len))
		return CT_PFMT_PPROF;
	if (ct_speedscope_sniff(data, len))
		return CT_PFMT_SPEEDSCOPE;
	return CT_PFMT_FOLDED;
}

const char *ct_pformat_name(enum ct_pformat f)
{
	switch (f) {
	case CT_PFMT_PPROF: return "pprof";
	case CT_PFMT_SPEEDSCOPE: return "speedscope";
	default: return "folded";
	}
}

int ct_pread(const void *data, size_t len, const struct ct_pread_limits *lim, enum ct_pformat *ret_fmt,
	     struct ct_profile **ret, struct ct_pread_error *err)
{
	enum ct_pformat f = ct_pformat_detect(data, len);
	*ret_fmt = f;
	switch (f) {
	case CT_PFMT_PPROF:
		return ct_pread_pprof(data, len, lim, ret, err);
	case CT_PFMT_SPEEDSCOPE:
		return ct_pread_speedscope(data, len, lim, ret, err);
	default:
		return ct_pread_folded(data, len, lim, ret, err);
	}
}
