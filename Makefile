# ctrace — see README.md. `make deps` then `make check`.
VERSION := 0.1.0
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

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
LIBS := -ldw -lelf -lunwind-ptrace -lunwind-generic -lunwind -ljson-c -lpthread

LIB_SRC := $(sort $(wildcard lib/*.c target/*.c attach/*.c unwind/*.c symbolize/*.c analyze/*.c \
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
	$(CC) $(CT_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

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
	elfutils mandoc python3 procps libjson-c-dev openjdk-17-jdk-headless
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

install: all
	install -D -m 0755 $(BUILD)/ctrace $(DESTDIR)$(PREFIX)/bin/ctrace
	install -D -m 0644 man/ctrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/ctrace.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ctrace $(DESTDIR)$(PREFIX)/share/man/man1/ctrace.1

clean:
	rm -rf $(BUILD)

# ctrace --threads on 1000 threads against three --backtraces and three eu-stack runs (issue 7).
.PHONY: bench-threads
bench-threads: all $(BUILD)/fixtures/manythreads
	@sh bench/bench-threads.sh $(BUILD)
bench: bench-threads

# libFuzzer targets: tests/fuzz/fuzz_*.c, each linked with the library sources under ASan+UBSan;
# `make fuzz` runs each for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME, if any).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -DCT_VERSION='"$(VERSION)"' -DCT_GIT_REV='"$(GIT_REV)"'
.PHONY: fuzz
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		name=$$(basename $$f); work=$(BUILD)/fuzz/$$name.corpus; mkdir -p $$work; \
		seeds=tests/fuzz/corpus/$$name; [ -d $$seeds ] || seeds=; \
		echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 $$work $$seeds 2>$(BUILD)/fuzz/$$name.log || \
			{ tail -n 60 $(BUILD)/fuzz/$$name.log; echo "fuzz: $$name FAILED (see $(BUILD)/fuzz/$$name.log)"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(BUILD)/fuzz/$$name.log; \
	done

.PHONY: bench-analyze
bench-analyze: all $(FIXTURE_BIN)
	@sh bench/bench-analyze.sh $(BUILD)

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
