/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the unit tests that fork a child to inspect (header-only). */
#ifndef CT_TEST_PROC_HELPERS_H
#define CT_TEST_PROC_HELPERS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* Polls /proc/PID/syscall for up to a second until the process sits in system call NR. */
static inline bool wait_in_syscall(pid_t pid, long nr)
{
	for (int i = 0; i < 500; i++) {
		char path[64], buf[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		char *end;
		long got = strtol(buf, &end, 10);
		if (end != buf && *end == ' ' && got == nr)
			return true;
		usleep(2000);
	}
	return false;
}

#endif
