/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/debuginfod.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "lib/banned.h"

/* libdebuginfod pulls in libcurl and TLS libraries: loaded only when debuginfod is turned on, as
 * libdwfl itself does, so that a plain run starts fast and small. File-scope on purpose: the library
 * is loaded once per process (never unloaded) and its functions serve every symbolizer. */
static struct {
	bool tried;
	debuginfod_client *(*begin)(void);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	void (*set_user_data)(debuginfod_client *, void *);
	void *(*get_user_data)(debuginfod_client *);
	void (*end)(debuginfod_client *);
} dbgd_lib;

static bool dbgd_load(void)
{
	if (dbgd_lib.tried)
		return dbgd_lib.end != NULL;
	dbgd_lib.tried = true;
	void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
	*(void **)&dbgd_lib.begin = dlsym(h, "debuginfod_begin");
	*(void **)&dbgd_lib.find_debuginfo = dlsym(h, "debuginfod_find_debuginfo");
	*(void **)&dbgd_lib.set_progressfn = dlsym(h, "debuginfod_set_progressfn");
	*(void **)&dbgd_lib.set_user_data = dlsym(h, "debuginfod_set_user_data");
	*(void **)&dbgd_lib.get_user_data = dlsym(h, "debuginfod_get_user_data");
	*(void **)&dbgd_lib.end = dlsym(h, "debuginfod_end");
	if (!dbgd_lib.begin || !dbgd_lib.find_debuginfo || !dbgd_lib.set_progressfn ||
	    !dbgd_lib.set_user_data || !dbgd_lib.get_user_data || !dbgd_lib.end) {
		dbgd_lib.end = NULL;
		return false;
	}
	return true;
}

/* debuginfod's progress callback: a non-zero return cancels the download past our deadline. */
static int debuginfod_progress(debuginfod_client *c, long a, long b)
{
	(void)a;
	(void)b;
	const uint64_t *deadline = dbgd_lib.get_user_data(c);
	return deadline && ct_now_ns() > *deadline;
}

int ct_debuginfod_fetch(struct ct_debuginfod *d, Dwfl_Module *mod, const char *modname, char **ret_path,
			char **ret_warning)
{
	*ret_warning = NULL;
	const unsigned char *id = NULL;
	GElf_Addr id_vaddr;
	int idlen = dwfl_module_build_id(mod, &id, &id_vaddr);
	if (idlen <= 0)
		return -1;
	if (!d->client) {
		if (!dbgd_load()) {
			*ret_warning =
				ct_strdup("debuginfod: cannot load libdebuginfod.so.1 (install libdebuginfod1)");
			d->on = false;
			return -1;
		}
		d->client = dbgd_lib.begin();
		if (!d->client) {
			d->on = false;
			return -1;
		}
		d->deadline = ct_now_ns() + d->budget_ns;
		dbgd_lib.set_user_data(d->client, &d->deadline);
		dbgd_lib.set_progressfn(d->client, debuginfod_progress);
	}
	if (ct_now_ns() > d->deadline)
		return -1;
	char *path = NULL;
	int fd = dbgd_lib.find_debuginfo(d->client, id, idlen, &path);
	if (fd < 0) {
		if (fd == -ENOSYS) /* no server configured */
			d->on = false;
		else if (fd != -ENOENT || ct_now_ns() > d->deadline) { /* the server: stop asking */
			*ret_warning = ct_strf("debuginfod: %s (asking for %s); no more downloads in this run",
					       ct_now_ns() > d->deadline ? "timed out" : strerror(-fd), modname);
			d->on = false;
		}
		return -1;
	}
	*ret_path = path;
	return fd;
}

void ct_debuginfod_end(struct ct_debuginfod *d)
{
	if (d->client)
		dbgd_lib.end(d->client);
	d->client = NULL;
}
