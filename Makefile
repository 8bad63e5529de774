# synack — one non-recursive Makefile.
#   make            libsynack (static, and shared with a SONAME; it exports only the API of
#                   include/synack/), the pkg-config file, and the synack command (which links
#                   the library and its own internal archive, build/libsynack-cmd.a)
#   make demo       the simulated demo gallery (and the real-wire demo when root)
#   make check      every phase, one line each, then a summary table (logs in build/check/)
#   make bench / soak / fuzz / install PREFIX=... / install-check / man
# SAN=1 builds into build/san with the sanitizers. V=1 shows every command (default: quiet:
# compiler lines only when they say something, one line per library and program linked).

CC      ?= gcc
PREFIX  ?= /usr/local
SAN     ?= 0
B       := build
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wvla -Wformat=2 -Wundef -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
ALLFLAGS = -std=c11 $(WARN) -fPIC $(CFLAGS)
LDLIBS  := -lpthread
# liburing (Debian: liburing-dev) for the TUN link's batched writes (SYNACK_TUN_URING); a
# build without it skips that and is otherwise the same.
URING   := $(shell pkg-config --exists liburing 2>/dev/null && echo 1)
ifeq ($(URING),1)
CPPFLAGS += -DSYNACK_HAVE_LIBURING
LDLIBS  += -luring
endif

V ?= 0
ifeq ($(V),1)
Q  :=
say = @true
else
Q  := @
say = @echo "  $(1)"
endif

ifeq ($(SAN),1)
B       := build/san
ALLFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# The version of the library and the command: libsynack.so.$(SOMAJOR) -> libsynack.so.$(VERSION).
VERSION := $(shell cat VERSION)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

# One variable per layer folder, lowest first (scripts/layers.txt says who may include whom).
# libsynack proper is UTIL..DRIVER: its objects are built with -fvisibility=hidden, and the
# public headers (include/synack/*.h) mark what they declare visible, so the shared library
# exports exactly the API. CMD_SRCS is the synack command's own code (renderers, drill
# interpreter, demo, apps, the serve/connect glue): an internal archive linked into the
# command and the tests that need it, never installed.
UTIL_SRCS   := $(wildcard src/util/*.c)
CORE_SRCS   := $(wildcard src/core/*.c)
SYS_SRCS    := $(wildcard src/sys/*.c)
LINK_SRCS   := $(wildcard src/link/*.c)
DRIVER_SRCS := $(wildcard src/drivers/*.c)
CMD_SRCS    := $(wildcard src/apps/*.c src/render/*.c src/host/*.c src/demo/*.c src/drill/*.c)
LIB_SRCS  := $(UTIL_SRCS) $(CORE_SRCS) $(SYS_SRCS) $(LINK_SRCS) $(DRIVER_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(B)/%.o)
# The purity check covers everything sans-IO: the core and the helpers it uses.
CORE_OBJS := $(UTIL_SRCS:%.c=$(B)/%.o) $(CORE_SRCS:%.c=$(B)/%.o)
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(B)/%.o)
TEST_SRCS := $(wildcard tests/*/test_*.c)
TEST_BINS := $(TEST_SRCS:%.c=$(B)/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(B)/%.o)
DEPS      := $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d)

PRELOAD_SRCS := $(wildcard src/preload/*.c)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(B)/%.o)
DEPS      += $(PRELOAD_OBJS:.o=.d)
PRELOAD   := $(B)/libsynack-preload.so

LIBA    := $(B)/libsynack.a
SONAME  := libsynack.so.$(SOMAJOR)
LIBSO_REAL := $(B)/libsynack.so.$(VERSION)
LIBSO   := $(B)/libsynack.so
CMDA    := $(B)/libsynack-cmd.a
BIN     := $(B)/synack

.PHONY: all demo check test deps check-core-purity unit drill-check render-check cli-check interop \
        sanitize preload-check preload-check-san bench bench-build check-merge-markers soak fuzz \
        install install-check clean man FORCE
all: $(LIBA) $(LIBSO) $(BIN) $(PRELOAD) $(B)/synack.pc

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(ALLFLAGS) -MMD -MP -c $< -o $@

# The library's objects hide every symbol the public headers do not declare. They also depend
# on the flags they were built with, so a build directory from before a flag change (say, one
# without -fvisibility=hidden) is rebuilt rather than exporting the internals.
LIB_CFLAGS := -fvisibility=hidden
$(LIB_OBJS): private ALLFLAGS += $(LIB_CFLAGS)
$(LIB_OBJS): $(B)/lib.flags
$(B)/lib.flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(CPPFLAGS) $(ALLFLAGS) $(LIB_CFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(CPPFLAGS) $(ALLFLAGS) $(LIB_CFLAGS)' > $@
FORCE:
$(B)/src/util/version.o: private CPPFLAGS += -DSYNACK_VERSION_STRING='"$(VERSION)"'
$(B)/src/util/version.o: VERSION

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# -z defs: the shared library names everything it needs (libm included), so a program that
# links it needs nothing else.
$(LIBSO_REAL): $(LIB_OBJS)
	$(call say,LD $@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

$(LIBSO): $(LIBSO_REAL)
	$(Q)ln -sf $(notdir $(LIBSO_REAL)) $(B)/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

# The LD_PRELOAD layer: its own shared library over libsynack's objects (and the command's
# control socket and trace file), exporting only the calls it intercepts
# (src/preload/exports.map), so nothing of synack leaks into a program.
$(PRELOAD): $(PRELOAD_OBJS) $(CMDA) $(LIBA) src/preload/exports.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=src/preload/exports.map -Wl,-z,defs \
	    -o $@ $(PRELOAD_OBJS) $(CMDA) $(LIBA) -ldl $(LDLIBS) -lm

$(CMDA): $(CMD_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(TOOL_OBJS) $(CMDA) $(LIBA)
	$(call say,LD $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(CMDA) $(LIBA) $(LDLIBS) -lm

$(B)/synack.pc: synack.pc.in Makefile VERSION
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|^Libs.private: -lm|Libs.private: -lm$(if $(URING), -luring)|' synack.pc.in > $@

# Tests of the library link only libsynack.a; tests of the command's modules (TEST_CMD_DIRS)
# link the command's archive too.
TEST_CMD_DIRS := render drillrunner demo apps fuzz
TEST_CMD_BINS := $(filter $(TEST_CMD_DIRS:%=$(B)/tests/%/%),$(TEST_BINS))
TEST_LIBS = $(LIBA)
$(TEST_CMD_BINS): TEST_LIBS = $(CMDA) $(LIBA)
$(TEST_CMD_BINS): $(CMDA)
$(B)/tests/%: tests/%.c $(LIBA) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(ALLFLAGS) -MMD -MP $< $(TEST_SUPPORT_OBJS) $(TEST_LIBS) -o $@ \
	    $(LDFLAGS) -lcriterion $(LDLIBS) -lm

-include $(DEPS) $(TEST_BINS:=.d)

# ---- tests ---------------------------------------------------------------------------------
deps:
	@scripts/deps.sh

# The core is sans-IO: linked together, its objects may only reference each other and a few
# freestanding memory/string routines. Anything else (I/O, clock, random, printf, malloc) fails.
CORE_ALLOWED := memcpy memmove memset memcmp strlen __stack_chk_fail
check-core-purity: $(CORE_OBJS)
	@ld -r -o $(B)/core-all.o $(CORE_OBJS)
	@bad=$$(nm -u $(B)/core-all.o | awk '{print $$2}' | grep -vxE '$(subst $() $(),|,$(CORE_ALLOWED))|__(a|ub)san.*|_GLOBAL_OFFSET_TABLE_' || true); \
	if [ -n "$$bad" ]; then echo "core-purity: src/core+src/util reference OS symbols:"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "core-purity: src/core+src/util reference no OS symbol (only: $(CORE_ALLOWED))"

# Who may include whom: scripts/layers.txt, enforced on every #include "..." in src/, tools/
# and include/synack/ (one line per violation); layers-check proves the check catches breaks.
.PHONY: check-layers layers-check
check-layers:
	@scripts/check-layers.sh && echo "check-layers: every include follows scripts/layers.txt"

layers-check:
	@tests/layers/run.sh

unit: $(TEST_BINS)
	@scripts/run-tests.sh $(TEST_BINS)

drill-check: $(BIN)
	@if ls tests/drill/*/*.pkt >/dev/null 2>&1; then \
	 for v in ipv4 ipv4-mapped-ipv6 ipv6; do echo "drill --ip_version=$$v:"; \
	 $(BIN) drill --strict --ip_version=$$v tests/drill/*/*.pkt || exit 1; done; \
	 else echo "drill: no scripts yet"; fi

install-check:
	@scripts/install-check.sh

interop: $(BIN)
	@scripts/interop.sh $(BIN)

# Unmodified programs (curl, python3 http.server, nc, socat, redis, nginx, iperf3) over
# `synack run`; preload-check-san: the same with the preload layer under ASan+UBSan.
preload-check: $(BIN) $(PRELOAD)
	@scripts/preload-check.sh $(BIN)
preload-check-san:
	$(MAKE) SAN=1 build/san/synack build/san/libsynack-preload.so
	@scripts/preload-check.sh build/san/synack san

# synack ladder/tsg/report through the command line: golden captures, malformed inputs,
# xmllint, headless Chromium, and (as root) kernel captures in a private namespace.
render-check: $(BIN)
	@tests/render/run.sh $(BIN)

# The command line's edges: one-line usage errors (exit 2), TUN errors that say what to do,
# serve/connect announcing host changes, connect's progress, top and nstat (root: namespaces).
cli-check: $(BIN)
	@tests/cli/run.sh $(BIN)

test: all check-merge-markers check-core-purity check-layers layers-check unit drill-check \
      render-check cli-check bench-build

# A merge's conflict markers committed by mistake (it happened once, in docs): fail on any.
check-merge-markers:
	@bad=$$(grep -rnE '^(<<<<<<<|>>>>>>>) ' --exclude-dir=build --exclude-dir=.git . || true); \
	if [ -n "$$bad" ]; then echo "merge markers left in:"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "merge-markers: none"

# The benchmarks' C programs are built by make bench with their own flags; compiling them here
# keeps them from rotting when an API they use changes (nothing is run).
BENCH_SRCS := $(filter-out bench/core_util.c,$(wildcard bench/*.c))
bench-build: $(LIBA)
	@mkdir -p $(B)/bench-build
	@for f in $(BENCH_SRCS); do \
		extra=; case $$f in bench/core_*) extra=bench/core_util.c ;; esac; \
		$(CC) -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Isrc $$f $$extra $(LIBA) \
		    -o $(B)/bench-build/$$(basename $$f .c) $(LDLIBS) -lm $(LDFLAGS) || exit 1; \
	done; echo "bench-build: $(words $(BENCH_SRCS)) benchmark programs compile"

sanitize:
	$(MAKE) SAN=1 test

# One line per phase (deps, build, each test suite, install, interop, preload, sanitizers,
# fuzzing), the failing lines of a phase that fails, a summary table; logs in build/check/.
check:
	@scripts/check.sh

demo: $(BIN)
	@scripts/demo.sh $(BIN)

bench: all
	@scripts/bench.sh $(B)

soak: all
	@SYNACK_SOAK=1 scripts/run-tests.sh $(TEST_BINS)

# Man pages, generated from the one source each subcommand has: its --help text.
man: $(BIN)
	@scripts/man.sh $(BIN) $(B)/man

# libsynack.so -> libsynack.so.$(SOMAJOR) (the SONAME programs record) -> libsynack.so.$(VERSION).
install: all man
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/synack \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(B)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO_REAL) $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIBSO_REAL)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libsynack.so
	install -m 644 include/synack/*.h $(DESTDIR)$(PREFIX)/include/synack/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|^Libs.private: -lm|Libs.private: -lm$(if $(URING), -luring)|' synack.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/synack.pc

clean:
	rm -rf build

include fuzz/fuzz.mk
