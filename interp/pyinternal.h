/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of the Python reader share (python.c finds the interpreter and reads the frames,
 * pythreads.c what a thread waits for): the reader's state and the copied chain. Private to
 * interp/. */
#ifndef CT_INTERP_PYINTERNAL_H
#define CT_INTERP_PYINTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "interp/pylayout.h"
#include "interp/python.h"
#include "lib/memsrc.h"

#define CODE_CACHE 2048         /* code objects remembered (direct-mapped by address) */

struct py_thread {
	uint64_t tstate, native_tid, thread_id;
};

struct py_code {
	uint64_t addr, key[4]; /* the code object and its name, qualname, filename and table pointers */
	int firstlineno, firsttraceable;
	char *name, *file;
	uint8_t *table;
	size_t table_len;
};

struct ct_py {
	struct ct_memsrc mem; /* the live process, or a core */
	struct ct_py_layout L;
	uint32_t hex;
	char version[32];
	uint64_t runtime, interp_head, tstate_current; /* 3.6: interp_head or _PyThreadState_Current */
	uint64_t type_code, type_unicode, type_bytes;
	uint64_t eval_lo, eval_hi;
	struct py_thread *threads;
	size_t nthreads, cap_threads;
	uint64_t gil_holder;
	size_t pthread_tid_off; /* before 3.11: the TID in glibc's struct pthread (0: unknown) */
	struct py_code *codes; /* CODE_CACHE entries */
	uint64_t *cframes;     /* 3.11-3.12: a thread's _PyCFrame chain, 2 x CT_PY_MAX_FRAMES (pychain.c) */
	struct ct_py_stats stats;
};

/* The copied chain, as c->interp holds it. */
struct py_raw {
	uint64_t tstate;
	int32_t err;       /* 0, -ESTALE (the state is no longer this thread's), -EFAULT, -ELOOP,
			    * -EAGAIN (read after a perf sample: moved on) */
	int32_t cf_err;    /* 3.11-3.12: -ESRCH when the _PyCFrame chain disagrees with the frames */
	uint32_t n, reads;
	uint32_t truncated;
	uint32_t sampled;  /* read after a perf sample, not while stopped */
	uint64_t ns;       /* time spent copying, while the thread was stopped */
	struct ct_py_raw_frame f[];
};

/* The bytes of a PyThreadState read (its fields ctrace uses) */
size_t py_tstate_len(const struct ct_py_layout *L);

static inline uint16_t maxu16(uint16_t a, uint16_t b)
{
	if (a == CT_PY_NONE)
		return b;
	if (b == CT_PY_NONE)
		return a;
	return a > b ? a : b;
}

static inline bool has(uint16_t off)
{
	return off != CT_PY_NONE;
}

static inline int32_t get_i32(const uint8_t *b, uint16_t off)
{
	int32_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

#endif
