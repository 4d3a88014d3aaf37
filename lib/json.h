/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal streaming JSON writer into a ct_buf. Commas are inserted automatically. */
#ifndef CT_JSON_H
#define CT_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"

#define CT_JSON_MAX_DEPTH 32

struct ct_json {
	struct ct_buf *out;
	int depth;
	bool need_comma[CT_JSON_MAX_DEPTH];
	bool after_key;
};

void ct_json_init(struct ct_json *j, struct ct_buf *out);
void ct_json_obj_begin(struct ct_json *j);
void ct_json_obj_end(struct ct_json *j);
void ct_json_arr_begin(struct ct_json *j);
void ct_json_arr_end(struct ct_json *j);
void ct_json_key(struct ct_json *j, const char *key);
void ct_json_str(struct ct_json *j, const char *s); /* NULL writes null */
void ct_json_int(struct ct_json *j, int64_t v);
void ct_json_uint(struct ct_json *j, uint64_t v);
void ct_json_double(struct ct_json *j, double v, int decimals);
void ct_json_bool(struct ct_json *j, bool v);
void ct_json_null(struct ct_json *j);
void ct_json_hex(struct ct_json *j, uint64_t v); /* "0x..." string */
/* Appends s to out as a JSON string literal with escapes (invalid UTF-8 bytes become \ufffd). */
void ct_json_escape(struct ct_buf *out, const char *s);

#endif
