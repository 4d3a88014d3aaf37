/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The protobuf wire format, as much of it as profile.proto needs: varints and length-delimited
 * fields, encoded into a ct_buf and decoded from untrusted bytes (every length checked against
 * what is left; groups refused). */
#ifndef CT_FORMATS_PROTOBUF_H
#define CT_FORMATS_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

enum { CT_PB_VARINT = 0, CT_PB_I64 = 1, CT_PB_LEN = 2, CT_PB_I32 = 5 }; /* wire types */

/* ---- decoding: each returns 0 or -EINVAL (malformed), -ENOMEM ---- */

/* The bytes not read yet of a message. */
struct ct_pb {
	const uint8_t *p, *end;
};

int ct_pb_varint(struct ct_pb *b, uint64_t *ret);
/* The next field: its number, wire type and either its varint value or, for CT_PB_LEN, its length
 * and its bytes in *ret_sub; fixed32/64 are skipped over (value 0). */
int ct_pb_next(struct ct_pb *b, uint64_t *ret_field, int *ret_wt, uint64_t *ret_v, struct ct_pb *ret_sub);
/* The varint fields 1..n of a message into v[0..n) (0 when absent, the last one when repeated);
 * other fields are skipped. */
int ct_pb_scalars(struct ct_pb m, uint64_t *v, size_t n);
/* A repeated integer field, packed (CT_PB_LEN) or not: appends to (*v)[*n]. */
int ct_pb_ints(int wt, uint64_t val, struct ct_pb *sub, uint64_t **v, size_t *n, size_t *cap);

/* ---- encoding: a failed growth is b->err, as for every ct_buf ---- */

void ct_pb_put_varint(struct ct_buf *b, uint64_t v);
void ct_pb_put_int(struct ct_buf *b, unsigned field, uint64_t v);
void ct_pb_put_bytes(struct ct_buf *b, unsigned field, const void *p, size_t n);
/* The message in sub as a field of b; sub is reset for the next one. */
void ct_pb_put_msg(struct ct_buf *b, unsigned field, struct ct_buf *sub);

#endif
