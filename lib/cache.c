/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/cache.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
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

int ct_cache_open(const char *path, size_t max_bytes)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    (max_bytes && (uint64_t)st.st_size > max_bytes)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int ct_cache_write(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = 0;
	size_t done = 0;
	while (done < len && r == 0) {
		ssize_t k = write(fd, (const char *)data + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = k < 0 ? -errno : -EIO;
		else
			done += (size_t)k;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
