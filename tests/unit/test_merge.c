/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace merge's readers (formats/): folded, pprof and speedscope back into the profile
 * model, labels kept apart and merged, and malformed files refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "formats/detect.h"
#include "formats/folded.h"
#include "formats/pprof.h"
#include "formats/speedscope.h"

static struct ct_pread_limits lim;

static int setup(void **state)
{
	(void)state;
	ct_pread_limits_default(&lim);
	return 0;
}

/* The count of the stack whose folded text is want ("a;b;c"), 0 when absent. */
static uint64_t folded_count(const struct ct_profile *p, const char *want)
{
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_folded(p, &out);
	uint64_t n = 0;
	size_t wl = strlen(want);
	for (const char *s = ct_buf_cstr(&out); s && *s;) {
		const char *nl = strchr(s, '\n');
		if (strncmp(s, want, wl) == 0 && s[wl] == ' ')
			n += strtoull(s + wl + 1, NULL, 10);
		s = nl ? nl + 1 : s + strlen(s);
	}
	ct_buf_free(&out);
	return n;
}

static struct ct_profile *folded(const char *text)
{
	struct ct_profile *p = NULL;
	struct ct_pread_error err;
	int r = ct_pread_folded(text, strlen(text), &lim, &p, &err);
	if (r < 0)
		fail_msg("folded refused: %s (line %zu)", err.msg, err.line);
	return p;
}

static void folded_sums(void **state)
{
	(void)state;
	struct ct_profile *p = folded("app;main;foo 3\r\n# a comment\n\napp;main;foo 4\napp;main;read_[k] 2\n"
				      "app;main;operator new(unsigned long) 1\napp;main;zero 0");
	assert_int_equal(p->total, 10);
	assert_int_equal(p->nstacks, 3);
	assert_int_equal(folded_count(p, "app;main;foo"), 7);
	assert_int_equal(folded_count(p, "app;main;read_[k]"), 2);
	assert_int_equal(folded_count(p, "app;main;operator new(unsigned long)"), 1);
	bool kernel = false;
	for (size_t i = 0; i < p->nframes; i++)
		if (strcmp(p->frames[i].name, "read") == 0)
			kernel = p->frames[i].kind == CT_PFRAME_KERNEL;
	assert_true(kernel);
	ct_profile_free(p);
}

static void expect_folded_error(const char *text, size_t len, int code, size_t line, const char *msg)
{
	struct ct_profile *p = NULL;
	struct ct_pread_error err;
	assert_int_equal(ct_pread_folded(text, len, &lim, &p, &err), code);
	assert_null(p);
	if (err.line != line)
		fail_msg("'%s': line %zu, want %zu (%s)", text, err.line, line, err.msg);
	assert_non_null(strstr(err.msg, msg));
}

static void folded_malformed(void **state)
{
	(void)state;
	expect_folded_error("a;b 1\na;b\n", 10, -EINVAL, 2, "not a folded stack");
	expect_folded_error("a;b 12x\n", 8, -EINVAL, 1, "not a folded stack");
	expect_folded_error("a;b -1\n", 7, -EINVAL, 1, "not a folded stack");
	expect_folded_error("a;b 99999999999999999999999\n", 28, -EINVAL, 1, "too large");
	expect_folded_error("a;b 18446744073709551615\na;c 1\n", 31, -EINVAL, 2, "beyond 2^64");
	expect_folded_error("a\0b 1\n", 6, -EINVAL, 1, "binary data");
	expect_folded_error("\n# nothing\n", 11, -EINVAL, 0, "no stacks");
	expect_folded_error("", 0, -EINVAL, 0, "no stacks");
	struct ct_pread_limits small = lim;
	small.max_depth = 3;
	struct ct_profile *p = NULL;
	struct ct_pread_error err;
	assert_int_equal(ct_pread_folded("a;b;c;d 1\n", 10, &small, &p, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "deeper than 3"));
	small = lim;
	small.max_frames_total = 5;
	assert_int_equal(ct_pread_folded("a;b;c 1\na;b;d 1\n", 16, &small, &p, &err), -EFBIG);
	assert_null(p);
}

/* A profile as a live run makes it: a root frame per process, labels per thread. */
static struct ct_profile *live_profile(void)
{
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	uint32_t root, f, g, inl, l1, l2;
	struct ct_frame ff = { .function = "work", .file = "w.c", .line = 10, .module = "/bin/w" };
	struct ct_frame fi = { .function = "helper", .file = "w.c", .line = 3, .inlined = true };
	assert_int_equal(ct_profile_frame_named(p, "server", CT_PFRAME_ROOT, &root), 0);
	assert_int_equal(ct_profile_frame_named(p, "main", CT_PFRAME_NORMAL, &g), 0);
	assert_int_equal(ct_profile_frame(p, &ff, &f), 0);
	assert_int_equal(ct_profile_frame(p, &fi, &inl), 0);
	struct ct_plabel a[] = { { "host", "web1", 0 }, { "pid", NULL, 42 }, { "thread", "worker-1", 0 } };
	struct ct_plabel b[] = { { "host", "web1", 0 }, { "pid", NULL, 42 }, { "thread", "worker-2", 0 } };
	assert_int_equal(ct_profile_labels(p, a, 3, &l1), 0);
	assert_int_equal(ct_profile_labels(p, b, 3, &l2), 0);
	assert_int_not_equal(l1, l2);
	uint32_t again;
	assert_int_equal(ct_profile_labels(p, a, 3, &again), 0);
	assert_int_equal(again, l1);
	uint32_t s[] = { root, g, f, inl };
	/* the same frames, two threads: two samples */
	assert_int_equal(ct_profile_add_labeled(p, s, 4, l1, 5, 5000), 0);
	assert_int_equal(ct_profile_add_labeled(p, s, 4, l2, 3, 3000), 0);
	assert_int_equal(ct_profile_add_labeled(p, s, 3, l1, 2, 2000), 0);
	assert_int_equal(ct_profile_add_labeled(p, s, 3, 99, 2, 2000), -EINVAL);
	assert_int_equal(p->nstacks, 3);
	p->period_ns = 1000;
	p->start_ns = 1000000;
	p->duration_ns = 500;
	return p;
}

static struct ct_profile *roundtrip_pprof(const struct ct_profile *p)
{
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_pprof(p, &out);
	assert_int_equal(out.err, 0);
	assert_int_equal(ct_pformat_detect(out.data, out.len), CT_PFMT_PPROF);
	struct ct_profile *q = NULL;
	struct ct_pread_error err;
	int r = ct_pread_pprof(out.data, out.len, &lim, &q, &err);
	if (r < 0)
		fail_msg("pprof refused: %s", err.msg);
	ct_buf_free(&out);
	return q;
}

static const char *label_str(const struct ct_profile *p, uint32_t set, const char *key)
{
	const struct ct_plabelset *ls = &p->labelsets[set];
	for (uint32_t i = 0; i < ls->n; i++)
		if (strcmp(p->labels[ls->first + i].key, key) == 0)
			return p->labels[ls->first + i].str ? p->labels[ls->first + i].str : "(num)";
	return NULL;
}

static void pprof_roundtrip_keeps_labels(void **state)
{
	(void)state;
	struct ct_profile *p = live_profile();
	struct ct_profile *q = roundtrip_pprof(p);
	assert_int_equal(q->total, 10);
	assert_int_equal(q->total_weight, 10000);
	assert_int_equal(q->nstacks, 3);
	assert_int_equal(q->period_ns, 1000);
	assert_int_equal(q->start_ns, 1000000);
	assert_false(q->wall);
	/* live_profile's stacks: root;main;work;helper for worker-1 (5) and worker-2 (3), and
	 * root;main;work for worker-1 (2); every one must come back whole */
	size_t deep = 0, shallow = 0;
	for (size_t i = 0; i < q->nstacks; i++) {
		const struct ct_pstack *s = &q->stacks[i];
		/* the "process" label is the root frame again, and not a label */
		assert_string_equal(q->frames[s->frames[0]].name, "server");
		assert_int_equal(q->frames[s->frames[0]].kind, CT_PFRAME_ROOT);
		assert_null(label_str(q, s->labels, "process"));
		assert_string_equal(label_str(q, s->labels, "host"), "web1");
		assert_string_equal(label_str(q, s->labels, "pid"), "(num)");
		if (s->n == 4) {
			assert_string_equal(q->frames[s->frames[3]].name, "helper");
			assert_int_equal(q->frames[s->frames[3]].kind, CT_PFRAME_INLINED);
			assert_string_equal(q->frames[s->frames[2]].file, "w.c");
			assert_int_equal(q->frames[s->frames[2]].line, 10);
			const char *t = label_str(q, s->labels, "thread");
			assert_int_equal(s->count, strcmp(t, "worker-1") == 0 ? 5 : 3);
			deep++;
		} else {
			assert_int_equal(s->n, 3);
			assert_string_equal(q->frames[s->frames[2]].name, "work");
			assert_string_equal(label_str(q, s->labels, "thread"), "worker-1");
			assert_int_equal(s->count, 2);
			shallow++;
		}
	}
	assert_int_equal(deep, 2);
	assert_int_equal(shallow, 1);
	ct_profile_free(p);
	ct_profile_free(q);
}

static void merge_labels_or_names(void **state)
{
	(void)state;
	struct ct_profile *p = live_profile(), *all;
	assert_int_equal(ct_profile_new(&all), 0);
	assert_int_equal(ct_profile_merge(all, p, CT_MERGE_LABELS), 0);
	assert_int_equal(ct_profile_merge(all, p, CT_MERGE_LABELS), 0);
	assert_int_equal(all->nstacks, 3);
	assert_int_equal(all->total, 20);
	assert_int_equal(all->total_weight, 20000);
	ct_profile_free(all);
	/* folded output: names only, labels dropped: the two threads' stacks add up */
	assert_int_equal(ct_profile_new(&all), 0);
	assert_int_equal(ct_profile_merge(all, p, CT_MERGE_NAMES_ONLY | CT_MERGE_ROOT_PLAIN), 0);
	struct ct_profile *f = folded("server;main;work;helper_[i] 1\n");
	assert_int_equal(ct_profile_merge(all, f, CT_MERGE_NAMES_ONLY | CT_MERGE_ROOT_PLAIN), 0);
	assert_int_equal(all->nstacks, 2);
	assert_int_equal(folded_count(all, "server;main;work;helper_[i]"), 9);
	assert_int_equal(folded_count(all, "server;main;work"), 2);
	ct_profile_free(f);
	ct_profile_free(all);
	ct_profile_free(p);
}

/* ---- hand-made protobuf, for what ctrace's writer never produces ---- */

static void pbv(struct ct_buf *b, uint64_t v)
{
	do {
		ct_buf_putc(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void pbi(struct ct_buf *b, unsigned field, uint64_t v)
{
	pbv(b, (uint64_t)field << 3);
	pbv(b, v);
}

static void pbs(struct ct_buf *b, unsigned field, const void *p, size_t n)
{
	pbv(b, (uint64_t)field << 3 | 2);
	pbv(b, n);
	ct_buf_append(b, p, n);
}

static void pbm(struct ct_buf *b, unsigned field, struct ct_buf *sub)
{
	pbs(b, field, sub->data ? sub->data : "", sub->len);
	ct_buf_reset(sub);
}

/* strings: "", samples, count, cpu, nanoseconds, f, g, lib.so, host, h1 */
static void pb_strings(struct ct_buf *b)
{
	static const char *s[] = { "", "samples", "count", "cpu", "nanoseconds", "f", "g", "/usr/lib/lib.so",
				   "host", "h1" };
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		pbs(b, 6, s[i], strlen(s[i]));
}

enum pb_bad { PB_OK, PB_BAD_FUNCTION, PB_BAD_LOCATION, PB_BAD_STRING, PB_VALUES, PB_TRUNCATED };

/* A raw (not gzipped) profile: unpacked location ids, two inlined lines in one location, an
 * address-only location in a mapping, a numeric and a string label. */
static void pb_profile(struct ct_buf *b, enum pb_bad bad)
{
	struct ct_buf sub = CT_BUF_INIT, sub2 = CT_BUF_INIT;
	pbi(&sub, 1, 1);
	pbi(&sub, 2, 2);
	pbm(b, 1, &sub);
	pbi(&sub, 1, 3);
	pbi(&sub, 2, 4);
	pbm(b, 1, &sub);
	/* sample: leaf location 20 (lib.so, no lines), then 10 (g inlined into f) */
	pbi(&sub, 1, bad == PB_BAD_LOCATION ? 77 : 20);
	pbi(&sub, 1, 10);
	pbv(&sub2, 4);
	pbv(&sub2, 5);
	pbm(&sub, 2, &sub2); /* packed values 4, 5 */
	if (bad == PB_VALUES)
		pbi(&sub, 2, 9);
	pbi(&sub2, 1, 8);
	pbi(&sub2, 2, bad == PB_BAD_STRING ? 1000 : 9);
	pbm(&sub, 3, &sub2);
	pbi(&sub2, 1, 8); /* a numeric label with the same key */
	pbi(&sub2, 3, 7);
	pbm(&sub, 3, &sub2);
	pbm(b, 2, &sub);
	pbi(&sub, 1, 3);   /* mapping id 3 */
	pbi(&sub, 5, 7);   /* filename */
	pbm(b, 3, &sub);
	pbi(&sub, 1, 10);  /* location 10 */
	pbi(&sub2, 1, 200);
	pbi(&sub2, 2, 12);
	pbm(&sub, 4, &sub2); /* line: g (inlined) */
	pbi(&sub2, 1, bad == PB_BAD_FUNCTION ? 999 : 100);
	pbm(&sub, 4, &sub2); /* line: f */
	pbm(b, 4, &sub);
	pbi(&sub, 1, 20);
	pbi(&sub, 2, 3);
	pbi(&sub, 3, 0x1234);
	pbm(b, 4, &sub);
	pbi(&sub, 1, 100);
	pbi(&sub, 2, 5);
	pbm(b, 5, &sub);
	pbi(&sub, 1, 200);
	pbi(&sub, 3, 6); /* system_name only */
	pbm(b, 5, &sub);
	pb_strings(b);
	if (bad == PB_TRUNCATED)
		b->len -= 3;
	ct_buf_free(&sub);
	ct_buf_free(&sub2);
}

static void pprof_handmade(void **state)
{
	(void)state;
	struct ct_buf b = CT_BUF_INIT;
	pb_profile(&b, PB_OK);
	struct ct_profile *p = NULL;
	struct ct_pread_error err;
	int r = ct_pread_pprof(b.data, b.len, &lim, &p, &err);
	if (r < 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(p->total, 4);
	assert_int_equal(p->total_weight, 5);
	assert_int_equal(folded_count(p, "f;g_[i];[lib.so]"), 4);
	assert_int_equal(p->labelsets[p->stacks[0].labels].n, 2);
	ct_profile_free(p);
	ct_buf_free(&b);
}

static void pprof_malformed(void **state)
{
	(void)state;
	static const struct { enum pb_bad bad; const char *msg; } cases[] = {
		{ PB_BAD_FUNCTION, "function 999, which is not there" },
		{ PB_BAD_LOCATION, "location 77, which is not there" },
		{ PB_BAD_STRING, "beyond the table" },
		{ PB_VALUES, "3 values for 2 sample types" },
		{ PB_TRUNCATED, "bad protobuf" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_buf b = CT_BUF_INIT;
		pb_profile(&b, cases[i].bad);
		struct ct_profile *p = NULL;
		struct ct_pread_error err;
		assert_int_equal(ct_pread_pprof(b.data, b.len, &lim, &p, &err), -EINVAL);
		assert_null(p);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].msg);
		ct_buf_free(&b);
	}
	/* gzip that ends early, gzip of garbage, and a bomb over the limit */
	struct ct_profile *p = NULL, *q = live_profile();
	struct ct_pread_error err;
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_pprof(q, &out);
	assert_int_equal(ct_pread_pprof(out.data, out.len / 2, &lim, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	struct ct_pread_limits small = lim;
	small.max_bytes = 64;
	assert_int_equal(ct_pread_pprof(out.data, out.len, &small, &p, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "decompresses to more than"));
	static const unsigned char junk[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(ct_pread_pprof(junk, sizeof(junk), &lim, &p, &err), -EINVAL);
	assert_int_equal(ct_pread_pprof("\x0a\xff", 2, &lim, &p, &err), -EINVAL);
	assert_int_equal(ct_pread_pprof("", 0, &lim, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "string table"));
	assert_null(p);
	ct_buf_free(&out);
	ct_profile_free(q);
}

static void speedscope_roundtrip(void **state)
{
	(void)state;
	struct ct_profile *p = live_profile();
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_speedscope(p, "t", &out);
	assert_int_equal(ct_pformat_detect(out.data, out.len), CT_PFMT_SPEEDSCOPE);
	struct ct_profile *q = NULL;
	struct ct_pread_error err;
	if (ct_pread_speedscope(out.data, out.len, &lim, &q, &err) < 0)
		fail_msg("refused: %s", err.msg);
	/* ctraceCounts gives the counts back; the weights are the nanoseconds */
	assert_int_equal(q->total, 10);
	assert_int_equal(q->total_weight, 10000);
	assert_int_equal(folded_count(q, "server;main;work;helper_[i]"), 8);
	ct_profile_free(q);
	ct_buf_free(&out);
	ct_profile_free(p);
}

static void speedscope_malformed(void **state)
{
	(void)state;
#define SS "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},"
	static const struct { const char *json; const char *msg; } cases[] = {
		{ SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\"samples\":[[0,1]],\"weights\":[1]}]}",
		  "names frame 1 of 1" },
		{ SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\"samples\":[[0]],\"weights\":[-1]}]}",
		  "not a number >= 0" },
		{ SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\"samples\":[[0]],\"weights\":[]}]}",
		  "one length" },
		{ SS "\"profiles\":[{\"type\":\"evented\",\"unit\":\"none\",\"events\":[]}]}", "only sampled" },
		{ SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"furlongs\",\"samples\":[],\"weights\":[]}]}",
		  "unit 'furlongs'" },
		{ SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\"samples\":[[0]],\"weights\":[1]}", "ends early" },
		{ "{\"$schema\":\"elsewhere\",\"speedscope\":1}", "not a speedscope file" },
		{ "{\"$schema\": \"x\", \"speedscope\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "bad JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_profile *p = NULL;
		struct ct_pread_error err;
		enum ct_pformat f;
		assert_int_equal(ct_pread(cases[i].json, strlen(cases[i].json), &lim, &f, &p, &err), -EINVAL);
		assert_int_equal(f, CT_PFMT_SPEEDSCOPE);
		assert_null(p);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].msg);
	}
	/* seconds become nanoseconds; without ctraceCounts each sample counts once */
	const char *ok = SS "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"seconds\",\"samples\":[[0],[0]],\"weights\":[0.5,0.25]}]}";
	struct ct_profile *p = NULL;
	struct ct_pread_error err;
	assert_int_equal(ct_pread_speedscope(ok, strlen(ok), &lim, &p, &err), 0);
	assert_int_equal(p->total, 2);
	assert_int_equal(p->total_weight, 750000000);
	ct_profile_free(p);
#undef SS
}

static void detect(void **state)
{
	(void)state;
	assert_int_equal(ct_pformat_detect("\x1f\x8b", 2), CT_PFMT_PPROF);
	assert_int_equal(ct_pformat_detect("a;b 1\n", 6), CT_PFMT_FOLDED);
	assert_int_equal(ct_pformat_detect("{lambda};b 1\n", 13), CT_PFMT_FOLDED);
	const char *ss = " \n{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\"}";
	assert_int_equal(ct_pformat_detect(ss, strlen(ss)), CT_PFMT_SPEEDSCOPE);
	assert_int_equal(ct_pformat_detect("", 0), CT_PFMT_FOLDED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folded_sums),
		cmocka_unit_test(folded_malformed),
		cmocka_unit_test(pprof_roundtrip_keeps_labels),
		cmocka_unit_test(merge_labels_or_names),
		cmocka_unit_test(pprof_handmade),
		cmocka_unit_test(pprof_malformed),
		cmocka_unit_test(speedscope_roundtrip),
		cmocka_unit_test(speedscope_malformed),
		cmocka_unit_test(detect),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
