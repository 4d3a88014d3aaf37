/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Level 1 of --memory: where a process's memory is, from /proc/PID/status, smaps_rollup and smaps.
 * Reads /proc only; never stops or touches the target. The files are parsed by lib/procfs.h
 * (ct_parse_proc_mem_status, ct_parse_proc_smaps); this module reads them, finds the threads'
 * stacks and groups the mappings. */
#ifndef CT_MEMORY_PROCMEM_H
#define CT_MEMORY_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/procfs.h"

enum ct_mem_kind {
	CT_MEM_HEAP,    /* [heap], the brk area */
	CT_MEM_ARENA,   /* heaps of glibc's thread arenas (known after the arena walk) */
	CT_MEM_ANON,    /* other anonymous private memory (mmap'd chunks, allocator pools, JIT …) */
	CT_MEM_STACK,   /* a thread's stack */
	CT_MEM_FILE,    /* a file (library, executable, data file), all its mappings together */
	CT_MEM_SHMEM,   /* shared memory: /dev/shm, SysV, memfd, shared anonymous */
	CT_MEM_SPECIAL, /* [vdso], [vvar], [vsyscall] */
	CT_MEM_GUARD,   /* inaccessible (---p) reservations: guard pages, unused arena space */
};

struct ct_mem_group {
	enum ct_mem_kind kind;
	char *name;   /* path, "[heap]", "anonymous", "[stack]" … */
	pid_t tid;    /* CT_MEM_STACK: the thread, 0 when unknown */
	char *thread_name;
	size_t nmaps;
	uint64_t size, rss, pss, swap, anonymous;
	uint64_t first_start; /* lowest address of the group, so a watch can follow it */
};

/* What a thread's stack pointer tells: the mapping holding sp is that thread's stack. */
struct ct_mem_thread_sp {
	pid_t tid;
	uint64_t sp;  /* 0 when unknown (the thread was running) */
	char name[64];
};

struct ct_mem_l1 {
	pid_t pid;
	struct ct_mem_status status;
	bool has_rollup;
	uint64_t pss, pss_anon, pss_file, pss_shmem, swap_pss; /* from smaps_rollup */
	struct ct_smaps_entry *maps;
	size_t nmaps;
	struct ct_mem_thread_sp *sps;
	size_t nsps;
	struct ct_mem_group *groups; /* sorted by rss, largest first */
	size_t ngroups;
	long fds;                    /* open file descriptors, -1 when /proc/PID/fd is not readable */
	size_t nstacks;              /* groups of kind CT_MEM_STACK */
	uint64_t stack_size, stack_rss;
};

/* What the grouping knows beyond the mappings. */
struct ct_mem_hints {
	pid_t pid; /* [stack] belongs to the main thread */
	const struct ct_mem_thread_sp *sps;
	size_t nsps;
	const uint64_t (*arena_ranges)[2]; /* [start, end) of glibc thread-arena heaps */
	size_t narena_ranges;
};

/* Groups mappings: [heap], anonymous, each thread's stack (by the threads' stack pointers, else by
 * the guard page glibc puts below a thread stack), glibc arena heaps, each file, shared memory.
 * Sorted by rss, largest first. */
int ct_mem_group_maps(const struct ct_smaps_entry *e, size_t n, const struct ct_mem_hints *h,
		      struct ct_mem_group **ret, size_t *ret_n);
void ct_mem_groups_free(struct ct_mem_group *g, size_t n);

/* Reads status, smaps_rollup, smaps, the threads' stack pointers and the fd count of pid.
 * -ESRCH when the process is gone; -EACCES/-EPERM when /proc refuses. */
int ct_mem_l1_read(pid_t pid, struct ct_mem_l1 *ret);
/* Groups again, now putting the anonymous mappings inside ranges (glibc thread-arena heaps) in
 * their own group. */
int ct_mem_l1_regroup(struct ct_mem_l1 *l, const uint64_t (*arena_ranges)[2], size_t n);
void ct_mem_l1_clear(struct ct_mem_l1 *l);

const char *ct_mem_kind_name(enum ct_mem_kind k);

#endif
