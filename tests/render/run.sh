#!/usr/bin/env bash
# Shell-driven checks of synack ladder/tsg/report (make render-check; part of make test):
#   1. the golden pcaps drawn through the command line match their expected text exactly;
#   2. empty, garbage, truncated, snaplen-cut and non-TCP captures give a clear message and a
#      non-zero exit (or a skip count), never a crash (the sanitizer build runs this too);
#   3. SVG and HTML outputs are well-formed (xmllint) and load nothing from the network;
#   4. the HTML report renders in headless Chromium to a non-blank PNG of the expected size;
#   5. a JSON-lines trace is drawn like a capture (synack ladder --trace);
#   6. the retransmission/dup-ack/zero-window marks equal tshark's on the same captures;
#   7. as root: kernel-to-kernel conversations in a private network namespace, captured with
#      tcpdump, whose inferred states must agree with what `ss -tan` showed (render/netns.sh).
# Parts whose tools are missing are skipped with a line saying so.
set -u
BIN=${1:-build/synack}
HERE=$(cd "$(dirname "$0")" && pwd)
G=$HERE/golden
T=$(mktemp -d /tmp/synack-render.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "render-check: FAIL: $*"; }

# expect_fail NAME PATTERN CMD...: CMD exits 1 (not 0, not a crash) and says PATTERN.
# (WANT_RC=2 for usage errors.)
expect_fail() {
	local name=$1 pat=$2 want=${WANT_RC:-1}; shift 2
	"$@" >"$T/out" 2>"$T/err"; local rc=$?
	if [ $rc -ne "$want" ]; then bad "$name: exit $rc, want $want ($(head -c 300 "$T/err"))"; return; fi
	grep -q -- "$pat" "$T/err" || { bad "$name: message lacks '$pat': $(cat "$T/err")"; return; }
	ok
}

# 1. golden ladders through the CLI
for p in "$G"/*.pcap; do
	[ -e "$p" ] || { bad "no golden captures in $G"; break; }
	n=$(basename "$p" .pcap)
	# the CLI adds a title line per connection; the library test draws without it
	if "$BIN" ladder "$p" >"$T/$n.txt" 2>"$T/err"; then
		tail -n +2 "$T/$n.txt" | diff -u "$G/$n.txt" - >"$T/diff" && ok || bad "golden $n: $(head -20 "$T/diff")"
	else
		bad "golden $n: exit $? $(cat "$T/err")"
	fi
done

# 1b. IPv6 captures: the handshake of golden/v6_handshake.pcap (synack demo --ipv6 --pcap) in
# every container and link type of tests/render/v6/ (make.py wrote them) draws the same ladder;
# tshark reads each as the same 11 IPv6 TCP segments; a dual-stack capture (IPv4 on Ethernet,
# IPv6 raw, in one pcapng) is two connections, each found by --conn; tsg and report draw the
# lossy IPv6 transfer with its [addr]:port names and one R per retransmission.
V6=$HERE/v6
for p in "$V6"/handshake*.pcap*; do
	n=$(basename "$p")
	if "$BIN" ladder "$p" >"$T/v6.txt" 2>"$T/err"; then
		head -1 "$T/v6.txt" | grep -qxF 'connection 1: [2001:db8::1]:40000 - [2001:db8::2]:80' &&
			tail -n +2 "$T/v6.txt" | diff -u "$G/v6_handshake.txt" - >"$T/diff" && ok ||
			bad "v6 $n: $(head -20 "$T/v6.txt" "$T/diff")"
	else
		bad "v6 $n: exit $? $(cat "$T/err")"
	fi
	if command -v tshark >/dev/null; then
		c=$(tshark -n -r "$p" -Y 'ipv6 && tcp' 2>/dev/null | wc -l)
		[ "$c" -eq 11 ] && ok || bad "v6 $n: tshark reads $c IPv6 TCP segments, want 11"
	fi
done
"$BIN" ladder "$V6/dualstack.pcapng" >"$T/ds.txt" 2>"$T/err" &&
	[ "$(grep -c '^connection' "$T/ds.txt")" -eq 2 ] &&
	grep -qxF 'connection 1: [2001:db8::1]:40000 - [2001:db8::2]:80' "$T/ds.txt" &&
	grep -qxF 'connection 2: 192.168.0.1:40000 - 192.168.0.2:80' "$T/ds.txt" && [ ! -s "$T/err" ] && ok ||
	bad "dual-stack capture: $(cat "$T/ds.txt" "$T/err" | head -20)"
"$BIN" ladder "$V6/dualstack.pcapng" --conn '[2001:db8::2]:80-[2001:db8::1]:40000' >"$T/ds6.txt" &&
	tail -n +2 "$T/ds6.txt" | diff -q "$G/v6_handshake.txt" - >/dev/null && ok ||
	bad "dual-stack --conn IPv6: $(head -5 "$T/ds6.txt")"
# (times count from the capture's first packet, the IPv6 SYN 5 ms before: compared without them)
"$BIN" ladder "$V6/dualstack.pcapng" --conn 192.168.0.1:40000-192.168.0.2:80 >"$T/ds4.txt" &&
	tail -n +2 "$T/ds4.txt" | cut -c12- | diff -q <(cut -c12- "$G/handshake_close.txt") - >/dev/null &&
	grep -q '^   0.005000  SYN-SENT' "$T/ds4.txt" && ok ||
	bad "dual-stack --conn IPv4: $(head -5 "$T/ds4.txt")"
want6=$(grep -c '(retx)' "$G/v6_lossy_transfer.txt")
"$BIN" tsg "$G/v6_lossy_transfer.pcap" -o "$T/v6tsg.svg" &&
	[ "$want6" -gt 0 ] && [ "$(grep -c 'class="rmark"' "$T/v6tsg.svg")" -eq "$want6" ] &&
	grep -qF '[2001:db8::1]:40000' "$T/v6tsg.svg" && ok ||
	bad "tsg of an IPv6 capture: $(grep -c 'class="rmark"' "$T/v6tsg.svg") R marks, want $want6"
"$BIN" report "$G/v6_lossy_transfer.pcap" -o "$T/v6report.html" &&
	grep -qF '[2001:db8::1]:40000' "$T/v6report.html" && grep -q 'TIME-WAIT' "$T/v6report.html" &&
	{ ! command -v xmllint >/dev/null || xmllint --noout "$T/v6tsg.svg" "$T/v6report.html"; } && ok ||
	bad "report of an IPv6 capture"

# long ladders: kept ends with a marker, a time window
"$BIN" ladder "$G/lossy_transfer.pcap" --first 3 --last 2 >"$T/el.txt" &&
	grep -q "17 segments not shown" "$T/el.txt" && [ "$(grep -cE -- '-->\||\|<--' "$T/el.txt")" -eq 5 ] && ok ||
	bad "--first/--last: $(cat "$T/el.txt")"
"$BIN" ladder "$G/lossy_transfer.pcap" --from 0.03 --to 0.05 >"$T/win.txt" &&
	grep -q "(15 segments outside --from/--to not shown)" "$T/win.txt" && ok ||
	bad "--from/--to: $(cat "$T/win.txt")"

# 2. malformed inputs
: >"$T/empty.pcap"
printf 'GET / HTTP/1.1\r\nHost: example\r\n\r\n' >"$T/garbage.pcap"
head -c 200 "$G/handshake_close.pcap" >"$T/cut.pcap"
head -c 10 "$G/handshake_close.pcap" >"$T/cut_header.pcap"
for cmd in ladder tsg report; do
	expect_fail "$cmd empty" "empty file" "$BIN" $cmd "$T/empty.pcap"
	expect_fail "$cmd garbage" "not a pcap or pcapng file" "$BIN" $cmd "$T/garbage.pcap"
	expect_fail "$cmd cut header" "truncated pcap file header" "$BIN" $cmd "$T/cut_header.pcap"
	expect_fail "$cmd missing" "No such file" "$BIN" $cmd "$T/nonexistent.pcap"
done
expect_fail "ladder truncated record" "truncated" "$BIN" ladder "$T/cut.pcap"
grep -q "SYN-SENT" "$T/out" && ok || bad "ladder truncated record: the packets before the cut are not drawn"
WANT_RC=2 expect_fail "ladder bad --conn" "conn" "$BIN" ladder "$G/refused.pcap" --conn 1.2.3.4
if command -v python3 >/dev/null; then
	python3 - "$T" <<'EOF'
import struct, sys
d = sys.argv[1]
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)
udp = bytes([0x45,0,0,28, 0,1,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2]) + bytes(8)
s = 0
for i in range(0, 20, 2): s += udp[i] << 8 | udp[i+1]
while s >> 16: s = (s & 0xffff) + (s >> 16)
udp = udp[:10] + struct.pack('>H', ~s & 0xffff) + udp[12:]
rec = lambda p, orig: struct.pack('<IIII', 1, 0, len(p), orig) + p
open(d + '/udp.pcap', 'wb').write(hdr + rec(udp, 28) + rec(udp[:20], 1500))
EOF
	expect_fail "ladder non-TCP" "no TCP connection" "$BIN" ladder "$T/udp.pcap"
	grep -q "1 cut short by the snapshot length" "$T/err" && grep -q "1 not TCP" "$T/err" && ok ||
		bad "non-TCP: skip counts missing: $(cat "$T/err")"
	# IPv6: an ICMPv6 echo request is not TCP, a fragment (offset 0, M set) is counted as one,
	# and only the SYN is drawn.
	python3 - "$T" <<'EOF'
import struct, sys
c6, s6 = bytes([0xfd] + [0] * 14 + [1]), bytes([0xfd] + [0] * 14 + [2])
def v6(nh, body): return struct.pack('!IHBB', 6 << 28, len(body), nh, 64) + c6 + s6 + body
tcp = struct.pack('!HHIIBBHHH', 40000, 80, 1, 0, 5 << 4, 2, 64800, 0, 0)  # checksum not checked
pkts = [v6(6, tcp), v6(58, bytes([128, 0, 0, 0, 0, 1, 0, 1])),
        v6(44, bytes([6, 0, 0, 1, 0, 0, 0, 9]) + tcp)]
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)
open(sys.argv[1] + '/mix6.pcap', 'wb').write(hdr + b''.join(
    struct.pack('<IIII', 1 + i, 0, len(p), len(p)) + p for i, p in enumerate(pkts)))
EOF
	"$BIN" ladder "$T/mix6.pcap" >"$T/mix6.txt" 2>"$T/err" &&
		grep -qxF 'connection 1: [fd00::1]:40000 - [fd00::2]:80' "$T/mix6.txt" &&
		grep -q "3 packets, 1 TCP segments in 1 connections; skipped 2: .* 1 not TCP, 1 fragments, 0 malformed" "$T/err" &&
		ok || bad "IPv6 non-TCP and fragment: $(cat "$T/mix6.txt" "$T/err" | head -5)"
else
	echo "render-check: python3 missing: non-TCP capture check skipped"
fi

# 3. well-formed SVG/HTML, nothing from the network
"$BIN" ladder "$G/lossy_transfer.pcap" --format svg -o "$T/ladder.svg" || bad "ladder svg"
"$BIN" ladder "$G/lossy_transfer.pcap" --format html -o "$T/ladder.html" || bad "ladder html"
"$BIN" tsg "$G/lossy_transfer.pcap" -o "$T/tsg.svg" || bad "tsg"
cat "$G"/*.pcap >/dev/null
"$BIN" report "$G/lossy_transfer.pcap" -o "$T/report.html" || bad "report"
"$BIN" report "$G/midstream.pcap" -o "$T/report2.html" || bad "report midstream"
cat "$G/handshake_close.pcap" >"$T/two.pcap" # a second connection: records of the reset one
tail -c +25 "$G/reset.pcap" >>"$T/two.pcap"
"$BIN" ladder "$T/two.pcap" --format html -o "$T/ladders.html" &&
	[ "$(grep -c '<svg' "$T/ladders.html")" -eq 2 ] && ok || bad "ladder html of two connections"
outs="$T/ladders.html $T/ladder.svg $T/ladder.html $T/tsg.svg $T/report.html $T/report2.html"
if command -v xmllint >/dev/null; then
	for f in $outs; do xmllint --noout "$f" 2>"$T/xerr" && ok || bad "xmllint $(basename "$f"): $(head -5 "$T/xerr")"; done
else
	echo "render-check: xmllint missing (scripts/deps.sh installs libxml2-utils): well-formedness skipped"
fi
for f in $outs; do
	if grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"']?(https?:)?//|url\([\"']?(https?:)?//|@import" "$f"; then
		bad "$(basename "$f") refers to a network resource"
	else ok; fi
done
grep -q "retransmission" "$T/report.html" && grep -q "TIME-WAIT\|ESTABLISHED" "$T/report.html" && ok ||
	bad "report lacks the connection table"

# 4. headless Chromium renders the report
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ] && command -v python3 >/dev/null; then
	prof=$(mktemp -d)
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--hide-scrollbars --window-size=1200,900 --screenshot="$T/report.png" \
		"file://$T/report.html" >"$T/chrome.log" 2>&1
	rm -rf "$prof"
	if [ -s "$T/report.png" ]; then
		python3 - "$T/report.png" <<'EOF' && ok || bad "chromium screenshot: $(cat "$T/png.err" 2>/dev/null)"
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h, depth, ctype = struct.unpack('>IIBB', data[16:26])
assert (w, h) == (1200, 900), 'size %dx%d, want 1200x900' % (w, h)
# A blank page compresses to a few kilobytes; text and lines to tens of them.
assert len(data) > 20000, 'the page looks blank (%d-byte PNG)' % len(data)
EOF
	else
		bad "chromium produced no screenshot: $(tail -3 "$T/chrome.log")"
	fi
	# The retransmission marks: in the DOM, red, at least 10px, inside their graph, and the
	# topmost thing at their own centre (nothing drawn over them) at the default size.
	sed 's|</body>|<script>//<![CDATA[\
(function(){var ms=document.querySelectorAll("text.rmark"),vis=0,why=[];\
ms.forEach(function(t,i){t.scrollIntoView({block:"center"});var r=t.getBoundingClientRect(),\
cs=getComputedStyle(t),s=t.ownerSVGElement.getBoundingClientRect(),\
e=document.elementFromPoint((r.left+r.right)/2,(r.top+r.bottom)/2);\
var ok=r.width>=4\&\&r.height>=8\&\&cs.visibility=="visible"\&\&cs.display!="none"\&\&\
cs.fill.indexOf("214, 39, 40")>=0\&\&parseFloat(cs.fontSize)>=10\&\&r.left>=s.left\&\&\
r.right<=s.right\&\&r.top>=s.top\&\&r.bottom<=s.bottom\&\&(e===t\|\|t.contains(e));\
if(ok)vis++;else why.push(i+":"+Math.round(r.width)+"x"+Math.round(r.height)+" "+cs.fill+" "+(e\&\&e.tagName));});\
var p=document.createElement("pre");p.id="rcheck";\
p.textContent="rcheck "+ms.length+" "+vis+" "+why.join(";");document.body.appendChild(p);})();\
//]]></script></body>|' "$T/report.html" >"$T/rcheck.html"
	prof=$(mktemp -d)
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--window-size=1200,900 --dump-dom "file://$T/rcheck.html" >"$T/rcheck.dom" 2>"$T/chrome.log"
	rm -rf "$prof"
	want=$(grep -c '(retx)' "$G/lossy_transfer.txt") # the retransmissions its golden ladder marks
	if grep -q "rcheck $want $want " "$T/rcheck.dom"; then ok; else
		bad "retransmission marks in the report: want $want present and visible, got: $(grep -o 'rcheck[^<]*' "$T/rcheck.dom" || tail -3 "$T/chrome.log")"
	fi
	# The interactive zoom (tests/render/zoomcheck.js): a drag selection around an R mark zooms
	# onto it with a range readout, the marks stay, double-click resets.
	python3 -c 'import sys; p, j = open(sys.argv[1]).read(), open(sys.argv[2]).read()
open(sys.argv[3], "w").write(p.replace("</body>", "<script>//<![CDATA[\n" + j + "\n//]]></script></body>"))' \
		"$T/report.html" "$(dirname "$0")/zoomcheck.js" "$T/zcheck.html" || bad "zcheck page"
	prof=$(mktemp -d)
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--window-size=1200,900 --dump-dom "file://$T/zcheck.html" >"$T/zcheck.dom" 2>"$T/chrome.log"
	rm -rf "$prof"
	if grep -q '"zcheck">zcheck ok ' "$T/zcheck.dom"; then ok; else
		bad "interactive zoom: $(grep -o '"zcheck">[^<]*' "$T/zcheck.dom" || tail -3 "$T/chrome.log")"
	fi
	# Without JavaScript the page is its markup (headless Chromium renders nothing with scripts
	# off, so the markup is checked): every R mark there, the graph at its full viewBox, and the
	# zoom's readout and selection made only by the script.
	if [ "$(grep -o 'class="rmark"' "$T/report.html" | wc -l)" -eq "$want" ] &&
		grep -q 'viewBox="0 0 960 540"' "$T/report.html" &&
		! grep -q 'class="zoomrange"\|class="zsel"' "$T/report.html"; then
		ok
	else
		bad "report markup without JavaScript: R marks or the static viewBox missing"
	fi
else
	echo "render-check: chromium (or python3) missing: browser rendering skipped (apt-get install chromium)"
fi

# 5. a JSON-lines trace drawn like a capture
"$BIN" ladder "$G/handshake_close.pcap" --format jsonl >"$T/trace.jsonl" || bad "jsonl"
if "$BIN" ladder --trace "$T/trace.jsonl" >"$T/trace.txt" 2>"$T/err"; then
	for st in SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSE-WAIT LAST-ACK; do
		grep -q -- "$st" "$T/trace.txt" || bad "--trace: $st missing"
	done
	ok
else
	bad "--trace: $(cat "$T/err")"
fi
"$BIN" ladder "$T/trace.jsonl" --format svg -o "$T/trace.svg" && ok || bad "jsonl detection"
# The demo's own trace, written as JSON lines and drawn back, is the demo's ladder, over IPv4
# and over IPv6 ([addr]:port endpoints in the trace).
for fam in "" --ipv6; do
for sc in handshake simultaneous-close half-close lost-third-ack lost-last-ack abort keepalive \
	syn-timeout old-duplicate-syn; do
	abs=; [ "$sc" = old-duplicate-syn ] && abs=--absolute
	"$BIN" demo $fam -s "$sc" 2>/dev/null | sed -n '/time (s)/,/^$/p' | sed '/^$/d' >"$T/demo.txt"
	"$BIN" demo $fam -s "$sc" --format jsonl >"$T/demo.jsonl" 2>/dev/null
	"$BIN" ladder $abs --trace "$T/demo.jsonl" 2>/dev/null | sed -n '/time (s)/,$p' >"$T/back.txt"
	[ -s "$T/demo.txt" ] && diff -u "$T/demo.txt" "$T/back.txt" >"$T/diff" && ok ||
		bad "demo $fam $sc drawn from its JSON-lines trace differs: $(head -12 "$T/diff")"
done
done
# A live stack's trace has one host: one ladder per connection, the peer in its own column
# with its segments drawn solid from their arrival (not as injected), times from the first
# event. Simulated here by keeping only the server's lines of two demo runs, the second on
# another client port.
"$BIN" demo --format jsonl 2>/dev/null | grep '"host":"server"' >"$T/srv.jsonl"
grep -v '"to":"LISTEN"' "$T/srv.jsonl" | sed 's/:40000/:40001/g' >"$T/srv.jsonl.2" &&
	cat "$T/srv.jsonl.2" >>"$T/srv.jsonl"
if "$BIN" ladder --trace "$T/srv.jsonl" >"$T/live.txt" 2>"$T/err"; then
	[ "$(grep -c '^connection [12]: 10.0.0.1:4000[01] - 10.0.0.2:80' "$T/live.txt")" -eq 2 ] &&
		! grep -qE '\|~|~\|' "$T/live.txt" &&
		grep -q '^   0.000000               |                                                          | LISTEN$' "$T/live.txt" &&
		grep -q '|------------------- S seq=0 win=64240 ------------------->|' "$T/live.txt" &&
		grep -q '|<--------------- S. seq=0 ack=1 win=65160 ----------------| SYN-RECEIVED' "$T/live.txt" &&
		ok || bad "live trace ladders: $(cat "$T/live.txt")"
else
	bad "live trace: $(cat "$T/err")"
fi
"$BIN" ladder --trace "$T/srv.jsonl" --conn 10.0.0.2:80-10.0.0.1:40001 >"$T/live1.txt" &&
	[ "$(grep -c '^connection' "$T/live1.txt")" -eq 1 ] && grep -q '^connection 2: 10.0.0.1:40001' "$T/live1.txt" &&
	ok || bad "live trace --conn: $(cat "$T/live1.txt")"
# Long gaps are drawn as breaks; a simulated ladder marks duplicate ACKs like a capture's
# (seed 3 loses a segment mid-flight; with delayed ACKs and the tail-loss probe not every
# seed makes duplicate ACKs).
"$BIN" demo | grep -q '~ ~ ~  59.99 s later  ~ ~ ~' && ok || bad "no break mark for TIME-WAIT's 60 s"
"$BIN" demo -s transfer --loss 0.02 --seed 3 2>/dev/null | grep -q '(dup-ack #[0-9]*)' && ok ||
	bad "the simulated ladder does not mark duplicate ACKs"
# A trace drawn as a capture: the time-sequence graph of a lossy simulated transfer has one R
# per retransmission the stack made, and the report and its companions are well-formed.
"$BIN" demo -s transfer --loss 0.02 --format jsonl >"$T/xfer.jsonl" 2>/dev/null
want=$(grep -c '"ev":"tx".*"retx":true' "$T/xfer.jsonl")
"$BIN" tsg "$T/xfer.jsonl" --graph all -o "$T/xfer.svg" &&
	[ "$want" -gt 0 ] && [ "$(grep -c 'class="rmark"' "$T/xfer.svg")" -eq "$want" ] && ok ||
	bad "tsg of a trace: $(grep -c 'class="rmark"' "$T/xfer.svg") R marks, the trace has $want retransmissions"
"$BIN" report "$T/xfer.jsonl" -o "$T/xfer.html" && grep -q "In flight, RTT and throughput" "$T/xfer.html" &&
	{ ! command -v xmllint >/dev/null || xmllint --noout "$T/xfer.svg" "$T/xfer.html"; } && ok ||
	bad "report of a trace"
# The sender's own cwnd from that trace: one step of the cwnd line per client TX event that
# carries it (M, then H..V.. per further sample), and an ssthresh line once a loss set it.
n=$(grep -c '"host":"client","ev":"tx".*"cwnd"' "$T/xfer.jsonl")
"$BIN" tsg "$T/xfer.jsonl" --graph cwnd -o "$T/cwnd.svg" &&
	[ "$n" -gt 1 ] && [ "$(grep -o '<path class="cw" d="[^"]*"' "$T/cwnd.svg" | tr -cd V | wc -c)" -eq $((n - 1)) ] &&
	grep -q '"host":"client","ev":"tx".*"ssthresh"' "$T/xfer.jsonl" && grep -q '<path class="ss" d="M' "$T/cwnd.svg" &&
	{ ! command -v xmllint >/dev/null || xmllint --noout "$T/cwnd.svg"; } && ok ||
	bad "tsg --graph cwnd of a trace: $n samples, cwnd line $(grep -o '<path class="cw" d="[^"]*"' "$T/cwnd.svg" | head -c 200)"
"$BIN" tsg "$G/lossy_transfer.pcap" --graph cwnd -o "$T/cwnd-pcap.svg" && ! grep -q 'class="cw" d="M[0-9.]* [0-9.]*H' "$T/cwnd-pcap.svg" &&
	grep -q 'estimated from the wire' "$T/cwnd-pcap.svg" && ok || bad "tsg --graph cwnd of a pcap: not the in-flight estimate"
printf '{"t_us":1,"ev":"tx"\nnot json\n' >"$T/badtrace.jsonl"
expect_fail "bad trace" "not trace events" "$BIN" ladder --trace "$T/badtrace.jsonl"

# 5b. the state diagram of every demo scenario, as committed (SYNACK_UPDATE_GOLDEN=1 rewrites
# them); well-formed; and from a capture and a trace too
for sc in $("$BIN" demo --list); do
	g="$G/fsm/$sc.svg"
	if ! "$BIN" fsm demo --scenario "$sc" -o "$T/fsm-$sc.svg" 2>"$T/err"; then
		bad "fsm demo $sc: $(cat "$T/err")"; continue
	fi
	[ -n "${SYNACK_UPDATE_GOLDEN:-}" ] && cp "$T/fsm-$sc.svg" "$g"
	if command -v xmllint >/dev/null && ! xmllint --noout "$T/fsm-$sc.svg" 2>"$T/xerr"; then
		bad "fsm $sc: not well-formed: $(head -3 "$T/xerr")"; continue
	fi
	diff -u "$g" "$T/fsm-$sc.svg" >"$T/diff" && ok || bad "fsm $sc differs from $g: $(head -12 "$T/diff")"
done
"$BIN" fsm demo --format text >"$T/fsm.txt" &&
	grep -q "^client .* 1 .*CLOSED -> SYN-SENT  connect() / snd S$" "$T/fsm.txt" &&
	grep -q "^server .* 2 .*LISTEN -> SYN-RECEIVED  rcv S / snd S.$" "$T/fsm.txt" && ok ||
	bad "fsm --format text: $(cat "$T/fsm.txt")"
"$BIN" fsm --trace "$T/trace.jsonl" --format text >"$T/fsmt.txt" &&
	grep -q "FIN-WAIT-2 -> TIME-WAIT" "$T/fsmt.txt" && ok || bad "fsm --trace: $(cat "$T/fsmt.txt")"
"$BIN" fsm "$G/handshake_close.pcap" -o "$T/fsmp.svg" && grep -q "LAST-ACK -&gt; CLOSED" "$T/fsmp.svg" &&
	ok || bad "fsm of a capture"
grep -q "State diagram" "$T/report.html" && ok || bad "the report lacks the state diagram"
WANT_RC=2 expect_fail "fsm no input" "no input" "$BIN" fsm
WANT_RC=2 expect_fail "fsm bad format" "format" "$BIN" fsm demo --format png
WANT_RC=2 expect_fail "fsm bad scenario" "no scenario 'nope'" "$BIN" fsm demo --scenario nope
expect_fail "fsm missing file" "No such file" "$BIN" fsm "$T/nonexistent.pcap"

# 6. the marks agree with Wireshark's TCP analysis (tshark) on the golden and simulated captures
SIMCAP=$(dirname "$BIN")/tests/render/test_simcap
if command -v tshark >/dev/null && command -v python3 >/dev/null; then
	caps=$(ls "$G"/*.pcap)
	if [ -x "$SIMCAP" ]; then
		mkdir -p "$T/sim"
		SYNACK_SIMCAP_DIR="$T/sim" "$SIMCAP" >/dev/null 2>&1 || bad "test_simcap failed"
		caps="$caps $(ls "$T"/sim/*.pcap 2>/dev/null)"
	else
		echo "render-check: $SIMCAP not built: simulated captures not compared with tshark"
	fi
	for p in $caps; do
		python3 "$HERE/tshark_check.py" "$BIN" "$p" >"$T/ts.out" 2>&1 && ok || bad "tshark: $(cat "$T/ts.out")"
	done
	echo "render-check: marks as tshark's on $(echo $caps | wc -w) captures"
else
	echo "render-check: tshark missing: marks not compared with Wireshark's analysis"
fi

# 7. kernel conversations (root only)
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v tcpdump >/dev/null &&
	command -v ss >/dev/null && command -v python3 >/dev/null; then
	if bash "$HERE/netns.sh" "$BIN" >"$T/netns.log" 2>&1; then
		grep '^netns:' "$T/netns.log"; ok
	else
		bad "netns: $(tail -20 "$T/netns.log")"
	fi
else
	echo "render-check: not root (or ip/tcpdump/ss/python3 missing): kernel captures skipped"
fi

echo "render-check: $pass passed, $fail failed"
[ $fail -eq 0 ]
