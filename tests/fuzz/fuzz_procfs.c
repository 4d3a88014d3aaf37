/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the /proc text parsers of lib/procfs.c (a target controls its comm, its
 * mapped paths and, through them, these files). The first byte picks the parser; the rest is the
 * file's text. Run with `make fuzz`; seeds are real files in tests/fuzz/corpus/fuzz_procfs.
 * fuzz_procmem fuzzes the status and smaps parsers of --memory too, with the grouping after them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size); /* the parsers take NUL-terminated text, as ct_proc_read gives */
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	switch (data[0] % 11) {
	case 0: {
		struct ct_proc_stat st;
		ct_parse_proc_stat(text, &st);
		break;
	}
	case 1: {
		struct ct_proc_status st;
		ct_parse_proc_status(text, &st);
		break;
	}
	case 2: {
		struct ct_proc_syscall sc;
		ct_parse_proc_syscall(text, &sc);
		break;
	}
	case 3: {
		struct ct_proc_map m;
		if (ct_parse_proc_maps_line(text, &m) == 0)
			free(m.path);
		break;
	}
	case 4: {
		struct ct_proc_map *maps = NULL;
		size_t n = 0;
		if (ct_parse_proc_maps(text, 64, &maps, &n) == 0)
			ct_proc_maps_free(maps, n);
		break;
	}
	case 5: {
		struct ct_proc_schedstat ss;
		ct_parse_proc_schedstat(text, &ss);
		break;
	}
	case 6: {
		struct ct_mem_status st;
		if (ct_parse_proc_mem_status(text, &st) == 0 && memchr(st.name, 0, sizeof(st.name)) == NULL)
			abort(); /* the name is always terminated */
		break;
	}
	case 7: {
		struct ct_smaps_entry *e = NULL;
		size_t n = 0;
		if (ct_parse_proc_smaps(text, 64, &e, &n) == 0)
			ct_proc_smaps_free(e, n);
		break;
	}
	case 8: {
		pid_t p;
		if (ct_parse_proc_nspid(text, &p) == 0 && (p <= 0 || p >= (1 << 30)))
			abort();
		break;
	}
	case 9: {
		struct ct_proc_sigmasks m;
		if (ct_parse_proc_sigmasks(text, &m) == 0 &&
		    !((m.state >= 'A' && m.state <= 'Z') || (m.state >= 'a' && m.state <= 'z')))
			abort(); /* the state is a letter */
		break;
	}
	case 10: {
		pid_t *p = NULL;
		size_t n = 0;
		if (ct_parse_proc_children(text, 64, &p, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (p[i] <= 0)
					abort();
			free(p);
		}
		break;
	}
	}
	free(text);
	return 0;
}
