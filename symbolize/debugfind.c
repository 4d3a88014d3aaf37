/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/debugfind.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "symbolize/debugcache.h"
#include "lib/util.h"
#include "lib/banned.h"

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
			   const char *search, char **debuginfo_file_name, Dwarf *alt_of,
			   struct ct_debugfind_result *ret)
{
	bool alt = alt_of != NULL;
	if (!alt) {
		/* by build-id, through the cache of inflated copies (debugcache.h) */
		int cfd = ct_debugcache_find(mod, search, debuginfo_file_name, &ret->cache_err);
		if (cfd >= 0)
			return cfd;
	}
	/* by build-id in the absolute search directories, which the administrator or the user chose */
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					      debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || !search || !file_name)
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
		alt_candidates(&cands, search, file_name, altname);
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
		main_candidates(&cands, search, file_name, link);
		/* and from the file's real path when its name is a symlink */
		_cleanup_free_ char *canon = realpath(file_name, NULL);
		if (canon && strcmp(canon, file_name) != 0)
			main_candidates(&cands, search, canon, link);
		try_candidates(&cands, have_main ? &main_st : NULL, id, (size_t)idlen, link ? debuglink_crc : 0, &r);
	}
	ct_buf_free(&cands);
	ret->searched = true;
	ret->by_build_id = idlen > 0;
	ret->bad = r.bad;
	ret->mismatch = r.mismatch;
	if (r.fd >= 0)
		*debuginfo_file_name = r.name;
	else
		free(r.name);
	return r.fd;
}

int ct_debugfind(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, const char *file_name,
		 const char *debuglink_file, GElf_Word debuglink_crc, const char *search, char **ret_name,
		 struct ct_debugfind_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* libdwfl asks for a module's debug file only while it has none, and for its dwz file once it
	 * has one: a debug file (or DWARF in the main file) already set tells the two apart. */
	Dwarf_Addr bias;
	ret->alt = has_debug_file(mod);
	Dwarf *dw = ret->alt ? dwfl_module_getdwarf(mod, &bias) : NULL; /* set already: no recursion */
	if (ret->alt && !dw)
		return -1;
	int fd = find_debug_file(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc, search,
				 ret_name, dw, ret);
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

void ct_debugfind_result_free(struct ct_debugfind_result *r)
{
	free(r->bad);
	free(r->mismatch);
	r->bad = r->mismatch = NULL;
}
