/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/boost.h"
#include "lib/heap.h"
#include "lib/banned.h"

static int refuse_setuid(void)
{
	/* ctrace reads files the target controls; as a set-uid program it would let any user read
	 * and stop any process. */
	if (getuid() != geteuid() || getgid() != getegid()) {
		ct_error("ctrace must not run set-uid or set-gid; remove the bit (chmod u-s,g-s) and run "
			 "it as root or with CAP_SYS_PTRACE");
		return 1;
	}
	return 0;
}

/* debuginfod is on with --debuginfod or with DEBUGINFOD_URLS set (as for gdb and eu-stack), in
 * every mode that names frames; the network is used only then. */
static void resolve_debuginfod(struct ct_env *env)
{
	if (!ct_cli_names_frames(env))
		return;
	const char *urls = getenv("DEBUGINFOD_URLS");
	bool have_urls = urls && *urls;
	if (env->debuginfod && !have_urls)
		ct_warn("--debuginfod: DEBUGINFOD_URLS is not set, so there is no server to ask "
			"(e.g. DEBUGINFOD_URLS=https://debuginfod.debian.net)");
	env->debuginfod = env->debuginfod || have_urls;
}

/* A snapshot of a live process (--backtraces, --threads) keeps the early boost until it ends. */
static bool keeps_early_boost(const struct ct_env *env)
{
	return (env->mode == CT_MODE_BACKTRACES || env->mode == CT_MODE_THREADS) && !env->core;
}

int main(int argc, char **argv)
{
	/* First of all: on a machine the target saturates, ctrace at nice 0 waits for a CPU at every
	 * step, and the steps before the first stop (options, /proc checks, the modules) took seconds
	 * with 1000 spinning threads on 2 CPUs. nice -20 for this thread (lib/boost.h: never the
	 * target's scheduling, a weight and not a real-time policy, so it never starves the machine);
	 * dropped again at once by the modes that do not take a live snapshot. */
	struct ct_boost early;
	ct_boost_begin_nice_at(&early, CT_BOOST_NICE_SNAPSHOT);
	(void)ct_heap_prepare(); /* refused: the heap as glibc makes it, only slower */
	if (refuse_setuid())
		return CT_EXIT_USAGE;
	struct ct_env env;
	ct_env_init(&env);
	struct ct_buf err = CT_BUF_INIT;
	int code = ct_cli_parse(argc, argv, &env, &err);
	if (code) {
		ct_error("%s", ct_buf_cstr(&err));
		ct_buf_free(&err);
		return code;
	}
	ct_buf_free(&err);
	if (!keeps_early_boost(&env))
		ct_boost_end(&early);
	resolve_debuginfod(&env);
	switch (env.mode) {
	case CT_MODE_HELP: {
		struct ct_buf help = CT_BUF_INIT;
		ct_cli_help(&env, &help);
		fputs(ct_buf_cstr(&help), stdout);
		ct_buf_free(&help);
		return CT_EXIT_OK;
	}
	case CT_MODE_VERSION:
		return cmd_version(&env);
	case CT_MODE_BACKTRACES:
		return cmd_backtraces(&env);
	case CT_MODE_THREADS:
		return cmd_threads(&env);
	case CT_MODE_ANALYZE:
		return cmd_analyze(&env);
	case CT_MODE_MEMORY:
		return cmd_memory(&env);
	case CT_MODE_PROFILE:
		return cmd_profile(&env);
	case CT_MODE_MERGE:
		return cmd_merge(&env);
	case CT_MODE_TOP:
		return cmd_top(&env);
	default:
		ct_error("this mode is not available in this build (see ctrace --help)");
		return CT_EXIT_USAGE;
	}
}
