/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --memory: level 1 (/proc), the allocator, level 2 (glibc arenas), --watch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "memory/alloc.h"
#include "memory/glibc.h"
#include "memory/inject.h"
#include "memory/procmem.h"
#include "memory/watch.h"
#include "report/memory.h"
#include "process/target.h"
#include "lib/banned.h"

static int l1_error(pid_t pid, int r)
{
	if (r == -ESRCH)
		ct_error("process %d exited before its memory could be read", (int)pid);
	else if (r == -EACCES || r == -EPERM) {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot read the memory maps of process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
	} else if (r == -EINVAL)
		ct_error("/proc/%d/smaps or status has a shape ctrace does not understand; please report it", (int)pid);
	else
		ct_error("cannot read the memory maps of process %d: %s", (int)pid, ct_strerror(r));
	return CT_EXIT_TARGET;
}

/* The allocator of one process and, for glibc, the reader of its arenas (kept across --watch rows). */
struct alloc_ctx {
	struct ct_alloc_info alloc;
	struct ct_glibc_reader *glibc;
	char *note;  /* why the arenas are not read, or NULL */
	struct ct_inject_stats inject; /* --inject: what the allocator said */
	bool injected;
	int code;    /* CT_EXIT_PARTIAL when something that should have worked did not */
};

static const char *api_name(enum ct_allocator k)
{
	return k == CT_ALLOC_JEMALLOC ? "mallctl" : k == CT_ALLOC_TCMALLOC ? "MallocExtension" : "mi_stats";
}

/* jemalloc and tcmalloc: their statistics through their own API, called inside the process. */
static void alloc_inject(const struct ct_env *env, pid_t pid, struct ct_symbolizer *sym, const struct ct_mem_l1 *l1,
			 struct alloc_ctx *a)
{
	struct ct_inject_opts io = { env->tid, (uint64_t)(env->timeout_s * 1e9), 0, 0 };
	char *why = NULL;
	int r = ct_inject_read(pid, sym, &a->alloc, l1->maps, l1->nmaps, &io, &a->inject, &why);
	ct_verbose(env, "--inject: %zu stop%s, %s in thread %d: %zu calls, thread stopped %.2f ms%s", a->inject.attempts,
		   a->inject.attempts == 1 ? "" : "s", a->inject.function ? a->inject.function : "?", (int)a->inject.tid,
		   a->inject.call.calls, (double)a->inject.call.stop_ns / 1e6,
		   a->inject.call.deferred_signals ? ", signals deferred" : "");
	if (r < 0) {
		a->note = why ? why : ct_strf("--inject failed: %s", ct_strerror(r));
		a->code = CT_EXIT_PARTIAL;
		return;
	}
	free(why);
	a->injected = true;
}

static int alloc_open(const struct ct_env *env, pid_t pid, const struct ct_mem_l1 *l1, struct alloc_ctx *a)
{
	memset(a, 0, sizeof(*a));
	struct ct_sym_opts so = { env->debug_dirs, true };
	struct ct_symbolizer *sym = NULL;
	int r = ct_sym_open(pid, &so, &sym);
	if (r < 0) {
		if (ct_alloc_detect(l1, NULL, &a->alloc) < 0)
			return -ENOMEM;
		a->note = ct_strf("the allocator's statistics were not read: %s", ct_strerror(r));
		a->code = CT_EXIT_PARTIAL;
		return 0;
	}
	r = ct_alloc_detect(l1, sym, &a->alloc);
	if (r < 0)
		goto out;
	switch (a->alloc.kind) {
	case CT_ALLOC_GLIBC:
		if (env->no_arenas)
			break;
		if (a->alloc.static_glibc) {
			a->note = ct_strf("glibc is linked statically into the executable; its arenas are read only "
				       "through a shared libc.so.6 with debug information");
			break;
		}
		char *why = NULL;
		r = ct_glibc_open(pid, sym, &a->glibc, &why);
		if (r == -ENOMEM) {
			free(why);
			goto out;
		}
		if (r < 0) {
			a->note = why ? why : ct_strf("malloc's arenas cannot be read: %s", ct_strerror(r));
			if (r != -CT_ENODEBUG)
				a->code = CT_EXIT_PARTIAL;
		}
		r = 0;
		break;
	case CT_ALLOC_JEMALLOC:
	case CT_ALLOC_TCMALLOC:
		if (env->no_arenas)
			break;
		if (env->inject) {
			alloc_inject(env, pid, sym, l1, a);
			break;
		}
		a->note = ct_strf("%s keeps its statistics behind its own API (%s), which only code inside the process can "
				  "call; --inject would call it from one thread stopped at a safe point (for a few "
				  "milliseconds; see SAFETY in ctrace(1))", ct_allocator_name(a->alloc.kind),
				  api_name(a->alloc.kind));
		break;
	case CT_ALLOC_MIMALLOC:
		a->note = ct_strf("%s keeps its statistics behind its own API (%s), which only code run inside "
			       "the process can call; ctrace does not do that, so the mappings above are what is known",
			       ct_allocator_name(a->alloc.kind), api_name(a->alloc.kind));
		break;
	case CT_ALLOC_UNKNOWN:
		break;
	}
out:
	ct_sym_close(sym);
	return r;
}

static void alloc_close(struct alloc_ctx *a)
{
	ct_alloc_info_clear(&a->alloc);
	ct_glibc_close(a->glibc);
	free(a->note);
	memset(a, 0, sizeof(*a));
}

/* Reads the arenas now; on success gives the stats and regroups l1 with the arena heaps. When the
 * walk fails, *ret_why says why (free it). */
static int alloc_walk(struct alloc_ctx *a, struct ct_mem_l1 *l1, struct ct_glibc_stats **ret, char **ret_why)
{
	*ret = NULL;
	*ret_why = NULL;
	if (!a->glibc)
		return 0;
	int r = ct_glibc_walk(a->glibc, l1->maps, l1->nmaps, NULL, ret, ret_why);
	if (r < 0)
		return r;
	if ((*ret)->nheap_ranges)
		ct_mem_l1_regroup(l1, (const uint64_t(*)[2])(*ret)->heap_ranges, (*ret)->nheap_ranges);
	return 0;
}

static int one_report(struct ct_env *env, pid_t pid)
{
	uint64_t t0 = ct_now_ns();
	struct ct_mem_l1 l1;
	int r = ct_mem_l1_read(pid, &l1);
	if (r < 0)
		return l1_error(pid, r);
	struct alloc_ctx a;
	uint64_t t1 = ct_now_ns();
	ct_verbose(env, "level 1 (/proc status, smaps_rollup, smaps: %zu mappings) read in %.1f ms", l1.nmaps,
		   (double)(t1 - t0) / 1e6);
	if (alloc_open(env, pid, &l1, &a) < 0) {
		ct_error("out of memory");
		ct_mem_l1_clear(&l1);
		return CT_EXIT_TARGET;
	}
	uint64_t t2 = ct_now_ns();
	ct_verbose(env, "allocator %s found%s in %.1f ms", ct_allocator_name(a.alloc.kind),
		   a.glibc ? ", and the layout of its malloc learnt," : "", (double)(t2 - t1) / 1e6);
	struct ct_glibc_stats *gs = NULL;
	char *why = NULL;
	int code = a.code;
	const char *note = a.note;
	r = alloc_walk(&a, &l1, &gs, &why);
	if (r < 0) {
		note = why;
		code = CT_EXIT_PARTIAL;
	}
	if (gs)
		ct_verbose(env, "%zu arenas walked in %.1f ms (%zu passes); malloc layout %s", gs->narenas,
			   (double)gs->walk_ns / 1e6, gs->tries,
			   gs->layout_cached ? "from ctrace's cache" : gs->debug_file ? gs->debug_file : "from DWARF");
	struct ct_mem_report rep = { &l1, &a.alloc, gs, note, env->mem_top, ct_now_ns() - t0,
				     a.injected ? &a.inject : NULL };
	struct ct_buf out = CT_BUF_INIT;
	if (env->format == CT_FMT_JSON)
		ct_report_memory_json(&rep, &out);
	else
		ct_report_memory_text(&rep, &out);
	int wcode;
	if (out.err) {
		ct_error("out of memory while writing the report");
		wcode = CT_EXIT_TARGET;
	} else {
		wcode = ct_cli_write_output(env, &out);
	}
	ct_buf_free(&out);
	/* the text report already says it; JSON, -o and a partial result get it on stderr too */
	bool quiet = env->format != CT_FMT_JSON && !env->output && code == CT_EXIT_OK;
	if (wcode == CT_EXIT_OK && note && !quiet)
		ct_warn("%s", note);
	if (wcode == CT_EXIT_OK && gs && gs->approximate) {
		ct_warn("malloc's free lists did not hold together while they were read (changing, or corrupt); "
			"the arena numbers are approximate");
		code = CT_EXIT_PARTIAL;
	}
	if (wcode != CT_EXIT_OK)
		code = wcode;
	free(why);
	ct_glibc_stats_free(gs);
	alloc_close(&a);
	ct_mem_l1_clear(&l1);
	return code;
}

/* ---- --watch -------------------------------------------------------------------------------- */

/* Set by the SIGINT/SIGTERM/SIGHUP handler (and by a closed stdout): the state a signal handler
 * needs, polled by the watch loop. */
static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static void put(const struct ct_buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		watch_stop = 1; /* stdout closed (a pipe to head): stop like Ctrl-C */
	fflush(stdout);
}

/* Sleeps until deadline (monotonic ns) or a stop signal. */
static void sleep_until(uint64_t deadline)
{
	while (!watch_stop) {
		uint64_t now = ct_now_ns();
		if (now >= deadline)
			return;
		uint64_t left = deadline - now;
		struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		nanosleep(&ts, NULL); /* EINTR on a signal: the loop looks at watch_stop */
	}
}

/* One sample: level 1 and the arenas. Returns 0, or -errno from level 1 (-ESRCH: gone). */
static int take_sample(pid_t pid, struct alloc_ctx *a, uint64_t t_ns, struct ct_mem_sample *ret)
{
	struct ct_mem_l1 l1;
	int r = ct_mem_l1_read(pid, &l1);
	if (r < 0)
		return r;
	struct ct_glibc_stats *gs = NULL;
	char *why = NULL;
	alloc_walk(a, &l1, &gs, &why);
	free(why);
	ct_mem_sample_init(ret, t_ns, &l1, gs);
	ct_glibc_stats_free(gs);
	return 0;
}

static int watch(struct ct_env *env, pid_t pid)
{
	bool json = env->format == CT_FMT_JSON;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ct_mem_l1 l1;
	int r = ct_mem_l1_read(pid, &l1);
	if (r < 0)
		return l1_error(pid, r);
	struct alloc_ctx a;
	r = alloc_open(env, pid, &l1, &a);
	ct_mem_l1_clear(&l1);
	if (r < 0) {
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	if (a.note)
		ct_warn("%s", a.note);
	struct ct_mem_sample first, prev, cur;
	memset(&prev, 0, sizeof(prev));
	uint64_t t0 = ct_now_ns(); /* rows count from the first sample, after libc's DWARF was read */
	r = take_sample(pid, &a, 0, &first);
	if (r < 0) {
		alloc_close(&a);
		return l1_error(pid, r);
	}
	struct ct_buf out = CT_BUF_INIT;
	if (!json)
		ct_report_watch_header(&out);
	ct_report_watch_row(&first, NULL, 0, json, &out);
	put(&out);
	const char *ended = "interrupted";
	size_t nsamples = 1;
	uint64_t period = (uint64_t)(env->watch_s * 1e9);
	uint64_t end = env->duration_s > 0 ? t0 + (uint64_t)(env->duration_s * 1e9) : UINT64_MAX;
	const struct ct_mem_sample *last = &first;
	for (uint64_t tick = 1; !watch_stop; tick++) {
		uint64_t next = t0 + tick * period;
		if (next > end) {
			sleep_until(end);
			ended = watch_stop ? "interrupted" : "duration reached";
			break;
		}
		sleep_until(next);
		if (watch_stop)
			break;
		r = take_sample(pid, &a, ct_now_ns() - t0, &cur);
		if (r < 0) {
			ended = r == -ESRCH ? "the process exited" : "the process could no longer be read";
			break;
		}
		struct ct_mem_growth *gr = NULL;
		size_t ngr = 0;
		ct_mem_growth(last, &cur, 3, &gr, &ngr);
		ct_buf_reset(&out);
		ct_report_watch_row(&cur, gr, ngr, json, &out);
		put(&out);
		free(gr);
		nsamples++;
		ct_mem_sample_clear(&prev);
		prev = cur;
		last = &prev;
	}
	struct ct_mem_growth *gr = NULL;
	size_t ngr = 0;
	ct_mem_growth(&first, last, 10, &gr, &ngr);
	ct_buf_reset(&out);
	ct_report_watch_summary(&first, last, gr, ngr, nsamples, ended, json, &out);
	watch_stop = 0;
	put(&out);
	free(gr);
	ct_buf_free(&out);
	ct_mem_sample_clear(&prev);
	ct_mem_sample_clear(&first);
	alloc_close(&a);
	return CT_EXIT_OK;
}

int cmd_memory(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	if (env->sites)
		return cmd_memory_sites(env);
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("--memory writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->tid && !env->inject) {
		ct_error("--tid does not apply to --memory: memory belongs to the whole process (with --inject it "
			 "names the thread that runs the call)");
		return CT_EXIT_USAGE;
	}
	if (env->inject && env->watch_s > 0) {
		ct_error("--inject reads the allocator once; run it without --watch");
		return CT_EXIT_USAGE;
	}
	if (env->inject && env->no_arenas) {
		ct_error("--inject and --no-arenas contradict each other: choose one");
		return CT_EXIT_USAGE;
	}
	if (env->duration_s > 0 && env->watch_s <= 0) {
		ct_error("-d goes with --watch SECS (how long to watch)");
		return CT_EXIT_USAGE;
	}
	if (env->watch_s > 0 && env->output) {
		ct_error("--watch writes rows as they come to standard output; redirect it instead of -o");
		return CT_EXIT_USAGE;
	}
	int code = ct_cli_check_target(pid);
	if (code)
		return code;
	if (env->watch_s > 0)
		return watch(env, pid);
	return one_report(env, pid);
}
