/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPython's line tables, decoded as Objects/codeobject.c does (PyCode_Addr2Line of each version).
 * The bytes come from the target: every read is bounded by len and a line that leaves int's range
 * is -1, never a wrap. */
#include "interp/pylayout.h"

#include <limits.h>

#include "lib/banned.h"

static int add_line(int line, long delta)
{
	long l = (long)line + delta;
	return l < INT_MIN / 2 || l > INT_MAX / 2 ? INT_MIN : (int)l;
}

int ct_py_line_lnotab(const uint8_t *t, size_t len, int firstlineno, int addr)
{
	int line = firstlineno;
	long at = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		at += t[i];
		if (at > addr)
			break;
		line = add_line(line, (signed char)t[i + 1]);
		if (line == INT_MIN)
			return -1;
	}
	return line;
}

int ct_py_line_310(const uint8_t *t, size_t len, int firstlineno, int addr)
{
	/* pairs (bytes, signed line delta); -128: these bytes have no line */
	long end = 0;
	int computed = firstlineno;
	for (size_t i = 0; i + 1 < len; i += 2) {
		long start = end;
		end += t[i];
		int ldelta = (signed char)t[i + 1];
		int line = -1;
		if (ldelta != -128) {
			computed = add_line(computed, ldelta);
			if (computed == INT_MIN)
				return -1;
			line = computed;
		}
		if (start <= addr && addr < end)
			return line;
	}
	return -1;
}

/* Objects/locations.md: 6-bit chunks, bit 6 says another follows */
static int varint(const uint8_t *t, size_t len, size_t *i, unsigned long *ret)
{
	unsigned long v = 0;
	for (unsigned shift = 0; *i < len && shift < 32; shift += 6) {
		uint8_t b = t[(*i)++];
		v |= (unsigned long)(b & 63) << shift;
		if (!(b & 64)) {
			*ret = v;
			return 0;
		}
	}
	return -1;
}

static int svarint(const uint8_t *t, size_t len, size_t *i, long *ret)
{
	unsigned long v;
	if (varint(t, len, i, &v) < 0)
		return -1;
	*ret = v & 1 ? -(long)(v >> 1) : (long)(v >> 1);
	return 0;
}

int ct_py_line_311(const uint8_t *t, size_t len, int firstlineno, int addr)
{
	int line = firstlineno;
	long at = 0;
	size_t i = 0;
	while (i < len) {
		uint8_t first = t[i++];
		if (!(first & 0x80))
			return -1; /* not the start of an entry: a corrupt table */
		int code = (first >> 3) & 15;
		long units = (first & 7) + 1, delta = 0;
		unsigned long skip;
		switch (code) {
		case 15: /* no location */
			break;
		case 14: /* long form: line delta, end line, column, end column */
			if (svarint(t, len, &i, &delta) < 0 || varint(t, len, &i, &skip) < 0 ||
			    varint(t, len, &i, &skip) < 0 || varint(t, len, &i, &skip) < 0)
				return -1;
			break;
		case 13: /* no column */
			if (svarint(t, len, &i, &delta) < 0)
				return -1;
			break;
		case 10: case 11: case 12: /* one line: delta code - 10, then two column bytes */
			delta = code - 10;
			i += 2;
			break;
		default: /* short form: same line, one column byte */
			i += 1;
			break;
		}
		if (code != 15) {
			line = add_line(line, delta);
			if (line == INT_MIN)
				return -1;
		}
		if (addr >= at && addr < at + units)
			return code == 15 ? -1 : line;
		at += units;
		if (i > len)
			return -1;
	}
	return -1;
}

int ct_py_line(uint32_t version, const uint8_t *table, size_t len, int firstlineno, int lasti)
{
	if (lasti < 0)
		return firstlineno;
	if (version >= 0x030b0000)
		return ct_py_line_311(table, len, firstlineno, lasti);
	if (version >= 0x030a0000)
		return ct_py_line_310(table, len, firstlineno, lasti > INT_MAX / 2 ? -1 : lasti * 2);
	return ct_py_line_lnotab(table, len, firstlineno, lasti);
}
