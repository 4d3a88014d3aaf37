/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Python frame chain copied while its thread is stopped (the attach hook), or read just after a
 * perf sample and checked against the sample's stack copy; and, from 3.11, the _PyCFrame chain of
 * the eval-loop calls (3.11-3.12) that ties each call's frames to its native stack frame. */
#include "interp/python.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "interp/pyinternal.h"
#include "interp/pylayout.h"
#include "lib/util.h"
#include "lib/banned.h"

size_t py_tstate_len(const struct ct_py_layout *L)
{
	uint16_t m = L->tstate_next;
	const uint16_t f[] = { L->tstate_interp, L->tstate_thread_id, L->tstate_native_thread_id,
			       L->tstate_frame, L->tstate_cframe, L->tstate_current_frame,
			       L->tstate_datastack_chunk, L->tstate_datastack_top };
	for (size_t i = 0; i < CT_ARRAY_SIZE(f); i++)
		m = maxu16(m, f[i]);
	return (size_t)m + 8;
}

/* ---- while the thread is stopped ---- */

/* Whether the stack copy of c holds [addr, addr + len). */
static bool in_stack_copy(const struct ct_capture *c, uint64_t addr, size_t len)
{
	return c->stack && addr >= c->stack_start && addr - c->stack_start <= c->stack_len &&
	       len <= c->stack_len - (addr - c->stack_start);
}

/* Reads of the stopped thread (or of a sample's): from the C stack copy of the capture (what lives
 * there, 3.11+'s _PyCFrame and 3.12+'s entry frames, as the stop or the sample saw it), from the
 * data stack copy when it covers the range, else from memory (counted). */
struct stopped_reader {
	const struct ct_memsrc *mem;
	const struct ct_capture *c;
	uint64_t lo, hi;
	uint8_t *copy;
	uint32_t reads;
};

static int sr_read(struct stopped_reader *sr, uint64_t addr, void *buf, size_t len)
{
	if (in_stack_copy(sr->c, addr, len)) {
		memcpy(buf, sr->c->stack + (addr - sr->c->stack_start), len);
		return 0;
	}
	if (sr->copy && addr >= sr->lo && addr <= sr->hi && len <= sr->hi - addr) {
		memcpy(buf, sr->copy + (addr - sr->lo), len);
		return 0;
	}
	sr->reads++;
	return ct_interp_read(sr->mem, addr, buf, len);
}

static const struct py_thread *thread_of(const struct ct_py *py, const struct ct_capture *c)
{
	/* no thread pointer (a perf sample): by the TID read from struct pthread */
	bool by_tid = has(py->L.tstate_native_thread_id) || c->fs_base == 0;
	for (size_t i = 0; i < py->nthreads; i++)
		if (by_tid ? py->threads[i].native_tid == (uint64_t)c->tid : py->threads[i].thread_id == c->fs_base)
			return &py->threads[i];
	return NULL;
}

static size_t frame_len(const struct ct_py_layout *L)
{
	uint16_t m = maxu16(L->frame_previous, L->frame_code);
	m = maxu16(m, L->frame_lasti);
	m = maxu16(m, L->frame_instr);
	m = maxu16(m, L->frame_owner);
	m = maxu16(m, L->frame_is_entry);
	return (size_t)m + 8;
}

static void walk_chain(const struct ct_py *py, struct stopped_reader *sr, uint64_t frame, struct py_raw *raw)
{
	const struct ct_py_layout *L = &py->L;
	size_t flen = frame_len(L);
	uint8_t fb[512];
	if (flen > sizeof(fb)) {
		raw->err = -EPROTO;
		return;
	}
	while (frame) {
		if (raw->n >= CT_PY_MAX_FRAMES) {
			raw->truncated = 1;
			return;
		}
		if (sr_read(sr, frame, fb, flen) < 0) {
			raw->err = -EFAULT;
			return;
		}
		struct ct_py_raw_frame *f = &raw->f[raw->n++];
		memset(f, 0, sizeof(*f));
		f->addr = frame;
		f->code = ct_interp_u64(fb, L->frame_code);
		if (has(L->frame_instr))
			f->instr = ct_interp_u64(fb, L->frame_instr);
		if (has(L->frame_lasti))
			f->lasti = get_i32(fb, L->frame_lasti);
		if (has(L->frame_owner))
			f->owner = fb[L->frame_owner];
		if (has(L->frame_is_entry))
			f->entry = fb[L->frame_is_entry];
		uint64_t prev = ct_interp_u64(fb, L->frame_previous);
		if (prev == frame) {
			raw->err = -ELOOP;
			return;
		}
		frame = prev;
	}
}

/* sampled: the thread was not stopped (a perf sample, read after it): the chain read now must be
 * the one of the sample, as far as the sample's registers and stack copy can tell (check_sampled). */
static void copy_chain(struct ct_py *py, const struct ct_memsrc *mem, struct ct_capture *c, bool sampled);

void ct_py_while_stopped(void *arg, pid_t pid, struct ct_capture *c)
{
	struct ct_memsrc live = ct_memsrc_live(pid);
	copy_chain(arg, &live, c, false);
}

void ct_py_copy_stopped(struct ct_py *py, struct ct_capture *c)
{
	copy_chain(py, &py->mem, c, false);
}

int ct_py_read_sampled(struct ct_py *py, pid_t pid, struct ct_capture *c)
{
	free(c->interp);
	c->interp = NULL;
	c->interp_len = 0;
	struct ct_memsrc live = ct_memsrc_live(pid);
	copy_chain(py, &live, c, true);
	return 0;
}

/* 3.11-3.12: the _PyCFrame chain of the thread's eval-loop calls, innermost first (addr, and the
 * current frame of each), from cf to the thread state's own root_cframe (not listed). Each call keeps
 * its _PyCFrame on its C stack, so the capture's stack copy holds them as the stop or the sample saw
 * them. Sampled: those entered since the sample (below the copy) are passed over in memory, and
 * every one listed must be in the copy. *ret_n: the count. 0, -EAGAIN (sampled: moved on), -EFAULT,
 * -EPROTO (the chain does not go outward to the root), -E2BIG (longer than the frame bound). */
static int walk_cframes(const struct ct_py *py, struct stopped_reader *sr, uint64_t tstate, uint64_t cf, bool sampled,
			uint64_t *addr, uint64_t *cur, uint32_t *ret_n)
{
	const struct ct_py_layout *L = &py->L;
	const struct ct_capture *c = sr->c;
	uint64_t root = tstate + L->tstate_root_cframe;
	size_t len = (size_t)maxu16(L->cframe_current_frame, L->cframe_previous) + 8;
	uint8_t b[32];
	uint32_t n = 0;
	*ret_n = 0;
	if (len > sizeof(b))
		return -EPROTO;
	for (int k = 0; sampled && cf != root && cf < c->stack_start; k++) {
		sr->reads++;
		if (k >= 64 || ct_interp_read_u64(sr->mem, cf + L->cframe_previous, &cf) < 0)
			return -EAGAIN;
	}
	while (cf != root) {
		if (n >= CT_PY_MAX_FRAMES)
			return -E2BIG;
		if (sampled && !in_stack_copy(c, cf, len))
			return -EAGAIN;
		if (sr_read(sr, cf, b, len) < 0)
			return -EFAULT;
		addr[n] = cf;
		cur[n++] = ct_interp_u64(b, L->cframe_current_frame);
		uint64_t prev = ct_interp_u64(b, L->cframe_previous);
		if (prev != root && prev <= cf)
			return -EPROTO; /* the C stack grows down: a caller's lies above */
		cf = prev;
	}
	*ret_n = n;
	return 0;
}

/* Ties each eval-loop call's frames to its _PyCFrame: the first frame of each call (3.11: the chain
 * up to and including an is_entry frame; 3.12: up to an entry frame owned by the C stack) must be
 * the current frame of the next _PyCFrame, and each gets that _PyCFrame's address as its anchor.
 * -ESRCH (no anchor set) when the two chains disagree. */
static int tie_cframes(const struct ct_py *py, struct py_raw *raw, const uint64_t *addr, const uint64_t *cur,
		       uint32_t ncf)
{
	bool v312 = py->hex >= 0x030c0000;
	uint32_t k = 0;
	bool start = true;
	for (uint32_t i = 0; i < raw->n; i++) {
		struct ct_py_raw_frame *f = &raw->f[i];
		bool cstack = v312 && f->owner == CT_PY_OWNED_BY_CSTACK;
		if (start) {
			if (cstack || k >= ncf || f->addr != cur[k])
				break;
			f->anchor = addr[k++];
		}
		start = v312 ? cstack : f->entry != 0;
	}
	if (raw->truncated || (k == ncf && start))
		return 0;
	for (uint32_t i = 0; i < raw->n; i++)
		raw->f[i].anchor = 0;
	return -ESRCH;
}

/* The check of a chain read after a perf sample, while its thread ran on, from 3.12: each eval-loop
 * call's entry frame lives on its C stack; the innermost one must lie in the stack of the sample (a
 * call entered since is below the sampled stack pointer), and it is read from the sample's copy.
 * (3.11-3.12 also start from the current frame the sample's _PyCFrame holds: walk_cframes.)
 * -EAGAIN when the thread moved on. */
static int check_sampled(const struct ct_py *py, const struct ct_capture *c, const struct py_raw *raw)
{
	if (py->hex < 0x030c0000)
		return 0;
	for (uint32_t i = 0; i < raw->n; i++) {
		if (raw->f[i].owner != CT_PY_OWNED_BY_CSTACK)
			continue;
		if (!in_stack_copy(c, raw->f[i].addr, 8))
			return -EAGAIN; /* entered after the sample */
		break;
	}
	return 0;
}

static void copy_chain(struct ct_py *py, const struct ct_memsrc *mem, struct ct_capture *c, bool sampled)
{
	const struct ct_py_layout *L = &py->L;
	uint64_t t0 = ct_now_ns();
	const struct py_thread *th = thread_of(py, c);
	if (!th)
		return; /* no thread state: c->interp stays NULL */
	struct py_raw *raw = malloc(sizeof(*raw) + CT_PY_MAX_FRAMES * sizeof(raw->f[0]));
	if (!raw)
		return;
	memset(raw, 0, sizeof(*raw));
	raw->tstate = th->tstate;
	struct stopped_reader sr = { mem, c, 0, 0, NULL, 0 };
	uint8_t tb[1024];
	size_t tlen = py_tstate_len(L);
	uint64_t frame = 0, *cf_addr = NULL; /* 3.11-3.12: the _PyCFrame chain, then the current frames */
	uint32_t ncf = 0;
	if (sr_read(&sr, th->tstate, tb, tlen) < 0) {
		raw->err = -EFAULT;
	} else if (has(L->tstate_native_thread_id) ? ct_interp_u64(tb, L->tstate_native_thread_id) != (uint64_t)c->tid
						    : ct_interp_u64(tb, L->tstate_thread_id) != (c->fs_base ? c->fs_base : th->thread_id)) {
		raw->err = -ESTALE;
	} else if (has(L->tstate_frame)) {
		frame = ct_interp_u64(tb, L->tstate_frame);
	} else if (has(L->tstate_current_frame)) {
		frame = ct_interp_u64(tb, L->tstate_current_frame);
	} else {
		uint64_t cframe = ct_interp_u64(tb, L->tstate_cframe);
		cf_addr = py->cframes; /* allocated with the reader, not while the thread is stopped */
		int r = cf_addr ? walk_cframes(py, &sr, th->tstate, cframe, sampled, cf_addr, cf_addr + CT_PY_MAX_FRAMES,
					       &ncf) : -ENOMEM;
		if (r == 0) {
			frame = ncf ? cf_addr[CT_PY_MAX_FRAMES] : 0; /* the innermost call's current frame */
		} else if (sampled) {
			raw->err = -EAGAIN;
		} else {
			/* the frames are still shown, apart from the native stack */
			raw->cf_err = -ESRCH;
			if (cframe && sr_read(&sr, cframe + L->cframe_current_frame, &frame, sizeof(frame)) < 0)
				raw->err = -EFAULT;
		}
	}
	if (!raw->err && frame && has(L->tstate_datastack_top)) {
		/* 3.11+: the frames of this thread's Python calls live in its data stack; one copy of the
		 * current chunk's used part serves them (generators' frames are read one by one) */
		uint64_t chunk = ct_interp_u64(tb, L->tstate_datastack_chunk), top = ct_interp_u64(tb, L->tstate_datastack_top);
		if (chunk && top > chunk && top - chunk <= (1u << 24)) {
			uint64_t lo = top - chunk > CT_PY_MAX_DATASTACK ? top - CT_PY_MAX_DATASTACK : chunk;
			sr.copy = malloc(top - lo);
			if (sr.copy) {
				ssize_t got = ct_memsrc_read(mem, lo, sr.copy, top - lo);
				sr.reads++;
				if (got == (ssize_t)(top - lo)) {
					sr.lo = lo;
					sr.hi = top;
				} else {
					free(sr.copy);
					sr.copy = NULL;
				}
			}
		}
	}
	if (!raw->err)
		walk_chain(py, &sr, frame, raw);
	if (!raw->err && cf_addr && !raw->cf_err &&
	    tie_cframes(py, raw, cf_addr, cf_addr + CT_PY_MAX_FRAMES, ncf) < 0) {
		if (sampled)
			raw->err = -EAGAIN;
		else
			raw->cf_err = -ESRCH;
	}
	if (!raw->err && sampled)
		raw->err = check_sampled(py, c, raw);
	raw->sampled = sampled;
	free(sr.copy);
	raw->reads = sr.reads;
	raw->ns = ct_now_ns() - t0;
	size_t size = sizeof(*raw) + raw->n * sizeof(raw->f[0]);
	struct py_raw *shrunk = realloc(raw, size);
	c->interp = shrunk ? shrunk : raw;
	c->interp_len = size;
}

int ct_py_raw_decode(const void *blob, size_t len, const struct ct_py_raw_frame **ret_frames)
{
	const struct py_raw *raw = blob;
	if (!blob || len < sizeof(*raw) || raw->n > CT_PY_MAX_FRAMES ||
	    len != sizeof(*raw) + raw->n * sizeof(raw->f[0]))
		return -EINVAL;
	*ret_frames = raw->f;
	return (int)raw->n;
}

