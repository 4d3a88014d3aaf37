/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Python part of the --memory report (interp/pymem.h's figures), for report/memory.c: text for
 * people and the JSON object of the "python" key. */
#ifndef CT_REPORT_PYMEM_H
#define CT_REPORT_PYMEM_H

#include "interp/pymem.h"
#include "lib/json.h"
#include "lib/util.h"

/* p NULL: only the note, if any (Python found but not read). */
void ct_report_pymem_text(const struct ct_pymem_stats *p, const char *note, struct ct_buf *out);
/* Writes the value of the "python" key: an object, or null when the process is not Python. */
void ct_report_pymem_json(struct ct_json *j, const struct ct_pymem_stats *p, const char *note);

#endif
