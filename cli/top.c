/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --top: a profile session (session/profile.h) shown live. Every second the tick
 * callback takes the session's last interval (ct_profile_session_interval), ranks its functions
 * (analyze/rank.h) and shows the table (report/top.h): drawn on the terminal (cli/topscreen.c),
 * with keys read between refreshes, or printed as plain text when stdout is not a terminal. q,
 * Ctrl-C, SIGTERM, SIGHUP and -d end the run; closing the session releases every thread at once. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "analyze/rank.h"
#include "cli/cli.h"
#include "cli/topscreen.h"
#include "lib/error.h"
#include "report/top.h"
#include "session/profile.h"
#include "lib/banned.h"

#define REFRESH_NS 1000000000ull
#define NOTE_NS 5000000000ull      /* how long the status line keeps what a key did */
#define PLAIN_ROWS 20
#define PLAIN_WIDTH 1000

/* Set by the SIGINT/SIGTERM/SIGHUP handler, and to -1 by q: the session polls it. */
static volatile sig_atomic_t stop_signal;

static const char *const keys_line = "q quit  s sort  space pause  a last/all  t thread  n frames  ? help";

static const char *const help_lines[] = {
	"ctrace --top keys",
	"",
	"  q        quit: every thread released at once",
	"  s        sort by self samples, or by total (self + callees)",
	"  space p  pause or resume the view (sampling goes on)",
	"  a        the last interval (1 s), or every sample since the start",
	"  t        one thread only, the next one each press",
	"  T        every thread again",
	"  n        native frames only, or Python or Ruby frames merged at the",
	"           interpreter-loop frames (the default): from the next sample on",
	"  ?        this help; any key closes it",
};

struct top {
	const struct ct_env *env;
	struct ct_profile_session *ps;
	struct ct_top_screen *scr;  /* NULL: plain tables on stdout */
	bool since_start, sort_total, paused, help;
	bool native_only;           /* n: Python or Ruby frames not merged (--no-interp: always) */
	uint32_t thread;            /* a thread frame, or CT_PRANK_ALL */
	/* the window shown, copied at each refresh but while paused: the last interval's counts and
	 * every stack's count since the start (stacks never move while the session runs) */
	uint64_t *win, *cum;
	size_t nwin, ncum, cap_win, cap_cum;
	struct ct_top_head head;
	uint64_t next_ns, cpu_ns, wall_ns;
	char note[160];
	uint64_t note_until;
	struct ct_buf later;        /* messages kept while the screen is ours, said once it is not */
	int err;
};

static uint64_t own_cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static void set_note(struct top *t, const char *text)
{
	snprintf(t->note, sizeof(t->note), "%s", text);
	t->note_until = ct_now_ns() + NOTE_NS;
}

static void say_messages(struct top *t)
{
	enum ct_msg_level level;
	for (const char *m; (m = ct_profile_session_next_message(t->ps, &level));) {
		if (level == CT_MSG_VERBOSE && !t->env->verbose)
			continue;
		if (!t->scr) {
			if (level == CT_MSG_WARN)
				ct_warn("%s", m);
			else
				ct_verbose(t->env, "%s", m);
			continue;
		}
		ct_buf_printf(&t->later, "%c%s\n", level == CT_MSG_WARN ? 'w' : 'v', m);
		if (level == CT_MSG_WARN)
			set_note(t, m);
	}
}

/* n: native frames only, or Python or Ruby frames merged, for the samples taken from now on (the counts
 * already taken keep the frames they were taken with: 'a' shows both until they age out). */
static void toggle_interp(struct top *t)
{
	struct ct_profile_session_stats st;
	ct_profile_session_stats(t->ps, &st);
	if (t->env->no_interp) {
		set_note(t, "native frames only: --no-interp reads no interpreter");
		return;
	}
	if (!st.python) {
		set_note(t, "native frames only: no Python or Ruby interpreter found in the process");
		return;
	}
	t->native_only = !t->native_only;
	ct_profile_session_set_interp(t->ps, !t->native_only);
	bool rb = strcmp(st.interp_lang, "Ruby") == 0;
	set_note(t, t->native_only ? (rb ? "native frames only, from the next sample on (n: Ruby frames again)"
					 : "native frames only, from the next sample on (n: Python frames again)")
		 : rb ? "Ruby frames merged at the rb_vm_exec frames, from the next sample on"
		      : "Python frames merged at the eval-loop frames, from the next sample on");
}

static int copy_counts(uint64_t **dst, size_t *n, size_t *cap, const uint64_t *src, const struct ct_profile *p)
{
	if (ct_grow(dst, cap, CT_MAX(p->nstacks, (size_t)1), sizeof(**dst)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++)
		(*dst)[i] = src ? src[i] : p->stacks[i].count;
	*n = p->nstacks;
	return 0;
}

/* The table of the window shown, in the order asked. */
static int rank(struct top *t, struct ct_prank *r)
{
	const struct ct_profile *p = ct_profile_session_profile(t->ps);
	struct ct_prank_opts o = { t->since_start ? t->cum : t->win, t->since_start ? t->ncum : t->nwin,
				   t->thread, t->sort_total ? CT_PRANK_TOTAL : CT_PRANK_SELF };
	t->head.since_start = t->since_start;
	t->head.sort_total = t->sort_total;
	t->head.paused = t->paused;
	t->head.thread = t->thread == CT_PRANK_ALL ? NULL : p->frames[t->thread].name;
	return ct_profile_rank(p, &o, r);
}

static void draw(struct top *t)
{
	const struct ct_profile *p = ct_profile_session_profile(t->ps);
	struct ct_prank r;
	if (rank(t, &r) < 0) {
		t->err = -ENOMEM;
		return;
	}
	int rows, cols, y = 0;
	ct_top_screen_begin(t->scr, &rows, &cols);
	size_t width = (size_t)CT_MAX(cols, 1);
	struct ct_buf line = CT_BUF_INIT;
	for (int l = 0; l < CT_TOP_HEAD_LINES; l++, y++) {
		ct_buf_reset(&line);
		ct_report_top_head(&t->head, &r, l, width, &line);
		ct_top_screen_line(t->scr, y, ct_buf_cstr(&line), CT_TOP_TITLE);
	}
	ct_buf_reset(&line);
	ct_report_top_columns(width, &line);
	ct_top_screen_line(t->scr, y++, ct_buf_cstr(&line), CT_TOP_BAR);
	for (size_t i = 0; i < r.n && y < rows - 1; i++, y++) {
		ct_buf_reset(&line);
		ct_report_top_row(p, &r, i, width, &line);
		ct_top_screen_line(t->scr, y, ct_buf_cstr(&line), CT_TOP_PLAIN);
	}
	if (r.n == 0)
		ct_top_screen_line(t->scr, y, t->head.elapsed_s < 1.0 ? "  (waiting for the first second)" :
				   "  (no samples: no thread on a CPU)", CT_TOP_PLAIN);
	if (t->help) {
		int top = CT_TOP_HEAD_LINES + 1;
		for (size_t i = 0; i < CT_ARRAY_SIZE(help_lines) && top + (int)i < rows - 1; i++)
			ct_top_screen_line(t->scr, top + (int)i, help_lines[i], CT_TOP_BOX);
	}
	bool noted = t->note[0] && ct_now_ns() < t->note_until;
	ct_top_screen_line(t->scr, rows - 1, noted ? t->note : keys_line, CT_TOP_STATUS);
	ct_top_screen_end(t->scr);
	ct_buf_free(&line);
	ct_prank_free(&r);
}

static void print_plain(struct top *t)
{
	struct ct_prank r;
	struct ct_buf out = CT_BUF_INIT;
	if (rank(t, &r) < 0) {
		t->err = -ENOMEM;
		return;
	}
	ct_report_top_text(ct_profile_session_profile(t->ps), &r, &t->head, PLAIN_ROWS, PLAIN_WIDTH, &out);
	if (out.err)
		t->err = out.err;
	else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		stop_signal = -1; /* stdout closed (a pipe's reader left): nothing more to show */
	ct_buf_free(&out);
	ct_prank_free(&r);
}

/* One refresh: the interval that ends now is taken (paused or not, so the next one is 1 s), and
 * copied into the window shown unless paused. True when it drew the screen. */
static bool refresh(struct top *t)
{
	struct ct_profile_interval iv;
	const struct ct_profile *p = ct_profile_session_profile(t->ps);
	uint64_t now = ct_now_ns(), cpu = own_cpu_ns();
	if (ct_profile_session_interval(t->ps, &iv) < 0) {
		t->err = -ENOMEM;
		return false;
	}
	if (now > t->wall_ns)
		t->head.cpu_pct = 100.0 * (double)(cpu - t->cpu_ns) / (double)(now - t->wall_ns);
	t->cpu_ns = cpu;
	t->wall_ns = now;
	if (!t->paused) {
		struct ct_profile_session_stats st;
		ct_profile_session_stats(t->ps, &st);
		if (copy_counts(&t->win, &t->nwin, &t->cap_win, iv.counts, p) < 0 ||
		    copy_counts(&t->cum, &t->ncum, &t->cap_cum, NULL, p) < 0) {
			t->err = -ENOMEM;
			return false;
		}
		t->head.processes = st.sources;
		t->head.threads = st.threads;
		t->head.sampler = st.sampler;
		t->head.lost = st.lost;
		t->head.elapsed_s = (double)st.elapsed_ns / 1e9;
		t->head.window_s = (double)iv.ns / 1e9;
		t->head.when = time(NULL);
	}
	if (!t->scr)
		print_plain(t);
	else if (!t->paused) /* paused, the screen stays as it was, to the last figure */
		draw(t);
	return t->scr && !t->paused;
}

static void next_thread(struct top *t)
{
	uint32_t *ids = NULL;
	size_t n = 0;
	if (ct_profile_threads(ct_profile_session_profile(t->ps), &ids, &n) < 0 || n == 0) {
		set_note(t, "no thread has been sampled yet");
		free(ids);
		return;
	}
	size_t at = 0; /* the one after the thread shown, or the first */
	for (size_t i = 0; i < n && t->thread != CT_PRANK_ALL; i++)
		if (ids[i] == t->thread)
			at = i + 1;
	t->thread = at < n ? ids[at] : CT_PRANK_ALL;
	free(ids);
}

/* Does what key k says; false for a key that means nothing. */
static bool key(struct top *t, int k)
{
	if (t->help && k != CT_TOP_KEY_RESIZE && k != 'q' && k != 'Q') {
		t->help = false; /* any key closes the help */
		return true;
	}
	switch (k) {
	case 'q': case 'Q': stop_signal = -1; break;
	case 's': case 'S': t->sort_total = !t->sort_total; break;
	case ' ': case 'p': case 'P': t->paused = !t->paused; break;
	case 'a': case 'A': t->since_start = !t->since_start; break;
	case 't': next_thread(t); break;
	case 'T': t->thread = CT_PRANK_ALL; break;
	case 'n': case 'N':
		toggle_interp(t);
		break;
	case '?': case 'h': case 'H': t->help = true; break;
	case CT_TOP_KEY_RESIZE: break;
	default:
		set_note(t, "unknown key: ? lists the keys");
		break;
	}
	return true;
}

static void tick(void *arg, struct ct_profile_session *ps)
{
	struct top *t = arg;
	(void)ps;
	say_messages(t);
	bool redraw = false;
	for (int k; t->scr && !stop_signal && (k = ct_top_screen_key(t->scr)) != CT_TOP_KEY_NONE;)
		redraw |= key(t, k);
	if (stop_signal)
		return;
	uint64_t now = ct_now_ns();
	bool drew = false;
	if (now >= t->next_ns) {
		t->next_ns += REFRESH_NS;
		if (t->next_ns <= now) /* late (ctrace got no CPU): from now on */
			t->next_ns = now + REFRESH_NS;
		drew = refresh(t);
	}
	/* a key in the same tick as a refresh that did not draw (space: paused) is drawn here, or its
	 * PAUSED would show only at the next key */
	if (redraw && !drew && t->scr && !stop_signal && !t->err)
		draw(t);
	if (t->err)
		stop_signal = -1;
}

/* Ctrl-C and SIGTERM as for --profile; SIGHUP too (the terminal went away), with the same handler. */
static void catch_signals(void)
{
	ct_cli_catch_stop(&stop_signal);
	struct sigaction sa;
	if (sigaction(SIGINT, NULL, &sa) == 0)
		sigaction(SIGHUP, &sa, NULL);
}

/* The messages kept while the screen was ours, now on stderr. */
static void say_later(struct top *t)
{
	const char *s = ct_buf_cstr(&t->later);
	while (*s) {
		const char *nl = strchr(s, '\n');
		int n = (int)(nl - s);
		if (s[0] == 'w')
			ct_warn("%.*s", n - 1, s + 1);
		else
			ct_verbose(t->env, "%.*s", n - 1, s + 1);
		s = nl + 1;
	}
}

int cmd_top(struct ct_env *env)
{
	int code = ct_cli_profile_prepare(env);
	if (code)
		return code;
	catch_signals();
	struct top t = { .env = env, .thread = CT_PRANK_ALL, .later = CT_BUF_INIT };
	struct ct_profile_session_opts o;
	ct_cli_profile_session_opts(env, &o);
	o.per_thread = true; /* the thread filter's frames */
	o.stop = &stop_signal;
	o.tick = tick;
	o.tick_arg = &t;
	enum ct_profile_open_error what = 0;
	pid_t failed = 0;
	int r = ct_profile_session_open(&o, &t.ps, &what, &failed);
	if (t.ps)
		say_messages(&t);
	if (r < 0) {
		code = ct_cli_profile_open_error(env, r, what, failed);
		ct_profile_session_close(t.ps);
		return code;
	}
	t.head.comm = ct_profile_session_first_comm(t.ps);
	t.head.pid = ct_profile_session_first_pid(t.ps);
	t.head.rate_hz = (unsigned)env->rate_hz;
	struct ct_profile_session_stats st;
	ct_profile_session_stats(t.ps, &st);
	t.head.sampler = st.sampler;
	t.head.threads = st.threads;
	t.head.processes = st.sources;
	t.cpu_ns = own_cpu_ns();
	t.wall_ns = ct_now_ns();
	t.next_ns = st.start_ns + REFRESH_NS;
	if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && ct_top_screen_open(&t.scr) == 0) {
		draw(&t);
	} else if (isatty(STDOUT_FILENO)) {
		ct_warn("no usable terminal (TERM=%s, or stdin is not one): plain tables instead",
			getenv("TERM") ? getenv("TERM") : "");
	}
	r = ct_profile_session_run(t.ps);
	/* plain: the last part of a -d run, or up to the target's exit, gets its table too */
	if (!t.scr && stop_signal != -1 && ct_now_ns() + REFRESH_NS - t.next_ns >= REFRESH_NS / 5)
		refresh(&t);
	ct_top_screen_close(t.scr);
	t.scr = NULL;
	say_later(&t);
	say_messages(&t);
	if (r < 0) {
		ct_error("sampling failed: %s", ct_strerror(r));
		code = CT_EXIT_TARGET;
	} else if (t.err) {
		ct_error("out of memory");
		code = CT_EXIT_TARGET;
	}
	ct_profile_session_close(t.ps);
	ct_buf_free(&t.later);
	free(t.win);
	free(t.cum);
	return code;
}
