/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where Ruby (MRI) keeps what ctrace reads, per minor version: byte offsets and flag values written
 * from the version's own headers (vm_core.h, iseq.h, method.h, as the MJIT header a Ruby install
 * ships carries them) by interp/gen/rboffsets.sh, kept here as data. Adding a version is adding one
 * entry to the table in rblayout.c. x86_64 only, like the capture. */
#ifndef CT_INTERP_RBLAYOUT_H
#define CT_INTERP_RBLAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct ct_rb_layout {
	const char *version; /* the version the entry was generated from and tested on: "3.1.2" */
	/* rb_vm_t, rb_ractor_t (its thread list and GVL), rb_thread_t */
	uint16_t vm_ractor_main_ractor, ractor_threads_set, ractor_threads_cnt, ractor_gvl_owner;
	uint16_t ractor_running_ec, thread_lt_node, thread_ractor, thread_ec, thread_tid;
	/* rb_execution_context_t and rb_control_frame_t */
	uint16_t ec_vm_stack, ec_vm_stack_size, ec_cfp, ec_thread_ptr;
	uint16_t cfp_pc, cfp_iseq, cfp_ep, cfp_size;
	/* rb_iseq_t, rb_iseq_constant_body (location and insns_info), iseq_insn_info_entry */
	uint16_t iseq_body, body_iseq_size, body_iseq_encoded, body_path, body_label, body_first_lineno;
	uint16_t body_insns_info, body_insns_size, body_succ_index_table, insn_info_line, insn_info_size;
	/* RString, RArray */
	uint16_t string_len, string_ptr, string_embed, array_ptr, array_embed;
	uint32_t string_noembed, string_embed_len_mask, string_embed_len_shift, array_embed_flag;
	/* --threads and --memory (interp/rbthreads.c, interp/rbgc.c): the objspace pointer of rb_vm_t,
	 * the Mutex a thread waits for and the list of those it holds (rb_thread_t), a control frame's
	 * self, RTypedData, the method entry of a C function's frame, an IO's descriptor */
	uint16_t vm_objspace, thread_locking_mutex, thread_keeping_mutexes, cfp_self;
	uint16_t typeddata_type, typeddata_typed, typeddata_data, me_owner;
	uint16_t file_fptr, io_fd; /* RFile's rb_io_t, and its descriptor */
	/* C functions' names (interp/rbnames.c): the VM's list of marked objects (where the ID table
	 * is found), RArray's length, the method entry and its definition, a class's instance
	 * variables (st_table), ID numbering */
	uint16_t vm_mark_object_ary, array_len, me_def, def_original_id;
	uint16_t class_ext, classext_iv_tbl, st_entries_start, st_entries_bound, st_entries;
	uint32_t array_embed_len_mask, array_embed_len_shift, def_type_mask, id_scope_shift, last_op_id;
	uint32_t method_type_cfunc, fl_singleton;
};

/* What is private to one of Ruby's .c files (gc.c's rb_objspace_t, thread_sync.c's rb_mutex_t, queue
 * and condition variable structs) and so in no header the generator can read: written by hand from
 * that version's source, per version, and checked against the interpreter in the tests
 * (test_memory_ruby.sh against GC.stat, test_threads_ruby.sh against the fixture's own mutexes). */
struct ct_rb_private_layout {
	const char *version;
	/* rb_objspace_t (gc.c): its first size pool's slot size and heaps, the page count */
	uint16_t os_total_allocated, os_pool0, os_pool_slot_size, os_eden_pages, os_eden_slots;
	uint16_t os_tomb_pages, os_tomb_slots, os_allocated_pages, os_final_slots;
	uint16_t os_minor_count, os_major_count, os_count, os_total_freed, os_size;
	uint16_t rvalue_size; /* sizeof(RVALUE): the slot size of pool 0 */
	/* thread_sync.c: rb_mutex_t's owner fiber and next held; the wait lists of a queue, a sized
	 * queue's pushers and a condition variable (ccan list heads); struct sync_waiter's thread and
	 * list node */
	uint16_t mutex_fiber, mutex_next, queue_waitq, szqueue_pushq, condvar_waitq, waiter_th, waiter_node;
};
const struct ct_rb_private_layout *ct_rb_private_find(const char *version);

/* Values that have not changed since Ruby 2.3 (vm_core.h, internal/imemo.h, ruby/internal/value_type.h) */
enum {
	CT_RB_T_MASK = 0x1f, CT_RB_T_STRING = 0x05, CT_RB_T_ARRAY = 0x07, CT_RB_T_IMEMO = 0x1a,
	CT_RB_IMEMO_SHIFT = 12, CT_RB_IMEMO_MASK = 0x0f, CT_RB_IMEMO_ISEQ = 7,
	CT_RB_FRAME_MAGIC_MASK = 0x7fff0001, CT_RB_FRAME_MAGIC_CFUNC = 0x55550001,
	CT_RB_FRAME_FLAG_FINISH = 0x0020, CT_RB_FRAME_FLAG_CFRAME = 0x0080,
	/* ep[-2] is the frame's method entry or cref, ep[0] its flags (vm_core.h, since 2.3) */
	CT_RB_ENV_ME_CREF = -2, CT_RB_ENV_FLAGS = 0,
	CT_RB_T_CLASS = 0x02, CT_RB_T_MODULE = 0x03, CT_RB_IMEMO_MENT = 6,
	/* a static Symbol is (ID << 8) | 0x0c (ruby/internal/special_consts.h) */
	CT_RB_SPECIAL_SHIFT = 8, CT_RB_SYMBOL_FLAG = 0x0c,
	/* symbol.c (since 2.2): the ID table is an Array of Arrays of ID_ENTRY_UNIT pairs (String, Symbol) */
	CT_RB_ID_ENTRY_UNIT = 512, CT_RB_ID_ENTRY_SIZE = 2,
	/* st.c (since 2.4): struct st_table_entry { hash, key, record } */
	CT_RB_ST_ENTRY_SIZE = 24, CT_RB_ST_ENTRY_KEY = 8, CT_RB_ST_ENTRY_RECORD = 16,
};

/* The table for the major.minor of version ("3.1.2"), or NULL when there is none. */
const struct ct_rb_layout *ct_rb_layout_find(const char *version);
/* Every table, for tests: *ret_n entries. */
const struct ct_rb_layout *ct_rb_layouts(size_t *ret_n);

/* The line table of an iseq (iseq.c, VM_INSN_INFO_TABLE_IMPL 2): the succinct index table
 * (struct succ_index_table: 54 immediate 7-bit ranks in 6 words, then 80-byte blocks of 512 bits)
 * maps an instruction position to its rank: how many insn_info entries start at or before it. Returns
 * the rank of pos, or -1 when the table bytes [succ, succ + len) do not cover it. */
int ct_rb_succ_index(const uint8_t *succ, size_t len, unsigned pos);
/* Bytes of the succ index table needed to look pos up. */
size_t ct_rb_succ_len_for(unsigned pos);
/* The line of the instruction before pc, as rb_vm_get_sourceline() finds it: pos is pc minus
 * iseq_encoded in VALUEs; entries (n of entry_size bytes, line_no at line_off) and the succ table
 * as copied from the target. -1 when they do not cover it. */
int ct_rb_line(const uint8_t *entries, size_t n, size_t entry_size, size_t line_off, const uint8_t *succ,
	       size_t succ_len, long pos);

#endif
