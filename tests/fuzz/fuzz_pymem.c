/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: --memory's walk of CPython's collector and pymalloc state (interp/pymem.c)
 * over target memory made of the input. The first byte picks the version's layout table; the rest
 * is memory at BASE, read through a memsrc as a live process or core would be: pymalloc's statics
 * (before 3.12) and gcmodule.c's (3.6) sit in its first bytes, _PyRuntime after them, and every
 * pointer the walk follows is whatever the input holds there. Checks what the figures promise.
 * The same memory goes through the validated scan for _PyRuntime (interp/pyscan.c).
 * make fuzz FUZZ_ONLY=fuzz_pymem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "interp/pylayout.h"
#include "interp/pymem.h"
#include "interp/pyscan.h"
#include "lib/memsrc.h"

#define BASE 0x10000u

struct image {
	const uint8_t *p;
	size_t n;
};

static ssize_t image_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = arg;
	if (addr < BASE || addr - BASE >= im->n)
		return -14; /* -EFAULT */
	size_t off = (size_t)(addr - BASE), k = im->n - off < len ? im->n - off : len;
	memcpy(buf, im->p + off, k);
	return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n;
	const struct ct_py_layout *all = ct_py_layouts(&n);
	const struct ct_py_layout *L = &all[data[0] % n];
	struct image im = { data + 1, size - 1 };
	struct ct_memsrc mem = { .pid = 0, .read = image_read, .arg = &im };
	struct ct_pymem_addrs a = {
		.arenas = BASE + 0, .maxarenas = BASE + 8, .narenas_currently_allocated = BASE + 16,
		.ntimes_arena_allocated = BASE + 24, .narenas_highwater = BASE + 32,
		.raw_allocated_blocks = (data[0] & 0x80) ? BASE + 40 : 0,
		.allocated_blocks = (data[0] & 0x80) ? 0 : BASE + 40,
		.gc_enabled = BASE + 48, .gc_generations = BASE + 56, .gc_stats = BASE + 56 + 3 * 48,
		.runtime = BASE + 512,
	};
	struct ct_pymem_stats s;
	if (ct_pymem_read_at(&mem, L, &a, &s) != 0)
		abort();
	if (s.gc) {
		for (int i = 0; i < CT_PYMEM_GENERATIONS; i++)
			if (s.gen[i].count < 0 || s.gen[i].threshold < 0 || s.gen[i].collections < 0)
				abort();
	} else if (!s.gc_note) {
		abort(); /* a part left out always says why */
	}
	if (s.pymalloc) {
		if (s.pools_used > s.pools_carved || s.pools_full > s.pools_used || s.arenas_in_use > s.arenas_walked ||
		    s.bytes < s.blocks * 16 || s.pools_carved > CT_PYMEM_MAX_POOLS)
			abort();
		if (s.blocks > s.pools_used * (s.pool_size / 16))
			abort();
	} else if (!s.pymalloc_note || s.blocks || s.allocated_blocks != -1) {
		abort();
	}
	uint64_t rt = ct_py_scan_buffer(&mem, im.p, im.n, BASE, L->version, L);
	if (rt && (rt < BASE || rt - BASE >= im.n || (rt & 7)))
		abort();
	return 0;
}
