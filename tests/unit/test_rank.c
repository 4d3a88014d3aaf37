/* SPDX-License-Identifier: GPL-2.0-or-later */
/* analyze/rank.c: functions ranked by self and total samples, over the stacks' own counts or one
 * interval's, for every thread or one (the --per-thread frame under the root); and report/top.c,
 * the table --top shows: header, column titles, rows cut to the terminal's width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/profile.h"
#include "analyze/rank.h"
#include "report/top.h"

/* prog ─ t1 ─ loop ─ hot   60      the cpusplit shape, in two threads, plus a recursion:
 *           └ loop ─ warm  30      rec ─ rec ─ rec (5 samples, in t2)
 *      └ t2 ─ loop ─ cool  10
 * (the counts are per stack; stacks 0..3 in this order) */
struct fix {
	struct ct_profile *p;
	uint32_t root, t1, t2, loop, hot, warm, cool, rec;
};

static void build(struct fix *f)
{
	assert_int_equal(ct_profile_new(&f->p), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "prog", CT_PFRAME_ROOT, &f->root), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "split-0-11", CT_PFRAME_THREAD, &f->t1), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "split-1-12", CT_PFRAME_THREAD, &f->t2), 0);
	struct ct_frame fr = { .function = "split_loop", .module = "/bin/prog", .file = "/src/prog.c" };
	assert_int_equal(ct_profile_frame(f->p, &fr, &f->loop), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "hot_60", CT_PFRAME_NORMAL, &f->hot), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "warm_30", CT_PFRAME_NORMAL, &f->warm), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "cool_10", CT_PFRAME_NORMAL, &f->cool), 0);
	assert_int_equal(ct_profile_frame_named(f->p, "rec", CT_PFRAME_NORMAL, &f->rec), 0);
	uint32_t s0[] = { f->root, f->t1, f->loop, f->hot }, s1[] = { f->root, f->t1, f->loop, f->warm },
		 s2[] = { f->root, f->t2, f->loop, f->cool }, s3[] = { f->root, f->t2, f->rec, f->rec, f->rec };
	assert_int_equal(ct_profile_add(f->p, s0, 4, 60, 0), 0);
	assert_int_equal(ct_profile_add(f->p, s1, 4, 30, 0), 0);
	assert_int_equal(ct_profile_add(f->p, s2, 4, 10, 0), 0);
	assert_int_equal(ct_profile_add(f->p, s3, 5, 5, 0), 0);
}

static void by_self_and_total(void **state)
{
	(void)state;
	struct fix f;
	build(&f);
	struct ct_prank r;
	struct ct_prank_opts o = { NULL, 0, CT_PRANK_ALL, CT_PRANK_SELF };
	assert_int_equal(ct_profile_rank(f.p, &o, &r), 0);
	assert_int_equal(r.samples, 105);
	/* hot, warm, cool, rec by self; split_loop (self 0) after them; no process or thread frame */
	assert_int_equal(r.n, 5);
	uint32_t want[] = { f.hot, f.warm, f.cool, f.rec, f.loop };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(r.rows[i].frame, want[i]);
	assert_int_equal(r.rows[0].self, 60);
	assert_int_equal(r.rows[0].total, 60);
	assert_int_equal(r.rows[4].self, 0);
	assert_int_equal(r.rows[4].total, 100);
	/* a recursion counts once per stack in its total */
	assert_int_equal(r.rows[3].self, 5);
	assert_int_equal(r.rows[3].total, 5);
	ct_prank_free(&r);
	o.order = CT_PRANK_TOTAL;
	assert_int_equal(ct_profile_rank(f.p, &o, &r), 0);
	assert_int_equal(r.rows[0].frame, f.loop);
	assert_int_equal(r.rows[1].frame, f.hot);
	assert_int_equal(r.rows[4].frame, f.rec);
	ct_prank_free(&r);
	ct_profile_free(f.p);
}

/* The counts of one interval instead of the stacks' own; stacks beyond the array count 0. */
static void over_an_interval(void **state)
{
	(void)state;
	struct fix f;
	build(&f);
	uint64_t win[] = { 1, 0, 7 }; /* stack 3 (rec) is newer than the interval's array */
	struct ct_prank r;
	struct ct_prank_opts o = { win, 3, CT_PRANK_ALL, CT_PRANK_SELF };
	assert_int_equal(ct_profile_rank(f.p, &o, &r), 0);
	assert_int_equal(r.samples, 8);
	assert_int_equal(r.n, 3); /* cool, hot, loop: warm and rec had no sample */
	assert_int_equal(r.rows[0].frame, f.cool);
	assert_int_equal(r.rows[0].self, 7);
	assert_int_equal(r.rows[1].frame, f.hot);
	assert_int_equal(r.rows[2].frame, f.loop);
	assert_int_equal(r.rows[2].total, 8);
	ct_prank_free(&r);
	ct_profile_free(f.p);
}

static void one_thread(void **state)
{
	(void)state;
	struct fix f;
	build(&f);
	uint32_t *ids;
	size_t n;
	assert_int_equal(ct_profile_threads(f.p, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], f.t1);
	assert_int_equal(ids[1], f.t2);
	free(ids);
	struct ct_prank r;
	struct ct_prank_opts o = { NULL, 0, f.t2, CT_PRANK_SELF };
	assert_int_equal(ct_profile_rank(f.p, &o, &r), 0);
	assert_int_equal(r.samples, 15); /* the thread's samples are its 100% */
	assert_int_equal(r.n, 3);
	assert_int_equal(r.rows[0].frame, f.cool);
	assert_int_equal(r.rows[1].frame, f.loop == r.rows[1].frame ? f.loop : f.rec);
	ct_prank_free(&r);
	ct_profile_free(f.p);
}

static void empty(void **state)
{
	(void)state;
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	struct ct_prank r;
	struct ct_prank_opts o = { NULL, 0, CT_PRANK_ALL, CT_PRANK_TOTAL };
	assert_int_equal(ct_profile_rank(p, &o, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.samples, 0);
	ct_prank_free(&r);
	uint32_t *ids;
	size_t n;
	assert_int_equal(ct_profile_threads(p, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
	ct_profile_free(p);
}

static void top_table(void **state)
{
	(void)state;
	struct fix f;
	build(&f);
	struct ct_prank r;
	struct ct_prank_opts o = { NULL, 0, CT_PRANK_ALL, CT_PRANK_SELF };
	assert_int_equal(ct_profile_rank(f.p, &o, &r), 0);
	struct ct_top_head h = { .comm = "prog", .pid = 4242, .processes = 1, .threads = 3, .sampler = "perf",
				 .rate_hz = 99, .lost = 2, .cpu_pct = 1.25, .elapsed_s = 12, .window_s = 1.0 };
	struct ct_buf out = CT_BUF_INIT;
	ct_report_top_text(f.p, &r, &h, 3, 1000, &out);
	const char *t = ct_buf_cstr(&out);
	const char *head = "prog (4242)  3 threads  perf 99 Hz  lost 2  ctrace CPU 1.2%\n"
			   "last 1.0 s: 105 samples  sort self  all threads  ";
	if (strncmp(t, head, strlen(head)) != 0)
		fail_msg("header:\n%s", t);
	assert_non_null(strstr(t, "\n  SELF%  TOTAL%    SELF   TOTAL  FUNCTION\n"
				  "   57.1    57.1      60      60  hot_60\n"
				  "   28.6    28.6      30      30  warm_30\n"
				  "    9.5     9.5      10      10  cool_10\n\n"));
	assert_null(strstr(t, "rec")); /* max_rows */
	/* since the start, one thread, sorted by total, paused; several processes */
	h.since_start = h.sort_total = h.paused = true;
	h.thread = "split-1-12";
	h.processes = 3;
	ct_buf_reset(&out);
	ct_report_top_head(&h, &r, 0, 1000, &out);
	assert_string_equal(ct_buf_cstr(&out), "prog (4242) +2  3 threads  perf 99 Hz  lost 2  ctrace CPU 1.2%");
	ct_buf_reset(&out);
	ct_report_top_head(&h, &r, 1, 1000, &out);
	t = ct_buf_cstr(&out);
	head = "since start 12 s: 105 samples  sort total  thread split-1-12  ";
	if (strncmp(t, head, strlen(head)) != 0)
		fail_msg("header:\n%s", t);
	assert_non_null(strstr(t, "  PAUSED"));
	/* every line fits the width it is given: 80 columns, and a narrow 20 */
	static const size_t widths[] = { 80, 20 };
	for (size_t k = 0; k < 2; k++) {
		size_t w = widths[k];
		ct_buf_reset(&out);
		ct_report_top_columns(w, &out);
		assert_true(out.len <= w);
		for (size_t i = 0; i < r.n; i++) {
			ct_buf_reset(&out);
			ct_report_top_row(f.p, &r, i, w, &out);
			assert_true(out.len <= w);
		}
		for (int l = 0; l < CT_TOP_HEAD_LINES; l++) {
			ct_buf_reset(&out);
			ct_report_top_head(&h, &r, l, w, &out);
			assert_true(out.len <= w);
			assert_int_equal(strlen(ct_buf_cstr(&out)), out.len);
		}
	}
	/* the source file by its base name, after the function */
	ct_buf_reset(&out);
	ct_report_top_row(f.p, &r, 4, 80, &out);
	assert_string_equal(ct_buf_cstr(&out), "    0.0    95.2       0     100  split_loop  (prog.c)");
	ct_buf_free(&out);
	ct_prank_free(&r);
	ct_profile_free(f.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(by_self_and_total), cmocka_unit_test(over_an_interval),
		cmocka_unit_test(one_thread), cmocka_unit_test(empty), cmocka_unit_test(top_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
