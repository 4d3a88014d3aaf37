/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/memsrc.h"

#include <errno.h>

#include "lib/capture.h"
#include "lib/banned.h"

struct ct_memsrc ct_memsrc_live(pid_t pid)
{
	return (struct ct_memsrc){ .pid = pid };
}

ssize_t ct_memsrc_read(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len)
{
	return m->read ? m->read(m->arg, addr, buf, len) : ct_mem_read(m->pid, addr, buf, len);
}

int ct_memsrc_read_all(const struct ct_memsrc *m, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = ct_memsrc_read(m, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}
