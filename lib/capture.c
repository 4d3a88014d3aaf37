/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "lib/util.h"
#include "lib/syscalls_x86_64.h"
#include "lib/banned.h"

void ct_capture_set_free(struct ct_capture_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
	{
		free(s->caps[i].stack);
		free(s->caps[i].interp);
	}
	free(s->caps);
	free(s);
}

ssize_t ct_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	enum { PAGE = 4096, MAXIOV = 64 };
	size_t done = 0;
	while (done < len) {
		struct iovec local[MAXIOV], remote[MAXIOV];
		size_t niov = 0, batch = 0;
		uint64_t a = addr + done;
		while (niov < MAXIOV && done + batch < len) {
			uint64_t cur = a + batch;
			size_t chunk = PAGE - (cur & (PAGE - 1));
			chunk = CT_MIN(chunk, len - done - batch);
			local[niov].iov_base = (char *)buf + done + batch;
			local[niov].iov_len = chunk;
			remote[niov].iov_base = (void *)(uintptr_t)cur;
			remote[niov].iov_len = chunk;
			niov++;
			batch += chunk;
		}
		ssize_t n = process_vm_readv(pid, local, niov, remote, niov, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		done += (size_t)n;
		if ((size_t)n < batch)
			break;
	}
	return (ssize_t)done;
}

int ct_capture_read(const struct ct_capture *c, const struct ct_memsrc *mem, uint64_t addr, void *buf, size_t len)
{
	if (c && c->stack && addr >= c->stack_start && len <= c->stack_len &&
	    addr - c->stack_start <= c->stack_len - len) {
		memcpy(buf, c->stack + (addr - c->stack_start), len);
		return 0;
	}
	return ct_memsrc_read_all(mem, addr, buf, len);
}

const char *ct_syscall_name(long nr)
{
	if (nr < 0 || (size_t)nr >= CT_ARRAY_SIZE(ct_syscall_names_x86_64))
		return NULL;
	return ct_syscall_names_x86_64[nr];
}
