/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <string.h>

#include "lib/capture.h"
#include "report/report.h"
#include "lib/banned.h"

static const char *const format_names[] = {
	[CT_FMT_DEFAULT] = "default", [CT_FMT_TEXT] = "text", [CT_FMT_JSON] = "json",
	[CT_FMT_FOLDED] = "folded", [CT_FMT_SVG] = "svg", [CT_FMT_SPEEDSCOPE] = "speedscope",
	[CT_FMT_PPROF] = "pprof",
};

int ct_format_parse(const char *name, enum ct_format *ret)
{
	for (size_t i = CT_FMT_TEXT; i < CT_ARRAY_SIZE(format_names); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*ret = (enum ct_format)i;
			return 0;
		}
	}
	return -1;
}

const char *ct_format_name(enum ct_format f)
{
	return (size_t)f < CT_ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

/* A Python frame: "  #3  [python]           in handle_request (app/views.py:42)"; a Ruby frame
 * the same with [ruby] */
static void text_python_frame(struct ct_buf *out, size_t index, const struct ct_frame *f)
{
	ct_buf_printf(out, "  #%-2zu %-18s in ", index, f->ruby ? "[ruby]" : "[python]");
	if (!f->function) {
		ct_buf_printf(out, "?? (unreadable %s frame)\n", f->ruby ? "Ruby" : "Python");
		return;
	}
	ct_buf_puts(out, f->function);
	if (f->file) {
		ct_buf_printf(out, " (%s", f->file);
		if (f->line > 0)
			ct_buf_printf(out, ":%d", f->line);
		ct_buf_putc(out, ')');
	}
	ct_buf_putc(out, '\n');
}

/* A line assembled in a local buffer and appended to out at once (ct_buf's append per field was
 * half the cost); what does not fit (a long C++ name) flushes it first */
struct line {
	struct ct_buf *out;
	char b[512];
	size_t n;
};

static void line_put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->b) - l->n) {
		ct_buf_append(l->out, l->b, l->n);
		l->n = 0;
		if (n > sizeof(l->b)) {
			ct_buf_append(l->out, s, n);
			return;
		}
	}
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void line_puts(struct line *l, const char *s) { line_put(l, s, strlen(s)); }

static void line_hex(struct line *l, uint64_t v, int width)
{
	char d[16];
	int n = 0;
	do {
		d[15 - n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n < width && n < 16)
		d[15 - n++] = '0';
	line_put(l, d + 16 - n, (size_t)n);
}

static void line_dec(struct line *l, uint64_t v)
{
	char d[20];
	int n = 0;
	do {
		d[19 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	line_put(l, d + 20 - n, (size_t)n);
}

/* "  #3  0x00007f0c2f1e4a3b in poll+0x4b [inlined] (libc.so.6) poll.c:29": formatted by hand, the
 * report's hottest lines (200 threads at depth 20: 4400 lines, 1.3 ms with a printf per field) */
void ct_text_frame(struct ct_buf *out, size_t index, const struct ct_frame *f)
{
	if (f->python || f->ruby) {
		text_python_frame(out, index, f);
		return;
	}
	struct line l;
	l.out = out;
	l.n = 0;
	line_put(&l, "  #", 3);
	line_dec(&l, index);
	line_puts(&l, index < 10 ? "  0x" : " 0x"); /* "%-2zu " */
	line_hex(&l, f->pc, 16);
	line_put(&l, " in ", 4);
	if (f->function) {
		line_puts(&l, f->function);
		if (!f->inlined && f->offset) {
			line_put(&l, "+0x", 3);
			line_hex(&l, f->offset, 1);
		}
	} else {
		line_put(&l, "??", 2);
	}
	if (f->inlined)
		line_puts(&l, " [inlined]");
	if (f->jit)
		line_puts(&l, " [jit]");
	if (f->module) {
		line_put(&l, " (", 2);
		line_puts(&l, ct_basename(f->module));
		line_puts(&l, f->deleted ? " (deleted))" : ")");
	}
	if (f->file) {
		line_put(&l, " ", 1);
		line_puts(&l, ct_basename(f->file));
		if (f->line > 0) {
			line_put(&l, ":", 1);
			line_dec(&l, (uint64_t)f->line);
		}
	}
	line_put(&l, "\n", 1);
	ct_buf_append(out, l.b, l.n);
}

void ct_text_thread_header(struct ct_buf *out, const struct ct_thread *t)
{
	ct_buf_printf(out, "Thread %d \"%s\" %c (%s)", (int)t->tid, t->name ? t->name : "?", t->state,
		      ct_state_name(t->state));
	if (t->flags & CT_THREAD_GROUP_STOPPED)
		ct_buf_puts(out, ", stopped by job control (left stopped)");
	if (t->syscall_nr >= 0 && t->state != 'R') {
		const char *name = ct_syscall_name(t->syscall_nr);
		if (name)
			ct_buf_printf(out, ", in %s()", name);
		else
			ct_buf_printf(out, ", in syscall %ld", t->syscall_nr);
		if (t->waiting_on)
			ct_buf_printf(out, ": %s", t->waiting_on);
	}
	if (t->flags & CT_THREAD_SAMPLED)
		ct_buf_puts(out, " [read without stopping: perf sample]");
	else if ((t->flags & CT_THREAD_PASSIVE) && !(t->flags & CT_THREAD_KREGS))
		ct_buf_puts(out, " [read without stopping]"); /* kernel-saved registers: the usual case, unmarked */
	if (t->flags & CT_THREAD_GIL_HOLDER)
		ct_buf_puts(out, " [holds the GIL]");
	if (t->flags & CT_THREAD_GIL_WAITING)
		ct_buf_puts(out, " [waiting for the GIL]");
	if (t->flags & CT_THREAD_GVL_HOLDER)
		ct_buf_puts(out, " [holds the GVL]");
	ct_buf_putc(out, '\n');
}

void ct_report_snapshot_text(const struct ct_snapshot *s, struct ct_buf *out)
{
	size_t gone = 0, failed = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		if (s->threads[i].flags & CT_THREAD_GONE)
			gone++;
		else if (s->threads[i].error)
			failed++;
	}
	if (s->source && strcmp(s->source, "core") == 0) {
		ct_buf_printf(out, "Process %d (%s) %s — %zu threads, from a core file", (int)s->pid,
			      s->comm ? s->comm : "?", s->exe ? s->exe : "?", s->nthreads);
		if (s->signal) {
			const char *sig = sigabbrev_np(s->signal);
			ct_buf_printf(out, ", killed by SIG%s in thread %d", sig ? sig : "?", (int)s->signal_tid);
		}
		ct_buf_puts(out, " (thread states, names and system calls are not in a core)");
	} else {
		ct_buf_printf(out, "Process %d (%s) %s — %zu threads, captured in %.3f ms, longest stop %.3f ms",
			      (int)s->pid, s->comm ? s->comm : "?", s->exe ? s->exe : "?", s->nthreads,
			      (double)s->capture_ns / 1e6, (double)s->max_stop_ns / 1e6);
	}
	if (gone)
		ct_buf_printf(out, ", %zu exited meanwhile", gone);
	if (failed)
		ct_buf_printf(out, ", %zu not captured", failed);
	ct_buf_puts(out, "\n");
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct ct_thread *t = &s->threads[i];
		ct_buf_putc(out, '\n');
		if (t->error) {
			ct_buf_printf(out, "Thread %d \"%s\": %s\n", (int)t->tid, t->name ? t->name : "?",
				      t->error);
			continue;
		}
		ct_text_thread_header(out, t);
		for (size_t k = 0; k < t->nframes; k++)
			ct_text_frame(out, k, &t->frames[k]);
		if (t->unwind_error)
			ct_buf_printf(out, "  (backtrace stopped: %s)\n", t->unwind_error);
		if (t->interp_note)
			ct_buf_printf(out, "  (%s)\n", t->interp_note);
		for (size_t k = 0; k < t->ninterp_frames; k++)
			ct_text_frame(out, k, &t->interp_frames[k]);
	}
}

void ct_json_frame(struct ct_json *j, const struct ct_frame *f)
{
	ct_json_obj_begin(j);
	ct_json_key(j, "pc");
	if (f->python || f->ruby)
		ct_json_null(j);
	else
		ct_json_hex(j, f->pc);
	ct_json_key(j, "function");
	ct_json_str(j, f->function);
	ct_json_key(j, "offset");
	if (f->function && !f->inlined)
		ct_json_uint(j, f->offset);
	else
		ct_json_null(j);
	ct_json_key(j, "module");
	ct_json_str(j, f->module);
	ct_json_key(j, "file");
	ct_json_str(j, f->file);
	ct_json_key(j, "line");
	if (f->line > 0)
		ct_json_int(j, f->line);
	else
		ct_json_null(j);
	ct_json_key(j, "inlined");
	ct_json_bool(j, f->inlined);
	ct_json_key(j, "jit");
	ct_json_bool(j, f->jit);
	ct_json_key(j, "deleted");
	ct_json_bool(j, f->deleted);
	ct_json_key(j, "lang");
	ct_json_str(j, f->python ? "python" : f->ruby ? "ruby" : "native");
	ct_json_obj_end(j);
}

void ct_json_thread(struct ct_json *j, const struct ct_thread *t)
{
	char state[2] = { t->state, 0 };
	ct_json_obj_begin(j);
	ct_json_key(j, "tid");
	ct_json_int(j, t->tid);
	ct_json_key(j, "name");
	ct_json_str(j, t->name);
	ct_json_key(j, "state");
	ct_json_str(j, state);
	ct_json_key(j, "syscall");
	if (t->syscall_nr >= 0) {
		ct_json_obj_begin(j);
		ct_json_key(j, "nr");
		ct_json_int(j, t->syscall_nr);
		ct_json_key(j, "name");
		ct_json_str(j, ct_syscall_name(t->syscall_nr));
		ct_json_key(j, "args");
		ct_json_arr_begin(j);
		for (int i = 0; i < 6; i++)
			ct_json_hex(j, t->syscall_args[i]);
		ct_json_arr_end(j);
		ct_json_obj_end(j);
	} else {
		ct_json_null(j);
	}
	ct_json_key(j, "waiting_on");
	ct_json_str(j, t->waiting_on);
	ct_json_key(j, "lock_waiting");
	ct_json_str(j, t->lock_waiting);
	ct_json_key(j, "locks_held");
	ct_json_arr_begin(j);
	for (size_t h = 0; h < t->nlocks_held; h++)
		ct_json_str(j, t->locks_held[h]);
	ct_json_arr_end(j);
	ct_json_key(j, "wchan");
	ct_json_str(j, t->wchan);
	ct_json_key(j, "stop_us");
	ct_json_double(j, (double)t->stop_ns / 1e3, 1);
	ct_json_key(j, "passive");
	ct_json_bool(j, t->flags & CT_THREAD_PASSIVE);
	ct_json_key(j, "sampled");
	ct_json_bool(j, t->flags & CT_THREAD_SAMPLED);
	ct_json_key(j, "kernel_regs");
	ct_json_bool(j, t->flags & CT_THREAD_KREGS);
	ct_json_key(j, "job_stopped");
	ct_json_bool(j, t->flags & CT_THREAD_GROUP_STOPPED);
	ct_json_key(j, "gone");
	ct_json_bool(j, t->flags & CT_THREAD_GONE);
	ct_json_key(j, "frames");
	ct_json_arr_begin(j);
	for (size_t k = 0; k < t->nframes; k++)
		ct_json_frame(j, &t->frames[k]);
	ct_json_arr_end(j);

	ct_json_key(j, "truncated");
	ct_json_str(j, t->unwind_error);
	ct_json_key(j, "error");
	ct_json_str(j, t->error);
	ct_json_key(j, "gil");
	ct_json_str(j, t->flags & (CT_THREAD_GIL_HOLDER | CT_THREAD_GVL_HOLDER) ? "holder" : t->flags & CT_THREAD_GIL_WAITING ? "waiting" : NULL);
	ct_json_key(j, "interp_note");
	ct_json_str(j, t->interp_note);
	ct_json_key(j, "interp_frames");
	ct_json_arr_begin(j);
	for (size_t k = 0; k < t->ninterp_frames; k++)
		ct_json_frame(j, &t->interp_frames[k]);
	ct_json_arr_end(j);
	ct_json_obj_end(j);
}

void ct_json_snapshot_body(struct ct_json *j, const struct ct_snapshot *s)
{
	ct_json_key(j, "pid");
	ct_json_int(j, s->pid);
	ct_json_key(j, "process");
	ct_json_str(j, s->comm);
	ct_json_key(j, "exe");
	ct_json_str(j, s->exe);
	ct_json_key(j, "source");
	ct_json_str(j, s->source);
	if (s->source && strcmp(s->source, "core") == 0) {
		/* the signal that ended the process, and the thread it was delivered to */
		char sig[16];
		const char *abbrev = s->signal ? sigabbrev_np(s->signal) : NULL;
		snprintf(sig, sizeof(sig), "SIG%s", abbrev ? abbrev : "?");
		ct_json_key(j, "signal");
		if (s->signal)
			ct_json_str(j, sig);
		else
			ct_json_null(j);
		ct_json_key(j, "signal_tid");
		if (s->signal)
			ct_json_int(j, s->signal_tid);
		else
			ct_json_null(j);
	}
	ct_json_key(j, "stats");
	ct_json_obj_begin(j);
	ct_json_key(j, "threads");
	ct_json_uint(j, s->nthreads);
	ct_json_key(j, "max_stop_us");
	ct_json_double(j, (double)s->max_stop_ns / 1e3, 1);
	ct_json_key(j, "total_stop_us");
	ct_json_double(j, (double)s->total_stop_ns / 1e3, 1);
	ct_json_key(j, "capture_ms");
	ct_json_double(j, (double)s->capture_ns / 1e6, 3);
	ct_json_key(j, "wall_ms");
	ct_json_double(j, (double)s->wall_ns / 1e6, 3);
	ct_json_obj_end(j);
	ct_json_key(j, "threads");
	ct_json_arr_begin(j);
	for (size_t i = 0; i < s->nthreads; i++)
		ct_json_thread(j, &s->threads[i]);
	ct_json_arr_end(j);
}

void ct_report_snapshot_json(const struct ct_snapshot *s, struct ct_buf *out)
{
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "version");
	ct_json_int(&j, CT_JSON_VERSION);
	ct_json_snapshot_body(&j, s);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
}
