/* Unit tests for memory/procmem.c: the grouping of mappings, on smaps text parsed by lib/procfs.c
 * (whose parsers test_procfs checks on their own). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/procfs.h"
#include "memory/procmem.h"

static const char smaps_text[] =
	"55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n"
	"Size:                132 kB\n"
	"KernelPageSize:        4 kB\n"
	"Rss:                 100 kB\n"
	"Pss:                 100 kB\n"
	"Shared_Clean:          0 kB\n"
	"Private_Dirty:       100 kB\n"
	"Anonymous:           100 kB\n"
	"Swap:                  8 kB\n"
	"THPeligible:    0\n"
	"VmFlags: rd wr mr mw me ac sd\n"
	"7f0000000000-7f0000001000 ---p 00000000 00:00 0 \n"
	"Size:                  4 kB\n"
	"Rss:                   0 kB\n"
	"7f0000001000-7f0000801000 rw-p 00000000 00:00 0 \n"
	"Size:               8192 kB\n"
	"Rss:                  16 kB\n"
	"Pss:                  16 kB\n"
	"7f0000900000-7f0000a00000 r-xp 00000000 08:01 1234                       /usr/lib/libfoo.so.1\n"
	"Size:               1024 kB\n"
	"Rss:                 500 kB\n"
	"Pss:                 250 kB\n"
	"7f0000a00000-7f0000a10000 rw-p 00100000 08:01 1234                       /usr/lib/libfoo.so.1\n"
	"Size:                 64 kB\n"
	"Rss:                  64 kB\n"
	"7f0000b00000-7f0000b40000 rw-s 00000000 00:05 77                         /dev/shm/pool (deleted)\n"
	"Size:                256 kB\n"
	"Rss:                 256 kB\n"
	"7f0000c00000-7f0000c10000 rw-p 00000000 00:00 0 \n"
	"Size:                 64 kB\n"
	"Rss:                  64 kB\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"Size:                132 kB\n"
	"Rss:                  12 kB\n"
	"7ffe00000000-7ffe00100000 rw-s 00000000 00:01 1024                       /dev/zero (deleted)\n"
	"Size:               1024 kB\n"
	"Rss:                 600 kB\n";

static void test_smaps_and_groups(void **state)
{
	(void)state;
	struct ct_smaps_entry *e;
	size_t n;
	assert_int_equal(ct_parse_proc_smaps(smaps_text, 100, &e, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(e[0].rss, 100 * 1024);
	assert_int_equal(e[0].swap, 8 * 1024);
	assert_int_equal(e[0].anonymous, 100 * 1024);
	assert_string_equal(e[0].map.path, "[heap]");
	assert_true(e[5].map.deleted);

	/* thread 43 is blocked with its sp in the mapping after the guard page */
	struct ct_mem_thread_sp sps[] = { { 42, 0x7ffd00010000, "main" }, { 43, 0x7f0000700000, "worker" } };
	struct ct_mem_hints h = { 42, sps, 2, NULL, 0 };
	struct ct_mem_group *g;
	size_t ng;
	assert_int_equal(ct_mem_group_maps(e, n, &h, &g, &ng), 0);
	/* shared anonymous, [heap], guard, stack 43, libfoo (2 maps), shm, anonymous, [stack] */
	assert_int_equal(ng, 8);
	assert_int_equal(g[0].kind, CT_MEM_SHMEM);
	assert_string_equal(g[0].name, "shared anonymous");
	assert_string_equal(g[1].name, "/usr/lib/libfoo.so.1");
	assert_int_equal(g[1].nmaps, 2);
	assert_int_equal(g[1].rss, 564 * 1024);
	assert_int_equal(g[1].kind, CT_MEM_FILE);
	assert_int_equal(g[2].kind, CT_MEM_SHMEM);
	assert_string_equal(g[2].name, "/dev/shm/pool");
	assert_int_equal(g[3].kind, CT_MEM_HEAP);
	bool seen43 = false, seen42 = false;
	for (size_t i = 0; i < ng; i++) {
		if (g[i].kind == CT_MEM_STACK && g[i].tid == 43) {
			seen43 = true;
			assert_string_equal(g[i].thread_name, "worker");
			assert_int_equal(g[i].size, 8192 * 1024);
		}
		if (g[i].kind == CT_MEM_STACK && g[i].tid == 42)
			seen42 = true;
	}
	assert_true(seen43 && seen42);
	ct_mem_groups_free(g, ng);

	/* without stack pointers the guard page below still marks a thread stack */
	struct ct_mem_hints h2 = { 42, NULL, 0, NULL, 0 };
	assert_int_equal(ct_mem_group_maps(e, n, &h2, &g, &ng), 0);
	bool guessed = false;
	for (size_t i = 0; i < ng; i++)
		if (g[i].kind == CT_MEM_STACK && g[i].tid == -1 && g[i].first_start == 0x7f0000001000)
			guessed = true;
	assert_true(guessed);
	ct_mem_groups_free(g, ng);

	/* an arena range takes the anonymous mapping it covers */
	const uint64_t ranges[1][2] = { { 0x7f0000c00000, 0x7f0000c10000 } };
	struct ct_mem_hints h3 = { 42, NULL, 0, ranges, 1 };
	assert_int_equal(ct_mem_group_maps(e, n, &h3, &g, &ng), 0);
	bool arena = false;
	for (size_t i = 0; i < ng; i++)
		if (g[i].kind == CT_MEM_ARENA && g[i].rss == 64 * 1024)
			arena = true;
	assert_true(arena);
	ct_mem_groups_free(g, ng);
	ct_proc_smaps_free(e, n);
}

/* Every prefix and single-byte corruption of valid text either parses or fails cleanly. */
static void test_smaps_mutations(void **state)
{
	(void)state;
	size_t len = strlen(smaps_text);
	char *buf = malloc(len + 1);
	assert_non_null(buf);
	static const char subst[] = { '\0', '\n', ':', '-', ' ', 'k', '9', 'x' };
	for (size_t i = 0; i < len; i++) {
		for (size_t s = 0; s < sizeof(subst); s++) {
			memcpy(buf, smaps_text, len + 1);
			buf[i] = subst[s];
			struct ct_smaps_entry *e = NULL;
			size_t n = 0;
			int r = ct_parse_proc_smaps(buf, 100, &e, &n);
			assert_true(r == 0 || r == -EINVAL);
			if (r == 0) {
				struct ct_mem_group *g;
				size_t ng;
				assert_int_equal(ct_mem_group_maps(e, n, NULL, &g, &ng), 0);
				ct_mem_groups_free(g, ng);
				ct_proc_smaps_free(e, n);
			}
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaps_and_groups),
		cmocka_unit_test(test_smaps_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
