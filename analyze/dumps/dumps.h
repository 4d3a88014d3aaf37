/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for thread dumps saved by other tools (and by ctrace itself): each dump becomes one
 * struct ct_snapshot, so `ctrace analyze` shares the analysis of a live `--threads` run.
 * The input is untrusted: sizes, line lengths, thread and frame counts are capped, and bad input
 * gives -CT_EBADDUMP with the line number and a message for people. */
#ifndef CT_DUMPS_H
#define CT_DUMPS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/model.h"

enum ct_dump_format {
	CT_DUMP_UNKNOWN = 0,
	CT_DUMP_CTRACE_JSON, /* ctrace --backtraces --format json (one or more documents) */
	CT_DUMP_CTRACE_TEXT, /* ctrace --backtraces text */
	CT_DUMP_GDB,         /* gdb "thread apply all bt", also pstack/gstack (gdb-based) */
	CT_DUMP_EUSTACK,     /* eu-stack -p PID (any of -m -s -i -v -a -b) */
	CT_DUMP_PYSPY,       /* py-spy dump --pid PID */
	CT_DUMP_JSTACK,      /* jstack [-l] PID, jcmd PID Thread.print, kill -3 output */
	CT_DUMP_FORMAT_COUNT
};

struct ct_dump_limits {
	size_t max_bytes;     /* whole input (default 1 GiB; one JSON document: 64 MiB at most) */
	size_t max_line;      /* one line (default 1 MiB) */
	size_t max_snapshots; /* dumps in one input (default 10000) */
	size_t max_threads;   /* threads in one dump (default 1 << 20) */
	size_t max_frames;    /* frames kept per thread (default 65536; more are dropped, flagged) */
};

#define CT_DUMP_MSG_MAX 192

/* What a parse produced. Free with ct_dump_result_free(). */
struct ct_dump_result {
	struct ct_snapshot **snaps; /* oldest first, each with at least one thread */
	size_t nsnaps;
	enum ct_dump_format format;
	size_t bytes;               /* input bytes read */
	size_t lines;               /* input lines read */
	bool truncated;             /* the input ended inside a line or a JSON document that did not
				     * parse; it was left out (the rest is good) */
	size_t err_line;            /* on error: the 1-based line it refers to, 0 when none */
	char err_msg[CT_DUMP_MSG_MAX]; /* on error: what is wrong, for people */
};

void ct_dump_limits_default(struct ct_dump_limits *lim);

/* Reads a dump from fd until EOF and parses it; the format is detected from the content.
 * Returns 0, -CT_EBADDUMP (not a dump, malformed: see err_line/err_msg), -EFBIG (over a size
 * cap: err_msg says which), -ENOMEM or -errno from read(). lim may be NULL (defaults).
 * On error res holds no snapshots. */
int ct_dump_read_fd(int fd, const struct ct_dump_limits *lim, struct ct_dump_result *res);
/* The same on a buffer in memory. */
int ct_dump_parse_mem(const char *data, size_t len, const struct ct_dump_limits *lim,
		      struct ct_dump_result *res);
void ct_dump_result_free(struct ct_dump_result *res);

/* Hands the snapshots to the caller (who frees each with ct_snapshot_free) and empties res. */
struct ct_snapshot **ct_dump_result_steal(struct ct_dump_result *res, size_t *ret_n);

const char *ct_dump_format_name(enum ct_dump_format f); /* "gdb", "eu-stack", … */

#endif
