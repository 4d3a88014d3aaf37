/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: any bytes through the dump reader (every format), then the thread analysis
 * and its text and JSON reports, as `ctrace analyze` does. Run with `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

#include "analyze/dumps/dumps.h"
#include "analyze/threads.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_dump_limits lim;
	ct_dump_limits_default(&lim);
	lim.max_line = 4096; /* small caps so the fuzzer reaches them */
	lim.max_snapshots = 16;
	lim.max_threads = 256;
	lim.max_frames = 64;
	struct ct_dump_result r;
	if (ct_dump_parse_mem((const char *)data, size, &lim, &r) < 0)
		return 0;
	struct ct_buf out = CT_BUF_INIT;
	for (size_t i = 0; i < r.nsnaps; i++) {
		ct_report_snapshot_text(r.snaps[i], &out);
		ct_report_snapshot_json(r.snaps[i], &out);
		out.len = 0;
	}
	struct ct_analysis *a = NULL;
	if (ct_analyze(r.snaps, r.nsnaps, NULL, &a) == 0) {
		ct_report_analysis_text(a, &out);
		ct_report_analysis_json(a, &out);
		ct_analysis_free(a);
	}
	ct_buf_free(&out);
	ct_dump_result_free(&r);
	return 0;
}
