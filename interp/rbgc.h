/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ruby's GC figures, read from outside with no stop: the objspace (rb_objspace_t, private to gc.c,
 * its layout per version in interp/rblayout.c's private table) copied in one read through
 * ruby_current_vm_ptr and vm->objspace, checked against invariants, and turned into the figures
 * GC.stat gives under the same names. */
#ifndef CT_INTERP_RBGC_H
#define CT_INTERP_RBGC_H

#include <stddef.h>
#include <stdint.h>

#include "interp/rblayout.h"
#include "interp/ruby.h"

struct ct_rb_gc {
	uint64_t count, minor_gc_count, major_gc_count;
	uint64_t heap_allocated_pages, heap_available_slots, heap_live_slots, heap_free_slots, heap_final_slots;
	uint64_t total_allocated_objects, total_freed_objects;
};

/* GC.stat's names of the figures above, in their order: *ret_n names; ct_rb_gc_values gives the
 * values in the same order. */
const char *const *ct_rb_gc_names(size_t *ret_n);
void ct_rb_gc_values(const struct ct_rb_gc *g, uint64_t *ret, size_t n);

/* Reads the figures of rb's process (the target runs). 0, -ENOTSUP (no private layout for this
 * version: *ret_why says so), -EFAULT (the VM or its objspace cannot be read: starting or ending),
 * -EPROTO (three readings in a row did not check out: a GC under way, or a layout that is wrong). */
int ct_rb_gc_read(const struct ct_rb *rb, struct ct_rb_gc *ret);

/* The figures from a copy of the objspace's first P->os_size bytes: 0, or -EPROTO when the copy does
 * not check out (also for the fuzzer). */
int ct_rb_gc_decode(const struct ct_rb_private_layout *P, const uint8_t *os, size_t len, struct ct_rb_gc *ret);

#endif
