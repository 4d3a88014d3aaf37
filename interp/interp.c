/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/interp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture.h"
#include "lib/util.h"
#include "lib/banned.h"

int ct_interp_read(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len)
{
	if (addr == 0)
		return -EFAULT;
	ssize_t n = ct_memsrc_read(m, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

int ct_interp_read_u64(const struct ct_memsrc *m, uint64_t addr, uint64_t *ret)
{
	return ct_interp_read(m, addr, ret, sizeof(*ret));
}

uint64_t ct_interp_u64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

void ct_interp_frames_free(struct ct_interp_frame *pf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ct_frame_clear(&pf[i].f);
	free(pf);
}

static int append_frame(struct ct_frame **frames, size_t *n, size_t *cap, const struct ct_frame *f)
{
	if (ct_grow(frames, cap, *n + 1, sizeof(**frames)) < 0)
		return -ENOMEM;
	if (ct_frame_copy(&(*frames)[*n], f) < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int ct_interp_keep_apart(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, const char *why)
{
	size_t cap = 0;
	for (size_t i = 0; i < n; i++)
		if (!pf[i].skip && append_frame(&t->interp_frames, &t->ninterp_frames, &cap, &pf[i].f) < 0)
			return -ENOMEM;
	free(t->interp_note);
	t->interp_note = strdup(why);
	return t->interp_note ? 0 : -ENOMEM;
}

int ct_interp_merge(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n,
		    bool (*is_loop)(const void *arg, const struct ct_frame *f), const void *arg)
{
	long *group_of = malloc((t->nframes ? t->nframes : 1) * sizeof(*group_of));
	if (!group_of)
		return -ENOMEM;
	long group = 0;
	for (size_t i = 0; i < t->nframes; i++)
		group_of[i] = is_loop(arg, &t->frames[i]) ? group++ : -1;
	int r = ct_interp_merge_groups(t, pf, n, group_of);
	free(group_of);
	return r;
}

/* The end of native frame i's stack frame: the stack pointer of the first frame outward that is
 * above its own (inlined frames share theirs), or 0 unknown. */
static uint64_t span_end(const struct ct_interp_span *s, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++) {
		if (s[j].sp == 0)
			return 0;
		if (s[j].sp > s[i].sp)
			return s[j].sp;
	}
	return 0;
}

int ct_interp_match_spans(const struct ct_interp_span *s, size_t n, const uint64_t *addr, size_t ngroups,
			  long *group_of)
{
	for (size_t i = 0; i < n; i++)
		group_of[i] = -1;
	size_t last = 0;
	for (size_t g = 0; g < ngroups; g++) {
		size_t found = 0, at = 0;
		for (size_t i = 0; i < n; i++) {
			if (!s[i].loop || s[i].sp == 0)
				continue;
			uint64_t end = span_end(s, n, i);
			if (end && addr[g] >= s[i].sp && addr[g] < end) {
				found++;
				at = i;
			}
		}
		if (found != 1 || group_of[at] >= 0 || (g > 0 && at <= last))
			return -ESRCH;
		group_of[at] = (long)g;
		last = at;
	}
	return 0;
}

int ct_interp_match_stack(const struct ct_thread *t, bool (*is_loop)(const void *arg, const struct ct_frame *f),
			  const void *arg, const uint64_t *addr, size_t ngroups, long *group_of)
{
	struct ct_interp_span *s = malloc((t->nframes ? t->nframes : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->nframes; i++) {
		const struct ct_frame *f = &t->frames[i];
		s[i].sp = f->python || f->ruby ? 0 : f->sp; /* an interpreter frame ends what is known */
		s[i].loop = is_loop(arg, f);
	}
	int r = ct_interp_match_spans(s, t->nframes, addr, ngroups, group_of);
	free(s);
	return r;
}

int ct_interp_merge_groups(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, const long *group_of)
{
	struct ct_frame *out = NULL;
	size_t nout = 0, cap = 0, k = 0;
	int r = 0;
	for (size_t i = 0; i < t->nframes && r == 0; i++) {
		if (group_of[i] < 0) {
			r = append_frame(&out, &nout, &cap, &t->frames[i]);
			continue;
		}
		size_t group = (size_t)group_of[i], shown = 0;
		while (k < n && pf[k].group < group)
			k++;
		for (; k < n && pf[k].group == group && r == 0; k++)
			if (!pf[k].skip) {
				r = append_frame(&out, &nout, &cap, &pf[k].f);
				shown++;
			}
		if (shown == 0 && r == 0) /* a call whose frames have not started: the loop itself */
			r = append_frame(&out, &nout, &cap, &t->frames[i]);
	}
	if (r < 0) {
		for (size_t i = 0; i < nout; i++)
			ct_frame_clear(&out[i]);
		free(out);
		return r;
	}
	for (size_t i = 0; i < t->nframes; i++)
		ct_frame_clear(&t->frames[i]);
	free(t->frames);
	t->frames = out;
	t->nframes = nout;
	return 0;
}

int ct_interp_merge_counted(struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, size_t groups,
			    bool truncated, bool (*is_loop)(const void *arg, const struct ct_frame *f), const void *arg,
			    const struct ct_interp_words *w)
{
	size_t loops = 0;
	for (size_t i = 0; i < t->nframes; i++)
		loops += is_loop(arg, &t->frames[i]);
	if (groups == loops && !truncated) {
		int r = groups ? ct_interp_merge(t, pf, n, is_loop, arg) : 0;
		return r < 0 ? r : 1;
	}
	char why[256];
	snprintf(why, sizeof(why), "%s frames not merged: %zu %s%s on the native stack, %zu %s in %s%s%s%s", w->lang,
		 loops, w->loop, loops == 1 ? "" : "s", groups, groups == 1 ? w->call : w->calls, w->where,
		 truncated ? " (" : "", truncated ? w->cut : "", truncated ? ")" : "");
	return ct_interp_keep_apart(t, pf, n, why);
}
