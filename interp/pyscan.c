/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/pyscan.h"

#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

static uint64_t u64_at(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, sizeof(v));
	return v;
}

static bool pointer_like(uint64_t p)
{
	return p >= 0x10000 && (p & 7) == 0 && p < (1ull << 47);
}

/* The one interpreter state: no next interpreter, and its first thread state is the head of the
 * list (prev NULL: PyThreadState starts with prev, next, interp in every 3.x), points back to it,
 * and names a thread (pthread_t an address; from 3.11 a TID). A list of pymalloc's pools, which
 * also links back at a fixed offset, fails these. */
static bool valid_interp(const struct ct_memsrc *m, const struct ct_py_layout *L, uint64_t interp)
{
	uint64_t ts, next;
	uint8_t t[512];
	size_t tlen = (size_t)L->tstate_interp + 8;
	if (L->tstate_thread_id + 8u > tlen)
		tlen = L->tstate_thread_id + 8u;
	if (L->tstate_native_thread_id != CT_PY_NONE && L->tstate_native_thread_id + 8u > tlen)
		tlen = L->tstate_native_thread_id + 8u;
	if (!pointer_like(interp) || tlen > sizeof(t) || L->tstate_next < 8 ||
	    ct_memsrc_read_all(m, interp + L->interp_threads_head, &ts, sizeof(ts)) < 0 || !pointer_like(ts) ||
	    ts == interp || ct_memsrc_read_all(m, interp + L->interp_next, &next, sizeof(next)) < 0 || next != 0 ||
	    ct_memsrc_read_all(m, ts, t, tlen) < 0)
		return false;
	uint64_t native = L->tstate_native_thread_id != CT_PY_NONE ? u64_at(t + L->tstate_native_thread_id) : 1;
	return u64_at(t + L->tstate_next - 8) == 0 && u64_at(t + L->tstate_interp) == interp &&
	       pointer_like(u64_at(t + L->tstate_thread_id)) && native > 0 && native <= (1u << 22);
}

uint64_t ct_py_scan_buffer(const struct ct_memsrc *m, const uint8_t *buf, size_t len, uint64_t addr, uint32_t hex,
			   const struct ct_py_layout *L)
{
	uint16_t head = L->runtime_interpreters_head, main = L->runtime_interpreters_main;
	if (head == CT_PY_NONE || main == CT_PY_NONE || L->interp_threads_head == CT_PY_NONE ||
	    L->tstate_interp == CT_PY_NONE)
		return 0;
	size_t need = (size_t)(head > main ? head : main) + 8;
	bool debug_offsets = hex >= 0x030d0000; /* _Py_DebugOffsets first: "xdebugpy", the version */
	if (debug_offsets && need < 16)
		need = 16;
	uint64_t found = 0;
	size_t checked = 0;
	for (size_t off = (size_t)((8 - (addr & 7)) & 7); off + need <= len; off += 8) {
		const uint8_t *p = buf + off;
		if (debug_offsets && (memcmp(p, "xdebugpy", 8) != 0 || (u64_at(p + 8) >> 16) != (hex >> 16)))
			continue;
		uint64_t h = u64_at(p + head), mi = u64_at(p + main);
		/* one interpreter, the usual case: head and main are the same state */
		if (h != mi || !pointer_like(h))
			continue;
		if (++checked > CT_PYSCAN_MAX_CANDIDATES)
			return 0; /* too many to tell apart: not guessed */
		if (!valid_interp(m, L, h))
			continue;
		if (found)
			return 0; /* two places validate: not guessed */
		found = addr + off;
	}
	return found;
}

uint64_t ct_py_scan_runtime(const struct ct_memsrc *m, Dwfl_Module *mod, uint32_t hex, const struct ct_py_layout *L)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t nph;
	if (!elf || elf_getphdrnum(elf, &nph) != 0)
		return 0;
	uint64_t found = 0;
	size_t total = 0;
	for (size_t i = 0; i < nph && i < 64; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) || ph.p_memsz == 0)
			continue;
		if (ph.p_memsz > CT_PYSCAN_MAX_BYTES - total)
			return 0;
		total += ph.p_memsz;
		uint8_t *buf = malloc(ph.p_memsz);
		if (!buf)
			return 0;
		ssize_t n = ct_memsrc_read(m, ph.p_vaddr + bias, buf, ph.p_memsz);
		uint64_t at = n > 0 ? ct_py_scan_buffer(m, buf, (size_t)n, ph.p_vaddr + bias, hex, L) : 0;
		free(buf);
		if (at && found)
			return 0; /* in two segments: not guessed */
		if (at)
			found = at;
	}
	return found;
}
