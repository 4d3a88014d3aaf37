/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/debugcache.h"

#include <errno.h>
#include <fcntl.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cache.h"
#include "lib/util.h"
#include "lib/banned.h"

/* Debug files larger than this inflated are not copied. */
#define CT_DEBUGCACHE_MAX_BYTES (1ull << 30)
/* Section alignment accepted in a debug file (real ones stay at or below a page). */
#define CT_DEBUGCACHE_MAX_ALIGN (64u << 10)

static bool has_compressed(Elf *e, uint64_t *ret_size)
{
	bool any = false;
	uint64_t total = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return false;
		if (sh.sh_flags & SHF_COMPRESSED) {
			GElf_Chdr ch;
			if (gelf_getchdr(scn, &ch))
				total += ch.ch_size;
			any = true;
		} else if (sh.sh_type != SHT_NOBITS) {
			total += sh.sh_size;
		}
	}
	*ret_size = total;
	return any;
}

/* A build-id of len bytes (at most 64) in hex, into out of 2 * len + 1 bytes or more. */
static void id_hex(const unsigned char *bits, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", bits[i]);
}

/* e's GNU build-id in hex (libdwelf finds the note), 0 or -errno */
static int build_id_hex(Elf *e, char *out, size_t outsz)
{
	const void *bits = NULL;
	ssize_t len = dwelf_elf_gnu_build_id(e, &bits);
	if (len <= 0)
		return len == 0 ? -ENOENT : -EINVAL;
	if (len > 64 || (size_t)len * 2 + 1 > outsz)
		return -EINVAL;
	id_hex(bits, (size_t)len, out);
	return 0;
}

int ct_debugcache_inflate(int fd, const char *path)
{
	Elf *in = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!in)
		return -EINVAL;
	int r = -EINVAL;
	struct ct_buf tmp = CT_BUF_INIT;
	ct_buf_printf(&tmp, "%s.tmp.%d", path, (int)getpid());
	int out_fd = open(ct_buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		r = -errno;
		goto out_in;
	}
	Elf *out = elf_begin(out_fd, ELF_C_WRITE, NULL);
	GElf_Ehdr eh;
	size_t phnum, shstrndx;
	if (!out || elf_kind(in) != ELF_K_ELF || !gelf_getehdr(in, &eh) || elf_getphdrnum(in, &phnum) < 0 ||
	    elf_getshdrstrndx(in, &shstrndx) < 0 || !gelf_newehdr(out, gelf_getclass(in)))
		goto out_out;
	if (phnum > 0) {
		if (!gelf_newphdr(out, phnum))
			goto out_out;
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(in, (int)i, &ph) || !gelf_update_phdr(out, (int)i, &ph))
				goto out_out;
		}
	}
	/* The copy holds every section's bytes, inflated and aligned: at most CT_DEBUGCACHE_MAX_BYTES of
	 * them. A section whose bytes cannot be read, or aligned beyond CT_DEBUGCACHE_MAX_ALIGN, is
	 * refused rather than laid out as its header says (a crafted sh_size or sh_addralign made
	 * libelf write files of terabytes, found by tests/fuzz/fuzz_elf). */
	uint64_t total = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(in, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		if (!gelf_getshdr(scn, &sh))
			goto out_out;
		if ((sh.sh_flags & SHF_COMPRESSED) &&
		    (!gelf_getchdr(scn, &ch) || ch.ch_size > CT_DEBUGCACHE_MAX_BYTES - total ||
		     elf_compress(scn, 0, 0) < 0 || !gelf_getshdr(scn, &sh)))
			goto out_out;
		Elf_Scn *ns = elf_newscn(out);
		if (!ns)
			goto out_out;
		if (sh.sh_type != SHT_NOBITS && sh.sh_size > 0) {
			Elf_Data *d = elf_getdata(scn, NULL);
			if (!d || d->d_size != sh.sh_size || d->d_align > CT_DEBUGCACHE_MAX_ALIGN ||
			    sh.sh_addralign > CT_DEBUGCACHE_MAX_ALIGN ||
			    d->d_size + CT_DEBUGCACHE_MAX_ALIGN > CT_DEBUGCACHE_MAX_BYTES - total)
				goto out_out;
			total += d->d_size + CT_DEBUGCACHE_MAX_ALIGN; /* with its padding, at most */
			Elf_Data *nd = elf_newdata(ns);
			if (!nd)
				goto out_out;
			*nd = *d;
		} else if (sh.sh_type == SHT_NOBITS && sh.sh_size > 0) {
			/* A section without data would be read back from the new file by the size
			 * pass below, leaving a block that fails the write with "unknown version"
			 * (every separate debug file has such sections); without data its size
			 * would also be written as 0. A NOBITS block takes no room in the file. */
			Elf_Data *nd = elf_newdata(ns);
			if (!nd)
				goto out_out;
			nd->d_type = ELF_T_BYTE;
			nd->d_size = sh.sh_size;
			nd->d_align = 1;
			nd->d_version = EV_CURRENT;
		}
		if (!gelf_update_shdr(ns, &sh))
			goto out_out;
	}
	eh.e_shstrndx = shstrndx < SHN_LORESERVE ? (GElf_Half)shstrndx : SHN_XINDEX;
	if (!gelf_update_ehdr(out, &eh))
		goto out_out;
	if (shstrndx >= SHN_LORESERVE) {
		GElf_Shdr z;
		Elf_Scn *zero = elf_getscn(out, 0);
		if (!zero || !gelf_getshdr(zero, &z))
			goto out_out;
		z.sh_link = (GElf_Word)shstrndx;
		if (!gelf_update_shdr(zero, &z))
			goto out_out;
	}
	/* what libelf would write, from every header the file claims (program headers too), bounded
	 * before anything is written */
	int64_t size = elf_update(out, ELF_C_NULL);
	if (size < 0 || (uint64_t)size > CT_DEBUGCACHE_MAX_BYTES) {
		r = -EFBIG;
		goto out_out;
	}
	errno = 0;
	if (elf_update(out, ELF_C_WRITE) < 0) {
		r = errno ? -errno : -EIO; /* the disk full, a quota: said to the user */
		goto out_out;
	}
	r = 0;
out_out:
	if (out)
		elf_end(out);
	if (close(out_fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(ct_buf_cstr(&tmp), path) < 0)
		r = -errno;
	if (r < 0)
		unlink(ct_buf_cstr(&tmp));
out_in:
	elf_end(in);
	ct_buf_free(&tmp);
	return r;
}


int ct_debugcache_open(int fd, char **ret_path, int *ret_err)
{
	*ret_path = NULL;
	*ret_err = 0;
	const char *dir = ct_cache_dir();
	if (!dir || fd < 0)
		return fd;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return fd;
	uint64_t size = 0;
	char id[130];
	bool worth = has_compressed(e, &size) && size <= CT_DEBUGCACHE_MAX_BYTES &&
		     build_id_hex(e, id, sizeof(id)) == 0;
	elf_end(e);
	if (!worth)
		return fd;
	int r = ct_cache_dir_ensure(dir);
	if (r < 0) {
		*ret_err = r;
		return fd;
	}
	struct ct_buf path = CT_BUF_INIT;
	ct_buf_printf(&path, "%s/%s.debug", dir, id);
	int cfd = ct_cache_open(ct_buf_cstr(&path), 0);
	if (cfd < 0) {
		r = ct_debugcache_inflate(fd, ct_buf_cstr(&path));
		if (r == 0)
			cfd = ct_cache_open(ct_buf_cstr(&path), 0);
		/* a file inflate refuses (malformed, too large) is no fault of the cache's */
		if (cfd < 0 && r != -EINVAL && r != -EFBIG)
			*ret_err = r < 0 ? r : cfd;
	}
	if (cfd < 0) {
		ct_buf_free(&path);
		return fd;
	}
	/* libdw checks the copy's build-id against the module's before it uses it */
	close(fd);
	*ret_path = ct_buf_steal(&path);
	return cfd;
}

static int open_debug(const char *path, const char *want_id, char **ret_name, int *ret_err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* the file must carry the module's build-id, whatever its name says */
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char id[130];
	bool ok = e && build_id_hex(e, id, sizeof(id)) == 0 && strcmp(id, want_id) == 0;
	if (e)
		elf_end(e);
	if (!ok) {
		close(fd);
		return -1;
	}
	char *cached = NULL;
	fd = ct_debugcache_open(fd, &cached, ret_err);
	*ret_name = cached ? cached : strdup(path);
	return fd;
}

int ct_debugcache_find(struct Dwfl_Module *mod, const char *debuginfo_path, char **ret_name,
		       int *ret_err)
{
	*ret_err = 0;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len <= 1 || len > 64)
		return -1;
	char id[130];
	id_hex(bits, (size_t)len, id);
	const char *dir = ct_cache_dir();
	if (dir && ct_cache_dir_ensure(dir) == 0) {
		struct ct_buf p = CT_BUF_INIT;
		ct_buf_printf(&p, "%s/%s.debug", dir, id);
		int fd = ct_cache_open(ct_buf_cstr(&p), 0);
		if (fd >= 0) {
			*ret_name = ct_buf_steal(&p);
			return fd;
		}
		ct_buf_free(&p);
	}
	const char *s = debuginfo_path ? debuginfo_path : "/usr/lib/debug";
	while (*s) {
		size_t n = strcspn(s, ":");
		if (n > 0 && s[0] == '/' && n < 3000) {
			char path[4096];
			snprintf(path, sizeof(path), "%.*s/.build-id/%.2s/%s.debug", (int)n, s, id, id + 2);
			int fd = open_debug(path, id, ret_name, ret_err);
			if (fd >= 0)
				return fd;
		}
		s += n;
		if (*s == ':')
			s++;
	}
	return -1;
}
