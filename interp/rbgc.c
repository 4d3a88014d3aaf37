/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/rbgc.h"

#include <errno.h>
#include <string.h>

#include "interp/interp.h"
#include "lib/util.h"
#include "lib/banned.h"

#define TRIES 3                 /* readings tried before the figures are given up */
#define HEAP_PAGE_SIZE 16384    /* bytes of a heap page (HEAP_PAGE_ALIGN_LOG 14, since 2.x) */

static const char *const names[] = {
	"count", "minor_gc_count", "major_gc_count", "heap_allocated_pages", "heap_available_slots",
	"heap_live_slots", "heap_free_slots", "heap_final_slots", "total_allocated_objects",
	"total_freed_objects",
};

const char *const *ct_rb_gc_names(size_t *ret_n)
{
	*ret_n = CT_ARRAY_SIZE(names);
	return names;
}

void ct_rb_gc_values(const struct ct_rb_gc *g, uint64_t *ret, size_t n)
{
	const uint64_t v[] = { g->count, g->minor_gc_count, g->major_gc_count, g->heap_allocated_pages,
			       g->heap_available_slots, g->heap_live_slots, g->heap_free_slots,
			       g->heap_final_slots, g->total_allocated_objects, g->total_freed_objects };
	for (size_t i = 0; i < n && i < CT_ARRAY_SIZE(v); i++)
		ret[i] = v[i];
}

int ct_rb_gc_decode(const struct ct_rb_private_layout *P, const uint8_t *os, size_t len, struct ct_rb_gc *ret)
{
	uint16_t last = CT_MAX(CT_MAX(P->os_total_freed, P->os_count), CT_MAX(P->os_final_slots, P->os_tomb_slots));
	last = CT_MAX(last, CT_MAX(P->os_major_count, P->os_allocated_pages));
	if (!os || len < P->os_size || (size_t)last + 8 > len || (size_t)P->os_pool0 + P->os_pool_slot_size + 2 > len)
		return -EPROTO;
	int16_t slot;
	memcpy(&slot, os + P->os_pool0 + P->os_pool_slot_size, sizeof(slot));
	struct ct_rb_gc g;
	g.count = ct_interp_u64(os, P->os_count);
	g.minor_gc_count = ct_interp_u64(os, P->os_minor_count);
	g.major_gc_count = ct_interp_u64(os, P->os_major_count);
	g.heap_allocated_pages = ct_interp_u64(os, P->os_allocated_pages);
	uint64_t eden_pages = ct_interp_u64(os, P->os_pool0 + P->os_eden_pages);
	uint64_t tomb_pages = ct_interp_u64(os, P->os_pool0 + P->os_tomb_pages);
	uint64_t eden_slots = ct_interp_u64(os, P->os_pool0 + P->os_eden_slots);
	uint64_t tomb_slots = ct_interp_u64(os, P->os_pool0 + P->os_tomb_slots);
	g.heap_final_slots = ct_interp_u64(os, P->os_final_slots);
	g.total_allocated_objects = ct_interp_u64(os, P->os_total_allocated);
	g.total_freed_objects = ct_interp_u64(os, P->os_total_freed);
	/* every GC is minor or major; the pages of the size pool are the pages allocated; a page holds
	 * at most HEAP_PAGE_SIZE / slot size slots; no more objects freed than allocated, no more live
	 * than there are slots */
	if (slot != (int16_t)P->rvalue_size || g.count != g.minor_gc_count + g.major_gc_count ||
	    g.heap_allocated_pages != eden_pages + tomb_pages || g.heap_allocated_pages > (1ull << 32) ||
	    eden_slots + tomb_slots > g.heap_allocated_pages * (HEAP_PAGE_SIZE / P->rvalue_size) ||
	    g.total_freed_objects > g.total_allocated_objects ||
	    g.heap_final_slots > g.total_allocated_objects - g.total_freed_objects)
		return -EPROTO;
	g.heap_available_slots = eden_slots + tomb_slots;
	g.heap_live_slots = g.total_allocated_objects - g.total_freed_objects - g.heap_final_slots;
	if (g.heap_live_slots + g.heap_final_slots > g.heap_available_slots)
		return -EPROTO;
	g.heap_free_slots = g.heap_available_slots - g.heap_live_slots - g.heap_final_slots;
	*ret = g;
	return 0;
}

int ct_rb_gc_read(const struct ct_rb *rb, struct ct_rb_gc *ret)
{
	const struct ct_rb_layout *L = ct_rb_layout_of(rb);
	const struct ct_rb_private_layout *P = ct_rb_private_find(L->version);
	if (!P)
		return -ENOTSUP;
	const struct ct_memsrc *mem = ct_rb_mem(rb);
	uint8_t os[1024];
	if (P->os_size > sizeof(os))
		return -EPROTO;
	uint64_t vm, objspace;
	if (ct_interp_read_u64(mem, ct_rb_vm_ptr(rb), &vm) < 0 ||
	    ct_interp_read_u64(mem, vm + L->vm_objspace, &objspace) < 0)
		return -EFAULT;
	/* the target runs: a reading taken while its GC updates these is torn, and then fails a check */
	for (int i = 0; i < TRIES; i++) {
		if (ct_interp_read(mem, objspace, os, P->os_size) < 0)
			return -EFAULT;
		if (ct_rb_gc_decode(P, os, P->os_size, ret) == 0)
			return 0;
	}
	return -EPROTO;
}
