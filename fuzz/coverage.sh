#!/usr/bin/env bash
# fuzz/coverage.sh TARGET [DIR...] [-- FILE...]: line coverage of the library's FILEs (default
# src/core/*.c) by the inputs in DIRs (default fuzz/corpus/TARGET and fuzz/regress/TARGET),
# replayed once each through the target's harness. Builds the library and the harness with
# clang's source-based coverage (-fprofile-instr-generate -fcoverage-mapping) into build/cov,
# no sanitizers, no fuzzing; prints llvm-cov's per-file table and, for FILEs given, the
# coverage of each function in them. Example: what the committed fuzz_stack seeds reach of
# ICMP, SACK and the timers (keepalive):
#     fuzz/coverage.sh fuzz_stack -- src/core/icmp.c src/core/tcp_sack.c src/core/tcp_timer.c
set -eu
cd "$(dirname "$0")/.."
t=${1:?usage: fuzz/coverage.sh TARGET [DIR...] [-- FILE...]}
shift
dirs=() files=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do dirs+=("$1"); shift; done
[ $# -gt 0 ] && { shift; files=("$@"); }
[ ${#dirs[@]} -gt 0 ] || dirs=("fuzz/corpus/$t" "fuzz/regress/$t")
CB=build/cov
flags='-O1 -g -w -fprofile-instr-generate -fcoverage-mapping'
make -s --no-print-directory B=$CB CC=clang CFLAGS="$flags" LDFLAGS='-fprofile-instr-generate' \
	$CB/libsynack.a $CB/libsynack-cmd.a
name=${t#fuzz_}
cat >$CB/replay_main.c <<MAIN
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
int synack_fuzz_$name(const uint8_t *data, size_t len);
int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		synack_fuzz_$name(buf, n);
	}
	return 0;
}
MAIN
clang -D_GNU_SOURCE -DSYNACK_FUZZ_NO_MAIN -Iinclude -Isrc -Ifuzz -std=c11 $flags \
	"fuzz/$t.c" $CB/replay_main.c $CB/libsynack-cmd.a $CB/libsynack.a -o "$CB/$t" -lm -lpthread
inputs=()
for d in "${dirs[@]}"; do [ -d "$d" ] && for f in "$d"/*; do [ -f "$f" ] && inputs+=("$f"); done; done
rm -f "$CB/$t".profraw
LLVM_PROFILE_FILE="$CB/$t.profraw" "$CB/$t" "${inputs[@]}"
llvm-profdata merge -sparse "$CB/$t.profraw" -o "$CB/$t.profdata"
echo "$t: ${#inputs[@]} inputs from ${dirs[*]}"
[ ${#files[@]} -gt 0 ] || files=(src/core/*.c)
# Columns of llvm-cov 14's report: file, regions (3), functions (3), lines (3), branches (3).
llvm-cov report "$CB/$t" -instr-profile="$CB/$t.profdata" "${files[@]}" |
	awk '$1 ~ /\.c$|^TOTAL$/ {printf "  %-16s lines %5d, %6.2f%% covered; functions %3d, %6.2f%%\n", $1, $8, ($8 - $9) * 100 / ($8 ? $8 : 1), $5, ($5 - $6) * 100 / ($5 ? $5 : 1)}'
if [ "${SHOW_FUNCTIONS:-1}" = 1 ] && [ ${#files[@]} -le 4 ]; then
	llvm-cov report "$CB/$t" -instr-profile="$CB/$t.profdata" -show-functions "${files[@]}" |
		awk '/^File /{print "  " $2} $1 ~ /^[a-zA-Z_0-9.:]+$/ && NF == 10 {printf "    %-24s lines %4d, %6.2f%%\n", $1, $5, ($5 - $6) * 100 / ($5 ? $5 : 1)}'
fi
