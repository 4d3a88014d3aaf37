/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/framestore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cache.h"
#include "lib/banned.h"

/* The layout, host byte order (a store is read on the machine that wrote it):
 *   "CTFSTOR2", u32 entries, u32 debug path length (0: none), u64 dev, ino, size, mtime_ns, the
 *   file's u64 dev, ino, size, mtime_ns, the debug path;
 *   per entry: u64 off, off2, u32 flags, nframes; per frame: u64 pc, offset, i32 line, u32 bits,
 *   u32 function length, file length, the two strings (no NUL);
 *   then u64 FNV-1a of everything before it. */
static const char magic[8] = "CTFSTOR2";
#define MAX_STRING (64u << 10)
#define BIT_INLINED 0x1u
#define BIT_FUNCTION 0x2u
#define BIT_FILE 0x4u

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int put_u32(struct ct_buf *b, uint32_t v) { return ct_buf_append(b, &v, sizeof(v)); }
static int put_u64(struct ct_buf *b, uint64_t v) { return ct_buf_append(b, &v, sizeof(v)); }
static int put_ident(struct ct_buf *b, const struct ct_framestore_ident *id)
{
	return put_u64(b, id->dev) < 0 || put_u64(b, id->ino) < 0 || put_u64(b, id->size) < 0 ||
	       put_u64(b, id->mtime_ns) < 0 ? -ENOMEM : 0;
}

static int put_frame(struct ct_buf *b, const struct ct_frame *f)
{
	size_t fl = f->function ? strlen(f->function) : 0, sl = f->file ? strlen(f->file) : 0;
	if (fl > MAX_STRING || sl > MAX_STRING)
		return -E2BIG;
	uint32_t bits = (f->inlined ? BIT_INLINED : 0) | (f->function ? BIT_FUNCTION : 0) | (f->file ? BIT_FILE : 0);
	int32_t line = f->line;
	if (put_u64(b, f->pc) < 0 || put_u64(b, f->offset) < 0 || ct_buf_append(b, &line, sizeof(line)) < 0 ||
	    put_u32(b, bits) < 0 || put_u32(b, (uint32_t)fl) < 0 || put_u32(b, (uint32_t)sl) < 0 ||
	    ct_buf_append(b, f->function, fl) < 0 || ct_buf_append(b, f->file, sl) < 0)
		return -ENOMEM;
	return 0;
}

int ct_framestore_encode(const struct ct_framestore_debug *dbg, const struct ct_framestore_entry *v, size_t n,
			 struct ct_buf *out)
{
	if (n > CT_FRAMESTORE_MAX_ENTRIES)
		return -E2BIG;
	size_t start = out->len, pl = dbg->path ? strlen(dbg->path) : 0;
	if (pl > 4096)
		return -E2BIG;
	if (ct_buf_append(out, magic, sizeof(magic)) < 0 || put_u32(out, (uint32_t)n) < 0 ||
	    put_u32(out, (uint32_t)pl) < 0 || put_ident(out, &dbg->id) < 0 || put_ident(out, &dbg->file) < 0 ||
	    ct_buf_append(out, dbg->path, pl) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (v[i].nframes > CT_FRAMESTORE_MAX_FRAMES)
			return -E2BIG;
		if (put_u64(out, v[i].off) < 0 || put_u64(out, v[i].off2) < 0 || put_u32(out, v[i].flags) < 0 ||
		    put_u32(out, v[i].nframes) < 0)
			return -ENOMEM;
		for (unsigned j = 0; j < v[i].nframes; j++) {
			int r = put_frame(out, &v[i].frames[j]);
			if (r < 0)
				return r;
		}
	}
	if (out->err)
		return out->err;
	return put_u64(out, fnv1a(out->data + start, out->len - start));
}

/* A cursor over the bytes of a store: every read checks what is left. */
struct rd {
	const unsigned char *p;
	size_t left;
};

static bool get(struct rd *r, void *dst, size_t n)
{
	if (n > r->left)
		return false;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static bool get_ident(struct rd *r, struct ct_framestore_ident *id)
{
	return get(r, &id->dev, 8) && get(r, &id->ino, 8) && get(r, &id->size, 8) && get(r, &id->mtime_ns, 8);
}

/* A string of n bytes with no NUL in it, copied; *ret stays NULL for n == 0 unless want. */
static int get_string(struct rd *r, uint32_t n, bool want, char **ret)
{
	*ret = NULL;
	if (n > MAX_STRING || n > r->left || memchr(r->p, '\0', n))
		return -EINVAL;
	if (!want)
		return n == 0 ? 0 : -EINVAL;
	if (!(*ret = strndup((const char *)r->p, n)))
		return -ENOMEM;
	r->p += n;
	r->left -= n;
	return 0;
}

static int get_frame(struct rd *r, struct ct_frame *f)
{
	uint32_t bits, fl, sl;
	int32_t line;
	memset(f, 0, sizeof(*f));
	if (!get(r, &f->pc, 8) || !get(r, &f->offset, 8) || !get(r, &line, 4) || !get(r, &bits, 4) ||
	    !get(r, &fl, 4) || !get(r, &sl, 4) || (bits & ~(BIT_INLINED | BIT_FUNCTION | BIT_FILE)) || line < 0)
		return -EINVAL;
	f->line = line;
	f->inlined = bits & BIT_INLINED;
	int e = get_string(r, fl, bits & BIT_FUNCTION, &f->function);
	if (e == 0)
		e = get_string(r, sl, bits & BIT_FILE, &f->file);
	return e;
}

void ct_framestore_free(struct ct_framestore_debug *dbg, struct ct_framestore_entry *v, size_t n)
{
	if (dbg) {
		free(dbg->path);
		dbg->path = NULL;
	}
	for (size_t i = 0; v && i < n; i++) {
		for (unsigned j = 0; j < v[i].nframes; j++)
			ct_frame_clear(&v[i].frames[j]);
		free(v[i].frames);
	}
	free(v);
}

int ct_framestore_decode(const void *data, size_t len, struct ct_framestore_debug *ret_dbg,
			 struct ct_framestore_entry **ret, size_t *ret_n)
{
	memset(ret_dbg, 0, sizeof(*ret_dbg));
	*ret = NULL;
	*ret_n = 0;
	uint64_t sum;
	if (len < sizeof(magic) + 8 || memcmp(data, magic, sizeof(magic)) != 0)
		return -EINVAL;
	memcpy(&sum, (const unsigned char *)data + len - 8, 8);
	if (sum != fnv1a(data, len - 8))
		return -EINVAL; /* cut short or damaged */
	struct rd r = { (const unsigned char *)data + sizeof(magic), len - sizeof(magic) - 8 };
	uint32_t n, pl;
	struct ct_framestore_debug dbg = { 0 };
	if (!get(&r, &n, 4) || !get(&r, &pl, 4) || !get_ident(&r, &dbg.id) || !get_ident(&r, &dbg.file) ||
	    n > CT_FRAMESTORE_MAX_ENTRIES || pl > 4096)
		return -EINVAL;
	int e = get_string(&r, pl, pl > 0, &dbg.path);
	if (e < 0)
		return e;
	/* every entry takes 24 bytes at least: a count beyond the bytes there are is damage */
	struct ct_framestore_entry *v = n > r.left / 24 ? NULL : calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		free(dbg.path);
		return n > r.left / 24 ? -EINVAL : -ENOMEM;
	}
	size_t i = 0;
	for (; i < n && e == 0; i++) {
		uint32_t flags, nf;
		if (!get(&r, &v[i].off, 8) || !get(&r, &v[i].off2, 8) || !get(&r, &flags, 4) || !get(&r, &nf, 4) ||
		    nf > CT_FRAMESTORE_MAX_FRAMES || nf > r.left / 32) {
			e = -EINVAL;
			break;
		}
		v[i].flags = flags;
		if (nf && !(v[i].frames = calloc(nf, sizeof(*v[i].frames)))) {
			e = -ENOMEM;
			break;
		}
		for (unsigned j = 0; j < nf && e == 0; j++) {
			e = get_frame(&r, &v[i].frames[j]);
			v[i].nframes = j + 1; /* freed with the rest on failure */
		}
	}
	if (e == 0 && r.left != 0)
		e = -EINVAL;
	if (e < 0) {
		ct_framestore_free(&dbg, v, n); /* calloc: entries not reached are empty */
		return e;
	}
	*ret_dbg = dbg;
	*ret = v;
	*ret_n = n;
	return 0;
}

int ct_framestore_path(const char *id_hex, const char *debuginfo_path, struct ct_buf *out)
{
	const char *dir = ct_cache_dir();
	if (!dir)
		return -ENOENT;
	const char *dp = debuginfo_path ? debuginfo_path : "";
	ct_buf_printf(out, "%s/frames/%s-%016llx", dir, id_hex, (unsigned long long)fnv1a(dp, strlen(dp)));
	return out->err;
}

void ct_framestore_ident_of(const struct stat *st, struct ct_framestore_ident *ret)
{
	ret->dev = st->st_dev;
	ret->ino = st->st_ino;
	ret->size = (uint64_t)st->st_size;
	ret->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
}

bool ct_framestore_ident_eq(const struct ct_framestore_ident *a, const struct ct_framestore_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

int ct_framestore_debug_of(const char *path, struct ct_framestore_debug *ret)
{
	ret->path = NULL;
	memset(&ret->id, 0, sizeof(ret->id));
	if (!path)
		return 0;
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!(ret->path = strdup(path)))
		return -ENOMEM;
	ct_framestore_ident_of(&st, &ret->id);
	return 0;
}

bool ct_framestore_debug_current(const struct ct_framestore_debug *dbg, const char *id_hex,
				 const char *debuginfo_path)
{
	if (dbg->path) {
		struct stat st;
		struct ct_framestore_ident now;
		if (stat(dbg->path, &st) < 0)
			return false;
		ct_framestore_ident_of(&st, &now);
		return ct_framestore_ident_eq(&now, &dbg->id);
	}
	/* none then: none now either, where debugcache.h looks by build-id */
	if (strlen(id_hex) < 3)
		return true;
	const char *s = debuginfo_path ? debuginfo_path : "/usr/lib/debug";
	while (*s) {
		size_t n = strcspn(s, ":");
		const char *d = s;
		if (n > 0 && (*d == '+' || *d == '-')) {
			d++;
			n--;
		}
		if (n > 0 && d[0] == '/' && n < 3000) {
			char path[4096];
			struct stat st;
			snprintf(path, sizeof(path), "%.*s/.build-id/%.2s/%s.debug", (int)n, d, id_hex, id_hex + 2);
			if (stat(path, &st) == 0)
				return false;
		}
		s = d + n;
		if (*s == ':')
			s++;
	}
	return true;
}

int ct_framestore_read(const char *path, struct ct_framestore_debug *ret_dbg, struct ct_framestore_entry **ret,
		       size_t *ret_n)
{
	memset(ret_dbg, 0, sizeof(*ret_dbg));
	*ret = NULL;
	*ret_n = 0;
	int fd = ct_cache_open(path, CT_FRAMESTORE_MAX_BYTES);
	if (fd < 0)
		return fd == -ELOOP ? -EPERM : fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -EPERM;
	}
	size_t len = (size_t)st.st_size, got = 0;
	unsigned char *data = malloc(len ? len : 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < len) {
		ssize_t k = read(fd, data + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	int r = ct_framestore_decode(data, got, ret_dbg, ret, ret_n);
	free(data);
	return r;
}

int ct_framestore_write(const char *path, const void *data, size_t len)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	int r = ct_cache_dir_ensure(dir); /* CACHE/frames: CACHE itself first */
	if (r == -ENOENT) {
		char top[4096];
		snprintf(top, sizeof(top), "%s", dir);
		char *s2 = strrchr(top, '/');
		if (s2) {
			*s2 = '\0';
			r = ct_cache_dir_ensure(top);
		}
		if (r == 0)
			r = ct_cache_dir_ensure(dir);
	}
	if (r < 0)
		return r;
	return ct_cache_write(path, data, len);
}
