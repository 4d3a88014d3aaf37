/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's own error codes, beyond errno. Functions return them negated, like -errno. */
#ifndef CT_ERROR_H
#define CT_ERROR_H

enum {
	CT_E_FIRST = 4096,
	CT_EZOMBIE = CT_E_FIRST, /* target is a zombie */
	CT_EKTHREAD,             /* target is a kernel thread */
	CT_ESELF,                /* target is ctrace itself */
	CT_ETRACED,              /* target is already traced by another tracer */
	CT_EBADDUMP,             /* a dump file is not in a format we know */
	CT_ENODEBUG,             /* debug information needed and missing */
	CT_E_LAST
};

/* Message for a negative or positive error code (errno or CT_E*). */
const char *ct_strerror(int err);

#endif
