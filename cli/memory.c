/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace -p PID --memory: level 1 (/proc), the allocator, level 2 (glibc arenas), --watch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "memory/alloc.h"
#include "memory/glibc.h"
#include "memory/procmem.h"
#include "report/memory.h"
#include "target/target.h"
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

/* Everything one --memory report holds. */
struct mem_run {
	struct ct_mem_l1 l1;
	struct ct_alloc_info alloc;
	struct ct_glibc_stats *glibc;
	char *note;
	int code;
};

static void mem_run_clear(struct mem_run *m)
{
	ct_mem_l1_clear(&m->l1);
	ct_alloc_info_clear(&m->alloc);
	ct_glibc_stats_free(m->glibc);
	free(m->note);
	memset(m, 0, sizeof(*m));
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return ct_buf_steal(&b);
}

/* Level 2: the allocator and, for glibc, its arenas. Sets m->note and m->code for what went wrong. */
static void read_allocator(const struct ct_env *env, pid_t pid, struct mem_run *m)
{
	struct ct_sym_opts so = { env->debug_dirs, true };
	struct ct_symbolizer *sym = NULL;
	int r = ct_sym_open(pid, &so, &sym);
	if (r < 0) {
		ct_alloc_detect(&m->l1, NULL, &m->alloc);
		m->note = strf("the allocator's statistics were not read: %s", ct_strerror(r));
		m->code = CT_EXIT_PARTIAL;
		return;
	}
	if (ct_alloc_detect(&m->l1, sym, &m->alloc) < 0) {
		ct_sym_close(sym);
		m->code = CT_EXIT_TARGET;
		return;
	}
	switch (m->alloc.kind) {
	case CT_ALLOC_GLIBC:
		break;
	case CT_ALLOC_JEMALLOC:
	case CT_ALLOC_TCMALLOC:
	case CT_ALLOC_MIMALLOC:
		m->note = strf("%s keeps its statistics behind its own API (%s), which only code run inside "
			       "the process can call; ctrace does not do that, so the mappings above are what is known",
			       ct_allocator_name(m->alloc.kind),
			       m->alloc.kind == CT_ALLOC_JEMALLOC ? "mallctl" :
			       m->alloc.kind == CT_ALLOC_TCMALLOC ? "MallocExtension" : "mi_stats");
		ct_sym_close(sym);
		return;
	case CT_ALLOC_UNKNOWN:
		ct_sym_close(sym);
		return;
	}
	if (env->no_arenas) {
		ct_sym_close(sym);
		return;
	}
	if (m->alloc.static_glibc) {
		m->note = strf("glibc is linked statically into the executable; its arenas are read only "
			       "through a shared libc.so.6 with debug information");
		ct_sym_close(sym);
		return;
	}
	char *why = NULL;
	r = ct_glibc_read(pid, sym, m->l1.maps, m->l1.nmaps, NULL, &m->glibc, &why);
	ct_sym_close(sym);
	if (r < 0) {
		m->note = why ? why : strf("malloc's arenas could not be read: %s", ct_strerror(r));
		if (r != -CT_ENODEBUG)
			m->code = CT_EXIT_PARTIAL;
		return;
	}
	free(why);
	if (m->glibc->nheap_ranges)
		ct_mem_l1_regroup(&m->l1, (const uint64_t(*)[2])m->glibc->heap_ranges, m->glibc->nheap_ranges);
	if (m->glibc->approximate)
		m->code = CT_EXIT_PARTIAL;
}

static int one_report(struct ct_env *env, pid_t pid)
{
	uint64_t t0 = ct_now_ns();
	struct mem_run m;
	memset(&m, 0, sizeof(m));
	int r = ct_mem_l1_read(pid, &m.l1);
	if (r < 0)
		return l1_error(pid, r);
	read_allocator(env, pid, &m);
	if (m.code == CT_EXIT_TARGET) {
		ct_error("out of memory");
		mem_run_clear(&m);
		return CT_EXIT_TARGET;
	}
	struct ct_mem_report rep = { &m.l1, &m.alloc, m.glibc, m.note, env->mem_top, ct_now_ns() - t0 };
	struct ct_buf out = CT_BUF_INIT;
	if (env->format == CT_FMT_JSON)
		ct_report_memory_json(&rep, &out);
	else
		ct_report_memory_text(&rep, &out);
	int code;
	if (out.err) {
		ct_error("out of memory while writing the report");
		code = CT_EXIT_TARGET;
	} else {
		code = ct_cli_write_output(env, &out);
	}
	ct_buf_free(&out);
	/* the text report already says it; JSON and -o get it on stderr too */
	bool quiet = env->format != CT_FMT_JSON && !env->output;
	if (code == CT_EXIT_OK && m.note && !quiet)
		ct_warn("%s", m.note);
	if (code == CT_EXIT_OK && m.glibc && m.glibc->approximate)
		ct_warn("malloc's free lists did not hold together while they were read (changing, or corrupt); the arena numbers are approximate");
	if (code == CT_EXIT_OK)
		code = m.code;
	mem_run_clear(&m);
	return code;
}

int cmd_memory(struct ct_env *env)
{
	pid_t pid = env->pids[0];
	int code = ct_cli_check_target(pid);
	if (code)
		return code;
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_TEXT && env->format != CT_FMT_JSON) {
		ct_error("--memory writes text or json, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (env->tid) {
		ct_error("--tid does not apply to --memory: memory belongs to the whole process");
		return CT_EXIT_USAGE;
	}
	return one_report(env, pid);
}
