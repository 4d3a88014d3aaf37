/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctrace's cache directory (inflated debug files, learnt malloc layouts), shared by all modes. */
#ifndef CT_CACHE_H
#define CT_CACHE_H

/* $CTRACE_CACHE_DIR, else $XDG_CACHE_HOME/ctrace, else $HOME/.cache/ctrace; NULL when none can be
 * named or CTRACE_CACHE_DIR is "" or "off". */
const char *ct_cache_dir(void);

/* Creates dir (and its parent) with mode 0700 and checks it is safe to use: a directory, ours, not
 * writable by group or others. 0 or -errno (-EPERM when it exists but is not safe). */
int ct_cache_dir_ensure(const char *dir);

#endif
