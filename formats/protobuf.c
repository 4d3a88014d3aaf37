/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/protobuf.h"

#include <errno.h>
#include <string.h>

#include "lib/banned.h"

int ct_pb_varint(struct ct_pb *b, uint64_t *ret)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (b->p >= b->end)
			return -EINVAL;
		uint8_t c = *b->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

int ct_pb_next(struct ct_pb *b, uint64_t *ret_field, int *ret_wt, uint64_t *ret_v, struct ct_pb *ret_sub)
{
	uint64_t key, v = 0;
	if (ct_pb_varint(b, &key) < 0)
		return -EINVAL;
	int wt = (int)(key & 7);
	switch (wt) {
	case CT_PB_VARINT:
		if (ct_pb_varint(b, &v) < 0)
			return -EINVAL;
		break;
	case CT_PB_I64:
	case CT_PB_I32: {
		size_t n = wt == CT_PB_I64 ? 8 : 4;
		if ((size_t)(b->end - b->p) < n)
			return -EINVAL;
		b->p += n;
		break;
	}
	case CT_PB_LEN:
		if (ct_pb_varint(b, &v) < 0 || v > (uint64_t)(b->end - b->p))
			return -EINVAL;
		ret_sub->p = b->p;
		ret_sub->end = b->p + v;
		b->p += v;
		break;
	default:
		return -EINVAL;
	}
	*ret_field = key >> 3;
	*ret_wt = wt;
	*ret_v = v;
	return 0;
}

int ct_pb_scalars(struct ct_pb m, uint64_t *v, size_t n)
{
	memset(v, 0, n * sizeof(*v));
	while (m.p < m.end) {
		struct ct_pb x;
		uint64_t field, val;
		int wt;
		if (ct_pb_next(&m, &field, &wt, &val, &x) < 0)
			return -EINVAL;
		if (wt == CT_PB_VARINT && field >= 1 && field <= n)
			v[field - 1] = val;
	}
	return 0;
}

int ct_pb_ints(int wt, uint64_t val, struct ct_pb *sub, uint64_t **v, size_t *n, size_t *cap)
{
	if (wt == CT_PB_VARINT) {
		if (ct_grow(v, cap, *n + 1, sizeof(**v)) < 0)
			return -ENOMEM;
		(*v)[(*n)++] = val;
		return 0;
	}
	if (wt != CT_PB_LEN)
		return -EINVAL;
	while (sub->p < sub->end) {
		uint64_t x;
		if (ct_pb_varint(sub, &x) < 0)
			return -EINVAL;
		if (ct_grow(v, cap, *n + 1, sizeof(**v)) < 0)
			return -ENOMEM;
		(*v)[(*n)++] = x;
	}
	return 0;
}

void ct_pb_put_varint(struct ct_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	ct_buf_append(b, tmp, n);
}

void ct_pb_put_int(struct ct_buf *b, unsigned field, uint64_t v)
{
	ct_pb_put_varint(b, (uint64_t)field << 3 | CT_PB_VARINT);
	ct_pb_put_varint(b, v);
}

void ct_pb_put_bytes(struct ct_buf *b, unsigned field, const void *p, size_t n)
{
	ct_pb_put_varint(b, (uint64_t)field << 3 | CT_PB_LEN);
	ct_pb_put_varint(b, n);
	ct_buf_append(b, p, n);
}

void ct_pb_put_msg(struct ct_buf *b, unsigned field, struct ct_buf *sub)
{
	if (sub->err)
		b->err = sub->err;
	ct_pb_put_bytes(b, field, sub->data ? sub->data : "", sub->len);
	ct_buf_reset(sub);
}
