#!/usr/bin/env bash
# make bench: runs every executable bench/*.sh with the synack binary of build dir $1.
set -u
b=${1:-build}
ran=0
for s in "$(dirname "$0")"/../bench/*.sh; do
	[ -x "$s" ] || continue
	echo "=== bench: $(basename "$s")"
	"$s" "$b/synack"
	ran=1
done
[ $ran = 1 ] || echo "bench: no benchmarks yet"
