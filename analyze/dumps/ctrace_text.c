/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's own --backtraces text (report/snapshot.c):
 *   Process 6154 (threads) /path/to/threads — 10 threads, captured in 2.969 ms, longest stop 0.759 ms
 *   Thread 6159 "reader" S (sleeping), in read(): fd 3 (pipe:[12109])
 *     #0  0x00007f62f48dd2ec in read+0x4c (libc.so.6) read.c:26
 *     (backtrace stopped: …)
 *   Thread 6170 "x": why it was not captured */
#include <ctype.h>
#include <string.h>

#include "analyze/dumps/parse.h"
#include "lib/capture.h"
#include "lib/error.h"
#include "lib/banned.h"

static long syscall_by_name(const char *name, size_t n)
{
	for (long nr = 0; nr < 1024; nr++) {
		const char *s = ct_syscall_name(nr);
		if (s && strlen(s) == n && memcmp(s, name, n) == 0)
			return nr;
	}
	return CT_SYSCALL_UNKNOWN;
}

static int process_line(struct ct_dump_ctx *c, const char *s)
{
	const char *p = s + 8;
	uint64_t pid;
	if (!ct_dump_num(&p, &pid) || !ct_startswith(p, " (") || pid > 0x7fffffff)
		return ct_dump_fail(c, "malformed ctrace process line");
	if (strstr(p, "): ") && strstr(p, " snapshot"))
		return ct_dump_fail(c, "a ctrace --threads report, not a dump: give analyze the output of "
				       "--backtraces (or the dump itself)");
	struct ct_snapshot *snap = ct_dump_snapshot(c);
	if (!snap)
		return -CT_EBADDUMP;
	snap->pid = (pid_t)pid;
	const char *close = strstr(p, ") ");
	const char *dash = strstr(p, " \xe2\x80\x94 "); /* " — " */
	if (!close || (dash && close > dash))
		return 0;
	int err = ct_dump_set(c, &snap->comm, p + 2, (size_t)(close - p - 2));
	if (!err && dash && dash > close + 2 && !(close[2] == '?' && dash == close + 3))
		err = ct_dump_set(c, &snap->exe, close + 2, (size_t)(dash - close - 2));
	return err;
}

static int thread_line(struct ct_dump_ctx *c, const char *s)
{
	const char *p = s + 7;
	uint64_t tid;
	if (!ct_dump_num(&p, &tid) || !ct_startswith(p, " \"") || tid > 0x7fffffff)
		return 0; /* not a thread header */
	const char *name = p + 2, *q;
	struct ct_thread *t;
	int err;
	/* "NAME" S (state)…: find the quote followed by a state letter and " (" */
	for (q = strchr(name, '"'); q; q = strchr(q + 1, '"')) {
		if (q[1] == ' ' && q[2] && q[3] == ' ' && q[4] == '(')
			break;
		if (q[1] == ':' && q[2] == ' ')
			break;
	}
	if (!q)
		return ct_dump_fail(c, "malformed ctrace thread line (want 'Thread TID \"NAME\" S (state)')");
	if (!(t = ct_dump_thread(c, (pid_t)tid)))
		return -CT_EBADDUMP;
	if ((err = ct_dump_set(c, &t->name, name, (size_t)(q - name))) < 0)
		return err;
	if (q[1] == ':') /* not captured: the rest says why */
		return ct_dump_set(c, &t->error, q + 3, strlen(q + 3));
	t->state = q[2];
	const char *in = strstr(q, "), in ");
	if (in) {
		in += 6;
		const char *paren = strstr(in, "()");
		if (paren) {
			if (ct_startswith(in, "syscall ")) {
				const char *np = in + 8;
				uint64_t nr;
				if (ct_dump_num(&np, &nr) && nr < 1024)
					t->syscall_nr = (long)nr;
			} else {
				t->syscall_nr = syscall_by_name(in, (size_t)(paren - in));
			}
			if (ct_startswith(paren, "(): ")) {
				const char *w = paren + 4, *e = strstr(w, " [read without stopping]");
				size_t wn = e ? (size_t)(e - w) : strlen(w);
				if ((err = ct_dump_set(c, &t->waiting_on, w, wn)) < 0)
					return err;
			}
		}
	} else if (t->state == 'R') {
		t->syscall_nr = CT_SYSCALL_NONE;
	}
	if (strstr(q, " [read without stopping: perf sample]"))
		t->flags |= CT_THREAD_PASSIVE | CT_THREAD_SAMPLED;
	else if (strstr(q, " [read without stopping]"))
		t->flags |= CT_THREAD_PASSIVE;
	return 0;
}

/* "  #N  0xPC in FUNCTION[+0xOFF][ [inlined]][ [jit]][ (MODULE[ (deleted)])][ FILE[:LINE]]" */
static int frame_line(struct ct_dump_ctx *c, const char *s, size_t n)
{
	const char *p = s + 3;
	uint64_t num, pc;
	if (!ct_dump_num(&p, &num) || *p != ' ')
		return ct_dump_fail(c, "malformed ctrace frame line");
	p = ct_dump_skip_ws(p);
	if (!ct_dump_hex(&p, &pc) || !ct_startswith(p, " in "))
		return ct_dump_fail(c, "ctrace frame line without '0xPC in'");
	if (!c->thread)
		return ct_dump_fail(c, "ctrace frame before any 'Thread' line");
	p += 4;
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	f->pc = pc;
	const char *end = s + n;
	/* module: the last "(…)" group, balanced; the file follows it */
	const char *mclose = NULL;
	for (const char *q = end; q > p; q--)
		if (q[-1] == ')' && (q == end || *q == ' ')) {
			mclose = q - 1;
			break;
		}
	if (mclose) {
		int depth = 0;
		const char *mopen = NULL;
		for (const char *q = mclose; q >= p; q--) {
			if (*q == ')')
				depth++;
			else if (*q == '(' && --depth == 0) {
				mopen = q;
				break;
			}
		}
		if (mopen && mopen > p && mopen[-1] == ' ') {
			const char *me = mclose;
			if (me - mopen > 10 && memcmp(me - 10, " (deleted)", 10) == 0) {
				f->deleted = true;
				me -= 10;
			}
			if ((err = ct_dump_set(c, &f->module, mopen + 1, (size_t)(me - mopen - 1))) < 0)
				return err;
			const char *file = ct_dump_skip_ws(mclose + 1);
			if (*file) {
				size_t flen;
				if (!ct_dump_file_line(file, (size_t)(end - file), &flen, &f->line))
					flen = (size_t)(end - file);
				if ((err = ct_dump_set(c, &f->file, file, flen)) < 0)
					return err;
			}
			end = mopen - 1;
		}
	}
	if (end - p >= 6 && memcmp(end - 6, " [jit]", 6) == 0) {
		f->jit = true;
		end -= 6;
	}
	if (end - p >= 10 && memcmp(end - 10, " [inlined]", 10) == 0) {
		f->inlined = true;
		end -= 10;
	}
	/* +0xOFF */
	for (const char *q = end; q > p + 3; q--) {
		if (q[-1] == '+' ) {
			const char *h = q;
			uint64_t off;
			if (ct_dump_hex(&h, &off) && h == end) {
				f->offset = off;
				end = q - 1;
			}
			break;
		}
		if (!isxdigit((unsigned char)q[-1]) && q[-1] != 'x')
			break;
	}
	if (end - p == 2 && p[0] == '?' && p[1] == '?')
		return 0;
	if (end > p)
		return ct_dump_set(c, &f->function, p, (size_t)(end - p));
	return 0;
}

int ct_dump_ctext_line(struct ct_dump_ctx *c, char *s, size_t n)
{
	if (ct_startswith(s, "  #") && isdigit((unsigned char)s[3]))
		return frame_line(c, s, n);
	if (ct_startswith(s, "Thread "))
		return thread_line(c, s);
	if (ct_startswith(s, "Process "))
		return process_line(c, s);
	if (ct_startswith(s, "  (backtrace stopped: ") && c->thread && n > 23 && s[n - 1] == ')')
		return ct_dump_set(c, &c->thread->unwind_error, s + 22, n - 23);
	return 0;
}
