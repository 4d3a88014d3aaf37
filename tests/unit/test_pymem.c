/* SPDX-License-Identifier: GPL-2.0-or-later */
/* interp/pymem.c's walk of CPython's collector and pymalloc state over a memory image built here
 * the way the 3.6 and 3.11 tables lay it out (the same images seed fuzz_pymem): the figures, and
 * what a value that does not validate does (its part left out with a note, never a guess). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "interp/pylayout.h"
#include "interp/pymem.h"
#include "interp/pyscan.h"
#include "report/pymem.h"

#define BASE 0x10000u
#define SIZE 0xC100u

static uint8_t mem[SIZE];

static ssize_t image_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	if (addr < BASE || addr - BASE >= SIZE)
		return -EFAULT;
	size_t off = (size_t)(addr - BASE), k = SIZE - off < len ? SIZE - off : len;
	memcpy(buf, mem + off, k);
	return (ssize_t)k;
}

static void put64(size_t off, uint64_t v) { memcpy(mem + off, &v, 8); }
static void put32(size_t off, uint32_t v) { memcpy(mem + off, &v, 4); }

static const struct ct_pymem_addrs addrs = {
	.arenas = BASE + 0, .maxarenas = BASE + 8, .narenas_currently_allocated = BASE + 16,
	.ntimes_arena_allocated = BASE + 24, .narenas_highwater = BASE + 32, .raw_allocated_blocks = BASE + 40,
	.gc_enabled = BASE + 48, .gc_generations = BASE + 56, .gc_stats = BASE + 56 + 3 * 48, .runtime = BASE + 512,
};

/* pymalloc's statics, one arena of two pools at arena (the first holding 10 blocks of class 3) */
static void image(const struct ct_py_layout *L, uint64_t arena)
{
	memset(mem, 0, sizeof(mem));
	uint64_t pool = 1u << L->pool_bits;
	put64(0, BASE + 1024);
	put32(8, 2);
	put64(16, 1);
	put64(24, 3);
	put64(32, 1);
	put64(40, 77);
	put64(1024 + L->arena_address, arena);
	put64(1024 + L->arena_pool_address, arena + 2 * pool);
	put32(1024 + L->arena_ntotalpools, 2);
	for (int k = 0; k < 2; k++) {
		size_t o = (size_t)(arena - BASE + k * pool);
		put32(o + L->pool_count, k == 0 ? 10 : 0);
		put32(o + L->pool_szidx, 3);
	}
}

static void gc_at(const struct ct_py_layout *L, size_t enabled, size_t gens, size_t stats)
{
	put32(enabled, 1);
	for (int i = 0; i < 3; i++) {
		put32(gens + i * L->gcgen_size + L->gcgen_threshold, 700 - i);
		put32(gens + i * L->gcgen_size + L->gcgen_count, 5 + i);
		put64(stats + i * L->gcstats_size + L->gcstats_collections, 40 + i);
		put64(stats + i * L->gcstats_size + L->gcstats_collected, 30 + i);
	}
}

static void check_figures(const struct ct_pymem_stats *s)
{
	assert_true(s->gc);
	assert_true(s->gc_enabled);
	assert_int_equal(s->gen[2].threshold, 698);
	assert_int_equal(s->gen[1].count, 6);
	assert_int_equal(s->gen[0].collections, 40);
	assert_int_equal(s->gen[2].collected, 32);
	assert_true(s->pymalloc);
	assert_int_equal(s->arenas_walked, 1);
	assert_int_equal(s->arenas_in_use, 1);
	assert_int_equal(s->pools_carved, 2);
	assert_int_equal(s->pools_used, 1);
	assert_int_equal(s->blocks, 10);
	assert_int_equal(s->bytes, 10 * 64);
}

/* The 3.11 image: pymalloc's statics and arena, _PyRuntime's main interpreter at 0x800 and its
 * collector. Returns where the collector's state is. */
static size_t image_311(const struct ct_py_layout *L)
{
	image(L, BASE + 0x4000);
	put64(512 + L->runtime_interpreters_main, BASE + 0x800);
	size_t g = 0x800 + L->interp_gc;
	gc_at(L, g + L->gc_enabled, g + L->gc_generations, g + L->gc_generation_stats);
	return g;
}

static void test_311(void **state)
{
	(void)state;
	const struct ct_py_layout *L = ct_py_layout_find(0x030b0000);
	struct ct_memsrc m = { .read = image_read };
	struct ct_pymem_stats s;
	size_t g = image_311(L);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	check_figures(&s);
	assert_int_equal(s.raw_blocks, 77);
	assert_int_equal(s.allocated_blocks, 87);
	assert_null(s.gc_note);
	assert_null(s.pymalloc_note);

	/* a pool of another arena (being reused while read): not counted, and no total claimed */
	put32(0x4000 + L->pool_arenaindex, 1);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	assert_int_equal(s.pools_unreadable, 1);
	assert_int_equal(s.blocks, 0);
	assert_int_equal(s.allocated_blocks, -1);
	/* more blocks than the size class holds */
	put32(0x4000 + L->pool_arenaindex, 0);
	put32(0x4000 + L->pool_count, 100000);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	assert_int_equal(s.pools_unreadable, 1);
	/* a collector state that does not validate: left out with a note */
	put32(g + L->gc_enabled, 7);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	assert_false(s.gc);
	assert_non_null(s.gc_note);
	/* maxarenas past the bound */
	put32(8, CT_PYMEM_MAX_ARENAS + 1);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	assert_false(s.pymalloc);
	assert_non_null(s.pymalloc_note);
	assert_int_equal(s.blocks, 0);
	/* no interpreter yet (_PyRuntime.interpreters.main is NULL) */
	put64(512 + L->runtime_interpreters_main, 0);
	assert_int_equal(ct_pymem_read_at(&m, L, &addrs, &s), 0);
	assert_false(s.gc);
}

static void test_36(void **state)
{
	(void)state;
	const struct ct_py_layout *L = ct_py_layout_find(0x03060000);
	struct ct_memsrc m = { .read = image_read };
	struct ct_pymem_stats s;
	image(L, BASE + 0x1000);
	gc_at(L, 48, 56, 56 + 3 * 48);
	struct ct_pymem_addrs a = addrs;
	a.raw_allocated_blocks = 0;
	a.allocated_blocks = BASE + 40; /* _Py_AllocatedBlocks */
	assert_int_equal(ct_pymem_read_at(&m, L, &a, &s), 0);
	check_figures(&s);
	assert_int_equal(s.raw_blocks, -1);
	assert_int_equal(s.allocated_blocks, 77);
	/* the statics not in any symbol table: both parts left out, each with its line */
	memset(&a, 0, sizeof(a));
	assert_int_equal(ct_pymem_read_at(&m, L, &a, &s), 0);
	assert_false(s.gc || s.pymalloc);
	assert_non_null(s.gc_note);
	assert_non_null(s.pymalloc_note);
}

/* The report's python object: valid JSON with the figures, null when not Python, the note alone
 * when Python was found but not read. */
static json_object *render(const struct ct_pymem_stats *p, const char *note)
{
	struct ct_buf out = CT_BUF_INIT;
	struct ct_json j;
	ct_json_init(&j, &out);
	ct_report_pymem_json(&j, p, note);
	ct_buf_putc(&out, '\0');
	assert_false(out.err);
	json_object *o = json_tokener_parse(out.data);
	ct_buf_free(&out);
	return o;
}

static void test_report(void **state)
{
	(void)state;
	const struct ct_py_layout *L = ct_py_layout_find(0x030b0000);
	struct ct_memsrc m = { .read = image_read };
	struct ct_pymem_stats s;
	image_311(L);
	ct_pymem_read_at(&m, L, &addrs, &s);
	json_object *o = render(&s, NULL), *v, *gen;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "pymalloc", &v));
	assert_true(json_object_object_get_ex(v, "allocated_blocks", &v));
	assert_int_equal(json_object_get_int64(v), 87);
	assert_true(json_object_object_get_ex(o, "gc", &v) && json_object_object_get_ex(v, "generations", &gen));
	assert_int_equal(json_object_array_length(gen), 3);
	json_object_put(o);
	o = render(NULL, "Python 3.14: ctrace has no layout table");
	assert_true(json_object_object_get_ex(o, "note", &v));
	assert_string_equal(json_object_get_string(v), "Python 3.14: ctrace has no layout table");
	assert_true(json_object_object_get_ex(o, "gc", &v) && v == NULL);
	json_object_put(o);
	struct ct_buf out = CT_BUF_INIT;
	ct_report_pymem_text(&s, NULL, &out);
	ct_buf_putc(&out, '\0');
	assert_non_null(strstr(out.data, "87 (sys.getallocatedblocks(): pymalloc's and 77 passed on to malloc)"));
	ct_buf_free(&out);
}

/* The _PyRuntime scan (3.11 table) over the image: the runtime at 0x100 whose head and main are
 * the interpreter at 0x800, whose first thread state at 0xa00 points back; a decoy before it
 * shaped like pymalloc's usedpools (a pair of equal pointers to a "pool" whose field at the
 * interpreter's thread-list offset points back at the pair) is not taken; two runtimes are
 * ambiguous and give nothing. */
static void runtime_at(const struct ct_py_layout *L, size_t rt, size_t interp, size_t ts)
{
	put64(rt + L->runtime_interpreters_head, BASE + interp);
	put64(rt + L->runtime_interpreters_main, BASE + interp);
	put64(interp + L->interp_threads_head, BASE + ts);
	put64(ts + L->tstate_interp, BASE + interp);
	put64(ts + L->tstate_thread_id, 0x7f0000001000);
	put64(ts + L->tstate_native_thread_id, 4242);
}

static void test_scan(void **state)
{
	(void)state;
	const struct ct_py_layout *L = ct_py_layout_find(0x030b0000);
	struct ct_memsrc m = { .read = image_read };
	memset(mem, 0, sizeof(mem));
	/* the decoy: equal pointers to 0x2000, whose thread-list field points at 0x40, whose
	 * "interp" field points back at 0x2000 (but names no thread) */
	put64(0x40 + L->runtime_interpreters_head, BASE + 0x2000);
	put64(0x40 + L->runtime_interpreters_main, BASE + 0x2000);
	put64(0x2000 + L->interp_threads_head, BASE + 0x40);
	put64(0x40 + L->tstate_interp, BASE + 0x2000);
	runtime_at(L, 0x100, 0x800, 0xa00);
	assert_int_equal(ct_py_scan_buffer(&m, mem, SIZE, BASE, 0x030b0200, L), BASE + 0x100);
	/* an interpreter with a next one is not taken (head == main means one interpreter) */
	put64(0x800 + L->interp_next, BASE + 0x3000);
	assert_int_equal(ct_py_scan_buffer(&m, mem, SIZE, BASE, 0x030b0200, L), 0);
	put64(0x800 + L->interp_next, 0);
	/* two that validate: nothing */
	runtime_at(L, 0x4000, 0x4800, 0x4a00);
	assert_int_equal(ct_py_scan_buffer(&m, mem, SIZE, BASE, 0x030b0200, L), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_311),
		cmocka_unit_test(test_36),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
