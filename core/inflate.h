/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compressed cores as systems store them: zstd and lz4 frames (systemd-coredump's core.*.zst and
 * .lz4) and apport crash reports (the CoreDump field: base64 lines of one gzip stream). Inflated
 * into an unlinked temporary file, at most a size cap, and mapped from there. */
#ifndef CT_CORE_INFLATE_H
#define CT_CORE_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/* "zstd", "lz4" or "apport" when data starts like one, else NULL. */
const char *ct_inflate_kind(const void *data, size_t size);
/* Inflates data (of kind) into a new unlinked file in tmpdir (NULL: $TMPDIR, else /var/tmp; memory
 * when neither takes it) of at most max bytes (0: 64 GiB). 0 with *ret_fd (read from offset 0), or
 * -errno with a sentence in *ret_why: -EINVAL (corrupt stream, or no CoreDump in a report), -EFBIG
 * (past max), -ENOSPC, -ENOMEM. */
int ct_inflate_mem(const char *kind, const void *data, size_t size, uint64_t max, const char *tmpdir,
		   int *ret_fd, char **ret_why);
/* Maps fd's whole file read-only (private). 0, or -errno. An empty file maps to NULL, 0. */
int ct_map_fd(int fd, void **ret, size_t *ret_len);

#endif
