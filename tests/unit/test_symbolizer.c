/* Unit tests for symbolize/symbolizer.c: the names people read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "symbolize/symbolizer.h"

static void expect_name(const char *raw, bool demangle, const char *want)
{
	char *got = ct_sym_display_name(raw, demangle);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_cxx(void **state)
{
	(void)state;
	expect_name("_ZN4shop4CartIiE4waitEi", true, "shop::Cart<int>::wait(int)");
	expect_name("_ZN4shop6detail5visitINS_4CartIiEEEEvRT_", true,
		    "void shop::detail::visit<shop::Cart<int> >(shop::Cart<int>&)");
	expect_name("_ZN4shop3runERKSt6vectorIiSaIiEE", true,
		    "shop::run(std::vector<int, std::allocator<int> > const&)");
	expect_name("_ZN4shop4CartIiE4waitEi", false, "_ZN4shop4CartIiE4waitEi");
}

static void test_rust(void **state)
{
	(void)state;
	/* legacy mangling: the hash goes, as in rustfilt and gdb */
	expect_name("_ZN5rusty9warehouse14Shelf$LT$T$GT$4wait17hb4078cec71c9f014E", true,
		    "rusty::warehouse::Shelf<T>::wait");
	/* v0 mangling */
	expect_name("_RNvNtCs5MG4p4o9T2T_5rusty9warehouse5visit", true, "rusty::warehouse::visit");
}

static void test_plain_versioned_bad(void **state)
{
	(void)state;
	expect_name("__libc_start_main@@GLIBC_2.34", true, "__libc_start_main");
	expect_name("memcpy@GLIBC_2.2.5", false, "memcpy");
	expect_name("main", true, "main");
	expect_name("@", true, "@");
	expect_name("", true, NULL);
	expect_name(NULL, true, NULL);
	/* looks mangled but is not: kept as is */
	expect_name("_Zfoo", true, "_Zfoo");
	expect_name("_ZN999999999999999999999", true, "_ZN999999999999999999999");
	expect_name("_R", true, "_R");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_rust),
		cmocka_unit_test(test_plain_versioned_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
