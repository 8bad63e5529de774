#!/usr/bin/env bash
# Runs Criterion test binaries, prints each one's synthesis and a closing
# "N passed, N failed" line. Exits non-zero if any test failed or crashed.
set -u
pass=0; fail=0; bad=()
for t in "$@"; do
	out=$("$t" --jobs 2 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E 'Synthesis: Tested' | tail -n 1)
	p=$(printf '%s' "$line" | sed -nE 's/.*Passing: ([0-9]+).*/\1/p')
	f=$(printf '%s' "$line" | sed -nE 's/.*Failing: ([0-9]+).*/\1/p')
	c=$(printf '%s' "$line" | sed -nE 's/.*Crashing: ([0-9]+).*/\1/p')
	p=${p:-0}; f=${f:-0}; c=${c:-0}
	pass=$((pass + p)); fail=$((fail + f + c))
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 40
		bad+=("$t"); [ "$f" = 0 ] && [ "$c" = 0 ] && fail=$((fail + 1))
	fi
	printf '%-44s %s\n' "${t#build/}" "${line#*Synthesis: }"
done
echo "unit: $pass passed, $fail failed"
[ ${#bad[@]} -eq 0 ] || { echo "failing: ${bad[*]}"; exit 1; }
