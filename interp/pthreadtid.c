/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/pthreadtid.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "layout/dwtype.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_SYMBOLS (1 << 22)
#define MAX_RODATA (64u << 20) /* bytes of libc's .rodata searched for the banner */

/* glibc versions whose struct pthread was read from their DWARF, with the offset of tid found
 * there. Add a version by checking it the same way (tests/unit/test_pthreadtid.c does, with its
 * libc's debug file installed). */
static const struct {
	unsigned major, minor;
	size_t off;
} known[] = {
#if defined(__x86_64__)
	{ 2, 36, 0x2d0 }, /* Debian 12 (2.36-9+deb12u*), libc6-dbg */
#endif
};

int ct_pthread_tid_known(unsigned major, unsigned minor, size_t *ret_off)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(known); i++)
		if (known[i].major == major && known[i].minor == minor) {
			*ret_off = known[i].off;
			return 0;
		}
	return -ENOENT;
}

int ct_glibc_banner_version(const char *buf, size_t len, unsigned *ret_major, unsigned *ret_minor)
{
	static const char key[] = "release version ";
	const size_t klen = sizeof(key) - 1;
	const char *p = buf, *end = buf + len;
	while (p < end && (p = memmem(p, (size_t)(end - p), key, klen))) {
		const char *q = p + klen;
		unsigned v[2] = { 0, 0 };
		size_t k = 0, digits = 0;
		for (; q < end && k < 2; q++) {
			if (*q >= '0' && *q <= '9' && digits < 4) {
				v[k] = v[k] * 10 + (unsigned)(*q - '0');
				digits++;
			} else if (*q == '.' && digits && k == 0) {
				k = 1;
				digits = 0;
			} else {
				break;
			}
		}
		/* "2.36" then something that is not a digit (a 5th digit stopped the loop above; the end
		 * of buf may have cut the number short) */
		if (k == 1 && digits && q < end && (*q < '0' || *q > '9') && v[0] >= 2) {
			*ret_major = v[0];
			*ret_minor = v[1];
			return 0;
		}
		p += klen;
	}
	return -ENOENT;
}

static int symbol_addr(Dwfl_Module *mod, const char *want, GElf_Addr *ret)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < MAX_SYMBOLS; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (name && sym.st_shndx != SHN_UNDEF && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    strcmp(name, want) == 0) {
			*ret = addr;
			return 0;
		}
	}
	return -ENOENT;
}

/* Member tid of struct pthread, in the CU of pthread_create (pthread_create.c uses the struct, so
 * its CU has the complete type; searching every CU of libc would cost far more) */
static int offset_from_dwarf(Dwfl_Module *mod, size_t *ret_off)
{
	Dwarf_Addr bias;
	if (!dwfl_module_getdwarf(mod, &bias))
		return -CT_ENODEBUG;
	GElf_Addr fn;
	if (symbol_addr(mod, "pthread_create", &fn) < 0 && symbol_addr(mod, "__pthread_create_2_1", &fn) < 0)
		return -CT_ENODEBUG;
	Dwarf_Die *cup = dwfl_module_addrdie(mod, fn, &bias);
	if (!cup)
		return -CT_ENODEBUG;
	Dwarf_Die cu = *cup, st, tid;
	size_t off, size, struct_size;
	int r = ct_dwtype_find(&cu, "pthread", &st);
	if (r < 0)
		return r == -ENOENT ? -CT_ENODEBUG : r;
	if (dwarf_tag(&st) != DW_TAG_structure_type || ct_dwtype_size(&st, &struct_size) < 0 ||
	    ct_dwtype_member(&st, "tid", &off, &tid) < 0 || ct_dwtype_size(&tid, &size) < 0 || size != 4 ||
	    off > CT_PTHREAD_MAX_TID_OFF || off + size > struct_size)
		return -EPROTO;
	*ret_off = off;
	return 0;
}

/* The glibc version from the banner in libc's .rodata */
static int libc_version(Dwfl_Module *mod, unsigned *ret_major, unsigned *ret_minor)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) < 0)
		return -ENOENT;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)) || strcmp(name, ".rodata") != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size > MAX_RODATA)
			return -ENOENT;
		return ct_glibc_banner_version(d->d_buf, d->d_size, ret_major, ret_minor);
	}
	return -ENOENT;
}

int ct_pthread_tid_offset_module(Dwfl_Module *libc, size_t *ret_off, enum ct_pthread_tid_how *ret_how)
{
	size_t off;
	int r = offset_from_dwarf(libc, &off);
	if (r == 0) {
		*ret_off = off;
		if (ret_how)
			*ret_how = CT_PTHREAD_TID_DWARF;
		return 0;
	}
	if (r != -CT_ENODEBUG)
		return r; /* DWARF that says something else than the table would: not overruled */
	unsigned major, minor;
	if (libc_version(libc, &major, &minor) < 0 || ct_pthread_tid_known(major, minor, &off) < 0)
		return -CT_ENODEBUG;
	*ret_off = off;
	if (ret_how)
		*ret_how = CT_PTHREAD_TID_TABLE;
	return 0;
}

static int find_libc(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)start;
	if (name && strcmp(ct_basename(name), "libc.so.6") == 0) {
		*(Dwfl_Module **)arg = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

int ct_pthread_tid_offset(Dwfl *dwfl, size_t *ret_off, enum ct_pthread_tid_how *ret_how)
{
	Dwfl_Module *libc = NULL;
	if (dwfl)
		dwfl_getmodules(dwfl, find_libc, &libc, 0);
	if (!libc)
		return -ENOENT;
	return ct_pthread_tid_offset_module(libc, ret_off, ret_how);
}

uint64_t ct_pthread_tid_read(pid_t pid, size_t off, uint64_t thread_id)
{
	struct ct_memsrc live = ct_memsrc_live(pid);
	int32_t tid;
	char path[64];
	if (!off || !thread_id || ct_interp_read(&live, thread_id + off, &tid, sizeof(tid)) < 0 || tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0 ? (uint64_t)tid : 0;
}
