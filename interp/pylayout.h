/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where CPython keeps what ctrace reads, per minor version: byte offsets written from each version's
 * headers (internal/pycore_*.h included) by interp/gen/pyoffsets.sh, kept here as data. Adding a
 * version is adding one entry to the table in pylayout.c. A field a version does not have is
 * CT_PY_NONE. x86_64 only, like the capture. */
#ifndef CT_INTERP_PYLAYOUT_H
#define CT_INTERP_PYLAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define CT_PY_NONE 0xffffu

struct ct_py_layout {
	uint32_t version; /* PY_VERSION_HEX of the minor version: 0x030b0000 for 3.11 */
	/* _PyRuntime (3.7+): the interpreter list and, up to 3.11, the GIL */
	uint16_t runtime_interpreters_head, runtime_gil;
	/* PyInterpreterState: its thread list, the next interpreter, the GIL (3.12+: a pointer) */
	uint16_t interp_threads_head, interp_next, interp_gil_ptr;
	/* struct _gil_runtime_state */
	uint16_t gil_last_holder, gil_locked;
	/* PyThreadState: the list, the ids (thread_id is pthread_self(), native_thread_id the TID), the
	 * current frame (<3.11 frame; 3.11-3.12 cframe->current_frame; 3.13 current_frame) and, from
	 * 3.11, the data stack chunk the frames live in */
	uint16_t tstate_next, tstate_interp, tstate_thread_id, tstate_native_thread_id;
	uint16_t tstate_frame, tstate_cframe, cframe_current_frame, tstate_current_frame;
	/* 3.11-3.12: the _PyCFrame chain, one on the C stack per eval-loop call (cframe.previous is
	 * the caller's), ending at the thread state's own root_cframe */
	uint16_t cframe_previous, tstate_root_cframe;
	uint16_t tstate_datastack_chunk, tstate_datastack_top;
	/* The frame: PyFrameObject before 3.11 (f_back, f_code, f_lasti), _PyInterpreterFrame after
	 * (previous, f_code / f_executable, prev_instr / instr_ptr, owner, is_entry up to 3.11) */
	uint16_t frame_previous, frame_code, frame_lasti, frame_instr, frame_owner, frame_is_entry, frame_size;
	/* <3.11: f_valuestack, the evaluation stack (co_stacksize slots); 3.11+: frame_size is where
	 * localsplus starts (co_nlocalsplus locals, then co_stacksize slots of evaluation stack) */
	uint16_t frame_valuestack;
	/* PyCodeObject (co_linetable from 3.10, co_lnotab before) */
	uint16_t code_name, code_qualname, code_filename, code_firstlineno, code_linetable;
	uint16_t code_code_adaptive, code_firsttraceable, code_stacksize, code_nlocalsplus;
	/* str (PyASCIIObject, PyCompactUnicodeObject), bytes, any object */
	uint16_t unicode_state, unicode_length, unicode_ascii_size, unicode_compact_size;
	uint16_t bytes_size, bytes_data, object_type;
	/* PyTypeObject.tp_name; PyCFunctionObject.m_self (a bound builtin method's object); the
	 * _thread module's lockobject and rlockobject (Modules/_threadmodule.c): the
	 * PyThread_type_lock (a sem_t) each waits on, and an RLock's owner (its thread ident) and count */
	uint16_t type_name, cfunc_self, lock_lock, rlock_lock, rlock_owner, rlock_count;
	/* For --memory (interp/pymem.c). The main interpreter (3.7+). The collector's state: in
	 * _PyRuntime (3.7-3.8), in the interpreter (3.9+), statics of gcmodule.c (3.6: `enabled`,
	 * `generations`, `generation_stats`, by symbol); struct gc_generation and gc_generation_stats. */
	uint16_t runtime_interpreters_main, runtime_gc, interp_gc, gc_enabled, gc_generations, gc_generation_stats;
	uint16_t gcgen_size, gcgen_threshold, gcgen_count;
	uint16_t gcstats_size, gcstats_collections, gcstats_collected, gcstats_uncollectable;
	/* pymalloc's state: statics of obmalloc.c before 3.12 (by symbol), the interpreter's struct
	 * _obmalloc_state from 3.12 (3.13: a pointer to it), with its mgmt fields */
	uint16_t interp_obmalloc, interp_obmalloc_ptr;
	uint16_t om_arenas, om_maxarenas, om_narenas_currently_allocated, om_ntimes_arena_allocated;
	uint16_t om_narenas_highwater, om_raw_allocated_blocks;
	/* struct arena_object, struct pool_header, and pymalloc's constants (sizes as powers of two) */
	uint16_t arena_size, arena_address, arena_pool_address, arena_nfreepools, arena_ntotalpools;
	uint16_t pool_count, pool_arenaindex, pool_szidx, pool_overhead;
	uint16_t pool_bits, arena_bits, alignment_shift, small_classes;
};

/* The frame owners of 3.11+ (_PyInterpreterFrame.owner) */
enum { CT_PY_OWNED_BY_THREAD = 0, CT_PY_OWNED_BY_GENERATOR = 1, CT_PY_OWNED_BY_FRAME_OBJECT = 2,
       CT_PY_OWNED_BY_CSTACK = 3 /* 3.12+: the eval loop's entry frame, on the C stack */ };

/* The table for major.minor of hex (PY_VERSION_HEX), or NULL when there is none. */
const struct ct_py_layout *ct_py_layout_find(uint32_t hex);
/* Every table, for tests: *ret_n entries. */
const struct ct_py_layout *ct_py_layouts(size_t *ret_n);

/* Line tables. Each returns the line of the instruction at `addr` or -1 when the table has none
 * for it; every read stays inside [table, table + len). */
/* 3.6-3.9 co_lnotab: addr in bytes */
int ct_py_line_lnotab(const uint8_t *table, size_t len, int firstlineno, int addr);
/* 3.10 co_linetable (PEP 626): addr in bytes */
int ct_py_line_310(const uint8_t *table, size_t len, int firstlineno, int addr);
/* 3.11+ location table (Objects/locations.md): addr in code units */
int ct_py_line_311(const uint8_t *table, size_t len, int firstlineno, int addr);
/* Dispatch by version: lasti as the frame keeps it (bytes up to 3.9, code units from 3.10). A
 * negative lasti (a frame not started) is its first line. */
int ct_py_line(uint32_t version, const uint8_t *table, size_t len, int firstlineno, int lasti);

#endif
