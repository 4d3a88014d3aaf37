/* Unit tests for the inflated debug-file cache: the copy has no compressed section, keeps the
 * build-id, and is what a second lookup returns. Uses the debug file of this test's own libc. */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The copy must describe the same sections as the original: names, types, addresses, flags but
 * SHF_COMPRESSED, links, and sizes (a compressed section's size is its inflated size). */
static void assert_same_sections(const char *orig, const char *copy)
{
	int fa = open(orig, O_RDONLY), fb = open(copy, O_RDONLY);
	assert_true(fa >= 0 && fb >= 0);
	Elf *a = elf_begin(fa, ELF_C_READ_MMAP, NULL), *b = elf_begin(fb, ELF_C_READ_MMAP, NULL);
	assert_non_null(a);
	assert_non_null(b);
	size_t na, nb, stra, strb;
	assert_int_equal(elf_getshdrnum(a, &na), 0);
	assert_int_equal(elf_getshdrnum(b, &nb), 0);
	assert_int_equal(na, nb);
	assert_int_equal(elf_getshdrstrndx(a, &stra), 0);
	assert_int_equal(elf_getshdrstrndx(b, &strb), 0);
	for (size_t i = 1; i < na; i++) {
		GElf_Shdr sa, sb;
		assert_non_null(gelf_getshdr(elf_getscn(a, i), &sa));
		assert_non_null(gelf_getshdr(elf_getscn(b, i), &sb));
		const char *name = elf_strptr(a, stra, sa.sh_name);
		assert_non_null(name);
		assert_string_equal(name, elf_strptr(b, strb, sb.sh_name));
		uint64_t size = sa.sh_size;
		if (sa.sh_flags & SHF_COMPRESSED) {
			GElf_Chdr ch;
			assert_non_null(gelf_getchdr(elf_getscn(a, i), &ch));
			size = ch.ch_size;
		}
		if (sa.sh_type != sb.sh_type || sa.sh_addr != sb.sh_addr || size != sb.sh_size ||
		    (sa.sh_flags & ~(uint64_t)SHF_COMPRESSED) != sb.sh_flags || sa.sh_link != sb.sh_link ||
		    sa.sh_info != sb.sh_info)
			fail_msg("section %zu (%s) differs in the copy: type %u/%u size %llu/%llu", i, name,
				 sa.sh_type, sb.sh_type, (unsigned long long)size, (unsigned long long)sb.sh_size);
	}
	elf_end(a);
	elf_end(b);
	close(fa);
	close(fb);
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
	char orig[4096];
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(libc, &bits, &vaddr);
	assert_true(len > 1);
	int n = snprintf(orig, sizeof(orig), "/usr/lib/debug/.build-id/%02x/", bits[0]);
	for (int i = 1; i < len; i++)
		n += snprintf(orig + n, sizeof(orig) - (size_t)n, "%02x", bits[i]);
	snprintf(orig + n, sizeof(orig) - (size_t)n, ".debug");
	if (access(orig, R_OK) != 0) {
		dwfl_end(dwfl);
		fprintf(stderr, "SKIP: no debug file for this libc (%s): install libc6-dbg (make deps)\n", orig);
		skip();
	}
	char *name = NULL;
	int err = 1;
	int fd = ct_debugcache_find(libc, "/usr/lib/debug", &name, &err);
	assert_int_equal(err, 0);
	if (fd < 0)
		fail_msg("%s is there but the debug-file lookup found nothing", orig);
	close(fd);
	int ncompressed = count_compressed(orig);
	assert_true(ncompressed >= 0);
	if (ncompressed == 0) {
		assert_string_equal(name, orig); /* nothing to inflate: the file itself */
	} else {
		/* the distribution's file has compressed sections (Debian's libc6-dbg does): the
		 * lookup must return a copy in the cache, with none, and the same sections (a
		 * separate debug file has NOBITS ones: they once made every copy fail) */
		if (strncmp(name, dir, strlen(dir)) != 0)
			fail_msg("%s has compressed sections but the lookup returned %s, not a copy in %s",
				 orig, name, dir);
		assert_int_equal(count_compressed(name), 0);
		assert_same_sections(orig, name);
		free(name);
		name = NULL;
		fd = ct_debugcache_find(libc, "/usr/lib/debug", &name, &err);
		assert_true(fd >= 0);
		assert_int_equal(err, 0);
		assert_non_null(strstr(name, dir));
		close(fd);
		char cached[4096];
		snprintf(cached, sizeof(cached), "%s", name);
		free(name);
		name = NULL;
		/* a cache directory others may write to is refused: the file itself is returned,
		 * and the error said, so the caller can warn that every run will inflate it */
		char unsafe[4096];
		snprintf(unsafe, sizeof(unsafe), "%s/unsafe", dir);
		assert_int_equal(mkdir(unsafe, 0700), 0);
		assert_int_equal(chmod(unsafe, 0777), 0);
		setenv("CTRACE_CACHE_DIR", unsafe, 1);
		/* a copy planted there is not used either */
		char planted[4096], cmd[8300];
		int pn = snprintf(planted, sizeof(planted), "%s/%s", unsafe, strrchr(cached, '/') + 1);
		assert_true(pn > 0 && (size_t)pn < sizeof(planted));
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", cached, planted);
		assert_int_equal(system(cmd), 0);
		fd = ct_debugcache_find(libc, "/usr/lib/debug", &name, &err);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(err, -EPERM);
		assert_string_equal(name, orig);
		free(name);
		name = NULL;
		setenv("CTRACE_CACHE_DIR", dir, 1);
		/* in our own directory, a copy others may write is not used but written anew */
		assert_int_equal(chmod(cached, 0666), 0);
		fd = ct_debugcache_find(libc, "/usr/lib/debug", &name, &err);
		assert_true(fd >= 0);
		struct stat st;
		assert_int_equal(fstat(fd, &st), 0);
		close(fd);
		assert_int_equal(err, 0);
		assert_string_equal(name, cached);
		assert_int_equal(st.st_mode & 022, 0);
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
	int err = 1;
	assert_int_equal(ct_debugcache_open(fd, &name, &err), fd);
	assert_null(name);
	assert_int_equal(err, 0); /* not worth caching: no error */
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
