/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/pymem.h"

#include <inttypes.h>
#include <stdio.h>

#include "report/memory.h"
#include "lib/banned.h"

#define B(v) ct_fmt_bytes((v), (char[24]){ 0 }, 24)

static void text_gc(const struct ct_pymem_stats *p, struct ct_buf *out)
{
	if (!p->gc) {
		ct_buf_printf(out, "  gc: %s\n", p->gc_note ? p->gc_note : "not read");
		return;
	}
	ct_buf_printf(out, "  %-18s %s\n", "gc", p->gc_enabled ? "enabled" : "DISABLED (gc.disable())");
	ct_buf_printf(out, "  %-18s %10s %10s %12s %12s %14s\n", "generation", "count", "threshold", "collections",
		      "collected", "uncollectable");
	for (int i = 0; i < CT_PYMEM_GENERATIONS; i++) {
		const struct ct_pymem_gen *g = &p->gen[i];
		ct_buf_printf(out, "    %-16d %10" PRId64 " %10" PRId64 " %12" PRId64 " %12" PRId64 " %14" PRId64 "\n", i,
			      g->count, g->threshold, g->collections, g->collected, g->uncollectable);
	}
}

/* A figure that may be unknown (-1): "?" */
static const char *num(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		return "?";
	snprintf(buf, len, "%" PRId64, v);
	return buf;
}

static void text_pymalloc(const struct ct_pymem_stats *p, struct ct_buf *out)
{
	if (!p->pymalloc) {
		ct_buf_printf(out, "  pymalloc: %s\n", p->pymalloc_note ? p->pymalloc_note : "not read");
		return;
	}
	char cur[24], total[24], high[24];
	ct_buf_printf(out, "  %-18s %" PRIu64 " of %s, %" PRIu64 " in use (pymalloc counts %s; %s allocated ever, at "
		      "most %s at once)\n", "pymalloc arenas", p->arenas_walked, B(p->arena_size), p->arenas_in_use,
		      num(p->arenas_allocated, cur, sizeof(cur)), num(p->arenas_total, total, sizeof(total)),
		      num(p->arenas_highwater, high, sizeof(high)));
	ct_buf_printf(out, "  %-18s %" PRIu64 " in use of %s (%" PRIu64 " full), %" PRIu64 " cut from the arenas\n",
		      "pymalloc pools", p->pools_used, B(p->pool_size), p->pools_full, p->pools_carved);
	ct_buf_printf(out, "  %-18s %" PRIu64 " in use, %s\n", "pymalloc blocks", p->blocks, B(p->bytes));
	if (p->allocated_blocks >= 0 && p->raw_blocks >= 0)
		ct_buf_printf(out, "  %-18s %" PRId64 " (sys.getallocatedblocks(): pymalloc's and %" PRId64
			      " passed on to malloc)\n", "allocated blocks", p->allocated_blocks, p->raw_blocks);
	else if (p->allocated_blocks >= 0)
		ct_buf_printf(out, "  %-18s %" PRId64 " (sys.getallocatedblocks(), with those passed on to malloc)\n",
			      "allocated blocks", p->allocated_blocks);
	if (p->pools_unreadable)
		ct_buf_printf(out, "  %" PRIu64 " pool%s changed while read (the process runs) and %s not counted\n",
			      p->pools_unreadable, p->pools_unreadable == 1 ? "" : "s",
			      p->pools_unreadable == 1 ? "is" : "are");
	if (p->truncated)
		ct_buf_printf(out, "  the walk stopped after %u pools: the figures above are a part\n", CT_PYMEM_MAX_POOLS);
}

void ct_report_pymem_text(const struct ct_pymem_stats *p, const char *note, struct ct_buf *out)
{
	if (!p) {
		if (note)
			ct_buf_printf(out, "\nPython: %s\n", note);
		return;
	}
	ct_buf_printf(out, "\nPython %s (%s), as the interpreter counts it, read without stopping the process:\n",
		      p->version, p->module ? p->module : "?");
	text_gc(p, out);
	text_pymalloc(p, out);
}

static void json_i64(struct ct_json *j, const char *key, int64_t v)
{
	ct_json_key(j, key);
	if (v >= 0)
		ct_json_int(j, v);
	else
		ct_json_null(j);
}

void ct_report_pymem_json(struct ct_json *j, const struct ct_pymem_stats *p, const char *note)
{
	if (!p && !note) {
		ct_json_null(j);
		return;
	}
	ct_json_obj_begin(j);
	ct_json_key(j, "version"); ct_json_str(j, p ? p->version : NULL);
	ct_json_key(j, "module"); ct_json_str(j, p ? p->module : NULL);
	ct_json_key(j, "note"); ct_json_str(j, p ? NULL : note);
	ct_json_key(j, "gc");
	if (p && p->gc) {
		ct_json_obj_begin(j);
		ct_json_key(j, "enabled"); ct_json_bool(j, p->gc_enabled);
		ct_json_key(j, "generations");
		ct_json_arr_begin(j);
		for (int i = 0; i < CT_PYMEM_GENERATIONS; i++) {
			const struct ct_pymem_gen *g = &p->gen[i];
			ct_json_obj_begin(j);
			ct_json_key(j, "count"); ct_json_int(j, g->count);
			ct_json_key(j, "threshold"); ct_json_int(j, g->threshold);
			ct_json_key(j, "collections"); ct_json_int(j, g->collections);
			ct_json_key(j, "collected"); ct_json_int(j, g->collected);
			ct_json_key(j, "uncollectable"); ct_json_int(j, g->uncollectable);
			ct_json_obj_end(j);
		}
		ct_json_arr_end(j);
		ct_json_obj_end(j);
	} else {
		ct_json_null(j);
	}
	ct_json_key(j, "gc_note"); ct_json_str(j, p ? p->gc_note : NULL);
	ct_json_key(j, "pymalloc");
	if (p && p->pymalloc) {
		ct_json_obj_begin(j);
		ct_json_key(j, "arena_size"); ct_json_uint(j, p->arena_size);
		ct_json_key(j, "pool_size"); ct_json_uint(j, p->pool_size);
		ct_json_key(j, "arenas"); ct_json_uint(j, p->arenas_walked);
		ct_json_key(j, "arenas_in_use"); ct_json_uint(j, p->arenas_in_use);
		json_i64(j, "arenas_allocated", p->arenas_allocated);
		json_i64(j, "arenas_allocated_ever", p->arenas_total);
		json_i64(j, "arenas_highwater", p->arenas_highwater);
		ct_json_key(j, "pools_carved"); ct_json_uint(j, p->pools_carved);
		ct_json_key(j, "pools_in_use"); ct_json_uint(j, p->pools_used);
		ct_json_key(j, "pools_full"); ct_json_uint(j, p->pools_full);
		ct_json_key(j, "pools_unreadable"); ct_json_uint(j, p->pools_unreadable);
		ct_json_key(j, "blocks_in_use"); ct_json_uint(j, p->blocks);
		ct_json_key(j, "bytes_in_use"); ct_json_uint(j, p->bytes);
		json_i64(j, "raw_blocks", p->raw_blocks);
		json_i64(j, "allocated_blocks", p->allocated_blocks);
		ct_json_key(j, "truncated"); ct_json_bool(j, p->truncated);
		ct_json_key(j, "walk_ms"); ct_json_double(j, (double)p->walk_ns / 1e6, 2);
		ct_json_obj_end(j);
	} else {
		ct_json_null(j);
	}
	ct_json_key(j, "pymalloc_note"); ct_json_str(j, p ? p->pymalloc_note : NULL);
	ct_json_obj_end(j);
}
