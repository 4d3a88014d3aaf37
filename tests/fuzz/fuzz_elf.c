/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an ELF file from the target (a library, an executable, a debug file) as far as
 * ctrace's own code touches it: the input, in a memfd, is reported to libdw as one module named
 * libc.so.6 (ct_sym_open_elf), then symbolized at its function symbols and at addresses taken
 * from the input (inline chains, CU ranges without .debug_aranges, gdb's symbol aliases, tail-call
 * sites), read as glibc for malloc's layout (memory/glibc.c's DWARF reader), and, when it has
 * compressed sections, inflated as the debug-file cache does (symbolize/debugcache.c).
 * Seeds: small ELF files in tests/fuzz/corpus/fuzz_elf (see its README). Run with `make fuzz`. */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/model.h"
#include "memory/glibc.h"
#include "symbolize/debugcache.h"
#include "symbolize/symbolizer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x7f0000000000ull
#define MAX_PCS 48

static int memfd = -1;
static char inflated[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("CTRACE_CACHE_DIR", "off", 1); /* no layout cache: the DWARF is read every time */
	memfd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	snprintf(inflated, sizeof(inflated), "/tmp/ctrace-fuzz-elf.%d", (int)getpid());
	return memfd < 0;
}

static bool has_compressed(int fd)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool any = false;
	for (Elf_Scn *scn = NULL; e && !any && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		any = gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED);
	}
	if (e)
		elf_end(e);
	return any;
}

static int first_module(Dwfl_Module *m, void **u, const char *n, Dwarf_Addr a, void *arg)
{
	(void)u;
	(void)n;
	(void)a;
	*(Dwfl_Module **)arg = m;
	return DWARF_CB_ABORT;
}

static void symbolize(struct ct_symbolizer *s, const uint8_t *data, size_t size)
{
	Dwfl_Module *mod = NULL;
	Dwarf_Addr low = 0, high = 0;
	dwfl_getmodules(ct_sym_dwfl(s), first_module, &mod, 0);
	if (!mod)
		return;
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	uint64_t pcs[MAX_PCS];
	size_t n = 0;
	int nsym = dwfl_module_getsymtab(mod);
	for (int i = 1; i < nsym && n < MAX_PCS / 2; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		if (dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL) &&
		    GELF_ST_TYPE(sym.st_info) == STT_FUNC && addr >= low && addr < high) {
			pcs[n++] = addr;
			if (sym.st_size > 1)
				pcs[n++] = addr + sym.st_size / 2;
		}
	}
	/* addresses the input chooses: its last bytes, as offsets into the module */
	for (size_t k = 0; k + 4 <= size && k < 64 && n < MAX_PCS; k += 4) {
		uint32_t off;
		memcpy(&off, data + size - 4 - k, 4);
		pcs[n++] = low + (high > low ? off % (high - low) : off);
	}
	for (size_t i = 0; i < n; i++) {
		struct ct_thread t;
		memset(&t, 0, sizeof(t));
		ct_sym_frames(s, pcs[i], i == 0, &t);
		if (i + 1 < n)
			ct_sym_tailcalls(s, pcs[i], i == 0, pcs[i + 1], &t);
		ct_thread_clear(&t);
	}
	while (ct_sym_next_warning(s))
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	struct ct_sym_opts o = { 0 };
	struct ct_symbolizer *s = NULL;
	if (ct_sym_open_elf(memfd, "/lib/x86_64-linux-gnu/libc.so.6", BASE, &o, &s) == 0) {
		symbolize(s, data, size);
		struct ct_glibc_reader *g = NULL;
		char *why = NULL;
		if (ct_glibc_open(&(struct ct_memsrc){ 0 }, s, &g, &why) == 0)
			ct_glibc_close(g);
		free(why);
		ct_sym_close(s);
	}
	if (has_compressed(memfd)) {
		ct_debugcache_inflate(memfd, inflated);
		unlink(inflated);
	}
	return 0;
}
