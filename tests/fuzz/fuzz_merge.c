/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: any bytes through ctrace merge's readers (the format told by content, and
 * each reader directly), then merged into one profile and written in the three merge formats, as
 * `ctrace merge` does. Run with `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

#include "formats/detect.h"
#include "formats/folded.h"
#include "formats/pprof.h"
#include "formats/speedscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_pread_limits lim;
	ct_pread_limits_default(&lim);
	lim.max_bytes = 1 << 20; /* small caps so the fuzzer reaches them */
	lim.max_json = 1 << 20;
	lim.max_depth = 256;
	lim.max_frames_total = 4096;
	lim.max_labels = 8;
	struct ct_profile *all = NULL;
	if (ct_profile_new(&all) < 0)
		return 0;
	struct ct_pread_error err;
	for (int how = 0; how < 4; how++) {
		struct ct_profile *p = NULL;
		enum ct_pformat f;
		int r = how == 0 ? ct_pread(data, size, &lim, &f, &p, &err) :
			how == 1 ? ct_pread_folded((const char *)data, size, &lim, &p, &err) :
			how == 2 ? ct_pread_pprof(data, size, &lim, &p, &err) :
				   ct_pread_speedscope((const char *)data, size, &lim, &p, &err);
		if (r < 0)
			continue;
		ct_profile_merge(all, p, how == 2 ? CT_MERGE_LABELS : CT_MERGE_ROOT_PLAIN);
		ct_profile_free(p);
	}
	ct_profile_sort(all);
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_folded(all, &out);
	out.len = 0;
	ct_pwrite_speedscope(all, "fuzz", &out);
	out.len = 0;
	ct_pwrite_pprof(all, &out);
	ct_buf_free(&out);
	ct_profile_free(all);
	return 0;
}
