# ctrace — see README.md. `make deps` then `make check`.
VERSION := 0.1.0
# .git-rev: written into package source trees (make deb/rpm), which have no .git
GIT_REV := $(shell cat .git-rev 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)

CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BUILD ?= build

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
CT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -fno-strict-aliasing \
	-DCT_VERSION='"$(VERSION)"' -DCT_GIT_REV='"$(GIT_REV)"'
CT_LDFLAGS :=
ifneq ($(SANITIZE),)
CT_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
CT_LDFLAGS += -fsanitize=$(SANITIZE)
endif
LIBS := -ldw -lelf -lunwind-ptrace -lunwind-generic -lunwind -ljson-c -lpthread -liberty -ldl

LIB_SRC := $(sort $(wildcard lib/*.c process/*.c session/*.c layout/*.c formats/*.c attach/*.c unwind/*.c symbolize/*.c analyze/*.c \
	analyze/dumps/*.c report/*.c memory/*.c))
CLI_SRC := $(sort $(filter-out cli/main.c,$(wildcard cli/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
FIXTURE_SRC := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BIN := $(FIXTURE_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)

# Fixture flags: each documents the code shape it stands for.
FIX_CFLAGS := -g -O0 -fno-omit-frame-pointer -pthread -Wall
$(BUILD)/fixtures/omitfp: FIX_CFLAGS := -g -O2 -fomit-frame-pointer -fno-optimize-sibling-calls -pthread -Wall
$(BUILD)/fixtures/inlined: FIX_CFLAGS := -g -O2 -fno-optimize-sibling-calls -pthread -Wall
$(BUILD)/fixtures/benchsleep: FIX_CFLAGS := -g -O2 -fno-optimize-sibling-calls -pthread -Wall

.PHONY: all deps check unit integration demo bench clean install uninstall
all: $(BUILD)/ctrace

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libctrace.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libctcli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ctrace: $(BUILD)/cli/main.o $(BUILD)/libctcli.a $(BUILD)/libctrace.a
	$(CC) $(CT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libctcli.a $(BUILD)/libctrace.a
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) $(CFLAGS) $(CT_LDFLAGS) -o $@ $< $(BUILD)/libctcli.a $(BUILD)/libctrace.a $(LIBS) -lcmocka

$(BUILD)/fixtures/%: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FIX_CFLAGS) -o $@ $< -lpthread

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(BUILD)/cli/main.d

# Build and test dependencies, from Debian's archive. Quick when all are present.
DEB_DEPS := gcc make pkg-config libdw-dev libelf-dev libunwind-dev libcmocka-dev libc6-dbg gdb \
	elfutils mandoc python3 procps libjson-c-dev openjdk-17-jdk-headless \
	dpkg-dev debhelper lintian rpm
deps:
	@missing=$$(for p in $(DEB_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "make deps: all $(words $(DEB_DEPS)) packages present"; exit 0; fi; \
	echo "make deps: installing $$missing"; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing

check: all $(UNIT_BIN) $(FIXTURE_BIN)
	@BUILD=$(BUILD) sh tests/run-tests.sh

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run-tests.sh

integration: all $(FIXTURE_BIN)
	@BUILD=$(BUILD) ONLY=integration sh tests/run-tests.sh

demo: all $(FIXTURE_BIN)
	@sh tests/demo.sh $(BUILD)

bench: all $(FIXTURE_BIN)
	@sh bench/bench-backtraces.sh $(BUILD)

# --version prints GIT_REV: rebuild cli/version.o whenever the revision changes, not only its source.
.PHONY: ct-force
$(BUILD)/git-rev: ct-force
	@mkdir -p $(BUILD); echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' >$@
$(BUILD)/cli/version.o: $(BUILD)/git-rev

# Never installed set-uid: ctrace refuses to run that way (cli/main.c).
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: all
	install -D -m 0755 $(BUILD)/ctrace $(DESTDIR)$(BINDIR)/ctrace
	install -D -m 0644 man/ctrace.1 $(DESTDIR)$(MANDIR)/man1/ctrace.1
	install -D -m 0644 completion/ctrace.bash $(DESTDIR)$(BASHCOMPDIR)/ctrace

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctrace $(DESTDIR)$(MANDIR)/man1/ctrace.1 $(DESTDIR)$(BASHCOMPDIR)/ctrace

clean:
	rm -rf $(BUILD)

# --profile: pprof output is gzip-compressed with zlib; its test reads it with go tool pprof; the
# folded output is rendered by the vendored flamegraph.pl (tests/vendor/FlameGraph) with perl
LIBS += -lz
DEB_DEPS += zlib1g-dev golang-go linux-perf python3-jsonschema perl

# --profile: accuracy and overhead against perf record (see bench/bench-profile.sh); ctrace's peak
# RSS with GNU time
DEB_DEPS += time
.PHONY: bench-profile
bench-profile: all $(FIXTURE_BIN)
	@sh bench/bench-profile.sh $(BUILD)

# ctrace --threads on 1000 threads against three --backtraces and three eu-stack runs (issue 7).
.PHONY: bench-threads
bench-threads: all $(BUILD)/fixtures/manythreads
	@sh bench/bench-threads.sh $(BUILD)
bench: bench-threads

# libFuzzer targets: tests/fuzz/fuzz_*.c, linked with the library compiled once under ASan+UBSan
# and coverage (BUILD/fuzz-obj). `make fuzz` runs each for FUZZ_SECONDS from its seed corpus
# (tests/fuzz/corpus/NAME, if any) and its working corpus in FUZZ_WORK; a crash fails the run and
# leaves its input in FUZZ_WORK. `make check` runs them for FUZZ_CHECK_SECONDS each (63 s in all).
# Long runs: make fuzz FUZZ_ONLY=fuzz_elf FUZZ_SECONDS=86400 FUZZ_RUNS=10000000.
# FUZZ_ASAN_OPTIONS: no 0xbe fill of new blocks (ASan finds no bug by it) and a 16 MiB quarantine
# (use-after-free is still caught for recently freed blocks); together 1.3-1.9x more executions.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CHECK_SECONDS ?= 9
FUZZ_RUNS ?= -1
FUZZ_ONLY ?=
FUZZ_WORK ?= $(BUILD)/fuzz
FUZZ_ASAN_OPTIONS ?= max_malloc_fill_size=0:quarantine_size_mb=16
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz-obj/%.o)
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fno-sanitize-recover=undefined \
	-DCT_VERSION='"$(VERSION)"' -DCT_GIT_REV='"$(GIT_REV)"'
.PHONY: fuzz check-fuzz
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
-include $(FUZZ_OBJ:.o=.d)
.SECONDARY: $(FUZZ_OBJ)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJ) $(LIBS)

fuzz: $(if $(FUZZ_ONLY),$(FUZZ_ONLY:%=$(BUILD)/fuzz/%),$(FUZZ_BIN))
	@for f in $^; do \
		name=$$(basename $$f); work=$(FUZZ_WORK)/$$name.corpus; mkdir -p $$work; \
		seeds=tests/fuzz/corpus/$$name; [ -d $$seeds ] || seeds=; \
		echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
		ASAN_OPTIONS=$(FUZZ_ASAN_OPTIONS) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0 \
			$$f -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) \
			-max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_WORK)/$$name- \
			-print_final_stats=1 $$work $$seeds 2>$(FUZZ_WORK)/$$name.log || \
			{ tail -n 60 $(FUZZ_WORK)/$$name.log; echo "fuzz: $$name FAILED (see $(FUZZ_WORK)/$$name.log)"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_WORK)/$$name.log; \
	done

# make check's short run, in a directory of its own (a long `make fuzz` may be using BUILD/fuzz)
check-fuzz:
	@if command -v $(FUZZ_CC) >/dev/null; then \
		$(MAKE) --no-print-directory -j$$(nproc) $(FUZZ_BIN) && \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) FUZZ_WORK=$(BUILD)/fuzz-check; \
	else echo "SKIP  fuzz: $(FUZZ_CC) is not installed (make deps installs it)"; fi
check: check-fuzz

.PHONY: bench-analyze
bench-analyze: all $(FIXTURE_BIN)
	@sh bench/bench-analyze.sh $(BUILD)
# --memory (issue 6): a static fixture, and the benchmark against gdb's malloc_stats().
$(BUILD)/fixtures/staticheap: FIX_CFLAGS := -g -O0 -static -Wall
.PHONY: bench-memory
bench-memory: all $(FIXTURE_BIN)
	@sh bench/bench-memory.sh $(BUILD)
DEB_DEPS += redis-server
# Symbols (issue 4): C++ and Rust fixtures, symbol tests' packages.
CXX ?= c++
RUSTC ?= $(shell command -v rustc 2>/dev/null || ls $$HOME/.cargo/bin/rustc 2>/dev/null)
SYM_FIXTURE_BIN := $(BUILD)/fixtures/cxx
ifneq ($(RUSTC),)
SYM_FIXTURE_BIN += $(BUILD)/fixtures/rusty
endif
$(BUILD)/fixtures/%: tests/fixtures/%.cc
	@mkdir -p $(dir $@)
	$(CXX) -g -O0 -fno-omit-frame-pointer -pthread -Wall -o $@ $<
$(BUILD)/fixtures/%: tests/fixtures/%.rs
	@mkdir -p $(dir $@)
	$(RUSTC) -g -C opt-level=0 -C force-frame-pointers=yes -o $@ $<
check integration: $(SYM_FIXTURE_BIN)
DEB_DEPS += g++ libiberty-dev libdebuginfod-dev rustc nodejs dwz
$(BUILD)/fixtures/plugin: FIX_CFLAGS += -ldl
$(BUILD)/fixtures/libplugin-%.so: tests/fixtures/lib/plugin.c
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fno-omit-frame-pointer -fPIC -shared -DPLUGIN_FLAVOR=$* -o $@ $<
check integration: $(BUILD)/fixtures/libplugin-host.so $(BUILD)/fixtures/libplugin-container.so
.PHONY: bench-symbols
bench-symbols: all
	@sh bench/bench-symbols.sh $(BUILD)
# Go fixture (golang-go): built when go is installed; its test skips otherwise.
GO ?= $(shell command -v go 2>/dev/null)
ifneq ($(GO),)
check integration: $(BUILD)/fixtures/gospin
endif
$(BUILD)/fixtures/%: tests/fixtures/%.go
	@mkdir -p $(dir $@) $(BUILD)/go-cache
	GOCACHE=$(abspath $(BUILD)/go-cache) GOPATH=$(abspath $(BUILD)/go-path) GO111MODULE=off GOFLAGS= \
		$(GO) build -o $@ $<
DEB_DEPS += golang-go

# Packages (issue 9). `make deb`: a Debian package from a copy of this tree with packaging/debian as
# debian/, in $(BUILD)/deb. `make rpm`: an RPM from packaging/rpm/ctrace.spec, in $(BUILD)/rpm.
PKG_SRC := $(BUILD)/pkg-src/ctrace-$(VERSION)
.PHONY: deb rpm pkg-src
pkg-src:
	rm -rf $(BUILD)/pkg-src && mkdir -p $(PKG_SRC)
	tar -cf - --exclude=./$(BUILD) --exclude='./build*' --exclude=./.git . | tar -xf - -C $(PKG_SRC)
	echo $(GIT_REV) >$(PKG_SRC)/.git-rev

DEB_BUILD_OPTS ?= nocheck parallel=2
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb: needs dpkg-buildpackage and debhelper (apt-get install dpkg-dev debhelper)"; exit 1; }
	$(MAKE) --no-print-directory pkg-src
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb && mv $(PKG_SRC) $(BUILD)/deb/
	cp -r packaging/debian $(BUILD)/deb/ctrace-$(VERSION)/debian
	cd $(BUILD)/deb/ctrace-$(VERSION) && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u BUILD \
		DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTS)" dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# rpmbuild on Debian has an empty RPM database: --nodeps skips the BuildRequires check there.
RPM_FLAGS ?= --nodeps
rpm:
	@command -v rpmbuild >/dev/null || { echo "make rpm: needs rpmbuild (apt-get install rpm)"; exit 1; }
	$(MAKE) --no-print-directory pkg-src
	rm -rf $(BUILD)/rpm && mkdir -p $(BUILD)/rpm/SOURCES
	tar -czf $(BUILD)/rpm/SOURCES/ctrace-$(VERSION).tar.gz -C $(BUILD)/pkg-src ctrace-$(VERSION)
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u BUILD rpmbuild -bb $(RPM_FLAGS) \
		--define '_topdir $(abspath $(BUILD)/rpm)' packaging/rpm/ctrace.spec
	@ls $(BUILD)/rpm/RPMS/*/*.rpm

# Tools for make deb/rpm and their tests (which skip without them); not needed for make check.
.PHONY: pkg-deps
pkg-deps:
	@$(MAKE) --no-print-directory deps DEB_DEPS="dpkg-dev debhelper lintian rpm"

# Fault injection, repeated and counted (issue 8): ctrace SIGKILLed mid-capture, thread churn
# against eu-stack, the target dying mid-capture. Knobs: see tests/stress/stress.sh.
.PHONY: stress
stress: all $(FIXTURE_BIN)
	@BUILD=$(BUILD) CTRACE=$(CURDIR)/$(BUILD)/ctrace FIXTURES=$(CURDIR)/$(BUILD)/fixtures TOP=$(CURDIR) \
		sh tests/stress/stress.sh
# issue 8: strace for test_other_tracer, clang for make fuzz, valgrind for make valgrind
DEB_DEPS += strace clang valgrind

# valgrind memcheck on ctrace's runs against a fixture (issue 8): tests/valgrind/valgrind.sh.
.PHONY: valgrind
valgrind: all $(FIXTURE_BIN)
	@BUILD=$(BUILD) CTRACE=$(CURDIR)/$(BUILD)/ctrace FIXTURES=$(CURDIR)/$(BUILD)/fixtures TOP=$(CURDIR) \
		sh tests/valgrind/valgrind.sh

# Sanitizers (issue 8): any UBSan report aborts, so a test sees it as a failure.
ifneq ($(SANITIZE),)
CT_CFLAGS += -fno-sanitize-recover=all
endif
# make check also builds the library into build-asan/ under ASan+UBSan and runs the unit tests
# there (CHECK_SANITIZE=0 skips it; `make check SANITIZE=address,undefined` runs everything so).
CHECK_SANITIZE ?= 1
.PHONY: check-sanitize
check-sanitize:
ifeq ($(CHECK_SANITIZE),1)
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined unit
endif
ifeq ($(SANITIZE),)
check: check-sanitize
endif
# --memory --sites (issue 6): the target's allocator calls/s under uprobes, and byte-share accuracy.
.PHONY: bench-sites
bench-sites: all $(BUILD)/fixtures/allocsites
	@sh bench/bench-sites.sh $(BUILD)
# --memory --inject (issue 6): jemalloc/tcmalloc statistics called in the target; tcmalloc for its test
.PHONY: bench-inject
bench-inject: all
	@sh bench/bench-inject.sh $(BUILD)
DEB_DEPS += libjemalloc2 libtcmalloc-minimal4 redis-tools
