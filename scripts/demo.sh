#!/usr/bin/env bash
# make demo: the default simulated conversation, then the gallery of scenarios.
set -eu
bin=$1
"$bin" demo
for sc in $("$bin" demo --list); do
	[ "$sc" = handshake ] && continue
	echo
	echo "=== synack demo --scenario $sc"
	"$bin" demo --scenario "$sc"
done
