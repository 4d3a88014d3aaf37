/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command-line front end: options, one file per command, messages and exit codes. */
#ifndef CT_CLI_H
#define CT_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/util.h"
#include "report/report.h"
#include "session/profile.h"
#include "unwind/unwind.h"

enum ct_exit {
	CT_EXIT_OK = 0,
	CT_EXIT_TARGET = 1,  /* target-side failure: gone, not permitted */
	CT_EXIT_PARTIAL = 2, /* some threads or parts could not be captured */
	CT_EXIT_FOUND = 3,   /* --fail-on condition found */
	CT_EXIT_USAGE = 64,
};

enum ct_mode { CT_MODE_NONE, CT_MODE_BACKTRACES, CT_MODE_PROFILE, CT_MODE_MEMORY, CT_MODE_THREADS,
	       CT_MODE_ANALYZE, CT_MODE_HELP, CT_MODE_VERSION, CT_MODE_MERGE, CT_MODE_TOP };

#define CT_MAX_PIDS 64
#define CT_MAX_IDLE 32

/* Every option of every command; the defaults are in ct_env_init(). */
struct ct_env {
	enum ct_mode mode;
	unsigned help_for;   /* CT_MODE_HELP: the mode the help is for (opaque; 0 = every mode) */
	pid_t pids[CT_MAX_PIDS];
	size_t npids;
	pid_t tid;
	enum ct_format format;
	const char *output;
	double timeout_s;
	size_t stack_bytes;
	enum ct_unwinder_kind unwinder;
	size_t max_frames;
	const char *debug_dirs;
	bool no_inlines;
	bool no_interp;
	bool no_lines;       /* --profile, --top: Python frames by function */
	bool always_stop;
	bool no_bpf;          /* --no-bpf: no BPF task iterator (attach/kregs.h) */
	bool no_demangle;    /* symbols: keep mangled names */
	bool debuginfod;     /* symbols: --debuginfod given, or DEBUGINFOD_URLS set (main) */
	int verbose;
	/* --threads */
	long snapshots;      /* how many snapshots (default 3) */
	long interval_ms;    /* between them (default 500) */
	enum ct_fail_on { CT_FAIL_NEVER, CT_FAIL_DEADLOCK, CT_FAIL_STUCK } fail_on;
	const char *idle_patterns[CT_MAX_IDLE]; /* --idle FUNC… */
	size_t nidle_patterns;
	char **args;         /* operands (analyze FILE…, merge FILE…) */
	/* post-mortem: --backtraces, --threads, --memory of a core file instead of a process */
	const char *core;    /* --core FILE */
	const char *exe;     /* --exe PATH: the executable that dumped it */
	const char *sysroot; /* --sysroot DIR: the root its modules are found under */
	size_t nargs;
	/* --memory */
	double duration_s;       /* -d: 0 = until Ctrl-C (--memory --watch, --profile) */
	double watch_s;          /* --watch SECS: 0 = one report */
	size_t mem_top;          /* --top N: mapping groups listed (--top alone is the mode) */
	bool no_arenas;          /* --no-arenas: skip the allocator's own statistics */
	bool inject;             /* --inject: call jemalloc/tcmalloc's statistics API in the target */
	/* --profile */
	bool stack_bytes_given;  /* --stack-bytes was given (profile's default differs) */
	long rate_hz;            /* -r */
	enum ct_sampler_kind sampler;     /* --sampler (session/profile.h) */
	bool mode_wall;          /* --mode wall (else cpu) */
	bool per_pid;            /* --per-pid: root frame "name-PID" */
	bool per_thread;         /* --per-thread: a frame "threadname-TID" under the root */
	bool children;           /* --children: every descendant process, followed as it is forked */
	/* --memory --sites */
	bool sites;              /* --sites: allocation call stacks by uprobes */
	bool rate_given;         /* -r was given (for --sites: 1 call in N sampled) */
};

void ct_env_init(struct ct_env *env);
/* Parses argv into env. Returns 0, or CT_EXIT_USAGE with a one-line message in *err. */
int ct_cli_parse(int argc, char **argv, struct ct_env *env, struct ct_buf *err);
/* Whether env's mode unwinds and names frames: --backtraces, --threads, --profile, --memory --sites. */
bool ct_cli_names_frames(const struct ct_env *env);
extern const char ct_usage_text[];
/* The --help text: all of it, or only the lines of env->help_for's mode (ctrace --threads --help). */
void ct_cli_help(const struct ct_env *env, struct ct_buf *out);

/* Messages: one line on stderr, prefixed "ctrace: ". */
void ct_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ct_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ct_verbose(const struct ct_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Validates a PID operand the way every live command does; prints the error and returns an exit
 * code, or returns CT_EXIT_OK. */
int ct_cli_check_target(pid_t pid);
/* Writes out to env->output atomically (temp file + rename), or to stdout; says so and returns
 * CT_EXIT_TARGET when out ran out of memory while it was written. */
int ct_cli_write_output(const struct ct_env *env, const struct ct_buf *out);
/* Fails early on an -o path that cannot be written (a directory, no permission), before a long
 * capture or profile: prints the error and returns CT_EXIT_USAGE, or returns CT_EXIT_OK. */
int ct_cli_check_output(const struct ct_env *env);
struct ct_analysis;
/* Renders a --threads/analyze report in env's format and writes it (ct_cli_write_output). */
int ct_cli_write_analysis(const struct ct_env *env, const struct ct_analysis *a);
struct ct_snapshot_session;
struct ct_snapshot_opts;
/* The snapshot session's options from env, for one snapshot (cli/backtraces.c). */
void ct_cli_snapshot_opts(const struct ct_env *env, struct ct_snapshot_opts *o);
/* Opens a snapshot session on pid; prints the error and returns an exit code. */
int ct_cli_open_snapshot_session(pid_t pid, const struct ct_snapshot_opts *o, struct ct_snapshot_session **ret);
/* Opens a snapshot session on env->core; prints the error and returns an exit code (CT_EXIT_USAGE
 * when the file is not a core, or --exe not its program; CT_EXIT_TARGET when it is unreadable or
 * corrupt). */
int ct_cli_open_core_session(const struct ct_env *env, const struct ct_snapshot_opts *o,
			     struct ct_snapshot_session **ret);
/* ct_cli_open_core_session with --core, else ct_cli_open_snapshot_session on -p. */
int ct_cli_open_session(const struct ct_env *env, const struct ct_snapshot_opts *o,
			struct ct_snapshot_session **ret);
/* With --core: a truncated core is a partial result (says so, CT_EXIT_PARTIAL), else CT_EXIT_OK. */
int ct_cli_core_partial(const struct ct_env *env, struct ct_snapshot_session *ss);
/* Says why a live capture of pid failed with r (-ESRCH, -EPERM, …); returns CT_EXIT_TARGET. */
int ct_cli_capture_error(pid_t pid, int r);

/* Sets *flag to the signal's number on SIGINT and SIGTERM (no SA_RESTART), and ignores SIGPIPE: a
 * sampling session polls the flag and ends its run. The flag is the only mutable state a command
 * keeps at file scope, for its signal handler. */
void ct_cli_catch_stop(volatile sig_atomic_t *flag);
/* The same, and SIGHUP too (the terminal went away): a command that runs until it is stopped. */
void ct_cli_catch_stop_hangup(volatile sig_atomic_t *flag);

/* What --profile and --top share (cli/profile.c). prepare: the profile's default --stack-bytes,
 * every -p checked, the options refused together (--tid with --children …); prints the error and
 * returns an exit code, or CT_EXIT_OK. */
int ct_cli_profile_prepare(struct ct_env *env);
/* The profile session's options from env (no stop flag, tick or labels yet). */
void ct_cli_profile_session_opts(const struct ct_env *env, struct ct_profile_session_opts *o);
/* Says why ct_profile_session_open failed; returns CT_EXIT_TARGET. */
int ct_cli_profile_open_error(const struct ct_env *env, int r, enum ct_profile_open_error what, pid_t pid);

int cmd_backtraces(struct ct_env *env);
int cmd_threads(struct ct_env *env);
int cmd_analyze(struct ct_env *env);
int cmd_memory(struct ct_env *env);
int cmd_version(struct ct_env *env);
int cmd_profile(struct ct_env *env);
int cmd_merge(struct ct_env *env);
int cmd_memory_sites(struct ct_env *env);
int cmd_top(struct ct_env *env);

#endif
