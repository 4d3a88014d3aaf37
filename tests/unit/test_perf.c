/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The perf ring-buffer record decoder, on crafted records: well-formed, truncated, lying sizes. */
#include <errno.h>
#include <linux/perf_event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "attach/oncpu.h"
#include "attach/perf.h"
#include "lib/procfs.h"

struct rec {
	uint8_t b[4096];
	size_t len;
};

static void put(struct rec *r, const void *p, size_t n)
{
	assert_true(r->len + n <= sizeof(r->b));
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void put64(struct rec *r, uint64_t v)
{
	put(r, &v, 8);
}

/* A sample as the kernel writes it for IP|TID|TIME|REGS_USER|STACK_USER. */
static void make_sample(struct rec *r, uint16_t misc, uint64_t abi, size_t stack, size_t dyn)
{
	r->len = 0;
	struct perf_event_header h = { PERF_RECORD_SAMPLE, misc, 0 };
	put(r, &h, sizeof(h));
	put64(r, 0x401234);                        /* ip */
	uint32_t ids[2] = { 100, 101 };
	put(r, ids, 8);                            /* pid, tid */
	put64(r, 5000);                            /* time */
	put64(r, abi);
	if (abi != PERF_SAMPLE_REGS_ABI_NONE)
		for (uint64_t i = 0; i < CT_PERF_NREGS; i++)
			put64(r, 0x1000 + i);      /* AX=0x1000, BX=0x1001, … IP=0x1008, R8=0x1009 … */
	put64(r, stack);
	for (size_t i = 0; i < stack; i++)
		put(r, &(uint8_t){ (uint8_t)i }, 1);
	if (stack)
		put64(r, dyn);
	((struct perf_event_header *)r->b)->size = (uint16_t)r->len;
}

static void good_sample(void **state)
{
	(void)state;
	struct rec r;
	make_sample(&r, PERF_RECORD_MISC_USER, PERF_SAMPLE_REGS_ABI_64, 64, 48);
	struct ct_perf_sample s;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), 0);
	assert_int_equal(s.pid, 100);
	assert_int_equal(s.tid, 101);
	assert_int_equal(s.cap.tid, 101);
	assert_int_equal(s.ip, 0x401234);
	assert_int_equal(s.time_ns, 5000);
	assert_false(s.in_kernel);
	assert_int_equal(s.cap.err, 0);
	/* perf order AX BX CX DX SI DI BP SP IP R8.. -> DWARF rax rdx rcx rbx rsi rdi rbp rsp r8.. rip */
	assert_int_equal(s.cap.regs[0], 0x1000);  /* rax */
	assert_int_equal(s.cap.regs[3], 0x1001);  /* rbx */
	assert_int_equal(s.cap.regs[2], 0x1002);  /* rcx */
	assert_int_equal(s.cap.regs[1], 0x1003);  /* rdx */
	assert_int_equal(s.cap.regs[CT_REG_RBP], 0x1006);
	assert_int_equal(s.cap.regs[CT_REG_RSP], 0x1007);
	assert_int_equal(s.cap.regs[CT_REG_RIP], 0x1008);
	assert_int_equal(s.cap.regs[8], 0x1009);  /* r8 */
	assert_int_equal(s.cap.regs[15], 0x1010); /* r15 */
	assert_int_equal(s.cap.regs_valid, (1u << CT_NREGS) - 1);
	/* the stack copy is the dynamic size, starting at SP, pointing into the record */
	assert_int_equal(s.cap.stack_len, 48);
	assert_int_equal(s.cap.stack_start, 0x1007);
	assert_ptr_equal(s.cap.stack, r.b + (r.len - 8 - 64));
	assert_int_equal(s.cap.stack[5], 5);
}

static void kernel_sample_without_regs(void **state)
{
	(void)state;
	struct rec r;
	make_sample(&r, PERF_RECORD_MISC_KERNEL, PERF_SAMPLE_REGS_ABI_NONE, 0, 0);
	struct ct_perf_sample s;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), 0);
	assert_true(s.in_kernel);
	assert_int_equal(s.cap.err, -ENODATA);
	assert_null(s.cap.stack);
}

static void abi32_not_unwound(void **state)
{
	(void)state;
	struct rec r;
	make_sample(&r, PERF_RECORD_MISC_USER, PERF_SAMPLE_REGS_ABI_32, 16, 16);
	struct ct_perf_sample s;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), 0);
	assert_int_equal(s.cap.err, -EPROTONOSUPPORT);
	assert_null(s.cap.stack);
}

static void every_truncation_rejected(void **state)
{
	(void)state;
	struct rec r;
	make_sample(&r, PERF_RECORD_MISC_USER, PERF_SAMPLE_REGS_ABI_64, 64, 64);
	struct ct_perf_sample s;
	/* the buffer shorter than the header's size */
	for (size_t n = 0; n < r.len; n++)
		assert_int_equal(ct_perf_decode(r.b, n, &s, NULL), -EBADMSG);
	/* the header's size shorter than the fields (the buffer is long enough) */
	for (size_t n = sizeof(struct perf_event_header); n < r.len; n++) {
		struct rec t = r;
		((struct perf_event_header *)t.b)->size = (uint16_t)n;
		assert_int_equal(ct_perf_decode(t.b, t.len, &s, NULL), -EBADMSG);
	}
	/* a size below the header itself */
	((struct perf_event_header *)r.b)->size = 4;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -EBADMSG);
}

static void lying_stack_sizes(void **state)
{
	(void)state;
	struct rec r;
	struct ct_perf_sample s;
	/* dyn_size larger than the copied size */
	make_sample(&r, PERF_RECORD_MISC_USER, PERF_SAMPLE_REGS_ABI_64, 32, 40);
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -EBADMSG);
	/* a stack size that runs past the record */
	make_sample(&r, PERF_RECORD_MISC_USER, PERF_SAMPLE_REGS_ABI_64, 32, 32);
	size_t size_off = r.len - 8 - 32 - 8;
	uint64_t huge = 1ull << 62;
	memcpy(r.b + size_off, &huge, 8);
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -EBADMSG);
	/* a size that is not a multiple of 8 */
	uint64_t odd = 31;
	memcpy(r.b + size_off, &odd, 8);
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -EBADMSG);
}

static void other_records(void **state)
{
	(void)state;
	struct rec r = { .len = 0 };
	struct perf_event_header h = { PERF_RECORD_LOST, 0, 24 };
	put(&r, &h, sizeof(h));
	put64(&r, 7);  /* id */
	put64(&r, 42); /* lost */
	struct ct_perf_sample s;
	uint64_t lost = 0;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, &lost), -ENOMSG);
	assert_int_equal(lost, 42);
	((struct perf_event_header *)r.b)->size = 16; /* a LOST record cut short */
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, &lost), -EBADMSG);
	((struct perf_event_header *)r.b)->type = PERF_RECORD_THROTTLE;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, &lost), -ENOMSG);
}

static void exec_record(void **state)
{
	(void)state;
	struct rec r = { .len = 0 };
	struct perf_event_header h = { PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC, 0 };
	put(&r, &h, sizeof(h));
	uint32_t ids[2] = { 300, 300 };
	put(&r, ids, 8);
	put(&r, "newprog\0", 8);
	((struct perf_event_header *)r.b)->size = (uint16_t)r.len;
	struct ct_perf_sample s;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), 0);
	assert_true(s.exec);
	assert_int_equal(s.pid, 300);
	assert_string_equal(s.comm, "newprog");
	assert_null(s.cap.stack);
	/* a name without its NUL (a lying kernel, a fuzzer) is bounded */
	struct rec big = { .len = 0 };
	put(&big, &h, sizeof(h));
	put(&big, ids, 8);
	put(&big, "abcdefghijklmnopqrstuvwx", 24);
	((struct perf_event_header *)big.b)->size = (uint16_t)big.len;
	assert_int_equal(ct_perf_decode(big.b, big.len, &s, NULL), 0);
	assert_string_equal(s.comm, "abcdefghijklmno");
	/* a rename (prctl PR_SET_NAME) is not an exec */
	((struct perf_event_header *)r.b)->misc = 0;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -ENOMSG);
	/* an exec record without its name is malformed */
	((struct perf_event_header *)r.b)->misc = PERF_RECORD_MISC_COMM_EXEC;
	((struct perf_event_header *)r.b)->size = 16;
	assert_int_equal(ct_perf_decode(r.b, r.len, &s, NULL), -EBADMSG);
}

/* /sys/devices/system/cpu/online: ranges and lists; garbage refused */
static void cpu_lists(void **state)
{
	(void)state;
	int c[8];
	assert_int_equal(ct_perf_parse_cpus("0-1\n", c, 8), 2);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 1);
	assert_int_equal(ct_perf_parse_cpus("0,2-4,7", c, 8), 5);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[3], 4);
	assert_int_equal(c[4], 7);
	assert_int_equal(ct_perf_parse_cpus("5", c, 8), 1);
	assert_int_equal(c[0], 5);
	assert_int_equal(ct_perf_parse_cpus("0-9", c, 8), -EINVAL);   /* more than max */
	assert_int_equal(ct_perf_parse_cpus("3-1", c, 8), -EINVAL);
	assert_int_equal(ct_perf_parse_cpus("", c, 8), -EINVAL);
	assert_int_equal(ct_perf_parse_cpus("x", c, 8), -EINVAL);
	assert_int_equal(ct_perf_parse_cpus("1,,2", c, 8), -EINVAL);
	assert_int_equal(ct_perf_parse_cpus("-1", c, 8), -EINVAL);
	assert_int_equal(ct_perf_parse_cpus("0-99999999", c, 8), -EINVAL);
}

static void random_bytes_never_crash(void **state)
{
	(void)state;
	uint8_t buf[512];
	uint64_t x = 88172645463325252ull;
	struct ct_perf_sample s;
	for (int round = 0; round < 20000; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		struct perf_event_header *h = (struct perf_event_header *)buf;
		if (round % 2)
			h->type = PERF_RECORD_SAMPLE;
		size_t len = (size_t)(x % sizeof(buf));
		int r = ct_perf_decode(buf, len, &s, NULL);
		assert_true(r == 0 || r == -EBADMSG || r == -ENOMSG);
		if (r == 0 && s.cap.stack) {
			assert_true(s.cap.stack >= buf && s.cap.stack + s.cap.stack_len <= buf + len);
		}
	}
}

/* A sampled stack is kept up to the top of the mapping that holds sp, and only when the copy
 * reaches it: a copy that stops short (a deeper stack, a page the interrupt could not read) could
 * cut frames off, and sp outside every mapping is no stack. */
static void oncpu_stack_keep(void **state)
{
	(void)state;
	struct ct_proc_map maps[] = {
		{ .start = 0x1000, .end = 0x9000 },   /* a thread's stack, 32 KiB */
		{ .start = 0x9000, .end = 0x11000 },  /* the next mapping, not merged */
	};
	/* sp 4 KiB below the top: 4 KiB kept of an 8 KiB copy */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x8000, 8192), 4096);
	/* the copy ends exactly at the top */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x8000, 4096), 4096);
	/* one byte short of the top: not used */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x8000, 4095), 0);
	/* deeper than the copy */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x1000, 16384), 0);
	/* sp in the second mapping: measured to its own top, not the first's */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x10ff8, 64), 8);
	/* no mapping holds sp, or none is known */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x20000, 65536), 0);
	assert_int_equal(ct_oncpu_stack_keep(NULL, 0, 0x8000, 65536), 0);
	/* the last byte of a mapping */
	assert_int_equal(ct_oncpu_stack_keep(maps, 2, 0x8fff, 1), 1);
}

static void oncpu_loadavg(void **state)
{
	(void)state;
	long n = -1;
	assert_int_equal(ct_oncpu_parse_loadavg("0.52 0.58 0.59 3/1234 5678\n", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ct_oncpu_parse_loadavg("168.80 179.43 375.08 1153/1402 9\n", &n), 0);
	assert_int_equal(n, 1153);
	assert_int_equal(ct_oncpu_parse_loadavg("", &n), -EINVAL);
	assert_int_equal(ct_oncpu_parse_loadavg("0.1 0.2 0.3", &n), -EINVAL);
	assert_int_equal(ct_oncpu_parse_loadavg("0.1 0.2 0.3 x/5 1", &n), -EINVAL);
	assert_int_equal(ct_oncpu_parse_loadavg("0.1 0.2 0.3 7 1", &n), -EINVAL);
	assert_int_equal(ct_oncpu_parse_loadavg("0.1 0.2 0.3 -1/5 1", &n), -EINVAL);
	assert_int_equal(ct_oncpu_parse_loadavg("0.1 0.2 0.3 99999999999999999999999/5 1", &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_sample),
		cmocka_unit_test(kernel_sample_without_regs),
		cmocka_unit_test(abi32_not_unwound),
		cmocka_unit_test(every_truncation_rejected),
		cmocka_unit_test(lying_stack_sizes),
		cmocka_unit_test(other_records),
		cmocka_unit_test(exec_record),
		cmocka_unit_test(cpu_lists),
		cmocka_unit_test(random_bytes_never_crash),
		cmocka_unit_test(oncpu_stack_keep),
		cmocka_unit_test(oncpu_loadavg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
