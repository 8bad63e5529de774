#!/usr/bin/env bash
# make check: every phase in turn, each one's output in build/check/PHASE.log; on the terminal
# one line per phase, the failing lines of a phase that failed, and a summary table at the end,
# followed (last, so that a CI log that keeps only the tail shows them) by the failing lines of
# each failed phase again.
# Every phase runs even after a failure, so the table is complete; the exit status is non-zero
# if any failed.
set -u
logs=build/check
mkdir -p "$logs"
# CHECK_PHASES="unit cli" runs only those (for a quick look at the table)
phases=(${CHECK_PHASES:-deps build merge-markers core-purity layers unit drill render cli bench-build install interop preload sanitize preload-san fuzz})
declare -A target=([deps]=deps [build]=all [merge-markers]=check-merge-markers [core-purity]=check-core-purity
	[layers]="check-layers layers-check" [bench-build]=bench-build [unit]=unit
	[drill]=drill-check [render]=render-check [cli]=cli-check [install]=install-check
	[interop]=interop [preload]=preload-check [sanitize]=sanitize [preload-san]=preload-check-san
	[fuzz]=fuzz-check)
declare -A result secs summary why
failed=0
for p in "${phases[@]}"; do
	printf 'check: %-12s ' "$p"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # a phase may be several targets
	make -s --no-print-directory ${target[$p]} >"$logs/$p.log" 2>&1
	rc=$?
	secs[$p]=$(($(date +%s) - t0))
	# the phase's own summary: its last "N passed, N failed" (or last) line
	summary[$p]=$(grep -E '[0-9]+ passed|passed,|all passed|: ok|skipped' "$logs/$p.log" | tail -n 1 | cut -c1-60)
	[ -n "${summary[$p]}" ] || summary[$p]=$(tail -n 1 "$logs/$p.log" | cut -c1-60)
	[ -n "${summary[$p]}" ] || summary[$p]="(no output)"
	if [ $rc -eq 0 ]; then
		result[$p]=ok
		echo "ok (${secs[$p]} s)"
	else
		result[$p]=FAILED
		failed=$((failed + 1))
		echo "FAILED (${secs[$p]} s; log: $logs/$p.log)"
		why[$p]=$(grep -E -A 30 'FAIL|[Ee]rror|Assertion|failing:|fuzz-invariant|runtime error' "$logs/$p.log" | head -n 40)
		printf '%s\n' "${why[$p]}" | sed 's/^/    /'
	fi
done
echo
printf '%-12s %-7s %6s  %s\n' phase result time summary
printf '%-12s %-7s %6s  %s\n' ------------ ------- ------ ----------------------------------------
for p in "${phases[@]}"; do
	printf '%-12s %-7s %5ss  %s\n' "$p" "${result[$p]}" "${secs[$p]}" "${summary[$p]}"
done
# The total of the phases' own "N passed, N failed" lines (a phase's last such line counts).
tp=0; tf=0
for p in "${phases[@]}"; do
	l=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$logs/$p.log" | tail -n 1)
	[ -n "$l" ] || continue
	set -- $l
	tp=$((tp + $1)); tf=$((tf + $3))
done
echo "check: $tp passed, $tf failed"
if [ $failed -eq 0 ]; then echo "make check: all passed"; else echo "make check: $failed phase(s) failed"; fi
for p in "${phases[@]}"; do
	[ "${result[$p]}" = FAILED ] || continue
	echo "why $p failed ($logs/$p.log):"
	printf '%s\n' "${why[$p]}" | sed 's/^/    /'
done
[ $failed -eq 0 ]
