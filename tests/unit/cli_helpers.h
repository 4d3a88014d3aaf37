/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the unit tests of the command line (header-only). */
#ifndef CT_TEST_CLI_HELPERS_H
#define CT_TEST_CLI_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/util.h"

/* Parses "ctrace LINE", LINE split on single spaces, into a fresh env; returns ct_cli_parse's result. */
static inline int parse(struct ct_env *env, struct ct_buf *err, const char *line)
{
	static char copy[512];
	static char *argv[32];
	int argc = 0;
	snprintf(copy, sizeof(copy), "ctrace %s", line);
	for (char *s = copy; *s && argc < 31;) {
		argv[argc++] = s;
		char *sp = strchr(s, ' ');
		if (!sp)
			break;
		*sp = '\0';
		s = sp + 1;
	}
	argv[argc] = NULL;
	ct_env_init(env);
	ct_buf_reset(err);
	return ct_cli_parse(argc, argv, env, err);
}

/* Whether a usage message is what main() prints as one line: not empty, no newline in it. */
static inline bool one_line(struct ct_buf *err)
{
	const char *s = ct_buf_cstr(err);
	return *s && !strchr(s, '\n');
}

#endif
