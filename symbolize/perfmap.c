/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/perfmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/procfs.h"
#include "lib/util.h"
#include "lib/banned.h"

struct seq_entry {
	struct ct_perfmap_entry e;
	size_t seq; /* line order, so that a later line wins among equal starts */
};

/* Hex number with an optional 0x; at most 16 digits. */
static bool parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	uint64_t v = 0;
	int digits = 0;
	for (; s < end; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return false;
	*p = s;
	*ret = v;
	return true;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* One line, without its newline. Returns 1 parsed, 0 malformed, -ENOMEM. */
static int parse_line(const char *s, const char *end, struct ct_perfmap_entry *ret)
{
	uint64_t start, size;
	if (!parse_hex(&s, end, &start) || s >= end || !is_blank(*s))
		return 0;
	while (s < end && is_blank(*s))
		s++;
	if (!parse_hex(&s, end, &size) || s >= end || !is_blank(*s))
		return 0;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && (is_blank(end[-1]) || end[-1] == '\r'))
		end--;
	if (s == end || size == 0 || size > CT_PERFMAP_MAX_RANGE || start > UINT64_MAX - size)
		return 0;
	size_t n = (size_t)(end - s);
	if (n > CT_PERFMAP_MAX_NAME)
		n = CT_PERFMAP_MAX_NAME;
	char *name = malloc(n + 1);
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) /* control bytes would garble a terminal or a JSON reader */
		name[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	name[n] = '\0';
	ret->start = start;
	ret->end = start + size;
	ret->name = name;
	return 1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct seq_entry *x = a, *y = b;
	if (x->e.start != y->e.start)
		return x->e.start < y->e.start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ct_perfmap_parse(const char *text, size_t len, size_t max_entries, struct ct_perfmap *ret)
{
	struct seq_entry *v = NULL;
	size_t n = 0, cap = 0, bad = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p) {
			struct ct_perfmap_entry e;
			int r = parse_line(p, le, &e);
			if (r < 0)
				goto nomem;
			if (r == 0 || n >= max_entries) {
				bad += r == 0;
				if (r)
					free(e.name);
			} else {
				if (ct_grow(&v, &cap, n + 1, sizeof(*v)) < 0) {
					free(e.name);
					goto nomem;
				}
				v[n].e = e;
				v[n].seq = n;
				n++;
			}
		}
		p = le + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	/* Keep the last line among equal starts; cut a range short where the next one begins. */
	struct ct_perfmap_entry *out = n ? malloc(n * sizeof(*out)) : NULL;
	if (n && !out)
		goto nomem;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && v[i + 1].e.start == v[i].e.start) {
			free(v[i].e.name);
			continue;
		}
		out[k] = v[i].e;
		if (i + 1 < n && out[k].end > v[i + 1].e.start)
			out[k].end = v[i + 1].e.start;
		k++;
	}
	free(v);
	ret->e = out;
	ret->n = k;
	ret->bad = bad;
	return 0;
nomem:
	for (size_t i = 0; i < n; i++)
		free(v[i].e.name);
	free(v);
	return -ENOMEM;
}

const struct ct_perfmap_entry *ct_perfmap_lookup(const struct ct_perfmap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) { /* first entry with start > addr */
		size_t mid = lo + (hi - lo) / 2;
		if (m->e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ct_perfmap_entry *e = &m->e[lo - 1];
	return addr < e->end ? e : NULL;
}

void ct_perfmap_free(struct ct_perfmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].name);
	free(m->e);
	m->e = NULL;
	m->n = 0;
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

void ct_perfmap_path(pid_t pid, char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/perf-%d.map", (int)ns_pid(pid));
}

#define CT_PERFMAP_MAX_BYTES (256u << 20)
#define CT_PERFMAP_MAX_ENTRIES (4u << 20)

int ct_perfmap_load(int fd, const char *path, pid_t pid, struct ct_perfmap *ret, char **ret_warning)
{
	*ret_warning = NULL;
	struct stat st, proc;
	char procdir[32];
	snprintf(procdir, sizeof(procdir), "/proc/%d", (int)pid);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || stat(procdir, &proc) < 0) {
		*ret_warning = ct_strf("%s: not a regular file; JIT frames stay unnamed", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != proc.st_uid) {
		*ret_warning = ct_strf("%s is owned by uid %u, not by the target's uid %u or root; ignoring it, "
				       "JIT frames stay unnamed",
				       path, (unsigned)st.st_uid, (unsigned)proc.st_uid);
		return -EPERM;
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	char self[48];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd); /* the file checked above, reopened */
	int r = ct_read_file(self, CT_PERFMAP_MAX_BYTES, &text, &len);
	if (r < 0) {
		*ret_warning = ct_strf("%s: %s; JIT frames stay unnamed", path, strerror(-r));
		return r;
	}
	r = ct_perfmap_parse(text, len, CT_PERFMAP_MAX_ENTRIES, ret);
	if (r < 0)
		*ret_warning = ct_strf("%s: out of memory; JIT frames stay unnamed", path);
	else if (ret->bad)
		*ret_warning = ct_strf("%s: %zu malformed lines skipped", path, ret->bad);
	return r;
}
