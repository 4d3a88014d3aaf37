/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for /proc text formats. Pure functions over text, so they can be unit-tested and fuzzed;
 * every one rejects malformed input with -EINVAL instead of guessing. */
#ifndef CT_PROCFS_H
#define CT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ct_proc_stat {
	char comm[64];
	char state;
	pid_t ppid;
	unsigned long flags;     /* PF_* */
	uint64_t utime, stime;   /* clock ticks */
	long num_threads;        /* of the process (also in a thread's own stat) */
	uint64_t starttime;
	int processor;
};

#define CT_PF_KTHREAD 0x00200000ul

struct ct_proc_status {
	char name[64];
	char state;
	pid_t tgid, ppid, tracer_pid;
	uid_t uid[4];            /* real, effective, saved, fs */
	long threads;
	uint64_t cap_eff;
	uint64_t voluntary_ctxt, nonvoluntary_ctxt;
	bool has_ctxt;
};

struct ct_proc_syscall {
	long nr;                 /* >= 0 in a syscall; -1 blocked outside one; -2 "running" */
	uint64_t args[6];
	uint64_t sp, pc;
};

struct ct_proc_map {
	uint64_t start, end, offset;
	unsigned long inode;
	uint64_t dev;            /* makedev(major, minor) of the mapped file; 0 for anonymous */
	char perms[5];
	char *path;              /* NULL for anonymous; "[stack]", "[heap]", "/usr/lib/…", "… (deleted)" */
	bool deleted;
};

int ct_parse_proc_stat(const char *text, struct ct_proc_stat *ret);
int ct_parse_proc_status(const char *text, struct ct_proc_status *ret);
int ct_parse_proc_syscall(const char *text, struct ct_proc_syscall *ret);
/* Parses one line of /proc/PID/maps; ret->path is allocated (free it). */
int ct_parse_proc_maps_line(const char *line, struct ct_proc_map *ret);
/* Parses a whole maps file; at most max_maps entries. */
int ct_parse_proc_maps(const char *text, size_t max_maps, struct ct_proc_map **ret, size_t *ret_n);
void ct_proc_maps_free(struct ct_proc_map *maps, size_t n);
/* The mapping holding addr in maps sorted by address (as /proc/PID/maps lists them), or NULL. */
const struct ct_proc_map *ct_proc_map_find(const struct ct_proc_map *maps, size_t n, uint64_t addr);
/* /proc/TID/schedstat: "run_ns wait_ns pcount", one line. */
struct ct_proc_schedstat {
	uint64_t run_ns;         /* time on a CPU */
	uint64_t wait_ns;        /* time runnable, waiting for a CPU */
	uint64_t pcount;         /* times run on a CPU */
};
int ct_parse_proc_schedstat(const char *text, struct ct_proc_schedstat *ret);
/* The process's PID in its own PID namespace: the last number of the NSpid line of
 * /proc/PID/status. -ENOENT without that line (before Linux 4.1), -EINVAL when it is malformed. */
int ct_parse_proc_nspid(const char *text, pid_t *ret);

/* The PIDs of /proc/PID/task/TID/children (the children that thread started), in file order; at
 * most max (-E2BIG). An empty file (no children) gives *ret_n 0 and *ret NULL. */
int ct_parse_proc_children(const char *text, size_t max, pid_t **ret, size_t *ret_n);
/* The state and signal masks of /proc/PID/task/TID/status (State, SigPnd, ShdPnd, SigBlk, SigIgn),
 * bit n-1 for signal n. -EINVAL when one is missing or malformed. */
struct ct_proc_sigmasks {
	uint64_t pending, shared_pending, blocked, ignored;
	char state;
};
int ct_parse_proc_sigmasks(const char *text, struct ct_proc_sigmasks *ret);

/* The memory lines of /proc/PID/status. Sizes in bytes. */
struct ct_mem_status {
	char name[64];
	long threads;
	uint64_t vm_size, vm_peak, vm_rss, vm_hwm, rss_anon, rss_file, rss_shmem, vm_swap, vm_data, vm_stk;
	bool has_rss_split; /* RssAnon/RssFile/RssShmem present (Linux >= 4.5) */
};

/* One mapping of /proc/PID/smaps with the counters ctrace uses (bytes). */
struct ct_smaps_entry {
	struct ct_proc_map map;
	uint64_t size, rss, pss, swap, anonymous, shared, private_dirty;
	uint64_t pss_anon, pss_file, pss_shmem, swap_pss; /* smaps_rollup only */
};

#define CT_SMAPS_MAX_ENTRIES (1u << 20)

/* Strict about the shape of every line: a "Key: N kB" that is not one is -EINVAL. */
int ct_parse_proc_mem_status(const char *text, struct ct_mem_status *ret);
/* Parses smaps (or smaps_rollup: one header, then the fields). At most max entries (-E2BIG). */
int ct_parse_proc_smaps(const char *text, size_t max, struct ct_smaps_entry **ret, size_t *ret_n);
void ct_proc_smaps_free(struct ct_smaps_entry *e, size_t n);

/* Reads /proc/PID/task/TID/<file> (tid 0: /proc/PID/<file>) into a fresh string, at most max bytes
 * (stat, status, syscall, wchan and schedstat, which the kernel writes in one go, in one read). */
int ct_proc_read(pid_t pid, pid_t tid, const char *file, size_t max, char **ret);

/* The path /proc/PID/exe names (with " (deleted)" when the file is gone) into buf of n bytes: its
 * length, or -errno with buf "" (a kernel thread, a process gone, not permitted, ENAMETOOLONG). */
ssize_t ct_proc_exe(pid_t pid, char *buf, size_t n);
/* Lists /proc/PID/task, sorted. */
int ct_proc_list_tasks(pid_t pid, pid_t **ret, size_t *ret_n);

#endif
