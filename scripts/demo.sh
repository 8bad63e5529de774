#!/usr/bin/env bash
# make demo: the default simulated conversation, then the gallery of scenarios (docs/demo.md).
# Each ladder opens with the command that draws it and the question it answers.
set -eu
bin=$1
rule=$(printf '=%.0s' $(seq 1 99))
"$bin" demo
for sc in $("$bin" demo --list); do
	[ "$sc" = handshake ] && continue
	printf '\n%s\n' "$rule"
	"$bin" demo --scenario "$sc"
done
printf '\n%s\n' "$rule"
echo "Every scenario also runs as a test (tests/demo). Try --format jsonl, --loss 0.05 --seed N,"
echo "--absolute, or synack demo --help."
