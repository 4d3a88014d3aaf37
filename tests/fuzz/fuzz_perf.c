/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the perf ring-buffer record decoder (attach/perf.c, ct_perf_decode). The
 * input is a run of records as they sit in a ring once linearized (each starts with its
 * perf_event_header); they are walked as drain() does, each copied into a buffer of exactly its
 * size so that any read past the record is caught. What the callers rely on is checked: a stack
 * copy lies inside the record, registers are set only for a 64-bit sample. Seeds: real records
 * in tests/fuzz/corpus/fuzz_perf. Run with `make fuzz`. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach/perf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_one(const uint8_t *data, size_t len)
{
	uint8_t *rec = malloc(len ? len : 1);
	if (!rec)
		return;
	memcpy(rec, data, len);
	struct ct_perf_sample s;
	uint64_t lost = 0;
	int r = ct_perf_decode(rec, len, &s, &lost);
	if (r == 0 && !s.exec) {
		if (s.cap.stack && (s.cap.stack < rec || s.cap.stack_len > len ||
				    s.cap.stack + s.cap.stack_len > rec + len))
			abort(); /* the stack copy must lie inside the record */
		if (s.cap.stack && s.cap.err)
			abort(); /* no stack handed out without the registers to unwind it */
		volatile uint8_t sink = 0;
		for (size_t i = 0; s.cap.stack && i < s.cap.stack_len; i++)
			sink ^= s.cap.stack[i];
		(void)sink;
	} else if (r != 0 && r != -ENOMSG && r != -EBADMSG) {
		abort();
	}
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (int n = 0; n < 4096 && off < size; n++) {
		size_t left = size - off;
		struct perf_event_header h;
		if (left < sizeof(h)) {
			decode_one(data + off, left); /* a partial header: must be refused */
			break;
		}
		memcpy(&h, data + off, sizeof(h));
		if (h.size < sizeof(h) || h.size > left) {
			decode_one(data + off, left); /* drain() would drop it; the decoder must cope too */
			break;
		}
		decode_one(data + off, h.size);
		off += h.size;
	}
	return 0;
}
