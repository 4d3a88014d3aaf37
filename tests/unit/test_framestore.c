/* Unit tests for the on-disk frame store (symbolize/framestore.h): a store decodes to what was
 * encoded; any store cut short or with a byte changed is refused whole; a store whose structure
 * lies under a right checksum is refused; the debug-file check sees a debug file replaced or one
 * appearing by build-id; only a regular file of ours nobody else can write is read. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolize/framestore.h"

static char dir[] = "/tmp/ctrace-fs.XXXXXX";

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void resum(struct ct_buf *b)
{
	uint64_t h = fnv1a(b->data, b->len - 8);
	memcpy(b->data + b->len - 8, &h, 8);
}

/* Two entries: an inline chain of two frames, and a tail-call gap with a frame without a name. */
static void sample(struct ct_buf *out, struct ct_framestore_debug *dbg)
{
	static struct ct_frame chain[2], gap[1];
	memset(chain, 0, sizeof(chain));
	memset(gap, 0, sizeof(gap));
	chain[0] = (struct ct_frame){ .pc = 0, .function = "inner", .offset = 0x10, .file = "a.c", .line = 7,
				      .inlined = true };
	chain[1] = (struct ct_frame){ .pc = 0, .function = "outer", .offset = 0x44, .file = "a.c", .line = 70 };
	gap[0] = (struct ct_frame){ .pc = (uint64_t)-0x20, .offset = 0 };
	struct ct_framestore_entry v[2] = { { 0x1234, 0, 0x1, 2, chain }, { 0x2000, 0x3000, 0x8, 1, gap } };
	*dbg = (struct ct_framestore_debug){ "/usr/lib/debug/x.debug", { 1, 2, 3, 4 }, { 5, 6, 7, 8 } };
	assert_int_equal(ct_framestore_encode(dbg, v, 2, out), 0);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	struct ct_framestore_debug in, dbg;
	sample(&b, &in);
	struct ct_framestore_entry *v;
	size_t n;
	assert_int_equal(ct_framestore_decode(b.data, b.len, &dbg, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(dbg.path, "/usr/lib/debug/x.debug");
	assert_true(dbg.id.dev == 1 && dbg.id.ino == 2 && dbg.id.size == 3 && dbg.id.mtime_ns == 4);
	assert_true(dbg.file.dev == 5 && dbg.file.ino == 6 && dbg.file.size == 7 && dbg.file.mtime_ns == 8);
	assert_true(v[0].off == 0x1234 && v[0].off2 == 0 && v[0].flags == 1 && v[0].nframes == 2);
	assert_string_equal(v[0].frames[0].function, "inner");
	assert_string_equal(v[0].frames[0].file, "a.c");
	assert_int_equal(v[0].frames[0].line, 7);
	assert_true(v[0].frames[0].inlined && !v[0].frames[1].inlined);
	assert_int_equal(v[0].frames[1].offset, 0x44);
	assert_string_equal(v[0].frames[1].function, "outer");
	assert_true(v[1].off2 == 0x3000 && v[1].flags == 8 && v[1].nframes == 1);
	assert_null(v[1].frames[0].function);
	assert_null(v[1].frames[0].file);
	assert_true(v[1].frames[0].pc == (uint64_t)-0x20);
	ct_framestore_free(&dbg, v, n);

	/* none found: no path */
	struct ct_buf b2 = CT_BUF_INIT;
	struct ct_framestore_debug none = { 0 };
	assert_int_equal(ct_framestore_encode(&none, NULL, 0, &b2), 0);
	assert_int_equal(ct_framestore_decode(b2.data, b2.len, &dbg, &v, &n), 0);
	assert_null(dbg.path);
	assert_int_equal(n, 0);
	ct_framestore_free(&dbg, v, n);
	ct_buf_free(&b2);
	ct_buf_free(&b);
}

static void test_damage(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	struct ct_framestore_debug in, dbg;
	sample(&b, &in);
	struct ct_framestore_entry *v;
	size_t n;
	for (size_t len = 0; len < b.len; len++) /* every cut */
		assert_int_equal(ct_framestore_decode(b.data, len, &dbg, &v, &n), -EINVAL);
	for (size_t i = 0; i < b.len; i++) { /* every byte changed */
		b.data[i] ^= 0x41;
		assert_int_equal(ct_framestore_decode(b.data, b.len, &dbg, &v, &n), -EINVAL);
		b.data[i] ^= 0x41;
	}
	/* the structure lies, the checksum is right: entry count, frame count, string lengths, flags */
	size_t at[] = { 8, 8 + 4, 80 + 22 + 20, 80 + 22 + 24 + 24, 80 + 22 + 24 + 28, 80 + 22 + 24 + 20 };
	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		uint32_t old;
		memcpy(&old, b.data + at[k], 4);
		uint32_t bad = 0x7ffffff0u;
		memcpy(b.data + at[k], &bad, 4);
		resum(&b);
		int r = ct_framestore_decode(b.data, b.len, &dbg, &v, &n);
		assert_int_equal(r, -EINVAL);
		memcpy(b.data + at[k], &old, 4);
	}
	resum(&b);
	assert_int_equal(ct_framestore_decode(b.data, b.len, &dbg, &v, &n), 0);
	ct_framestore_free(&dbg, v, n);
	ct_buf_free(&b);
}

static void test_debug_current(void **state)
{
	(void)state;
	char path[256], idpath[256];
	snprintf(path, sizeof(path), "%s/x.debug", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("one", f);
	fclose(f);
	struct ct_framestore_debug d = { 0 };
	assert_int_equal(ct_framestore_debug_of(path, &d), 0);
	assert_true(ct_framestore_debug_current(&d, "abcdef", NULL));
	f = fopen(path, "a"); /* changed: size and mtime */
	fputs("two", f);
	fclose(f);
	assert_false(ct_framestore_debug_current(&d, "abcdef", NULL));
	unlink(path);
	assert_false(ct_framestore_debug_current(&d, "abcdef", NULL));
	free(d.path);

	/* none found then: current until DIR/.build-id/ab/cdef.debug appears in a search directory */
	struct ct_framestore_debug none = { 0 };
	char dp[512];
	snprintf(dp, sizeof(dp), "relative:+%s:/nonexistent", dir);
	assert_true(ct_framestore_debug_current(&none, "abcdef", dp));
	snprintf(idpath, sizeof(idpath), "%s/.build-id", dir);
	mkdir(idpath, 0700);
	snprintf(idpath, sizeof(idpath), "%s/.build-id/ab", dir);
	mkdir(idpath, 0700);
	snprintf(idpath, sizeof(idpath), "%s/.build-id/ab/cdef.debug", dir);
	f = fopen(idpath, "w");
	fclose(f);
	assert_false(ct_framestore_debug_current(&none, "abcdef", dp));
	unlink(idpath);
}

static void test_files(void **state)
{
	(void)state;
	char path[256], link[256];
	snprintf(path, sizeof(path), "%s/frames/0011-22", dir);
	struct ct_buf b = CT_BUF_INIT;
	struct ct_framestore_debug in, dbg;
	sample(&b, &in);
	struct ct_framestore_entry *v;
	size_t n;
	assert_int_equal(ct_framestore_read(path, &dbg, &v, &n), -ENOENT);
	assert_int_equal(ct_framestore_write(path, b.data, b.len), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ct_framestore_read(path, &dbg, &v, &n), 0);
	assert_int_equal(n, 2);
	ct_framestore_free(&dbg, v, n);
	chmod(path, 0666); /* writable by others: not trusted */
	assert_int_equal(ct_framestore_read(path, &dbg, &v, &n), -EPERM);
	chmod(path, 0600);
	snprintf(link, sizeof(link), "%s/frames/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ct_framestore_read(link, &dbg, &v, &n), -EPERM);
	unlink(link);
	unlink(path);
	ct_buf_free(&b);

	setenv("CTRACE_CACHE_DIR", "off", 1);
	struct ct_buf p = CT_BUF_INIT;
	assert_int_equal(ct_framestore_path("00", NULL, &p), -ENOENT);
	setenv("CTRACE_CACHE_DIR", dir, 1);
	assert_int_equal(ct_framestore_path("00", "/a", &p), 0);
	struct ct_buf q = CT_BUF_INIT;
	assert_int_equal(ct_framestore_path("00", "/b", &q), 0);
	assert_string_not_equal(ct_buf_cstr(&p), ct_buf_cstr(&q)); /* the search path is part of the key */
	ct_buf_free(&p);
	ct_buf_free(&q);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	setenv("CTRACE_CACHE_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_debug_current),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
