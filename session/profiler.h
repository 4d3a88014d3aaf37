/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Samples -> profile: each capture (from the perf or the ptrace sampler) is unwound with the same
 * unwinder as --backtraces, each unique pc symbolized once (analyze/profile.h's pc cache), and the
 * stack counted. One profiler per target process; several may feed one profile. */
#ifndef CT_PROFILER_H
#define CT_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/profile.h"
#include "interp/python.h"
#include "interp/ruby.h"
#include "lib/capture.h"
#include "symbolize/symbolizer.h"
#include "unwind/unwind.h"

struct ct_profiler_opts {
	enum ct_unwinder_kind unwinder;
	size_t max_frames;
	struct ct_sym_opts sym;
	bool no_interp;   /* native frames only */
	bool no_lines;    /* Python and Ruby frames by function, not by line */
};

struct ct_profiler_stats {
	uint64_t samples;        /* captures added */
	uint64_t truncated;      /* unwinding stopped before the outermost frame */
	uint64_t failed;         /* no frame at all (counted under the root frame only) */
	uint64_t symbolized_pcs; /* unique pcs symbolized */
	uint64_t refreshes;      /* maps reread because a pc was in no module */
	/* Python or Ruby: samples with interpreter-loop frames (_PyEval_EvalFrameDefault,
	 * rb_vm_exec), those merged with their interpreter frames, and those kept native only because
	 * the frames could not be taken as the sample's: they had moved on (perf sampler), their
	 * counts disagreed with the native stack, or there were none or they were unreadable; of
	 * the merged, those matched exactly (Python 3.11+: by the stack addresses of the calls) */
	uint64_t py_samples, py_merged, py_moved, py_mismatch, py_other, py_exact;
};

struct ct_profiler;

/* root_name is the first frame of every stack (the process name). */
int ct_profiler_open(pid_t pid, const char *root_name, struct ct_profile *prof,
		     const struct ct_profiler_opts *o, struct ct_profiler **ret);
void ct_profiler_close(struct ct_profiler *pr);
/* Adds a capture that stands for count samples and weight nanoseconds in total. in_kernel adds a
 * "[kernel]" leaf frame (the sample hit in a system call or fault); thread, when not NULL, a frame
 * of that name under the root (--per-thread). */
int ct_profiler_add(struct ct_profiler *pr, const struct ct_capture *c, bool in_kernel, const char *thread,
		    uint64_t count, uint64_t weight);
/* From now on every sample carries the labels host, pid, comm, thread (the thread's name, read
 * once per thread) and tid, for pprof output. */
int ct_profiler_label(struct ct_profiler *pr, const char *host, const char *comm);
const struct ct_profiler_stats *ct_profiler_stats(const struct ct_profiler *pr);
/* The interpreter of the process (Python or Ruby), for the session: how to list its threads and
 * copy their frames (the attach hook while a thread is stopped, or read_sampled after a perf
 * sample). */
struct ct_profiler_interp {
	const char *lang, *version;   /* "Ruby", "3.1.2" */
	void *arg;                    /* of the three functions */
	int (*threads_refresh)(void *arg);
	void (*while_stopped)(void *arg, pid_t pid, struct ct_capture *c);
	int (*read_sampled)(void *arg, pid_t pid, struct ct_capture *c);
	bool needs_thread_pointer;    /* matched by pthread_t: a ptrace sample must stop (Python < 3.11) */
};
/* NULL when none (or no_interp) */
const struct ct_profiler_interp *ct_profiler_interp(struct ct_profiler *pr);
/* Interpreter frames merged from the next sample on (true, the default unless no_interp) or not. */
void ct_profiler_set_interp(struct ct_profiler *pr, bool on);
/* Next symbolization warning (each said once), or NULL. */
const char *ct_profiler_next_warning(struct ct_profiler *pr);

#endif
