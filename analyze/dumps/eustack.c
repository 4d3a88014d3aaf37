/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eu-stack output, with any of -a -b -d -i -m -s -v:
 *   PID 6154 - process
 *   TID 6155:
 *   #0  0x00007f62f48b4545     __GI___clock_nanosleep - /usr/lib/x86_64-linux-gnu/libc.so.6
 *       ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48:7
 *   #1  0x00007f62f48b8e53 - 1 __GI___nanosleep - /usr/lib/x86_64-linux-gnu/libc.so.6
 * A frame with the same pc as the next one is an inlined call (-i). */
#include <ctype.h>
#include <string.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

static int frame_line(struct ct_dump_ctx *c, const char *s, size_t n)
{
	const char *p = s + 1;
	uint64_t num, pc;
	if (!ct_dump_num(&p, &num) || *p != ' ')
		return ct_dump_fail(c, "malformed eu-stack frame line (want '#N  0xPC [FUNCTION]')");
	p = ct_dump_skip_ws(p);
	if (!ct_dump_hex(&p, &pc))
		return ct_dump_fail(c, "eu-stack frame line without a 0x address");
	if (!c->thread)
		return ct_dump_fail(c, "eu-stack frame before any 'TID N:' line");
	if (ct_startswith(p, " - 1"))
		p += 4;
	p = ct_dump_skip_ws(p);
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	f->pc = pc;
	struct ct_thread *t = c->thread;
	if (t->nframes >= 2 && t->frames[t->nframes - 2].pc == pc)
		t->frames[t->nframes - 2].inlined = true;
	if (!*p)
		return 0;
	const char *end = s + n, *mod = NULL;
	/* " - MODULE" at the end (-m); a path or a [bracketed] name, without spaces */
	for (const char *q = end; q > p + 2; q--) {
		if (q[-1] == ' ' && q[-2] == '-' && q - 3 >= p && q[-3] == ' ') {
			mod = q;
			break;
		}
		if (q[-1] == ' ' && q[-2] != '-')
			break;
	}
	if (mod) {
		if ((err = ct_dump_set(c, &f->module, mod, (size_t)(end - mod))) < 0)
			return err;
		end = mod - 3;
	}
	if (end > p && (err = ct_dump_set(c, &f->function, p, (size_t)(end - p))) < 0)
		return err;
	return 0;
}

int ct_dump_eustack_line(struct ct_dump_ctx *c, char *s, size_t n)
{
	const char *p;
	uint64_t v;
	if (s[0] == '#' && isdigit((unsigned char)s[1]))
		return frame_line(c, s, n);
	if (ct_startswith(s, "TID ")) {
		p = s + 4;
		if (!ct_dump_num(&p, &v) || *p != ':' || v == 0 || v > 0x7fffffff)
			return ct_dump_fail(c, "malformed eu-stack thread line (want 'TID N:')");
		return ct_dump_thread(c, (pid_t)v) ? 0 : -CT_EBADDUMP;
	}
	if (ct_startswith(s, "PID ")) {
		p = s + 4;
		if (!ct_dump_num(&p, &v) || !ct_startswith(p, " - ") || v > 0x7fffffff)
			return ct_dump_fail(c, "malformed eu-stack process line (want 'PID N - process')");
		struct ct_snapshot *snap = ct_dump_snapshot(c);
		if (!snap)
			return -CT_EBADDUMP;
		snap->pid = (pid_t)v;
		return 0;
	}
	if (ct_startswith(s, "    ") && c->thread && c->thread->nframes) {
		/* continuation of the last frame: "    FILE:LINE[:COL]" (-s) or "    [build-id] @ …" (-b) */
		struct ct_frame *f = &c->thread->frames[c->thread->nframes - 1];
		p = s + 4;
		size_t flen;
		if (*p != '[' && ct_dump_file_line(p, n - 4, &flen, &f->line))
			return ct_dump_set(c, &f->file, p, flen);
	}
	return 0;
}
