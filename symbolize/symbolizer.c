/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/symbolizer.h"

#include <dwarf.h>
#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libiberty/demangle.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/cache.h"
#include "lib/procfs.h"
#include "symbolize/debugcache.h"
#include "symbolize/perfmap.h"
#include "lib/util.h"
#include "lib/banned.h"

struct alias {
	uint64_t addr;
	const char *name; /* in libelf's string table; lives as long as the Dwfl */
	size_t len;       /* without "@VERSION" */
};

struct alias_index {
	Dwfl_Module *mod;
	struct alias *v;
	size_t n;
};

struct cu_range {
	uint64_t low, high; /* [low, high) in the DWARF's addresses */
	Dwarf_Off off;      /* of the CU DIE */
};

/* For DWARF without .debug_aranges (Go): which CU covers an address, from the CUs' own ranges. */
struct cu_index {
	Dwfl_Module *mod;
	struct cu_range *v;
	size_t n;
};

struct ct_symbolizer {
	pid_t pid;
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	struct ct_proc_map *maps;
	size_t nmaps;
	int root_fd;
	char *root_path; /* the target's root as /proc/PID/maps names it (a chroot), NULL for "/" */
	bool no_inlines;
	bool no_demangle;
	bool debuginfod;
	uint64_t debuginfod_budget_ns, debuginfod_deadline;
	debuginfod_client *dbgd;
	bool perfmap_loaded;
	struct ct_sym_stats stats;
	struct ct_perfmap perfmap;
	struct cu_index *cuix; /* per module without .debug_aranges */
	size_t ncuix, cap_cuix;
	struct alias_index *aliases; /* per module, built when a frame is named from the ELF symtab */
	size_t naliases, cap_aliases;
	char **warnings;
	size_t nwarnings, cap_warnings, next_warning;
};

/* ---- frames shared by every symbolizer of the run ------------------------------------------------
 * The frames of a pc depend only on the file it is in and its offset there (and on the options), not
 * on the process: keyed by the mapped file's device and inode (from /proc/PID/maps, the same in every
 * mount namespace) and file offset, one lookup serves every thread, every sample and every process of
 * the run (64 pre-fork workers open and parse libc's debug info once, not 64 times). Code that is not
 * file-backed (JIT, [vdso]) is looked up each time: its address says nothing across processes. */
struct share_entry {
	uint64_t dev, ino, off; /* off: file offset of the looked-up pc (pc - 1 for a return address) */
	uint64_t off2;          /* tail calls: file offset of the caller's return address - 1 */
	unsigned flags;         /* 1: activation, 2: no inlines, 4: no demangling, 8: tail calls;
				 * 0x80: slot in use */
	unsigned nframes;
	struct ct_frame *frames;
};

#define SHARE_TAIL 0x8u
#define SHARE_USED 0x80u
#define SHARE_MAX (1u << 20) /* entries; past it, lookups are not remembered */

static struct {
	struct share_entry *v;
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

static struct share_entry *share_slot(struct share_entry *v, size_t cap, uint64_t dev, uint64_t ino,
				      uint64_t off, uint64_t off2, unsigned flags)
{
	size_t mask = cap - 1;
	for (size_t i = share_hash(dev, ino, off, off2, flags) & mask;; i = (i + 1) & mask) {
		struct share_entry *e = &v[i];
		if (!(e->flags & SHARE_USED) || (e->dev == dev && e->ino == ino && e->off == off &&
						 e->off2 == off2 && e->flags == (flags | SHARE_USED)))
			return e;
	}
}

static void share_drop(void)
{
	for (size_t i = 0; i < share.cap; i++)
		if (share.v[i].flags & SHARE_USED) {
			for (unsigned j = 0; j < share.v[i].nframes; j++)
				ct_frame_clear(&share.v[i].frames[j]);
			free(share.v[i].frames);
		}
	free(share.v);
	memset(&share, 0, sizeof(share));
}

static bool share_grow(void)
{
	if (share.n * 2 < share.cap)
		return true;
	if (share.n >= SHARE_MAX)
		return false;
	size_t ncap = share.cap ? share.cap * 2 : 512;
	struct share_entry *nv = calloc(ncap, sizeof(*nv));
	if (!nv)
		return false;
	for (size_t i = 0; i < share.cap; i++) {
		struct share_entry *e = &share.v[i];
		if (e->flags & SHARE_USED)
			*share_slot(nv, ncap, e->dev, e->ino, e->off, e->off2, e->flags & ~SHARE_USED) = *e;
	}
	free(share.v);
	share.v = nv;
	share.cap = ncap;
	return true;
}

static void warn(struct ct_symbolizer *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ct_symbolizer *s, const char *fmt, ...)
{
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *msg = ct_buf_steal(&b);
	if (!msg)
		return;
	for (size_t i = 0; i < s->nwarnings; i++) {
		if (strcmp(s->warnings[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	if (ct_grow(&s->warnings, &s->cap_warnings, s->nwarnings + 1, sizeof(char *)) < 0) {
		free(msg);
		return;
	}
	s->warnings[s->nwarnings++] = msg;
}

/* True when a warning about this module (or file) was already said: one per module is enough. */
static bool warned_about(struct ct_symbolizer *s, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < s->nwarnings; i++)
		if (strncmp(s->warnings[i], name, n) == 0 && s->warnings[i][n] == ':')
			return true;
	return false;
}

const char *ct_sym_next_warning(struct ct_symbolizer *s)
{
	if (s->next_warning >= s->nwarnings)
		return NULL;
	return s->warnings[s->next_warning++];
}

/* Opens path inside the target's root without letting symlinks escape it. */
static int open_in_root(int root_fd, const char *path)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*path == '/')
		path++;
	long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

static const char deleted_suffix[] = " (deleted)";

/* Length of a module name without the " (deleted)" libdwfl copies from /proc/PID/maps. */
static size_t name_len(const char *name)
{
	size_t n = strlen(name), d = sizeof(deleted_suffix) - 1;
	return n > d && strcmp(name + n - d, deleted_suffix) == 0 ? n - d : n;
}

static const struct ct_proc_map *find_map(struct ct_symbolizer *s, const char *name)
{
	size_t n = name_len(name);
	for (size_t i = 0; i < s->nmaps; i++)
		if (s->maps[i].path && strncmp(s->maps[i].path, name, n) == 0 && s->maps[i].path[n] == '\0')
			return &s->maps[i];
	return NULL;
}

/* A path of /proc/PID/maps as the target sees it: maps names a chrooted target's files by their
 * path from our root, which starts with its root's. */
static const char *in_root(struct ct_symbolizer *s, const char *path)
{
	size_t n = s->root_path ? strlen(s->root_path) : 0;
	return n && strncmp(path, s->root_path, n) == 0 && path[n] == '/' ? path + n : path;
}

/* ELF for a module: through /proc/PID/map_files first (right even when the file was replaced or
 * deleted, or lives in another mount namespace), then relative to /proc/PID/root. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct ct_symbolizer *s = *userdata;
	if (!s || !modname || modname[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
	const struct ct_proc_map *m = find_map(s, modname);
	int fd = -1;
	if (m) {
		char path[96];
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)s->pid, m->start,
			 m->end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 && s->root_fd >= 0 && !(m && m->deleted))
		fd = open_in_root(s->root_fd, in_root(s, modname));
	if (fd < 0) {
		int err = fd < -1 ? -fd : errno;
		_cleanup_free_ char *name = strndup(modname, name_len(modname));
		if (!name)
			return -1;
		if (m && m->deleted)
			warn(s, "%s: deleted from disk and /proc/%d/map_files is not readable (%s; needs CAP_SYS_ADMIN); its frames have no symbols",
			     name, (int)s->pid, strerror(err));
		else
			warn(s, "%s: cannot open the module (%s); its frames have no symbols", name, strerror(err));
		return -1;
	}
	*file_name = strndup(modname, name_len(modname));
	return fd;
}

/* libdebuginfod pulls in libcurl and TLS libraries: loaded only when debuginfod is turned on, as
 * libdwfl itself does, so that a plain run starts fast and small. */
static struct {
	bool tried;
	debuginfod_client *(*begin)(void);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	void (*set_user_data)(debuginfod_client *, void *);
	void *(*get_user_data)(debuginfod_client *);
	void (*end)(debuginfod_client *);
} dbgd_lib;

static bool dbgd_load(void)
{
	if (dbgd_lib.tried)
		return dbgd_lib.end != NULL;
	dbgd_lib.tried = true;
	void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
	*(void **)&dbgd_lib.begin = dlsym(h, "debuginfod_begin");
	*(void **)&dbgd_lib.find_debuginfo = dlsym(h, "debuginfod_find_debuginfo");
	*(void **)&dbgd_lib.set_progressfn = dlsym(h, "debuginfod_set_progressfn");
	*(void **)&dbgd_lib.set_user_data = dlsym(h, "debuginfod_set_user_data");
	*(void **)&dbgd_lib.get_user_data = dlsym(h, "debuginfod_get_user_data");
	*(void **)&dbgd_lib.end = dlsym(h, "debuginfod_end");
	if (!dbgd_lib.begin || !dbgd_lib.find_debuginfo || !dbgd_lib.set_progressfn ||
	    !dbgd_lib.set_user_data || !dbgd_lib.get_user_data || !dbgd_lib.end) {
		dbgd_lib.end = NULL;
		return false;
	}
	return true;
}

/* debuginfod's progress callback: a non-zero return cancels the download past our deadline. */
static int debuginfod_progress(debuginfod_client *c, long a, long b)
{
	(void)a;
	(void)b;
	const uint64_t *deadline = dbgd_lib.get_user_data(c);
	return deadline && ct_now_ns() > *deadline;
}

/* Opt-in: asks the DEBUGINFOD_URLS servers for the module's debug file by build-id. Runs only while
 * symbolizing, after every target thread was resumed; all downloads of a run share one time budget;
 * libdebuginfod keeps what it fetched in its cache ($DEBUGINFOD_CACHE_PATH or ~/.cache/debuginfod_client). */
static int debuginfod_fetch(struct ct_symbolizer *s, Dwfl_Module *mod, const char *modname, char **ret_path)
{
	const unsigned char *id = NULL;
	GElf_Addr id_vaddr;
	int idlen = dwfl_module_build_id(mod, &id, &id_vaddr);
	if (idlen <= 0)
		return -1;
	if (!s->dbgd) {
		if (!dbgd_load()) {
			warn(s, "debuginfod: cannot load libdebuginfod.so.1 (install libdebuginfod1)");
			s->debuginfod = false;
			return -1;
		}
		s->dbgd = dbgd_lib.begin();
		if (!s->dbgd) {
			s->debuginfod = false;
			return -1;
		}
		s->debuginfod_deadline = ct_now_ns() + s->debuginfod_budget_ns;
		dbgd_lib.set_user_data(s->dbgd, &s->debuginfod_deadline);
		dbgd_lib.set_progressfn(s->dbgd, debuginfod_progress);
	}
	if (ct_now_ns() > s->debuginfod_deadline)
		return -1;
	char *path = NULL;
	int fd = dbgd_lib.find_debuginfo(s->dbgd, id, idlen, &path);
	if (fd < 0) {
		if (fd == -ENOSYS) /* no server configured */
			s->debuginfod = false;
		else if (fd != -ENOENT || ct_now_ns() > s->debuginfod_deadline) { /* the server: stop asking */
			warn(s, "debuginfod: %s (asking for %s); no more downloads in this run",
			     ct_now_ns() > s->debuginfod_deadline ? "timed out" : strerror(-fd), modname);
			s->debuginfod = false;
		}
		return -1;
	}
	*ret_path = path;
	return fd;
}

/* Separate debug files. By build-id, in the absolute search directories (the administrator's and
 * --debug-dir's), libdwfl looks; everywhere else ctrace looks itself. libdwfl's path search
 * open()s every candidate without O_NONBLOCK, and the candidates are named by the target: its
 * file's directory and .gnu_debuglink, and, for a dwz file (.gnu_debugaltlink), a debug file found
 * there. A FIFO planted at any of them would block ctrace for good, a directory "opens", a device
 * opens. Each candidate here is stat()ed, open()ed with O_NONBLOCK, fstat()ed, and used only when
 * it is a regular file whose build-id (or else CRC) matches. */

/* Candidates: NUL-terminated strings one after another in a ct_buf, each a path after one flag
 * character, '+' when a .gnu_debuglink CRC is to be checked, else '-'. */
static void cand_add(struct ct_buf *c, bool crc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cand_add(struct ct_buf *c, bool crc, const char *fmt, ...)
{
	va_list ap;
	ct_buf_putc(c, crc ? '+' : '-');
	va_start(ap, fmt);
	ct_buf_vprintf(c, fmt, ap);
	va_end(ap);
	ct_buf_putc(c, '\0');
}

/* Where the debug file of the module file file_name is looked for, as gdb and libdwfl do: the
 * debuglink name (or, with none, BASENAME.debug and, below, BASENAME) beside the file, in each
 * relative search directory under the file's directory (.debug), and in each absolute one
 * followed by the file's directory and each of its tails (/usr/lib/debug/usr/lib/x, …/lib/x, …/x).
 * A "+" or "-" before an entry (or the whole path) turns the CRC check on or off for its
 * candidates. */
static void main_candidates(struct ct_buf *c, const char *search, const char *file_name, const char *link)
{
	const char *base = strrchr(file_name, '/');
	base = base ? base + 1 : file_name;
	int dlen = base > file_name ? (int)(base - 1 - file_name) : -1; /* -1: no directory */
	_cleanup_free_ char *made = NULL;
	bool link_null = !link;
	if (link_null && !(link = made = ct_strf("%s.debug", base)))
		return;
	bool defcheck = true;
	if (*search == '+' || *search == '-')
		defcheck = *search++ == '+';
	for (const char *p = search, *end; *p || p == search; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		bool crc = defcheck && !link_null;
		const char *e = p;
		if (*e == '+' || *e == '-')
			crc = *e++ == '+' && !link_null;
		int elen = (int)(end - e);
		if (elen == 0 && dlen >= 0) {
			cand_add(c, crc, "%.*s/%s", dlen, file_name, link);
		} else if (elen > 0 && *e != '/' && dlen >= 0) {
			cand_add(c, crc, "%.*s/%.*s/%s", dlen, file_name, elen, e, link);
			if (link_null)
				cand_add(c, crc, "%.*s/%.*s/%s", dlen, file_name, elen, e, base);
		} else if (elen > 0 && *e == '/' && dlen >= 0 && file_name[0] == '/') {
			/* the file's directory, then each tail of it, then none */
			for (const char *sub = file_name; sub && sub < file_name + dlen;) {
				sub = memchr(sub, '/', (size_t)(file_name + dlen - sub));
				if (!sub)
					break;
				sub++;
				int slen = (int)(file_name + dlen - sub);
				if (slen == 0)
					break;
				cand_add(c, crc, "%.*s/%.*s/%s", elen, e, slen, sub, link);
				if (link_null)
					cand_add(c, crc, "%.*s/%.*s/%s", elen, e, slen, sub, base);
			}
			cand_add(c, crc, "%.*s/%s", elen, e, link);
			if (link_null)
				cand_add(c, crc, "%.*s/%s", elen, e, base);
		}
		if (!*end)
			break;
	}
}

/* Where the dwz file of a debug file (debug_name) is looked for: the .gnu_debugaltlink name as it
 * is (absolute) or from the debug file's directory, then NAME's base name in .dwz/ there and in
 * each absolute search directory. Only a file with the build-id the link gives is used. */
static void alt_candidates(struct ct_buf *c, const char *search, const char *debug_name, const char *alt)
{
	const char *base = strrchr(alt, '/');
	base = base ? base + 1 : alt;
	const char *slash = debug_name ? strrchr(debug_name, '/') : NULL;
	int dlen = slash ? (int)(slash - debug_name) : -1;
	if (!*base)
		return;
	if (alt[0] == '/')
		cand_add(c, false, "%s", alt);
	else if (dlen >= 0)
		cand_add(c, false, "%.*s/%s", dlen, debug_name, alt);
	if (dlen >= 0)
		cand_add(c, false, "%.*s/.dwz/%s", dlen, debug_name, base);
	for (const char *p = search + (*search == '+' || *search == '-'), *end; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		const char *e = p + (*p == '+' || *p == '-');
		if (*e == '/')
			cand_add(c, false, "%.*s/.dwz/%s", (int)(end - e), e, base);
	}
}

/* Opens a candidate without ever blocking: -1 when absent (or the module's own file), -2 when it
 * exists but is not a regular file, else a descriptor (blocking again, for libdwfl). */
static int open_candidate(const char *path, const struct stat *main_st)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return -2;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -2; /* replaced since the stat: a FIFO opened without blocking */
	}
	if (main_st && st.st_dev == main_st->st_dev && st.st_ino == main_st->st_ino) {
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* Whether fd's ELF build-id is id. ELF_C_READ, not mmap: the file may be cut short under us. */
static bool build_id_is(int fd, const void *id, size_t idlen)
{
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	const void *got = NULL;
	ssize_t n = e ? dwelf_elf_gnu_build_id(e, &got) : -1;
	bool ok = n > 0 && (size_t)n == idlen && memcmp(got, id, idlen) == 0;
	if (e)
		elf_end(e);
	return ok;
}

/* Whether fd's contents have the .gnu_debuglink CRC (zlib's CRC-32, as binutils computes it). */
static bool crc_is(int fd, uint32_t want)
{
	unsigned char buf[16384];
	uLong crc = crc32(0, NULL, 0);
	off_t off = 0;
	ssize_t n;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	return n == 0 && (uint32_t)crc == want;
}

/* A .gnu_debuglink name comes from the target's file. Only a plain file name is used; anything else
 * ("", "..", "../../x", "/x") is as if there were none (then NAME.debug is looked for). */
static const char *safe_debuglink(const char *link)
{
	if (!link || !*link || strchr(link, '/') || strcmp(link, ".") == 0 || strcmp(link, "..") == 0)
		return NULL;
	return link;
}

/* fd and name: the first candidate that is a regular file and matches (build-id, else CRC where
 * its flag says); bad: the first that exists but is a FIFO, device or directory; mismatch: the
 * first regular file that does not match. */
struct cand_result {
	int fd;
	char *name;
	char *bad;
	char *mismatch;
};

static void try_candidates(const struct ct_buf *c, const struct stat *main_st, const void *id, size_t idlen,
			   uint32_t crc, struct cand_result *r)
{
	for (const char *f = c->data; f && f < c->data + c->len && r->fd < 0; f += strlen(f) + 1) {
		const char *q = f + 1; /* after the CRC flag */
		int fd = open_candidate(q, main_st);
		if (fd == -2 && !r->bad)
			r->bad = strdup(q);
		if (fd < 0)
			continue;
		bool ok = idlen ? build_id_is(fd, id, idlen) : !(crc && *f == '+') || crc_is(fd, crc);
		if (ok && (r->name = strdup(q))) {
			r->fd = fd;
			break;
		}
		if (!r->mismatch)
			r->mismatch = strdup(q);
		close(fd);
	}
}

/* Whether libdwfl holds mod's debug file (or DWARF in its main file): dwbias is set then. */
static bool has_debug_file(Dwfl_Module *mod)
{
	Dwarf_Addr dwbias = (Dwarf_Addr)-1;
	dwfl_module_info(mod, NULL, NULL, NULL, &dwbias, NULL, NULL, NULL);
	return dwbias != (Dwarf_Addr)-1;
}

/* mod's debug file, or with alt_of (the module's Dwarf) its dwz file. */
static int find_debug_file(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			   char **debuginfo_file_name, Dwarf *alt_of)
{
	struct ct_symbolizer *s = *userdata;
	bool alt = alt_of != NULL;
	if (!alt) {
		/* by build-id, through the cache of inflated copies (debugcache.h) */
		int cache_err = 0;
		int cfd = ct_debugcache_find(mod, s ? s->debuginfo_path : NULL, debuginfo_file_name,
					     &cache_err);
		if (cache_err < 0 && s && modname)
			warn(s, "%.*s: cannot keep the inflated copy of its debug file in %s (%s); every "
				"run inflates it again: set CTRACE_CACHE_DIR to a directory of yours, or to off",
			     (int)name_len(modname), modname, ct_cache_dir(), /* named, or no error */
			     cache_err == -EPERM ? "not owned by this user, or writable by others"
						 : strerror(-cache_err));
		if (cfd >= 0)
			return cfd;
	}
	/* by build-id in the absolute search directories, which the administrator or the user chose */
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					      debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || !s || !file_name)
		return fd;
	if (!alt && has_debug_file(mod))
		return fd; /* libdwfl took the file itself */

	/* by name, near the file: what ctrace opens itself */
	const void *id = NULL;
	ssize_t idlen = 0;
	struct ct_buf cands = CT_BUF_INIT;
	struct cand_result r = { -1, NULL, NULL, NULL };
	if (alt) {
		const char *altname = NULL;
		idlen = dwelf_dwarf_gnu_debugaltlink(alt_of, &altname, &id);
		if (idlen <= 0 || !altname)
			return -1;
		alt_candidates(&cands, s->debuginfo_path, file_name, altname);
		try_candidates(&cands, NULL, id, (size_t)idlen, 0, &r);
	} else {
		const unsigned char *bid = NULL;
		GElf_Addr vaddr;
		idlen = dwfl_module_build_id(mod, &bid, &vaddr);
		id = bid;
		if (idlen < 0)
			idlen = 0;
		struct stat main_st;
		bool have_main = stat(file_name, &main_st) == 0;
		const char *link = safe_debuglink(debuglink_file);
		main_candidates(&cands, s->debuginfo_path, file_name, link);
		/* and from the file's real path when its name is a symlink */
		_cleanup_free_ char *canon = realpath(file_name, NULL);
		if (canon && strcmp(canon, file_name) != 0)
			main_candidates(&cands, s->debuginfo_path, canon, link);
		try_candidates(&cands, have_main ? &main_st : NULL, id, (size_t)idlen, link ? debuglink_crc : 0, &r);
	}
	ct_buf_free(&cands);
	_cleanup_free_ char *name = strndup(modname, name_len(modname));
	if (r.bad && name && !warned_about(s, name))
		warn(s, "%s: %s is not a regular file; ignored", name, r.bad);
	if (r.fd >= 0) {
		*debuginfo_file_name = r.name;
		r.name = NULL;
	} else if (!alt && s->debuginfod) {
		r.fd = debuginfod_fetch(s, mod, modname, debuginfo_file_name);
	}
	if (r.fd < 0 && r.mismatch && name && !warned_about(s, name))
		warn(s, "%s: %s file %s is unreadable or does not match it (%s); ignored", name,
		     alt ? "dwz" : "debug", r.mismatch, idlen > 0 ? "build-id" : "CRC");
	free(r.name);
	free(r.bad);
	free(r.mismatch);
	return r.fd;
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	/* libdwfl asks for a module's debug file only while it has none, and for its dwz file once it
	 * has one: a debug file (or DWARF in the main file) already set tells the two apart. */
	Dwarf_Addr bias;
	bool alt = has_debug_file(mod);
	Dwarf *dw = alt ? dwfl_module_getdwarf(mod, &bias) : NULL; /* set already: no recursion */
	if (alt && !dw)
		return -1;
	int fd = find_debug_file(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
				 debuginfo_file_name, dw);
	if (dw) {
		/* Without a dwz file, libdw would look for one itself the first time a DIE refers to it
		 * (dwarf_getalt), open()ing the link's name, blocking, and using it unchecked. (Dwarf *)-1
		 * is dwarf_getalt's own "looked, there is none"; libdwfl replaces it with the file found
		 * here when that opens as DWARF (dwarf_setalt). test_symbols_debuginfo case 8 hangs if
		 * libdw ever stops honouring it. */
		dwarf_setalt(dw, (Dwarf *)-1);
	}
	return fd;
}

static int set_userdata(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)mod;
	(void)name;
	(void)start;
	*userdata = arg;
	return DWARF_CB_OK;
}

int ct_sym_open(pid_t pid, const struct ct_sym_opts *o, struct ct_symbolizer **ret)
{
	struct ct_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->root_fd = -1;
	s->no_inlines = o && o->no_inlines;
	s->no_demangle = o && o->no_demangle;
	s->debuginfod = o && o->debuginfod;
	s->debuginfod_budget_ns = (o && o->debuginfod_timeout_ms ? o->debuginfod_timeout_ms : 10000) * 1000000ull;

	/* Search path as gdb's: beside the file, .debug/, --debug-dir, /usr/lib/debug (build-id too); "+": check
	 * a .gnu_debuglink CRC when the module has no build-id to match. */
	struct ct_buf p = CT_BUF_INIT;
	ct_buf_puts(&p, "+:.debug");
	if (o && o->debug_dirs && *o->debug_dirs)
		ct_buf_printf(&p, ":%s", o->debug_dirs);
	ct_buf_puts(&p, ":/usr/lib/debug");
	s->debuginfo_path = ct_buf_steal(&p);

	_cleanup_free_ char *maps_text = NULL;
	int r = ct_proc_read(pid, 0, "maps", 64 << 20, &maps_text);
	if (r == 0)
		r = ct_parse_proc_maps(maps_text, 1 << 20, &s->maps, &s->nmaps);
	if (r < 0 || !s->debuginfo_path) {
		ct_sym_close(s);
		return r == -ENOENT ? -ESRCH : (r < 0 ? r : -ENOMEM);
	}
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char link[4096];
	ssize_t ln = s->root_fd >= 0 ? readlink(root, link, sizeof(link) - 1) : -1;
	if (ln > 1 && link[0] == '/') {
		link[ln] = '\0';
		s->root_path = strdup(link); /* without it, files are looked for by their full path */
	}

	s->cb.find_elf = find_elf;
	s->cb.find_debuginfo = find_debuginfo;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->cb);
	if (!s->dwfl) {
		ct_sym_close(s);
		return -ENOMEM;
	}
	share.users++;
	dwfl_report_begin(s->dwfl);
	r = dwfl_linux_proc_report(s->dwfl, pid);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (r != 0) {
		ct_sym_close(s);
		return r > 0 ? -r : -ESRCH;
	}
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	*ret = s;
	return 0;
}

int ct_sym_open_elf(int fd, const char *name, uint64_t base, const struct ct_sym_opts *o,
		    struct ct_symbolizer **ret)
{
	struct ct_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->root_fd = -1;
	s->no_inlines = o && o->no_inlines;
	s->no_demangle = o && o->no_demangle;
	s->perfmap_loaded = true; /* no process, so no perf map */
	/* separate debug files by build-id only under o->debug_dirs (none by default) */
	s->debuginfo_path = ct_strdup(o && o->debug_dirs ? o->debug_dirs : "");
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = find_debuginfo;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->dwfl = s->debuginfo_path ? dwfl_begin(&s->cb) : NULL;
	if (!s->dwfl) {
		ct_sym_close(s);
		return -ENOMEM;
	}
	elf_version(EV_CURRENT);
	dwfl_report_begin(s->dwfl);
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* libdwfl takes it on success */
	Dwfl_Module *mod = own < 0 ? NULL : dwfl_report_elf(s->dwfl, name, name, own, base, false);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (!mod) {
		if (own >= 0)
			close(own);
		ct_sym_close(s);
		return -ENOEXEC;
	}
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	*ret = s;
	return 0;
}

void ct_sym_close(struct ct_symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl) {
		dwfl_end(s->dwfl);
		if (--share.users == 0)
			share_drop();
	}
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root_path);
	ct_proc_maps_free(s->maps, s->nmaps);
	ct_perfmap_free(&s->perfmap);
	for (size_t i = 0; i < s->naliases; i++)
		free(s->aliases[i].v);
	for (size_t i = 0; i < s->ncuix; i++)
		free(s->cuix[i].v);
	free(s->cuix);
	free(s->aliases);
	if (s->dbgd)
		dbgd_lib.end(s->dbgd);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s->debuginfo_path);
	free(s);
}

Dwfl *ct_sym_dwfl(struct ct_symbolizer *s) { return s->dwfl; }

struct module_find {
	const char *path;
	Dwfl_Module *mod;
};

static int find_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct module_find *f = arg;
	(void)userdata;
	(void)start;
	if (name && strcmp(name, f->path) == 0) {
		f->mod = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

Dwfl_Module *ct_sym_module(struct ct_symbolizer *s, const char *path)
{
	struct module_find f = { path, NULL };
	dwfl_getmodules(s->dwfl, find_module, &f, 0);
	return f.mod;
}

static const struct ct_proc_map *addr_map(struct ct_symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nmaps; /* /proc/PID/maps is sorted by address */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nmaps && addr >= s->maps[lo].start ? &s->maps[lo] : NULL;
}

bool ct_sym_is_exec(struct ct_symbolizer *s, uint64_t addr)
{
	const struct ct_proc_map *m = addr_map(s, addr);
	return m && m->perms[2] == 'x';
}

bool ct_sym_is_stack(struct ct_symbolizer *s, uint64_t addr, uint64_t *ret_end)
{
	const struct ct_proc_map *m = addr_map(s, addr);
	if (!m)
		return false;
	if (ret_end)
		*ret_end = m->end;
	return m->perms[0] == 'r' && m->perms[1] == 'w';
}
pid_t ct_sym_pid(struct ct_symbolizer *s) { return s->pid; }

void ct_sym_get_stats(struct ct_symbolizer *s, struct ct_sym_stats *ret) { *ret = s->stats; }

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	return name;
}

/* The name people read: "__libc_start_main@@GLIBC_2.34" loses its version, as in gdb; C++ (_Z) and
 * Rust (_ZN…h<hash>E, _R) names are demangled unless --no-demangle. Returns a malloc'd string or NULL. */
char *ct_sym_display_name(const char *raw, bool demangle)
{
	if (!raw || !*raw)
		return NULL;
	size_t len = strnlen(raw, 4096);
	const char *at = memchr(raw, '@', len);
	if (at && at != raw)
		len = (size_t)(at - raw);
	char *name = strndup(raw, len);
	if (!name || !demangle || !(name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')))
		return name;
	char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
	if (!d)
		return name;
	free(name);
	return d;
}

static int set_name(struct ct_symbolizer *s, char **dst, const char *raw)
{
	if (!raw)
		return 0;
	*dst = ct_sym_display_name(raw, !s->no_demangle);
	return *dst ? 0 : -ENOMEM;
}

static bool is_deleted(struct ct_symbolizer *s, const char *modname)
{
	const struct ct_proc_map *m = find_map(s, modname);
	return m && m->deleted;
}

static struct ct_frame *new_frame(struct ct_thread *t, uint64_t pc, const char *modname, bool deleted)
{
	struct ct_frame *f = ct_thread_add_frame(t);
	if (!f)
		return NULL;
	f->pc = pc;
	f->deleted = deleted;
	if (modname && strncmp(modname, "[vdso", 5) == 0)
		modname = "[vdso]"; /* libdwfl says "[vdso: PID]" */
	if (modname && !(f->module = strndup(modname, name_len(modname)))) {
		t->nframes--;
		return NULL;
	}
	return f;
}

static int set_str(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* Emits the inline chain for the DIE scopes at pc (as eu-stack does): scopes[0] is the innermost
 * inlined call, with the line table's location; each outer one gets the call site of the one inside. */
static int inline_frames(struct ct_symbolizer *s, struct ct_thread *t, uint64_t pc, uint64_t pc_adj,
			 Dwfl_Module *mod, const char *modname, bool deleted, Dwarf_Die *cudie,
			 Dwarf_Die *scopes, int nscopes, const char *symname, uint64_t symoff,
			 const char *file, int line)
{
	(void)pc_adj;
	(void)mod;
	struct ct_frame *f = new_frame(t, pc, modname, deleted);
	if (!f || set_name(s, &f->function, die_name(&scopes[0])) < 0 || set_str(&f->file, file) < 0)
		return -ENOMEM;
	f->line = line;
	f->inlined = true;
	int n = 1;
	Dwarf_Files *files = NULL;
	(void)dwarf_getsrcfiles(cudie, &files, NULL);
	Dwarf_Die *last = &scopes[0];
	for (int i = 1; i < nscopes && n < 64; i++) {
		Dwarf_Die *scope = &scopes[i];
		int tag = dwarf_tag(scope);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram && tag != DW_TAG_entry_point)
			continue;
		f = new_frame(t, pc, modname, deleted);
		if (!f)
			return -ENOMEM;
		n++;
		/* gdb names a function by its DWARF subprogram (__lll_lock_wait, not __GI___lll_lock_wait) */
		const char *name = die_name(scope);
		if (!name)
			name = symname;
		if (set_name(s, &f->function, name) < 0)
			return -ENOMEM;
		Dwarf_Attribute attr;
		Dwarf_Word val;
		if (files && dwarf_formudata(dwarf_attr(last, DW_AT_call_file, &attr), &val) == 0) {
			if (set_str(&f->file, dwarf_filesrc(files, val, NULL, NULL)) < 0)
				return -ENOMEM;
			if (dwarf_formudata(dwarf_attr(last, DW_AT_call_line, &attr), &val) == 0)
				f->line = (int)val;
		}
		if (tag == DW_TAG_subprogram) {
			f->offset = symoff;
			break;
		}
		f->inlined = true;
		last = scope;
	}
	return n;
}

/* A module with a debug file whose DWARF cannot be read: said once; symbols still come from its
 * symbol table. */
static void check_dwarf(struct ct_symbolizer *s, Dwfl_Module *mod, const char *modname)
{
	Dwarf_Addr bias;
	const char *debugfile = NULL;
	if (!modname || dwfl_module_getdwarf(mod, &bias))
		return;
	int err = dwfl_errno();
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
	if (!debugfile)
		return; /* no debug information at all: the usual case for a stripped library */
	_cleanup_free_ char *name = strndup(modname, name_len(modname));
	if (name && !warned_about(s, name))
		warn(s, "%s: debug information in %s is corrupt (%s); no file:line for its frames", name,
		     debugfile, dwfl_errmsg(err));
}

static int cmp_alias(const void *a, const void *b)
{
	const struct alias *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	int c = strncmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

#define CT_MAX_SYMBOLS (4u << 20)

static struct alias_index *alias_index(struct ct_symbolizer *s, Dwfl_Module *mod)
{
	for (size_t i = 0; i < s->naliases; i++)
		if (s->aliases[i].mod == mod)
			return &s->aliases[i];
	if (ct_grow(&s->aliases, &s->cap_aliases, s->naliases + 1, sizeof(*s->aliases)) < 0)
		return NULL;
	struct alias_index *ix = &s->aliases[s->naliases++];
	memset(ix, 0, sizeof(*ix));
	ix->mod = mod;
	int n = dwfl_module_getsymtab(mod);
	if (n <= 0 || (unsigned)n > CT_MAX_SYMBOLS || !(ix->v = calloc((size_t)n, sizeof(*ix->v))))
		return ix;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		const char *at = strchr(name, '@');
		ix->v[ix->n++] = (struct alias){ addr, name, at && at != name ? (size_t)(at - name) : strlen(name) };
	}
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_alias);
	return ix;
}

/* Several ELF symbols often name one address (clone3/__clone3, clock_gettime/__vdso_clock_gettime).
 * gdb sorts its minimal symbols by address then name and takes the last: do the same, so that a frame
 * without DWARF reads as in gdb. Returns a name (possibly versioned) or sym itself. */
static const char *gdb_alias(struct ct_symbolizer *s, Dwfl_Module *mod, uint64_t addr, const char *sym)
{
	struct alias_index *ix = alias_index(s, mod);
	if (!ix || !ix->n)
		return sym;
	size_t lo = 0, hi = ix->n;
	while (lo < hi) { /* first entry with addr > the symbol's */
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ix->v[lo - 1].addr != addr)
		return sym;
	return ix->v[lo - 1].name;
}

static int cmp_cu_range(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	return x->low < y->low ? -1 : x->low > y->low;
}

#define CT_MAX_CU_RANGES (1u << 20)

static struct cu_index *cu_index(struct ct_symbolizer *s, Dwfl_Module *mod, Dwarf *dw)
{
	for (size_t i = 0; i < s->ncuix; i++)
		if (s->cuix[i].mod == mod)
			return &s->cuix[i];
	if (ct_grow(&s->cuix, &s->cap_cuix, s->ncuix + 1, sizeof(*s->cuix)) < 0)
		return NULL;
	struct cu_index *ix = &s->cuix[s->ncuix++];
	memset(ix, 0, sizeof(*ix));
	ix->mod = mod;
	size_t cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw, off + hsize, &cu)) {
			Dwarf_Addr base, start, end;
			ptrdiff_t it = 0;
			while ((it = dwarf_ranges(&cu, it, &base, &start, &end)) > 0 && ix->n < CT_MAX_CU_RANGES) {
				if (start >= end || ct_grow(&ix->v, &cap, ix->n + 1, sizeof(*ix->v)) < 0)
					continue;
				ix->v[ix->n++] = (struct cu_range){ start, end, off + hsize };
			}
		}
		off = next;
	}
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_cu_range);
	return ix;
}

/* The CU DIE holding addr (module-relative to the DWARF) when libdw found none through aranges. */
static bool cu_fallback(struct ct_symbolizer *s, Dwfl_Module *mod, uint64_t pc, Dwarf_Die *ret,
			Dwarf_Addr *ret_bias)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	if (!dw)
		return false;
	struct cu_index *ix = cu_index(s, mod, dw);
	if (!ix || !ix->n || pc < bias)
		return false;
	uint64_t a = pc - bias;
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].low <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges of different CUs do not nest; look back a little for the one that holds a */
	for (size_t i = lo, k = 0; i > 0 && k < 64; i--, k++) {
		const struct cu_range *r = &ix->v[i - 1];
		if (a >= r->low && a < r->high) {
			*ret_bias = bias;
			return dwarf_offdie(dw, r->off, ret) != NULL;
		}
	}
	return false;
}

/* The target's PID in its own PID namespace: the number its JIT writes into the perf map's name. */
static pid_t ns_pid(pid_t pid)
{
	_cleanup_free_ char *status = NULL;
	if (ct_proc_read(pid, 0, "status", 1 << 16, &status) < 0)
		return pid;
	pid_t ns = pid;
	return ct_parse_proc_nspid(status, &ns) == 0 ? ns : pid;
}

#define CT_PERFMAP_MAX_BYTES (256u << 20)
#define CT_PERFMAP_MAX_ENTRIES (4u << 20)

/* /tmp/perf-NSPID.map inside the target's root, read once, trusted only when the target's user (or
 * root) owns it: anyone can write a file of that name into /tmp. */
static void load_perfmap(struct ct_symbolizer *s)
{
	s->perfmap_loaded = true;
	if (s->root_fd < 0)
		return;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)ns_pid(s->pid));
	_cleanup_close_ int fd = open_in_root(s->root_fd, path);
	if (fd < 0)
		return; /* no JIT map: the usual case */
	struct stat st, proc;
	char procdir[32];
	snprintf(procdir, sizeof(procdir), "/proc/%d", (int)s->pid);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || stat(procdir, &proc) < 0) {
		warn(s, "%s: not a regular file; JIT frames stay unnamed", path);
		return;
	}
	if (st.st_uid != 0 && st.st_uid != proc.st_uid) {
		warn(s, "%s is owned by uid %u, not by the target's uid %u or root; ignoring it, JIT frames stay unnamed",
		     path, (unsigned)st.st_uid, (unsigned)proc.st_uid);
		return;
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	char self[48];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd); /* the file checked above, reopened */
	int r = ct_read_file(self, CT_PERFMAP_MAX_BYTES, &text, &len);
	if (r < 0) {
		warn(s, "%s: %s; JIT frames stay unnamed", path, strerror(-r));
		return;
	}
	if (ct_perfmap_parse(text, len, CT_PERFMAP_MAX_ENTRIES, &s->perfmap) < 0)
		warn(s, "%s: out of memory; JIT frames stay unnamed", path);
	else if (s->perfmap.bad)
		warn(s, "%s: %zu malformed lines skipped", path, s->perfmap.bad);
}

static int jit_frame(struct ct_symbolizer *s, uint64_t pc, uint64_t pc_adj, struct ct_thread *t)
{
	if (!s->perfmap_loaded)
		load_perfmap(s);
	const struct ct_perfmap_entry *e = ct_perfmap_lookup(&s->perfmap, pc_adj);
	if (!e)
		return 0;
	struct ct_frame *f = new_frame(t, pc, NULL, false);
	if (!f)
		return -ENOMEM;
	f->jit = true;
	f->offset = pc - e->start;
	if (set_str(&f->function, e->name) < 0)
		return -ENOMEM;
	return 1;
}

/* Whether die's DWARF refers to a dwz file that was not found. Its inline records then point into
 * the missing file, and libdw's dwarf_getscopes, unable to reach an inlined function's origin,
 * drops its array without freeing it (fuzz_elf found the leak): such frames are named by the
 * module's symbols instead. */
static bool dwz_missing(Dwarf_Die *die)
{
	Dwarf *dw = die ? dwarf_cu_getdwarf(die->cu) : NULL;
	const char *name;
	const void *id;
	return dw && dwelf_dwarf_gnu_debugaltlink(dw, &name, &id) > 0 && !dwarf_getalt(dw);
}

static int sym_frames(struct ct_symbolizer *s, uint64_t pc, bool activation, struct ct_thread *t)
{
	uint64_t pc_adj = activation || pc == 0 ? pc : pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc_adj);
	/* libdwfl spans a module from its first to its last mapping: anonymous memory in between (node
	 * remaps its text near its JIT heap) is not the module's. */
	const struct ct_proc_map *am = addr_map(s, pc_adj);
	if (am && !am->path)
		mod = NULL;
	const char *modname = NULL;
	if (mod)
		modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	bool deleted = modname && is_deleted(s, modname);
	if (!mod && ct_sym_is_exec(s, pc_adj)) {
		int r = jit_frame(s, pc, pc_adj, t);
		if (r != 0)
			return r;
	}

	const char *symname = NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	if (mod) {
		symname = dwfl_module_addrinfo(mod, pc_adj, &off, &sym, NULL, NULL, NULL);
		if (!symname && !dwfl_module_getelf(mod, &(GElf_Addr){ 0 })) {
			_cleanup_free_ char *name = strndup(modname ? modname : "?", name_len(modname ? modname : "?"));
			if (name && !warned_about(s, name))
				warn(s, "%s: %s; its frames have no symbols", name, dwfl_errmsg(-1));
		}
	}
	uint64_t symoff = symname ? off + (pc - pc_adj) : 0;

	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = mod ? dwfl_module_getsrc(mod, pc_adj) : NULL;
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

	const char *dwname = NULL; /* the DWARF subprogram holding pc, the name gdb shows */
	Dwarf_Die *scopes = NULL;
	int nscopes = 0;
	Dwarf_Die *cudie = NULL, fallback_cu;
	Dwarf_Addr bias = 0;
	if (mod) {
		cudie = dwfl_module_addrdie(mod, pc_adj, &bias);
		if (!cudie && cu_fallback(s, mod, pc_adj, &fallback_cu, &bias)) {
			/* no .debug_aranges (Go): the CU from its ranges, the line from its table */
			cudie = &fallback_cu;
			Dwarf_Line *dl = dwarf_getsrc_die(cudie, pc_adj - bias);
			if (dl && !file) {
				file = dwarf_linesrc(dl, NULL, NULL);
				dwarf_lineno(dl, &line);
			}
		}
		if (cudie && !dwz_missing(cudie))
			nscopes = dwarf_getscopes(cudie, pc_adj - bias, &scopes);
		else
			check_dwarf(s, mod, modname);
	}
	/* The innermost inlined instance, behind any lexical blocks (glibc's are). Past it, dwarf_getscopes
	 * follows the inlined function's own definition, so the call chain comes from
	 * dwarf_getscopes_die, as in eu-addr2line -i. */
	Dwarf_Die *chain = NULL;
	int nchain = 0;
	for (int i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			nchain = dwarf_getscopes_die(&scopes[i], &chain);
			break;
		}
		if (tag == DW_TAG_subprogram)
			break;
	}
	Dwarf_Die *outer = nchain > 0 ? chain : scopes; /* where the containing subprogram is */
	/* gdb names code from assembler sources by its ELF symbols (clone3, not __clone3) */
	int nouter = cudie && dwarf_srclang(cudie) == DW_LANG_Mips_Assembler ? 0 : nchain > 0 ? nchain : nscopes;
	for (int i = 0; i < nouter; i++) {
		if (dwarf_tag(&outer[i]) == DW_TAG_subprogram) {
			Dwarf_Addr low;
			dwname = die_name(&outer[i]);
			if (dwname && !symname && dwarf_lowpc(&outer[i], &low) == 0 && pc_adj - bias >= low)
				symoff = pc - bias - low;
			break;
		}
	}
	if (!s->no_inlines && nchain > 0) {
		/* the chain of the inlined instance itself, up to its containing subprogram */
		int n = inline_frames(s, t, pc, pc_adj, mod, modname, deleted, cudie, chain, nchain,
				      symname, symoff, file, line);
		free(chain);
		free(scopes);
		return n;
	}
	free(chain);
	free(scopes);
	if (!dwname && symname)
		symname = gdb_alias(s, mod, pc_adj - off, symname);
	struct ct_frame *f = new_frame(t, pc, modname, deleted);
	if (!f || set_name(s, &f->function, dwname ? dwname : symname) < 0 || set_str(&f->file, file) < 0)
		return -ENOMEM;
	f->offset = symoff;
	f->line = line;
	return 1;
}

/* File-backed code whose frames can be shared (not JIT, [vdso], or anonymous memory). */
static bool shareable(const struct ct_proc_map *m)
{
	return m && m->path && m->inode && m->path[0] != '[';
}

static unsigned share_flags(struct ct_symbolizer *s, bool activation)
{
	return (activation ? 1u : 0) | (s->no_inlines ? 2u : 0) | (s->no_demangle ? 4u : 0);
}

/* Stores fresh's frames (taken over) under the key; their pcs made relative to base. */
static struct share_entry *share_put(struct share_entry *e, const struct ct_proc_map *m, uint64_t off,
				     uint64_t off2, unsigned flags, struct ct_thread *fresh, uint64_t base)
{
	for (size_t i = 0; i < fresh->nframes; i++)
		fresh->frames[i].pc -= base;
	*e = (struct share_entry){ m->dev, m->inode, off, off2, flags | SHARE_USED, (unsigned)fresh->nframes,
				   fresh->frames };
	share.n++;
	return e;
}

/* Appends copies of e's frames to t, their pcs made absolute again from base. */
static int share_append(struct ct_thread *t, const struct share_entry *e, uint64_t base)
{
	size_t first = t->nframes;
	if (ct_thread_append_frames(t, e->frames, e->nframes) < 0)
		return -ENOMEM;
	for (size_t i = first; i < t->nframes; i++)
		t->frames[i].pc += base; /* the same code may sit at another address in this process */
	return (int)e->nframes;
}

int ct_sym_frames(struct ct_symbolizer *s, uint64_t pc, bool activation, struct ct_thread *t)
{
	uint64_t pc_adj = activation || pc == 0 ? pc : pc - 1;
	const struct ct_proc_map *am = addr_map(s, pc_adj);
	s->stats.lookups++;
	if (!shareable(am) || !share_grow())
		return sym_frames(s, pc, activation, t);
	unsigned flags = share_flags(s, activation);
	uint64_t off = am->offset + (pc_adj - am->start);
	struct share_entry *e = share_slot(share.v, share.cap, am->dev, am->inode, off, 0, flags);
	if (e->flags & SHARE_USED) {
		s->stats.shared_hits++;
	} else {
		struct ct_thread fresh;
		memset(&fresh, 0, sizeof(fresh));
		int r = sym_frames(s, pc, activation, &fresh);
		if (r < 0) {
			ct_thread_clear(&fresh);
			return r;
		}
		share_put(e, am, off, 0, flags, &fresh, pc);
	}
	return share_append(t, e, pc);
}

/* ---- tail calls: the frames gdb infers from DWARF call-site records ------------------------------ */

/* Name of the function a call site calls (DW_AT_call_origin, or DW_AT_abstract_origin for the GNU
 * DWARF 4 extension), or NULL for an indirect call. */
static Dwarf_Die *call_origin(Dwarf_Die *site, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	if (dwarf_attr(site, DW_AT_call_origin, &a) || dwarf_attr(site, DW_AT_abstract_origin, &a))
		return dwarf_formref_die(&a, ret);
	return NULL;
}

static bool site_return_pc(Dwarf_Die *site, Dwarf_Addr *ret)
{
	Dwarf_Attribute a;
	if (dwarf_attr(site, DW_AT_call_return_pc, &a))
		return dwarf_formaddr(&a, ret) == 0;
	return dwarf_lowpc(site, ret) == 0; /* DW_TAG_GNU_call_site */
}

static bool is_call_site(Dwarf_Die *d)
{
	int tag = dwarf_tag(d);
	return tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site;
}

static bool is_tail_call(Dwarf_Die *d)
{
	return dwarf_hasattr(d, DW_AT_call_tail_call) || dwarf_hasattr(d, DW_AT_GNU_tail_call);
}

typedef bool (*site_fn)(Dwarf_Die *site, void *arg);

/* Visits the call sites under a function's DIE (inlined bodies and blocks included), bounded. */
static bool walk_sites(Dwarf_Die *die, site_fn fn, void *arg, int depth, unsigned *budget)
{
	Dwarf_Die child;
	if (depth > 16 || dwarf_child(die, &child) != 0)
		return false;
	do {
		if (!(*budget)--)
			return false;
		if (is_call_site(&child)) {
			if (fn(&child, arg))
				return true;
		} else if (dwarf_haschildren(&child) && walk_sites(&child, fn, arg, depth + 1, budget)) {
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

struct find_ret {
	Dwarf_Addr ret_pc;
	Dwarf_Die site;
};

static bool match_ret(Dwarf_Die *site, void *arg)
{
	struct find_ret *f = arg;
	Dwarf_Addr r;
	if (site_return_pc(site, &r) && r == f->ret_pc) {
		f->site = *site;
		return true;
	}
	return false;
}

struct tail_sites {
	Dwarf_Die site[16];
	int n;
};

static bool collect_tail(Dwarf_Die *site, void *arg)
{
	struct tail_sites *ts = arg;
	if (!is_tail_call(site))
		return false;
	if (ts->n == 16)
		return true;
	ts->site[ts->n++] = *site;
	return false;
}

/* The subprogram DIE holding a module-relative DWARF address (behind lexical blocks and inlines). */
static bool subprogram_at(struct ct_symbolizer *s, Dwfl_Module *mod, uint64_t pc, Dwarf_Die *ret,
			  Dwarf_Addr *ret_bias)
{
	Dwarf_Die fb, *cu = dwfl_module_addrdie(mod, pc, ret_bias);
	if (!cu && cu_fallback(s, mod, pc, &fb, ret_bias))
		cu = &fb;
	if (!cu || dwarf_srclang(cu) == DW_LANG_Mips_Assembler || dwz_missing(cu))
		return false;
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, pc - *ret_bias, &scopes);
	bool ok = false;
	for (int i = 0; i < n && !ok; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Die *chain = NULL;
			int nc = dwarf_getscopes_die(&scopes[i], &chain);
			for (int j = 0; j < nc && !ok; j++)
				if (dwarf_tag(&chain[j]) == DW_TAG_subprogram) {
					*ret = chain[j];
					ok = true;
				}
			free(chain);
			break;
		}
		if (tag == DW_TAG_subprogram) {
			*ret = scopes[i];
			ok = true;
		}
	}
	free(scopes);
	return ok;
}

/* The function a call site's origin names, as a definition with code: the origin itself, or the
 * module's function of that name (a declaration points to no code). */
static bool origin_definition(struct ct_symbolizer *s, Dwfl_Module *mod, Dwarf_Die *origin, Dwarf_Die *ret,
			      Dwarf_Addr *ret_bias)
{
	Dwarf_Addr low;
	if (dwarf_lowpc(origin, &low) == 0) {
		Dwarf_Addr bias;
		if (!dwfl_module_getdwarf(mod, &bias))
			return false;
		*ret = *origin;
		*ret_bias = bias;
		return true;
	}
	const char *name = die_name(origin);
	struct alias_index *ix = name ? alias_index(s, mod) : NULL;
	if (!ix)
		return false;
	size_t len = strlen(name);
	for (size_t i = 0; i < ix->n; i++)
		if (ix->v[i].len == len && strncmp(ix->v[i].name, name, len) == 0)
			return subprogram_at(s, mod, ix->v[i].addr, ret, ret_bias);
	return false;
}

#define CT_TAILCALL_DEPTH 4

struct tail_path {
	const char *callee;
	Dwfl_Module *mod;
	uint64_t pcs[CT_TAILCALL_DEPTH]; /* return pcs of the tail-call sites, outermost first */
	int depth;
	int npaths;                       /* paths found; more than one is ambiguous */
	uint64_t best[CT_TAILCALL_DEPTH];
	int nbest;
	unsigned budget;
};

/* Depth-first over the tail calls of fn (a definition), counting the paths that end at the callee. */
static void tail_search(struct ct_symbolizer *s, struct tail_path *tp, Dwarf_Die *fn, Dwarf_Addr bias)
{
	if (tp->depth >= CT_TAILCALL_DEPTH || tp->npaths > 1)
		return;
	struct tail_sites ts = { .n = 0 };
	walk_sites(fn, collect_tail, &ts, 0, &tp->budget);
	for (int i = 0; i < ts.n && tp->npaths <= 1; i++) {
		Dwarf_Die o, def;
		Dwarf_Addr r, dbias;
		const char *name;
		if (!call_origin(&ts.site[i], &o) || !(name = die_name(&o)) || !site_return_pc(&ts.site[i], &r))
			continue;
		tp->pcs[tp->depth] = r + bias;
		if (strcmp(name, tp->callee) == 0) {
			if (++tp->npaths == 1) {
				memcpy(tp->best, tp->pcs, sizeof(tp->best));
				tp->nbest = tp->depth + 1;
			}
			continue;
		}
		if (!origin_definition(s, tp->mod, &o, &def, &dbias))
			continue;
		tp->depth++;
		tail_search(s, tp, &def, dbias);
		tp->depth--;
	}
}

static int sym_tailcalls(struct ct_symbolizer *s, uint64_t callee_pc, bool callee_activation, uint64_t caller_pc,
			 struct ct_thread *t)
{
	uint64_t cpc = callee_activation || callee_pc == 0 ? callee_pc : callee_pc - 1;
	if (caller_pc == 0)
		return 0;
	Dwfl_Module *cmod = dwfl_addrmodule(s->dwfl, cpc), *mod = dwfl_addrmodule(s->dwfl, caller_pc - 1);
	if (!cmod || cmod != mod) /* a tail call into another module goes through the PLT: not inferred */
		return 0;
	Dwarf_Die callee, caller, target, origin;
	Dwarf_Addr bias, tbias;
	const char *callee_name, *called;
	if (!subprogram_at(s, cmod, cpc, &callee, &bias) || !(callee_name = die_name(&callee)) ||
	    !subprogram_at(s, mod, caller_pc - 1, &caller, &bias))
		return 0;
	/* the call the caller made, found by its return address */
	struct find_ret fr = { .ret_pc = caller_pc - bias };
	unsigned budget = 100000;
	if (!walk_sites(&caller, match_ret, &fr, 0, &budget) || !call_origin(&fr.site, &origin) ||
	    !(called = die_name(&origin)) || strcmp(called, callee_name) == 0)
		return 0; /* unknown, indirect, or the callee itself: no tail call in between */
	if (!origin_definition(s, mod, &origin, &target, &tbias))
		return 0;
	struct tail_path tp = { .callee = callee_name, .mod = mod, .budget = 200000 };
	tail_search(s, &tp, &target, tbias);
	if (tp.npaths != 1)
		return 0; /* none, or ambiguous: gdb shows nothing then either */
	/* the function the caller called holds the outermost site: innermost first, as frames go */
	int added = 0;
	for (int i = tp.nbest - 1; i >= 0; i--) {
		int r = ct_sym_frames(s, tp.best[i], false, t);
		if (r < 0)
			return r;
		added += r;
	}
	return added;
}

/* Through the shared cache: the same pair of frames in another thread, sample or process (the same
 * module, as a tail call is inferred only within one) has the same frames in between, at addresses
 * that differ by the module's placement: kept relative to caller_pc. */
int ct_sym_tailcalls(struct ct_symbolizer *s, uint64_t callee_pc, bool callee_activation, uint64_t caller_pc,
		     struct ct_thread *t)
{
	uint64_t cpc = callee_activation || callee_pc == 0 ? callee_pc : callee_pc - 1;
	if (caller_pc == 0)
		return 0;
	const struct ct_proc_map *cm = addr_map(s, cpc), *am = addr_map(s, caller_pc - 1);
	if (!shareable(cm) || !shareable(am) || cm->dev != am->dev || cm->inode != am->inode || !share_grow())
		return sym_tailcalls(s, callee_pc, callee_activation, caller_pc, t);
	unsigned flags = share_flags(s, callee_activation) | SHARE_TAIL;
	uint64_t off = cm->offset + (cpc - cm->start), off2 = am->offset + (caller_pc - 1 - am->start);
	struct share_entry *e = share_slot(share.v, share.cap, cm->dev, cm->inode, off, off2, flags);
	if (!(e->flags & SHARE_USED)) {
		struct ct_thread fresh;
		memset(&fresh, 0, sizeof(fresh));
		int r = sym_tailcalls(s, callee_pc, callee_activation, caller_pc, &fresh);
		if (r < 0) {
			ct_thread_clear(&fresh);
			return r;
		}
		/* sym_tailcalls went through ct_sym_frames, which may have filled or moved the table */
		if (!share_grow()) {
			int n = (int)fresh.nframes;
			r = ct_thread_append_frames(t, fresh.frames, fresh.nframes);
			ct_thread_clear(&fresh);
			return r < 0 ? r : n;
		}
		e = share_slot(share.v, share.cap, cm->dev, cm->inode, off, off2, flags);
		share_put(e, cm, off, off2, flags, &fresh, caller_pc);
	}
	return share_append(t, e, caller_pc);
}
