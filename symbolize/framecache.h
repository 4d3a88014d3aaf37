/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Frames shared by every symbolizer of the run.
 * The frames of a pc depend only on the file it is in and its offset there (and on the options), not
 * on the process: keyed by the mapped file's device and inode (from /proc/PID/maps, the same in every
 * mount namespace) and file offset, one lookup serves every thread, every sample and every process of
 * the run (64 pre-fork workers open and parse libc's debug info once, not 64 times). Code that is not
 * file-backed (JIT, [vdso]) is looked up each time: its address says nothing across processes. */
#ifndef CT_FRAMECACHE_H
#define CT_FRAMECACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model.h"
#include "lib/procfs.h"

/* How an entry's frames were looked up: part of its key, so that a lookup made another way (a return
 * address, other options, tail calls) never shares them. */
enum ct_framecache_flags {
	CT_FC_ACTIVATION = 0x1u,  /* pc exact (frame 0, or interrupted by a signal), not a return address */
	CT_FC_NO_INLINES = 0x2u,  /* inline chains not expanded (--no-inlines) */
	CT_FC_NO_DEMANGLE = 0x4u, /* names as the linker sees them (--no-demangle) */
	CT_FC_TAILCALLS = 0x8u,   /* the frames inferred between a callee and its caller; off2 is set */
	CT_FC_KEYMASK = 0x0fu,    /* the bits above that are part of a key */
	CT_FC_SEEN = 0x20u,       /* appended to a stack in this run; never part of a key */
	CT_FC_USED = 0x80u,       /* the slot holds an entry; never part of a key */
};

struct ct_framecache_entry {
	uint64_t dev, ino, off; /* off: file offset of the looked-up pc (pc - 1 for a return address) */
	uint64_t off2;          /* tail calls: file offset of the caller's return address - 1 */
	unsigned flags;         /* enum ct_framecache_flags */
	unsigned nframes;
	struct ct_frame *frames; /* pcs relative to the base they were stored with */
};

/* Every open symbolizer holds a reference; the cache is dropped when the last one is let go, and
 * then the stores of the files whose lookups added entries are written back (framestore.h). */
void ct_framecache_ref(void);
void ct_framecache_unref(void);

/* File-backed code whose frames can be shared (not JIT, [vdso], or anonymous memory). */
bool ct_framecache_shareable(const struct ct_proc_map *m);
/* The key flags of a lookup (enum ct_framecache_flags, without CT_FC_TAILCALLS). */
unsigned ct_framecache_flags(bool activation, bool no_inlines, bool no_demangle);
/* Makes room for one more entry. False when the cache is full or out of memory: then the lookup is
 * made without it. Moves the entries: a slot taken before is stale after. */
bool ct_framecache_reserve(void);
/* The entry for the key (CT_FC_USED set in its flags), or the free slot where it goes. Call after
 * ct_framecache_reserve returned true. */
struct ct_framecache_entry *ct_framecache_slot(uint64_t dev, uint64_t ino, uint64_t off, uint64_t off2,
					       unsigned flags);
/* Stores fresh's frames (taken over) in the free slot e under the key; their pcs made relative to base. */
void ct_framecache_put(struct ct_framecache_entry *e, const struct ct_proc_map *m, uint64_t off, uint64_t off2,
		       unsigned flags, struct ct_thread *fresh, uint64_t base);
/* Appends copies of e's frames to t, their pcs made absolute again from base. Returns their number
 * or -ENOMEM. */
int ct_framecache_append(struct ct_thread *t, struct ct_framecache_entry *e, uint64_t base);

/* The on-disk store of a file (framestore.h), loaded at the first lookup in the file in a run. */
/* False the first time the file (dev, ino) is asked about in this run (it is then remembered). */
bool ct_framecache_file_known(uint64_t dev, uint64_t ino);
/* Loads the store at store_path into the cache, when it is current for the file (dev, ino as the
 * maps name it; st as fstat of the open file says) of build-id id_hex looked up with debuginfo_path (a store made with no debug file is not used when need_debug: the
 * lookup may find one through debuginfod); its frames get module modname and deleted. Remembers
 * where the file's store goes either way. The number of entries loaded, or -errno (nothing loaded:
 * -ENOENT none there, -ESTALE not current, -EINVAL damaged). */
struct stat;
int ct_framecache_file_load(uint64_t dev, uint64_t ino, const struct stat *st, const char *store_path,
			    const char *id_hex, const char *debuginfo_path, bool need_debug, const char *modname,
			    bool deleted);
/* After a lookup in the file that was not in the cache: the debug file it used (NULL: none, or the
 * file itself), and whether it said something (a warning: nothing of the file is written back then,
 * so that the next run says it too). */
void ct_framecache_file_looked_up(uint64_t dev, uint64_t ino, const char *debugfile, bool warned);
/* How many files' stores were used, and their entries, in this run. */
void ct_framecache_store_stats(uint64_t *ret_files, uint64_t *ret_entries);

#endif
