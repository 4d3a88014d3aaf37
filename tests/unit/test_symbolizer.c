/* Unit tests for symbolize/symbolizer.c: the names people read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/model.h"
#include <dwarf.h>

#include "symbolize/inlines.h"
#include "symbolize/symbolizer.h"

static void expect_name(const char *raw, bool demangle, const char *want)
{
	char *got = ct_sym_display_name(raw, demangle);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_cxx(void **state)
{
	(void)state;
	expect_name("_ZN4shop4CartIiE4waitEi", true, "shop::Cart<int>::wait(int)");
	expect_name("_ZN4shop6detail5visitINS_4CartIiEEEEvRT_", true,
		    "void shop::detail::visit<shop::Cart<int> >(shop::Cart<int>&)");
	expect_name("_ZN4shop3runERKSt6vectorIiSaIiEE", true,
		    "shop::run(std::vector<int, std::allocator<int> > const&)");
	expect_name("_ZN4shop4CartIiE4waitEi", false, "_ZN4shop4CartIiE4waitEi");
}

static void test_rust(void **state)
{
	(void)state;
	/* legacy mangling: the hash goes, as in rustfilt and gdb */
	expect_name("_ZN5rusty9warehouse14Shelf$LT$T$GT$4wait17hb4078cec71c9f014E", true,
		    "rusty::warehouse::Shelf<T>::wait");
	/* v0 mangling */
	expect_name("_RNvNtCs5MG4p4o9T2T_5rusty9warehouse5visit", true, "rusty::warehouse::visit");
}

static void test_plain_versioned_bad(void **state)
{
	(void)state;
	expect_name("__libc_start_main@@GLIBC_2.34", true, "__libc_start_main");
	expect_name("memcpy@GLIBC_2.2.5", false, "memcpy");
	expect_name("main", true, "main");
	expect_name("@", true, "@");
	expect_name("", true, NULL);
	expect_name(NULL, true, NULL);
	/* looks mangled but is not: kept as is */
	expect_name("_Zfoo", true, "_Zfoo");
	expect_name("_ZN999999999999999999999", true, "_ZN999999999999999999999");
	expect_name("_R", true, "_R");
}

/* Path of the mapping that holds addr in our own process (the libc we and the children use). */
static void own_module(uint64_t addr, char *ret, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	ret[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char name[256] = "";
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %255s", &start, &end, name) == 3 && addr >= start &&
		    addr < end)
			snprintf(ret, size, "%s", name);
	}
	fclose(f);
	assert_true(ret[0] == '/');
}

/* Start of the file-offset-0 mapping of module in pid (0: ourselves). */
static uint64_t module_base(pid_t pid, const char *module)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), pid ? "/proc/%d/maps" : "/proc/self/maps", (int)pid);
	uint64_t base = 0;
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	while (!base && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char name[256] = "";
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %255s", &start, &end, &off, name) == 4 && off == 0 &&
		    strcmp(name, module) == 0)
			base = start;
	}
	fclose(f);
	return base;
}

/* A sleep(1) process, once its loader has mapped module. */
static pid_t start_sleep(const char *module)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		char path[64], exe[256];
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			/* loaded and asleep: in clock_nanosleep (230), every mapping in place */
			snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
			FILE *f = fopen(path, "re");
			int nr = -1;
			if (f) {
				if (fscanf(f, "%d", &nr) != 1)
					nr = -1;
				fclose(f);
			}
			if (strstr(exe, "sleep") && nr == 230 && module_base(pid, module))
				return pid;
		}
		usleep(2000);
	}
	fail_msg("sleep did not start");
	return -1;
}

/* Two processes (each exec'd, so libc sits at another address in each): the second lookup of the same
 * libc code is answered from the first, at the second process's own address. */
static void test_shared_across_processes(void **state)
{
	(void)state;
	char libc[256];
	own_module((uint64_t)(uintptr_t)&nanosleep, libc, sizeof(libc));
	uint64_t delta = (uint64_t)(uintptr_t)&nanosleep - module_base(0, libc);
	pid_t a = start_sleep(libc), b = start_sleep(libc);
	uint64_t pa = module_base(a, libc) + delta, pb = module_base(b, libc) + delta;
	assert_true(pa != pb); /* each exec'd process has its own layout */
	struct ct_symbolizer *sa = NULL, *sb = NULL;
	assert_int_equal(ct_sym_open(a, NULL, &sa), 0);
	assert_int_equal(ct_sym_open(b, NULL, &sb), 0);

	struct ct_thread ta, tb;
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	assert_true(ct_sym_frames(sa, pa, true, &ta) >= 1);
	assert_true(ct_sym_frames(sb, pb, true, &tb) >= 1);
	assert_int_equal(ta.nframes, tb.nframes);
	assert_non_null(ta.frames[ta.nframes - 1].function);
	assert_non_null(strstr(ta.frames[ta.nframes - 1].function, "nanosleep"));
	for (size_t i = 0; i < ta.nframes; i++) {
		assert_int_equal(ta.frames[i].pc, pa);
		assert_int_equal(tb.frames[i].pc, pb);
		if (ta.frames[i].function)
			assert_string_equal(ta.frames[i].function, tb.frames[i].function);
		assert_int_equal(ta.frames[i].offset, tb.frames[i].offset);
	}
	struct ct_sym_stats st;
	ct_sym_get_stats(sa, &st);
	assert_int_equal(st.lookups, 1);
	assert_int_equal(st.shared_hits, 0);
	ct_sym_get_stats(sb, &st);
	assert_int_equal(st.lookups, 1);
	assert_int_equal(st.shared_hits, 1);

	/* a return address (pc - 1 looked up) is another entry, not the activation's */
	struct ct_thread tc;
	memset(&tc, 0, sizeof(tc));
	assert_true(ct_sym_frames(sb, pb + 1, false, &tc) >= 1);
	ct_sym_get_stats(sb, &st);
	assert_int_equal(st.shared_hits, 1);
	assert_int_equal(tc.frames[0].pc, pb + 1);

	ct_thread_clear(&ta);
	ct_thread_clear(&tb);
	ct_thread_clear(&tc);
	ct_sym_close(sa);
	ct_sym_close(sb);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
}


static void same_scopes(const Dwarf_Die *a, int na, const Dwarf_Die *b, int nb)
{
	assert_int_equal(na, nb);
	for (int i = 0; i < na; i++)
		assert_int_equal(dwarf_dieoffset((Dwarf_Die *)&a[i]), dwarf_dieoffset((Dwarf_Die *)&b[i]));
}

/* ct_symindex_getscopes and _die answer as libdw does, from the memo too (asked twice, and after
 * more than the memo holds has pushed the first answers out), and each answer is the caller's own
 * copy. Over ctrace's own library code in this binary (-O2 -g: inlined code and lexical blocks). */
static void test_scopes_memo(void **state)
{
	(void)state;
	static char *debuginfo_path;
	static const Dwfl_Callbacks cb = { .find_elf = dwfl_build_id_find_elf,
					   .find_debuginfo = dwfl_standard_find_debuginfo,
					   .debuginfo_path = &debuginfo_path };
	Dwfl *dwfl = dwfl_begin(&cb);
	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	Dwfl_Module *mod = dwfl_report_offline(dwfl, "self", "/proc/self/exe", -1);
	dwfl_report_end(dwfl, NULL, NULL);
	assert_non_null(mod);
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	assert_non_null(dw);
	struct ct_symindex x;
	memset(&x, 0, sizeof(x));
	int checked = 0, inlined = 0;
	for (int round = 0; round < 3; round++) {
		Dwarf_Off off = 0, next;
		size_t hsize;
		int k = 0;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0 && k < 400) {
			Dwarf_Die cu;
			Dwarf_Addr base, low, high;
			ptrdiff_t it = 0;
			/* gcc gives a CU low and high pc; clang, ranges */
			while (dwarf_offdie(dw, off + hsize, &cu) && (it = dwarf_ranges(&cu, it, &base, &low, &high)) > 0) {
				for (Dwarf_Addr a = low; a < high && k < 400; a += 97 + (high - low) / 16, k++) {
					Dwarf_Die *want = NULL, *got = NULL;
					int nw = dwarf_getscopes(&cu, a, &want);
					int ng = ct_symindex_getscopes(&x, &cu, a, &got);
					same_scopes(want, nw, got, ng);
					if (ng > 0 && dwarf_tag(&got[0]) == DW_TAG_inlined_subroutine) {
						Dwarf_Die *cw = NULL, *cg = NULL;
						int ncw = dwarf_getscopes_die(&want[0], &cw);
						int ncg = ct_symindex_getscopes_die(&x, &got[0], &cg);
						same_scopes(cw, ncw, cg, ncg);
						free(cw);
						free(cg);
						inlined++;
					}
					free(want);
					free(got); /* the memo keeps its own */
					checked++;
				}
			}
			off = next;
		}
	}
	assert_true(checked > 300); /* over 256: the memo was full and dropped its oldest */
	assert_true(inlined > 0);
	ct_symindex_free(&x);
	dwfl_end(dwfl);
}

int main(void)
{
	/* the lookups counted here are this run's own: no frames kept on disk by other runs (make
	 * check's integration tests fill the same cache, and run beside the ASan unit tests) */
	setenv("CTRACE_CACHE_DIR", "off", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_rust),
		cmocka_unit_test(test_plain_versioned_bad),
		cmocka_unit_test(test_shared_across_processes),
		cmocka_unit_test(test_scopes_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
