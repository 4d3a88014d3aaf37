/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prints one entry of interp/rblayout.c: built by interp/gen/rboffsets.sh against the MJIT header a
 * Ruby install ships (rb_mjit_min_header-X.Y.Z.h, which carries vm_core.h, iseq.h and method.h). */
#include RB_MJIT_HEADER
#include <ruby/io.h> /* rb_io_t: not in the MJIT header */
#define P(name, expr) printf("\t\t." #name " = %zu,\n", (size_t)(expr))
extern const char ruby_version[];
int main(void)
{
	printf("\t\t.version = \"%s\",\n", ruby_version);
	P(vm_ractor_main_ractor, offsetof(rb_vm_t, ractor.main_ractor));
	P(ractor_threads_set, offsetof(struct rb_ractor_struct, threads.set));
	P(ractor_threads_cnt, offsetof(struct rb_ractor_struct, threads.cnt));
	P(ractor_gvl_owner, offsetof(struct rb_ractor_struct, threads.gvl.owner));
	P(ractor_running_ec, offsetof(struct rb_ractor_struct, threads.running_ec));
	P(thread_lt_node, offsetof(rb_thread_t, lt_node));
	P(thread_ractor, offsetof(rb_thread_t, ractor));
	P(thread_ec, offsetof(rb_thread_t, ec));
	P(thread_tid, offsetof(rb_thread_t, tid));
	P(ec_vm_stack, offsetof(rb_execution_context_t, vm_stack));
	P(ec_vm_stack_size, offsetof(rb_execution_context_t, vm_stack_size));
	P(ec_cfp, offsetof(rb_execution_context_t, cfp));
	P(ec_thread_ptr, offsetof(rb_execution_context_t, thread_ptr));
	P(cfp_pc, offsetof(rb_control_frame_t, pc));
	P(cfp_iseq, offsetof(rb_control_frame_t, iseq));
	P(cfp_ep, offsetof(rb_control_frame_t, ep));
	P(cfp_size, sizeof(rb_control_frame_t));
	P(iseq_body, offsetof(rb_iseq_t, body));
	P(body_iseq_size, offsetof(struct rb_iseq_constant_body, iseq_size));
	P(body_iseq_encoded, offsetof(struct rb_iseq_constant_body, iseq_encoded));
	P(body_path, offsetof(struct rb_iseq_constant_body, location.pathobj));
	P(body_label, offsetof(struct rb_iseq_constant_body, location.label));
	P(body_first_lineno, offsetof(struct rb_iseq_constant_body, location.first_lineno));
	P(body_insns_info, offsetof(struct rb_iseq_constant_body, insns_info.body));
	P(body_insns_size, offsetof(struct rb_iseq_constant_body, insns_info.size));
	P(body_succ_index_table, offsetof(struct rb_iseq_constant_body, insns_info.succ_index_table));
	P(insn_info_line, offsetof(struct iseq_insn_info_entry, line_no));
	P(insn_info_size, sizeof(struct iseq_insn_info_entry));
	P(string_len, offsetof(struct RString, as.heap.len));
	P(string_ptr, offsetof(struct RString, as.heap.ptr));
	P(string_embed, offsetof(struct RString, as.embed.ary));
	P(array_ptr, offsetof(struct RArray, as.heap.ptr));
	P(array_embed, offsetof(struct RArray, as.ary));
	P(string_noembed, RSTRING_NOEMBED);
	P(string_embed_len_mask, RSTRING_EMBED_LEN_MASK);
	P(string_embed_len_shift, RSTRING_EMBED_LEN_SHIFT);
	P(array_embed_flag, RARRAY_EMBED_FLAG);
	P(vm_objspace, offsetof(rb_vm_t, objspace));
	P(thread_locking_mutex, offsetof(rb_thread_t, locking_mutex));
	P(thread_keeping_mutexes, offsetof(rb_thread_t, keeping_mutexes));
	P(cfp_self, offsetof(rb_control_frame_t, self));
	P(typeddata_type, offsetof(struct RTypedData, type));
	P(typeddata_typed, offsetof(struct RTypedData, typed_flag));
	P(typeddata_data, offsetof(struct RTypedData, data));
	P(me_owner, offsetof(rb_callable_method_entry_t, owner));
	P(file_fptr, offsetof(struct RFile, fptr));
	P(io_fd, offsetof(rb_io_t, fd));
	/* C functions' names: the method entry, the ID table, class paths */
	P(vm_mark_object_ary, offsetof(rb_vm_t, mark_object_ary));
	P(array_len, offsetof(struct RArray, as.heap.len));
	P(array_embed_len_mask, RARRAY_EMBED_LEN_MASK);
	P(array_embed_len_shift, RARRAY_EMBED_LEN_SHIFT);
	P(me_def, offsetof(rb_callable_method_entry_t, def));
	P(def_original_id, offsetof(rb_method_definition_t, original_id));
	{
		/* the 4-bit type field, at the start of the definition */
		rb_method_definition_t d;
		uint32_t mask;
		memset(&d, 0, sizeof(d));
		d.type = 0xf;
		memcpy(&mask, &d, sizeof(mask));
		P(def_type_mask, mask);
	}
	P(class_ext, offsetof(struct RClass, ptr));
	P(classext_iv_tbl, offsetof(rb_classext_t, iv_tbl));
	P(st_entries_start, offsetof(struct st_table, entries_start));
	P(st_entries_bound, offsetof(struct st_table, entries_bound));
	P(st_entries, offsetof(struct st_table, entries));
	P(id_scope_shift, RUBY_ID_SCOPE_SHIFT);
	P(last_op_id, tLAST_OP_ID);
	P(method_type_cfunc, VM_METHOD_TYPE_CFUNC);
	P(fl_singleton, RUBY_FL_SINGLETON);
	return 0;
}
