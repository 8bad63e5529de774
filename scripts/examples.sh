#!/usr/bin/env bash
# Regenerates docs/examples/ (the pictures the README links) with the same commands make demo
# uses, and PNG screenshots of them taken by headless Chromium (when it is installed).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/synack}
mkdir -p docs/examples
"$bin" demo --format svg >docs/examples/handshake.svg 2>/dev/null
"$bin" tsg tests/render/golden/lossy_transfer.pcap -o docs/examples/lossy-tsg.svg
"$bin" report tests/render/golden/lossy_transfer.pcap -o docs/examples/report.html
"$bin" fsm demo --scenario handshake -o docs/examples/fsm-handshake.svg
# shot FILE W H: docs/examples/FILE's picture as FILE-without-extension.png
shot() {
	local chrome prof
	chrome=$(command -v chromium || command -v chromium-browser || true)
	[ -n "$chrome" ] || { echo "examples: chromium missing: no screenshot of $1"; return 0; }
	prof=$(mktemp -d)
	timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--no-first-run --user-data-dir="$prof" --hide-scrollbars --window-size="$2,$3" \
		--screenshot="docs/examples/${1%.*}.png" "file://$PWD/docs/examples/$1" >/dev/null 2>&1
	rm -rf "$prof"
}
shot fsm-handshake.svg 1320 960
shot lossy-tsg.svg 1000 620
echo "docs/examples: handshake.svg lossy-tsg.svg report.html fsm-handshake.svg (+ .png shots)"
