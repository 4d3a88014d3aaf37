/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the core reader (core/core.c), on untrusted cores: ELF and program headers,
 * notes (NT_PRSTATUS, NT_PRPSINFO, NT_FILE, NT_AUXV, NT_SIGINFO), the mappings built from them and
 * reads of the memory; compressed inputs (zstd, lz4, apport) go through core/inflate.c with a small
 * cap. Seeds in tests/fuzz/corpus/fuzz_core: small cores and a compressed one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_core_opts o = { 64u << 20, NULL };
	struct ct_core *c = NULL;
	char *why = NULL;
	if (ct_core_open_mem(data, size, &o, &c, &why) < 0) {
		free(why);
		return 0;
	}
	size_t n, nseg;
	const struct ct_core_thread *t = ct_core_threads(c, &n);
	const struct ct_core_segment *seg = ct_core_segments(c, &nseg);
	uint8_t buf[256];
	for (size_t i = 0; i < n && i < 64; i++)
		(void)ct_core_read(c, t[i].regs[CT_REG_RSP] - 64, buf, sizeof(buf));
	for (size_t i = 0; i < nseg && i < 64; i++)
		(void)ct_core_read(c, seg[i].vaddr + seg[i].memsz / 2, buf, sizeof(buf));
	struct ct_proc_map *maps;
	if (ct_core_maps(c, &maps, &n) == 0)
		ct_proc_maps_free(maps, n);
	(void)ct_core_signal(c, NULL);
	(void)ct_core_missing(c, NULL);
	ct_core_close(c);
	return 0;
}
