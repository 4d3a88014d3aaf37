/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ruby (MRI) frames, read from outside with no debug info: the interpreter is found by its exported
 * symbols (ruby_version, ruby_current_vm_ptr, rb_vm_exec) in libruby-X.Y.so or a static ruby; the
 * layouts come from interp/rblayout.c.
 *
 * The work is split as for Python (interp/python.h): ct_rb_threads_refresh() lists the main
 * ractor's threads (rb_thread_t, with each one's TID) while the target runs; ct_rb_while_stopped()
 * (the attach hook) copies the thread's control-frame array while it is stopped, bounded;
 * ct_rb_thread_frames() reads iseqs, strings and line tables after the thread runs again, validates
 * them (every iseq is an imemo of the iseq type, every string a T_STRING) and merges the Ruby frames
 * into the native stack at the rb_vm_exec frames. */
#ifndef CT_INTERP_RUBY_H
#define CT_INTERP_RUBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp/interp.h"
#include "lib/capture.h"
#include "lib/model.h"
#include "symbolize/symbolizer.h"

struct ct_rb_layout;

#define CT_RB_MAX_FRAMES 1024  /* control frames copied per thread */
#define CT_RB_MAX_THREADS 4096 /* threads listed */

struct ct_rb;

/* Looks for MRI in the process sym reads. 0 with *ret when found and supported; 0 with *ret NULL
 * when the process is not Ruby (nothing to say) or is a version without a table, then *ret_note
 * is one line naming it (caller frees); -ENOMEM. */
int ct_rb_open(struct ct_symbolizer *sym, struct ct_rb **ret, char **ret_note);
/* As ct_rb_open, with target memory read from mem (the live process, or a core: copied, and what
 * it points to must outlive the reader) and exe the executable's path (NULL: unknown). */
int ct_rb_open_mem(struct ct_symbolizer *sym, const struct ct_memsrc *mem, const char *exe, struct ct_rb **ret,
		   char **ret_note);
void ct_rb_close(struct ct_rb *rb);
/* "3.1.2" */
const char *ct_rb_version(const struct ct_rb *rb);

/* Lists the threads (the target runs). 0, or -errno when the VM cannot be read (-EFAULT not
 * initialized or torn down, -EPROTO a list that does not check out). */
int ct_rb_threads_refresh(struct ct_rb *rb);
/* Reads which thread holds the GVL (the target runs): call just after a capture. */
void ct_rb_gvl_refresh(struct ct_rb *rb);

/* The attach hook (struct ct_attach_opts' while_stopped, arg the struct ct_rb): copies the control
 * frames of c's thread into c->interp, at most CT_RB_MAX_FRAMES, in one read. */
void ct_rb_while_stopped(void *arg, pid_t pid, struct ct_capture *c);
/* The same for a core, whose threads are all stopped: the frames read from the reader's memory. */
void ct_rb_copy_stopped(struct ct_rb *rb, struct ct_capture *c);

/* After the thread resumed: the Ruby frames of c merged into t's native frames (in place of each
 * rb_vm_exec frame that runs them), or, when the counts disagree, kept apart in t->interp_frames
 * with t->interp_note saying why. Marks the GVL holder. 0 or -ENOMEM. */
int ct_rb_thread_frames(struct ct_rb *rb, const struct ct_capture *c, struct ct_thread *t);

/* The perf sampler's counterpart of the hook: the thread of c was not stopped, so its control frames
 * are read from the running process just after the sample, and checked against what the sample's
 * registers and stack copy show (the innermost control frame is held there, and did not move during
 * the copy); frames that moved on are kept with err -EAGAIN, which ct_rb_capture_frames returns.
 * Replaces c->interp; c->interp stays NULL when the thread is not a Ruby thread. 0. */
int ct_rb_read_sampled(struct ct_rb *rb, pid_t pid, struct ct_capture *c);

/* Whether pc (as the unwinder gives it) is in rb_vm_exec. */
bool ct_rb_is_exec_pc(const struct ct_rb *rb, uint64_t pc);
/* For the profiler: the Ruby frames of c, innermost first, each with the rb_vm_exec call that runs
 * it (0 the innermost), when their VM entries are exactly the execs rb_vm_exec frames of its native
 * stack. -ENODATA no control frames (not a Ruby thread), -EXDEV the counts disagree or the frames
 * were cut at their bound, the copy's own error (-EAGAIN moved on after a perf sample, -ESTALE,
 * -EFAULT, -EPROTO), -ENOMEM. Free with ct_interp_frames_free. */
int ct_rb_capture_frames(struct ct_rb *rb, const struct ct_capture *c, size_t execs, struct ct_interp_frame **ret,
			 size_t *ret_n);

struct ct_rb_stats {
	uint64_t frames, unreadable, copies, copy_ns_total, copy_ns_max;
};
void ct_rb_get_stats(const struct ct_rb *rb, struct ct_rb_stats *ret);

/* For the readers beside this one (interp/rbthreads.c, interp/rbgc.c): the process, the layout, the
 * address of ruby_current_vm_ptr and of rb_mKernel (0 when not exported), and the threads the last
 * ct_rb_threads_refresh listed (rb_thread_t address and TID). */
pid_t ct_rb_pid(const struct ct_rb *rb); /* 0 for a core */
const struct ct_memsrc *ct_rb_mem(const struct ct_rb *rb);
const struct ct_rb_layout *ct_rb_layout_of(const struct ct_rb *rb);
uint64_t ct_rb_vm_ptr(const struct ct_rb *rb);
uint64_t ct_rb_kernel_ptr(const struct ct_rb *rb);
size_t ct_rb_thread_count(const struct ct_rb *rb);
void ct_rb_thread_at(const struct ct_rb *rb, size_t i, uint64_t *ret_thread, pid_t *ret_tid);

/* For the fuzzer and the unit tests: the copied control frames (the c->interp bytes) without a
 * process. Returns the frame count or -EINVAL when the bytes are not a copy. */
struct ct_rb_raw_frame {
	uint64_t pc, iseq, ep;
};
int ct_rb_raw_decode(const void *blob, size_t len, const struct ct_rb_raw_frame **ret_frames);

#endif
