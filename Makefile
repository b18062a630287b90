# shunt — kernel-bypass TCP/IP stack.  See README.md.
#
#   make            build libraries, examples, tests (into $(BUILD))
#   make check      install dependencies, build, run every test
#   make demo       install dependencies, run the end-to-end demo
#   make bench      run the benchmarks; bench-quick is the smoke run
#   make fuzz       run each fuzzer for FUZZ_SECONDS
#   make soak       the long reliability tests (SOAK_SECONDS of mixed load, see TESTING.md)
#   make install    PREFIX=/usr/local DESTDIR=
#
# BUILD=dir builds elsewhere, so several builds can share one tree.

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= gcc
CXX      ?= g++
CLANG    ?= clang
VERSION  := 0.1.0
FUZZ_SECONDS ?= 60

DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)

WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
INCS     := -Iinclude -Istack/include -Istack
CFLAGS   ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) $(INCS) -fPIC -fvisibility=hidden -D_GNU_SOURCE -DSHUNT_VERSION='"$(VERSION)"'
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread

CORE_SRC := $(sort $(wildcard stack/core/*.c stack/wire/*.c stack/netif/*.c stack/api/*.c))
DPDK_SRC := $(sort $(wildcard dpdk_netif/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
EXAMPLES := $(patsubst examples/%.c,%,$(sort $(wildcard examples/*.c)))
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
TOOLS_SRC := $(sort $(wildcard tests/tools/*.c))
TOOLS    := $(patsubst tests/tools/%.c,%,$(TOOLS_SRC))

CORE_OBJ     := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CORE_SAN_OBJ := $(CORE_SRC:%.c=$(BUILD)/san/%.o)
DPDK_OBJ     := $(DPDK_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ     := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SAN_OBJ := $(UNIT_SRC:%.c=$(BUILD)/san/%.o)

LIB_CORE     := $(BUILD)/libshunt-core.a
LIB_CORE_SAN := $(BUILD)/libshunt-core-san.a
LIB_SO       := $(BUILD)/libshunt.so
LIB_PRELOAD  := $(BUILD)/libshunt-preload.so
PRELOAD_SRC  := $(filter-out preload/launcher.c,$(sort $(wildcard preload/*.c)))
PRELOAD_OBJ  := $(PRELOAD_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all libs examples tests check demo bench bench-quick fuzz soak install clean deps tools

all: libs examples tests tools

libs: $(LIB_CORE) $(LIB_SO) $(LIB_PRELOAD) $(BUILD)/shunt

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -MMD -MP -c $< -o $@

# The DPDK driver needs DPDK's headers (and its -march); nothing else does.
$(BUILD)/obj/dpdk_netif/%.o: dpdk_netif/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(DPDK_CFLAGS) -MMD -MP -c $< -o $@

# Link targets also depend on the list of their sources, so removing a file relinks.
$(BUILD)/srcs-%.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$($*)' | cmp -s - $@ || echo '$($*)' > $@

.PHONY: FORCE
FORCE:

$(LIB_CORE): $(CORE_OBJ) $(BUILD)/srcs-CORE_SRC.txt
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(CORE_OBJ)

$(LIB_CORE_SAN): $(CORE_SAN_OBJ) $(BUILD)/srcs-CORE_SRC.txt
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(CORE_SAN_OBJ)

$(LIB_SO): $(CORE_OBJ) $(DPDK_OBJ) $(BUILD)/srcs-CORE_SRC.txt $(BUILD)/srcs-DPDK_SRC.txt
	$(CC) -shared -o $@ $(CORE_OBJ) $(DPDK_OBJ) -Wl,-soname,libshunt.so -Wl,--no-undefined $(DPDK_LIBS) -lpthread

# The preload shim exports exactly the names in preload/calls.h (the export map is made from it).
$(BUILD)/preload.map: preload/calls.h
	@mkdir -p $(dir $@)
	( echo '{ global:'; sed -n 's/^[[:space:]]*X(\([a-z_0-9]*\),.*/  \1;/p' $<; echo 'local: *; };' ) > $@

$(LIB_PRELOAD): $(PRELOAD_OBJ) $(LIB_SO) $(BUILD)/preload.map $(BUILD)/srcs-PRELOAD_SRC.txt
	$(CC) -shared -o $@ $(PRELOAD_OBJ) -Wl,--version-script=$(BUILD)/preload.map -Wl,--no-undefined \
	    -L$(BUILD) -lshunt -Wl,-rpath,'$$ORIGIN' -ldl -lpthread

$(BUILD)/shunt: preload/launcher.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $< -o $@

examples: $(EXAMPLES:%=$(BUILD)/examples/%)

$(BUILD)/examples/%: examples/%.c $(LIB_SO) $(wildcard examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $< -o $@ -L$(BUILD) -lshunt -Wl,-rpath,'$$ORIGIN/..' -lpthread

tools: $(TOOLS:%=$(BUILD)/tools/%)

$(BUILD)/tools/%: tests/tools/%.c $(LIB_SO) $(wildcard examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $< -o $@ -L$(BUILD) -lshunt -Wl,-rpath,'$$ORIGIN/..' -lpthread

tests: $(BUILD)/tests/unit $(BUILD)/tests/unit-san $(BUILD)/tests/sockapi $(BUILD)/tests/sockapi-plain \
	$(BUILD)/tests/mt $(BUILD)/tests/mt-tsan

# Shared test fixtures (runner, stacks over the link, packet builders).
TEST_HELPERS := tests/unit/main.c tests/unit/testnet.c tests/unit/sysnet.c tests/unit/tcpapp.c tests/unit/pkt.c

# Socket-semantics suite: the same tests against kernel sockets and shunt's socket API.
# sockapi-plain is the kernel half alone, a plain program (no shunt) for runs under the preload shim.
SOCKAPI_SRC := $(sort $(wildcard tests/sockapi/*.c))
SOCKAPI_PLAIN_SRC := $(filter-out tests/sockapi/ops_shunt.c,$(SOCKAPI_SRC))
$(BUILD)/tests/sockapi: $(SOCKAPI_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIB_CORE) \
    $(BUILD)/srcs-SOCKAPI_SRC.txt
	$(CC) $(CFLAGS) $(SOCKAPI_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_HELPERS:%.c=$(BUILD)/obj/%.o) -o $@ $(LIB_CORE) -lpthread
$(BUILD)/tests/sockapi-plain: $(SOCKAPI_PLAIN_SRC) tests/unit/main.c $(BUILD)/srcs-SOCKAPI_SRC.txt
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -Itests/unit -Iinclude -D_GNU_SOURCE -DSOCKAPI_PLAIN $(CFLAGS) \
	    $(SOCKAPI_PLAIN_SRC) tests/unit/main.c -o $@ -lpthread

# Multi-threaded tests, plain and under ThreadSanitizer (the core rebuilt with -fsanitize=thread).
MT_SRC := $(sort $(wildcard tests/mt/*.c))
$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(TSAN_FLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tests/mt: $(MT_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIB_CORE) $(BUILD)/srcs-MT_SRC.txt
	$(CC) $(CFLAGS) $(MT_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_HELPERS:%.c=$(BUILD)/obj/%.o) -o $@ $(LIB_CORE) -lpthread
$(BUILD)/tests/mt-tsan: $(MT_SRC:%.c=$(BUILD)/tsan/%.o) $(TEST_HELPERS:%.c=$(BUILD)/tsan/%.o) \
    $(CORE_SRC:%.c=$(BUILD)/tsan/%.o) $(BUILD)/srcs-MT_SRC.txt
	$(CC) $(TSAN_FLAGS) $(MT_SRC:%.c=$(BUILD)/tsan/%.o) $(TEST_HELPERS:%.c=$(BUILD)/tsan/%.o) \
	    $(CORE_SRC:%.c=$(BUILD)/tsan/%.o) -o $@ -lpthread

$(BUILD)/tests/unit: $(UNIT_OBJ) $(LIB_CORE) $(BUILD)/srcs-UNIT_SRC.txt
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(UNIT_OBJ) -o $@ $(LIB_CORE) -lpthread

$(BUILD)/tests/unit-san: $(UNIT_SAN_OBJ) $(LIB_CORE_SAN) $(BUILD)/srcs-UNIT_SRC.txt
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) $(UNIT_SAN_OBJ) -o $@ $(LIB_CORE_SAN) -lpthread

# libFuzzer harnesses: the core built by clang with the fuzzer's instrumentation.
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DSHUNT_FUZZ
$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(BASE_CFLAGS)) $(FUZZ_FLAGS) \
	    $< $(CORE_SRC) -o $@ -lpthread

fuzzers: $(FUZZERS:%=$(BUILD)/fuzz/%)

fuzz: fuzzers
	@for f in $(FUZZERS); do \
	    mkdir -p $(BUILD)/fuzz/corpus-$$f; \
	    echo "== $$f for $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(BUILD)/fuzz/corpus-$$f tests/fuzz/corpus/$$f || exit 1; \
	done

deps:
	scripts/deps.sh

NPROC := $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(NPROC) all fuzzers
	tests/run.sh $(BUILD)

soak: all
	tests/soak/run.sh $(BUILD)

demo: deps
	$(MAKE) -j$(NPROC) libs
	scripts/demo.sh $(BUILD)

bench-quick bench: deps
	$(MAKE) all
	@if [ -f bench/Makefile.inc ]; then $(MAKE) -f Makefile -f bench/Makefile.inc $@-run; \
	 else echo "bench/ not built yet"; fi

install: libs
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/shunt $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(LIB_SO) $(LIB_PRELOAD) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/shunt $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(LIB_CORE) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 include/shunt/*.h $(DESTDIR)$(PREFIX)/include/shunt/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' scripts/shunt.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/shunt.pc

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
