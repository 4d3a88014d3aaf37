/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers: one per format behind one interface. They decide nothing about the data. */
#ifndef CT_REPORT_H
#define CT_REPORT_H

#include <stdbool.h>

#include "lib/json.h"
#include "lib/model.h"
#include "lib/util.h"

enum ct_format {
	CT_FMT_DEFAULT = 0, /* text on a terminal; per-command otherwise */
	CT_FMT_TEXT,
	CT_FMT_JSON,
	CT_FMT_FOLDED,
	CT_FMT_SVG,
	CT_FMT_SPEEDSCOPE,
	CT_FMT_PPROF,
};

int ct_format_parse(const char *name, enum ct_format *ret);
const char *ct_format_name(enum ct_format f);

#define CT_JSON_VERSION 1

/* The backtraces report of one snapshot. */
void ct_report_snapshot_text(const struct ct_snapshot *s, struct ct_buf *out);
void ct_report_snapshot_json(const struct ct_snapshot *s, struct ct_buf *out);

/* Pieces other reports reuse. */
void ct_json_snapshot_body(struct ct_json *j, const struct ct_snapshot *s); /* keys of one snapshot object */
void ct_json_thread(struct ct_json *j, const struct ct_thread *t);
void ct_json_frame(struct ct_json *j, const struct ct_frame *f);
void ct_text_frame(struct ct_buf *out, size_t index, const struct ct_frame *f);
void ct_text_thread_header(struct ct_buf *out, const struct ct_thread *t);

#endif
