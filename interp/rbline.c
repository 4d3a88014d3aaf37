/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ruby's line tables, decoded as iseq.c does (succ_index_lookup, get_insn_info_succinct_bitvector
 * and calc_pos of 3.1). The bytes come from the target: every read is bounded by the lengths given. */
#include "interp/rblayout.h"

#include <string.h>

#include "lib/banned.h"

#define IMMEDIATE 54        /* IMMEDIATE_TABLE_SIZE: positions ranked in the immediate part */
#define IMM_BYTES (IMMEDIATE / 9 * 8)
#define BLOCK_BITS 512
#define BLOCK_BYTES 80      /* struct succ_dict_block: rank, small_block_ranks, bits[8] */

static uint64_t get64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, sizeof(v));
	return v;
}

size_t ct_rb_succ_len_for(unsigned pos)
{
	if (pos < IMMEDIATE)
		return IMM_BYTES;
	return IMM_BYTES + ((size_t)(pos - IMMEDIATE) / BLOCK_BITS + 1) * BLOCK_BYTES;
}

int ct_rb_succ_index(const uint8_t *succ, size_t len, unsigned pos)
{
	if (!succ || pos > (1u << 28) || ct_rb_succ_len_for(pos) > len)
		return -1;
	if (pos < IMMEDIATE)
		return (int)((get64(succ + pos / 9 * 8) >> (pos % 9 * 7)) & 0x7f);
	unsigned x = pos - IMMEDIATE, bit = x % BLOCK_BITS, small = bit / 64;
	const uint8_t *block = succ + IMM_BYTES + (size_t)(x / BLOCK_BITS) * BLOCK_BYTES;
	uint32_t rank;
	memcpy(&rank, block, sizeof(rank));
	uint64_t small_ranks = get64(block + 8), word = get64(block + 16 + small * 8);
	unsigned before = small == 0 ? 0 : (unsigned)((small_ranks >> ((small - 1) * 9)) & 0x1ff);
	unsigned ones = (unsigned)__builtin_popcountll(word << (63 - bit % 64));
	uint64_t r = (uint64_t)rank + before + ones;
	return r > (1u << 28) ? -1 : (int)r;
}

int ct_rb_line(const uint8_t *entries, size_t n, size_t entry_size, size_t line_off, const uint8_t *succ,
	       size_t succ_len, long pos)
{
	if (!entries || n == 0 || entry_size < line_off + 4 || pos < 0)
		return -1;
	size_t idx = 0;
	if (n > 1) {
		/* the pc points after the instruction that runs: the one before it is looked up */
		int rank = ct_rb_succ_index(succ, succ_len, (unsigned)(pos > 0 ? pos - 1 : 0));
		if (rank < 1 || (size_t)rank > n)
			return -1;
		idx = (size_t)rank - 1;
	}
	int32_t line;
	memcpy(&line, entries + idx * entry_size + line_off, sizeof(line));
	return line;
}
