/* Unit tests for the inflated debug-file cache: the copy has no compressed section, keeps the
 * build-id, and is what a second lookup returns. Uses the debug file of this test's own libc. */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/cache.h"
#include "symbolize/debugcache.h"

static char dir[] = "/tmp/ctrace-dc.XXXXXX";

static int count_compressed(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int n = 0;
	for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s));) {
		GElf_Shdr sh;
		gelf_getshdr(s, &sh);
		n += !!(sh.sh_flags & SHF_COMPRESSED);
	}
	elf_end(e);
	close(fd);
	return n;
}

static int find_libc(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start, void *arg)
{
	(void)ud;
	(void)start;
	if (strstr(name, "libc.so"))
		*(Dwfl_Module **)arg = mod;
	return DWARF_CB_OK;
}

static void test_cache(void **state)
{
	(void)state;
	elf_version(EV_CURRENT);
	assert_non_null(mkdtemp(dir));
	setenv("CTRACE_CACHE_DIR", dir, 1);
	static char *path = (char *)"/usr/lib/debug";
	Dwfl_Callbacks cb = { .find_elf = dwfl_linux_proc_find_elf, .find_debuginfo = dwfl_standard_find_debuginfo,
			      .debuginfo_path = &path };
	Dwfl *dwfl = dwfl_begin(&cb);
	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	assert_int_equal(dwfl_linux_proc_report(dwfl, getpid()), 0);
	dwfl_report_end(dwfl, NULL, NULL);
	Dwfl_Module *libc = NULL;
	dwfl_getmodules(dwfl, find_libc, &libc, 0);
	assert_non_null(libc);
	GElf_Addr bias;
	assert_non_null(dwfl_module_getelf(libc, &bias)); /* the build-id comes with the ELF */
	char *name = NULL;
	int fd = ct_debugcache_find(libc, "/usr/lib/debug", &name);
	if (fd < 0) {
		dwfl_end(dwfl);
		skip(); /* no libc6-dbg here */
	}
	close(fd);
	if (strncmp(name, dir, strlen(dir)) == 0) {
		/* the distribution's file had compressed sections: the copy has none */
		assert_int_equal(count_compressed(name), 0);
		free(name);
		name = NULL;
		fd = ct_debugcache_find(libc, "/usr/lib/debug", &name);
		assert_true(fd >= 0);
		assert_non_null(strstr(name, dir));
		close(fd);
	}
	free(name);
	dwfl_end(dwfl);
	setenv("CTRACE_CACHE_DIR", "off", 1);
	assert_null(ct_cache_dir());
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_bad_input(void **state)
{
	(void)state;
	/* not an ELF file: inflate refuses it, open hands the fd back */
	int fd = open("/proc/self/status", O_RDONLY);
	assert_true(fd >= 0);
	assert_true(ct_debugcache_inflate(fd, "/tmp/ctrace-dc-never") < 0);
	assert_int_equal(access("/tmp/ctrace-dc-never", F_OK), -1);
	char *name = NULL;
	setenv("CTRACE_CACHE_DIR", "/tmp", 1);
	assert_int_equal(ct_debugcache_open(fd, &name), fd);
	assert_null(name);
	close(fd);
}

/* Inputs fuzz_elf found: sections whose sh_size has no bytes behind it, or aligned to 2^35, had
 * libelf write sparse files of up to a terabyte for minutes. Each is refused now, leaving nothing. */
static void test_fuzz_regressions(void **state)
{
	(void)state;
	const char *top = getenv("TOP") ? getenv("TOP") : ".";
	char dname[4096];
	snprintf(dname, sizeof(dname), "%s/tests/fuzz/corpus/fuzz_elf", top);
	DIR *d = opendir(dname);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "regress-inflate-", 16) != 0)
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dname, e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_true(ct_debugcache_inflate(fd, "/tmp/ctrace-dc-regress") < 0);
		assert_int_equal(access("/tmp/ctrace-dc-regress", F_OK), -1);
		close(fd);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_cache), cmocka_unit_test(test_bad_input),
					    cmocka_unit_test(test_fuzz_regressions) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
