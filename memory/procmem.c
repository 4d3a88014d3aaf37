/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory/procmem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

const char *ct_mem_kind_name(enum ct_mem_kind k)
{
	switch (k) {
	case CT_MEM_HEAP: return "heap";
	case CT_MEM_ARENA: return "arena";
	case CT_MEM_ANON: return "anonymous";
	case CT_MEM_STACK: return "stack";
	case CT_MEM_FILE: return "file";
	case CT_MEM_SHMEM: return "shmem";
	case CT_MEM_SPECIAL: return "special";
	case CT_MEM_GUARD: return "reserved";
	}
	return "?";
}

void ct_mem_groups_free(struct ct_mem_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].thread_name);
	}
	free(g);
}

static bool is_shmem_path(const char *p)
{
	return ct_startswith(p, "/dev/shm/") || ct_startswith(p, "/SYSV") || ct_startswith(p, "/memfd:") ||
	       ct_startswith(p, "[anon_shmem:");
}

static const struct ct_mem_thread_sp *sp_in(const struct ct_mem_hints *h, uint64_t start, uint64_t end)
{
	for (size_t i = 0; h && i < h->nsps; i++)
		if (h->sps[i].sp >= start && h->sps[i].sp < end)
			return &h->sps[i];
	return NULL;
}

static bool in_arena(const struct ct_mem_hints *h, uint64_t start, uint64_t end)
{
	for (size_t i = 0; h && i < h->narena_ranges; i++)
		if (start >= h->arena_ranges[i][0] && end <= h->arena_ranges[i][1])
			return true;
	return false;
}

/* Kind, name and thread of one mapping. name points into e or is a constant. */
static enum ct_mem_kind classify(const struct ct_smaps_entry *all, size_t i, const struct ct_mem_hints *h,
				 const char **ret_name, pid_t *ret_tid)
{
	const struct ct_smaps_entry *e = &all[i];
	const char *path = e->map.path;
	const struct ct_mem_thread_sp *sp;
	*ret_tid = 0;
	*ret_name = path;
	if (path && strcmp(path, "[heap]") == 0)
		return CT_MEM_HEAP;
	if (path && strcmp(path, "[stack]") == 0) {
		*ret_tid = h ? h->pid : 0;
		return CT_MEM_STACK;
	}
	if (path && is_shmem_path(path))
		return CT_MEM_SHMEM;
	if (path && e->map.perms[3] == 's' && strcmp(path, "/dev/zero") == 0 && e->map.deleted) {
		*ret_name = "shared anonymous"; /* how mmap(MAP_SHARED | MAP_ANONYMOUS) shows */
		return CT_MEM_SHMEM;
	}
	if (path && ct_startswith(path, "[anon:"))
		return CT_MEM_ANON;
	if (path && path[0] == '[')
		return CT_MEM_SPECIAL;
	if (path && *path)
		return CT_MEM_FILE;
	if (e->map.perms[3] == 's') {
		*ret_name = "shared anonymous";
		return CT_MEM_SHMEM;
	}
	if ((sp = sp_in(h, e->map.start, e->map.end))) {
		*ret_name = "stack";
		*ret_tid = sp->tid;
		return CT_MEM_STACK;
	}
	if (in_arena(h, e->map.start, e->map.end)) {
		*ret_name = "glibc thread-arena heaps";
		return CT_MEM_ARENA;
	}
	if (strcmp(e->map.perms, "---p") == 0) {
		*ret_name = "reserved, no access";
		return CT_MEM_GUARD;
	}
	/* glibc (and most thread libraries) put an inaccessible guard page right below a thread stack */
	if (i > 0 && !all[i - 1].map.path && strcmp(all[i - 1].map.perms, "---p") == 0 &&
	    all[i - 1].map.end == e->map.start && all[i - 1].size <= (1u << 20) &&
	    e->map.perms[0] == 'r' && e->map.perms[1] == 'w' && e->size <= (1ull << 30)) {
		*ret_name = "stack";
		*ret_tid = -1; /* a thread stack whose thread was running: not identified */
		return CT_MEM_STACK;
	}
	*ret_name = "anonymous";
	return CT_MEM_ANON;
}

static uint64_t hash_key(enum ct_mem_kind k, const char *name, pid_t tid, uint64_t start)
{
	uint64_t x = 1469598103934665603ull ^ (uint64_t)k;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		x = (x ^ *p) * 1099511628211ull;
	x = (x ^ (uint64_t)(uint32_t)tid) * 1099511628211ull;
	return (x ^ start) * 1099511628211ull;
}

static int cmp_group(const void *a, const void *b)
{
	const struct ct_mem_group *x = a, *y = b;
	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->first_start < y->first_start ? -1 : x->first_start > y->first_start;
}

int ct_mem_group_maps(const struct ct_smaps_entry *e, size_t n, const struct ct_mem_hints *h,
		      struct ct_mem_group **ret, size_t *ret_n)
{
	size_t tsize = 64;
	while (tsize < 2 * n)
		tsize *= 2;
	size_t *table = malloc(tsize * sizeof(*table)); /* group index + 1, 0 free */
	struct ct_mem_group *g = NULL;
	size_t ng = 0, cap = 0;
	if (!table)
		return -ENOMEM;
	memset(table, 0, tsize * sizeof(*table));
	for (size_t i = 0; i < n; i++) {
		const char *name;
		pid_t tid;
		enum ct_mem_kind k = classify(e, i, h, &name, &tid);
		/* a stack of an unknown thread is its own group, told apart by address */
		uint64_t distinct = (k == CT_MEM_STACK && tid == -1) ? e[i].map.start : 0;
		bool deleted = k == CT_MEM_FILE && e[i].map.deleted;
		uint64_t hk = hash_key(k, name, tid, distinct) ^ deleted;
		size_t slot = hk & (tsize - 1);
		struct ct_mem_group *grp = NULL;
		while (table[slot]) {
			struct ct_mem_group *c = &g[table[slot] - 1];
			if (c->kind == k && c->tid == tid && strcmp(c->name, name) == 0 &&
			    (!distinct || c->first_start == distinct)) {
				grp = c;
				break;
			}
			slot = (slot + 1) & (tsize - 1);
		}
		if (!grp) {
			if (ct_grow(&g, &cap, ng + 1, sizeof(*g)) < 0)
				goto nomem;
			grp = &g[ng];
			memset(grp, 0, sizeof(*grp));
			grp->kind = k;
			grp->tid = tid;
			grp->first_start = e[i].map.start;
			if (deleted) {
				struct ct_buf b = CT_BUF_INIT;
				ct_buf_printf(&b, "%s (deleted)", name);
				grp->name = ct_buf_steal(&b);
			} else {
				grp->name = strdup(name);
			}
			if (!grp->name)
				goto nomem;
			if (k == CT_MEM_STACK && tid > 0) {
				for (size_t j = 0; h && j < h->nsps; j++)
					if (h->sps[j].tid == tid && h->sps[j].name[0])
						grp->thread_name = strdup(h->sps[j].name);
			}
			ng++;
			table[slot] = ng;
		}
		grp->nmaps++;
		grp->size += e[i].size ? e[i].size : e[i].map.end - e[i].map.start;
		grp->rss += e[i].rss;
		grp->pss += e[i].pss;
		grp->swap += e[i].swap;
		grp->anonymous += e[i].anonymous;
	}
	free(table);
	if (ng)
		qsort(g, ng, sizeof(*g), cmp_group);
	*ret = g;
	*ret_n = ng;
	return 0;
nomem:
	free(table);
	ct_mem_groups_free(g, ng);
	return -ENOMEM;
}

static int read_proc(pid_t pid, const char *file, size_t max, char **ret)
{
	int r = ct_proc_read(pid, 0, file, max, ret);
	return r == -ENOENT ? -ESRCH : r;
}

static long count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < (1l << 30))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Stack pointers of the threads blocked in a system call (a running thread's is not known
 * without stopping it, and level 1 never stops). */
static int read_sps(pid_t pid, struct ct_mem_thread_sp **ret, size_t *ret_n)
{
	pid_t *tids = NULL;
	size_t nt = 0;
	int r = ct_proc_list_tasks(pid, &tids, &nt);
	if (r < 0)
		return r;
	nt = CT_MIN(nt, (size_t)65536);
	struct ct_mem_thread_sp *sps = calloc(nt ? nt : 1, sizeof(*sps));
	if (!sps) {
		free(tids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nt; i++) {
		sps[i].tid = tids[i];
		char *text = NULL;
		struct ct_proc_syscall sc;
		if (ct_proc_read(pid, tids[i], "syscall", 4096, &text) == 0 &&
		    ct_parse_proc_syscall(text, &sc) == 0 && sc.nr != -2)
			sps[i].sp = sc.sp;
		free(text);
		text = NULL;
		if (ct_proc_read(pid, tids[i], "comm", 256, &text) == 0) {
			ct_rstrip(text);
			size_t l = CT_MIN(strlen(text), sizeof(sps[i].name) - 1);
			memcpy(sps[i].name, text, l);
			sps[i].name[l] = '\0';
		}
		free(text);
	}
	free(tids);
	*ret = sps;
	*ret_n = nt;
	return 0;
}

int ct_mem_l1_regroup(struct ct_mem_l1 *l, const uint64_t (*arena_ranges)[2], size_t n)
{
	struct ct_mem_hints h = { l->pid, l->sps, l->nsps, arena_ranges, n };
	struct ct_mem_group *g = NULL;
	size_t ng = 0;
	int r = ct_mem_group_maps(l->maps, l->nmaps, &h, &g, &ng);
	if (r < 0)
		return r;
	ct_mem_groups_free(l->groups, l->ngroups);
	l->groups = g;
	l->ngroups = ng;
	l->nstacks = 0;
	l->stack_size = l->stack_rss = 0;
	for (size_t i = 0; i < ng; i++) {
		if (g[i].kind != CT_MEM_STACK)
			continue;
		l->nstacks++;
		l->stack_size += g[i].size;
		l->stack_rss += g[i].rss;
	}
	return 0;
}

int ct_mem_l1_read(pid_t pid, struct ct_mem_l1 *ret)
{
	struct ct_mem_l1 l;
	memset(&l, 0, sizeof(l));
	l.pid = pid;
	char *text = NULL;
	int r = read_proc(pid, "status", 1 << 16, &text);
	if (r == 0)
		r = ct_parse_proc_mem_status(text, &l.status);
	free(text);
	text = NULL;
	if (r < 0)
		return r;

	struct ct_smaps_entry *roll = NULL;
	size_t nroll = 0;
	if (read_proc(pid, "smaps_rollup", 1 << 16, &text) == 0 &&
	    ct_parse_proc_smaps(text, 4, &roll, &nroll) == 0 && nroll == 1) {
		l.has_rollup = true;
		l.pss = roll[0].pss;
		l.pss_anon = roll[0].pss_anon;
		l.pss_file = roll[0].pss_file;
		l.pss_shmem = roll[0].pss_shmem;
		l.swap_pss = roll[0].swap_pss;
	}
	ct_proc_smaps_free(roll, nroll);
	free(text);
	text = NULL;

	r = read_proc(pid, "smaps", 256u << 20, &text);
	if (r == 0)
		r = ct_parse_proc_smaps(text, CT_SMAPS_MAX_ENTRIES, &l.maps, &l.nmaps);
	free(text);
	if (r < 0)
		goto fail;
	if (!l.has_rollup)
		for (size_t i = 0; i < l.nmaps; i++)
			l.pss += l.maps[i].pss;
	r = read_sps(pid, &l.sps, &l.nsps);
	if (r < 0)
		goto fail;
	l.fds = count_fds(pid);
	r = ct_mem_l1_regroup(&l, NULL, 0);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	ct_mem_l1_clear(&l);
	return r;
}

void ct_mem_l1_clear(struct ct_mem_l1 *l)
{
	ct_proc_smaps_free(l->maps, l->nmaps);
	ct_mem_groups_free(l->groups, l->ngroups);
	free(l->sps);
	memset(l, 0, sizeof(*l));
}
