/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in: the DEBUGINFOD_URLS servers asked for a module's debug file by build-id. Runs only while
 * symbolizing, after every target thread was resumed; all downloads of one symbolizer share one time
 * budget; libdebuginfod keeps what it fetched in its cache ($DEBUGINFOD_CACHE_PATH or
 * ~/.cache/debuginfod_client). */
#ifndef CT_DEBUGINFOD_H
#define CT_DEBUGINFOD_H

#include <elfutils/debuginfod.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

struct ct_debuginfod {
	bool on;            /* asked for, and not given up in this run */
	uint64_t budget_ns; /* for all downloads together */
	uint64_t deadline;  /* CLOCK_MONOTONIC ns, set by the first download */
	debuginfod_client *client;
};

/* Fetches mod's debug file. Returns an fd and *ret_path (caller frees), or -1. *ret_warning is a
 * line to say (caller frees) when downloads stop for the rest of the run for a reason worth saying
 * (libdebuginfod missing, a server error or the time budget spent; modname names the module asked
 * for), else NULL. A run without a server configured stops silently (d->on is then false). */
int ct_debuginfod_fetch(struct ct_debuginfod *d, Dwfl_Module *mod, const char *modname, char **ret_path,
			char **ret_warning);
void ct_debuginfod_end(struct ct_debuginfod *d);

#endif
