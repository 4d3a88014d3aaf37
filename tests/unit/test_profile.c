/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile model: frames and stacks interned once, counts added, pc cache; how text reports
 * and folded stacks name its frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/profile.h"
#include "formats/folded.h"
#include "report/profile.h"

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

static const char *text_name(const struct ct_pframe *f, struct ct_buf *b)
{
	ct_buf_reset(b);
	ct_report_pframe_name(b, f);
	return ct_buf_cstr(b);
}

/* Text shows frames as --backtraces does; FlameGraph's annotations stay in folded stacks. */
static void frame_names_for_people(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	struct ct_pframe kernel = { "[kernel]", NULL, NULL, 0, CT_PFRAME_KERNEL };
	struct ct_pframe ksym = { "do_sys_poll", NULL, NULL, 0, CT_PFRAME_KERNEL };
	struct ct_pframe inl = { "__GI___libc_read", "/lib/libc.so.6", "read.c", 26, CT_PFRAME_INLINED };
	struct ct_pframe jit = { "LazyCompile:*fib", NULL, NULL, 0, CT_PFRAME_JIT };
	struct ct_pframe vdso = { "[[vdso]]", "[vdso]", NULL, 0, CT_PFRAME_NORMAL };
	struct ct_pframe lib = { "[libc.so.6]", "/lib/libc.so.6", NULL, 0, CT_PFRAME_NORMAL };
	struct ct_pframe fn = { "main", "/bin/x", "x.c", 3, CT_PFRAME_NORMAL };
	struct ct_pframe root = { "nginx", NULL, NULL, 0, CT_PFRAME_ROOT };
	struct ct_pframe odd = { "[[", NULL, NULL, 0, CT_PFRAME_NORMAL };
	assert_string_equal(text_name(&kernel, &b), "[kernel]");
	assert_string_equal(text_name(&ksym, &b), "do_sys_poll [kernel]");
	assert_string_equal(text_name(&inl, &b), "__GI___libc_read [inlined]");
	assert_string_equal(text_name(&jit, &b), "LazyCompile:*fib [jit]");
	assert_string_equal(text_name(&vdso, &b), "[vdso]");
	assert_string_equal(text_name(&lib, &b), "[libc.so.6]");
	assert_string_equal(text_name(&fn, &b), "main");
	assert_string_equal(text_name(&root, &b), "nginx");
	assert_string_equal(text_name(&odd, &b), "[[");
	ct_buf_free(&b);
}

/* root;main;read;[kernel] 6, root;main;__GI___libc_read (inlined);[vdso] 3, root;main 1 */
static void profile_text_and_folded(void **state)
{
	(void)state;
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	uint32_t root, m, rd, in, vd, k;
	struct ct_frame fm = { .function = "main", .module = "/bin/x", .file = "x.c", .line = 3 };
	struct ct_frame fr = { .function = "read", .module = "/lib/libc.so.6" };
	struct ct_frame fi = { .function = "__GI___libc_read", .module = "/lib/libc.so.6", .inlined = true };
	struct ct_frame fv = { .pc = 0x7fff0000, .module = "[vdso]" };
	assert_int_equal(ct_profile_frame_named(p, "x", CT_PFRAME_ROOT, &root), 0);
	assert_int_equal(ct_profile_frame(p, &fm, &m), 0);
	assert_int_equal(ct_profile_frame(p, &fr, &rd), 0);
	assert_int_equal(ct_profile_frame(p, &fi, &in), 0);
	assert_int_equal(ct_profile_frame(p, &fv, &vd), 0);
	assert_int_equal(ct_profile_frame_named(p, "[kernel]", CT_PFRAME_KERNEL, &k), 0);
	uint32_t s1[] = { root, m, rd, k }, s2[] = { root, m, in, vd }, s3[] = { root, m };
	assert_int_equal(ct_profile_add(p, s1, 4, 6, 0), 0);
	assert_int_equal(ct_profile_add(p, s2, 4, 3, 0), 0);
	assert_int_equal(ct_profile_add(p, s3, 2, 1, 0), 0);
	ct_profile_sort(p);

	struct ct_buf out = CT_BUF_INIT;
	struct ct_profile_meta meta = { "ctrace profile of x (1)", "perf", 99, 0, 0 };
	ct_report_profile_text(p, &meta, &out);
	const char *t = ct_buf_cstr(&out);
	assert_non_null(strstr(t, "   60.00   60.00   [kernel]\n"));
	assert_non_null(strstr(t, "   30.00   30.00   [vdso]\n"));
	assert_non_null(strstr(t, "   10.00  100.00   main  (x.c)\n"));
	assert_null(strstr(t, "_[k]"));
	assert_null(strstr(t, "_[i]"));
	assert_null(strstr(t, "[[vdso]]"));
	ct_buf_reset(&out);

	/* an inlined leaf is marked as --backtraces marks it */
	uint32_t s4[] = { root, m, in };
	assert_int_equal(ct_profile_add(p, s4, 3, 10, 0), 0);
	ct_report_profile_text(p, &meta, &out);
	assert_non_null(strstr(ct_buf_cstr(&out), "   __GI___libc_read [inlined]\n"));
	ct_buf_reset(&out);

	assert_int_equal(ct_pwrite_folded(p, &out), 0);
	t = ct_buf_cstr(&out);
	assert_non_null(strstr(t, "x;main;read;[kernel]_[k] 6\n"));
	assert_non_null(strstr(t, "x;main;__GI___libc_read_[i];[[vdso]] 3\n"));
	assert_non_null(strstr(t, "x;main;__GI___libc_read_[i] 10\n"));
	ct_buf_free(&out);
	ct_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_interned_once),
		cmocka_unit_test(stacks_counted),
		cmocka_unit_test(many_stacks_grow),
		cmocka_unit_test(pc_cache),
		cmocka_unit_test(frame_names_for_people),
		cmocka_unit_test(profile_text_and_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
