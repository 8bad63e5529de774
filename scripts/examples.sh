#!/usr/bin/env bash
# Regenerates docs/examples/ (the pictures the README links) with the same commands make demo uses.
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/synack}
mkdir -p docs/examples
"$bin" demo --format svg >docs/examples/handshake.svg 2>/dev/null
"$bin" tsg tests/render/golden/lossy_transfer.pcap -o docs/examples/lossy-tsg.svg
"$bin" report tests/render/golden/lossy_transfer.pcap -o docs/examples/report.html
echo "docs/examples: handshake.svg lossy-tsg.svg report.html"
