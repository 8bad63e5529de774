# synack — one non-recursive Makefile.
#   make            library (static and shared), headers, pkg-config file, the synack command
#   make demo       the simulated demo gallery (and the real-wire demo when root)
#   make check      every test, then again under ASan+UBSan
#   make bench / soak / fuzz / install PREFIX=...
# SAN=1 builds into build/san with the sanitizers.

CC      ?= gcc
PREFIX  ?= /usr/local
SAN     ?= 0
B       := build
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wvla -Wformat=2 -Wundef -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
ALLFLAGS = -std=c11 $(WARN) -fPIC $(CFLAGS)
LDLIBS  :=

ifeq ($(SAN),1)
B       := build/san
ALLFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# One variable per layer folder, lowest first (scripts/layers.txt says who may include whom).
# libsynack proper is UTIL..DRIVER; CMD_SRCS is the synack command's own code.
UTIL_SRCS   := $(wildcard src/util/*.c)
CORE_SRCS   := $(wildcard src/core/*.c)
SYS_SRCS    := $(wildcard src/sys/*.c)
LINK_SRCS   := $(wildcard src/link/*.c)
DRIVER_SRCS := $(wildcard src/drivers/*.c)
CMD_SRCS    := $(wildcard src/apps/*.c src/render/*.c src/host/*.c src/demo/*.c src/drill/*.c)
LIB_SRCS  := $(UTIL_SRCS) $(CORE_SRCS) $(SYS_SRCS) $(LINK_SRCS) $(DRIVER_SRCS) $(CMD_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
# The purity check covers everything sans-IO: the core and the helpers it uses.
CORE_OBJS := $(UTIL_SRCS:%.c=$(B)/%.o) $(CORE_SRCS:%.c=$(B)/%.o)
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(B)/%.o)
TEST_SRCS := $(wildcard tests/*/test_*.c)
TEST_BINS := $(TEST_SRCS:%.c=$(B)/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(B)/%.o)
DEPS      := $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d)

LIBA  := $(B)/libsynack.a
LIBSO := $(B)/libsynack.so
BIN   := $(B)/synack

.PHONY: all demo check test deps check-core-purity unit drill-check render-check interop sanitize \
        bench soak fuzz install clean
all: $(LIBA) $(LIBSO) $(BIN) $(B)/synack.pc

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN): $(TOOL_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIBA) $(LDLIBS) -lm

$(B)/synack.pc: synack.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|g' synack.pc.in > $@

$(B)/tests/%: tests/%.c $(LIBA) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(ALLFLAGS) -MMD -MP $< $(TEST_SUPPORT_OBJS) $(LIBA) -o $@ \
	    $(LDFLAGS) -lcriterion -lm

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
	@if ls tests/drill/*/*.pkt >/dev/null 2>&1; then $(BIN) drill --strict tests/drill/*/*.pkt; \
	 else echo "drill: no scripts yet"; fi

install-check:
	@scripts/install-check.sh

interop: $(BIN)
	@scripts/interop.sh $(BIN)

# synack ladder/tsg/report through the command line: golden captures, malformed inputs,
# xmllint, headless Chromium, and (as root) kernel captures in a private namespace.
render-check: $(BIN)
	@tests/render/run.sh $(BIN)

test: all check-core-purity check-layers layers-check unit drill-check render-check

sanitize:
	$(MAKE) SAN=1 test

check: deps
	$(MAKE) test
	$(MAKE) install-check
	$(MAKE) interop
	$(MAKE) sanitize
	$(MAKE) fuzz-check
	@echo "make check: all passed"

demo: $(BIN)
	@scripts/demo.sh $(BIN)

bench: all
	@scripts/bench.sh $(B)

soak: all
	@SYNACK_SOAK=1 scripts/run-tests.sh $(TEST_BINS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/synack \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/synack/*.h $(DESTDIR)$(PREFIX)/include/synack/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' synack.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/synack.pc

clean:
	rm -rf build

include fuzz/fuzz.mk
