/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPython frames, read from outside with no debug info: the interpreter is found by its symbols
 * (_PyRuntime, Py_Version, PyCode_Type …, in .dynsym or .symtab) in libpython3.X.so or a static
 * python executable; the layouts come from interp/pylayout.c (3.13+: checked against the
 * _Py_DebugOffsets the target carries).
 *
 * The work is split the way the capture is: ct_py_threads_refresh() lists the thread states while
 * the target runs; ct_py_while_stopped() (the attach hook) copies each thread's frame chain while
 * the thread is stopped, bounded; ct_py_thread_frames() reads code objects and strings after the
 * thread runs again, validates them (every object's type is checked against the interpreter's own
 * type objects) and merges the Python frames into the native stack at the eval-loop frames. */
#ifndef CT_INTERP_PYTHON_H
#define CT_INTERP_PYTHON_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp/interp.h"
#include "lib/capture.h"
#include "lib/model.h"
#include "symbolize/symbolizer.h"

#define CT_PY_MAX_FRAMES 1024        /* Python frames copied per thread */
#define CT_PY_MAX_THREADS 4096       /* thread states listed */
#define CT_PY_MAX_DATASTACK (256 * 1024) /* bytes of a 3.11+ data stack chunk copied per thread */

struct ct_py;

/* Looks for CPython in the process sym reads. 0 with *ret when found and supported; 0 with *ret
 * NULL when the process is not Python (nothing to say) or when it is a version without a table,
 * then *ret_note is one line naming it (caller frees); -ENOMEM. */
int ct_py_open(struct ct_symbolizer *sym, struct ct_py **ret, char **ret_note);
/* As ct_py_open, with target memory read from mem (the live process, or a core: copied, and what
 * it points to must outlive the reader) and exe the executable's path (NULL: unknown). Before 3.11 a
 * core's threads are matched by the thread pointer (NT_PRSTATUS fs_base) only. */
int ct_py_open_mem(struct ct_symbolizer *sym, const struct ct_memsrc *mem, const char *exe, struct ct_py **ret,
		   char **ret_note);
void ct_py_close(struct ct_py *py);
/* Where CPython can be in a process: the first libpython3.X.so mapped, and the executable, the
 * module named exe (its path, or as a core names it, its base name; NULL: not known). The names are
 * the modules' own, valid while dwfl is. */
struct ct_py_modules {
	const char *exe_path;
	Dwfl_Module *lib, *exe; /* NULL: none */
	const char *lib_name, *exe_name;
};
void ct_py_find_modules(Dwfl *dwfl, const char *exe, struct ct_py_modules *ret);
/* "3.11.2" */
const char *ct_py_version(const struct ct_py *py);
/* "3.M" from "libpython3.M.so…" or "python3.M": PY_VERSION_HEX of major.minor, or 0. */
uint32_t ct_py_hex_from_name(const char *base);
/* True when threads are told apart by pthread_t (before 3.11): it is the thread pointer, read with
 * the registers, so a passive capture (no registers) cannot be matched. */
bool ct_py_needs_thread_pointer(const struct ct_py *py);

/* Lists the thread states (the target runs). 0, or -errno when the interpreter cannot be read
 * (-ESRCH gone, -EFAULT not initialized or finalizing). */
int ct_py_threads_refresh(struct ct_py *py);
/* Reads which thread state holds the GIL (the target runs): call just after a capture. */
void ct_py_gil_refresh(struct ct_py *py);

/* The attach hook (struct ct_attach_opts' while_stopped, arg the struct ct_py): copies the frame
 * chain of c's thread into c->interp. Bounded by CT_PY_MAX_FRAMES frames and one data stack copy. */
void ct_py_while_stopped(void *arg, pid_t pid, struct ct_capture *c);
/* The same for a core, whose threads are all stopped: the chain read from the reader's memory. */
void ct_py_copy_stopped(struct ct_py *py, struct ct_capture *c);

/* After the thread resumed: the Python frames of c merged into t's native frames (in place of each
 * _PyEval_EvalFrameDefault frame that runs them), or, when the counts disagree, kept apart in
 * t->interp_frames with t->interp_note saying why. Marks the GIL holder and waiters. 0 or -ENOMEM. */
int ct_py_thread_frames(struct ct_py *py, const struct ct_capture *c, struct ct_thread *t);

/* The perf sampler's counterpart of the hook: the thread of c was not stopped, so its chain is read
 * from the running process just after the sample, tied to what the sample's stack copy holds as it
 * was at the sample (3.11-3.12: the _PyCFrame chain, whose innermost current frame the chain starts
 * at; 3.12+: the entry frames on the C stack). A chain that moved on is kept with err -EAGAIN, which
 * ct_py_capture_frames returns. Replaces c->interp; c->interp stays NULL when the thread has no
 * thread state. 0. */
int ct_py_read_sampled(struct ct_py *py, pid_t pid, struct ct_capture *c);

/* Whether pc (as the unwinder gives it) is in _PyEval_EvalFrameDefault. */
bool ct_py_is_eval_pc(const struct ct_py *py, uint64_t pc);
/* For the profiler: the Python frames of c, innermost first (each with the eval-loop call that runs
 * it, 0 the innermost, and skip for a frame not started yet, 3.11+, which is not shown), and for each
 * of the npcs native frames of its stack (pcs, innermost first, as unwound) the call whose frames
 * replace it in group_of (npcs slots; -1: none, the frame stays). 3.11+: matched exactly
 * (*ret_exact) by the address each call keeps in its own native stack frame (3.11: its _PyCFrame,
 * 3.12+: its entry frame), held in the sample's stack copy; else by counting, when the calls are
 * exactly the eval-loop frames of the stack. -ENODATA no chain (no thread state), -EXDEV the calls
 * disagree with the stack (counts, the _PyCFrame chain) or the chain was cut, the chain's own error
 * (-EAGAIN moved on after a perf sample, which is also what a perf sample whose calls disagree with
 * its stack gets; -ESTALE, -EFAULT, -ELOOP, -EPROTO), -ENOMEM. Free with ct_interp_frames_free. */
struct ct_upc;
int ct_py_capture_frames(struct ct_py *py, const struct ct_capture *c, const struct ct_upc *pcs, size_t npcs,
			 struct ct_interp_frame **ret, size_t *ret_n, long *group_of, bool *ret_exact);

/* Statistics of the last captures, for -v and the tests. */
struct ct_py_stats {
	uint64_t frames, unreadable, reads_while_stopped, code_cache_hits;
	uint64_t copies, copy_ns_total, copy_ns_max; /* frame chains copied while stopped, and the time */
	/* threads whose frames were merged exactly (3.11+: by the stack addresses of the calls), by
	 * counting eval-loop calls, or kept apart (the counts disagreed) */
	uint64_t threads_exact, threads_counted, threads_apart;
};
void ct_py_get_stats(const struct ct_py *py, struct ct_py_stats *ret);

/* For the fuzzer and the unit tests: decodes one copied chain (the c->interp bytes) without a
 * process: the frames' raw fields only. Returns the frame count or -EINVAL when the bytes are not
 * a chain. */
struct ct_py_raw_frame {
	uint64_t addr, code, instr;
	int32_t lasti;      /* < 3.11: f_lasti as the frame keeps it */
	uint8_t owner;      /* 3.11+ */
	uint8_t entry;      /* 3.11: is_entry */
	uint8_t pad[2];
	uint64_t anchor;    /* 3.11-3.12, the first frame of an eval-loop call: its _PyCFrame's address */
};
int ct_py_raw_decode(const void *blob, size_t len, const struct ct_py_raw_frame **ret_frames);

#endif
