# ctrace — see README.md. `make deps` then `make check`.
#
# Sections: 1. configuration (every knob)  2. sources  3. flags (pkg-config)  4. build rules
# 5. tests  6. benchmarks  7. packaging and install  8. dependencies (make deps, one package list)

# =================================================================================================
# 1. Configuration: every knob and its default; set any on the command line (make DEVELOPER=1)
# =================================================================================================
VERSION := 0.1.0
# .git-rev: written into package source trees (make deb/rpm), which have no .git
GIT_REV := $(shell cat .git-rev 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
BUILD ?= build
# DEVELOPER=1: warnings are errors
DEVELOPER ?=
# SANITIZE=address,undefined: everything built with these sanitizers; any UBSan report aborts
SANITIZE ?=
# Compilers of the Rust and Go fixtures: a fixture whose compiler is missing is not built and its
# test skips
RUSTC ?= $(shell command -v rustc 2>/dev/null || ls $$HOME/.cargo/bin/rustc 2>/dev/null)
GO ?= $(shell command -v go 2>/dev/null)

# make check fails on any warning of build/'s compiler (CC: each compile leaves its warnings in
# OBJECT.warn, so an object built earlier still counts) and builds CLANG_BUILD: the library, the
# command and the unit tests under clang with ASan, UBSan and libFuzzer's coverage, there linked
# into the fuzz targets too. That one tree is clang's warnings check (its .warn files), the unit
# tests under ASan+UBSan (CHECK_SANITIZE=0 skips running them) and the fuzz targets, each run for
# FUZZ_CHECK_SECONDS. CHECK_WARNINGS=0: warnings fail neither.
CHECK_WARNINGS ?= 1
CHECK_SANITIZE ?= 1
CLANG ?= clang
CLANG_BUILD ?= build-clang

# make fuzz: each target (CLANG_BUILD/fuzz/) runs FUZZ_SECONDS (or FUZZ_RUNS inputs), FUZZ_JOBS at
# once (make check: one per CPU); FUZZ_ONLY=fuzz_elf picks one.
# Long runs: make fuzz FUZZ_ONLY=fuzz_elf FUZZ_SECONDS=86400 FUZZ_RUNS=10000000.
# FUZZ_ASAN_OPTIONS: no 0xbe fill of new blocks (ASan finds no bug by it) and a 16 MiB quarantine
# (use-after-free is still caught for recently freed blocks); together 1.3-1.9x more executions.
FUZZ_SECONDS ?= 30
FUZZ_CHECK_SECONDS ?= 2
FUZZ_RUNS ?= -1
FUZZ_JOBS ?= 1
FUZZ_ONLY ?=
FUZZ_WORK ?= $(BUILD)/fuzz
FUZZ_ASAN_OPTIONS ?= max_malloc_fill_size=0:quarantine_size_mb=16

# make install
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# make deb / make rpm. rpmbuild on Debian has an empty RPM database: --nodeps skips the
# BuildRequires check there.
DEB_BUILD_OPTS ?= nocheck parallel=2
RPM_FLAGS ?= --nodeps

# =================================================================================================
# 2. Sources
# =================================================================================================
# The library: every .c of these folders (a file moved between them needs no Makefile change)
LIB_DIRS := lib process session layout formats attach core unwind symbolize interp analyze analyze/dumps \
	report memory
LIB_SRC := $(sort $(wildcard $(LIB_DIRS:%=%/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
# The command: cli/main.c and one file per command
CLI_SRC := $(sort $(filter-out cli/main.c,$(wildcard cli/*.c)))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/cli/main.o

# cmocka unit tests, one binary each
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

# libFuzzer targets, linked in CLANG_BUILD (the library under ASan+UBSan with libFuzzer's coverage)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# Fixtures: the processes the tests, demo and benchmarks inspect. C fixtures (used by every target
# that runs ctrace), then the ones only the tests need: C++, Rust and Go programs and the plugin
# libraries (one build of tests/fixtures/lib/plugin.c per flavor).
FIXTURE_SRC := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BIN := $(FIXTURE_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)
TEST_FIXTURE_BIN := $(FIXTURE_BIN) $(BUILD)/fixtures/cxx \
	$(BUILD)/fixtures/libplugin-host.so $(BUILD)/fixtures/libplugin-container.so
ifneq ($(RUSTC),)
TEST_FIXTURE_BIN += $(BUILD)/fixtures/rusty
endif
ifneq ($(GO),)
TEST_FIXTURE_BIN += $(BUILD)/fixtures/gospin
endif

# Fixture flags: each documents the code shape it stands for.
FIX_CFLAGS := -g -O0 -fno-omit-frame-pointer -pthread -Wall
FIX_LDLIBS := -lpthread
$(BUILD)/fixtures/omitfp: FIX_CFLAGS := -g -O2 -fomit-frame-pointer -fno-optimize-sibling-calls -pthread -Wall
$(BUILD)/fixtures/inlined: FIX_CFLAGS := -g -O2 -fno-optimize-sibling-calls -pthread -Wall
$(BUILD)/fixtures/benchsleep: FIX_CFLAGS := -g -O2 -fno-optimize-sibling-calls -pthread -Wall
# --memory on a statically linked target (bench-memory, its tests)
$(BUILD)/fixtures/staticheap: FIX_CFLAGS := -g -O0 -static -Wall
$(BUILD)/fixtures/plugin: FIX_LDLIBS += -ldl
FIX_CXXFLAGS := -g -O0 -fno-omit-frame-pointer -pthread -Wall
FIX_RUSTFLAGS := -g -C opt-level=0 -C force-frame-pointers=yes
FIX_SOFLAGS := -g -O0 -fno-omit-frame-pointer -fPIC -shared

# =================================================================================================
# 3. Flags
# =================================================================================================
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

# Libraries from their pkg-config files. libiberty (cplus_demangle), libdl and libpthread have
# none. libdebuginfod is not linked: symbolize/ dlopen()s it when --debuginfod is asked for.
# libzstd and liblz4: compressed cores (systemd-coredump), core/inflate.c.
PC_LIBS := libdw libelf libunwind-ptrace libunwind-generic json-c zlib libzstd liblz4 libbpf
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PC_LIBS) 2>/dev/null)
PC_LDLIBS := $(shell $(PKG_CONFIG) --libs $(PC_LIBS) 2>/dev/null)
UNIT_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
# ncurses, for --top's terminal; its compile flags (feature macros) only for cli/topscreen.c
CURSES_CFLAGS := $(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null)
CURSES_LDLIBS := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)
# LINK=static (the default): the libraries whose archives are position-independent (Debian's
# elfutils, json-c, libbpf, zlib, zstd, lz4, xz, bzip2, ncurses) are linked into ctrace, so a
# run does not map and relocate 16 shared libraries: --version went from 7.8 to 5.7 ms and a
# --backtraces of 200 threads from 27.7 to 21.5 ms (perf stat -r, this machine). libunwind is
# not linked at all: unwind/unwind_libunwind.c dlopen()s it for --unwinder libunwind (its archive
# is not PIC, and linked shared it cost every run 4 libraries). LINK=dynamic links every library shared, as the Debian and
# RPM packages do (packaging/: a distribution updates its libraries in place). When an archive is
# missing, the link is dynamic, and so it is for a SANITIZE build (CLANG_BUILD's fuzz targets:
# LeakSanitizer's suppression of libdw's known leak matches libdw.so.1, tests/fuzz/lsan.supp).
LINK ?= $(if $(SANITIZE),dynamic,static)
STATIC_LIBS := bpf dw elf json-c z zstd lz4 lzma bz2 ncursesw tinfo
STATIC_MISSING := $(strip $(foreach l,$(STATIC_LIBS),$(if $(filter /%,$(shell $(CC) -print-file-name=lib$(l).a 2>/dev/null)),,$(l))))
ifeq ($(LINK)$(STATIC_MISSING),static)
LIBS := -Wl,-Bstatic $(STATIC_LIBS:%=-l%) -Wl,-Bdynamic -liberty -ldl -lpthread
else
LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out libunwind%,$(PC_LIBS)) 2>/dev/null) -liberty -ldl -lpthread \
	$(CURSES_LDLIBS)
endif
# Goals that build nothing need no library (make deps installs them on a fresh machine)
ifneq ($(filter-out deps pkg-deps clean uninstall pkg-src deb rpm,$(or $(MAKECMDGOALS),all)),)
ifeq ($(PC_LDLIBS),)
$(error $(PKG_CONFIG) --libs $(PC_LIBS) failed: run make deps)
endif
ifeq ($(CURSES_LDLIBS),)
$(error $(PKG_CONFIG) --libs ncursesw failed: run make deps)
endif
endif

CT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(PC_CFLAGS) $(WARN) -fno-strict-aliasing \
	-DCT_VERSION='"$(VERSION)"' -DCT_GIT_REV='"$(GIT_REV)"'
CT_LDFLAGS :=
ifneq ($(SANITIZE),)
CT_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
CT_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# CLANG_BUILD: clang, ASan+UBSan and libFuzzer's coverage (libFuzzer linked only into the fuzz
# targets; the sanitizer runtime answers the coverage calls elsewhere), at -O1 as libFuzzer and
# ASan advise; a make of its own: $(MAKE) $(CLANG_ARGS) TARGETS. Its warnings are checked as
# build/'s are (check-no-warnings), not by -Werror: the fuzz run and the unit tests still run.
CLANG_ARGS = BUILD=$(CLANG_BUILD) CC=$(CLANG) CFLAGS='-g -O1' SANITIZE=fuzzer-no-link,address,undefined
HAVE_CLANG := $(shell command -v $(CLANG) 2>/dev/null)

# A compile's diagnostics, also kept in TARGET.warn: make check fails on any warning left there
WARNLOG = 2>$@.warn; s=$$?; cat $@.warn >&2; exit $$s

# =================================================================================================
# 4. Build rules
# =================================================================================================
.PHONY: all unit-bin fuzz-bin clean ct-force
all: $(BUILD)/ctrace

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $< $(WARNLOG)
$(BUILD)/cli/topscreen.o: CT_CFLAGS += $(CURSES_CFLAGS)

$(BUILD)/libctrace.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libctcli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ctrace: $(MAIN_OBJ) $(BUILD)/libctcli.a $(BUILD)/libctrace.a
	$(CC) $(CT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# --version prints GIT_REV: rebuild cli/version.o whenever the revision changes, not only its source.
$(BUILD)/git-rev: ct-force
	@mkdir -p $(BUILD); echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' >$@
$(BUILD)/cli/version.o: $(BUILD)/git-rev

unit-bin: $(UNIT_BIN)
$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libctcli.a $(BUILD)/libctrace.a
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) $(CFLAGS) $(CT_LDFLAGS) -o $@ $< $(BUILD)/libctcli.a $(BUILD)/libctrace.a $(LIBS) $(UNIT_LIBS) \
		$(WARNLOG)

$(BUILD)/fixtures/%: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FIX_CFLAGS) -o $@ $< $(FIX_LDLIBS)
$(BUILD)/fixtures/%: tests/fixtures/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(FIX_CXXFLAGS) -o $@ $<
$(BUILD)/fixtures/%: tests/fixtures/%.rs
	@mkdir -p $(dir $@)
	MAKEFLAGS= $(RUSTC) $(FIX_RUSTFLAGS) -o $@ $<
$(BUILD)/fixtures/%: tests/fixtures/%.go
	@mkdir -p $(dir $@) $(BUILD)/go-cache
	GOCACHE=$(abspath $(BUILD)/go-cache) GOPATH=$(abspath $(BUILD)/go-path) GO111MODULE=off GOFLAGS= \
		$(GO) build -o $@ $<
$(BUILD)/fixtures/libplugin-%.so: tests/fixtures/lib/plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(FIX_SOFLAGS) -DPLUGIN_FLAVOR=$* -o $@ $<

# the fuzz targets: only in CLANG_BUILD (make fuzz, make check), with every library object
fuzz-bin: $(FUZZ_BIN)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) $(CFLAGS) -fsanitize=fuzzer $(CT_LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS) $(WARNLOG)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

clean:
	rm -rf $(BUILD) $(CLANG_BUILD)

# =================================================================================================
# 5. Tests
# =================================================================================================
.PHONY: check check-build check-build-tests check-build-more unit integration check-warnings \
	check-no-warnings check-clang-warnings clang-bin check-sanitize check-sanitize-run check-fuzz \
	check-fuzz-run fuzz fuzz-run stress valgrind demo

# Every unit and integration test (tests/run-tests.sh), the warnings of both compilers, the fuzz
# targets' short run and the unit tests under ASan+UBSan (already the build's own under SANITIZE=).
# Two builds of the library: build/ (CC) and CLANG_BUILD (clang, sanitizers, fuzz targets). First
# what the tests need (build/: the command, the unit tests, the fixtures) at -j CHECK_JOBS (the
# CPUs), and a warning there stops it (check-no-warnings); then the tests: while the integration
# lanes run, check-build-more at nice 19, in the CPU time they leave idle (CLANG_BUILD built, its
# warnings checked, its unit tests run under ASan+UBSan); after the lanes the fuzz run by itself
# (the targets run for a time, not a number of inputs); then the tests that must run alone. Each
# phase says how long it took. (Five builds before: -Werror ones under gcc and clang besides build/,
# the fuzz targets' and gcc's ASan one, 226 CPU-s to CLANG_BUILD's 93, ended 85 s after the lanes
# on a 2-CPU machine.)
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check:
	@t=$$(date +%s); $(MAKE) --no-print-directory -j$(CHECK_JOBS) check-build-tests || exit 1; \
		echo "check: build/ took $$(($$(date +%s) - t)) s"
	@$(MAKE) --no-print-directory check-no-warnings
	@BUILD=$(BUILD) CHECK_DURING_LANES='$(MAKE) --no-print-directory -s check-build-more' \
		CHECK_BEFORE_ALONE='$(MAKE) --no-print-directory check-fuzz-run' \
		sh tests/run-tests.sh

# what make check builds (under make -j the builds share the job server): what the tests need, and
# the rest
check-build: check-build-tests clang-bin
check-build-tests: all $(UNIT_BIN) $(TEST_FIXTURE_BIN)
check-build-more:
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) clang-bin || exit 1; \
	$(MAKE) --no-print-directory check-clang-warnings; w=$$?; \
	$(if $(SANITIZE),,$(MAKE) --no-print-directory check-sanitize-run || exit 1;) exit $$w

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run-tests.sh

integration: all $(TEST_FIXTURE_BIN)
	@BUILD=$(BUILD) ONLY=integration sh tests/run-tests.sh

# CLANG_BUILD: the library, the command, the unit tests and the fuzz targets (CLANG_ARGS)
clang-bin:
	@if [ -n "$(HAVE_CLANG)" ]; then \
		echo "check: $(CLANG) with ASan, UBSan and libFuzzer's coverage in $(CLANG_BUILD)"; \
		$(MAKE) --no-print-directory $(CLANG_ARGS) all unit-bin fuzz-bin; \
	else echo "SKIP  $(CLANG_BUILD): $(CLANG) is not installed (make deps installs it): no clang warnings check, fuzz run or unit tests under ASan"; fi

# The warnings of BUILD's compiles (each TARGET.warn): any fails (CHECK_WARNINGS=0: none does)
check-no-warnings:
ifeq ($(CHECK_WARNINGS),1)
	@n=0; for f in $(addsuffix .warn,$(LIB_OBJ) $(CLI_OBJ) $(MAIN_OBJ) $(UNIT_BIN) $(FUZZ_BIN)); do \
		[ -s "$$f" ] || continue; n=$$((n + 1)); echo "== $${f%.warn}:"; cat "$$f"; done; \
	if [ $$n != 0 ]; then echo "FAIL  warnings: $(CC) warned on $$n file(s) in $(BUILD)/ (above)"; exit 1; fi; \
	echo "check-warnings: $(CC) in $(BUILD)/: no warning"
endif
check-clang-warnings:
	@if [ -n "$(HAVE_CLANG)" ]; then $(MAKE) --no-print-directory $(CLANG_ARGS) check-no-warnings; fi

# Warnings: build/ (CC: gcc) and CLANG_BUILD (clang), both at once; a warning from either fails
check-warnings:
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) all unit-bin clang-bin
	@$(MAKE) --no-print-directory check-no-warnings CHECK_WARNINGS=1
	@$(MAKE) --no-print-directory check-clang-warnings CHECK_WARNINGS=1

# The unit tests under ASan+UBSan, in CLANG_BUILD
check-sanitize:
ifeq ($(CHECK_SANITIZE),1)
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) clang-bin
	@$(MAKE) --no-print-directory check-sanitize-run
endif
check-sanitize-run:
ifeq ($(CHECK_SANITIZE),1)
	@if [ -n "$(HAVE_CLANG)" ]; then BUILD=$(CLANG_BUILD) ONLY=unit sh tests/run-tests.sh; fi
endif

# libFuzzer: `make fuzz` runs each target of tests/fuzz/ (built in CLANG_BUILD/fuzz) for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME, if any) and its working corpus in
# FUZZ_WORK; a crash fails the run and leaves its input in FUZZ_WORK.
FUZZ_RUN_BIN := $(if $(FUZZ_ONLY),$(FUZZ_ONLY:%=$(CLANG_BUILD)/fuzz/%),$(FUZZ_SRC:tests/fuzz/%.c=$(CLANG_BUILD)/fuzz/%))
fuzz:
	@if [ -z "$(HAVE_CLANG)" ]; then echo "make fuzz: needs $(CLANG) (make deps installs it)"; exit 1; fi
	@$(MAKE) --no-print-directory $(CLANG_ARGS) $(FUZZ_RUN_BIN)
	@$(MAKE) --no-print-directory fuzz-run
fuzz-run:
	@mkdir -p $(FUZZ_WORK)
	@printf '%s\n' $(FUZZ_RUN_BIN) | FUZZ_WORK=$(FUZZ_WORK) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) \
		FUZZ_ASAN_OPTIONS=$(FUZZ_ASAN_OPTIONS) xargs -n 1 -P $(FUZZ_JOBS) sh tests/fuzz/run.sh

# make check's short run (FUZZ_CHECK_SECONDS each, one target per CPU, nothing else running: the
# targets run for a time, not a number of inputs), in a directory of its own (a long `make fuzz`
# may be using BUILD/fuzz)
check-fuzz:
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) clang-bin
	@$(MAKE) --no-print-directory check-fuzz-run
check-fuzz-run:
	@if [ -n "$(HAVE_CLANG)" ]; then \
		$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) FUZZ_JOBS=$(CHECK_JOBS) FUZZ_WORK=$(BUILD)/fuzz-check; \
	else echo "SKIP  fuzz: $(CLANG) is not installed (make deps installs it)"; fi

# Fault injection, repeated and counted: ctrace SIGKILLed mid-capture, thread churn against
# eu-stack, the target dying mid-capture (knobs: see tests/stress/stress.sh); then against a target
# that saturates the machine, ctrace killed 90 times mid-boost, mid-stop and at random (the long
# form of tests/integration/test_saturated.sh, which make check runs short).
stress: all $(FIXTURE_BIN)
	@BUILD=$(BUILD) CTRACE=$(CURDIR)/$(BUILD)/ctrace FIXTURES=$(CURDIR)/$(BUILD)/fixtures TOP=$(CURDIR) \
		sh tests/stress/stress.sh
	@BUILD=$(BUILD) CTRACE=$(CURDIR)/$(BUILD)/ctrace FIXTURES=$(CURDIR)/$(BUILD)/fixtures TOP=$(CURDIR) \
		SATURATED_KILLS=$${SATURATED_KILLS:-90} SATURATED_SECS=$${SATURATED_SECS:-900} \
		sh tests/integration/test_saturated.sh

# valgrind memcheck on ctrace's runs against a fixture: tests/valgrind/valgrind.sh.
valgrind: all $(FIXTURE_BIN)
	@BUILD=$(BUILD) CTRACE=$(CURDIR)/$(BUILD)/ctrace FIXTURES=$(CURDIR)/$(BUILD)/fixtures TOP=$(CURDIR) \
		sh tests/valgrind/valgrind.sh

# A fixture with named threads, and what ctrace sees of it
demo: all $(FIXTURE_BIN)
	@sh tests/demo.sh $(BUILD)

# =================================================================================================
# 6. Benchmarks (bench/*.sh; figures in the man page's OVERHEAD)
# =================================================================================================
.PHONY: bench bench-profile bench-memory bench-threads bench-sites bench-inject bench-analyze \
	bench-symbols bench-core bench-python bench-ruby bench-saturation

# --backtraces against eu-stack and gdb, after bench-threads
bench: all $(FIXTURE_BIN) bench-threads
	@bash bench/bench-backtraces.sh $(BUILD)

# --threads on 1000 threads against three --backtraces and three eu-stack runs
bench-threads: all $(BUILD)/fixtures/manythreads
	@sh bench/bench-threads.sh $(BUILD)

# --profile: accuracy and overhead against perf record; ctrace's peak RSS with GNU time
bench-profile: all $(FIXTURE_BIN)
	@sh bench/bench-profile.sh $(BUILD)

# Ruby frames: the stop per thread with and without them; a Ruby loop's throughput profiled at 99 Hz
bench-ruby: all
	@sh bench/bench-ruby.sh $(BUILD)

# --memory: a static fixture, and the benchmark against gdb's malloc_stats()
bench-memory: all $(FIXTURE_BIN)
	@sh bench/bench-memory.sh $(BUILD)

# --memory --sites: the target's allocator calls/s under uprobes, and byte-share accuracy
bench-sites: all $(BUILD)/fixtures/allocsites
	@sh bench/bench-sites.sh $(BUILD)

# --memory --inject: jemalloc/tcmalloc statistics called in the target
bench-inject: all
	@sh bench/bench-inject.sh $(BUILD)

# Python 3.11 (Debian's, with python3.11-dbg): --backtraces against gdb's py-bt, the longest stop
# with and without Python frames, and the throughput --profile -r 99 costs with each sampler
bench-python: all
	@sh bench/bench-python.sh $(BUILD)

bench-analyze: all $(FIXTURE_BIN)
	@sh bench/bench-analyze.sh $(BUILD)

bench-symbols: all
	@sh bench/bench-symbols.sh $(BUILD)

# --core on a 200-thread core (gcore of manythreads) against gdb's thread apply all bt and
# eu-stack --core
bench-core: all $(BUILD)/fixtures/manythreads
	@sh bench/bench-core.sh $(BUILD)

# a target saturating the machine: --backtraces vs eu-stack, --profile vs perf record (issue 19)
bench-saturation: all $(BUILD)/fixtures/spinners
	@sh bench/bench-saturation.sh $(BUILD)

# =================================================================================================
# 7. Packaging and install
# =================================================================================================
.PHONY: install uninstall pkg-src deb rpm

# Never installed set-uid: ctrace refuses to run that way (cli/main.c).
install: all
	install -D -m 0755 $(BUILD)/ctrace $(DESTDIR)$(BINDIR)/ctrace
	install -D -m 0644 man/ctrace.1 $(DESTDIR)$(MANDIR)/man1/ctrace.1
	install -D -m 0644 completion/ctrace.bash $(DESTDIR)$(BASHCOMPDIR)/ctrace

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctrace $(DESTDIR)$(MANDIR)/man1/ctrace.1 $(DESTDIR)$(BASHCOMPDIR)/ctrace

# `make deb`: a Debian package from a copy of this tree with packaging/debian as debian/, in
# $(BUILD)/deb. `make rpm`: an RPM from packaging/rpm/ctrace.spec, in $(BUILD)/rpm.
PKG_SRC := $(BUILD)/pkg-src/ctrace-$(VERSION)
pkg-src:
	rm -rf $(BUILD)/pkg-src && mkdir -p $(PKG_SRC)
	tar -cf - --exclude=./$(BUILD) --exclude='./build*' --exclude=./.git . | tar -xf - -C $(PKG_SRC)
	echo $(GIT_REV) >$(PKG_SRC)/.git-rev

deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb: needs dpkg-buildpackage and debhelper (apt-get install dpkg-dev debhelper)"; exit 1; }
	$(MAKE) --no-print-directory pkg-src
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb && mv $(PKG_SRC) $(BUILD)/deb/
	cp -r packaging/debian $(BUILD)/deb/ctrace-$(VERSION)/debian
	cd $(BUILD)/deb/ctrace-$(VERSION) && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u BUILD \
		DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTS)" dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

rpm:
	@command -v rpmbuild >/dev/null || { echo "make rpm: needs rpmbuild (apt-get install rpm)"; exit 1; }
	$(MAKE) --no-print-directory pkg-src
	rm -rf $(BUILD)/rpm && mkdir -p $(BUILD)/rpm/SOURCES
	tar -czf $(BUILD)/rpm/SOURCES/ctrace-$(VERSION).tar.gz -C $(BUILD)/pkg-src ctrace-$(VERSION)
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u BUILD rpmbuild -bb $(RPM_FLAGS) \
		--define '_topdir $(abspath $(BUILD)/rpm)' packaging/rpm/ctrace.spec
	@ls $(BUILD)/rpm/RPMS/*/*.rpm

# =================================================================================================
# 8. Dependencies: every package from Debian 12's archive, grouped by what needs it; DEB_DEPS is
# their sorted union. `make deps` installs the missing ones (quick when all are present).
# =================================================================================================
.PHONY: deps pkg-deps

# Building ctrace: compiler, make, pkg-config and the headers and libraries of section 3
# (libdebuginfod-dev: its header; the library is dlopen()ed; libncurses-dev: --top's terminal;
# liblz4-dev, libzstd-dev: compressed cores; libbpf-dev: the kernel-saved registers of threads not on
# a CPU, read by a BPF task iterator, attach/kregs.c)
DEPS_BUILD := gcc libbpf-dev libdebuginfod-dev libdw-dev libelf-dev libiberty-dev libjson-c-dev liblz4-dev \
	libncurses-dev libunwind-dev libzstd-dev make pkg-config zlib1g-dev
# make check: cmocka unit tests; clang for check-warnings and make fuzz; the fixtures in C++ (g++),
# Rust (rustc) and Go (golang-go, whose go tool pprof also reads --profile's output)
DEPS_CHECK := clang g++ golang-go libcmocka-dev rustc
# make check: targets ctrace is run against. libc6-dbg: libc's debug file (symbols, debug-file
# cache); nodejs: JIT perf maps; openjdk: jstack dumps; libjemalloc2, libtcmalloc-minimal4, redis
# (server and redis-cli): --memory --inject, also bench-inject; python3.11 and python3.11-dbg:
# Python frames and threads (test_backtraces_python, test_threads_python), the 3.11 layout table
# checked against DWARF (test_python), --memory's pymalloc figures, whose statics its symbol table
# names (test_memory_python), also bench-python (gdb's py-bt); gunicorn: a WSGI server's workers
# under --children --profile (test_profile_gunicorn);
# ruby (Debian's 3.1): Ruby frames (test_backtraces_ruby, test_profile_ruby), waits and GC
# (test_threads_ruby, test_memory_ruby); puma (Debian's ruby-puma is this package): a Puma server's
# pool (test_threads_puma); unicorn (Debian's Rack server, ruby-unicorn upstream): a pre-fork Ruby
# server (test_profile_unicorn)
DEPS_TARGETS := gunicorn libc6-dbg libjemalloc2 libtcmalloc-minimal4 nodejs openjdk-17-jdk-headless \
	puma python3.11 python3.11-dbg redis-server redis-tools ruby unicorn
# make check: tools the tests compare ctrace with or check its output with. binutils: objcopy and
# readelf make the stripped interpreters of test_memory_python; gdb and elfutils
# (eu-stack): agreement and dump parsing; linux-perf: --profile against perf; dwz: dwz'd debug
# files; strace: another tracer attached; mandoc: man page lint; python3, python3-jsonschema: test
# helpers and JSON output schemas; gdb also takes the cores of test_core, test_core_python and
# test_core_ruby (gcore); perl: the vendored flamegraph.pl; procps: pgrep/ps; tmux: a
# terminal for --top's test (capture-pane reads its screen)
DEPS_TOOLS := binutils dwz elfutils gdb linux-perf mandoc perl procps python3 python3-jsonschema strace tmux
# make valgrind; time: peak RSS in bench-profile and bench-sites; ruby-dev: the MJIT header that
# interp/gen/rboffsets.sh builds the Ruby layout table from
DEPS_EXTRA := ruby-dev time valgrind
# make deb / make rpm and their tests (make pkg-deps installs only these)
DEPS_PKG := debhelper dpkg-dev lintian rpm
DEB_DEPS := $(sort $(DEPS_BUILD) $(DEPS_CHECK) $(DEPS_TARGETS) $(DEPS_TOOLS) $(DEPS_EXTRA) $(DEPS_PKG))

deps:
	@installed=" $$(dpkg-query -W -f='$${Package} $${Status}\n' $(DEB_DEPS) 2>/dev/null | \
		sed -n 's/ install ok installed$$//p' | tr '\n' ' ')"; \
	missing=$$(for p in $(DEB_DEPS); do case "$$installed" in *" $$p "*) ;; *) echo $$p ;; esac; done); \
	if [ -z "$$missing" ]; then echo "make deps: all $(words $(DEB_DEPS)) packages present"; exit 0; fi; \
	echo "make deps: installing $$missing"; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing

pkg-deps:
	@$(MAKE) --no-print-directory deps DEB_DEPS="$(DEPS_PKG)"
