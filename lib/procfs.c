/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/banned.h"

/* Parses an unsigned number in the given base at *p, advancing it; -EINVAL on no digits. */
static int take_u64(const char **p, int base, uint64_t *ret)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (end == s || errno == ERANGE)
		return -EINVAL;
	*p = end;
	*ret = v;
	return 0;
}

static int take_i64(const char **p, int64_t *ret)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno == ERANGE)
		return -EINVAL;
	*p = end;
	*ret = v;
	return 0;
}

int ct_parse_proc_stat(const char *text, struct ct_proc_stat *ret)
{
	struct ct_proc_stat st;
	memset(&st, 0, sizeof(st));
	/* "pid (comm) S ppid …": comm may hold spaces and parentheses, so take the last ')'. */
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	size_t n = CT_MIN((size_t)(close - open - 1), sizeof(st.comm) - 1);
	memcpy(st.comm, open + 1, n);
	st.comm[n] = '\0';
	const char *p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p || !isalpha((unsigned char)*p))
		return -EINVAL;
	st.state = *p++;
	/* fields 4.. as numbers; we want 4 (ppid), 9 (flags), 14 (utime), 15 (stime), 20 (num_threads),
	 * 22 (starttime), 39 (cpu) */
	int64_t v;
	for (int field = 4; field <= 39; field++) {
		uint64_t u;
		const char *q = p;
		if (take_i64(&p, &v) < 0) {
			/* unsigned fields such as rsslim may exceed INT64_MAX */
			p = q;
			if (take_u64(&p, 10, &u) < 0) {
				if (field <= 22)
					return -EINVAL;
				break;
			}
			v = (int64_t)u;
		}
		switch (field) {
		case 4: st.ppid = (pid_t)v; break;
		case 9: st.flags = (unsigned long)v; break;
		case 14: st.utime = (uint64_t)v; break;
		case 15: st.stime = (uint64_t)v; break;
		case 20: st.num_threads = (long)v; break;
		case 22: st.starttime = (uint64_t)v; break;
		case 39: st.processor = (int)v; break;
		default: break;
		}
	}
	*ret = st;
	return 0;
}

int ct_parse_proc_status(const char *text, struct ct_proc_status *ret)
{
	struct ct_proc_status st;
	memset(&st, 0, sizeof(st));
	st.state = '?';
	bool have_name = false, have_tgid = false;
	const char *line = text;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		char *colon = strchr(buf, ':');
		if (colon) {
			*colon = '\0';
			const char *val = colon + 1;
			while (*val == ' ' || *val == '\t')
				val++;
			const char *q = val;
			uint64_t u;
			if (strcmp(buf, "Name") == 0) {
				size_t vn = CT_MIN(strlen(val), sizeof(st.name) - 1);
				memcpy(st.name, val, vn);
				st.name[vn] = '\0';
				have_name = true;
			} else if (strcmp(buf, "State") == 0) {
				st.state = *val ? *val : '?';
			} else if (strcmp(buf, "Tgid") == 0 && take_u64(&q, 10, &u) == 0) {
				st.tgid = (pid_t)u;
				have_tgid = true;
			} else if (strcmp(buf, "PPid") == 0 && take_u64(&q, 10, &u) == 0) {
				st.ppid = (pid_t)u;
			} else if (strcmp(buf, "TracerPid") == 0 && take_u64(&q, 10, &u) == 0) {
				st.tracer_pid = (pid_t)u;
			} else if (strcmp(buf, "Uid") == 0) {
				for (int i = 0; i < 4 && take_u64(&q, 10, &u) == 0; i++)
					st.uid[i] = (uid_t)u;
			} else if (strcmp(buf, "Threads") == 0 && take_u64(&q, 10, &u) == 0) {
				st.threads = (long)u;
			} else if (strcmp(buf, "CapEff") == 0 && take_u64(&q, 16, &u) == 0) {
				st.cap_eff = u;
			} else if (strcmp(buf, "voluntary_ctxt_switches") == 0 && take_u64(&q, 10, &u) == 0) {
				st.voluntary_ctxt = u;
				st.has_ctxt = true;
			} else if (strcmp(buf, "nonvoluntary_ctxt_switches") == 0 && take_u64(&q, 10, &u) == 0) {
				st.nonvoluntary_ctxt = u;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!have_name || !have_tgid)
		return -EINVAL;
	*ret = st;
	return 0;
}

int ct_parse_proc_syscall(const char *text, struct ct_proc_syscall *ret)
{
	struct ct_proc_syscall sc;
	memset(&sc, 0, sizeof(sc));
	if (ct_startswith(text, "running")) {
		sc.nr = -2;
		*ret = sc;
		return 0;
	}
	const char *p = text;
	int64_t nr;
	if (take_i64(&p, &nr) < 0 || nr < -1 || nr > 4096)
		return -EINVAL;
	sc.nr = (long)nr;
	if (nr >= 0) {
		for (int i = 0; i < 6; i++) {
			while (*p == ' ')
				p++;
			if (take_u64(&p, 16, &sc.args[i]) < 0)
				return -EINVAL;
		}
	}
	if (take_u64(&p, 16, &sc.sp) < 0 || take_u64(&p, 16, &sc.pc) < 0)
		return -EINVAL;
	*ret = sc;
	return 0;
}

int ct_parse_proc_maps_line(const char *line, struct ct_proc_map *ret)
{
	struct ct_proc_map m;
	memset(&m, 0, sizeof(m));
	const char *p = line;
	uint64_t dev_major, dev_minor, inode;
	if (take_u64(&p, 16, &m.start) < 0 || *p++ != '-' || take_u64(&p, 16, &m.end) < 0)
		return -EINVAL;
	if (m.end < m.start || *p++ != ' ')
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (!strchr("rwxps-", *p) || !*p)
			return -EINVAL;
		m.perms[i] = *p++;
	}
	m.perms[4] = '\0';
	if (take_u64(&p, 16, &m.offset) < 0 || take_u64(&p, 16, &dev_major) < 0 || *p++ != ':' ||
	    take_u64(&p, 16, &dev_minor) < 0 || take_u64(&p, 10, &inode) < 0)
		return -EINVAL;
	m.inode = (unsigned long)inode;
	m.dev = makedev((unsigned)dev_major, (unsigned)dev_minor);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strcspn(p, "\n");
	if (len > 0) {
		m.path = strndup(p, len);
		if (!m.path)
			return -ENOMEM;
		static const char del[] = " (deleted)";
		size_t dl = sizeof(del) - 1;
		if (len > dl && strcmp(m.path + len - dl, del) == 0) {
			m.deleted = true;
			m.path[len - dl] = '\0';
		}
	}
	*ret = m;
	return 0;
}

void ct_proc_maps_free(struct ct_proc_map *maps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(maps[i].path);
	free(maps);
}

const struct ct_proc_map *ct_proc_map_find(const struct ct_proc_map *maps, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && addr >= maps[lo].start ? &maps[lo] : NULL;
}

int ct_parse_proc_maps(const char *text, size_t max_maps, struct ct_proc_map **ret, size_t *ret_n)
{
	struct ct_proc_map *maps = NULL;
	size_t n = 0, cap = 0;
	const char *line = text;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		if (n >= max_maps) {
			ct_proc_maps_free(maps, n);
			return -E2BIG;
		}
		if (ct_grow(&maps, &cap, n + 1, sizeof(*maps)) < 0) {
			ct_proc_maps_free(maps, n);
			return -ENOMEM;
		}
		int r = ct_parse_proc_maps_line(line, &maps[n]);
		if (r < 0) {
			ct_proc_maps_free(maps, n);
			return r;
		}
		n++;
		line = nl ? nl + 1 : NULL;
	}
	*ret = maps;
	*ret_n = n;
	return 0;
}

/* Only blanks are left on the line at p. */
static bool at_eol(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\n' || *p == '\0';
}

int ct_parse_proc_schedstat(const char *text, struct ct_proc_schedstat *ret)
{
	const char *p = text;
	struct ct_proc_schedstat ss;
	if (take_u64(&p, 10, &ss.run_ns) < 0 || take_u64(&p, 10, &ss.wait_ns) < 0 ||
	    take_u64(&p, 10, &ss.pcount) < 0 || !at_eol(p))
		return -EINVAL;
	*ret = ss;
	return 0;
}

int ct_parse_proc_nspid(const char *text, pid_t *ret)
{
	const char *p = strstr(text, "\nNSpid:");
	if (!p)
		return -ENOENT;
	p += 7;
	/* one number per PID namespace, outermost first: the last is the process's own */
	int64_t v, last = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || take_i64(&p, &v) < 0) /* strtoll would go on past a newline */
			break;
		last = v;
	}
	if (last <= 0 || last >= (1L << 30))
		return -EINVAL;
	*ret = (pid_t)last;
	return 0;
}

int ct_parse_proc_children(const char *text, size_t max, pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	/* "PID PID … " with a space after each; each turn takes at least one byte */
	for (const char *p = text;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		uint64_t v;
		if (!isdigit((unsigned char)*p) || take_u64(&p, 10, &v) < 0 || v == 0 || v >= (1u << 30) ||
		    (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\0'))
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		if (ct_grow(&pids, &cap, n + 1, sizeof(*pids)) < 0)
			return -ENOMEM;
		pids[n++] = (pid_t)v;
	}
	*ret = pids;
	*ret_n = n;
	pids = NULL;
	return 0;
}

/* The rest of the line that starts with key ("SigPnd:"), or NULL. */
static const char *line_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, kl) == 0)
			return line + kl;
		const char *nl = strchr(line, '\n');
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* A mask of status: hex digits, alone on the rest of their line. */
static int status_mask(const char *text, const char *key, uint64_t *ret)
{
	const char *p = line_value(text, key);
	if (!p || take_u64(&p, 16, ret) < 0 || !at_eol(p))
		return -EINVAL;
	return 0;
}

int ct_parse_proc_sigmasks(const char *text, struct ct_proc_sigmasks *ret)
{
	struct ct_proc_sigmasks m;
	const char *st = line_value(text, "State:");
	if (!st)
		return -EINVAL;
	while (*st == ' ' || *st == '\t')
		st++;
	/* a letter: capitals but for 't', tracing stop */
	if ((*st < 'A' || *st > 'Z') && (*st < 'a' || *st > 'z'))
		return -EINVAL;
	m.state = *st;
	if (status_mask(text, "SigPnd:", &m.pending) < 0 || status_mask(text, "ShdPnd:", &m.shared_pending) < 0 ||
	    status_mask(text, "SigBlk:", &m.blocked) < 0 || status_mask(text, "SigIgn:", &m.ignored) < 0)
		return -EINVAL;
	*ret = m;
	return 0;
}

/* "   1234 kB" (the rest of the line after "Key:") → bytes. */
static int parse_kb(const char *p, const char *eol, uint64_t *ret)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p == eol || !isdigit((unsigned char)*p))
		return -EINVAL;
	uint64_t v = 0;
	while (p < eol && isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX / 1024 - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	while (p < eol && *p == ' ')
		p++;
	if (eol - p != 2 || p[0] != 'k' || p[1] != 'B')
		return -EINVAL;
	*ret = v * 1024;
	return 0;
}

static int parse_num(const char *p, const char *eol, long *ret)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	long v = 0;
	if (p == eol)
		return -EINVAL;
	while (p < eol && isdigit((unsigned char)*p)) {
		if (v > 100000000)
			return -EINVAL;
		v = v * 10 + (*p++ - '0');
	}
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p != eol)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Splits "Key:value" at the colon; the key must be letters, digits and '_'. */
static const char *split_key(const char *line, const char *eol, size_t *ret_keylen)
{
	const char *p = line;
	while (p < eol && (isalnum((unsigned char)*p) || *p == '_'))
		p++;
	if (p == line || p >= eol || *p != ':')
		return NULL;
	*ret_keylen = (size_t)(p - line);
	return p + 1;
}

static bool key_is(const char *line, size_t len, const char *key)
{
	return strlen(key) == len && memcmp(line, key, len) == 0;
}

int ct_parse_proc_mem_status(const char *text, struct ct_mem_status *ret)
{
	struct ct_mem_status st;
	memset(&st, 0, sizeof(st));
	bool have_name = false;
	static const struct { const char *key; size_t off; } kb[] = {
		{ "VmSize", offsetof(struct ct_mem_status, vm_size) },
		{ "VmPeak", offsetof(struct ct_mem_status, vm_peak) },
		{ "VmRSS", offsetof(struct ct_mem_status, vm_rss) },
		{ "VmHWM", offsetof(struct ct_mem_status, vm_hwm) },
		{ "RssAnon", offsetof(struct ct_mem_status, rss_anon) },
		{ "RssFile", offsetof(struct ct_mem_status, rss_file) },
		{ "RssShmem", offsetof(struct ct_mem_status, rss_shmem) },
		{ "VmSwap", offsetof(struct ct_mem_status, vm_swap) },
		{ "VmData", offsetof(struct ct_mem_status, vm_data) },
		{ "VmStk", offsetof(struct ct_mem_status, vm_stk) },
	};
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		const char *next = eol ? eol + 1 : NULL;
		if (!eol)
			eol = line + strlen(line);
		size_t klen;
		const char *v = split_key(line, eol, &klen);
		if (!v)
			return -EINVAL;
		if (key_is(line, klen, "Name")) {
			while (v < eol && (*v == '\t' || *v == ' '))
				v++;
			size_t n = CT_MIN((size_t)(eol - v), sizeof(st.name) - 1);
			memcpy(st.name, v, n);
			st.name[n] = '\0';
			have_name = true;
		} else if (key_is(line, klen, "Threads")) {
			if (parse_num(v, eol, &st.threads) < 0)
				return -EINVAL;
		} else {
			for (size_t i = 0; i < CT_ARRAY_SIZE(kb); i++) {
				if (!key_is(line, klen, kb[i].key))
					continue;
				if (parse_kb(v, eol, (uint64_t *)((char *)&st + kb[i].off)) < 0)
					return -EINVAL;
				if (ct_startswith(kb[i].key, "Rss"))
					st.has_rss_split = true;
			}
		}
		line = next;
	}
	if (!have_name)
		return -EINVAL;
	*ret = st;
	return 0;
}

void ct_proc_smaps_free(struct ct_smaps_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].map.path);
	free(e);
}

static int smaps_field(struct ct_smaps_entry *e, const char *line, const char *eol)
{
	static const struct { const char *key; size_t off; } f[] = {
		{ "Size", offsetof(struct ct_smaps_entry, size) },
		{ "Rss", offsetof(struct ct_smaps_entry, rss) },
		{ "Pss", offsetof(struct ct_smaps_entry, pss) },
		{ "Pss_Anon", offsetof(struct ct_smaps_entry, pss_anon) },
		{ "Pss_File", offsetof(struct ct_smaps_entry, pss_file) },
		{ "Pss_Shmem", offsetof(struct ct_smaps_entry, pss_shmem) },
		{ "Swap", offsetof(struct ct_smaps_entry, swap) },
		{ "SwapPss", offsetof(struct ct_smaps_entry, swap_pss) },
		{ "Anonymous", offsetof(struct ct_smaps_entry, anonymous) },
		{ "Private_Dirty", offsetof(struct ct_smaps_entry, private_dirty) },
	};
	size_t klen;
	const char *v = split_key(line, eol, &klen);
	if (!v)
		return -EINVAL;
	for (size_t i = 0; i < CT_ARRAY_SIZE(f); i++)
		if (key_is(line, klen, f[i].key))
			return parse_kb(v, eol, (uint64_t *)((char *)e + f[i].off));
	if (key_is(line, klen, "Shared_Clean") || key_is(line, klen, "Shared_Dirty")) {
		uint64_t x;
		if (parse_kb(v, eol, &x) < 0 || e->shared > UINT64_MAX - x)
			return -EINVAL;
		e->shared += x;
	}
	return 0; /* a field this version does not use (VmFlags, THPeligible …) */
}

int ct_parse_proc_smaps(const char *text, size_t max, struct ct_smaps_entry **ret, size_t *ret_n)
{
	struct ct_smaps_entry *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	char *tmp = NULL;
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		const char *next = eol ? eol + 1 : NULL;
		if (!eol)
			eol = line + strlen(line);
		if (eol == line) {
			line = next;
			continue;
		}
		if (isxdigit((unsigned char)line[0]) && memchr(line, '-', (size_t)(eol - line)) &&
		    !split_key(line, eol, &(size_t){ 0 })) {
			if (n >= max) {
				r = -E2BIG;
				break;
			}
			if (ct_grow(&v, &cap, n + 1, sizeof(*v)) < 0) {
				r = -ENOMEM;
				break;
			}
			free(tmp);
			tmp = ct_strndup(line, (size_t)(eol - line));
			if (!tmp) {
				r = -ENOMEM;
				break;
			}
			memset(&v[n], 0, sizeof(v[n]));
			r = ct_parse_proc_maps_line(tmp, &v[n].map);
			if (r < 0)
				break;
			n++;
		} else {
			if (n == 0) {
				r = -EINVAL; /* a field before any mapping */
				break;
			}
			r = smaps_field(&v[n - 1], line, eol);
			if (r < 0)
				break;
		}
		line = next;
	}
	free(tmp);
	if (r < 0) {
		ct_proc_smaps_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

ssize_t ct_proc_exe(pid_t pid, char *buf, size_t n)
{
	char path[64];
	if (n == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t len = readlink(path, buf, n - 1);
	if (len < 0 || (size_t)len >= n - 1) {
		int err = len < 0 ? -errno : -ENAMETOOLONG;
		buf[0] = '\0';
		return err;
	}
	buf[len] = '\0';
	return len;
}

/* The files the kernel writes as one record (fs/proc/base.c ONE(), single_open): their first read
 * returns the whole text when the buffer has room for it, so a read that leaves room is the end and
 * the read that would return 0 is saved (3 system calls instead of 4, per thread and file read). */
static bool one_record(const char *file)
{
	return strcmp(file, "stat") == 0 || strcmp(file, "status") == 0 || strcmp(file, "syscall") == 0 ||
	       strcmp(file, "wchan") == 0 || strcmp(file, "schedstat") == 0;
}

static int read_one_record(const char *path, size_t max, char **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t cap = CT_MIN(max, (size_t)4095) + 1;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ssize_t n;
	while ((n = read(fd, buf, cap - 1)) < 0 && errno == EINTR)
		;
	int e = n < 0 ? -errno : 0;
	close(fd);
	if (e < 0 || (size_t)n >= cap - 1) {
		free(buf);
		/* an error, or a full buffer (the text may go on): read it the ordinary way */
		return e < 0 ? e : ct_read_file(path, max, ret, NULL);
	}
	buf[n] = '\0';
	*ret = buf;
	return 0;
}

int ct_proc_read(pid_t pid, pid_t tid, const char *file, size_t max, char **ret)
{
	char path[96];
	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, (int)tid, file);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (max > 0 && one_record(file))
		return read_one_record(path, max, ret);
	return ct_read_file(path, max, ret, NULL);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int ct_proc_list_tasks(pid_t pid, pid_t **ret, size_t *ret_n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	pid_t *tids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		long v;
		if (ct_parse_long(de->d_name, 1, INT32_MAX, &v) < 0)
			continue;
		if (n >= 1u << 20) {
			r = -E2BIG;
			break;
		}
		if (ct_grow(&tids, &cap, n + 1, sizeof(*tids)) < 0) {
			r = -ENOMEM;
			break;
		}
		tids[n++] = (pid_t)v;
	}
	closedir(d);
	if (r < 0) {
		free(tids);
		return r;
	}
	qsort(tids, n, sizeof(*tids), cmp_pid);
	*ret = tids;
	*ret_n = n;
	return 0;
}
