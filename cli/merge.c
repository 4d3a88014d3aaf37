/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace merge [-o FILE] [--format folded|pprof|speedscope] FILE…: profiles of several processes or
 * hosts summed into one. Each file's format is told by its content; a file that cannot be read is
 * skipped (said on stderr, exit 2) and the others are merged. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/detect.h"
#include "cli/cli.h"
#include "formats/folded.h"
#include "formats/pprof.h"
#include "formats/speedscope.h"
#include "lib/error.h"
#include "report/report.h"
#include "lib/banned.h"

struct input {
	const char *name;
	enum ct_pformat fmt;
	struct ct_profile *prof;
};

/* Reads and parses one file; says why on stderr and returns false when it cannot. */
static bool read_input(const struct ct_env *env, const struct ct_pread_limits *lim, struct input *in)
{
	bool is_stdin = strcmp(in->name, "-") == 0;
	const char *shown = is_stdin ? "standard input" : in->name;
	char *data = NULL;
	size_t len = 0;
	int r = ct_read_file(is_stdin ? "/dev/stdin" : in->name, lim->max_bytes, &data, &len);
	if (r < 0) {
		if (r == -EFBIG)
			ct_error("%s is larger than %zu MiB; skipped", shown, lim->max_bytes >> 20);
		else
			ct_error("cannot read %s: %s; skipped", shown, ct_strerror(r));
		return false;
	}
	struct ct_pread_error err;
	r = ct_pread(data, len, lim, &in->fmt, &in->prof, &err);
	free(data);
	if (r < 0) {
		const char *msg = err.msg[0] ? err.msg : ct_strerror(r);
		if (err.line)
			ct_error("%s:%zu: %s (read as %s); skipped", shown, err.line, msg, ct_pformat_name(in->fmt));
		else
			ct_error("%s: %s (read as %s); skipped", shown, msg, ct_pformat_name(in->fmt));
		return false;
	}
	ct_verbose(env, "%s: %s, %" PRIu64 " samples in %zu stacks", shown, ct_pformat_name(in->fmt),
		   in->prof->total, in->prof->nstacks);
	return true;
}

static int out_format(const struct ct_env *env, const struct input *in, size_t n, enum ct_format *ret)
{
	static const enum ct_format of[] = { [CT_PFMT_FOLDED] = CT_FMT_FOLDED, [CT_PFMT_PPROF] = CT_FMT_PPROF,
					     [CT_PFMT_SPEEDSCOPE] = CT_FMT_SPEEDSCOPE };
	if (env->format != CT_FMT_DEFAULT) {
		*ret = env->format;
		return CT_EXIT_OK;
	}
	const struct input *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].prof)
			continue;
		if (first && in[i].fmt != first->fmt) {
			ct_error("%s is %s and %s is %s: say which to write with --format folded, pprof or "
				 "speedscope", first->name, ct_pformat_name(first->fmt), in[i].name,
				 ct_pformat_name(in[i].fmt));
			return CT_EXIT_USAGE;
		}
		first = first ? first : &in[i];
	}
	*ret = of[first->fmt];
	return CT_EXIT_OK;
}

int cmd_merge(struct ct_env *env)
{
	if (env->npids) {
		ct_error("merge reads profile files; -p is for live processes");
		return CT_EXIT_USAGE;
	}
	if (env->format != CT_FMT_DEFAULT && env->format != CT_FMT_FOLDED && env->format != CT_FMT_PPROF &&
	    env->format != CT_FMT_SPEEDSCOPE) {
		ct_error("merge writes --format folded, pprof or speedscope, not %s", ct_format_name(env->format));
		return CT_EXIT_USAGE;
	}
	if (!env->nargs) {
		ct_error("merge wants profile files: ctrace merge [-o FILE] [--format FORMAT] FILE...");
		return CT_EXIT_USAGE;
	}
	struct ct_pread_limits lim;
	ct_pread_limits_default(&lim);
	struct input *in = calloc(env->nargs, sizeof(*in));
	if (!in) {
		ct_error("out of memory");
		return CT_EXIT_TARGET;
	}
	size_t ok = 0, stdin_uses = 0;
	for (size_t i = 0; i < env->nargs; i++) {
		in[i].name = env->args[i];
		if (strcmp(in[i].name, "-") == 0 && stdin_uses++) {
			ct_error("standard input (-) is given twice; it can be read once");
			continue;
		}
		ok += read_input(env, &lim, &in[i]);
	}
	int code = ok ? CT_EXIT_OK : CT_EXIT_TARGET;
	if (!ok)
		ct_error("no profile could be read; nothing written");
	enum ct_format fmt = CT_FMT_FOLDED;
	if (ok)
		code = out_format(env, in, env->nargs, &fmt);
	/* folded stacks are names only; speedscope has no process label; pprof keeps everything */
	unsigned flags = fmt == CT_FMT_PPROF ? CT_MERGE_LABELS :
			 fmt == CT_FMT_FOLDED ? CT_MERGE_NAMES_ONLY | CT_MERGE_ROOT_PLAIN : CT_MERGE_ROOT_PLAIN;
	struct ct_profile *all = NULL;
	if (code == CT_EXIT_OK && ct_profile_new(&all) < 0)
		code = CT_EXIT_TARGET;
	size_t timed = 0, untimed = 0, wall = 0;
	for (size_t i = 0; code == CT_EXIT_OK && i < env->nargs; i++) {
		const struct ct_profile *p = in[i].prof;
		if (!p)
			continue;
		timed += p->total_weight > 0;
		untimed += p->total_weight == 0;
		wall += p->wall;
		int r = ct_profile_merge(all, p, flags);
		if (r < 0) {
			ct_error("cannot add %s: %s", in[i].name, r == -EOVERFLOW ? "the sample counts add up "
				 "beyond 2^64" : ct_strerror(r));
			code = CT_EXIT_TARGET;
		}
	}
	if (code == CT_EXIT_OK && timed && untimed && fmt != CT_FMT_FOLDED)
		ct_warn("%zu of the profiles have no times (folded stacks): the merged times cover only the "
			"others; the sample counts cover all", untimed);
	if (code == CT_EXIT_OK && wall && wall < ok)
		ct_warn("CPU and wall-clock profiles merged: their times add up as if they were one kind");
	if (code == CT_EXIT_OK) {
		char title[64];
		snprintf(title, sizeof(title), "ctrace merge of %zu profile%s", ok, ok == 1 ? "" : "s");
		struct ct_buf out = CT_BUF_INIT;
		ct_profile_sort(all);
		if (fmt == CT_FMT_PPROF)
			ct_pwrite_pprof(all, &out);
		else if (fmt == CT_FMT_SPEEDSCOPE)
			ct_pwrite_speedscope(all, title, &out);
		else
			ct_pwrite_folded(all, &out);
		code = ct_cli_write_output(env, &out);
		ct_buf_free(&out);
		ct_verbose(env, "merged %zu of %zu profiles: %" PRIu64 " samples, %zu stacks, %zu frames", ok,
			   env->nargs, all->total, all->nstacks, all->nframes);
		if (code == CT_EXIT_OK && ok < env->nargs)
			code = CT_EXIT_PARTIAL;
	}
	ct_profile_free(all);
	for (size_t i = 0; i < env->nargs; i++)
		ct_profile_free(in[i].prof);
	free(in);
	return code;
}
