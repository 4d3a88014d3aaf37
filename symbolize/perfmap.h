/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /tmp/perf-PID.map: names of JIT-compiled code, one "START SIZE NAME" line per function, written by
 * the target itself (node --perf-basic-prof, the JVM's perf-map-agent, LuaJIT, …): where it is, whose
 * it must be to be believed, and its text. The text is target-controlled: lines that do not parse,
 * empty or absurd ranges are skipped and counted. */
#ifndef CT_PERFMAP_H
#define CT_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CT_PERFMAP_MAX_NAME 1024          /* longer names are cut */
#define CT_PERFMAP_MAX_RANGE (1ull << 32) /* a function larger than 4 GiB is a bad line */

struct ct_perfmap_entry {
	uint64_t start, end; /* [start, end) */
	char *name;
};

struct ct_perfmap {
	struct ct_perfmap_entry *e; /* sorted by start, not overlapping */
	size_t n;
	size_t bad; /* lines skipped as malformed */
};

/* Parses len bytes of text (no NUL needed) keeping at most max_entries. A later line for the same
 * address wins (code re-JITted in place); an earlier range overlapped by a later one is cut short.
 * Returns 0 or -ENOMEM; *ret is filled on success (possibly with n == 0). */
int ct_perfmap_parse(const char *text, size_t len, size_t max_entries, struct ct_perfmap *ret);
/* The entry holding addr, or NULL. */
const struct ct_perfmap_entry *ct_perfmap_lookup(const struct ct_perfmap *m, uint64_t addr);
void ct_perfmap_free(struct ct_perfmap *m);

/* Where process pid's JIT writes its map, as the target sees it (to be opened inside its root):
 * /tmp/perf-NSPID.map, NSPID its PID in its own PID namespace. */
void ct_perfmap_path(pid_t pid, char *buf, size_t size);
/* Reads and parses the perf map open at fd (path: its name, for messages) of process pid, trusted
 * only when the target's user (or root) owns it: anyone can write a file of that name into /tmp.
 * Returns 0 (then *ret is filled, see ct_perfmap_parse) or -errno: -EINVAL not a regular file,
 * -EPERM owned by someone else, else from reading or parsing. *ret_warning is a line to say
 * (caller frees) on failure or when malformed lines were skipped, else NULL. */
int ct_perfmap_load(int fd, const char *path, pid_t pid, struct ct_perfmap *ret, char **ret_warning);

#endif
