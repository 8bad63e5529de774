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
"$bin" demo --ipv6
printf '\n%s\n' "$rule"
echo "Every scenario also runs as a test (tests/demo), over IPv4 and over IPv6 (--ipv6). Try"
echo "--format jsonl, --loss 0.05 --seed N, --absolute, or synack demo --help."

# Pictures: the handshake as SVG, a lossy transfer as an HTML ladder, and the report of a
# capture (synack ladder/tsg/report read any pcap: docs/ladder.md, docs/tsg.md, docs/report.md).
pics=$(dirname "$bin")/demo
mkdir -p "$pics"
"$bin" demo --format svg >"$pics/handshake.svg"
"$bin" demo --ipv6 --format svg >"$pics/handshake-ipv6.svg"
"$bin" demo --scenario simultaneous-close --format svg >"$pics/simultaneous-close.svg"
"$bin" demo --scenario transfer --loss 0.02 --format html >"$pics/transfer.html" 2>/dev/null || true
golden=$(cd "$(dirname "$0")/.." && pwd)/tests/render/golden
"$bin" tsg "$golden/lossy_transfer.pcap" -o "$pics/lossy-tsg.svg"
"$bin" report "$golden/lossy_transfer.pcap" -o "$pics/report.html"
# A synack stack's own trace carries its cwnd and ssthresh: drawn over time (docs/tsg.md).
"$bin" demo --scenario transfer --bytes 300000 --loss 0.02 --seed 3 --format jsonl \
	>"$pics/transfer.jsonl" 2>/dev/null || true
"$bin" tsg "$pics/transfer.jsonl" --graph cwnd -o "$pics/transfer-cwnd.svg"
"$bin" report "$pics/transfer.jsonl" -o "$pics/transfer-report.html"
# RFC 9293's state diagram, lit by each scenario's run (synack fsm: docs/fsm.md).
for sc in $("$bin" demo --list); do
	"$bin" fsm demo --scenario "$sc" -o "$pics/fsm-$sc.svg"
done
echo "Pictures for a browser: $pics/handshake.svg (handshake-ipv6.svg over IPv6), simultaneous-close.svg, transfer.html,"
echo "lossy-tsg.svg, report.html (synack report FILE.pcap makes one for any capture),"
echo "transfer-cwnd.svg and transfer-report.html (the sender's own cwnd and ssthresh, from a trace) and"
echo "fsm-SCENARIO.svg for every scenario (the state diagram with each side's transitions)."
"$(dirname "$0")/demo-wire.sh" "$bin"
