/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "attach/ptsample.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_TASKS 65536

static void on_alarm(int sig)
{
	(void)sig;
}

static char task_state(pid_t pid, pid_t tid)
{
	char *text = NULL;
	struct ct_proc_stat st;
	char state = '?';
	if (ct_proc_read(pid, tid, "stat", 4096, &text) == 0 && ct_parse_proc_stat(text, &st) == 0)
		state = st.state;
	free(text);
	return state;
}

static uint64_t task_run_ns(pid_t pid, pid_t tid)
{
	char *text = NULL;
	struct ct_proc_schedstat ss;
	uint64_t v = 0;
	if (ct_proc_read(pid, tid, "schedstat", 256, &text) == 0 && ct_parse_proc_schedstat(text, &ss) == 0)
		v = ss.run_ns;
	free(text);
	return v;
}

/* How many periods of CPU time tid used since it was last sampled (0: do not sample it now). */
static unsigned periods_due(struct ct_ptsample_state *st, pid_t pid, pid_t tid)
{
	uint64_t now = task_run_ns(pid, tid);
	for (size_t i = 0; i < st->n; i++) {
		if (st->tids[i] != tid)
			continue;
		if (now > st->run_ns[i])
			st->credit_ns[i] += now - st->run_ns[i];
		st->run_ns[i] = now;
		if (!st->period_ns || st->credit_ns[i] < st->period_ns)
			return 0;
		uint64_t n = st->credit_ns[i] / st->period_ns;
		st->credit_ns[i] -= n * st->period_ns;
		return (unsigned)CT_MIN(n, 1000u);
	}
	size_t cap = st->cap, cap2 = st->cap;
	if (ct_grow(&st->tids, &st->cap, st->n + 1, sizeof(*st->tids)) < 0 ||
	    ct_grow(&st->run_ns, &cap, st->n + 1, sizeof(*st->run_ns)) < 0 ||
	    ct_grow(&st->credit_ns, &cap2, st->n + 1, sizeof(*st->credit_ns)) < 0)
		return 0;
	st->tids[st->n] = tid;
	st->run_ns[st->n] = now;
	st->credit_ns[st->n++] = 0; /* counted from now on */
	return 0;
}

/* Forgets credit of threads not running: their CPU time was spent on stacks we did not see. */
static void drop_credit(struct ct_ptsample_state *st, pid_t pid, pid_t tid)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->tids[i] == tid) {
			st->run_ns[i] = task_run_ns(pid, tid);
			st->credit_ns[i] = 0;
		}
	}
}

void ct_ptsample_state_free(struct ct_ptsample_state *state)
{
	free(state->tids);
	free(state->run_ns);
	free(state->credit_ns);
	free(state->counts);
	memset(state, 0, sizeof(*state));
}

int ct_ptsample_take(struct ct_attach *a, pid_t pid, pid_t only_tid, struct ct_ptsample_state *state,
		     const struct ct_attach_opts *o, struct ct_capture_set **ret)
{
	if (!state && only_tid <= 0)
		return ct_attach_snapshot(a, pid, o, ret);
	pid_t *tids = NULL;
	size_t n = 0;
	int r = 0;
	if (only_tid > 0) {
		char *text = NULL;
		/* the thread is gone when its stat is: the sampling of it ends there */
		r = ct_proc_read(pid, only_tid, "stat", 4096, &text);
		free(text);
		tids = malloc(sizeof(*tids));
		if (r == 0 && !tids)
			r = -ENOMEM;
		if (r == 0)
			tids[n++] = only_tid;
	} else {
		r = ct_proc_list_tasks(pid, &tids, &n);
	}
	if (r < 0) {
		free(tids);
		return r == -ENOENT ? -ESRCH : r;
	}
	struct ct_capture_set *set = calloc(1, sizeof(*set));
	if (!set) {
		free(tids);
		return -ENOMEM;
	}
	set->pid = pid;
	uint64_t t0 = ct_now_ns(), deadline = t0 + o->timeout_ns;
	/* the stop wait is broken by SIGALRM ticks (as in ct_attach_snapshot): they must not kill us */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	ct_attach_release_pending(a);
	for (size_t i = 0; i < n && i < MAX_TASKS; i++) {
		unsigned due = 1; /* wall mode: every thread, one sample each */
		if (state && task_state(pid, tids[i]) != 'R') {
			drop_credit(state, pid, tids[i]);
			continue;
		}
		if (state && !(due = periods_due(state, pid, tids[i])))
			continue;
		if (ct_grow(&set->caps, &set->cap, set->n + 1, sizeof(*set->caps)) < 0 ||
		    (state && ct_grow(&state->counts, &state->cap_counts, set->n + 1, sizeof(*state->counts)) < 0)) {
			r = -ENOMEM;
			break;
		}
		struct ct_capture *c = &set->caps[set->n];
		ct_attach_thread(a, pid, tids[i], o, deadline, c);
		if (state)
			state->counts[set->n] = due;
		set->n++;
		set->total_stop_ns += c->stop_ns;
		set->max_stop_ns = CT_MAX(set->max_stop_ns, c->stop_ns);
		set->timed_out |= c->err == -ETIMEDOUT;
	}
	sigaction(SIGALRM, &old, NULL);
	set->wall_ns = ct_now_ns() - t0;
	free(tids);
	if (r < 0) {
		ct_capture_set_free(set);
		return r;
	}
	*ret = set;
	return 0;
}

uint64_t ct_ptsample_next_delay(uint64_t period_ns, uint64_t *seed)
{
	/* xorshift64*: quality enough for jitter, no global state */
	uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*seed = x;
	uint64_t r = x * 0x2545f4914f6cdd1dull;
	return period_ns / 2 + (period_ns ? r % (period_ns + 1) : 0);
}
