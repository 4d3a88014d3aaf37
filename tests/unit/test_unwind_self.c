/* Unit tests for the unwinders and the symbolizer on a capture of a real stack: this test forks a
 * child that blocks at a known depth, captures it with the snapshot engine, and checks that every
 * backend finds the chain and that the symbolizer names it with file and line. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <stdio.h>

#include "attach/snapshot.h"
#include "symbolize/symbolizer.h"
#include "unwind/unwind.h"
#include "lib/util.h"
#include "tests/unit/proc_helpers.h"

static int ready_pipe[2];

void ct_test_leaf(void);
void ct_test_middle(void);
void ct_test_outer(void);

__attribute__((noinline)) void ct_test_leaf(void)
{
	char c = 1;
	if (write(ready_pipe[1], &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
}
__attribute__((noinline)) void ct_test_middle(void) { ct_test_leaf(); __asm__ volatile(""); }
__attribute__((noinline)) void ct_test_outer(void) { ct_test_middle(); __asm__ volatile(""); }

static pid_t child;
static struct ct_attach att = CT_ATTACH_INIT;

static int setup(void **state)
{
	(void)state;
	if (pipe(ready_pipe) < 0)
		return -1;
	child = fork();
	if (child == 0)
		ct_test_outer();
	char c;
	if (read(ready_pipe[0], &c, 1) != 1)
		return -1;
	/* the child wrote before pausing: wait until it sits in pause() */
	return wait_in_syscall(child, SYS_pause) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}

/* The child stopped and copied into c; the test skips loudly where ptrace is refused. */
static void capture_child(struct ct_capture *c)
{
	struct ct_attach_opts o = CT_ATTACH_OPTS_DEFAULT;
	int r = ct_attach_thread(&att, child, child, &o, UINT64_MAX, c);
	if (r == -EPERM) {
		fprintf(stderr, "SKIP: ptrace of a child refused (EPERM): not tested\n");
		skip();
	}
	assert_int_equal(r, 0);
}

static void check_backend(enum ct_unwinder_kind kind, bool expect_leaf)
{
	struct ct_capture c;
	capture_child(&c);
	assert_true(c.stop_ns > 0);
	assert_int_equal(c.syscall_nr, 34); /* pause */
	struct ct_symbolizer *sym;
	assert_int_equal(ct_sym_open(child, NULL, &sym), 0);
	struct ct_unwinder *u;
	assert_int_equal(ct_unwinder_open(kind, sym, NULL, &u), 0);
	struct ct_upc pcs[64];
	char *why = NULL;
	int n = ct_unwinder_run(u, &c, pcs, 64, &why);
	free(why);
	assert_true(n >= 4);
	struct ct_thread t;
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < n; i++)
		assert_true(ct_sym_frames(sym, pcs[i].pc, pcs[i].activation, &t) >= 1);
	const char *want[] = { "ct_test_leaf", "ct_test_middle", "ct_test_outer" };
	size_t k = 0;
	for (size_t i = 0; i < t.nframes && k < 3; i++) {
		if (!expect_leaf && k == 0)
			k = 1; /* frame pointers skip the caller of a libc leaf without a frame */
		if (t.frames[i].function && strcmp(t.frames[i].function, want[k]) == 0) {
			assert_non_null(t.frames[i].file);
			assert_non_null(strstr(t.frames[i].file, "test_unwind_self.c"));
			assert_true(t.frames[i].line > 0);
			k++;
		}
	}
	assert_int_equal(k, 3);
	ct_thread_clear(&t);
	ct_unwinder_close(u);
	ct_sym_close(sym);
	free(c.stack);
}

static void test_libdw(void **state) { (void)state; check_backend(CT_UNWIND_LIBDW, true); }
static void test_libunwind(void **state) { (void)state; check_backend(CT_UNWIND_LIBUNWIND, true); }

/* The libdw backend's rule cache walks what libdwfl would, frame for frame: with every register,
 * with only SP and PC (a thread read from /proc: the frame-pointer guesses run through it too), cut
 * short by max, and with a stack copy too short (the rest read from the live child). */
static void test_rule_cache(void **state)
{
	(void)state;
	struct ct_capture c;
	capture_child(&c);
	struct ct_symbolizer *sym;
	assert_int_equal(ct_sym_open(child, NULL, &sym), 0);
	struct ct_unwinder *u; /* one per symbolizer: libdwfl attaches its state once */
	assert_int_equal(ct_unwinder_open(CT_UNWIND_LIBDW, sym, NULL, &u), 0);
	for (int variant = 0; variant < 4; variant++) {
		struct ct_capture v = c;
		size_t max = 64;
		if (variant == 1)
			v.regs_valid = (1u << CT_REG_RIP) | (1u << CT_REG_RSP);
		if (variant == 2)
			max = 2;
		if (variant == 3)
			v.stack_len = CT_MIN(v.stack_len, (size_t)64);
		for (int pass = 0; pass < 2; pass++) { /* the second from the cache */
			struct ct_upc a[64], b[64];
			char *wa = NULL, *wb = NULL;
			u->no_rule_cache = false;
			uint64_t walks = u->cached_walks;
			int na = ct_unwinder_run(u, &v, a, max, &wa);
			assert_true(u->cached_walks > walks); /* no fall back: the comparison would be trivial */
			u->no_rule_cache = true;
			walks = u->cached_walks;
			int nb = ct_unwinder_run(u, &v, b, max, &wb);
			assert_int_equal(u->cached_walks, walks);
			assert_int_equal(na, nb);
			assert_true(na >= (max < 4 ? (int)max : 4));
			for (int i = 0; i < na; i++) {
				assert_int_equal(a[i].pc, b[i].pc);
				assert_int_equal(a[i].activation, b[i].activation);
				assert_int_equal(a[i].sp, b[i].sp);
			}
			assert_true((wa == NULL) == (wb == NULL));
			if (wa)
				assert_string_equal(wa, wb);
			free(wa);
			free(wb);
		}
	}
	ct_unwinder_close(u);
	ct_sym_close(sym);
	free(c.stack);
}

static void test_bad_capture(void **state)
{
	(void)state;
	struct ct_attach_opts o = CT_ATTACH_OPTS_DEFAULT;
	struct ct_capture c;
	assert_int_equal(ct_attach_thread(&att, child, 0x3ffffff0, &o, UINT64_MAX, &c), -ESRCH);
	struct ct_symbolizer *sym;
	assert_int_equal(ct_sym_open(child, NULL, &sym), 0);
	struct ct_unwinder *u;
	assert_int_equal(ct_unwinder_open(CT_UNWIND_LIBDW, sym, NULL, &u), 0);
	/* a capture with no registers is refused, not walked */
	memset(&c, 0, sizeof(c));
	c.tid = child;
	struct ct_upc pcs[4];
	char *why = NULL;
	assert_int_equal(ct_unwinder_run(u, &c, pcs, 4, &why), -ENODATA);
	/* a capture whose pc points nowhere yields that one frame and stops */
	c.regs_valid = (1u << CT_REG_RIP) | (1u << CT_REG_RSP);
	c.regs[CT_REG_RIP] = 0x10;
	c.regs[CT_REG_RSP] = 0x20;
	int n = ct_unwinder_run(u, &c, pcs, 4, &why);
	free(why);
	assert_true(n >= 0 && n <= 1);
	struct ct_thread t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(ct_sym_frames(sym, 0x10, true, &t), 1);
	assert_null(t.frames[0].function);
	assert_null(t.frames[0].module);
	ct_thread_clear(&t);
	ct_unwinder_close(u);
	ct_sym_close(sym);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libdw), cmocka_unit_test(test_libunwind), cmocka_unit_test(test_rule_cache),
		cmocka_unit_test(test_bad_capture),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
