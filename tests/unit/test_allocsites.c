/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --memory --sites without the kernel: the bytes a call asks for (and the calls glibc hands on to
 * malloc), wrapper names, sites of an allocation profile, its folded and text renderings, and the
 * allocator's entry points found in this very process (file offsets checked against the file). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyze/profile.h"
#include "attach/perf.h"
#include "formats/folded.h"
#include "lib/procfs.h"
#include "lib/capture.h"
#include "memory/allocprobe.h"
#include "report/profile.h"

static void call_bytes(void **state)
{
	(void)state;
	uint64_t regs[CT_NREGS] = { 0 }, b = 0;
	regs[5] = 100; /* rdi */
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_MALLOC, regs, &b));
	assert_int_equal(b, 100);
	regs[4] = 25; /* rsi */
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_CALLOC, regs, &b));
	assert_int_equal(b, 2500);
	regs[5] = UINT64_MAX / 2; /* calloc's product overflows: refused, 0 bytes */
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_CALLOC, regs, &b));
	assert_int_equal(b, 0);
	/* realloc(ptr, 25) counts; realloc(NULL, 25) is glibc's malloc's to count, not jemalloc's */
	regs[5] = 0x1000;
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_REALLOC, regs, &b));
	assert_int_equal(b, 25);
	regs[5] = 0;
	assert_false(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_REALLOC, regs, &b));
	assert_true(ct_alloc_call_bytes(CT_ALLOC_JEMALLOC, CT_AFN_REALLOC, regs, &b));
	/* posix_memalign(&p, align, size): glibc relays alignments <= 16 to malloc */
	regs[4] = 16;
	regs[1] = 300; /* rdx */
	assert_false(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_POSIX_MEMALIGN, regs, &b));
	regs[4] = 64;
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_POSIX_MEMALIGN, regs, &b));
	assert_int_equal(b, 300);
	/* aligned_alloc(align, size) */
	regs[5] = 4096;
	regs[4] = 8192;
	assert_true(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_ALIGNED_ALLOC, regs, &b));
	assert_int_equal(b, 8192);
	regs[5] = 8;
	assert_false(ct_alloc_call_bytes(CT_ALLOC_GLIBC, CT_AFN_MEMALIGN, regs, &b));
}

static void wrappers(void **state)
{
	(void)state;
	assert_true(ct_alloc_wrapper_name("operator new(unsigned long)"));
	assert_true(ct_alloc_wrapper_name("xmalloc"));
	assert_true(ct_alloc_wrapper_name("g_malloc0"));
	assert_true(ct_alloc_wrapper_name("PyMem_RawMalloc"));
	assert_true(ct_alloc_wrapper_name("_PyObject_Malloc"));
	assert_true(ct_alloc_wrapper_name("ztrymalloc_usable"));
	assert_false(ct_alloc_wrapper_name("alloc_big"));
	assert_false(ct_alloc_wrapper_name("PyByteArray_Resize"));
	assert_false(ct_alloc_wrapper_name(NULL));
}

/* root;main;alloc_big;malloc (2 calls, 7000 B) root;main;alloc_small;xmalloc;malloc (30, 3000 B) */
static struct ct_profile *alloc_profile(void)
{
	struct ct_profile *p;
	assert_int_equal(ct_profile_new(&p), 0);
	p->alloc = true;
	uint32_t root, m, big, small, xm, mal;
	struct ct_frame fm = { .function = "main", .module = "/bin/x" };
	struct ct_frame fb = { .function = "alloc_big", .module = "/bin/x", .file = "x.c", .line = 9 };
	struct ct_frame fs = { .function = "alloc_small", .module = "/bin/x" };
	struct ct_frame fx = { .function = "xmalloc", .module = "/bin/x" };
	struct ct_frame fl = { .function = "malloc", .module = "/lib/libc.so.6" };
	assert_int_equal(ct_profile_frame_named(p, "x", CT_PFRAME_ROOT, &root), 0);
	assert_int_equal(ct_profile_frame(p, &fm, &m), 0);
	assert_int_equal(ct_profile_frame(p, &fb, &big), 0);
	assert_int_equal(ct_profile_frame(p, &fs, &small), 0);
	assert_int_equal(ct_profile_frame(p, &fx, &xm), 0);
	assert_int_equal(ct_profile_frame(p, &fl, &mal), 0);
	uint32_t s1[] = { root, m, big, mal }, s2[] = { root, m, small, xm, mal };
	assert_int_equal(ct_profile_add(p, s1, 4, 2, 7000), 0);
	assert_int_equal(ct_profile_add(p, s2, 5, 30, 3000), 0);
	ct_profile_sort(p);
	return p;
}

static bool skip_libc(const struct ct_pframe *f, void *arg)
{
	return (f->module && strcmp(f->module, arg) == 0) || ct_alloc_wrapper_name(f->name);
}

static void sites(void **state)
{
	(void)state;
	struct ct_profile *p = alloc_profile();
	struct ct_psite *s;
	size_t n;
	assert_int_equal(ct_profile_sites(p, skip_libc, "/lib/libc.so.6", &s, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p->frames[s[0].frame].name, "alloc_big"); /* largest bytes first */
	assert_int_equal(s[0].weight, 7000);
	assert_int_equal(s[0].count, 2);
	assert_string_equal(p->frames[s[1].frame].name, "alloc_small"); /* past xmalloc */
	assert_int_equal(s[1].count, 30);

	/* folded: weighted by bytes */
	struct ct_buf out = CT_BUF_INIT;
	ct_pwrite_folded(p, &out);
	assert_non_null(strstr(ct_buf_cstr(&out), "x;main;alloc_big;malloc 7000\n"));
	assert_non_null(strstr(ct_buf_cstr(&out), "x;main;alloc_small;xmalloc;malloc 3000\n"));
	ct_buf_reset(&out);

	/* text: per function, then the sites by bytes and by calls */
	struct ct_alloc_fn_total fns[] = { { "malloc", 32, 10000 }, { "calloc", 0, 0 } };
	struct ct_profile_meta m = { "ctrace allocation sites of x (1)", "uprobe", 0, 0, 1 };
	struct ct_alloc_text a = { "glibc (/lib/libc.so.6)", fns, 2, s, n, 10 };
	ct_report_alloc_sites_text(p, &m, &a, &out);
	const char *t = ct_buf_cstr(&out);
	assert_non_null(strstr(t, "32 calls, 9.8 KiB requested"));
	assert_non_null(strstr(t, "every call sampled"));
	assert_non_null(strstr(t, "  malloc                 32     9.8 KiB\n"));
	assert_null(strstr(t, "calloc")); /* no calls: not listed */
	const char *by_bytes = strstr(t, "by bytes"), *by_calls = strstr(t, "by calls");
	assert_non_null(by_bytes);
	assert_non_null(by_calls);
	assert_true(strstr(by_bytes, "alloc_big") < strstr(by_bytes, "alloc_small"));
	assert_true(strstr(by_calls, "alloc_small") < strstr(by_calls, "alloc_big"));
	assert_non_null(strstr(by_bytes, "  70.00     6.8 KiB         2  alloc_big  x.c\n"));
	ct_buf_free(&out);
	free(s);
	ct_profile_free(p);
}

/* This process's malloc: found in libc, and the bytes at the file offset are the bytes that run. */
static void probes_of_self(void **state)
{
	(void)state;
	struct ct_sym_opts so = { NULL, true, false, false, 0 };
	struct ct_symbolizer *sym;
	assert_int_equal(ct_sym_open(getpid(), &so, &sym), 0);
	struct ct_alloc_probes ps;
	int r = ct_alloc_probes_find(getpid(), sym, &ps);
	ct_sym_close(sym);
	if (r == -EACCES || r == -EPERM) {
		ct_alloc_probes_clear(&ps);
		/* /proc/self/map_files needs CAP_SYS_ADMIN on older kernels */
		fprintf(stderr, "SKIP: /proc/self/map_files refused (%s): not tested\n", strerror(-r));
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(ps.alloc.kind, CT_ALLOC_GLIBC);
	bool found = false;
	for (size_t i = 0; i < ps.n; i++) {
		const struct ct_alloc_probe *p = &ps.p[i];
		if (p->fn == CT_AFN_MALLOC)
			found = true;
		int fd = open(p->path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		uint8_t file[16];
		assert_int_equal(pread(fd, file, sizeof(file), (off_t)p->offset), (ssize_t)sizeof(file));
		close(fd);
		assert_memory_equal(file, (const void *)(uintptr_t)p->addr, sizeof(file));
		for (size_t j = 0; j < i; j++)
			assert_true(ps.p[j].addr != p->addr); /* aliases probed once */
	}
	assert_true(found);
	assert_null(ct_alloc_probe_at(&ps, 1));
	ct_alloc_probes_clear(&ps);
}

/* ---- a uprobe on a function of this test, through attach/perf.c (root or CAP_PERFMON) ---- */

__attribute__((noinline)) int ct_test_probed(long n);
__attribute__((noinline)) int ct_test_probed(long n)
{
	__asm__ volatile("" ::: "memory");
	return (int)n + 1;
}

struct seen {
	uint64_t ip;
	long args[16];
	size_t n;
};

static int on_sample(void *arg, const struct ct_perf_sample *s)
{
	struct seen *w = arg;
	if (s->exec || w->n >= 16)
		return 0;
	assert_int_equal(s->ip, w->ip);
	assert_int_equal(s->cap.err, 0);
	assert_true(s->cap.stack_len > 0);
	w->args[w->n++] = (long)s->cap.regs[5]; /* rdi: the argument */
	return 0;
}

/* Probes ct_test_probed with period, calls it with 1..10 and returns the arguments sampled. */
static int probe_calls(uint64_t period, struct seen *w)
{
	uint64_t addr = (uint64_t)(uintptr_t)&ct_test_probed;
	char *text = NULL;
	struct ct_proc_map *maps = NULL;
	size_t nmaps = 0;
	assert_int_equal(ct_proc_read(getpid(), 0, "maps", 1 << 22, &text), 0);
	assert_int_equal(ct_parse_proc_maps(text, 100000, &maps, &nmaps), 0);
	free(text);
	char path[128] = "";
	uint64_t off = 0;
	for (size_t i = 0; i < nmaps; i++)
		if (addr >= maps[i].start && addr < maps[i].end && maps[i].path) {
			snprintf(path, sizeof(path), "%s", maps[i].path);
			off = addr - maps[i].start + maps[i].offset;
		}
	ct_proc_maps_free(maps, nmaps);
	assert_true(path[0] == '/');
	struct ct_perf_probe pr = { path, off };
	struct ct_perf *p;
	int r = ct_perf_open_uprobes(getpid(), &pr, 1, period, 4096, &p);
	if (r < 0)
		return r;
	memset(w, 0, sizeof(*w));
	w->ip = addr;
	int sum = 0;
	for (long i = 1; i <= 10; i++)
		sum += ct_test_probed(i);
	assert_int_equal(sum, 65);
	assert_int_equal(ct_perf_read(p, 100, on_sample, w), 0);
	assert_int_equal(ct_perf_stats(p)->lost, 0);
	ct_perf_close(p);
	return 0;
}

static void uprobe_self(void **state)
{
	(void)state;
	struct seen w;
	int r = probe_calls(1, &w);
	if (r == -EACCES || r == -EPERM || r == -ENOSYS) {
		fprintf(stderr, "uprobes refused here (%s): not tested\n", strerror(-r));
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(w.n, 10); /* every call, each with its argument */
	for (size_t i = 0; i < w.n; i++)
		assert_int_equal(w.args[i], (long)i + 1);
	assert_int_equal(probe_calls(3, &w), 0);
	assert_int_equal(w.n, 3); /* calls 3, 6, 9 */
	assert_int_equal(w.args[0], 3);
	assert_int_equal(w.args[2], 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(call_bytes),
		cmocka_unit_test(wrappers),
		cmocka_unit_test(sites),
		cmocka_unit_test(probes_of_self),
		cmocka_unit_test(uprobe_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
