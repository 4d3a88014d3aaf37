/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the dump parser unit tests (header-only, included by test_dump*.c). */
#ifndef CT_TEST_DUMP_HELPERS_H
#define CT_TEST_DUMP_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "analyze/dumps/dumps.h"
#include "lib/error.h"

/* Parses text (NUL-terminated) and asserts success; returns the result. */
static inline struct ct_dump_result parse_ok(const char *text)
{
	struct ct_dump_result r;
	int err = ct_dump_parse_mem(text, strlen(text), NULL, &r);
	if (err < 0)
		fail_msg("parse failed: %d line %zu: %s", err, r.err_line, r.err_msg);
	return r;
}

/* Parses text and asserts failure with err at line (0: any line); returns the result. */
static inline struct ct_dump_result parse_bad(const char *text, size_t len, int want, size_t line)
{
	struct ct_dump_result r;
	int err = ct_dump_parse_mem(text, len, NULL, &r);
	assert_int_equal(err, want);
	assert_int_equal(r.nsnaps, 0);
	assert_true(r.err_msg[0] != '\0');
	if (line)
		assert_int_equal(r.err_line, line);
	return r;
}

static inline const struct ct_thread *find_tid(const struct ct_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	fail_msg("no thread %d", (int)tid);
	return NULL;
}

#endif
