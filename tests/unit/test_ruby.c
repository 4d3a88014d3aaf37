/* Unit tests for interp/'s Ruby readers: the succinct line table (tables built here the way
 * iseq.c's succ_index_table_create lays them out, checked position by position against a plain
 * count), the line lookup, the layout table lookup and the raw control-frame decoder. The offsets
 * themselves are checked against the interpreter by tests/integration/test_backtraces_ruby.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "interp/rblayout.h"
#include "interp/ruby.h"

/* The succ index table of the sorted positions pos[0..n) for an iseq of size instructions. */
static uint8_t *succ_build(const unsigned *pos, size_t n, unsigned size, size_t *ret_len)
{
	size_t len = ct_rb_succ_len_for(size);
	uint8_t *t = calloc(1, len);
	assert_non_null(t);
	for (unsigned x = 0; x < 54; x++) {
		uint64_t rank = 0, word;
		for (size_t i = 0; i < n; i++)
			rank += pos[i] <= x;
		memcpy(&word, t + x / 9 * 8, 8);
		word |= rank << (x % 9 * 7);
		memcpy(t + x / 9 * 8, &word, 8);
	}
	for (size_t off = 48, k = 0; off + 80 <= len; off += 80, k++) {
		unsigned lo = 54 + (unsigned)k * 512;
		uint32_t rank = 0;
		uint64_t small = 0, bits[8] = { 0 };
		for (size_t i = 0; i < n; i++) {
			rank += pos[i] < lo;
			if (pos[i] >= lo && pos[i] < lo + 512)
				bits[(pos[i] - lo) / 64] |= 1ull << ((pos[i] - lo) % 64);
		}
		for (unsigned s = 1, c = 0; s < 8; s++) {
			c += (unsigned)__builtin_popcountll(bits[s - 1]);
			small |= (uint64_t)c << ((s - 1) * 9);
		}
		memcpy(t + off, &rank, 4);
		memcpy(t + off + 8, &small, 8);
		memcpy(t + off + 16, bits, sizeof(bits));
	}
	*ret_len = len;
	return t;
}

static void test_succ_index(void **state)
{
	(void)state;
	const unsigned pos[] = { 0, 3, 10, 53, 54, 60, 117, 118, 565, 566, 600, 1000, 1199 };
	const size_t n = sizeof(pos) / sizeof(pos[0]);
	size_t len;
	uint8_t *t = succ_build(pos, n, 1200, &len);
	for (unsigned x = 0; x < 1200; x++) {
		int want = 0;
		for (size_t i = 0; i < n; i++)
			want += pos[i] <= x;
		assert_int_equal(ct_rb_succ_index(t, len, x), want);
	}
	/* beyond the table, or a table cut short: -1, never a read past it */
	assert_int_equal(ct_rb_succ_index(t, len, 2000), -1);
	assert_int_equal(ct_rb_succ_index(t, 47, 0), -1);
	assert_int_equal(ct_rb_succ_index(t, 48 + 79, 60), -1);
	assert_int_equal(ct_rb_succ_index(NULL, 0, 0), -1);
	free(t);
}

static void test_line(void **state)
{
	(void)state;
	/* entries start at positions 0 (line 5), 4 (line 6), 70 (line 9); 12-byte entries */
	const unsigned pos[] = { 0, 4, 70 };
	size_t len;
	uint8_t *t = succ_build(pos, 3, 100, &len);
	uint8_t e[36] = { 0 };
	const int32_t lines[] = { 5, 6, 9 };
	for (int i = 0; i < 3; i++)
		memcpy(e + i * 12, &lines[i], 4);
	/* the pc points after the running instruction: pos - 1 is looked up */
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 0), 5);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 4), 5);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 5), 6);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 70), 6);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 71), 9);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, 99), 9);
	/* one entry: no table needed */
	assert_int_equal(ct_rb_line(e, 1, 12, 0, NULL, 0, 50), 5);
	/* a rank beyond the entries (a table that does not fit them): -1 */
	assert_int_equal(ct_rb_line(e, 2, 12, 0, t, len, 71), -1);
	assert_int_equal(ct_rb_line(e, 3, 12, 0, t, len, -1), -1);
	assert_int_equal(ct_rb_line(NULL, 3, 12, 0, t, len, 5), -1);
	assert_int_equal(ct_rb_line(e, 3, 2, 0, t, len, 5), -1);
	free(t);
}

static void test_layouts(void **state)
{
	(void)state;
	const struct ct_rb_layout *L = ct_rb_layout_find("3.1.2");
	assert_non_null(L);
	assert_int_equal(L->cfp_size, 64);
	assert_ptr_equal(ct_rb_layout_find("3.1.7"), L); /* per minor version */
	assert_null(ct_rb_layout_find("3.2.0"));
	assert_null(ct_rb_layout_find("2.7.8"));
	assert_null(ct_rb_layout_find("x"));
	assert_null(ct_rb_layout_find(NULL));
	size_t n;
	const struct ct_rb_layout *all = ct_rb_layouts(&n);
	for (size_t i = 0; i < n; i++) {
		/* every field the reader uses lies inside the sizes it reads */
		assert_true(all[i].cfp_pc + 8 <= all[i].cfp_size && all[i].cfp_iseq + 8 <= all[i].cfp_size &&
			    all[i].cfp_ep + 8 <= all[i].cfp_size);
		assert_true(all[i].insn_info_line + 4 <= all[i].insn_info_size);
	}
}

static void test_raw_decode(void **state)
{
	(void)state;
	const struct ct_rb_raw_frame *f;
	uint8_t junk[16] = { 0 };
	assert_int_equal(ct_rb_raw_decode(NULL, 0, &f), -EINVAL);
	assert_int_equal(ct_rb_raw_decode(junk, sizeof(junk), &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_succ_index), cmocka_unit_test(test_line),
		cmocka_unit_test(test_layouts),    cmocka_unit_test(test_raw_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
