/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime state (_PyRuntime, 3.7+) of a CPython whose symbols do not name it (a stripped or
 * relinked build), found as py-spy does: by scanning the module's writable segments (.data,
 * .bss) for the one place where a structure laid out as the version's table says validates:
 * interpreters.head and interpreters.main are interpreter states whose thread list's first thread
 * state points back to its interpreter (from 3.13 also the _Py_DebugOffsets cookie and version
 * at its start). Nothing is guessed: no candidate, or more than one, is "not found". */
#ifndef CT_INTERP_PYSCAN_H
#define CT_INTERP_PYSCAN_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

#include "interp/pylayout.h"
#include "lib/memsrc.h"

#define CT_PYSCAN_MAX_BYTES (64u << 20)  /* writable segment bytes scanned */
#define CT_PYSCAN_MAX_CANDIDATES 4096     /* places checked in the target's memory */

/* The address of _PyRuntime in mod's segments, or 0 (not found, or not one place only). hex: the
 * version (PY_VERSION_HEX), L its table. */
uint64_t ct_py_scan_runtime(const struct ct_memsrc *m, Dwfl_Module *mod, uint32_t hex, const struct ct_py_layout *L);

/* The scan over memory already read (for the unit test and the fuzzer): buf holds len bytes of the
 * target at addr. The address found or 0. */
uint64_t ct_py_scan_buffer(const struct ct_memsrc *m, const uint8_t *buf, size_t len, uint64_t addr, uint32_t hex,
			   const struct ct_py_layout *L);

#endif
