/* Unit tests for the --memory pieces that need no process: option parsing, allocator names from
 * library paths, sizes for people, and the growth between two samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "memory/alloc.h"
#include "memory/watch.h"
#include "report/memory.h"
#include "tests/unit/cli_helpers.h"

static void test_options(void **state)
{
	(void)state;
	struct ct_env env;
	struct ct_buf err = CT_BUF_INIT;
	assert_int_equal(parse(&env, &err, "-p 42 --memory"), 0);
	assert_int_equal(env.mode, CT_MODE_MEMORY);
	assert_int_equal(env.mem_top, 15);
	assert_true(env.watch_s == 0 && env.duration_s == 0 && !env.no_arenas);
	assert_int_equal(parse(&env, &err, "-p 42 --memory --watch 2.5 -d 60 --top 3 --no-arenas -f json"), 0);
	assert_true(env.watch_s == 2.5 && env.duration_s == 60);
	assert_int_equal(env.mem_top, 3);
	assert_true(env.no_arenas);
	static const char *const bad[][2] = {
		{ "-p 42 --memory --watch 0", "--watch wants seconds" },
		{ "-p 42 --memory --watch x", "--watch wants seconds" },
		{ "-p 42 --memory --top 0", "--top wants" },
		{ "-p 42 --memory -d -1", "-d wants seconds" },
		{ "-p 42 --memory --watch", "wants a value" },
		{ "-p 42 --memory --backtraces", "choose one mode" },
		{ "--memory", "which process" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&env, &err, bad[i][0]), CT_EXIT_USAGE);
		if (!strstr(ct_buf_cstr(&err), bad[i][1]) || !one_line(&err))
			fail_msg("'%s': message '%s' lacks '%s' or is not one line", bad[i][0], ct_buf_cstr(&err),
				 bad[i][1]);
	}
	ct_buf_free(&err);
}

static void test_library_kind(void **state)
{
	(void)state;
	assert_int_equal(ct_alloc_library_kind("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"), CT_ALLOC_JEMALLOC);
	assert_int_equal(ct_alloc_library_kind("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.9"),
			 CT_ALLOC_TCMALLOC);
	assert_int_equal(ct_alloc_library_kind("/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"), CT_ALLOC_TCMALLOC);
	assert_int_equal(ct_alloc_library_kind("/usr/local/lib/libmimalloc.so.2.0"), CT_ALLOC_MIMALLOC);
	assert_int_equal(ct_alloc_library_kind("/usr/lib/x86_64-linux-gnu/libc.so.6"), CT_ALLOC_GLIBC);
	assert_int_equal(ct_alloc_library_kind("/lib/libc-2.31.so"), CT_ALLOC_GLIBC);
	assert_int_equal(ct_alloc_library_kind("/usr/lib/libcrypto.so.3"), CT_ALLOC_UNKNOWN);
	assert_int_equal(ct_alloc_library_kind("/opt/libjemalloc-notes.txt/x"), CT_ALLOC_UNKNOWN);
	assert_int_equal(ct_alloc_library_kind("[heap]"), CT_ALLOC_UNKNOWN);
	assert_int_equal(ct_alloc_library_kind(NULL), CT_ALLOC_UNKNOWN);
	assert_string_equal(ct_allocator_name(CT_ALLOC_JEMALLOC), "jemalloc");
}

static void test_fmt_bytes(void **state)
{
	(void)state;
	char b[24];
	assert_string_equal(ct_fmt_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(ct_fmt_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(ct_fmt_bytes(4096, b, sizeof(b)), "4.0 KiB");
	assert_string_equal(ct_fmt_bytes(12900000, b, sizeof(b)), "12.3 MiB");
	assert_string_equal(ct_fmt_bytes(1288490189, b, sizeof(b)), "1.20 GiB");
	assert_string_equal(ct_fmt_bytes(UINT64_MAX, b, sizeof(b)), "16384.0 PiB");
}

static struct ct_mem_group group(enum ct_mem_kind k, const char *name, pid_t tid, uint64_t start, uint64_t rss)
{
	struct ct_mem_group g;
	memset(&g, 0, sizeof(g));
	g.kind = k;
	g.name = strdup(name);
	g.tid = tid;
	g.first_start = start;
	g.rss = rss;
	return g;
}

static void test_growth(void **state)
{
	(void)state;
	struct ct_mem_sample a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.l1.groups = calloc(3, sizeof(struct ct_mem_group));
	b.l1.groups = calloc(4, sizeof(struct ct_mem_group));
	assert_non_null(a.l1.groups);
	assert_non_null(b.l1.groups);
	a.l1.groups[0] = group(CT_MEM_HEAP, "[heap]", 0, 0x1000, 100);
	a.l1.groups[1] = group(CT_MEM_STACK, "stack", -1, 0x7000, 8);
	a.l1.groups[2] = group(CT_MEM_FILE, "/lib/x.so", 0, 0x9000, 50);
	a.l1.ngroups = 3;
	b.l1.groups[0] = group(CT_MEM_HEAP, "[heap]", 0, 0x1000, 400);     /* +300 */
	b.l1.groups[1] = group(CT_MEM_STACK, "stack", -1, 0x8000, 20);     /* another thread: new, +20 */
	b.l1.groups[2] = group(CT_MEM_FILE, "/lib/x.so", 0, 0x9000, 40);   /* shrank */
	b.l1.groups[3] = group(CT_MEM_ANON, "anonymous", 0, 0xa000, 1000); /* new, +1000 */
	b.l1.ngroups = 4;
	struct ct_mem_growth *gr;
	size_t n;
	assert_int_equal(ct_mem_growth(&a, &b, 10, &gr, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(gr[0].g->name, "anonymous");
	assert_int_equal(gr[0].delta, 1000);
	assert_int_equal(gr[0].before, 0);
	assert_string_equal(gr[1].g->name, "[heap]");
	assert_int_equal(gr[1].delta, 300);
	assert_int_equal(gr[1].before, 100);
	assert_int_equal(gr[2].delta, 20);
	free(gr);
	assert_int_equal(ct_mem_growth(&a, &b, 1, &gr, &n), 0);
	assert_int_equal(n, 1);
	free(gr);
	ct_mem_sample_clear(&a);
	ct_mem_sample_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_library_kind),
		cmocka_unit_test(test_fmt_bytes),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
