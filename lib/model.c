/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

struct ct_snapshot *ct_snapshot_new(void)
{
	return calloc(1, sizeof(struct ct_snapshot));
}

void ct_frame_clear(struct ct_frame *f)
{
	free(f->function);
	free(f->module);
	free(f->file);
	memset(f, 0, sizeof(*f));
}

int ct_frame_copy(struct ct_frame *dst, const struct ct_frame *src)
{
	*dst = *src;
	dst->function = ct_strdup(src->function);
	dst->module = ct_strdup(src->module);
	dst->file = ct_strdup(src->file);
	if ((src->function && !dst->function) || (src->module && !dst->module) || (src->file && !dst->file)) {
		ct_frame_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int ct_thread_append_frames(struct ct_thread *t, const struct ct_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ct_frame *f = ct_thread_add_frame(t);
		if (!f)
			return -ENOMEM;
		if (ct_frame_copy(f, &frames[i]) < 0) {
			t->nframes--;
			return -ENOMEM;
		}
	}
	return 0;
}

void ct_thread_clear(struct ct_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++)
		ct_frame_clear(&t->frames[i]);
	free(t->frames);
	for (size_t i = 0; i < t->ninterp_frames; i++)
		ct_frame_clear(&t->interp_frames[i]);
	free(t->interp_frames);
	free(t->interp_note);
	for (size_t i = 0; i < t->nlocks_held; i++)
		free(t->locks_held[i]);
	free(t->locks_held);
	free(t->name);
	free(t->wchan);
	free(t->waiting_on);
	free(t->unwind_error);
	free(t->error);
	free(t->lock_waiting);
	memset(t, 0, sizeof(*t));
}

void ct_snapshot_free(struct ct_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nthreads; i++)
		ct_thread_clear(&s->threads[i]);
	free(s->threads);
	free(s->comm);
	free(s->exe);
	free(s->source);
	free(s);
}

struct ct_thread *ct_snapshot_add_thread(struct ct_snapshot *s)
{
	if (ct_grow(&s->threads, &s->cap_threads, s->nthreads + 1, sizeof(*s->threads)) < 0)
		return NULL;
	struct ct_thread *t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->state = '?';
	t->syscall_nr = CT_SYSCALL_UNKNOWN;
	return t;
}

struct ct_frame *ct_thread_add_frame(struct ct_thread *t)
{
	/* frames grow by doubling; capacity is implied by nframes rounded up to a power of two */
	size_t cap = 0;
	if (t->nframes)
		for (cap = 8; cap < t->nframes; cap *= 2)
			;
	if (t->nframes == cap) {
		size_t ncap = cap ? cap * 2 : 8;
		struct ct_frame *nf = realloc(t->frames, ncap * sizeof(*nf));
		if (!nf)
			return NULL;
		t->frames = nf;
	}
	struct ct_frame *f = &t->frames[t->nframes++];
	memset(f, 0, sizeof(*f));
	return f;
}

const char *ct_state_name(char state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk sleep";
	case 'T': return "stopped";
	case 't': return "tracing stop";
	case 'Z': return "zombie";
	case 'X': return "dead";
	case 'I': return "idle";
	case 'P': return "parked";
	default: return "unknown";
	}
}

int ct_thread_add_held(struct ct_thread *t, const char *id)
{
	for (size_t i = 0; i < t->nlocks_held; i++)
		if (strcmp(t->locks_held[i], id) == 0)
			return 0;
	char **h = realloc(t->locks_held, (t->nlocks_held + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	t->locks_held = h;
	if (!(h[t->nlocks_held] = strdup(id)))
		return -ENOMEM;
	t->nlocks_held++;
	return 0;
}

struct ct_thread *ct_snapshot_thread_by_tid(struct ct_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}
