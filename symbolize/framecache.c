/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/framecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

#define CT_FC_MAX (1u << 20) /* entries; past it, lookups are not remembered */

/* The one piece of mutable file-scope state in symbolize/, and on purpose: the cache is shared by
 * every symbolizer open at the same time (several processes, the profiler's and the snapshot's), so
 * that no file is parsed twice in a run. Not thread-safe, as the symbolizers using it are not. */
static struct {
	struct ct_framecache_entry *v;
	size_t cap, n;
	unsigned users; /* open symbolizers; the cache is dropped when the last one closes */
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
		if (!(e->flags & CT_FC_USED) || (e->dev == dev && e->ino == ino && e->off == off &&
						 e->off2 == off2 && e->flags == (flags | CT_FC_USED)))
			return e;
	}
}

static void share_drop(void)
{
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
			*share_slot(nv, ncap, e->dev, e->ino, e->off, e->off2, e->flags & ~CT_FC_USED) = *e;
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
}

int ct_framecache_append(struct ct_thread *t, const struct ct_framecache_entry *e, uint64_t base)
{
	size_t first = t->nframes;
	if (ct_thread_append_frames(t, e->frames, e->nframes) < 0)
		return -ENOMEM;
	for (size_t i = first; i < t->nframes; i++)
		t->frames[i].pc += base; /* the same code may sit at another address in this process */
	return (int)e->nframes;
}
