# Fuzzing with libFuzzer (clang), included by the top-level Makefile.
#   make fuzz FUZZ_SECONDS=N   builds every fuzz/fuzz_*.c target and runs each for N seconds
#   make fuzz-check            a fixed number of inputs each (fuzz/check-runs), seed 1 (part of
#                              `make check`); a target not listed there runs FUZZ_CHECK_SECONDS
# The library (and the command's archive, for the drill, pcap and http targets) is rebuilt
# into build/fuzz with clang, coverage instrumentation and ASan+UBSan;
# each target links it with libFuzzer. Seeds live in fuzz/corpus/<target>/ (committed, small);
# what a run discovers goes to build/fuzz/corpus/<target>/, crashes to build/fuzz/artifacts/.
# Without clang's libFuzzer both targets print one line and succeed.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 20
FB                 := build/fuzz
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# -w: clang may warn where gcc does not; the gcc builds keep -Werror (and the fuzz targets
# themselves are compiled with the project's warnings).
FUZZ_LIB_CFLAGS    := -O1 -g -w -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_TARGETS       := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS          := $(FUZZ_TARGETS:%=$(FB)/%)

.PHONY: fuzz fuzz-check fuzz-build
fuzz-build:
	@if fuzz/have-libfuzzer.sh $(FUZZ_CC); then \
	    $(MAKE) -s --no-print-directory B=$(FB) CC=$(FUZZ_CC) CFLAGS='$(FUZZ_LIB_CFLAGS)' \
	        LDFLAGS='$(FUZZ_SAN)' $(FB)/libsynack.a $(FB)/libsynack-cmd.a && \
	    $(MAKE) -s --no-print-directory $(FUZZ_BINS); fi

$(FB)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FB)/libsynack.a $(FB)/libsynack-cmd.a
	$(FUZZ_CC) $(CPPFLAGS) -Ifuzz -std=c11 $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $< \
	    $(FB)/libsynack-cmd.a $(FB)/libsynack.a -o $@ $(LDLIBS) -lm

fuzz: fuzz-build
	@fuzz/run.sh $(FUZZ_CC) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check: fuzz-build
	@FUZZ_SEED=$${FUZZ_SEED:-1} FUZZ_RUNS=fuzz/check-runs fuzz/run.sh $(FUZZ_CC) $(FUZZ_CHECK_SECONDS) $(FUZZ_TARGETS)
