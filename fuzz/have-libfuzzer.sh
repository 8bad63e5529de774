#!/usr/bin/env bash
# Succeeds when $1 (clang) can build and link a libFuzzer target with ASan+UBSan;
# otherwise prints one line saying why fuzzing is skipped and fails.
cc=${1:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: skipped ($cc not found; on Debian: apt-get install clang libclang-rt-14-dev)"
	exit 1
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$dir/t.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" >/dev/null 2>&1; then
	echo "fuzz: skipped ($cc cannot link -fsanitize=fuzzer; on Debian: apt-get install libclang-rt-14-dev)"
	exit 1
fi
exit 0
