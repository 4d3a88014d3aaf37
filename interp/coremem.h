/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Target memory of a core for the interpreter readers: the core's memory, and where the core left
 * a range out (gcore and the kernel skip read-only file mappings: .rodata, where ruby_version and
 * Py_Version live), the bytes of the module's own file (the one the symbolizer opened for the
 * core, checked by build-id), from a load segment that is not writable, so the file's bytes are
 * the memory's. Nothing else is filled in: writable or anonymous memory a core lacks stays
 * unreadable. */
#ifndef CT_INTERP_COREMEM_H
#define CT_INTERP_COREMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/memsrc.h"
#include "symbolize/symbolizer.h"

struct ct_coremem {
	struct ct_memsrc core; /* the core's memory */
	struct ct_symbolizer *sym; /* its modules (the files behind the read-only mappings) */
	uint64_t file_bytes;   /* bytes read from the modules' files, for -v and the tests */
};

/* A memsrc over m (which must outlive it): the core, then the modules' read-only segments. */
struct ct_memsrc ct_coremem_src(struct ct_coremem *m);
/* Reads up to len bytes at addr as ct_memsrc's read does (arg: the struct ct_coremem). */
ssize_t ct_coremem_read(void *arg, uint64_t addr, void *buf, size_t len);

#endif
