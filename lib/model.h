/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The thread model: what a live snapshot and a parsed dump both become.
 * analyze/ and report/ work only on these types. */
#ifndef CT_MODEL_H
#define CT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One symbolized frame. Strings are owned by the frame. */
struct ct_frame {
	uint64_t pc;        /* as unwound: exact for frame 0 and signal frames, a return address otherwise */
	char *function;     /* NULL when unknown */
	uint64_t offset;    /* pc - start of function; valid when function != NULL */
	uint64_t sp;        /* native frames of a capture: the stack pointer at pc, as unwound (its
			     * locals lie below the caller's sp); 0 unknown. Not printed. */
	char *module;       /* path of the mapped file, "[vdso]", or NULL */
	char *file;         /* source file, NULL when no line info */
	int line;           /* 0 when unknown */
	bool inlined;       /* this frame was inlined into the next (outer) one */
	bool jit;           /* named from a perf map */
	bool kernel;        /* kernel frame */
	bool deleted;       /* module was deleted or replaced on disk */
	bool python;        /* a Python frame (interp/): function, file and line from the interpreter;
			     * function NULL when the frame could not be read; pc is 0 */
	bool ruby;          /* a Ruby frame (interp/), as python: label, file and line from the VM */
};

enum ct_thread_flags {
	CT_THREAD_GONE = 1u << 0,          /* exited while we captured */
	CT_THREAD_GROUP_STOPPED = 1u << 1, /* in job-control stop (SIGSTOP); left stopped */
	CT_THREAD_PASSIVE = 1u << 2,       /* captured without stopping (blocked in an EINTR-prone call) */
	CT_THREAD_TRUNCATED = 1u << 3,     /* unwinding stopped early */
	CT_THREAD_SIGNAL = 1u << 4,        /* a pending signal was intercepted and re-injected */
	CT_THREAD_GIL_HOLDER = 1u << 5,    /* holds Python's GIL (read just after the capture) */
	CT_THREAD_GIL_WAITING = 1u << 6,   /* waits for Python's GIL (take_gil on its stack) */
	CT_THREAD_GVL_HOLDER = 1u << 7,    /* holds Ruby's GVL (read just after the capture) */
	CT_THREAD_SAMPLED = 1u << 8,       /* read from a perf sample while it ran (with PASSIVE) */
	CT_THREAD_KREGS = 1u << 9,         /* read from the registers the kernel saved (with PASSIVE) */
};

#define CT_SYSCALL_NONE (-1)    /* not in a system call (running in user space) */
#define CT_SYSCALL_UNKNOWN (-2) /* not known (dump without it, or /proc unreadable) */

struct ct_thread {
	pid_t tid;
	char *name;          /* comm, or the name a dump gives */
	char state;          /* /proc state letter: R S D T t Z X I, or '?' */
	long syscall_nr;     /* >= 0, or CT_SYSCALL_NONE / CT_SYSCALL_UNKNOWN */
	uint64_t syscall_args[6];
	char *wchan;         /* kernel wait channel, NULL when unknown */
	char *waiting_on;    /* what a blocked thread waits on, for people ("fd 3 (pipe:[123])"), or NULL */
	uint64_t utime_ticks, stime_ticks;
	unsigned flags;      /* enum ct_thread_flags */
	uint64_t stop_ns;    /* how long this thread was stopped for its capture */
	char *unwind_error;  /* why unwinding stopped early, or NULL */
	char *error;         /* why the thread could not be captured; no frames then */
	struct ct_frame *frames;
	size_t nframes;
	/* Interpreter frames (interp/): a note when they could not be merged into frames (why), and
	 * then the interpreter's own stack here, innermost first, beside the native one */
	char *interp_note;
	struct ct_frame *interp_frames;
	size_t ninterp_frames;
	/* Lock information, where known (a dump that carries it, or the futex owner reader). */
	char *lock_waiting;  /* id of the lock this thread waits for ("0x5581e2c0a040") */
	char **locks_held;   /* ids of locks it holds (jstack "locked <…>") */
	size_t nlocks_held;
};

struct ct_snapshot {
	pid_t pid;
	char *comm;
	char *exe;
	char *source;        /* where it came from: "live", "gdb", "eu-stack", "jstack", … */
	uint64_t timestamp_ns; /* CLOCK_REALTIME when taken, 0 unknown */
	uint64_t max_stop_ns, total_stop_ns;
	uint64_t capture_ns;   /* from the first seize to the last release */
	char boost[96];        /* ctrace's own priority during the capture (lib/boost.h), or "" */
	char oncpu[160];       /* how running threads were read (attach/oncpu.h), or "" */
	char kregs[256];       /* how threads off a CPU were read (attach/kregs.h), or "" */
	uint64_t wall_ns;      /* the whole run, unwinding and symbolization included */
	int signal;            /* a core: the signal that ended the process (0: none, e.g. gcore) */
	pid_t signal_tid;      /* the thread it was delivered to */
	struct ct_thread *threads;
	size_t nthreads;
	size_t cap_threads;
};

struct ct_snapshot *ct_snapshot_new(void);
void ct_snapshot_free(struct ct_snapshot *s);
/* Appends a zeroed thread (state '?', syscall unknown) and returns it, or NULL on ENOMEM. */
struct ct_thread *ct_snapshot_add_thread(struct ct_snapshot *s);
/* The thread of s whose TID is tid, or NULL */
struct ct_thread *ct_snapshot_thread_by_tid(struct ct_snapshot *s, pid_t tid);
/* Appends a zeroed frame to t and returns it, or NULL on ENOMEM. */
struct ct_frame *ct_thread_add_frame(struct ct_thread *t);
/* Adds the lock id to t->locks_held unless there already. 0 or -ENOMEM. */
int ct_thread_add_held(struct ct_thread *t, const char *id);
void ct_thread_clear(struct ct_thread *t);
void ct_frame_clear(struct ct_frame *f);
/* Deep copy of src into dst (strings duplicated). Returns 0 or -ENOMEM (dst left cleared). */
int ct_frame_copy(struct ct_frame *dst, const struct ct_frame *src);
/* Appends deep copies of frames[0..n) to t. Returns 0 or -ENOMEM (t keeps what was appended). */
int ct_thread_append_frames(struct ct_thread *t, const struct ct_frame *frames, size_t n);

const char *ct_state_name(char state); /* "sleeping", "running", … */

#endif
