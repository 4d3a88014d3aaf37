/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of the --memory report (text for people, JSON for programs) and of --watch rows. */
#ifndef CT_REPORT_MEMORY_H
#define CT_REPORT_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "memory/alloc.h"
#include "memory/glibc.h"
#include "memory/procmem.h"

struct ct_mem_report {
	const struct ct_mem_l1 *l1;
	const struct ct_alloc_info *alloc;
	const struct ct_glibc_stats *glibc; /* NULL when the arenas were not read */
	const char *malloc_note;            /* why they were not, or NULL */
	size_t top;                         /* mapping groups listed (the rest summed up) */
	uint64_t wall_ns;
};

void ct_report_memory_text(const struct ct_mem_report *r, struct ct_buf *out);
void ct_report_memory_json(const struct ct_mem_report *r, struct ct_buf *out);

/* "0 B", "812 B", "4.0 KiB", "12.3 MiB", "1.20 GiB" into buf. */
const char *ct_fmt_bytes(uint64_t v, char *buf, size_t len);

#endif
