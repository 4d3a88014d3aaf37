/* Unit tests for layout/dwtype.c on real DWARF: this test's own, read through libdwfl from the
 * running process. The types below are the shapes the layout readers meet (anonymous unions and
 * structs, _Atomic, typedef chains, const and restrict, arrays, forward declarations); every
 * offset and size found in the DWARF is compared with what the compiler says (offsetof, sizeof). */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "layout/dwtype.h"

struct dw_inner {
	int a;
	_Atomic int b;
};
typedef struct dw_inner dw_inner_t;
typedef const dw_inner_t dw_cinner_t;
struct dw_fwd; /* declared only */

/* 16 typedefs above int (the hop bound), then one more */
typedef int dw_t0;
typedef dw_t0 dw_t1;
typedef dw_t1 dw_t2;
typedef dw_t2 dw_t3;
typedef dw_t3 dw_t4;
typedef dw_t4 dw_t5;
typedef dw_t5 dw_t6;
typedef dw_t6 dw_t7;
typedef dw_t7 dw_t8;
typedef dw_t8 dw_t9;
typedef dw_t9 dw_t10;
typedef dw_t10 dw_t11;
typedef dw_t11 dw_t12;
typedef dw_t12 dw_t13;
typedef dw_t13 dw_t14;
typedef dw_t14 dw_t15;
typedef dw_t15 dw_t16;

struct dw_sample {
	char tag;
	union {
		long l;
		struct {
			short s1;
			const volatile int s2;
		};
	};
	_Atomic long counter;
	_Atomic(dw_inner_t) ainner;
	dw_cinner_t inner;
	dw_inner_t *restrict ptr;
	struct dw_fwd *fwd;
	int arr[7];
	union {
		struct {
			int x, y;
		} pt;
		double d;
	} u;
	dw_t15 hops16;
	dw_t16 hops17;
};
typedef struct dw_sample dw_sample_t;

dw_sample_t dw_sample_var;

struct fixture {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf_Die cu;
	Dwarf_Die sample; /* struct dw_sample */
};

static int setup(void **state)
{
	static char *debuginfo_path;
	static const Dwfl_Callbacks cb = { .find_elf = dwfl_linux_proc_find_elf,
					   .find_debuginfo = dwfl_standard_find_debuginfo,
					   .debuginfo_path = &debuginfo_path };
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	if (!(f->dwfl = dwfl_begin(&cb)))
		return -1;
	dwfl_report_begin(f->dwfl);
	if (dwfl_linux_proc_report(f->dwfl, getpid()) != 0 || dwfl_report_end(f->dwfl, NULL, NULL) != 0)
		return -1;
	/* the CU of this file, found by name: clang writes no .debug_aranges, so an address lookup
	 * (dwfl_module_addrdie) would not find it */
	Dwarf_Addr bias;
	f->mod = dwfl_addrmodule(f->dwfl, (Dwarf_Addr)(uintptr_t)&setup);
	for (Dwarf_Die *cu = NULL; f->mod && (cu = dwfl_module_nextcu(f->mod, cu, &bias)) != NULL;) {
		const char *name = dwarf_diename(cu);
		size_t len = name ? strlen(name) : 0;
		if (len >= 13 && strcmp(name + len - 13, "test_dwtype.c") == 0) {
			f->cu = *cu;
			return ct_dwtype_var(&f->cu, "dw_sample_var", &f->sample) == 0 ? 0 : -1;
		}
	}
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f)
		dwfl_end(f->dwfl);
	free(f);
	return 0;
}

static size_t member_off(struct fixture *f, const char *name, Dwarf_Die *ret_type)
{
	size_t off = (size_t)-1;
	assert_int_equal(ct_dwtype_member(&f->sample, name, &off, ret_type), 0);
	return off;
}

static size_t path_off(struct fixture *f, const char *path, Dwarf_Die *ret_type)
{
	size_t off = (size_t)-1;
	assert_int_equal(ct_dwtype_path(&f->sample, path, &off, ret_type), 0);
	return off;
}

static size_t size_of(Dwarf_Die *t)
{
	size_t n = 0;
	assert_int_equal(ct_dwtype_size(t, &n), 0);
	return n;
}

static void test_lookup(void **state)
{
	struct fixture *f = *state;
	Dwarf_Die t, u;
	assert_int_equal(dwarf_tag(&f->sample), DW_TAG_structure_type);
	assert_int_equal(size_of(&f->sample), sizeof(struct dw_sample));
	/* by tag, by typedef, in the module */
	assert_int_equal(ct_dwtype_find(&f->cu, "dw_sample", &t), 0);
	assert_int_equal(dwarf_dieoffset(&t), dwarf_dieoffset(&f->sample));
	assert_int_equal(ct_dwtype_find(&f->cu, "dw_sample_t", &t), 0);
	assert_int_equal(dwarf_dieoffset(&t), dwarf_dieoffset(&f->sample));
	assert_int_equal(ct_dwtype_find(&f->cu, "dw_cinner_t", &t), 0);
	assert_int_equal(size_of(&t), sizeof(struct dw_inner));
	assert_int_equal(ct_dwtype_find_in_module(f->mod, "dw_inner_t", &u), 0);
	assert_int_equal(dwarf_dieoffset(&t), dwarf_dieoffset(&u));
	/* what is not a complete struct or union */
	assert_int_equal(ct_dwtype_find(&f->cu, "dw_fwd", &t), -ENOENT);
	assert_int_equal(ct_dwtype_find(&f->cu, "dw_t3", &t), -ENOENT);
	assert_int_equal(ct_dwtype_find(&f->cu, "no_such_type", &t), -ENOENT);
	assert_int_equal(ct_dwtype_find_in_module(f->mod, "no_such_type", &t), -ENOENT);
	assert_int_equal(ct_dwtype_var(&f->cu, "no_such_var", &t), -ENOENT);
}

static void test_members(void **state)
{
	struct fixture *f = *state;
	Dwarf_Die t, raw;
	assert_int_equal(member_off(f, "tag", &t), offsetof(struct dw_sample, tag));
	assert_int_equal(size_of(&t), 1);
	/* through an anonymous union, and an anonymous struct inside it */
	assert_int_equal(member_off(f, "l", NULL), offsetof(struct dw_sample, l));
	assert_int_equal(member_off(f, "s1", NULL), offsetof(struct dw_sample, s1));
	assert_int_equal(member_off(f, "s2", &t), offsetof(struct dw_sample, s2));
	assert_int_equal(dwarf_tag(&t), DW_TAG_base_type); /* const volatile stripped */
	assert_int_equal(size_of(&t), sizeof(int));
	/* _Atomic is stripped: it has its type's layout */
	assert_int_equal(member_off(f, "counter", &t), offsetof(struct dw_sample, counter));
	assert_int_equal(dwarf_tag(&t), DW_TAG_base_type);
	assert_int_equal(size_of(&t), sizeof(long));
	Dwarf_Die m;
	Dwarf_Attribute a;
	assert_int_equal(dwarf_child(&f->sample, &m), 0);
	while (dwarf_diename(&m) == NULL || strcmp(dwarf_diename(&m), "counter") != 0)
		assert_int_equal(dwarf_siblingof(&m, &m), 0);
	assert_non_null(dwarf_formref_die(dwarf_attr(&m, DW_AT_type, &a), &raw));
	assert_int_equal(dwarf_tag(&raw), DW_TAG_atomic_type); /* the compiler said _Atomic */
	assert_int_equal(member_off(f, "ainner", &t), offsetof(struct dw_sample, ainner));
	assert_int_equal(dwarf_tag(&t), DW_TAG_structure_type);
	assert_int_equal(path_off(f, "ainner.b", &t), offsetof(struct dw_sample, ainner) + offsetof(struct dw_inner, b));
	assert_int_equal(size_of(&t), sizeof(int));
	/* const typedef of a typedef of a struct */
	assert_int_equal(path_off(f, "inner.a", NULL), offsetof(struct dw_sample, inner.a));
	assert_int_equal(path_off(f, "inner.b", NULL), offsetof(struct dw_sample, inner.b));
	/* a named union of a struct: union members have no location and sit at 0 */
	assert_int_equal(path_off(f, "u.pt.y", NULL), offsetof(struct dw_sample, u.pt.y));
	assert_int_equal(path_off(f, "u.d", &t), offsetof(struct dw_sample, u.d));
	assert_int_equal(size_of(&t), sizeof(double));
	/* arrays */
	size_t n = 0;
	assert_int_equal(member_off(f, "arr", &t), offsetof(struct dw_sample, arr));
	assert_int_equal(size_of(&t), sizeof(dw_sample_var.arr));
	assert_int_equal(ct_dwtype_array_count(&t, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(ct_dwtype_array_count(&f->sample, &n), 0);
	assert_int_equal(n, 1);
}

static void test_pointers(void **state)
{
	struct fixture *f = *state;
	Dwarf_Die t, s;
	assert_int_equal(member_off(f, "ptr", &t), offsetof(struct dw_sample, ptr));
	assert_int_equal(dwarf_tag(&t), DW_TAG_pointer_type); /* restrict stripped, the pointer kept */
	assert_int_equal(size_of(&t), sizeof(void *));
	assert_int_equal(ct_dwtype_strip(&t, true, &s), 0);
	assert_int_equal(dwarf_tag(&s), DW_TAG_structure_type);
	assert_int_equal(size_of(&s), sizeof(struct dw_inner));
	/* one pointer only, and a path does not go through it */
	assert_int_equal(ct_dwtype_strip(&s, true, &t), 0);
	assert_int_equal(dwarf_tag(&t), DW_TAG_structure_type);
	size_t off = 99;
	assert_int_equal(ct_dwtype_path(&f->sample, "ptr.a", &off, NULL), -EPROTO);
	assert_int_equal(off, 99); /* ret_* written only on success */
	/* a pointer to a declared-only struct: no size, no members */
	assert_int_equal(member_off(f, "fwd", &t), offsetof(struct dw_sample, fwd));
	assert_int_equal(ct_dwtype_strip(&t, true, &s), 0);
	assert_int_equal(ct_dwtype_member(&s, "x", &off, NULL), -ENOENT);
}

static void test_bounds_and_errors(void **state)
{
	struct fixture *f = *state;
	Dwarf_Die t;
	size_t off = 99;
	/* 16 typedefs are followed; a 17th is past the bound */
	assert_int_equal(member_off(f, "hops16", &t), offsetof(struct dw_sample, hops16));
	assert_int_equal(size_of(&t), sizeof(int));
	assert_int_equal(ct_dwtype_member(&f->sample, "hops17", &off, &t), -E2BIG);
	assert_int_equal(off, 99);
	assert_int_equal(ct_dwtype_member(&f->sample, "hops17", &off, NULL), 0); /* its type not asked for */
	assert_int_equal(off, offsetof(struct dw_sample, hops17));
	off = 99;
	assert_int_equal(ct_dwtype_member(&f->sample, "nothing", &off, &t), -ENOENT);
	assert_int_equal(ct_dwtype_member(&f->sample, "x", &off, &t), -ENOENT); /* u.pt.x is not anonymous */
	assert_int_equal(ct_dwtype_path(&f->sample, "tag.x", &off, NULL), -EPROTO);
	assert_int_equal(ct_dwtype_path(&f->sample, "", &off, NULL), -EINVAL);
	assert_int_equal(ct_dwtype_path(&f->sample, "u..d", &off, NULL), -EINVAL);
	assert_int_equal(ct_dwtype_path(&f->sample, "u.", &off, NULL), -EINVAL);
	assert_int_equal(off, 99);
	assert_int_equal(member_off(f, "tag", &t), 0);
	assert_int_equal(ct_dwtype_member(&t, "x", &off, NULL), -EPROTO); /* char has no members */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_bounds_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
