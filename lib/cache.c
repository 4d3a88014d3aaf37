/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/banned.h"

const char *ct_cache_dir(void)
{
	static char dir[4096];
	const char *env = getenv("CTRACE_CACHE_DIR");
	if (env) {
		if (!*env || strcmp(env, "off") == 0)
			return NULL;
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg == '/')
		snprintf(dir, sizeof(dir), "%s/ctrace", xdg);
	else if (home && *home == '/')
		snprintf(dir, sizeof(dir), "%s/.cache/ctrace", home);
	else
		return NULL;
	return dir;
}

int ct_cache_dir_ensure(const char *dir)
{
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		(void)mkdir(parent, 0700); /* ~/.cache may not exist yet */
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}
