/* libFuzzer target for interp/'s Ruby readers of target-controlled bytes: the succinct line table
 * and insn_info entries of an iseq, the copied control frames, the GC figures of a copied objspace,
 * and the thread waits and Mutex owners read through a pluggable memory (the input, mapped at
 * BASE). make fuzz FUZZ_ONLY=fuzz_ruby */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interp/rbgc.h"
#include "interp/rblayout.h"
#include "interp/rbthreads.h"
#include "interp/ruby.h"
#include "lib/model.h"

#define BASE 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct image {
	const uint8_t *p;
	size_t n;
};

static int image_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = arg;
	if (addr < BASE || addr - BASE > im->n || len > im->n - (addr - BASE))
		return -EFAULT;
	memcpy(buf, im->p + (addr - BASE), len);
	return 0;
}

/* Two Ruby threads whose rb_thread_t addresses are the input's first words, in a snapshot of two
 * threads sleeping in a system call, with a Ruby frame each; every pointer they hold points into
 * the input. */
static void waits(const uint8_t *data, size_t size)
{
	size_t nl;
	const struct ct_rb_layout *L = ct_rb_layouts(&nl);
	const struct ct_rb_private_layout *P = ct_rb_private_find(L->version);
	struct ct_snapshot *s = ct_snapshot_new();
	if (!P || !s || size < 24)
		goto out;
	struct image im = { data, size };
	struct ct_rb_mem m = { image_read, &im, 0 };
	uint64_t threads[2], kernel;
	memcpy(threads, data, sizeof(threads));
	memcpy(&kernel, data + 16, sizeof(kernel));
	pid_t tids[2] = { 1, 2 };
	for (int i = 0; i < 2; i++) {
		struct ct_thread *t = ct_snapshot_add_thread(s);
		struct ct_frame *f = t ? ct_thread_add_frame(t) : NULL;
		if (!f)
			goto out;
		t->tid = tids[i];
		t->state = 'S';
		t->syscall_nr = data[i] & 1 ? 202 : CT_SYSCALL_NONE;
		f->ruby = true;
		f->function = strdup(data[i] & 2 ? "Kernel#sleep" : "block in run");
		f->file = strdup("/app/x.rb");
		f->line = 12;
	}
	(void)ct_rb_waits_fill_mem(&m, L, P, kernel, threads, tids, 2, s);
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].waiting_on && strlen(s->threads[i].waiting_on) > 4096)
			abort();
out:
	ct_snapshot_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint32_t pos, nentries;
	__builtin_memcpy(&pos, data, 4);
	__builtin_memcpy(&nentries, data + 4, 4);
	const uint8_t *t = data + 8;
	size_t n = size - 8, half = n / 2;
	int rank = ct_rb_succ_index(t, n, pos % 4096);
	if (rank > (1 << 28))
		abort();
	nentries %= 64;
	if ((size_t)nentries * 12 > half)
		nentries = (uint32_t)(half / 12);
	(void)ct_rb_line(t, nentries, 12, 0, t + half, n - half, (long)(pos % 4096));
	const struct ct_rb_raw_frame *f;
	int k = ct_rb_raw_decode(data, size, &f);
	if (k > CT_RB_MAX_FRAMES)
		abort();
	uint64_t sum = 0;
	for (int i = 0; i < k; i++)
		sum += f[i].pc ^ f[i].iseq ^ f[i].ep;
	(void)sum;
	size_t nl;
	const struct ct_rb_private_layout *P = ct_rb_private_find(ct_rb_layouts(&nl)->version);
	struct ct_rb_gc g;
	if (P && ct_rb_gc_decode(P, data, size, &g) == 0 &&
	    g.heap_live_slots + g.heap_free_slots + g.heap_final_slots != g.heap_available_slots)
		abort();
	waits(data, size);
	return 0;
}
