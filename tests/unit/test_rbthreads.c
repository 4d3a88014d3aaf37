/* Unit tests for interp/rbthreads.c and interp/rbgc.c over memory built here with the 3.1 layouts:
 * a thread in Mutex#lock and the thread holding that Mutex (or a Mutex released since), a thread in
 * Queue#pop (on the queue's wait list, or not), one in IO with its descriptor, the names of the waits, and the GC figures of an objspace (consistent, torn,
 * wrong slot size). The offsets themselves are checked against the interpreter by
 * tests/integration/test_threads_ruby.sh and test_memory_ruby.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "interp/rbgc.h"
#include "interp/rblayout.h"
#include "interp/rbthreads.h"

#define BASE 0x10000u

static uint8_t img[0x1000];

static int image_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	if (addr < BASE || addr - BASE > sizeof(img) || len > sizeof(img) - (addr - BASE))
		return -EFAULT;
	memcpy(buf, img + (addr - BASE), len);
	return 0;
}

static void q(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

/* A typed data object at off of type name, its data at data */
static void typed(size_t off, const char *name, uint64_t data)
{
	q(off, 0x0c);
	q(off + 16, BASE + off + 0x80);
	q(off + 24, 1);
	q(off + 32, data);
	q(off + 0x80, BASE + off + 0xc0);
	memcpy(img + off + 0xc0, name, strlen(name) + 1);
}

enum { T1 = 0x100, T2 = 0x300 };

/* thread 1 waits for the Mutex at 0x600 (data 0x700), held by thread 2, which waits in Queue#pop on
 * the queue at 0xa00 (data 0xb00) when on_waitq */
static void build(bool held, bool on_waitq)
{
	memset(img, 0, sizeof(img));
	q(T1 + 264, BASE + 0x600);
	typed(0x600, "mutex", BASE + 0x700);
	q(T2 + 272, held ? BASE + 0x700 : 0);
	q(0x700, BASE + 0xe00); /* its owner fiber */
	q(T2 + 40, BASE + 0x800);
	q(0x800 + 16, BASE + 0x880);
	q(0x880 + 32, BASE + 0x908);
	q(0x908, 0x55550001);
	q(0x880 + 24, BASE + 0xa00);
	typed(0xa00, "queue", BASE + 0xb00);
	q(0xb00, on_waitq ? BASE + 0xc18 : BASE + 0xb00);
	q(0xc18, BASE + 0xb00);
	q(0xc08, BASE + T2);
}

static struct ct_snapshot *run(void)
{
	size_t n;
	const struct ct_rb_layout *L = ct_rb_layouts(&n);
	const struct ct_rb_private_layout *P = ct_rb_private_find("3.1.2");
	assert_non_null(P);
	struct ct_snapshot *s = ct_snapshot_new();
	assert_non_null(s);
	for (int i = 1; i <= 2; i++) {
		struct ct_thread *t = ct_snapshot_add_thread(s);
		struct ct_frame *f = ct_thread_add_frame(t);
		assert_non_null(f);
		t->tid = i;
		t->state = 'S';
		t->syscall_nr = 202;
		f->ruby = true;
		f->function = strdup(i == 1 ? "take" : "block in run");
		f->file = strdup("/app/x.rb");
		f->line = 10 + i;
	}
	struct ct_rb_mem m = { image_read, NULL, 0 };
	uint64_t threads[] = { BASE + T1, BASE + T2 };
	pid_t tids[] = { 1, 2 };
	assert_int_equal(ct_rb_waits_fill_mem(&m, L, P, 0, threads, tids, 2, s), 0);
	return s;
}

static void test_lock_and_pop(void **state)
{
	(void)state;
	build(true, true);
	struct ct_snapshot *s = run();
	assert_string_equal(s->threads[0].waiting_on, "Thread::Mutex#lock 0x10600 in take (x.rb:11)");
	assert_string_equal(s->threads[0].lock_waiting, "0x10600");
	assert_int_equal(s->threads[1].nlocks_held, 1);
	assert_string_equal(s->threads[1].locks_held[0], "0x10600");
	assert_string_equal(s->threads[1].waiting_on, "Thread::Queue#pop in block in run (x.rb:12)");
	ct_snapshot_free(s);
}

static void test_unknown_owner_not_on_list(void **state)
{
	(void)state;
	build(false, false);
	struct ct_snapshot *s = run();
	assert_string_equal(s->threads[0].lock_waiting, "0x10600");
	assert_int_equal(s->threads[1].nlocks_held, 0); /* the holder is not said */
	assert_null(s->threads[1].waiting_on);          /* not on the queue's list: not said either */
	ct_snapshot_free(s);
}

static void test_released(void **state)
{
	(void)state;
	build(true, true);
	q(0x700, 0); /* released since: no owner fiber */
	struct ct_snapshot *s = run();
	assert_string_equal(s->threads[0].lock_waiting, "0x10600");
	assert_int_equal(s->threads[1].nlocks_held, 0);
	ct_snapshot_free(s);
}

static void test_io(void **state)
{
	(void)state;
	build(true, true);
	q(0xa00, 0x0b);           /* thread 2's receiver is an IO (T_FILE) */
	q(0xa00 + 16, BASE + 0xd00); /* its rb_io_t, whose fd is 7 */
	q(0xd00 + 16, 7);
	struct ct_snapshot *s = run();
	assert_string_equal(s->threads[1].waiting_on, "IO fd 7 in block in run (x.rb:12)");
	ct_snapshot_free(s);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ct_rb_wait_name("condvar", CT_RB_ON_WAITQ), "Thread::ConditionVariable#wait");
	assert_null(ct_rb_wait_name("condvar", 0));
	assert_string_equal(ct_rb_wait_name("sized_queue", CT_RB_ON_PUSHQ), "Thread::SizedQueue#push");
	assert_string_equal(ct_rb_wait_name("sized_queue", CT_RB_ON_WAITQ), "Thread::SizedQueue#pop");
	assert_string_equal(ct_rb_wait_name("mutex", 0), "Thread::Mutex#sleep");
	assert_string_equal(ct_rb_wait_name("IO", 0), "IO");
	assert_null(ct_rb_wait_name("", 0));
	assert_null(ct_rb_wait_name("VM/thread", 0));
}

static void test_gc(void **state)
{
	(void)state;
	const struct ct_rb_private_layout *P = ct_rb_private_find("3.1.9");
	assert_non_null(P);
	assert_null(ct_rb_private_find("3.2.0"));
	uint8_t os[512] = { 0 };
	int16_t slot = 40;
	memcpy(os + P->os_pool0 + P->os_pool_slot_size, &slot, 2);
	uint64_t v[][2] = {
		{ P->os_count, 7 }, { P->os_minor_count, 5 }, { P->os_major_count, 2 },
		{ P->os_allocated_pages, 10 }, { P->os_pool0 + P->os_eden_pages, 9 },
		{ P->os_pool0 + P->os_tomb_pages, 1 }, { P->os_pool0 + P->os_eden_slots, 3600 },
		{ P->os_pool0 + P->os_tomb_slots, 400 }, { P->os_total_allocated, 10000 },
		{ P->os_total_freed, 7000 }, { P->os_final_slots, 10 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		memcpy(os + v[i][0], &v[i][1], 8);
	struct ct_rb_gc g;
	assert_int_equal(ct_rb_gc_decode(P, os, sizeof(os), &g), 0);
	assert_int_equal(g.heap_available_slots, 4000);
	assert_int_equal(g.heap_live_slots, 2990);
	assert_int_equal(g.heap_free_slots, 1000);
	assert_int_equal(g.count, 7);
	assert_int_equal(ct_rb_gc_decode(P, os, P->os_size - 1, &g), -EPROTO); /* short */
	uint64_t torn = 8;
	memcpy(os + P->os_count, &torn, 8);
	assert_int_equal(ct_rb_gc_decode(P, os, sizeof(os), &g), -EPROTO); /* count != minor + major */
	torn = 7;
	memcpy(os + P->os_count, &torn, 8);
	slot = 80;
	memcpy(os + P->os_pool0 + P->os_pool_slot_size, &slot, 2);
	assert_int_equal(ct_rb_gc_decode(P, os, sizeof(os), &g), -EPROTO); /* not this layout */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_and_pop), cmocka_unit_test(test_unknown_owner_not_on_list),
		cmocka_unit_test(test_released),     cmocka_unit_test(test_io),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_gc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
