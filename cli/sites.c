/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --memory --sites: who allocates. Uprobes on the allocator's entry points sample the
 * call stacks of malloc, calloc, realloc and the aligned forms until Ctrl-C, SIGTERM, -d or the
 * target's exit; then the profile (count: calls, weight: bytes requested) is written at once. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "report/profile.h"
#include "session/allocsites.h"
#include "lib/banned.h"

#define SITES_STACK_DEFAULT (8 * 1024)

/* Set by the SIGINT/SIGTERM handler (ct_cli_catch_stop): the one piece of state a signal handler
 * needs; the session polls it. */
static volatile sig_atomic_t sites_stop;

static int open_error(pid_t pid, int r)
{
	switch (r) {
	case -ESRCH:
		ct_error("process %d exited before its allocations could be sampled", (int)pid);
		break;
	case -EACCES:
	case -EPERM:
		ct_error("perf_event_open refused a uprobe (%s): --sites needs root or CAP_PERFMON, and no "
			 "seccomp filter on perf_event_open", ct_strerror(r));
		break;
	case -ENOSYS:
	case -EOPNOTSUPP:
		ct_error("this kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe): --sites "
			 "cannot sample allocations here");
		break;
	case -ENOENT:
		ct_error("no malloc entry point found in process %d (an allocator without symbols, or "
			 "none); --sites needs malloc's symbol in the allocator's ELF file", (int)pid);
		break;
	default:
		ct_error("cannot sample the allocations of process %d: %s", (int)pid, ct_strerror(r));
		break;
	}
	return CT_EXIT_TARGET;
}

/* The allocator's own frames and well-known wrappers are not the site: their caller is. */
static bool skip_frame(const struct ct_pframe *f, void *arg)
{
	const char *module = arg;
	if (f->module && module && strcmp(f->module, module) == 0)
		return true;
	return ct_alloc_wrapper_name(f->name);
}

static int render(const struct ct_env *env, struct ct_allocsites *s, const struct ct_profile *prof,
		  const struct ct_profile_meta *m, struct ct_buf *out)
{
	enum ct_format fmt = env->format;
	if (fmt == CT_FMT_DEFAULT)
		fmt = !env->output && isatty(STDOUT_FILENO) ? CT_FMT_TEXT : CT_FMT_FOLDED;
	if (fmt != CT_FMT_TEXT)
		return ct_report_profile(fmt, prof, m, out);
	const struct ct_alloc_probes *ps = ct_allocsites_probes(s);
	const struct ct_allocsites_stats *st = ct_allocsites_stats(s);
	struct ct_alloc_fn_total fns[CT_PERF_MAX_PROBES];
	for (size_t i = 0; i < st->nfn; i++)
		fns[i] = (struct ct_alloc_fn_total){ st->fn[i].name, st->fn[i].calls, st->fn[i].bytes };
	struct ct_psite *sites = NULL;
	size_t nsites = 0;
	if (ct_profile_sites(prof, skip_frame, ps->alloc.module, &sites, &nsites) < 0)
		return -ENOMEM;
	char *alloc = ct_strf("%s (%s)", ct_allocator_name(ps->alloc.kind), ps->alloc.module);
	struct ct_alloc_text a = { alloc ? alloc : "?", fns, st->nfn, sites, nsites, env->mem_top };
	ct_report_alloc_sites_text(prof, m, &a, out);
	free(alloc);
	free(sites);
	return 0;
}

static void say_stats(const struct ct_env *env, struct ct_allocsites *s, const struct ct_profile *prof)
{
	for (const char *w; (w = ct_allocsites_next_warning(s));)
		ct_warn("%s", w);
	const struct ct_allocsites_stats *st = ct_allocsites_stats(s);
	uint64_t handed = 0;
	for (size_t i = 0; i < st->nfn; i++)
		handed += st->fn[i].handed_on;
	ct_verbose(env, "%" PRIu64 " samples (%" PRIu64 " handed on to malloc by the allocator), %zu threads "
		   "followed, %zu stacks, %zu frames", st->samples, handed, st->threads_seen, prof->nstacks,
		   prof->nframes);
	if (st->lost || st->dropped)
		ct_warn("the kernel dropped %" PRIu64 " samples (ring buffers full): the totals are low and the "
			"shares may lean towards threads that allocate less; sample fewer calls with -r N",
			st->lost + st->dropped);
	if (st->open_failed)
		ct_warn("some threads could not be followed (%zu file descriptors each; raise ulimit -n)",
			st->nfn);
	if (st->exec)
		ct_warn("the process executed a new program; sampling stopped there");
	ct_verbose(env, "sampling ended after %.2f s: %s", (double)prof->duration_ns / 1e9, st->end ? st->end : "?");
	if (prof->total == 0)
		ct_warn("no allocation seen: the process did not call the allocator while sampled (%.2f s; %s)",
			(double)prof->duration_ns / 1e9, st->end ? st->end : "?");
}

int cmd_memory_sites(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	if (env->tid) {
		ct_error("--tid does not apply to --sites: the allocations of every thread are sampled");
		return CT_EXIT_USAGE;
	}
	if (env->watch_s > 0) {
		ct_error("--sites and --watch are separate runs; give -d SECS for how long to sample");
		return CT_EXIT_USAGE;
	}
	int code = ct_cli_check_target(pid);
	if (!code)
		code = ct_cli_check_output(env);
	if (code)
		return code;
	ct_cli_catch_stop(&sites_stop);
	struct ct_allocsites_opts o = {
		.period = env->rate_given ? (uint64_t)env->rate_hz : 1,
		.stack_bytes = env->stack_bytes_given ? env->stack_bytes : SITES_STACK_DEFAULT,
		.prof = { env->unwinder, env->max_frames,
			  { env->debug_dirs, env->no_inlines, env->no_demangle, env->debuginfod, 0 }, true },
		.duration_s = env->duration_s,
		.stop = &sites_stop,
	};
	struct ct_allocsites *s = NULL;
	int r = ct_allocsites_open(pid, &o, &s);
	if (r < 0)
		return open_error(pid, r);
	const struct ct_alloc_probes *ps = ct_allocsites_probes(s);
	if (env->verbose) {
		struct ct_buf names = CT_BUF_INIT;
		for (size_t i = 0; i < ps->n; i++)
			ct_buf_printf(&names, "%s%s", i ? ", " : "", ps->p[i].symbol);
		ct_verbose(env, "uprobes on %s in %s (%s)", ct_buf_cstr(&names), ps->alloc.module,
			   ct_allocator_name(ps->alloc.kind));
		ct_buf_free(&names);
	}
	r = ct_allocsites_run(s);
	if (r < 0) {
		ct_error("sampling failed: %s", ct_strerror(r));
		ct_allocsites_close(s);
		return CT_EXIT_TARGET;
	}
	const struct ct_profile *prof = ct_allocsites_profile(s);
	char title[256];
	snprintf(title, sizeof(title), "ctrace allocation sites of %s (%d)", ct_allocsites_comm(s), (int)pid);
	struct ct_profile_meta m = { title, "uprobe", 0, 0, ct_allocsites_stats(s)->period };
	struct ct_buf out = CT_BUF_INIT;
	if (render(env, s, prof, &m, &out) < 0 || out.err) {
		ct_error("out of memory while writing the report");
		code = CT_EXIT_TARGET;
	} else {
		code = ct_cli_write_output(env, &out);
	}
	ct_buf_free(&out);
	say_stats(env, s, prof);
	const struct ct_allocsites_stats *st = ct_allocsites_stats(s);
	if (st->threads * st->nfn > 100)
		/* the kernel waits for an RCU grace period per uprobe it removes, one at a time */
		ct_warn("removing %zu uprobes (%zu threads x %zu functions): the kernel takes some 30 ms for "
			"each, and the process stays probed until then", st->threads * st->nfn, st->threads, st->nfn);
	ct_allocsites_close(s);
	return code;
}
