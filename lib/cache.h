/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's cache directory (inflated debug files, learnt malloc layouts), shared by all modes. */
#ifndef CT_CACHE_H
#define CT_CACHE_H

#include <stddef.h>

/* $CTRACE_CACHE_DIR, else $XDG_CACHE_HOME/ctrace, else $HOME/.cache/ctrace; NULL when none can be
 * named or CTRACE_CACHE_DIR is "" or "off". */
const char *ct_cache_dir(void);

/* Creates dir (and its parent) with mode 0700 and checks it is safe to use: a directory, ours, not
 * writable by group or others. 0 or -errno (-EPERM when it exists but is not safe). */
int ct_cache_dir_ensure(const char *dir);

/* Opens a file of the cache to read: used only when it is a regular file of the user's that no
 * one else can write (FILES in ctrace(1)) and, when max_bytes is not 0, of at most max_bytes. An
 * fd, -EPERM when the file is not safe or too large, or open's -errno (-ELOOP for a symlink). */
int ct_cache_open(const char *path, size_t max_bytes);

/* Replaces path with len bytes of data at once: written to a temporary file of mode 0600 beside
 * it, then renamed over it (a reader sees the old file or the new one, never a part). 0 or -errno;
 * nothing is left behind on failure. The directory must exist (ct_cache_dir_ensure). */
int ct_cache_write(const char *path, const void *data, size_t len);

#endif
