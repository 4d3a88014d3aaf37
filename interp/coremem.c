/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/coremem.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

/* Up to len bytes at addr from a module's file: the load segment of the module (not writable)
 * whose file-backed part holds addr; 0 when none does. */
static size_t from_file(struct ct_symbolizer *sym, uint64_t addr, void *buf, size_t len)
{
	Dwfl *dwfl = ct_sym_dwfl(sym);
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
	Dwarf_Addr bias = 0;
	Elf *elf = mod ? dwfl_module_getelf(mod, &bias) : NULL;
	size_t nph = 0, fsize = 0;
	if (!elf || elf_getphdrnum(elf, &nph) != 0)
		return 0;
	const char *raw = elf_rawfile(elf, &fsize);
	if (!raw || addr < bias)
		return 0;
	uint64_t va = addr - bias;
	for (size_t i = 0; i < nph && i < 4096; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || (ph.p_flags & PF_W))
			continue;
		if (va < ph.p_vaddr || va - ph.p_vaddr >= ph.p_filesz)
			continue;
		uint64_t off = ph.p_offset + (va - ph.p_vaddr);
		uint64_t avail = ph.p_filesz - (va - ph.p_vaddr);
		if (ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
			return 0; /* a segment past the file's end: not trusted */
		size_t n = (size_t)CT_MIN((uint64_t)len, avail);
		memcpy(buf, raw + off, n);
		return n;
	}
	return 0;
}

ssize_t ct_coremem_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct ct_coremem *m = arg;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		if (a < addr)
			break;
		ssize_t n = ct_memsrc_read(&m->core, a, (uint8_t *)buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		size_t f = from_file(m->sym, a, (uint8_t *)buf + done, len - done);
		if (f == 0)
			break;
		m->file_bytes += f;
		done += f;
	}
	return done ? (ssize_t)done : -EFAULT;
}

struct ct_memsrc ct_coremem_src(struct ct_coremem *m)
{
	return (struct ct_memsrc){ .pid = m->core.pid, .read = ct_coremem_read, .arg = m };
}
