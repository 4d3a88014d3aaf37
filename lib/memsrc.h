/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where target memory is read from: a live process (process_vm_readv on its pid) or a snapshot of
 * it such as a core file (a read function over its memory). Readers of target data (unwinders,
 * lock owners, glibc arenas) take a memsrc, so one reader serves a live process and a core. */
#ifndef CT_MEMSRC_H
#define CT_MEMSRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ct_memsrc {
	pid_t pid;  /* the process the memory belongs to (read live when read is NULL) */
	/* Reads up to len bytes at addr; returns the bytes read (a short count: the range ends in
	 * memory that is not there) or -errno. NULL: the live process pid. */
	ssize_t (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
};

/* The live process pid. */
struct ct_memsrc ct_memsrc_live(pid_t pid);
/* Reads up to len bytes; returns the bytes read (>= 0) or -errno, as ct_mem_read. */
ssize_t ct_memsrc_read(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len);
/* Reads exactly len bytes: 0, or -EFAULT when fewer were there, or -errno. */
int ct_memsrc_read_all(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len);

#endif
