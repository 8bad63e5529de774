#!/usr/bin/env bash
# fuzz/run.sh CC SECONDS TARGET...: runs each libFuzzer target for SECONDS on its seed corpus
# and prints one line per target. FUZZ_SEED=N fixes libFuzzer's seed. FUZZ_RUNS=FILE (make
# fuzz-check sets fuzz/check-runs) gives each target listed there a fixed number of inputs
# instead of a time (SECONDS is then only a safety cap), so that with the seed fixed what make
# check explores no longer depends on how fast the machine is (libFuzzer's corpus handling
# still varies a little from run to run: two clean runs here kept corpora of 133 and 139
# inputs for fuzz_addr). make fuzz explores with a new seed and a time budget each run.
# Fails if any target crashed, leaked or broke an invariant; the input that did it is kept in
# build/fuzz/artifacts/, printed in base64 when small (so a CI log is enough to reproduce),
# and replays with
#   build/fuzz/TARGET build/fuzz/artifacts/TARGET-crash-...
set -u
cc=$1; secs=$2; shift 2
fuzz/have-libfuzzer.sh "$cc" || exit 0
[ $# -gt 0 ] || { echo "fuzz: no targets"; exit 0; }
fb=build/fuzz
mkdir -p "$fb/artifacts"
bad=()
for t in "$@"; do
	seeds=fuzz/corpus/$t; work=$fb/corpus/$t; log=$fb/$t.log
	mkdir -p "$seeds" "$work"
	dict=(); [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
	[ -n "${FUZZ_SEED:-}" ] && dict+=(-seed="$FUZZ_SEED")
	runs_opt=() limit=$secs
	if [ -n "${FUZZ_RUNS:-}" ]; then
		n=$(awk -v t="$t" '$1 == t { print $2 }' "$FUZZ_RUNS")
		[ -n "$n" ] && { runs_opt=(-runs="$n"); limit=$((secs * 3)); }
	fi
	t0=$(date +%s)
	"$fb/$t" -max_total_time="$limit" "${runs_opt[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$fb/artifacts/$t-" "${dict[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
	corp=$(ls "$work" | wc -l)
	if [ $rc -eq 0 ]; then
		printf 'fuzz: %-12s ok     %8s runs in %ss, %s, corpus %s\n' "$t" "${runs:-?}" "$(($(date +%s) - t0))" "${cov:-cov: ?}" "$corp"
	else
		art=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
		printf 'fuzz: %-12s FAILED after %s runs: %s (log %s)\n' "$t" "${runs:-?}" "${art:-no artifact}" "$log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz-invariant)' "$log" | head -n 5 | sed 's/^/    /'
		if [ -n "$art" ] && [ -f "$art" ] && [ "$(stat -c %s "$art")" -le 3072 ]; then
			echo "    input (base64; replay: base64 -d >in && $fb/$t in):"
			base64 -w 100 "$art" | sed 's/^/    /'
		fi
		bad+=("$t")
	fi
done
[ ${#bad[@]} -eq 0 ] || { echo "fuzz: failing: ${bad[*]}"; exit 1; }
