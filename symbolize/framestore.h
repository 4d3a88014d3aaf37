/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The frame cache kept on disk: what a file's pcs were looked up to, from one run to the next.
 * Symbolization is most of a snapshot's time: libdw reads a debug file's line tables, aranges and
 * scopes to name a few dozen pcs (91 of bench-python's 110 ms, python3.11-dbg and libc6-dbg). The
 * frames of a pc depend only on the file, its debug file and the options, so they are kept under
 * the cache directory (lib/cache.h), one store per file and debug search path:
 *   CACHE/frames/BUILDID-PATHHASH
 * A store is used only for the very file it was made from (build-id in its name; device, inode,
 * size and mtime in it) and while the debug file it was made with is still the same one (path,
 * device, inode, size, mtime), or, when none was found then, while none has appeared under the
 * debug directories' .build-id trees since. Files without a build-id, and those whose debug file
 * uses a dwz file (.gnu_debugaltlink), are not kept. Stores are written whole, through a
 * temporary file and rename, mode 0600, and read only from a safe directory
 * (ct_cache_dir_ensure) and when they are regular files of ours that nobody else can write; the
 * decoder checks every length against the bytes there are, and a checksum the whole. */
#ifndef CT_FRAMESTORE_H
#define CT_FRAMESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lib/model.h"
#include "lib/util.h"

/* Entries past this are not written (a store stays under a few MB). */
#define CT_FRAMESTORE_MAX_ENTRIES 65536u
/* Frames of one entry (an inline chain, or the functions of a tail-call gap). */
#define CT_FRAMESTORE_MAX_FRAMES 256u
/* A store file is read only up to this size. */
#define CT_FRAMESTORE_MAX_BYTES (64u << 20)

/* A file as stat(2) tells it from its replacement. */
struct ct_framestore_ident {
	uint64_t dev, ino, size, mtime_ns;
};
void ct_framestore_ident_of(const struct stat *st, struct ct_framestore_ident *ret);
bool ct_framestore_ident_eq(const struct ct_framestore_ident *a, const struct ct_framestore_ident *b);

/* What a store's frames were looked up from: the file itself (file: a copy of it, stripped or not,
 * with the same build-id is another file) and its debug file (path and id; path NULL: none was
 * found, or the DWARF is in the file). */
struct ct_framestore_debug {
	char *path;
	struct ct_framestore_ident id, file;
};

/* One entry: the frame cache's key (framecache.h) and its frames, pcs relative to the looked-up pc
 * and module NULL (both are the reader's to set). */
struct ct_framestore_entry {
	uint64_t off, off2;
	unsigned flags;
	unsigned nframes;
	struct ct_frame *frames;
};

/* Appends the store of n entries made with dbg to out. 0 or -ENOMEM; -E2BIG for an entry of more
 * than CT_FRAMESTORE_MAX_FRAMES frames or n over CT_FRAMESTORE_MAX_ENTRIES. */
int ct_framestore_encode(const struct ct_framestore_debug *dbg, const struct ct_framestore_entry *v, size_t n,
			 struct ct_buf *out);
/* Decodes a store of len bytes. 0, -EINVAL (not a store of this version, or damaged: nothing is
 * returned) or -ENOMEM. Frees with ct_framestore_free. */
int ct_framestore_decode(const void *data, size_t len, struct ct_framestore_debug *ret_dbg,
			 struct ct_framestore_entry **ret, size_t *ret_n);
void ct_framestore_free(struct ct_framestore_debug *dbg, struct ct_framestore_entry *v, size_t n);

/* The store's path for a file of build-id id_hex looked up with debuginfo_path, into out; -ENOENT
 * when there is no cache directory (CTRACE_CACHE_DIR=off). */
int ct_framestore_path(const char *id_hex, const char *debuginfo_path, struct ct_buf *out);

/* The debug file at path (NULL: none) into ret's path and id (its file left as it is). 0 or -errno. */
int ct_framestore_debug_of(const char *path, struct ct_framestore_debug *ret);
/* Whether frames looked up with dbg are still what a lookup would give now: its debug file is the
 * same, or (none then) no DIR/.build-id/xx/rest.debug exists now for the absolute DIRs of
 * debuginfo_path. */
bool ct_framestore_debug_current(const struct ct_framestore_debug *dbg, const char *id_hex,
				 const char *debuginfo_path);

/* Reads the store at path: -ENOENT when there is none, -EPERM when it is not a regular file of
 * ours that only we can write, else as ct_framestore_decode. */
int ct_framestore_read(const char *path, struct ct_framestore_debug *ret_dbg, struct ct_framestore_entry **ret,
		       size_t *ret_n);
/* Writes data as the store at path (its directory made safe first). 0 or -errno. */
int ct_framestore_write(const char *path, const void *data, size_t len);

#endif
