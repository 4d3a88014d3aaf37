/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/memory.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "lib/json.h"
#include "report/pymem.h"
#include "report/report.h"
#include "lib/banned.h"

const char *ct_fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return buf;
	}
	double d = (double)v / 1024;
	size_t u = 0;
	while (d >= 1024 && u + 1 < CT_ARRAY_SIZE(units)) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, d < 10 && u >= 2 ? "%.2f %s" : "%.1f %s", d, units[u]);
	return buf;
}

#define B(v) ct_fmt_bytes((v), (char[24]){ 0 }, 24)

/* The last width bytes of a long name, marked with "...". */
static const char *fit(const char *s, size_t width, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n <= width)
		return s;
	snprintf(buf, len, "...%s", s + n - (width - 3));
	return buf;
}

static void group_label(const struct ct_mem_group *g, char *buf, size_t len)
{
	if (g->kind == CT_MEM_STACK && g->tid > 0)
		snprintf(buf, len, "stack of thread %d%s%s%s", (int)g->tid, g->thread_name ? " (" : "",
			 g->thread_name ? g->thread_name : "", g->thread_name ? ")" : "");
	else if (g->kind == CT_MEM_STACK && g->tid < 0)
		snprintf(buf, len, "stack of a thread at 0x%" PRIx64, g->first_start);
	else
		snprintf(buf, len, "%s", g->name);
}

static void text_mappings(const struct ct_mem_report *r, struct ct_buf *out)
{
	const struct ct_mem_l1 *l = r->l1;
	enum { W = 44 };
	ct_buf_printf(out, "\n%-*s %-9s %10s %10s %10s %10s %5s\n", W + 2, "largest mappings, by RSS", "kind", "RSS",
		      "PSS", "size", "swap", "maps");
	size_t shown = CT_MIN(l->ngroups, r->top);
	for (size_t i = 0; i < shown; i++) {
		const struct ct_mem_group *g = &l->groups[i];
		char label[512], fbuf[64];
		group_label(g, label, sizeof(label));
		ct_buf_printf(out, "  %-*s %-9s %10s %10s %10s %10s %5zu\n", W, fit(label, W, fbuf, sizeof(fbuf)),
			      ct_mem_kind_name(g->kind), B(g->rss), B(g->pss), B(g->size), B(g->swap), g->nmaps);
	}
	if (l->ngroups > shown) {
		struct ct_mem_group rest;
		memset(&rest, 0, sizeof(rest));
		for (size_t i = shown; i < l->ngroups; i++) {
			rest.rss += l->groups[i].rss;
			rest.pss += l->groups[i].pss;
			rest.size += l->groups[i].size;
			rest.swap += l->groups[i].swap;
			rest.nmaps += l->groups[i].nmaps;
		}
		char label[64];
		snprintf(label, sizeof(label), "(%zu more groups)", l->ngroups - shown);
		ct_buf_printf(out, "  %-*s %-9s %10s %10s %10s %10s %5zu\n", W, label, "", B(rest.rss), B(rest.pss),
			      B(rest.size), B(rest.swap), rest.nmaps);
	}
}

static const char *inject_meaning(const char *name)
{
	static const struct { const char *name, *meaning; } m[] = {
		{ "stats.allocated", "in objects the program holds" },
		{ "stats.active", "in pages holding objects (allocated + slack in those pages)" },
		{ "stats.resident", "resident in pages jemalloc holds (objects, metadata, dirty pages)" },
		{ "stats.mapped", "in extents jemalloc has mapped and in use" },
		{ "stats.retained", "address space kept for reuse, not resident" },
		{ "stats.metadata", "jemalloc's own bookkeeping" },
		{ "generic.current_allocated_bytes", "in objects the program holds" },
		{ "generic.heap_size", "tcmalloc's page heap (in use, free or unmapped)" },
		{ "tcmalloc.pageheap_free_bytes", "free in the page heap, still resident" },
		{ "tcmalloc.pageheap_unmapped_bytes", "free and given back to the system" },
		{ "tcmalloc.central_cache_free_bytes", "free in the central cache" },
		{ "tcmalloc.transfer_cache_free_bytes", "free in the transfer cache" },
		{ "tcmalloc.thread_cache_free_bytes", "free in the threads' caches" },
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(m); i++)
		if (strcmp(name, m[i].name) == 0)
			return m[i].meaning;
	return "";
}

static void text_inject(const struct ct_inject_stats *in, struct ct_buf *out)
{
	ct_buf_printf(out, "%s statistics, from %s() called in thread %d (stopped %.2f ms for %zu call%s%s):\n",
		      ct_allocator_name(in->kind), in->function, (int)in->tid, (double)in->call.stop_ns / 1e6,
		      in->call.calls, in->call.calls == 1 ? "" : "s",
		      in->kind == CT_ALLOC_JEMALLOC && !in->refreshed ? "; the epoch refresh failed, numbers may be stale" : "");
	for (size_t i = 0; i < in->nvalues; i++) {
		const struct ct_inject_value *v = &in->values[i];
		ct_buf_printf(out, "  %-34s %10s  %s\n", v->name, v->ok ? B(v->value) : "-",
			      v->ok ? inject_meaning(v->name) : "(not available in this build)");
	}
}

static void text_malloc(const struct ct_mem_report *r, struct ct_buf *out)
{
	const struct ct_alloc_info *a = r->alloc;
	ct_buf_puts(out, "\nallocator: ");
	if (!a || a->kind == CT_ALLOC_UNKNOWN)
		ct_buf_puts(out, "unknown (no glibc, jemalloc, tcmalloc or mimalloc found)\n");
	else
		ct_buf_printf(out, "%s%s%s (%s%s)\n", ct_allocator_name(a->kind), a->kind == CT_ALLOC_GLIBC ? " malloc" : "",
			      a->static_glibc ? ", statically linked" : "",
			      a->linked_in ? "linked into " : "", a->module ? a->module : "?");
	if (r->malloc_note)
		ct_buf_printf(out, "  %s\n", r->malloc_note);
	if (r->inject)
		text_inject(r->inject, out);
	const struct ct_glibc_stats *g = r->glibc;
	if (!g)
		return;
	ct_buf_printf(out, "malloc arenas, as mallinfo2() would count them (read without stopping the process%s):\n",
		      g->approximate ? "; APPROXIMATE, see below" : "");
	ct_buf_printf(out, "  %-22s %10s %10s %10s %8s %8s %10s %10s %10s\n", "arena", "system", "in use", "free",
		      "ordblks", "smblks", "fastbin", "top", "trimmable");
	for (size_t i = 0; i < g->narenas; i++) {
		const struct ct_glibc_arena *ar = &g->arenas[i];
		char name[48];
		snprintf(name, sizeof(name), "%s 0x%" PRIx64 "%s", ar->main ? "main" : "thread", ar->addr,
			 ar->approximate ? "~" : "");
		ct_buf_printf(out, "  %-22s %10s %10s %10s %8" PRIu64 " %8" PRIu64 " %10s %10s %10s\n", name,
			      B(ar->mi.arena), B(ar->mi.uordblks), B(ar->mi.fordblks), ar->mi.ordblks, ar->mi.smblks,
			      B(ar->mi.fsmblks), B(ar->top_size), B(ar->trimmable));
	}
	const struct ct_mallinfo *t = &g->total;
	ct_buf_printf(out, "  %-22s %10s %10s %10s %8" PRIu64 " %8" PRIu64 " %10s %10s %10s\n", "total", B(t->arena),
		      B(t->uordblks), B(t->fordblks), t->ordblks, t->smblks, B(t->fsmblks), "", B(g->trimmable));
	ct_buf_printf(out, "  mmapped chunks: %" PRIu64 " holding %s; keepcost %s\n", t->hblks, B(t->hblkhd),
		      B(t->keepcost));
	ct_buf_printf(out, "  in use by the program: %s (%s in arenas + %s mmapped)\n", B(t->uordblks + t->hblkhd),
		      B(t->uordblks), B(t->hblkhd));
	ct_buf_printf(out, "  free inside malloc: %s; malloc_trim(0) could return up to %s\n", B(t->fordblks),
		      B(g->trimmable));
	if (g->narenas == 1 && t->arena == 0 && t->hblks == 0)
		ct_buf_puts(out, "  malloc has not been called by this process yet: its arenas hold nothing\n");
	for (size_t i = 0; i < g->narenas; i++) {
		if (g->arenas[i].locked)
			ct_buf_printf(out, "  arena 0x%" PRIx64 ": locked while read (a thread was inside malloc or "
				      "free, or holds the lock)\n", g->arenas[i].addr);
		if (g->arenas[i].problem)
			ct_buf_printf(out, "  arena 0x%" PRIx64 ": %s\n", g->arenas[i].addr, g->arenas[i].problem);
	}
	if (g->arenas_truncated)
		ct_buf_puts(out, "  the arena list did not close; only the arenas above were read\n");
}

/* Ruby's GC figures, under GC.stat's names */
static void text_ruby(const struct ct_mem_ruby *m, struct ct_buf *out)
{
	if (!m)
		return;
	ct_buf_printf(out, "\nRuby%s%s GC (GC.stat's figures, read without stopping the process):\n",
		      m->version ? " " : "", m->version ? m->version : "");
	if (m->note)
		ct_buf_printf(out, "  %s\n", m->note);
	for (size_t i = 0; i < m->n; i++)
		ct_buf_printf(out, "  %-24s %14" PRIu64 "\n", m->name[i], m->value[i]);
}

static void json_ruby(struct ct_json *j, const struct ct_mem_ruby *m)
{
	ct_json_key(j, "ruby");
	if (!m) {
		ct_json_null(j);
		return;
	}
	ct_json_obj_begin(j);
	ct_json_key(j, "version"); ct_json_str(j, m->version);
	ct_json_key(j, "note"); ct_json_str(j, m->note);
	ct_json_key(j, "gc");
	if (!m->n) {
		ct_json_null(j);
	} else {
		ct_json_obj_begin(j);
		for (size_t i = 0; i < m->n; i++) {
			ct_json_key(j, m->name[i]);
			ct_json_uint(j, m->value[i]);
		}
		ct_json_obj_end(j);
	}
	ct_json_obj_end(j);
}

void ct_report_memory_text(const struct ct_mem_report *r, struct ct_buf *out)
{
	const struct ct_mem_l1 *l = r->l1;
	const struct ct_mem_status *s = &l->status;
	ct_buf_printf(out, "process %d (%s): %ld thread%s", (int)l->pid, s->name, s->threads, s->threads == 1 ? "" : "s");
	if (l->fds >= 0)
		ct_buf_printf(out, ", %ld open fds", l->fds);
	ct_buf_putc(out, '\n');
	ct_buf_printf(out, "  %-8s %10s", "RSS", B(s->vm_rss));
	if (s->has_rss_split)
		ct_buf_printf(out, "   anon %s, file %s, shmem %s", B(s->rss_anon), B(s->rss_file), B(s->rss_shmem));
	ct_buf_putc(out, '\n');
	ct_buf_printf(out, "  %-8s %10s", "PSS", B(l->pss));
	if (l->has_rollup)
		ct_buf_printf(out, "   anon %s, file %s, shmem %s", B(l->pss_anon), B(l->pss_file), B(l->pss_shmem));
	ct_buf_putc(out, '\n');
	ct_buf_printf(out, "  %-8s %10s\n", "swap", B(s->vm_swap));
	ct_buf_printf(out, "  %-8s %10s   peak RSS %s, peak virtual %s\n", "virtual", B(s->vm_size), B(s->vm_hwm),
		      B(s->vm_peak));
	ct_buf_printf(out, "  %-8s %10s   reserved for %zu thread stacks (%s resident)\n", "stacks", B(l->stack_size),
		      l->nstacks, B(l->stack_rss));
	text_mappings(r, out);
	text_malloc(r, out);
	text_ruby(r->ruby, out);
	ct_report_pymem_text(r->python, r->python_note, out);
}

static void json_mallinfo(struct ct_json *j, const struct ct_mallinfo *m)
{
	static const struct { const char *key; size_t off; } f[] = {
		{ "arena", offsetof(struct ct_mallinfo, arena) },
		{ "ordblks", offsetof(struct ct_mallinfo, ordblks) },
		{ "smblks", offsetof(struct ct_mallinfo, smblks) },
		{ "hblks", offsetof(struct ct_mallinfo, hblks) },
		{ "hblkhd", offsetof(struct ct_mallinfo, hblkhd) },
		{ "usmblks", offsetof(struct ct_mallinfo, usmblks) },
		{ "fsmblks", offsetof(struct ct_mallinfo, fsmblks) },
		{ "uordblks", offsetof(struct ct_mallinfo, uordblks) },
		{ "fordblks", offsetof(struct ct_mallinfo, fordblks) },
		{ "keepcost", offsetof(struct ct_mallinfo, keepcost) },
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(f); i++) {
		ct_json_key(j, f[i].key);
		ct_json_uint(j, *(const uint64_t *)((const char *)m + f[i].off));
	}
}

static void json_malloc(struct ct_json *j, const struct ct_mem_report *r)
{
	const struct ct_alloc_info *a = r->alloc;
	ct_json_key(j, "allocator");
	ct_json_obj_begin(j);
	ct_json_key(j, "name"); ct_json_str(j, ct_allocator_name(a ? a->kind : CT_ALLOC_UNKNOWN));
	ct_json_key(j, "module"); ct_json_str(j, a ? a->module : NULL);
	ct_json_key(j, "linked_in"); ct_json_bool(j, a && a->linked_in);
	ct_json_key(j, "static"); ct_json_bool(j, a && a->static_glibc);
	ct_json_obj_end(j);
	ct_json_key(j, "malloc_note"); ct_json_str(j, r->malloc_note);
	ct_json_key(j, "injected");
	if (r->inject) {
		const struct ct_inject_stats *in = r->inject;
		ct_json_obj_begin(j);
		ct_json_key(j, "function"); ct_json_str(j, in->function);
		ct_json_key(j, "tid"); ct_json_int(j, in->tid);
		ct_json_key(j, "stops"); ct_json_uint(j, in->attempts);
		ct_json_key(j, "calls"); ct_json_uint(j, in->call.calls);
		ct_json_key(j, "stop_ms"); ct_json_double(j, (double)in->call.stop_ns / 1e6, 3);
		ct_json_key(j, "calls_ms"); ct_json_double(j, (double)in->call.window_ns / 1e6, 3);
		ct_json_key(j, "deferred_signals"); ct_json_uint(j, in->call.deferred_signals);
		ct_json_key(j, "refreshed"); ct_json_bool(j, in->kind != CT_ALLOC_JEMALLOC || in->refreshed);
		ct_json_key(j, "safe_return"); ct_json_bool(j, in->safe_return);
		ct_json_key(j, "values");
		ct_json_obj_begin(j);
		for (size_t i = 0; i < in->nvalues; i++) {
			ct_json_key(j, in->values[i].name);
			if (in->values[i].ok)
				ct_json_uint(j, in->values[i].value);
			else
				ct_json_null(j);
		}
		ct_json_obj_end(j);
		ct_json_obj_end(j);
	} else {
		ct_json_null(j);
	}
	ct_json_key(j, "malloc");
	const struct ct_glibc_stats *g = r->glibc;
	if (!g) {
		ct_json_null(j);
		return;
	}
	ct_json_obj_begin(j);
	ct_json_key(j, "source"); ct_json_str(j, "glibc-arenas");
	ct_json_key(j, "libc"); ct_json_str(j, g->libc);
	ct_json_key(j, "debug_file"); ct_json_str(j, g->debug_file);
	ct_json_key(j, "approximate"); ct_json_bool(j, g->approximate);
	ct_json_key(j, "arenas_truncated"); ct_json_bool(j, g->arenas_truncated);
	ct_json_key(j, "tries"); ct_json_uint(j, g->tries);
	ct_json_key(j, "layout_cached"); ct_json_bool(j, g->layout_cached);
	ct_json_key(j, "layout_ms"); ct_json_double(j, (double)g->layout_ns / 1e6, 2);
	ct_json_key(j, "walk_ms"); ct_json_double(j, (double)g->walk_ns / 1e6, 2);
	ct_json_key(j, "total");
	ct_json_obj_begin(j);
	json_mallinfo(j, &g->total);
	ct_json_key(j, "trimmable"); ct_json_uint(j, g->trimmable);
	ct_json_obj_end(j);
	ct_json_key(j, "arenas");
	ct_json_arr_begin(j);
	for (size_t i = 0; i < g->narenas; i++) {
		const struct ct_glibc_arena *ar = &g->arenas[i];
		ct_json_obj_begin(j);
		ct_json_key(j, "address"); ct_json_hex(j, ar->addr);
		ct_json_key(j, "main"); ct_json_bool(j, ar->main);
		ct_json_key(j, "heaps"); ct_json_uint(j, ar->nheaps);
		ct_json_key(j, "heap_bytes"); ct_json_uint(j, ar->heap_bytes);
		ct_json_key(j, "top"); ct_json_uint(j, ar->top_size);
		ct_json_key(j, "free_chunks"); ct_json_uint(j, ar->chunks);
		ct_json_key(j, "trimmable"); ct_json_uint(j, ar->trimmable);
		json_mallinfo(j, &ar->mi);
		ct_json_key(j, "locked"); ct_json_bool(j, ar->locked);
		ct_json_key(j, "approximate"); ct_json_bool(j, ar->approximate);
		ct_json_key(j, "problem"); ct_json_str(j, ar->problem);
		ct_json_obj_end(j);
	}
	ct_json_arr_end(j);
	ct_json_obj_end(j);
}

void ct_report_memory_json(const struct ct_mem_report *r, struct ct_buf *out)
{
	const struct ct_mem_l1 *l = r->l1;
	const struct ct_mem_status *s = &l->status;
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "version"); ct_json_int(&j, CT_JSON_VERSION);
	ct_json_key(&j, "pid"); ct_json_int(&j, l->pid);
	ct_json_key(&j, "process"); ct_json_str(&j, s->name);
	ct_json_key(&j, "threads"); ct_json_int(&j, s->threads);
	ct_json_key(&j, "fds");
	if (l->fds >= 0)
		ct_json_int(&j, l->fds);
	else
		ct_json_null(&j);
	ct_json_key(&j, "wall_ms"); ct_json_double(&j, (double)r->wall_ns / 1e6, 2);
	ct_json_key(&j, "totals");
	ct_json_obj_begin(&j);
	ct_json_key(&j, "rss"); ct_json_uint(&j, s->vm_rss);
	ct_json_key(&j, "rss_anon"); ct_json_uint(&j, s->rss_anon);
	ct_json_key(&j, "rss_file"); ct_json_uint(&j, s->rss_file);
	ct_json_key(&j, "rss_shmem"); ct_json_uint(&j, s->rss_shmem);
	ct_json_key(&j, "pss"); ct_json_uint(&j, l->pss);
	ct_json_key(&j, "pss_anon"); ct_json_uint(&j, l->pss_anon);
	ct_json_key(&j, "pss_file"); ct_json_uint(&j, l->pss_file);
	ct_json_key(&j, "pss_shmem"); ct_json_uint(&j, l->pss_shmem);
	ct_json_key(&j, "swap"); ct_json_uint(&j, s->vm_swap);
	ct_json_key(&j, "virtual"); ct_json_uint(&j, s->vm_size);
	ct_json_key(&j, "peak_rss"); ct_json_uint(&j, s->vm_hwm);
	ct_json_key(&j, "peak_virtual"); ct_json_uint(&j, s->vm_peak);
	ct_json_obj_end(&j);
	ct_json_key(&j, "stacks");
	ct_json_obj_begin(&j);
	ct_json_key(&j, "count"); ct_json_uint(&j, l->nstacks);
	ct_json_key(&j, "size"); ct_json_uint(&j, l->stack_size);
	ct_json_key(&j, "rss"); ct_json_uint(&j, l->stack_rss);
	ct_json_obj_end(&j);
	ct_json_key(&j, "mappings");
	ct_json_arr_begin(&j);
	size_t shown = CT_MIN(l->ngroups, r->top);
	for (size_t i = 0; i < shown; i++) {
		const struct ct_mem_group *g = &l->groups[i];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "kind"); ct_json_str(&j, ct_mem_kind_name(g->kind));
		ct_json_key(&j, "name"); ct_json_str(&j, g->name);
		ct_json_key(&j, "tid");
		if (g->kind == CT_MEM_STACK && g->tid > 0)
			ct_json_int(&j, g->tid);
		else
			ct_json_null(&j);
		ct_json_key(&j, "thread_name"); ct_json_str(&j, g->thread_name);
		ct_json_key(&j, "start"); ct_json_hex(&j, g->first_start);
		ct_json_key(&j, "maps"); ct_json_uint(&j, g->nmaps);
		ct_json_key(&j, "size"); ct_json_uint(&j, g->size);
		ct_json_key(&j, "rss"); ct_json_uint(&j, g->rss);
		ct_json_key(&j, "pss"); ct_json_uint(&j, g->pss);
		ct_json_key(&j, "swap"); ct_json_uint(&j, g->swap);
		ct_json_key(&j, "anonymous"); ct_json_uint(&j, g->anonymous);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_key(&j, "mappings_omitted"); ct_json_uint(&j, l->ngroups - shown);
	json_malloc(&j, r);
	json_ruby(&j, r->ruby);
	ct_json_key(&j, "python");
	ct_report_pymem_json(&j, r->python, r->python_note);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
}

/* "+2.0 MiB", "-512 B" */
static const char *fmt_delta(int64_t d, char *buf, size_t len)
{
	char b[24];
	ct_fmt_bytes(d < 0 ? (uint64_t)-d : (uint64_t)d, b, sizeof(b));
	snprintf(buf, len, "%c%s", d < 0 ? '-' : '+', b);
	return buf;
}

#define D(v) fmt_delta((v), (char[32]){ 0 }, 32)

void ct_report_watch_header(struct ct_buf *out)
{
	ct_buf_printf(out, "%8s %10s %10s %10s %10s   %s\n", "time", "RSS", "anon", "heap used", "heap free",
		      "grew since the last row");
}

static void growth_label(const struct ct_mem_group *g, char *buf, size_t len)
{
	char label[512], fbuf[64];
	group_label(g, label, sizeof(label));
	snprintf(buf, len, "%s", fit(label, 40, fbuf, sizeof(fbuf)));
}

static void json_sample_common(struct ct_json *j, const struct ct_mem_sample *s, const char *type)
{
	const struct ct_mem_status *st = &s->l1.status;
	ct_json_key(j, "version"); ct_json_int(j, CT_JSON_VERSION);
	ct_json_key(j, "type"); ct_json_str(j, type);
	ct_json_key(j, "pid"); ct_json_int(j, s->l1.pid);
	ct_json_key(j, "t"); ct_json_double(j, (double)s->t_ns / 1e9, 3);
	ct_json_key(j, "rss"); ct_json_uint(j, st->vm_rss);
	ct_json_key(j, "rss_anon"); ct_json_uint(j, st->rss_anon);
	ct_json_key(j, "swap"); ct_json_uint(j, st->vm_swap);
	ct_json_key(j, "heap_in_use");
	if (s->have_heap)
		ct_json_uint(j, s->heap_in_use);
	else
		ct_json_null(j);
	ct_json_key(j, "heap_free");
	if (s->have_heap)
		ct_json_uint(j, s->heap_free);
	else
		ct_json_null(j);
	ct_json_key(j, "approximate"); ct_json_bool(j, s->approximate);
}

static void json_growth(struct ct_json *j, const struct ct_mem_growth *gr, size_t ngr)
{
	ct_json_key(j, "grew");
	ct_json_arr_begin(j);
	for (size_t i = 0; i < ngr; i++) {
		const struct ct_mem_group *g = gr[i].g;
		ct_json_obj_begin(j);
		ct_json_key(j, "kind"); ct_json_str(j, ct_mem_kind_name(g->kind));
		ct_json_key(j, "name"); ct_json_str(j, g->name);
		ct_json_key(j, "tid");
		if (g->kind == CT_MEM_STACK && g->tid > 0)
			ct_json_int(j, g->tid);
		else
			ct_json_null(j);
		ct_json_key(j, "rss_before"); ct_json_uint(j, gr[i].before);
		ct_json_key(j, "rss"); ct_json_uint(j, g->rss);
		ct_json_key(j, "delta"); ct_json_int(j, gr[i].delta);
		ct_json_obj_end(j);
	}
	ct_json_arr_end(j);
}

void ct_report_watch_row(const struct ct_mem_sample *s, const struct ct_mem_growth *gr, size_t ngr, bool json,
			 struct ct_buf *out)
{
	if (json) {
		struct ct_json j;
		ct_json_init(&j, out);
		ct_json_obj_begin(&j);
		json_sample_common(&j, s, "sample");
		json_growth(&j, gr, ngr);
		ct_json_obj_end(&j);
		ct_buf_putc(out, '\n');
		return;
	}
	const struct ct_mem_status *st = &s->l1.status;
	char t[24];
	snprintf(t, sizeof(t), "%.1f s", (double)s->t_ns / 1e9);
	ct_buf_printf(out, "%8s %10s %10s %10s %10s  ", t, B(st->vm_rss), B(st->rss_anon),
		      s->have_heap ? B(s->heap_in_use) : "-", s->have_heap ? B(s->heap_free) : "-");
	for (size_t i = 0; i < ngr; i++) {
		char label[64];
		growth_label(gr[i].g, label, sizeof(label));
		ct_buf_printf(out, "%s %s %s", i ? "," : "", label, D(gr[i].delta));
	}
	ct_buf_puts(out, s->approximate ? " (approximate)\n" : "\n");
}

void ct_report_watch_summary(const struct ct_mem_sample *first, const struct ct_mem_sample *last,
			     const struct ct_mem_growth *gr, size_t ngr, size_t nsamples, const char *ended,
			     bool json, struct ct_buf *out)
{
	const struct ct_mem_status *a = &first->l1.status, *b = &last->l1.status;
	if (json) {
		struct ct_json j;
		ct_json_init(&j, out);
		ct_json_obj_begin(&j);
		json_sample_common(&j, last, "summary");
		ct_json_key(&j, "samples"); ct_json_uint(&j, nsamples);
		ct_json_key(&j, "ended"); ct_json_str(&j, ended);
		ct_json_key(&j, "rss_delta"); ct_json_int(&j, (int64_t)(b->vm_rss - a->vm_rss));
		ct_json_key(&j, "rss_anon_delta"); ct_json_int(&j, (int64_t)(b->rss_anon - a->rss_anon));
		ct_json_key(&j, "heap_in_use_delta");
		if (first->have_heap && last->have_heap)
			ct_json_int(&j, (int64_t)(last->heap_in_use - first->heap_in_use));
		else
			ct_json_null(&j);
		ct_json_key(&j, "heap_free_delta");
		if (first->have_heap && last->have_heap)
			ct_json_int(&j, (int64_t)(last->heap_free - first->heap_free));
		else
			ct_json_null(&j);
		json_growth(&j, gr, ngr);
		ct_json_obj_end(&j);
		ct_buf_putc(out, '\n');
		return;
	}
	ct_buf_printf(out, "\nover %.1f s (%zu samples, %s): RSS %s (%s -> %s), anon %s", (double)last->t_ns / 1e9,
		      nsamples, ended, D((int64_t)(b->vm_rss - a->vm_rss)), B(a->vm_rss), B(b->vm_rss),
		      D((int64_t)(b->rss_anon - a->rss_anon)));
	if (first->have_heap && last->have_heap)
		ct_buf_printf(out, ", heap in use %s, heap free %s", D((int64_t)(last->heap_in_use - first->heap_in_use)),
			      D((int64_t)(last->heap_free - first->heap_free)));
	ct_buf_putc(out, '\n');
	if (!ngr) {
		ct_buf_puts(out, "no mapping grew\n");
		return;
	}
	ct_buf_puts(out, "what grew (RSS):\n");
	for (size_t i = 0; i < ngr; i++) {
		char label[64];
		growth_label(gr[i].g, label, sizeof(label));
		ct_buf_printf(out, "  %-40s %10s  (%s -> %s)\n", label, D(gr[i].delta), B(gr[i].before), B(gr[i].g->rss));
	}
}
