/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A core file as a capture source: its threads' registers (NT_PRSTATUS), the process (NT_PRPSINFO,
 * NT_SIGINFO, NT_AUXV), its mappings (PT_LOAD and NT_FILE) and a read function over its memory.
 * Cores as systems keep them are read too: zstd and lz4 (systemd-coredump) and apport's crash
 * reports (a base64, gzip'd CoreDump field) are inflated into an unlinked temporary file, at most
 * a size cap. Every header, note and name is bounds-checked against the file: a core is untrusted.
 * A truncated core (cut at a size limit) keeps what is there and says what is missing. */
#ifndef CT_CORE_H
#define CT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/capture.h"
#include "lib/memsrc.h"
#include "lib/procfs.h"

#define CT_CORE_MAX_THREADS 100000
#define CT_CORE_MAX_SEGMENTS (1u << 20)
/* The device ct_core_maps gives a core's file mappings (with a hash of the path as inode). */
#define CT_CORE_DEV (~0ull - 1)

struct ct_core_thread {
	pid_t tid;
	int signal;            /* pr_cursig: the signal being delivered to it when dumped, or 0 */
	uint64_t regs[CT_NREGS]; /* DWARF numbering, as struct ct_capture */
	long orig_rax;         /* the system call it was in (x86_64), or -1 */
	uint64_t args[6];      /* that call's arguments as the registers hold them */
	uint64_t fs_base;      /* the thread pointer (x86_64 user_regs_struct fs_base: pthread_self()) */
};

struct ct_core_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz; /* where its bytes are in the core; memsz - filesz were not dumped */
	uint64_t avail;          /* of filesz, what the file really holds (less when truncated) */
	uint32_t flags;          /* PF_R, PF_W, PF_X */
	const char *path;        /* the mapped file (NT_FILE), or NULL; owned by the core */
	uint64_t file_offset;    /* its offset in that file */
};

struct ct_core;

struct ct_core_opts {
	uint64_t max_bytes;      /* a compressed core inflates to at most this (0: 64 GiB) */
	const char *tmpdir;      /* where it is inflated (NULL: $TMPDIR, else /var/tmp) */
};

/* Opens path: an ELF core, or one compressed with zstd or lz4, or an apport crash report.
 * 0, or -errno with one sentence in *ret_why (free it): -ENOENT/-EACCES (the file), -ENOEXEC (not a
 * core: what it is), -EINVAL (corrupt: what is wrong), -EFBIG (inflates past the cap), -ENOMEM. */
int ct_core_open(const char *path, const struct ct_core_opts *o, struct ct_core **ret, char **ret_why);
/* The same over a buffer the caller keeps alive (fuzzing; a compressed buffer is inflated). */
int ct_core_open_mem(const void *data, size_t size, const struct ct_core_opts *o, struct ct_core **ret,
		     char **ret_why);
void ct_core_close(struct ct_core *c);

pid_t ct_core_pid(const struct ct_core *c);
const char *ct_core_comm(const struct ct_core *c);     /* NT_PRPSINFO's pr_fname, or NULL */
const char *ct_core_exe(const struct ct_core *c);      /* the executable's path (NT_FILE at AT_ENTRY), or NULL */
const char *ct_core_compression(const struct ct_core *c); /* "zstd", "lz4", "apport" or NULL */
/* The signal that ended the process (NT_SIGINFO, else the first thread's pr_cursig), 0 for a core
 * taken from a live process (gcore); *ret_tid: the thread it was delivered to. */
int ct_core_signal(const struct ct_core *c, pid_t *ret_tid);
const struct ct_core_thread *ct_core_threads(const struct ct_core *c, size_t *ret_n);
const struct ct_core_segment *ct_core_segments(const struct ct_core *c, size_t *ret_n);
/* The core's bytes (its ELF image, inflated if it was compressed). */
const void *ct_core_image(const struct ct_core *c, size_t *ret_size);

/* Truncation: bytes of dumped memory the file lacks and segments affected (0 when whole). */
uint64_t ct_core_missing(const struct ct_core *c, size_t *ret_segments);

/* Reads up to len bytes of the dumped process's memory at addr; returns the bytes read, or -EFAULT
 * when addr is in no dumped segment. arg is the core. */
ssize_t ct_core_read(void *arg, uint64_t addr, void *buf, size_t len);
struct ct_memsrc ct_core_memsrc(struct ct_core *c);
/* The mappings as /proc/PID/maps would list them (path from NT_FILE, permissions from the program
 * headers; device CT_CORE_DEV and a hash of the path for inode), sorted by address. 0 or -ENOMEM. */
int ct_core_maps(const struct ct_core *c, struct ct_proc_map **ret, size_t *ret_n);

#endif
