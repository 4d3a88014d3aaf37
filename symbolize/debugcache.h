/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A cache of debug files with their compressed sections inflated, keyed by build-id.
 * Distributions ship debug files with zlib-compressed .debug_* sections, and libdw inflates every
 * one of them when it opens the file: for glibc that is ~100 ms of CPU on each run. The first run
 * writes an uncompressed copy under the cache directory; later runs map that copy directly. */
#ifndef CT_DEBUGCACHE_H
#define CT_DEBUGCACHE_H

#include <stddef.h>

/* Given fd, an open debug file, returns an fd of its uncompressed copy (taking ownership of fd and
 * closing it), or fd itself when it has no compressed section or the cache cannot be used.
 * *ret_path is set to the copy's path when one is returned (caller frees). Never fails harder than
 * returning fd unchanged; *ret_err is -errno when a copy was worth making but the cache could not
 * keep it (its directory unsafe or not ours, the disk full), else 0. A copy in the cache is used
 * only from a safe directory and when it is a regular file of ours nobody else can write. */
int ct_debugcache_open(int fd, char **ret_path, int *ret_err);

/* Looks for mod's separate debug file by build-id: first the inflated copy in the cache, then
 * DIR/.build-id/xx/rest.debug for each absolute DIR of the ':'-separated debuginfo path (inflating
 * it into the cache when it has compressed sections). Returns an fd and *ret_name, or -1 when there
 * is nothing to find this way (then the caller searches by .gnu_debuglink as usual); *ret_err as
 * for ct_debugcache_open (a file found but not cached is still returned).
 * This must run before dwfl_standard_find_debuginfo, which keeps its own handle on the file. */
struct Dwfl_Module;
int ct_debugcache_find(struct Dwfl_Module *mod, const char *debuginfo_path, char **ret_name,
		       int *ret_err);

/* Writes an uncompressed copy of the ELF file open at fd to path (through a temporary file and
 * rename). 0 or -errno. Exposed for tests. */
int ct_debugcache_inflate(int fd, const char *path);

#endif
