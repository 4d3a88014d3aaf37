/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "symbolize/symbolizer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <elfutils/libdwelf.h>
#include <libiberty/demangle.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cache.h"
#include "lib/procfs.h"
#include "symbolize/debugfind.h"
#include "symbolize/debuginfod.h"
#include "symbolize/framecache.h"
#include "symbolize/framestore.h"
#include "symbolize/inlines.h"
#include "symbolize/perfmap.h"
#include "symbolize/tailcalls.h"
#include "lib/util.h"
#include "lib/banned.h"

struct ct_symbolizer {
	pid_t pid;
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	struct ct_proc_map *maps;
	size_t nmaps;
	int root_fd;
	char *root_path; /* the target's root as /proc/PID/maps names it (a chroot), NULL for "/" */
	bool no_inlines;
	bool no_demangle;
	struct ct_debuginfod dbgd;
	bool perfmap_loaded;
	struct ct_sym_stats stats;
	struct ct_perfmap perfmap;
	struct ct_symindex ix; /* ELF symbol aliases and CU ranges, per module (inlines.h) */
	Elf *core;        /* a core's symbolizer: the core (not owned) */
	char *exe;        /* --exe: the executable's file */
	char *exe_path;   /* the executable's path as the core names it */
	char **warnings;
	size_t nwarnings, cap_warnings, next_warning;
};

/* Queues msg (taken over; NULL: nothing to say, or out of memory) unless it was said already. */
static void warn_take(struct ct_symbolizer *s, char *msg)
{
	if (!msg)
		return;
	for (size_t i = 0; i < s->nwarnings; i++) {
		if (strcmp(s->warnings[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	if (ct_grow(&s->warnings, &s->cap_warnings, s->nwarnings + 1, sizeof(char *)) < 0) {
		free(msg);
		return;
	}
	s->warnings[s->nwarnings++] = msg;
}

static void warn(struct ct_symbolizer *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ct_symbolizer *s, const char *fmt, ...)
{
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	warn_take(s, ct_buf_steal(&b));
}

/* True when a warning about this module (or file) was already said: one per module is enough. */
static bool warned_about(struct ct_symbolizer *s, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < s->nwarnings; i++)
		if (strncmp(s->warnings[i], name, n) == 0 && s->warnings[i][n] == ':')
			return true;
	return false;
}

const char *ct_sym_next_warning(struct ct_symbolizer *s)
{
	if (s->next_warning >= s->nwarnings)
		return NULL;
	return s->warnings[s->next_warning++];
}

/* Opens path inside the target's root without letting symlinks escape it. */
static int open_in_root(int root_fd, const char *path)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*path == '/')
		path++;
	long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

static const char deleted_suffix[] = " (deleted)";

/* Length of a module name without the " (deleted)" libdwfl copies from /proc/PID/maps. */
static size_t name_len(const char *name)
{
	size_t n = strlen(name), d = sizeof(deleted_suffix) - 1;
	return n > d && strcmp(name + n - d, deleted_suffix) == 0 ? n - d : n;
}

static const struct ct_proc_map *find_map(struct ct_symbolizer *s, const char *name)
{
	size_t n = name_len(name);
	for (size_t i = 0; i < s->nmaps; i++)
		if (s->maps[i].path && strncmp(s->maps[i].path, name, n) == 0 && s->maps[i].path[n] == '\0')
			return &s->maps[i];
	return NULL;
}

/* A path of /proc/PID/maps as the target sees it: maps names a chrooted target's files by their
 * path from our root, which starts with its root's. */
static const char *in_root(struct ct_symbolizer *s, const char *path)
{
	size_t n = s->root_path ? strlen(s->root_path) : 0;
	return n && strncmp(path, s->root_path, n) == 0 && path[n] == '/' ? path + n : path;
}

/* The file mapped at m (NULL: not known) named path: through /proc/PID/map_files first (right even
 * when the file was replaced or deleted, or lives in another mount namespace), then relative to
 * /proc/PID/root. An fd, or < 0 (-errno from open_in_root, or -1 with errno). */
static int open_map_file(struct ct_symbolizer *s, const struct ct_proc_map *m, const char *path)
{
	int fd = -1;
	if (m) {
		char mf[96];
		snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)s->pid, m->start, m->end);
		fd = open(mf, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 && s->root_fd >= 0 && !(m && m->deleted))
		fd = open_in_root(s->root_fd, in_root(s, path));
	return fd;
}

/* ELF for a module, opened as open_map_file says. */
static int find_elf_live(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	struct ct_symbolizer *s = *userdata;
	if (!s || !modname || modname[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
	const struct ct_proc_map *m = find_map(s, modname);
	int fd = open_map_file(s, m, modname);
	if (fd < 0) {
		int err = fd < -1 ? -fd : errno;
		_cleanup_free_ char *name = strndup(modname, name_len(modname));
		if (!name)
			return -1;
		if (m && m->deleted)
			warn(s, "%s: deleted from disk and /proc/%d/map_files is not readable (%s; needs CAP_SYS_ADMIN); its frames have no symbols",
			     name, (int)s->pid, strerror(err));
		else
			warn(s, "%s: cannot open the module (%s); its frames have no symbols", name, strerror(err));
		return -1;
	}
	*file_name = strndup(modname, name_len(modname));
	return fd;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct ct_symbolizer *s = *userdata;
	uint64_t t0 = ct_now_ns();
	int fd = find_elf_live(mod, userdata, modname, base, file_name, elfp);
	if (s) {
		s->stats.elf_opened++;
		s->stats.open_ns += ct_now_ns() - t0;
	}
	return fd;
}

/* libdwfl's find_debuginfo: the debug file (or dwz file) as debugfind.h finds it, else (opt-in)
 * from debuginfod; what went wrong on the way is said once per module. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	struct ct_symbolizer *s = *userdata;
	struct ct_debugfind_result r;
	uint64_t t0 = ct_now_ns();
	int fd = ct_debugfind(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
			      s ? s->debuginfo_path : NULL, debuginfo_file_name, &r);
	if (s) {
		s->stats.debug_looked++;
		s->stats.open_ns += ct_now_ns() - t0;
	}
	if (r.cache_err < 0 && s && modname)
		warn(s, "%.*s: cannot keep the inflated copy of its debug file in %s (%s); every "
			"run inflates it again: set CTRACE_CACHE_DIR to a directory of yours, or to off",
		     (int)name_len(modname), modname, ct_cache_dir(), /* named, or no error */
		     r.cache_err == -EPERM ? "not owned by this user, or writable by others"
					   : strerror(-r.cache_err));
	if (!s || !r.searched) {
		ct_debugfind_result_free(&r);
		return fd;
	}
	_cleanup_free_ char *name = strndup(modname, name_len(modname));
	if (r.bad && name && !warned_about(s, name))
		warn(s, "%s: %s is not a regular file; ignored", name, r.bad);
	if (fd < 0 && !r.alt && s->dbgd.on) {
		char *msg;
		fd = ct_debuginfod_fetch(&s->dbgd, mod, modname, debuginfo_file_name, &msg);
		warn_take(s, msg);
	}
	if (fd < 0 && r.mismatch && name && !warned_about(s, name))
		warn(s, "%s: %s file %s is unreadable or does not match it (%s); ignored", name,
		     r.alt ? "dwz" : "debug", r.mismatch, r.by_build_id ? "build-id" : "CRC");
	ct_debugfind_result_free(&r);
	return fd;
}

/* The GNU build-id of the ELF file open at fd (0 and NULL when it has none). */
static ssize_t file_build_id(int fd, void **ret)
{
	*ret = NULL;
	/* read, not mapped: the note is a few bytes of a file of megabytes, and unmapping it again
	 * costs a TLB shootdown (0.1 ms or more each on a VM) */
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -1;
	const void *id = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(e, &id);
	if (n > 0 && !(*ret = malloc((size_t)n)))
		n = -1;
	else if (n > 0)
		memcpy(*ret, id, (size_t)n);
	elf_end(e);
	return n;
}

/* Whether the file at fd is the module's: same build-id, or the module has none to compare. */
static bool same_build_id(Dwfl_Module *mod, int fd)
{
	const unsigned char *want;
	GElf_Addr vaddr;
	int nw = dwfl_module_build_id(mod, &want, &vaddr);
	if (nw <= 0)
		return true;
	_cleanup_free_ void *have = NULL;
	ssize_t nh = file_build_id(fd, &have);
	return nh == nw && memcmp(have, want, (size_t)nw) == 0;
}

/* libdwfl's find_elf for a core: --exe for the executable, the path the core names (inside
 * --sysroot), then by build-id under the debug directories; each file checked by build-id. */
static int find_elf_core(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	struct ct_symbolizer *s = *userdata;
	if (!s || !modname || modname[0] != '/')
		return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
	bool is_exe = s->exe_path && strcmp(modname, s->exe_path) == 0;
	const char *tried = NULL;
	if (is_exe && s->exe) {
		int fd = open(s->exe, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && same_build_id(mod, fd)) {
			*file_name = ct_strdup(s->exe);
			return fd;
		}
		if (fd >= 0)
			close(fd);
		tried = s->exe;
	}
	int fd = s->root_fd >= 0 ? open_in_root(s->root_fd, modname) : -ENOENT;
	if (fd >= 0 && same_build_id(mod, fd)) {
		*file_name = s->root_path ? ct_strf("%s%s", s->root_path, modname) : ct_strdup(modname);
		return fd;
	}
	if (fd >= 0) {
		close(fd);
		tried = tried ? tried : modname;
	}
	fd = dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
	if (fd >= 0 || *elfp)
		return fd;
	if (tried)
		warn(s, "%s: %s%s is not the file the core mapped (its build-id differs); its frames have no "
		     "symbols (give the right one with --exe or --sysroot)", modname,
		     tried == modname && s->root_path ? s->root_path : "", tried);
	else
		warn(s, "%s: not found%s%s; its frames have no symbols (give --sysroot, or --exe for the "
		     "executable)", modname, s->root_path ? " under " : "", s->root_path ? s->root_path : "");
	return -1;
}

static int set_userdata(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)mod;
	(void)name;
	(void)start;
	*userdata = arg;
	((struct ct_symbolizer *)arg)->stats.modules++;
	return DWARF_CB_OK;
}

/* A symbolizer with o's settings and its debug-file search path, as gdb's: beside the file, .debug/,
 * --debug-dir, SYSROOT/usr/lib/debug (a core from another machine), /usr/lib/debug (build-id too);
 * "+": check a .gnu_debuglink CRC when the module has no build-id to match. NULL when out of memory
 * (s->debuginfo_path NULL: the caller closes it). */
static struct ct_symbolizer *sym_new(pid_t pid, const struct ct_sym_opts *o, const char *sysroot)
{
	struct ct_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pid = pid;
	s->root_fd = -1;
	s->no_inlines = o && o->no_inlines;
	s->no_demangle = o && o->no_demangle;
	s->dbgd.on = o && o->debuginfod;
	s->dbgd.budget_ns = (o && o->debuginfod_timeout_ms ? o->debuginfod_timeout_ms : 10000) * 1000000ull;
	struct ct_buf p = CT_BUF_INIT;
	ct_buf_puts(&p, "+:.debug");
	if (o && o->debug_dirs && *o->debug_dirs)
		ct_buf_printf(&p, ":%s", o->debug_dirs);
	if (sysroot && strcmp(sysroot, "/") != 0)
		ct_buf_printf(&p, ":%s/usr/lib/debug", sysroot);
	ct_buf_puts(&p, ":/usr/lib/debug");
	s->debuginfo_path = ct_buf_steal(&p);
	return s;
}

/* Starts libdwfl with find (how module files are found) and ctrace's debug-file search, and takes a frame-cache reference
 * (released by ct_sym_close). 0 or -ENOMEM. */
static int sym_begin(struct ct_symbolizer *s,
		     int (*find)(Dwfl_Module *, void **, const char *, Dwarf_Addr, char **, Elf **))
{
	s->cb.find_elf = find;
	s->cb.find_debuginfo = find_debuginfo;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->cb);
	if (!s->dwfl)
		return -ENOMEM;
	ct_framecache_ref();
	return 0;
}

int ct_sym_open(pid_t pid, const struct ct_sym_opts *o, struct ct_symbolizer **ret)
{
	struct ct_symbolizer *s = sym_new(pid, o, NULL);
	if (!s)
		return -ENOMEM;
	_cleanup_free_ char *maps_text = NULL;
	int r = ct_proc_read(pid, 0, "maps", 64 << 20, &maps_text);
	if (r == 0)
		r = ct_parse_proc_maps(maps_text, 1 << 20, &s->maps, &s->nmaps);
	if (r < 0 || !s->debuginfo_path) {
		ct_sym_close(s);
		return r == -ENOENT ? -ESRCH : (r < 0 ? r : -ENOMEM);
	}
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char link[4096];
	ssize_t ln = s->root_fd >= 0 ? readlink(root, link, sizeof(link) - 1) : -1;
	if (ln > 1 && link[0] == '/') {
		link[ln] = '\0';
		s->root_path = strdup(link); /* without it, files are looked for by their full path */
	}

	if ((r = sym_begin(s, find_elf)) < 0) {
		ct_sym_close(s);
		return r;
	}
	dwfl_report_begin(s->dwfl);
	r = dwfl_linux_proc_report(s->dwfl, pid);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (r != 0) {
		ct_sym_close(s);
		return r > 0 ? -r : -ESRCH;
	}
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	*ret = s;
	return 0;
}

int ct_sym_open_core(Elf *elf, pid_t pid, struct ct_proc_map *maps, size_t nmaps, const char *exe,
		     const char *exe_path, const char *sysroot, const struct ct_sym_opts *o,
		     struct ct_symbolizer **ret)
{
	struct ct_symbolizer *s = sym_new(pid, o, sysroot);
	if (!s) {
		ct_proc_maps_free(maps, nmaps);
		return -ENOMEM;
	}
	s->maps = maps;
	s->nmaps = nmaps;
	s->core = elf;
	s->perfmap_loaded = true; /* a JIT's map file belongs to a live process */
	s->root_fd = open(sysroot ? sysroot : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sysroot && strcmp(sysroot, "/") != 0)
		s->root_path = realpath(sysroot, NULL);
	s->exe = exe ? ct_strdup(exe) : NULL;
	s->exe_path = exe_path ? ct_strdup(exe_path) : NULL;
	if (!s->debuginfo_path || (exe && !s->exe) || (exe_path && !s->exe_path)) {
		ct_sym_close(s);
		return -ENOMEM;
	}
	if (s->root_fd < 0) {
		int e = errno;
		ct_sym_close(s);
		return -e;
	}
	int r = sym_begin(s, find_elf_core);
	if (r < 0) {
		ct_sym_close(s);
		return r;
	}
	dwfl_report_begin(s->dwfl);
	int n = dwfl_core_file_report(s->dwfl, elf, NULL);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (n < 0) {
		ct_sym_close(s);
		return -ENOEXEC;
	}
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	*ret = s;
	return 0;
}

Elf *ct_sym_core(struct ct_symbolizer *s) { return s->core; }

int ct_sym_check_exe(struct ct_symbolizer *s, char **ret_why)
{
	*ret_why = NULL;
	Dwfl_Module *mod = s->exe && s->exe_path ? ct_sym_module(s, s->exe_path) : NULL;
	const unsigned char *want;
	GElf_Addr vaddr;
	int nw = mod ? dwfl_module_build_id(mod, &want, &vaddr) : 0;
	if (nw <= 0)
		return -ENOENT;
	_cleanup_close_ int fd = open(s->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*ret_why = ct_strf("cannot open %s: %s", s->exe, strerror(errno));
		return 0;
	}
	_cleanup_free_ void *have = NULL;
	ssize_t nh = file_build_id(fd, &have);
	if (nh == nw && memcmp(have, want, (size_t)nw) == 0)
		return 1;
	struct ct_buf b = CT_BUF_INIT;
	ct_buf_printf(&b, "%s is not the program that dumped this core (%s): its build-id is ", s->exe, s->exe_path);
	if (nh > 0)
		ct_buf_hex(&b, have, (size_t)nh);
	else
		ct_buf_puts(&b, "missing");
	ct_buf_puts(&b, ", the core's is ");
	ct_buf_hex(&b, want, (size_t)nw);
	*ret_why = ct_buf_steal(&b);
	return 0;
}

int ct_sym_open_elf(int fd, const char *name, uint64_t base, const struct ct_sym_opts *o,
		    struct ct_symbolizer **ret)
{
	struct ct_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->root_fd = -1;
	s->no_inlines = o && o->no_inlines;
	s->no_demangle = o && o->no_demangle;
	s->perfmap_loaded = true; /* no process, so no perf map */
	/* separate debug files by build-id only under o->debug_dirs (none by default) */
	s->debuginfo_path = ct_strdup(o && o->debug_dirs ? o->debug_dirs : "");
	if (!s->debuginfo_path || sym_begin(s, dwfl_build_id_find_elf) < 0) {
		ct_sym_close(s);
		return -ENOMEM;
	}
	elf_version(EV_CURRENT);
	dwfl_report_begin(s->dwfl);
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* libdwfl takes it on success */
	Dwfl_Module *mod = own < 0 ? NULL : dwfl_report_elf(s->dwfl, name, name, own, base, false);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (!mod) {
		if (own >= 0)
			close(own);
		ct_sym_close(s);
		return -ENOEXEC;
	}
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	*ret = s;
	return 0;
}

void ct_sym_close(struct ct_symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl) {
		dwfl_end(s->dwfl);
		ct_framecache_unref();
	}
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root_path);
	free(s->exe);
	free(s->exe_path);
	ct_proc_maps_free(s->maps, s->nmaps);
	ct_perfmap_free(&s->perfmap);
	ct_symindex_free(&s->ix);
	ct_debuginfod_end(&s->dbgd);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s->debuginfo_path);
	free(s);
}

Dwfl *ct_sym_dwfl(struct ct_symbolizer *s) { return s->dwfl; }

struct module_find {
	const char *path;
	Dwfl_Module *mod;
};

static int find_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct module_find *f = arg;
	(void)userdata;
	(void)start;
	if (name && strcmp(name, f->path) == 0) {
		f->mod = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

Dwfl_Module *ct_sym_module(struct ct_symbolizer *s, const char *path)
{
	struct module_find f = { path, NULL };
	dwfl_getmodules(s->dwfl, find_module, &f, 0);
	return f.mod;
}

static const struct ct_proc_map *addr_map(struct ct_symbolizer *s, uint64_t addr)
{
	return ct_proc_map_find(s->maps, s->nmaps, addr); /* /proc/PID/maps is sorted by address */
}

bool ct_sym_is_exec(struct ct_symbolizer *s, uint64_t addr)
{
	const struct ct_proc_map *m = addr_map(s, addr);
	return m && m->perms[2] == 'x';
}

bool ct_sym_is_stack(struct ct_symbolizer *s, uint64_t addr, uint64_t *ret_end)
{
	const struct ct_proc_map *m = addr_map(s, addr);
	if (!m)
		return false;
	if (ret_end)
		*ret_end = m->end;
	return m->perms[0] == 'r' && m->perms[1] == 'w';
}
pid_t ct_sym_pid(struct ct_symbolizer *s) { return s->pid; }

const struct ct_proc_map *ct_sym_maps(struct ct_symbolizer *s, size_t *ret_n)
{
	*ret_n = s->nmaps;
	return s->maps;
}

void ct_sym_get_stats(struct ct_symbolizer *s, struct ct_sym_stats *ret)
{
	*ret = s->stats;
	ct_framecache_store_stats(&ret->store_files, &ret->store_entries);
}

/* The name people read: "__libc_start_main@@GLIBC_2.34" loses its version, as in gdb; C++ (_Z) and
 * Rust (_ZN…h<hash>E, _R) names are demangled unless --no-demangle. Returns a malloc'd string or NULL. */
char *ct_sym_display_name(const char *raw, bool demangle)
{
	if (!raw || !*raw)
		return NULL;
	size_t len = strnlen(raw, 4096);
	const char *at = memchr(raw, '@', len);
	if (at && at != raw)
		len = (size_t)(at - raw);
	char *name = strndup(raw, len);
	if (!name || !demangle || !(name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')))
		return name;
	char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
	if (!d)
		return name;
	free(name);
	return d;
}

static bool is_deleted(struct ct_symbolizer *s, const char *modname)
{
	const struct ct_proc_map *m = find_map(s, modname);
	return m && m->deleted;
}

/* What the frames of pc in module modname (NULL: none) share. */
static struct ct_frame_proto frame_proto(struct ct_symbolizer *s, uint64_t pc, const char *modname, bool deleted)
{
	if (modname && strncmp(modname, "[vdso", 5) == 0)
		modname = "[vdso]"; /* libdwfl says "[vdso: PID]" */
	return (struct ct_frame_proto){ pc, modname, modname ? name_len(modname) : 0, deleted, !s->no_demangle };
}

/* A module with a debug file whose DWARF cannot be read: said once; symbols still come from its
 * symbol table. */
static void check_dwarf(struct ct_symbolizer *s, Dwfl_Module *mod, const char *modname)
{
	Dwarf_Addr bias;
	const char *debugfile = NULL;
	if (!modname || dwfl_module_getdwarf(mod, &bias))
		return;
	int err = dwfl_errno();
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
	if (!debugfile)
		return; /* no debug information at all: the usual case for a stripped library */
	_cleanup_free_ char *name = strndup(modname, name_len(modname));
	if (name && !warned_about(s, name))
		warn(s, "%s: debug information in %s is corrupt (%s); no file:line for its frames", name,
		     debugfile, dwfl_errmsg(err));
}

/* The target's JIT map, read once (perfmap.h); there is none to read without its root. */
static void load_perfmap(struct ct_symbolizer *s)
{
	s->perfmap_loaded = true;
	if (s->root_fd < 0)
		return;
	char path[64];
	ct_perfmap_path(s->pid, path, sizeof(path));
	_cleanup_close_ int fd = open_in_root(s->root_fd, path);
	if (fd < 0)
		return; /* no JIT map: the usual case */
	char *msg;
	(void)ct_perfmap_load(fd, path, s->pid, &s->perfmap, &msg); /* said in msg */
	warn_take(s, msg);
}

static int jit_frame(struct ct_symbolizer *s, uint64_t pc, uint64_t pc_adj, struct ct_thread *t)
{
	if (!s->perfmap_loaded)
		load_perfmap(s);
	const struct ct_perfmap_entry *e = ct_perfmap_lookup(&s->perfmap, pc_adj);
	if (!e)
		return 0;
	struct ct_frame_proto p = frame_proto(s, pc, NULL, false);
	struct ct_frame *f = ct_frame_add(t, &p, NULL, NULL);
	if (!f)
		return -ENOMEM;
	f->jit = true;
	f->offset = pc - e->start;
	if (e->name && !(f->function = strdup(e->name))) /* as the JIT wrote it: not demangled */
		return -ENOMEM;
	return 1;
}

static int sym_frames(struct ct_symbolizer *s, uint64_t pc, bool activation, struct ct_thread *t)
{
	uint64_t pc_adj = activation || pc == 0 ? pc : pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc_adj);
	/* libdwfl spans a module from its first to its last mapping: anonymous memory in between (node
	 * remaps its text near its JIT heap) is not the module's. */
	const struct ct_proc_map *am = addr_map(s, pc_adj);
	if (am && !am->path)
		mod = NULL;
	const char *modname = NULL;
	if (mod)
		modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	bool deleted = modname && is_deleted(s, modname);
	if (!mod && ct_sym_is_exec(s, pc_adj)) {
		int r = jit_frame(s, pc, pc_adj, t);
		if (r != 0)
			return r;
	}

	const char *symname = NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	if (mod) {
		symname = dwfl_module_addrinfo(mod, pc_adj, &off, &sym, NULL, NULL, NULL);
		if (!symname && !dwfl_module_getelf(mod, &(GElf_Addr){ 0 })) {
			_cleanup_free_ char *name = strndup(modname ? modname : "?", name_len(modname ? modname : "?"));
			if (name && !warned_about(s, name))
				warn(s, "%s: %s; its frames have no symbols", name, dwfl_errmsg(-1));
		}
	}
	uint64_t symoff = symname ? off + (pc - pc_adj) : 0;

	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = mod ? dwfl_module_getsrc(mod, pc_adj) : NULL;
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

	struct ct_scopes sc;
	memset(&sc, 0, sizeof(sc));
	if (mod) {
		ct_scopes_at(&s->ix, mod, pc, pc_adj, symname != NULL, &file, &line, &symoff, &sc);
		if (sc.unread)
			check_dwarf(s, mod, modname);
	}
	struct ct_frame_proto p = frame_proto(s, pc, modname, deleted);
	if (!s->no_inlines && sc.nchain > 0) {
		/* the chain of the inlined instance itself, up to its containing subprogram */
		int n = ct_inline_frames(t, &p, &sc, symname, symoff, file, line);
		ct_scopes_free(&sc);
		return n;
	}
	ct_scopes_free(&sc);
	if (!sc.dwname && symname)
		symname = ct_symindex_gdb_alias(&s->ix, mod, pc_adj - off, symname);
	struct ct_frame *f = ct_frame_add(t, &p, sc.dwname ? sc.dwname : symname, file);
	if (!f)
		return -ENOMEM;
	f->offset = symoff;
	f->line = line;
	return 1;
}

/* At the first lookup in m's file in this run (a live process's): its frames kept on disk by an
 * earlier run, when they are still right (framestore.h), go into the shared cache. */
static void store_open(struct ct_symbolizer *s, const struct ct_proc_map *m)
{
	if (s->core || s->pid <= 0 || ct_framecache_file_known(m->dev, m->inode))
		return;
	int fd = open_map_file(s, m, m->path);
	if (fd < 0)
		return;
	struct stat st;
	_cleanup_free_ void *id = NULL;
	ssize_t n = fstat(fd, &st) == 0 ? file_build_id(fd, &id) : -1;
	close(fd);
	if (n <= 0 || n > 64)
		return; /* no build-id: nothing says the file is the one a store was made from */
	struct ct_buf hex = CT_BUF_INIT, store = CT_BUF_INIT;
	_cleanup_free_ char *name = strndup(m->path, name_len(m->path));
	if (name && ct_buf_hex(&hex, id, (size_t)n) == 0 &&
	    ct_framestore_path(ct_buf_cstr(&hex), s->debuginfo_path, &store) == 0)
		(void)ct_framecache_file_load(m->dev, m->inode, &st, ct_buf_cstr(&store), ct_buf_cstr(&hex),
					      s->debuginfo_path, s->dbgd.on, name, m->deleted); /* none or stale: looked up */
	ct_buf_free(&hex);
	ct_buf_free(&store);
}

/* After a lookup in m's file that was not in the cache: which debug file it used, and whether it
 * said something (warnings since nwarnings0), for the file's store. */
static void store_note(struct ct_symbolizer *s, const struct ct_proc_map *m, uint64_t pc_adj, size_t nwarnings0)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc_adj);
	const char *mainfile = NULL, *debugfile = NULL;
	if (mod)
		dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	if (debugfile && mainfile && strcmp(debugfile, mainfile) == 0)
		debugfile = NULL; /* the DWARF is in the file itself */
	/* a debug file that takes part of its DWARF from a dwz file: that file is not kept track of,
	 * so its frames are not kept */
	Dwarf_Addr bias;
	Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
	const char *altname = NULL;
	const void *altid = NULL;
	bool alt = dw && dwelf_dwarf_gnu_debugaltlink(dw, &altname, &altid) > 0;
	ct_framecache_file_looked_up(m->dev, m->inode, debugfile, !mod || alt || s->nwarnings != nwarnings0);
}

int ct_sym_frames(struct ct_symbolizer *s, uint64_t pc, bool activation, struct ct_thread *t)
{
	uint64_t pc_adj = activation || pc == 0 ? pc : pc - 1;
	const struct ct_proc_map *am = addr_map(s, pc_adj);
	s->stats.lookups++;
	if (!ct_framecache_shareable(am))
		return sym_frames(s, pc, activation, t);
	store_open(s, am);
	if (!ct_framecache_reserve())
		return sym_frames(s, pc, activation, t);
	unsigned flags = ct_framecache_flags(activation, s->no_inlines, s->no_demangle);
	uint64_t off = am->offset + (pc_adj - am->start);
	struct ct_framecache_entry *e = ct_framecache_slot(am->dev, am->inode, off, 0, flags);
	if (e->flags & CT_FC_USED) {
		s->stats.shared_hits++;
	} else {
		struct ct_thread fresh;
		memset(&fresh, 0, sizeof(fresh));
		size_t w0 = s->nwarnings;
		int r = sym_frames(s, pc, activation, &fresh);
		if (r < 0) {
			ct_thread_clear(&fresh);
			return r;
		}
		store_note(s, am, pc_adj, w0);
		ct_framecache_put(e, am, off, 0, flags, &fresh, pc);
	}
	return ct_framecache_append(t, e, pc);
}

/* The frames of the functions ct_tailcalls_infer finds in between, each looked up as a return address. */
static int sym_tailcalls(struct ct_symbolizer *s, uint64_t callee_pc, bool callee_activation, uint64_t caller_pc,
			 struct ct_thread *t)
{
	uint64_t pcs[CT_TAILCALL_DEPTH];
	int n = ct_tailcalls_infer(s->dwfl, &s->ix, callee_pc, callee_activation, caller_pc, pcs);
	int added = 0;
	for (int i = 0; i < n; i++) {
		int r = ct_sym_frames(s, pcs[i], false, t);
		if (r < 0)
			return r;
		added += r;
	}
	return added;
}

/* Through the shared cache: the same pair of frames in another thread, sample or process (the same
 * module, as a tail call is inferred only within one) has the same frames in between, at addresses
 * that differ by the module's placement: kept relative to caller_pc. */
int ct_sym_tailcalls(struct ct_symbolizer *s, uint64_t callee_pc, bool callee_activation, uint64_t caller_pc,
		     struct ct_thread *t)
{
	uint64_t cpc = callee_activation || callee_pc == 0 ? callee_pc : callee_pc - 1;
	if (caller_pc == 0)
		return 0;
	const struct ct_proc_map *cm = addr_map(s, cpc), *am = addr_map(s, caller_pc - 1);
	if (!ct_framecache_shareable(cm) || !ct_framecache_shareable(am) || cm->dev != am->dev ||
	    cm->inode != am->inode)
		return sym_tailcalls(s, callee_pc, callee_activation, caller_pc, t);
	store_open(s, cm);
	if (!ct_framecache_reserve())
		return sym_tailcalls(s, callee_pc, callee_activation, caller_pc, t);
	unsigned flags = ct_framecache_flags(callee_activation, s->no_inlines, s->no_demangle) | CT_FC_TAILCALLS;
	uint64_t off = cm->offset + (cpc - cm->start), off2 = am->offset + (caller_pc - 1 - am->start);
	struct ct_framecache_entry *e = ct_framecache_slot(cm->dev, cm->inode, off, off2, flags);
	if (!(e->flags & CT_FC_USED)) {
		struct ct_thread fresh;
		memset(&fresh, 0, sizeof(fresh));
		size_t w0 = s->nwarnings;
		int r = sym_tailcalls(s, callee_pc, callee_activation, caller_pc, &fresh);
		if (r < 0) {
			ct_thread_clear(&fresh);
			return r;
		}
		store_note(s, cm, cpc, w0);
		/* sym_tailcalls went through ct_sym_frames, which may have filled or moved the table */
		if (!ct_framecache_reserve()) {
			int n = (int)fresh.nframes;
			r = ct_thread_append_frames(t, fresh.frames, fresh.nframes);
			ct_thread_clear(&fresh);
			return r < 0 ? r : n;
		}
		e = ct_framecache_slot(cm->dev, cm->inode, off, off2, flags);
		ct_framecache_put(e, cm, off, off2, flags, &fresh, caller_pc);
	}
	return ct_framecache_append(t, e, caller_pc);
}
