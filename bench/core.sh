#!/usr/bin/env bash
# The core benchmarks: synack's engine alone, in one process, on a virtual clock (no link, no
# system calls in the measured path), plus the Linux kernel over loopback as a labelled
# reference. Builds bench/core_*.c against the library that `make` built, runs each, and prints
# every figure with its conditions. What each measures: bench/README.md.
#
# Usage: bench/core.sh [path/to/build/synack]     (make bench passes build/synack)
# Environment: QUICK=1 for small sizes (a smoke run, figures not for quoting);
#              ONLY="datapath kernel handshake memory timers callgrind" to pick parts;
#              TIMER_NS="10000 100000 1000000" connection counts of the timer benchmark.
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/synack}
B=$(dirname "$BIN")
LIB=$B/libsynack.a
if [ ! -f "$LIB" ]; then
	echo "bench core: $LIB missing (run make first)"; exit 1
fi
CC=${CC:-cc}
BFLAGS="-O2 -g"
OUT=$B/bench
mkdir -p "$OUT"
ONLY=${ONLY:-datapath callgrind kernel handshake memory timers}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src include 2>/dev/null || REV="$REV+local-changes"
CCV=$($CC --version 2>/dev/null | head -1)
CG=
[ -f /usr/include/valgrind/callgrind.h ] && CG=-DHAVE_CALLGRIND_H
for p in datapath kernel handshake memory timers; do
	$CC -std=c11 $BFLAGS -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude $CG \
		-DBENCH_CC="\"$CCV\"" \
		-DBENCH_CFLAGS="\"bench $BFLAGS; library: make's CFLAGS (default -O2 -g) -fPIC\"" \
		-DBENCH_REV="\"$REV\"" \
		-o "$OUT/core_$p" "bench/core_$p.c" bench/core_util.c "$LIB" $(pkg-config --libs liburing 2>/dev/null) -lm -lpthread || exit 1
done

GIB=$((1 << 30))
if [ "${QUICK:-0}" = 1 ]; then
	BYTES=$((64 << 20)) RUNS=2 HS_N=5000 MEM_N=2000 NS=${TIMER_NS:-"1000 10000"} REPS=2
else
	BYTES=$GIB RUNS=5 HS_N=20000 MEM_N=10000 NS=${TIMER_NS:-"10000 100000 1000000"} REPS=5
fi
echo "bench core: $(date -u +%FT%TZ) on $(uname -srm); MemAvailable $(awk '/MemAvailable/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); loadavg $(cut -d' ' -f1-3 /proc/loadavg)"

if want datapath; then
	"$OUT/core_datapath" VERIFY=1 BYTES=$((64 << 20)) RUNS=1 | sed -n 's/^RESULT/check (verified bytes, not timed for quoting):/p'
	"$OUT/core_datapath" BYTES=$BYTES RUNS=$RUNS
	"$OUT/core_datapath" BYTES=$BYTES RUNS=$RUNS SNDBUF=262144 RCVBUF=262144 | grep -E '^(sizes|RESULT)'
fi

# Instructions per segment: callgrind collects only the steady-state window (the program
# toggles collection), and instruction counts are repeatable where wall time is not.
if want callgrind; then
	if command -v valgrind >/dev/null && [ -n "$CG" ]; then
		f=$OUT/callgrind.datapath
		w=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$f" \
			"$OUT/core_datapath" BYTES=$((16 << 20)) RUNS=1 2>/dev/null | grep '^WINDOW')
		ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
		ds=$(echo "$w" | sed 's/.*data_segs=\([0-9]*\).*/\1/')
		as=$(echo "$w" | sed 's/.*all_segs=\([0-9]*\).*/\1/')
		echo "## data path under callgrind: 16 MiB, steady-state window only ($w)"
		awk -v ir="$ir" -v ds="$ds" -v as="$as" 'BEGIN {
			printf "RESULT datapath instructions: %d total, %.0f per data segment (its ACK included), %.0f per segment (data or ACK)\n", ir, ir / ds, ir / as }'
		echo "top functions (self instructions per data segment):"
		callgrind_annotate --inclusive=no "$f" 2>/dev/null |
			awk -v ds="$ds" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ {
				n = $1; gsub(",", "", n); fn = $NF == "" ? $(NF-1) : $0;
				sub(/^ *[0-9,]+ +\([ 0-9.%]+\) +/, "", fn); sub(/ \[.*/, "", fn);
				sub(/.*\//, "", fn); printf "  %7.0f  %s\n", n / ds, fn; if (++k == 12) exit }'
	else
		echo "## data path under callgrind: skipped (valgrind or valgrind/callgrind.h missing)"
	fi
fi

if want kernel; then
	"$OUT/core_kernel" BYTES=$BYTES RUNS=$RUNS
fi

if want handshake; then
	"$OUT/core_handshake" N=$HS_N RUNS=$RUNS
fi

if want memory; then
	# 1,000,000 idle established connections (after data both ways) on one server stack,
	# and 1,000,000 TIME-WAIT entries on another: about 250 and 61 MiB by the allocator's
	# count (the idle run's RSS peaks near 1 GB: each connection held its active part until
	# it folded); 100,000 instead when half the memory available would not hold that peak.
	idle=1000000
	avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
	[ $((idle * 2 * 2)) -gt "$avail_kb" ] && idle=100000
	"$OUT/core_memory" N=$MEM_N IDLE=$idle TW=$idle
	"$OUT/core_memory" N=$MEM_N SNDBUF=2048 RCVBUF=2048 IDLE=0 | grep -E '^(sizes|RESULT memory EST)'
fi

if want timers; then
	for n in $NS; do
		# About 5 KB per connection with 2 KiB buffers: skip an N that would not fit in
		# half of the memory available now (the machine is shared).
		avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
		if [ $((n * 5 * 2)) -gt "$avail_kb" ]; then
			echo "## timer scale N=$n: skipped, needs ~$((n * 5 / 1024)) MiB and only $((avail_kb / 1024)) MiB is available"
			continue
		fi
		r=$REPS
		[ "$n" -ge 1000000 ] && r=3
		"$OUT/core_timers" N=$n REPS=$r
	done
fi
