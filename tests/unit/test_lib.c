/* Unit tests for lib/: buffers, number parsing, the JSON writer and escaping. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/util.h"
#include "lib/error.h"
#include "lib/heap.h"

static void test_buf(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	assert_string_equal(ct_buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ct_buf_printf(&b, "%d,", i), 0);
	assert_true(b.len > 3000);
	assert_memory_equal(b.data, "0,1,2,", 6);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ct_buf_reset(&b);
	ct_buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, sizeof(big) + 1);
	char *s = ct_buf_steal(&b);
	assert_int_equal(s[0], '[');
	free(s);
	assert_null(b.data);
	ct_buf_free(&b);
}

static void test_parse(void **state)
{
	(void)state;
	long v;
	assert_int_equal(ct_parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ct_parse_long("", 0, 100, &v), -EINVAL);
	assert_int_equal(ct_parse_long(" 4", 0, 100, &v), -EINVAL);
	assert_int_equal(ct_parse_long("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(ct_parse_long("101", 0, 100, &v), -ERANGE);
	assert_int_equal(ct_parse_long("99999999999999999999999", 0, LONG_MAX, &v), -ERANGE);
	double d;
	assert_int_equal(ct_parse_double("0.5", 0.001, 10, &d), 0);
	assert_int_equal(ct_parse_double("nan", 0, 10, &d), -EINVAL);
	assert_int_equal(ct_parse_double("-1", 0.001, 10, &d), -ERANGE);
}

static void test_json(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	struct ct_json j;
	ct_json_init(&j, &b);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "a");
	ct_json_int(&j, -3);
	ct_json_key(&j, "s");
	ct_json_str(&j, "q\"\\\n\t\x01\xff" "é" "run of text~" "\x7f" "end");
	ct_json_key(&j, "n");
	ct_json_str(&j, NULL);
	ct_json_key(&j, "arr");
	ct_json_arr_begin(&j);
	ct_json_hex(&j, 0xdeadbeef);
	ct_json_bool(&j, true);
	ct_json_double(&j, 1.25, 2);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	assert_string_equal(ct_buf_cstr(&b),
			    "{\"a\":-3,\"s\":\"q\\\"\\\\\\n\\t\\u0001\\ufffd\xc3\xa9run of text~\\u007fend\",\"n\":null,"
			    "\"arr\":[\"0xdeadbeef\",true,1.25]}");
	ct_buf_free(&b);
}

/* ct_heap_prepare: the heap is huge pages from its first boundary on, the head left before it
 * one page (the break moved there first): 1 MiB taken from the heap and written costs a handful
 * of page faults, not one per 4 KiB page (256). In a child, whose heap is not yet made. */
static void test_heap_huge(void **state)
{
	(void)state;
	char mode[64] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = '\0';
		fclose(f);
	}
	if (!strstr(mode, "[always]") && !strstr(mode, "[madvise]")) {
		fprintf(stderr, "SKIP test_heap_huge: transparent huge pages are off here (%s)\n", mode);
		skip();
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a process of its own (this one's heap is made): the test run again, as heap_child */
		execl("/proc/self/exe", "test_lib", "heap-child", (char *)NULL);
		_exit(6);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(ct_strerror(-CT_ETRACED), "process is already traced");
	assert_string_equal(ct_strerror(-ESRCH), strerror(ESRCH));
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/* The child of test_heap_huge, in a fresh process: exits 0 when the heap is huge pages. */
static int heap_child(void)
{
#ifdef TEST_ASAN
	/* ASan's allocator takes none of glibc's tunables: refused, and malloc as it was (main()
	 * goes on without it) */
	if (ct_heap_prepare() != -EINVAL)
		return 2;
	char *q = malloc(1 << 20);
	if (!q)
		return 3;
	memset(q, 1, 1 << 20);
	free(q);
	return 0;
#endif
	if (ct_heap_prepare() < 0)
		return 2;
	struct rusage a, b;
	getrusage(RUSAGE_SELF, &a);
	char *p = malloc(1 << 20);
	if (!p)
		return 3;
	memset(p, 1, 1 << 20);
	getrusage(RUSAGE_SELF, &b);
	long faults = b.ru_minflt - a.ru_minflt;
	if (faults > 16) {
		fprintf(stderr, "1 MiB of heap written: %ld page faults\n", faults);
		return 4;
	}
	return p[4096] == 1 ? 0 : 5;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "heap-child") == 0)
		return heap_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf), cmocka_unit_test(test_parse), cmocka_unit_test(test_json),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_heap_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
