/* Unit tests for symbolize/perfmap.c: the /tmp/perf-PID.map parser, on good and hostile text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "symbolize/perfmap.h"

static const char *name_at(const struct ct_perfmap *m, uint64_t addr)
{
	const struct ct_perfmap_entry *e = ct_perfmap_lookup(m, addr);
	return e ? e->name : NULL;
}

static void test_node_lines(void **state)
{
	(void)state;
	const char *text = "7fc4927c6700 28c JS:*hot /tmp/loop.js:1:13\n"
			   "7fc4927c6c40 300 JS:*outer /tmp/loop.js:2:15\n"
			   "0x1000 0x10 LazyCompile:~f  \r\n";
	struct ct_perfmap m;
	assert_int_equal(ct_perfmap_parse(text, strlen(text), 100, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.bad, 0);
	assert_string_equal(name_at(&m, 0x7fc4927c6700), "JS:*hot /tmp/loop.js:1:13");
	assert_string_equal(name_at(&m, 0x7fc4927c6700 + 0x28b), "JS:*hot /tmp/loop.js:1:13");
	assert_null(name_at(&m, 0x7fc4927c6700 + 0x28c));
	assert_string_equal(name_at(&m, 0x7fc4927c6c40 + 0x10), "JS:*outer /tmp/loop.js:2:15");
	assert_string_equal(name_at(&m, 0x100f), "LazyCompile:~f");
	assert_null(name_at(&m, 0xfff));
	assert_null(name_at(&m, 0x1010));
	ct_perfmap_free(&m);
}

static void test_later_wins_and_overlap(void **state)
{
	(void)state;
	/* re-JITted at the same address: the later line wins; an overlapped range is cut */
	const char *text = "1000 100 old\n1000 80 new\n1040 10 inner\n";
	struct ct_perfmap m;
	assert_int_equal(ct_perfmap_parse(text, strlen(text), 100, &m), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(name_at(&m, 0x1000), "new");
	assert_string_equal(name_at(&m, 0x1045), "inner");
	assert_null(name_at(&m, 0x1050)); /* "new" ended at 0x1040 */
	ct_perfmap_free(&m);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *text = "\n"
			   "garbage\n"
			   "1000\n"
			   "1000 10\n"                       /* no name */
			   "1000 0 zero\n"                   /* empty range */
			   "ffffffffffffff00 1000 wraps\n"   /* start + size overflows */
			   "1000 100000000000 absurd\n"      /* larger than 4 GiB */
			   "12345678901234567 10 toolong\n"  /* 17 hex digits */
			   "zz 10 nothex\n"
			   "2000 10 ok\x01\x1b[31m\n"        /* control bytes are replaced */
			   "3000 10 last-no-newline";
	struct ct_perfmap m;
	assert_int_equal(ct_perfmap_parse(text, strlen(text), 100, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.bad, 8); /* the empty line is not counted */
	assert_string_equal(name_at(&m, 0x2000), "ok??[31m");
	assert_string_equal(name_at(&m, 0x3001), "last-no-newline");
	ct_perfmap_free(&m);
}

static void test_caps(void **state)
{
	(void)state;
	size_t n = 5000;
	char *text = malloc(n + 32);
	assert_non_null(text);
	memcpy(text, "1000 10 ", 8);
	memset(text + 8, 'x', n);
	text[8 + n] = '\n';
	memcpy(text + 9 + n, "2000 10 b\n3000 10 c\n", 20);
	struct ct_perfmap m;
	assert_int_equal(ct_perfmap_parse(text, 29 + n, 2, &m), 0);
	assert_int_equal(m.n, 2); /* the third line is over max_entries */
	assert_int_equal(strlen(name_at(&m, 0x1000)), CT_PERFMAP_MAX_NAME);
	ct_perfmap_free(&m);
	free(text);
	/* empty input and embedded NUL bytes */
	assert_int_equal(ct_perfmap_parse("", 0, 10, &m), 0);
	assert_int_equal(m.n, 0);
	assert_null(ct_perfmap_lookup(&m, 0));
	ct_perfmap_free(&m);
	assert_int_equal(ct_perfmap_parse("10 1 a\0b\n", 9, 10, &m), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(name_at(&m, 0x10), "a?b");
	ct_perfmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_lines),
		cmocka_unit_test(test_later_wins_and_overlap),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
