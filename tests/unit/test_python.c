/* Unit tests for interp/: the line tables of each CPython version (tables written byte by byte
 * from Objects/lnotab_notes.txt and Objects/locations.md), the layout table lookup, the raw chain
 * decoder, and the 3.11 layout table (the _thread module's lock objects too) against
 * python3.11-dbg's DWARF through layout/dwtype (skipped, loudly, when the debug file is absent:
 * make deps installs it), and the exact matching of 3.12+ frame groups to eval-loop frames by the
 * stack addresses of their entry frames, on synthetic stacks. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "interp/interp.h"
#include "interp/pylayout.h"
#include "interp/python.h"
#include "layout/dwtype.h"

static void test_lnotab(void **state)
{
	(void)state;
	/* line 10 from byte 0, +2 at byte 6, -1 at byte 10 (3.6+ deltas are signed) */
	const uint8_t t[] = { 6, 2, 4, 0xff };
	assert_int_equal(ct_py_line_lnotab(t, sizeof(t), 10, 0), 10);
	assert_int_equal(ct_py_line_lnotab(t, sizeof(t), 10, 5), 10);
	assert_int_equal(ct_py_line_lnotab(t, sizeof(t), 10, 6), 12);
	assert_int_equal(ct_py_line_lnotab(t, sizeof(t), 10, 12), 11);
	assert_int_equal(ct_py_line_lnotab(t, 3, 10, 12), 12); /* an odd byte is ignored */
	assert_int_equal(ct_py_line(0x03090000, t, sizeof(t), 10, 6), 12);
	assert_int_equal(ct_py_line(0x03090000, t, sizeof(t), 10, -1), 10);
}

static void test_linetable_310(void **state)
{
	(void)state;
	/* bytes [0,4) line 11, [4,8) no line, [8,14) line 13 */
	const uint8_t t[] = { 4, 1, 4, 0x80, 6, 2 };
	assert_int_equal(ct_py_line_310(t, sizeof(t), 10, 0), 11);
	assert_int_equal(ct_py_line_310(t, sizeof(t), 10, 5), -1);
	assert_int_equal(ct_py_line_310(t, sizeof(t), 10, 8), 13);
	assert_int_equal(ct_py_line_310(t, sizeof(t), 10, 14), -1);
	/* 3.10's f_lasti counts instructions: 4 is byte 8 */
	assert_int_equal(ct_py_line(0x030a0000, t, sizeof(t), 10, 4), 13);
}

static void test_locations_311(void **state)
{
	(void)state;
	const uint8_t t[] = {
		0x80 | 13 << 3 | 0, 0x02,                  /* 1 unit, no column, line +1 -> 11 */
		0x80 | 11 << 3 | 1, 4, 8,                  /* 2 units, one-line form +1 -> 12 */
		0x80 | 3 << 3 | 0, 5,                      /* 1 unit, short form, same line */
		0x80 | 15 << 3 | 0,                        /* 1 unit, no location */
		0x80 | 14 << 3 | 2, 0x40, 0x01, 0, 1, 2,   /* 3 units, long form: 0x40 0x01 is 64: +32 */
	};
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 0), 11);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 1), 12);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 2), 12);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 3), 12);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 4), -1);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 5), 12 + 32);
	assert_int_equal(ct_py_line_311(t, sizeof(t), 10, 8), -1); /* past the table */
	/* a negative delta: svarint 3 is -1 */
	const uint8_t neg[] = { 0x80 | 13 << 3, 0x03 };
	assert_int_equal(ct_py_line_311(neg, sizeof(neg), 10, 0), 9);
	/* truncated entries and a byte that does not start an entry are -1, never a read past */
	const uint8_t cut[] = { 0x80 | 14 << 3, 0x41 };
	assert_int_equal(ct_py_line_311(cut, sizeof(cut), 10, 0), -1);
	const uint8_t bad[] = { 0x01 };
	assert_int_equal(ct_py_line_311(bad, sizeof(bad), 10, 0), -1);
	assert_int_equal(ct_py_line_311(t, 0, 10, 0), -1);
}

static void test_layouts(void **state)
{
	(void)state;
	size_t n;
	const struct ct_py_layout *all = ct_py_layouts(&n);
	assert_int_equal(n, 8);
	for (unsigned minor = 6; minor <= 13; minor++) {
		const struct ct_py_layout *L = ct_py_layout_find(0x03000000u | minor << 16 | 0x02f0);
		assert_non_null(L);
		assert_int_equal(L->version, 0x03000000u | minor << 16);
		/* the fields every version reads */
		assert_true(L->interp_threads_head != CT_PY_NONE && L->tstate_next != CT_PY_NONE &&
			    L->frame_previous != CT_PY_NONE && L->frame_code != CT_PY_NONE &&
			    L->code_name != CT_PY_NONE && L->code_filename != CT_PY_NONE &&
			    L->code_linetable != CT_PY_NONE);
		/* a current frame and an id to match threads by */
		assert_true(L->tstate_frame != CT_PY_NONE || L->tstate_cframe != CT_PY_NONE ||
			    L->tstate_current_frame != CT_PY_NONE);
		assert_true(minor < 11 || L->tstate_native_thread_id != CT_PY_NONE);
		assert_true(minor < 11 ? L->frame_lasti != CT_PY_NONE : L->frame_instr != CT_PY_NONE);
		assert_true(minor < 11 || L->code_qualname != CT_PY_NONE);
		/* --memory: the collector's state is somewhere (3.6: by symbol) and pymalloc's too */
		assert_true(minor == 6 || L->runtime_gc != CT_PY_NONE || L->interp_gc != CT_PY_NONE);
		assert_true(minor < 12 || L->interp_obmalloc != CT_PY_NONE || L->interp_obmalloc_ptr != CT_PY_NONE);
		assert_true(L->gcgen_size != CT_PY_NONE && L->gcstats_size != CT_PY_NONE &&
			    L->arena_size != CT_PY_NONE && L->pool_overhead != CT_PY_NONE);
		assert_true(L->pool_bits < L->arena_bits && L->arena_bits <= 24 &&
			    L->small_classes << L->alignment_shift == 512);
	}
	assert_null(ct_py_layout_find(0x03050000));
	assert_null(ct_py_layout_find(0x030e0000));
	(void)all;
}

static void test_raw_decode(void **state)
{
	(void)state;
	const struct ct_py_raw_frame *f;
	uint8_t junk[8] = { 0 };
	assert_int_equal(ct_py_raw_decode(NULL, 0, &f), -EINVAL);
	assert_int_equal(ct_py_raw_decode(junk, sizeof(junk), &f), -EINVAL);
}

/* The 3.11 table against the DWARF of Debian's python3.11 (python3.11-dbg) */
static int member(Dwfl_Module *mod, const char *type, const char *path, size_t *ret)
{
	Dwarf_Die die;
	int r = ct_dwtype_find_in_module(mod, type, &die);
	return r < 0 ? r : ct_dwtype_path(&die, path, ret, NULL);
}

static size_t type_size(Dwfl_Module *mod, const char *type)
{
	Dwarf_Die die;
	size_t size = 0;
	assert_int_equal(ct_dwtype_find_in_module(mod, type, &die), 0);
	assert_int_equal(ct_dwtype_size(&die, &size), 0);
	return size;
}

static void test_dwarf_311(void **state)
{
	(void)state;
	const char *exe = "/usr/bin/python3.11";
	static char *debug_path = NULL;
	static const Dwfl_Callbacks cb = { .find_debuginfo = dwfl_standard_find_debuginfo,
					   .section_address = dwfl_offline_section_address,
					   .debuginfo_path = &debug_path };
	Dwfl *dwfl = dwfl_begin(&cb);
	assert_non_null(dwfl);
	Dwfl_Module *mod = dwfl_report_offline(dwfl, "python3.11", exe, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	Dwarf_Addr bias;
	if (!mod || !dwfl_module_getdwarf(mod, &bias)) {
		fprintf(stderr, "SKIP: %s or its debug file (python3.11-dbg, make deps installs it) is "
			"missing: the 3.11 layout table is not checked against DWARF\n", exe);
		dwfl_end(dwfl);
		skip();
	}
	const struct ct_py_layout *L = ct_py_layout_find(0x030b0000);
	static const struct {
		const char *type, *path;
		size_t field;
	} checks[] = {
		{ "_PyRuntimeState", "interpreters.head", offsetof(struct ct_py_layout, runtime_interpreters_head) },
		{ "_PyRuntimeState", "ceval.gil", offsetof(struct ct_py_layout, runtime_gil) },
		{ "PyInterpreterState", "threads.head", offsetof(struct ct_py_layout, interp_threads_head) },
		{ "PyInterpreterState", "next", offsetof(struct ct_py_layout, interp_next) },
		{ "_gil_runtime_state", "last_holder", offsetof(struct ct_py_layout, gil_last_holder) },
		{ "_gil_runtime_state", "locked", offsetof(struct ct_py_layout, gil_locked) },
		{ "PyThreadState", "next", offsetof(struct ct_py_layout, tstate_next) },
		{ "PyThreadState", "interp", offsetof(struct ct_py_layout, tstate_interp) },
		{ "PyThreadState", "thread_id", offsetof(struct ct_py_layout, tstate_thread_id) },
		{ "PyThreadState", "native_thread_id", offsetof(struct ct_py_layout, tstate_native_thread_id) },
		{ "PyThreadState", "cframe", offsetof(struct ct_py_layout, tstate_cframe) },
		{ "PyThreadState", "datastack_chunk", offsetof(struct ct_py_layout, tstate_datastack_chunk) },
		{ "PyThreadState", "datastack_top", offsetof(struct ct_py_layout, tstate_datastack_top) },
		{ "_PyCFrame", "current_frame", offsetof(struct ct_py_layout, cframe_current_frame) },
		{ "_PyCFrame", "previous", offsetof(struct ct_py_layout, cframe_previous) },
		{ "PyThreadState", "root_cframe", offsetof(struct ct_py_layout, tstate_root_cframe) },
		{ "_PyInterpreterFrame", "previous", offsetof(struct ct_py_layout, frame_previous) },
		{ "_PyInterpreterFrame", "f_code", offsetof(struct ct_py_layout, frame_code) },
		{ "_PyInterpreterFrame", "prev_instr", offsetof(struct ct_py_layout, frame_instr) },
		{ "_PyInterpreterFrame", "owner", offsetof(struct ct_py_layout, frame_owner) },
		{ "_PyInterpreterFrame", "is_entry", offsetof(struct ct_py_layout, frame_is_entry) },
		{ "_PyInterpreterFrame", "localsplus", offsetof(struct ct_py_layout, frame_size) },
		{ "PyCodeObject", "co_name", offsetof(struct ct_py_layout, code_name) },
		{ "PyCodeObject", "co_qualname", offsetof(struct ct_py_layout, code_qualname) },
		{ "PyCodeObject", "co_filename", offsetof(struct ct_py_layout, code_filename) },
		{ "PyCodeObject", "co_firstlineno", offsetof(struct ct_py_layout, code_firstlineno) },
		{ "PyCodeObject", "co_linetable", offsetof(struct ct_py_layout, code_linetable) },
		{ "PyCodeObject", "co_code_adaptive", offsetof(struct ct_py_layout, code_code_adaptive) },
		{ "PyCodeObject", "_co_firsttraceable", offsetof(struct ct_py_layout, code_firsttraceable) },
		{ "PyASCIIObject", "state", offsetof(struct ct_py_layout, unicode_state) },
		{ "PyASCIIObject", "length", offsetof(struct ct_py_layout, unicode_length) },
		{ "PyVarObject", "ob_size", offsetof(struct ct_py_layout, bytes_size) },
		{ "PyBytesObject", "ob_sval", offsetof(struct ct_py_layout, bytes_data) },
		{ "PyObject", "ob_type", offsetof(struct ct_py_layout, object_type) },
		{ "PyCodeObject", "co_stacksize", offsetof(struct ct_py_layout, code_stacksize) },
		{ "PyCodeObject", "co_nlocalsplus", offsetof(struct ct_py_layout, code_nlocalsplus) },
		{ "PyTypeObject", "tp_name", offsetof(struct ct_py_layout, type_name) },
		{ "PyCFunctionObject", "m_self", offsetof(struct ct_py_layout, cfunc_self) },
		/* the _thread module's objects, declared in Modules/_threadmodule.c */
		{ "lockobject", "lock_lock", offsetof(struct ct_py_layout, lock_lock) },
		{ "rlockobject", "rlock_lock", offsetof(struct ct_py_layout, rlock_lock) },
		{ "rlockobject", "rlock_owner", offsetof(struct ct_py_layout, rlock_owner) },
		{ "rlockobject", "rlock_count", offsetof(struct ct_py_layout, rlock_count) },
		/* --memory: the collector, and pymalloc's structs (private to obmalloc.c in 3.11) */
		{ "_PyRuntimeState", "interpreters.main", offsetof(struct ct_py_layout, runtime_interpreters_main) },
		{ "PyInterpreterState", "gc", offsetof(struct ct_py_layout, interp_gc) },
		{ "_gc_runtime_state", "enabled", offsetof(struct ct_py_layout, gc_enabled) },
		{ "_gc_runtime_state", "generations", offsetof(struct ct_py_layout, gc_generations) },
		{ "_gc_runtime_state", "generation_stats", offsetof(struct ct_py_layout, gc_generation_stats) },
		{ "gc_generation", "threshold", offsetof(struct ct_py_layout, gcgen_threshold) },
		{ "gc_generation", "count", offsetof(struct ct_py_layout, gcgen_count) },
		{ "gc_generation_stats", "collections", offsetof(struct ct_py_layout, gcstats_collections) },
		{ "gc_generation_stats", "collected", offsetof(struct ct_py_layout, gcstats_collected) },
		{ "gc_generation_stats", "uncollectable", offsetof(struct ct_py_layout, gcstats_uncollectable) },
		{ "arena_object", "address", offsetof(struct ct_py_layout, arena_address) },
		{ "arena_object", "pool_address", offsetof(struct ct_py_layout, arena_pool_address) },
		{ "arena_object", "nfreepools", offsetof(struct ct_py_layout, arena_nfreepools) },
		{ "arena_object", "ntotalpools", offsetof(struct ct_py_layout, arena_ntotalpools) },
		{ "pool_header", "ref.count", offsetof(struct ct_py_layout, pool_count) },
		{ "pool_header", "arenaindex", offsetof(struct ct_py_layout, pool_arenaindex) },
		{ "pool_header", "szidx", offsetof(struct ct_py_layout, pool_szidx) },
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		size_t off = 0;
		uint16_t want;
		memcpy(&want, (const char *)L + checks[i].field, sizeof(want));
		int r = member(mod, checks[i].type, checks[i].path, &off);
		if (r < 0 || off != want)
			fail_msg("%s.%s: DWARF says %zu (%d), the table %u", checks[i].type, checks[i].path, off, r,
				 want);
	}
	assert_int_equal(type_size(mod, "PyASCIIObject"), L->unicode_ascii_size);
	assert_int_equal(type_size(mod, "PyCompactUnicodeObject"), L->unicode_compact_size);
	assert_int_equal(type_size(mod, "gc_generation"), L->gcgen_size);
	assert_int_equal(type_size(mod, "gc_generation_stats"), L->gcstats_size);
	assert_int_equal(type_size(mod, "arena_object"), L->arena_size);
	assert_int_equal(type_size(mod, "pool_header"), L->pool_overhead);
	dwfl_end(dwfl);
}

/* Synthetic stacks: a frame is an eval-loop frame when its pc is in [0x500, 0x600) */
static bool synth_loop(const void *arg, const struct ct_frame *f)
{
	(void)arg;
	return !f->python && f->pc >= 0x500 && f->pc < 0x600;
}

static void add_native(struct ct_thread *t, uint64_t pc, uint64_t sp)
{
	struct ct_frame *f = ct_thread_add_frame(t);
	assert_non_null(f);
	f->pc = pc;
	f->sp = sp;
}

/* innermost first: a callee, eval (frame [0x1100, 0x1400)), a C call, eval ([0x1500, 0x1800)), main */
static void synth_stack(struct ct_thread *t)
{
	memset(t, 0, sizeof(*t));
	add_native(t, 0x10, 0x1000);
	add_native(t, 0x510, 0x1100);
	add_native(t, 0x20, 0x1400);
	add_native(t, 0x520, 0x1500);
	add_native(t, 0x30, 0x1800);
}

static void test_match_stack(void **state)
{
	(void)state;
	struct ct_thread t;
	long g[5];
	synth_stack(&t);
	/* each group's entry frame inside one eval frame, in the stack's order */
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1200, 0x1600 }, 2, g), 0);
	assert_int_equal(g[0], -1);
	assert_int_equal(g[1], 0);
	assert_int_equal(g[2], -1);
	assert_int_equal(g[3], 1);
	assert_int_equal(g[4], -1);
	/* the lowest and highest addresses of a frame: [sp, the caller's sp) */
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1100, 0x17f8 }, 2, g), 0);
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1400 }, 1, g), -ESRCH);
	/* an eval call that has not pushed its entry frame yet gets no group */
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1600 }, 1, g), 0);
	assert_int_equal(g[1], -1);
	assert_int_equal(g[3], 0);
	/* in no eval frame (the C call's frame, above the stack, zero), or out of order, or twice */
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1200, 0x1450 }, 2, g), -ESRCH);
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x9000 }, 1, g), -ESRCH);
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0 }, 1, g), -ESRCH);
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1600, 0x1200 }, 2, g), -ESRCH);
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1200, 0x1300 }, 2, g), -ESRCH);
	/* an eval frame whose stack pointer, or whose caller's, is unknown matches nothing */
	t.frames[4].sp = 0;
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1600 }, 1, g), -ESRCH);
	t.frames[4].sp = 0x1800;
	t.frames[1].sp = 0;
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1200 }, 1, g), -ESRCH);
	ct_thread_clear(&t);
	/* an inlined frame sharing the caller's stack pointer: the frame ends at the first one above */
	synth_stack(&t);
	t.frames[2].sp = 0x1100;
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1450, 0x1600 }, 2, g), 0);
	assert_int_equal(g[1], 0);
	ct_thread_clear(&t);
}

static void test_merge_groups(void **state)
{
	(void)state;
	struct ct_thread t;
	synth_stack(&t);
	struct ct_interp_frame *pf = calloc(3, sizeof(*pf));
	assert_non_null(pf);
	const char *names[] = { "inner", "middle", "outer" };
	const size_t groups[] = { 0, 0, 1 };
	for (size_t i = 0; i < 3; i++) {
		pf[i].f.python = true;
		pf[i].f.function = strdup(names[i]);
		pf[i].group = groups[i];
	}
	long g[5];
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1200, 0x1600 }, 2, g), 0);
	assert_int_equal(ct_interp_merge_groups(&t, pf, 3, g), 0);
	assert_int_equal(t.nframes, 6);
	assert_int_equal(t.frames[0].pc, 0x10);
	assert_string_equal(t.frames[1].function, "inner");
	assert_string_equal(t.frames[2].function, "middle");
	assert_int_equal(t.frames[3].pc, 0x20);
	assert_string_equal(t.frames[4].function, "outer");
	assert_int_equal(t.frames[5].pc, 0x30);
	ct_thread_clear(&t);
	/* the inner eval call has no group yet: it stays, the group goes to the outer one */
	synth_stack(&t);
	pf[2].group = 0;
	assert_int_equal(ct_interp_match_stack(&t, synth_loop, NULL, (const uint64_t[]){ 0x1600 }, 1, g), 0);
	assert_int_equal(ct_interp_merge_groups(&t, pf + 2, 1, g), 0);
	assert_int_equal(t.nframes, 5);
	assert_int_equal(t.frames[1].pc, 0x510);
	assert_false(t.frames[1].python);
	assert_string_equal(t.frames[3].function, "outer");
	ct_thread_clear(&t);
	ct_interp_frames_free(pf, 3);
}

/* A profile sample's bare stack: the same frames as synth_stack, matched by their sp alone */
static void test_match_spans(void **state)
{
	(void)state;
	const struct ct_interp_span s[] = { { 0x1000, false }, { 0x1100, true }, { 0x1400, false }, { 0x1500, true },
					    { 0x1800, false } };
	long g[5];
	assert_int_equal(ct_interp_match_spans(s, 5, (const uint64_t[]){ 0x1200, 0x1600 }, 2, g), 0);
	assert_int_equal(g[1], 0);
	assert_int_equal(g[3], 1);
	assert_int_equal(g[0] + g[2] + g[4], -3);
	assert_int_equal(ct_interp_match_spans(s, 5, (const uint64_t[]){ 0x1450 }, 1, g), -ESRCH);
	/* the outermost eval frame's end is unknown when nothing above it is */
	assert_int_equal(ct_interp_match_spans(s, 4, (const uint64_t[]){ 0x1600 }, 1, g), -ESRCH);
}

/* Counting: merged when the calls are the loop frames, else kept apart with both counts said */
static void test_merge_counted(void **state)
{
	(void)state;
	static const struct ct_interp_words w = { "Python", "eval-loop frame", "Python call", "Python calls",
						  "the interpreter's chain", "chain cut at its bound" };
	struct ct_thread t;
	struct ct_interp_frame *pf = calloc(3, sizeof(*pf));
	assert_non_null(pf);
	for (size_t i = 0; i < 3; i++) {
		pf[i].f.python = true;
		pf[i].f.function = strdup("f");
		pf[i].group = i;
	}
	synth_stack(&t);
	assert_int_equal(ct_interp_merge_counted(&t, pf, 2, 2, false, synth_loop, NULL, &w), 1);
	assert_int_equal(t.nframes, 5);
	assert_true(t.frames[1].python && t.frames[3].python);
	ct_thread_clear(&t);
	synth_stack(&t);
	assert_int_equal(ct_interp_merge_counted(&t, pf, 3, 3, false, synth_loop, NULL, &w), 0);
	assert_string_equal(t.interp_note, "Python frames not merged: 2 eval-loop frames on the native stack, "
			    "3 Python calls in the interpreter's chain");
	assert_int_equal(t.ninterp_frames, 3);
	ct_thread_clear(&t);
	synth_stack(&t);
	assert_int_equal(ct_interp_merge_counted(&t, pf, 1, 1, true, synth_loop, NULL, &w), 0);
	assert_string_equal(t.interp_note, "Python frames not merged: 2 eval-loop frames on the native stack, "
			    "1 Python call in the interpreter's chain (chain cut at its bound)");
	ct_thread_clear(&t);
	ct_interp_frames_free(pf, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lnotab),       cmocka_unit_test(test_linetable_310),
		cmocka_unit_test(test_locations_311), cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_raw_decode),   cmocka_unit_test(test_dwarf_311),
		cmocka_unit_test(test_match_stack),  cmocka_unit_test(test_merge_groups),
		cmocka_unit_test(test_match_spans),  cmocka_unit_test(test_merge_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
