/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared state of the dump parsers (internal to analyze/dumps/). The reader in dumps.c splits the
 * input into lines (bounded), detects the format from the first telling line and hands each line
 * to that format's parser, which builds snapshots through the helpers below. */
#ifndef CT_DUMPS_PARSE_H
#define CT_DUMPS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/dumps/dumps.h"
#include "lib/util.h"

struct ct_dump_ctx {
	struct ct_dump_limits lim;
	struct ct_dump_result *res;
	enum ct_dump_format format;
	size_t lineno;              /* of the line being parsed, 1-based */
	struct ct_snapshot *cur;    /* snapshot threads go to, or NULL: the next thread starts one */
	struct ct_thread *thread;   /* thread frames go to, or NULL */
	size_t cap_snaps;
	/* format state */
	bool skip;                  /* jstack: inside the deadlock summary */
	bool owned_syncs;           /* jstack: inside "Locked ownable synchronizers:" */
	char *waited_obj;           /* jstack: "waiting on <X>" of the current thread */
	uint64_t pending_ts;        /* jstack: timestamp line seen before "Full thread dump" */
	pid_t pending_pid;          /* jstack: jcmd's "PID:" line seen before it */
	struct ct_tidset *tids;     /* gdb: tids of the current snapshot */
	void *json;                 /* json_tokener */
	bool json_in_doc;           /* inside a JSON document */
	size_t json_doc_bytes;      /* its size so far */
	size_t json_start_line;     /* line where the current JSON document began */
};

/* Records an error for line c->lineno and returns -CT_EBADDUMP. */
int ct_dump_fail(struct ct_dump_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts a new snapshot (the next thread goes there). Returns it or NULL (c has the error). */
struct ct_snapshot *ct_dump_snapshot(struct ct_dump_ctx *c);
/* Ends the current snapshot: the next thread starts a new one. */
void ct_dump_end_snapshot(struct ct_dump_ctx *c);
/* Appends a thread to the current snapshot (starting one when needed). NULL on error. */
struct ct_thread *ct_dump_thread(struct ct_dump_ctx *c, pid_t tid);
/* Appends a frame to the current thread (or to a new nameless thread). *ret is NULL when the
 * thread already has max_frames frames (the thread is flagged truncated). Returns 0 or -errno. */
int ct_dump_frame(struct ct_dump_ctx *c, struct ct_frame **ret);
/* Duplicates [s, s+n) into *dst (freeing what was there). 0 or -ENOMEM (c has the error). */
int ct_dump_set(struct ct_dump_ctx *c, char **dst, const char *s, size_t n);

/* Small text helpers. */
const char *ct_dump_skip_ws(const char *s);
/* Parses an unsigned number (base 10, or 16 with "0x") at *s; advances *s. false when none. */
bool ct_dump_num(const char **s, uint64_t *ret);
bool ct_dump_hex(const char **s, uint64_t *ret); /* "0x" then hex digits */
/* Whether s ends with ":DIGITS" (optionally ":DIGITS:DIGITS"); sets *line and the length of the
 * file part. */
bool ct_dump_file_line(const char *s, size_t n, size_t *ret_file_len, int *ret_line);

/* A set of thread ids (gdb: a tid seen twice starts the next dump). */
void ct_dump_tidset_free(struct ct_tidset *set);

/* Per-format parsers: a line handler (the line is NUL-terminated, without its newline, and may
 * be modified) and an end-of-input handler. Both return 0 or a negative error. */
int ct_dump_gdb_line(struct ct_dump_ctx *c, char *s, size_t n);
int ct_dump_gdb_finish(struct ct_dump_ctx *c);
int ct_dump_eustack_line(struct ct_dump_ctx *c, char *s, size_t n);
int ct_dump_ctext_line(struct ct_dump_ctx *c, char *s, size_t n);
int ct_dump_pyspy_line(struct ct_dump_ctx *c, char *s, size_t n);
int ct_dump_jstack_line(struct ct_dump_ctx *c, char *s, size_t n);
int ct_dump_jstack_finish(struct ct_dump_ctx *c);
/* Lines before "Full thread dump": the timestamp ("2026-11-23 12:49:05") and jcmd's "PID:". */
void ct_dump_jstack_preamble(struct ct_dump_ctx *c, const char *s, size_t n);
/* JSON is not line-based: the reader hands it raw bytes. */
int ct_dump_json_feed(struct ct_dump_ctx *c, const char *data, size_t len);
int ct_dump_json_finish(struct ct_dump_ctx *c);
void ct_dump_json_free(struct ct_dump_ctx *c);

/* Detection: the format a line tells, or CT_DUMP_UNKNOWN when it tells nothing. */
enum ct_dump_format ct_dump_detect_line(const char *s, size_t n);

#endif
