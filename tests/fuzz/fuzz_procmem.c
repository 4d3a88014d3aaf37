/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the /proc parsers of --memory (in lib/procfs.c): status, smaps and
 * smaps_rollup (a target names its mappings' files, and through memfd_create and prctl
 * PR_SET_VMA its anonymous ones), then the grouping of the mappings with thread stack pointers
 * and arena ranges taken from the input. The first byte picks the parser; the rest is the text.
 * Seeds: real files in tests/fuzz/corpus/fuzz_procmem. Run with `make fuzz`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/procfs.h"
#include "memory/procmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	if (data[0] % 2 == 0) {
		struct ct_mem_status st; /* written only on success: the check is only then */
		if (ct_parse_proc_mem_status(text, &st) == 0 && memchr(st.name, 0, sizeof(st.name)) == NULL)
			abort(); /* the name is always terminated */
		free(text);
		return 0;
	}
	struct ct_smaps_entry *e = NULL;
	size_t n = 0;
	if (ct_parse_proc_smaps(text, 4096, &e, &n) == 0) {
		/* hints from the input's bytes: stack pointers and arena ranges at mapping addresses */
		struct ct_mem_thread_sp sps[4];
		uint64_t ranges[2][2];
		memset(sps, 0, sizeof(sps));
		for (size_t i = 0; i < 4 && i < n; i++) {
			size_t k = (data[0] >> 1) % n;
			sps[i].tid = (pid_t)(1000 + i);
			sps[i].sp = e[(k + i) % n].map.start + (data[0] & 0x30);
		}
		for (size_t i = 0; i < 2 && i < n; i++) {
			ranges[i][0] = e[(i * 7) % n].map.start;
			ranges[i][1] = e[(i * 7) % n].map.end;
		}
		struct ct_mem_hints h = { 1000, sps, n < 4 ? n : 4, (const uint64_t(*)[2])ranges, n < 2 ? n : 2 };
		struct ct_mem_group *g = NULL;
		size_t ng = 0;
		if (ct_mem_group_maps(e, n, &h, &g, &ng) == 0) {
			uint64_t rss = 0, total = 0;
			for (size_t i = 0; i < ng; i++) {
				if (!g[i].name || (i > 0 && g[i].rss > g[i - 1].rss))
					abort(); /* named, sorted by rss */
				rss += g[i].rss;
			}
			for (size_t i = 0; i < n; i++)
				total += e[i].rss;
			if (rss != total)
				abort(); /* every mapping in exactly one group */
			ct_mem_groups_free(g, ng);
		}
		ct_proc_smaps_free(e, n);
	}
	free(text);
	return 0;
}
