/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/framecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symbolize/framestore.h"
#include "lib/banned.h"

#define CT_FC_MAX (1u << 20) /* entries; past it, lookups are not remembered */

/* A file seen in this run, and its store on disk (framestore.h). */
struct file {
	uint64_t dev, ino;            /* as /proc/PID/maps names it (dbg.file: as fstat does; they
				       * disagree on overlayfs) */
	char *store_path;             /* NULL: not kept (no build-id, no cache directory) */
	struct ct_framestore_debug dbg; /* the file and the debug file its entries were looked up with */
	bool dbg_known;               /* dbg's debug file set: by the store loaded, or a lookup */
	bool dirty;                   /* entries added by lookups in this run */
	bool tainted;                 /* a lookup warned, or used another debug file: not written */
};

/* The one piece of mutable file-scope state in symbolize/, and on purpose: the cache is shared by
 * every symbolizer open at the same time (several processes, the profiler's and the snapshot's), so
 * that no file is parsed twice in a run. Not thread-safe, as the symbolizers using it are not. */
static struct {
	struct ct_framecache_entry *v;
	size_t cap, n;
	unsigned users; /* open symbolizers; the cache is dropped when the last one closes */
	struct file *files;
	size_t nfiles, cap_files;
	uint64_t store_files, store_entries; /* stores used, entries loaded from them */
} share;

static size_t share_hash(uint64_t dev, uint64_t ino, uint64_t off, uint64_t off2, unsigned flags)
{
	uint64_t x = (off * 0x9e3779b97f4a7c15ull) ^ (ino * 0xff51afd7ed558ccdull) ^ (dev << 17) ^ flags ^
		     (off2 * 0x94d049bb133111ebull);
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x;
}

static struct ct_framecache_entry *share_slot(struct ct_framecache_entry *v, size_t cap, uint64_t dev,
					      uint64_t ino, uint64_t off, uint64_t off2, unsigned flags)
{
	size_t mask = cap - 1;
	for (size_t i = share_hash(dev, ino, off, off2, flags) & mask;; i = (i + 1) & mask) {
		struct ct_framecache_entry *e = &v[i];
		if (!(e->flags & CT_FC_USED) || (e->dev == dev && e->ino == ino && e->off == off && e->off2 == off2 &&
						 (e->flags & (CT_FC_KEYMASK | CT_FC_USED)) == (flags | CT_FC_USED)))
			return e;
	}
}

static struct file *find_file(uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < share.nfiles; i++)
		if (share.files[i].dev == dev && share.files[i].ino == ino)
			return &share.files[i];
	return NULL;
}

/* Writes f's entries back to its store: every one, or when there are too many, those of this run. */
static void save_file(const struct file *f)
{
	size_t n = 0, seen = 0;
	for (size_t i = 0; i < share.cap; i++) {
		const struct ct_framecache_entry *e = &share.v[i];
		if ((e->flags & CT_FC_USED) && e->dev == f->dev && e->ino == f->ino) {
			n++;
			seen += (e->flags & CT_FC_SEEN) != 0;
		}
	}
	bool only_seen = n > CT_FRAMESTORE_MAX_ENTRIES;
	if (only_seen)
		n = CT_FRAMESTORE_MAX_ENTRIES < seen ? CT_FRAMESTORE_MAX_ENTRIES : seen;
	struct ct_framestore_entry *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < share.cap && k < n; i++) {
		const struct ct_framecache_entry *e = &share.v[i];
		if ((e->flags & CT_FC_USED) && e->dev == f->dev && e->ino == f->ino &&
		    (!only_seen || (e->flags & CT_FC_SEEN)) && e->nframes <= CT_FRAMESTORE_MAX_FRAMES)
			v[k++] = (struct ct_framestore_entry){ e->off, e->off2, e->flags & CT_FC_KEYMASK, e->nframes,
							       e->frames };
	}
	struct ct_buf b = CT_BUF_INIT;
	if (ct_framestore_encode(&f->dbg, v, k, &b) == 0)
		(void)ct_framestore_write(f->store_path, b.data, b.len); /* a cache: the next run looks up again */
	ct_buf_free(&b);
	free(v); /* the frames are the cache's */
}

static void share_drop(void)
{
	for (size_t i = 0; i < share.nfiles; i++) {
		struct file *f = &share.files[i];
		if (f->store_path && f->dirty && !f->tainted && f->dbg_known)
			save_file(f);
		free(f->store_path);
		free(f->dbg.path);
	}
	free(share.files);
	for (size_t i = 0; i < share.cap; i++)
		if (share.v[i].flags & CT_FC_USED) {
			for (unsigned j = 0; j < share.v[i].nframes; j++)
				ct_frame_clear(&share.v[i].frames[j]);
			free(share.v[i].frames);
		}
	free(share.v);
	memset(&share, 0, sizeof(share));
}

void ct_framecache_ref(void)
{
	share.users++;
}

void ct_framecache_unref(void)
{
	if (--share.users == 0)
		share_drop();
}

bool ct_framecache_shareable(const struct ct_proc_map *m)
{
	return m && m->path && m->inode && m->path[0] != '[';
}

unsigned ct_framecache_flags(bool activation, bool no_inlines, bool no_demangle)
{
	return (activation ? CT_FC_ACTIVATION : 0) | (no_inlines ? CT_FC_NO_INLINES : 0) |
	       (no_demangle ? CT_FC_NO_DEMANGLE : 0);
}

bool ct_framecache_reserve(void)
{
	if (share.n * 2 < share.cap)
		return true;
	if (share.n >= CT_FC_MAX)
		return false;
	size_t ncap = share.cap ? share.cap * 2 : 512;
	struct ct_framecache_entry *nv = calloc(ncap, sizeof(*nv));
	if (!nv)
		return false;
	for (size_t i = 0; i < share.cap; i++) {
		struct ct_framecache_entry *e = &share.v[i];
		if (e->flags & CT_FC_USED)
			*share_slot(nv, ncap, e->dev, e->ino, e->off, e->off2, e->flags & CT_FC_KEYMASK) = *e;
	}
	free(share.v);
	share.v = nv;
	share.cap = ncap;
	return true;
}

struct ct_framecache_entry *ct_framecache_slot(uint64_t dev, uint64_t ino, uint64_t off, uint64_t off2,
					       unsigned flags)
{
	return share_slot(share.v, share.cap, dev, ino, off, off2, flags);
}

void ct_framecache_put(struct ct_framecache_entry *e, const struct ct_proc_map *m, uint64_t off, uint64_t off2,
		       unsigned flags, struct ct_thread *fresh, uint64_t base)
{
	for (size_t i = 0; i < fresh->nframes; i++)
		fresh->frames[i].pc -= base;
	*e = (struct ct_framecache_entry){ m->dev, m->inode, off, off2, flags | CT_FC_USED,
					   (unsigned)fresh->nframes, fresh->frames };
	share.n++;
	struct file *f = find_file(m->dev, m->inode);
	if (f)
		f->dirty = true;
}

int ct_framecache_append(struct ct_thread *t, struct ct_framecache_entry *e, uint64_t base)
{
	e->flags |= CT_FC_SEEN;
	size_t first = t->nframes;
	if (ct_thread_append_frames(t, e->frames, e->nframes) < 0)
		return -ENOMEM;
	for (size_t i = first; i < t->nframes; i++)
		t->frames[i].pc += base; /* the same code may sit at another address in this process */
	return (int)e->nframes;
}

bool ct_framecache_file_known(uint64_t dev, uint64_t ino)
{
	if (find_file(dev, ino))
		return true;
	if (ct_grow(&share.files, &share.cap_files, share.nfiles + 1, sizeof(*share.files)) < 0)
		return true; /* out of memory: as if known, nothing stored */
	share.files[share.nfiles++] = (struct file){ .dev = dev, .ino = ino };
	return false;
}

/* Puts a stored entry in the cache unless a lookup of this run has it already; false when full. */
static bool load_entry(uint64_t dev, uint64_t ino, struct ct_framestore_entry *se, const char *modname, bool deleted)
{
	if ((se->flags & ~CT_FC_KEYMASK) || !ct_framecache_reserve())
		return false;
	struct ct_framecache_entry *e = share_slot(share.v, share.cap, dev, ino, se->off, se->off2, se->flags);
	if (e->flags & CT_FC_USED)
		return true;
	for (unsigned j = 0; j < se->nframes; j++) {
		if (!(se->frames[j].module = strdup(modname)))
			return false;
		se->frames[j].deleted = deleted;
	}
	*e = (struct ct_framecache_entry){ dev, ino, se->off, se->off2, se->flags | CT_FC_USED, se->nframes,
					   se->frames };
	se->frames = NULL; /* the cache's now */
	se->nframes = 0;
	share.n++;
	share.store_entries++;
	return true;
}

int ct_framecache_file_load(uint64_t dev, uint64_t ino, const struct stat *st, const char *store_path,
			    const char *id_hex, const char *debuginfo_path, bool need_debug, const char *modname,
			    bool deleted)
{
	struct file *f = find_file(dev, ino);
	if (!f || f->store_path)
		return -EINVAL;
	if (!(f->store_path = strdup(store_path)))
		return -ENOMEM;
	ct_framestore_ident_of(st, &f->dbg.file);
	struct ct_framestore_debug dbg;
	struct ct_framestore_entry *v;
	size_t n;
	int r = ct_framestore_read(store_path, &dbg, &v, &n);
	if (r < 0)
		return r;
	if (!ct_framestore_ident_eq(&dbg.file, &f->dbg.file) || (need_debug && !dbg.path) ||
	    !ct_framestore_debug_current(&dbg, id_hex, debuginfo_path)) {
		ct_framestore_free(&dbg, v, n);
		return -ESTALE; /* written again from this run's lookups */
	}
	size_t loaded = 0;
	for (size_t i = 0; i < n && load_entry(dev, ino, &v[i], modname, deleted); i++)
		loaded++;
	ct_framestore_free(NULL, v, n);
	f->dbg = dbg; /* path taken over; its file is f's, compared above */
	f->dbg_known = true;
	share.store_files++;
	return (int)loaded;
}

void ct_framecache_file_looked_up(uint64_t dev, uint64_t ino, const char *debugfile, bool warned)
{
	struct file *f = find_file(dev, ino);
	if (!f || f->tainted)
		return;
	if (warned) {
		f->tainted = true;
		return;
	}
	if (!f->dbg_known) {
		f->dbg_known = ct_framestore_debug_of(debugfile, &f->dbg) == 0;
		f->tainted = !f->dbg_known;
	} else if ((debugfile == NULL) != (f->dbg.path == NULL) ||
		   (debugfile && strcmp(debugfile, f->dbg.path) != 0)) {
		f->tainted = true; /* looked up with another debug file than the stored entries */
	}
}

void ct_framecache_store_stats(uint64_t *ret_files, uint64_t *ret_entries)
{
	*ret_files = share.store_files;
	*ret_entries = share.store_entries;
}
