/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of a thread analysis (--threads, analyze): deadlocks first, then lock chains, then the
 * groups of identical stacks, largest first. */
#include <inttypes.h>
#include <string.h>

#include "analyze/threads.h"
#include "report/report.h"
#include "lib/banned.h"

/* Thread ids listed under a group at most; the JSON has them all. */
#define TEXT_MAX_TIDS 16

static void text_who(struct ct_buf *out, const struct ct_analysis *a, size_t i)
{
	const struct ct_thread_info *ti = &a->threads[i];
	ct_buf_printf(out, "\"%s\" (tid %d)", ti->name, (int)ti->tid);
}

/* ", held by X" or ", holder unknown" */
static void text_holder(struct ct_buf *out, const struct ct_analysis *a, ssize_t h)
{
	if (h < 0) {
		ct_buf_puts(out, ", holder unknown");
		return;
	}
	ct_buf_puts(out, ", held by ");
	text_who(out, a, (size_t)h);
}

static void text_thread_state(struct ct_buf *out, const struct ct_thread_info *ti)
{
	ct_buf_puts(out, ct_class_name(ti->cls));
	if (ti->why)
		ct_buf_printf(out, ti->wait == CT_WAIT_GIL ? ", waiting for %s" : " in %s", ti->why);
}

static void text_stack(struct ct_buf *out, const struct ct_thread *t, const char *indent)
{
	if (!t)
		return;
	for (size_t k = 0; k < t->nframes; k++) {
		ct_buf_puts(out, indent);
		ct_text_frame(out, k, &t->frames[k]);
	}
	if (t->error)
		ct_buf_printf(out, "%s  (not captured: %s)\n", indent, t->error);
	else if (t->unwind_error)
		ct_buf_printf(out, "%s  (backtrace stopped: %s)\n", indent, t->unwind_error);
}

static void text_deadlocks(const struct ct_analysis *a, struct ct_buf *out)
{
	if (a->ndeadlocks == 0) {
		ct_buf_puts(out, "No deadlock found.\n");
		return;
	}
	ct_buf_printf(out, "Found %zu deadlock%s.\n", a->ndeadlocks, a->ndeadlocks == 1 ? "" : "s");
	for (size_t d = 0; d < a->ndeadlocks; d++) {
		const struct ct_deadlock *dl = &a->deadlocks[d];
		ct_buf_printf(out, "\nDeadlock %zu (%zu thread%s):\n", d + 1, dl->n, dl->n == 1 ? "" : "s");
		for (size_t k = 0; k < dl->n; k++) {
			const struct ct_lock *l = &a->locks[dl->locks[k]];
			ct_buf_puts(out, "  ");
			text_who(out, a, dl->threads[k]);
			ct_buf_printf(out, " waits for %s %s, held by ", ct_wait_kind_name(l->kind), l->id);
			text_who(out, a, dl->threads[(k + 1) % dl->n]);
			ct_buf_putc(out, '\n');
		}
		for (size_t k = 0; k < dl->n; k++) {
			const struct ct_thread_info *ti = &a->threads[dl->threads[k]];
			ct_buf_puts(out, "\n  ");
			ct_text_thread_header(out, ti->thread);
			text_stack(out, ti->thread, "  ");
		}
	}
}

static void text_chains(const struct ct_analysis *a, struct ct_buf *out)
{
	if (a->nchains == 0)
		return;
	ct_buf_printf(out, "\nLock waits (not deadlocked):\n");
	for (size_t c = 0; c < a->nchains; c++) {
		const struct ct_chain *ch = &a->chains[c];
		const struct ct_lock *l = &a->locks[ch->lock];
		const char **names = calloc(l->nwaiters ? l->nwaiters : 1, sizeof(char *));
		size_t nw = 0;
		for (size_t w = 0; names && w < l->nwaiters; w++)
			if (a->threads[l->waiters[w]].deadlock < 0)
				names[nw++] = a->threads[l->waiters[w]].name;
		char *who = names ? ct_collapse_names(names, nw) : NULL;
		ct_buf_printf(out, "  %s %s: %zu waiting (%s)", ct_wait_kind_name(l->kind), l->id, nw,
			      who ? who : "?");
		free(who);
		free(names);
		text_holder(out, a, l->holder);
		if (l->holder < 0) {
			ct_buf_putc(out, '\n');
			continue;
		}
		for (size_t p = 0; p < ch->npath; p++) {
			const struct ct_thread_info *h = &a->threads[ch->path[p]];
			if (p > 0) {
				const struct ct_thread_info *prev = &a->threads[ch->path[p - 1]];
				ct_buf_puts(out, "\n    ");
				text_who(out, a, ch->path[p - 1]);
				ct_buf_printf(out, " waits for %s %s", ct_wait_kind_name(prev->wait), prev->lock_waiting);
				text_holder(out, a, (ssize_t)ch->path[p]);
			}
			ct_buf_puts(out, ", ");
			if (h->deadlock >= 0)
				ct_buf_printf(out, "in deadlock %zd", h->deadlock + 1);
			else
				text_thread_state(out, h);
		}
		ct_buf_putc(out, '\n');
		/* the last holder's stack: where it sits while the others wait */
		const struct ct_thread_info *last = &a->threads[ch->path[ch->npath - 1]];
		if (last->deadlock < 0) {
			ct_buf_printf(out, "    holder %d \"%s\" stack:\n", (int)last->tid, last->name);
			text_stack(out, last->thread, "    ");
		}
	}
}

static bool same_why(const struct ct_analysis *a, const struct ct_group *g)
{
	const struct ct_thread_info *f = &a->threads[g->members[0]];
	for (size_t m = 1; m < g->nmembers; m++) {
		const struct ct_thread_info *ti = &a->threads[g->members[m]];
		if (ti->waits_for != f->waits_for || ti->gil_holder != f->gil_holder || (!ti->why) != (!f->why) ||
		    (ti->why && strcmp(ti->why, f->why) != 0))
			return false;
	}
	return true;
}

static void text_why_line(struct ct_buf *out, const struct ct_analysis *a, const struct ct_thread_info *ti)
{
	if (!ti->why)
		return;
	ct_buf_printf(out, "%s", ti->why);
	if (ti->lock_waiting)
		text_holder(out, a, ti->waits_for);
	else if (ti->gil_holder >= 0)
		text_holder(out, a, ti->gil_holder);
	if (ti->deadlock >= 0)
		ct_buf_printf(out, " (deadlock %zd)", ti->deadlock + 1);
}

static void text_groups(const struct ct_analysis *a, struct ct_buf *out)
{
	ct_buf_printf(out, "\nThreads by stack (%zu group%s, largest first):\n", a->ngroups,
		      a->ngroups == 1 ? "" : "s");
	for (size_t g = 0; g < a->ngroups; g++) {
		const struct ct_group *gr = &a->groups[g];
		const struct ct_thread_info *f = &a->threads[gr->members[0]];
		ct_buf_printf(out, "\n%zu thread%s %s: %s\n", gr->nmembers, gr->nmembers == 1 ? "" : "s",
			      ct_class_name(gr->cls), gr->names);
		if (same_why(a, gr)) {
			if (f->why) {
				ct_buf_puts(out, f->wait == CT_WAIT_GIL ? "  waiting for " : "  waiting: ");
				text_why_line(out, a, f);
				ct_buf_putc(out, '\n');
			}
		} else {
			for (size_t m = 0; m < gr->nmembers && m < TEXT_MAX_TIDS; m++) {
				const struct ct_thread_info *ti = &a->threads[gr->members[m]];
				ct_buf_printf(out, "  %d \"%s\": %s", (int)ti->tid, ti->name,
					      ti->wait == CT_WAIT_GIL ? "waiting for " : "");
				text_why_line(out, a, ti);
				ct_buf_putc(out, '\n');
			}
		}
		if ((gr->cls == CT_CLASS_SPINNING || gr->cls == CT_CLASS_RUNNING) && f->cpu_share >= 0)
			ct_buf_printf(out, "  cpu %.0f%% of a core between the snapshots\n", 100.0 * f->cpu_share);
		ct_buf_puts(out, "  tids");
		for (size_t m = 0; m < gr->nmembers && m < TEXT_MAX_TIDS; m++)
			ct_buf_printf(out, " %d", (int)a->threads[gr->members[m]].tid);
		if (gr->nmembers > TEXT_MAX_TIDS)
			ct_buf_printf(out, " … (%zu more)", gr->nmembers - TEXT_MAX_TIDS);
		ct_buf_putc(out, '\n');
		text_stack(out, gr->stack, "");
	}
}

void ct_report_analysis_text(const struct ct_analysis *a, struct ct_buf *out)
{
	ct_buf_printf(out, "Process %d (%s): %zu threads, %zu snapshot%s", (int)a->pid, a->comm ? a->comm : "?",
		      a->nthreads, a->nsnaps, a->nsnaps == 1 ? "" : "s");
	if (a->interval_ns)
		ct_buf_printf(out, " over %.2f s", (double)a->interval_ns / 1e9);
	if (a->source && strcmp(a->source, "live") != 0)
		ct_buf_printf(out, " (from %s)", a->source);
	ct_buf_puts(out, "\n ");
	const char *sep = " ";
	for (int c = 0; c < CT_CLASS_COUNT; c++) {
		if (a->class_count[c]) {
			ct_buf_printf(out, "%s%zu %s", sep, a->class_count[c], ct_class_name((enum ct_thread_class)c));
			sep = ", ";
		}
	}
	ct_buf_puts(out, "\n");
	if (a->source && strcmp(a->source, "core") == 0)
		ct_buf_puts(out, "  A core is one snapshot: a thread on a CPU cannot be told spinning from running, and\n"
				 "  thread states, names and system calls are not in it; waits are told by the frames.\n");
	ct_buf_puts(out, "\n");
	text_deadlocks(a, out);
	text_chains(a, out);
	text_groups(a, out);
}

/* ---- JSON ---- */

static void json_tid(struct ct_json *j, const struct ct_analysis *a, ssize_t i)
{
	if (i < 0)
		ct_json_null(j);
	else
		ct_json_int(j, a->threads[i].tid);
}

static void json_index(struct ct_json *j, ssize_t i)
{
	if (i < 0)
		ct_json_null(j);
	else
		ct_json_int(j, i);
}

static void json_thread(struct ct_json *j, const struct ct_analysis *a, const struct ct_thread_info *ti)
{
	const struct ct_thread *t = ti->thread;
	char state[2] = { t ? t->state : '?', 0 };
	ct_json_obj_begin(j);
	ct_json_key(j, "tid");
	ct_json_int(j, ti->tid);
	ct_json_key(j, "name");
	ct_json_str(j, ti->name);
	ct_json_key(j, "class");
	ct_json_str(j, ct_class_name(ti->cls));
	ct_json_key(j, "state");
	ct_json_str(j, state);
	ct_json_key(j, "wait");
	if (ti->wait != CT_WAIT_NONE)
		ct_json_str(j, ct_wait_kind_name(ti->wait));
	else
		ct_json_null(j);
	ct_json_key(j, "why");
	ct_json_str(j, ti->why);
	ct_json_key(j, "lock_waiting");
	ct_json_str(j, ti->lock_waiting);
	ct_json_key(j, "locks_held");
	ct_json_arr_begin(j);
	for (size_t h = 0; t && h < t->nlocks_held; h++)
		ct_json_str(j, t->locks_held[h]);
	ct_json_arr_end(j);
	ct_json_key(j, "waits_for");
	json_tid(j, a, ti->waits_for);
	ct_json_key(j, "gil_holder");
	json_tid(j, a, ti->gil_holder);
	ct_json_key(j, "deadlock");
	json_index(j, ti->deadlock);
	ct_json_key(j, "group");
	ct_json_uint(j, ti->group);
	ct_json_key(j, "seen");
	ct_json_uint(j, ti->seen);
	ct_json_key(j, "same_stack");
	ct_json_uint(j, ti->same_stack);
	ct_json_key(j, "cpu_share");
	if (ti->cpu_share >= 0)
		ct_json_double(j, ti->cpu_share, 3);
	else
		ct_json_null(j);
	ct_json_key(j, "cpu_ticks");
	ct_json_obj_begin(j);
	ct_json_key(j, "user");
	ct_json_uint(j, ti->utime_delta);
	ct_json_key(j, "system");
	ct_json_uint(j, ti->stime_delta);
	ct_json_obj_end(j);
	ct_json_obj_end(j);
}

static void json_lock(struct ct_json *j, const struct ct_analysis *a, const struct ct_lock *l)
{
	ct_json_obj_begin(j);
	ct_json_key(j, "id");
	ct_json_str(j, l->id);
	ct_json_key(j, "kind");
	ct_json_str(j, ct_wait_kind_name(l->kind));
	ct_json_key(j, "holder");
	json_tid(j, a, l->holder);
	ct_json_key(j, "waiters");
	ct_json_arr_begin(j);
	for (size_t w = 0; w < l->nwaiters; w++)
		ct_json_int(j, a->threads[l->waiters[w]].tid);
	ct_json_arr_end(j);
	ct_json_obj_end(j);
}

void ct_report_analysis_json(const struct ct_analysis *a, struct ct_buf *out)
{
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "version");
	ct_json_int(&j, CT_JSON_VERSION);
	ct_json_key(&j, "pid");
	ct_json_int(&j, a->pid);
	ct_json_key(&j, "process");
	ct_json_str(&j, a->comm);
	ct_json_key(&j, "source");
	ct_json_str(&j, a->source);
	ct_json_key(&j, "snapshots");
	ct_json_uint(&j, a->nsnaps);
	ct_json_key(&j, "interval_ms");
	ct_json_double(&j, (double)a->interval_ns / 1e6, 1);
	ct_json_key(&j, "summary");
	ct_json_obj_begin(&j);
	ct_json_key(&j, "threads");
	ct_json_uint(&j, a->nthreads);
	for (int c = 0; c < CT_CLASS_COUNT; c++) {
		ct_json_key(&j, ct_class_name((enum ct_thread_class)c));
		ct_json_uint(&j, a->class_count[c]);
	}
	ct_json_key(&j, "deadlocks");
	ct_json_uint(&j, a->ndeadlocks);
	ct_json_key(&j, "stuck");
	ct_json_bool(&j, ct_analysis_has_stuck(a));
	ct_json_obj_end(&j);

	ct_json_key(&j, "deadlocks");
	ct_json_arr_begin(&j);
	for (size_t d = 0; d < a->ndeadlocks; d++) {
		const struct ct_deadlock *dl = &a->deadlocks[d];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "threads");
		ct_json_arr_begin(&j);
		for (size_t k = 0; k < dl->n; k++) {
			const struct ct_lock *l = &a->locks[dl->locks[k]];
			ct_json_obj_begin(&j);
			ct_json_key(&j, "tid");
			ct_json_int(&j, a->threads[dl->threads[k]].tid);
			ct_json_key(&j, "name");
			ct_json_str(&j, a->threads[dl->threads[k]].name);
			ct_json_key(&j, "waits_for_lock");
			ct_json_str(&j, l->id);
			ct_json_key(&j, "lock_kind");
			ct_json_str(&j, ct_wait_kind_name(l->kind));
			ct_json_key(&j, "held_by");
			ct_json_int(&j, a->threads[dl->threads[(k + 1) % dl->n]].tid);
			ct_json_obj_end(&j);
		}
		ct_json_arr_end(&j);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);

	ct_json_key(&j, "chains");
	ct_json_arr_begin(&j);
	for (size_t c = 0; c < a->nchains; c++) {
		const struct ct_chain *ch = &a->chains[c];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "lock");
		ct_json_str(&j, a->locks[ch->lock].id);
		ct_json_key(&j, "holders");
		ct_json_arr_begin(&j);
		for (size_t p = 0; p < ch->npath; p++)
			ct_json_int(&j, a->threads[ch->path[p]].tid);
		ct_json_arr_end(&j);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);

	ct_json_key(&j, "locks");
	ct_json_arr_begin(&j);
	for (size_t l = 0; l < a->nlocks; l++)
		json_lock(&j, a, &a->locks[l]);
	ct_json_arr_end(&j);

	ct_json_key(&j, "groups");
	ct_json_arr_begin(&j);
	for (size_t g = 0; g < a->ngroups; g++) {
		const struct ct_group *gr = &a->groups[g];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "count");
		ct_json_uint(&j, gr->nmembers);
		ct_json_key(&j, "class");
		ct_json_str(&j, ct_class_name(gr->cls));
		ct_json_key(&j, "names");
		ct_json_str(&j, gr->names);
		ct_json_key(&j, "tids");
		ct_json_arr_begin(&j);
		for (size_t m = 0; m < gr->nmembers; m++)
			ct_json_int(&j, a->threads[gr->members[m]].tid);
		ct_json_arr_end(&j);
		ct_json_key(&j, "frames");
		ct_json_arr_begin(&j);
		for (size_t k = 0; gr->stack && k < gr->stack->nframes; k++)
			ct_json_frame(&j, &gr->stack->frames[k]);
		ct_json_arr_end(&j);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);

	ct_json_key(&j, "threads");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < a->nthreads; i++)
		json_thread(&j, a, &a->threads[i]);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
}
