/* SPDX-License-Identifier: GPL-2.0-or-later */
/* py-spy dump output (src/dump.rs), written by hand from its format:
 *   Process 12345: python3 server.py
 *   Python v3.11.2 (/usr/bin/python3.11)
 *
 *   Thread 12345 (idle): "MainThread"
 *       wait (threading.py:320)
 *       worker (server.py:12)
 *   Thread 0x7F2B6A1FC640 (active+gil): "Thread-1"
 *       spin (server.py:20)
 *           Arguments:          (with --locals: indented deeper, skipped)
 * Colours (when py-spy wrote to a terminal) are stripped. Threads named by a Python thread ident
 * (0x…) rather than a native tid get the ident's low 31 bits as their id. */
#include <ctype.h>
#include <string.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

/* Removes ANSI colour sequences (ESC [ … letter) in place; returns the new length. */
static size_t strip_ansi(char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\x1b' && i + 1 < n && s[i + 1] == '[') {
			i += 2;
			while (i < n && !isalpha((unsigned char)s[i]))
				i++;
			continue;
		}
		s[k++] = s[i];
	}
	s[k] = '\0';
	return k;
}

static int process_line(struct ct_dump_ctx *c, const char *s)
{
	const char *p = s + 8;
	uint64_t pid;
	if (!ct_dump_num(&p, &pid) || !ct_startswith(p, ": ") || pid > 0x7fffffff)
		return ct_dump_fail(c, "malformed py-spy process line (want 'Process PID: COMMAND')");
	struct ct_snapshot *snap = ct_dump_snapshot(c);
	if (!snap)
		return -CT_EBADDUMP;
	snap->pid = (pid_t)pid;
	p += 2;
	size_t n = strcspn(p, " ");
	int err = ct_dump_set(c, &snap->exe, p, n);
	if (err < 0)
		return err;
	const char *slash = memrchr(p, '/', n);
	const char *base = slash ? slash + 1 : p;
	return ct_dump_set(c, &snap->comm, base, (size_t)(p + n - base));
}

static int thread_line(struct ct_dump_ctx *c, const char *s)
{
	const char *p = s + 7;
	uint64_t id;
	bool ident = ct_startswith(p, "0x") || ct_startswith(p, "0X");
	if (!ct_dump_num(&p, &id) || !ct_startswith(p, " ("))
		return ct_dump_fail(c, "malformed py-spy thread line (want 'Thread ID (STATUS): \"NAME\"')");
	const char *status = p + 2, *close = strchr(status, ')');
	if (!close)
		return ct_dump_fail(c, "py-spy thread line without ')'");
	pid_t tid = ident ? (pid_t)(id & 0x7fffffff) : (pid_t)id;
	if (!ident && id > 0x7fffffff)
		return ct_dump_fail(c, "py-spy thread id out of range");
	struct ct_thread *t = ct_dump_thread(c, tid);
	if (!t)
		return -CT_EBADDUMP;
	size_t sn = (size_t)(close - status);
	t->state = sn >= 6 && memcmp(status, "active", 6) == 0 ? 'R' : (sn == 4 && !memcmp(status, "idle", 4)) ? 'S' : '?';
	if (t->state == 'R')
		t->syscall_nr = CT_SYSCALL_NONE;
	const char *q1 = strchr(close, '"'), *q2 = strrchr(close, '"');
	if (q1 && q2 > q1)
		return ct_dump_set(c, &t->name, q1 + 1, (size_t)(q2 - q1 - 1));
	return 0;
}

/* "    FUNCTION (FILE:LINE)" or "    FUNCTION (FILE)" */
static int frame_line(struct ct_dump_ctx *c, const char *s, size_t n)
{
	if (!c->thread)
		return ct_dump_fail(c, "py-spy frame before any 'Thread' line");
	const char *p = s + 4, *end = s + n;
	const char *open = NULL;
	if (end[-1] == ')') {
		int depth = 0;
		for (const char *q = end - 1; q >= p; q--) {
			if (*q == ')')
				depth++;
			else if (*q == '(' && --depth == 0) {
				open = q;
				break;
			}
		}
	}
	if (!open || open == p || open[-1] != ' ')
		return ct_dump_fail(c, "malformed py-spy frame line (want 'FUNCTION (FILE:LINE)')");
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	if ((err = ct_dump_set(c, &f->function, p, (size_t)(open - 1 - p))) < 0)
		return err;
	const char *file = open + 1;
	size_t fn = (size_t)(end - 1 - file), flen;
	if (ct_dump_file_line(file, fn, &flen, &f->line))
		fn = flen;
	return ct_dump_set(c, &f->file, file, fn);
}

int ct_dump_pyspy_line(struct ct_dump_ctx *c, char *s, size_t n)
{
	if (memchr(s, '\x1b', n))
		n = strip_ansi(s, n);
	if (ct_startswith(s, "Process "))
		return process_line(c, s);
	if (ct_startswith(s, "Thread "))
		return thread_line(c, s);
	/* frames are indented by 4; locals and arguments (--locals) by 8 or more */
	if (n > 4 && ct_startswith(s, "    ") && s[4] != ' ')
		return frame_line(c, s, n);
	return 0;
}
