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
"$bin" tsg tests/render/golden/lossy_transfer.pcap --graph all -o docs/examples/tsg-retx.svg
"$bin" demo --scenario transfer --bytes 300000 --loss 0.02 --seed 3 --format jsonl \
	>"${TMPDIR:-/tmp}/synack-cwnd.jsonl" 2>/dev/null
"$bin" tsg "${TMPDIR:-/tmp}/synack-cwnd.jsonl" --graph cwnd -o docs/examples/tsg-cwnd.svg
rm -f "${TMPDIR:-/tmp}/synack-cwnd.jsonl"
# synack top needs a running synack (root, a namespace): docs/examples/top.txt is one refresh
# of it, captured by hand (docs/top.md says how); here it becomes a picture.
{
	echo '<!DOCTYPE html><html><head><meta charset="utf-8"/><style>body{margin:0;background:#1e1e1e}'
	echo 'pre{color:#e8e8e8;font:13px DejaVu Sans Mono,monospace;padding:12px;margin:0}</style></head><body><pre>'
	sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' docs/examples/top.txt
	echo '</pre></body></html>'
} >docs/examples/top.html
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
shot tsg-retx.svg 960 1300
shot tsg-cwnd.svg 960 300
shot top.html 1480 300
rm -f docs/examples/top.html
echo "docs/examples: handshake.svg lossy-tsg.svg report.html fsm-handshake.svg tsg-retx.svg tsg-cwnd.svg (+ .png shots, top.png)"
