/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace --version: what this build is and which backends work on this machine. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <libunwind.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "lib/banned.h"

#ifndef CT_VERSION
#define CT_VERSION "0.0.0"
#endif
#ifndef CT_GIT_REV
#define CT_GIT_REV "unknown"
#endif

/* Opens a disabled software counter on ctrace itself and closes it at once: the cheapest way to
 * learn whether the kernel has perf_event_open and lets this user use it. Returns 0 or -errno. */
static int perf_event_probe(void)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.disabled = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

static void print_perf_event(void)
{
	_cleanup_free_ char *paranoid = NULL;
	char level[24] = "?";
	long v;
	if (ct_read_file("/proc/sys/kernel/perf_event_paranoid", 64, &paranoid, NULL) == 0 &&
	    ct_parse_long(ct_rstrip(paranoid), INT_MIN, INT_MAX, &v) == 0)
		snprintf(level, sizeof(level), "%ld", v);
	int r = perf_event_probe();
	if (r == 0)
		printf("perf_event: available (kernel.perf_event_paranoid %s)\n", level);
	else if (r == -EACCES || r == -EPERM)
		printf("perf_event: not permitted (kernel.perf_event_paranoid %s; needs CAP_PERFMON or a "
		       "lower setting)\n", level);
	else
		printf("perf_event: unavailable (%s)\n", strerror(-r));
}

int cmd_version(struct ct_env *env)
{
	const char *dw = dwfl_version(NULL);
	printf("ctrace %s (git %s)\n", CT_VERSION, CT_GIT_REV);
	printf("unwinders: libdw (elfutils %s), libunwind %d.%d, fp (frame pointers)\n", dw ? dw : "?",
	       UNW_VERSION_MAJOR, UNW_VERSION_MINOR);
	printf("symbols: libdw/libelf (elfutils %s)\n", dw ? dw : "?");
	print_perf_event();
	return CT_EXIT_OK;
}
