/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile model: frames and stacks interned once, counts added, pc cache. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/profile.h"

static void frames_interned_once(void **state)
{
	(void)state;
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	struct ct_frame a = { .pc = 0x1000, .function = "work", .module = "/bin/x", .file = "x.c", .line = 3 };
	struct ct_frame b = a;
	b.pc = 0x1010;
	b.line = 7; /* another pc and line of the same function: the same frame */
	struct ct_frame c = a;
	c.inlined = true; /* the inlined instance is a different frame */
	struct ct_frame u = { .pc = 0x2000, .module = "/lib/libc.so.6" };
	uint32_t ia, ib, ic, iu;
	assert_int_equal(ct_profile_frame(p, &a, &ia), 0);
	assert_int_equal(ct_profile_frame(p, &b, &ib), 0);
	assert_int_equal(ct_profile_frame(p, &c, &ic), 0);
	assert_int_equal(ct_profile_frame(p, &u, &iu), 0);
	assert_int_equal(ia, ib);
	assert_int_not_equal(ia, ic);
	assert_int_equal(p->nframes, 3);
	assert_string_equal(p->frames[iu].name, "[libc.so.6]");
	assert_int_equal(p->frames[ic].kind, CT_PFRAME_INLINED);
	ct_profile_free(p);
}

static void stacks_counted(void **state)
{
	(void)state;
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	uint32_t root, f1, f2;
	assert_int_equal(ct_profile_frame_named(p, "prog", CT_PFRAME_ROOT, &root), 0);
	assert_int_equal(ct_profile_frame_named(p, "zeta", CT_PFRAME_NORMAL, &f1), 0);
	assert_int_equal(ct_profile_frame_named(p, "alpha", CT_PFRAME_NORMAL, &f2), 0);
	uint32_t s1[] = { root, f1 }, s2[] = { root, f2 }, bad[] = { root, 99 };
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ct_profile_add(p, i % 3 ? s1 : s2, 2, 1, 10), 0);
	assert_int_equal(ct_profile_add(p, bad, 2, 1, 1), -EINVAL);
	assert_int_equal(ct_profile_add(p, s1, 0, 1, 1), -EINVAL);
	assert_int_equal(p->nstacks, 2);
	assert_int_equal(p->total, 1000);
	assert_int_equal(p->total_weight, 10000);
	ct_profile_sort(p);
	/* sorted by name: alpha first */
	assert_int_equal(p->stacks[0].frames[1], f2);
	assert_int_equal(p->stacks[0].count, 334);
	assert_int_equal(p->stacks[1].count, 666);
	/* the index still finds stacks after the sort */
	assert_int_equal(ct_profile_add(p, s1, 2, 4, 0), 0);
	assert_int_equal(p->nstacks, 2);
	assert_int_equal(p->stacks[1].count, 670);
	ct_profile_free(p);
}

static void many_stacks_grow(void **state)
{
	(void)state;
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	uint32_t ids[3];
	char name[32];
	assert_int_equal(ct_profile_frame_named(p, "root", CT_PFRAME_ROOT, &ids[0]), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "f%d", i % 100);
		assert_int_equal(ct_profile_frame_named(p, name, CT_PFRAME_NORMAL, &ids[1]), 0);
		snprintf(name, sizeof(name), "g%d", i / 100);
		assert_int_equal(ct_profile_frame_named(p, name, CT_PFRAME_NORMAL, &ids[2]), 0);
		assert_int_equal(ct_profile_add(p, ids, 3, 1, 0), 0);
		assert_int_equal(ct_profile_add(p, ids, 3, 1, 0), 0);
	}
	assert_int_equal(p->nframes, 1 + 100 + 50);
	assert_int_equal(p->nstacks, 5000);
	assert_int_equal(p->total, 10000);
	for (size_t i = 0; i < p->nstacks; i++)
		assert_int_equal(p->stacks[i].count, 2);
	ct_profile_free(p);
}

static void pc_cache(void **state)
{
	(void)state;
	struct ct_pccache *c;
	assert_int_equal(ct_pccache_new(&c), 0);
	const uint32_t *ids;
	size_t n;
	assert_false(ct_pccache_get(c, 0x400000, false, &ids, &n));
	for (uint32_t i = 0; i < 10000; i++) {
		uint32_t v[2] = { i, i + 1 };
		assert_int_equal(ct_pccache_put(c, 0x400000 + (uint64_t)i * 16, false, v, 1 + i % 2), 0);
	}
	assert_int_equal(ct_pccache_put(c, 0x400000, true, NULL, 0), 0); /* unknown pc: no frames */
	assert_int_equal(ct_pccache_size(c), 10001);
	for (uint32_t i = 0; i < 10000; i++) {
		assert_true(ct_pccache_get(c, 0x400000 + (uint64_t)i * 16, false, &ids, &n));
		assert_int_equal(n, 1 + i % 2);
		assert_int_equal(ids[0], i);
	}
	assert_true(ct_pccache_get(c, 0x400000, true, &ids, &n));
	assert_int_equal(n, 0);
	assert_false(ct_pccache_get(c, 0x400008, false, &ids, &n));
	ct_pccache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_interned_once),
		cmocka_unit_test(stacks_counted),
		cmocka_unit_test(many_stacks_grow),
		cmocka_unit_test(pc_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
