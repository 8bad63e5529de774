#!/usr/bin/env bash
# Churn and abuse on the real wire. 30,000 short HTTP requests one after another, each on a
# new connection, from the Linux kernel (tests/interop/peer.c churn) to `synack serve --app
# http` with its default options, first with synack closing first (Connection: close: synack
# holds every TIME-WAIT), then with the kernel closing first: every request must succeed.
# Then silent control clients while traffic flows (ping and requests unharmed), and slowloris
# against --header-timeout while a legitimate client is served. In a network namespace
# created here and removed on exit. Usage: tests/interop/churn.sh [synack]
# SYNACK_CHURN_N changes the number of requests (default 30000).
set -u
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-churn.XXXXXX)
NS=synack-churn-$$
N=${SYNACK_CHURN_N:-30000}
. tests/interop/lib.sh

cleanup() {
	kill_bg
	scripts/netns down "$NS" 2>/dev/null
	[ -n "${SYNACK_INTEROP_KEEP:-}" ] && echo "churn: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

${CC:-cc} -O2 -Wall -o "$W/peer" tests/interop/peer.c || { echo "churn: cannot build peer"; exit 1; }
scripts/netns up "$NS" tun0 "$KADDR/24" || exit 1
mkdir -p "$W/www" && echo "hello from a file" >"$W/www/hello.txt"

# serve_plain: synack serve with default options (no capture: 30,000 connections), a control
# socket for nstat/ss.
serve_plain() {
	rm -f "$W/ctl.sock"
	bg_start ip netns exec "$NS" timeout 900 "$BIN" serve --tun tun0 --addr "$SADDR/24" \
		--app http --root "$W/www" --ctl "$W/ctl.sock" "$@" 2>>"$W/serve.log"
	SERVE_PID=$LASTPID
	wait_for 5 test -S "$W/ctl.sock"
}

echo "== churn: $N sequential HTTP requests, synack closes first"
serve_plain
# The kernel's default port range (28,232 ports) is smaller than N: its ports come round
# again while synack still holds the old connection in TIME-WAIT, and the new SYN (newer
# timestamp) reopens it (RFC 6191).
X timeout 600 "$W/peer" churn $SADDR 80 "$N" /hello.txt "$W/www/hello.txt" server \
	>"$W/churn-s.log" 2>&1
check "server closes first: $(tail -1 "$W/churn-s.log")" grep -q "$N ok, 0 failed" "$W/churn-s.log"
tw=$(synack_ss | grep -c '^TIME-WAIT')
check "synack holds the TIME-WAITs ($tw entries)" test "$tw" -gt 0
check "no TIME-WAIT overflow (TcpExtTCPTimeWaitOverflow $(nstat_get TcpExtTCPTimeWaitOverflow))" \
	test "$(nstat_get TcpExtTCPTimeWaitOverflow)" = 0
check "PassiveOpens $(nstat_get TcpPassiveOpens) = $N" test "$(nstat_get TcpPassiveOpens)" = "$N"
serve_stop
check "serve exits 0 on SIGTERM" test "$SERVE_RC" = 0

echo "== churn: $N sequential HTTP requests, the kernel closes first"
serve_plain
# The kernel holds each TIME-WAIT now: give it ports enough for N within 2*MSL (the
# namespace's own sysctl).
X sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
X timeout 600 "$W/peer" churn $SADDR 80 "$N" /hello.txt "$W/www/hello.txt" client \
	>"$W/churn-c.log" 2>&1
check "client closes first: $(tail -1 "$W/churn-c.log")" grep -q "$N ok, 0 failed" "$W/churn-c.log"
check "synack holds no TIME-WAIT" sh -c "! $BIN ss --ctl $W/ctl.sock | grep -q '^TIME-WAIT'"
check "PassiveOpens $(nstat_get TcpPassiveOpens) = $N" test "$(nstat_get TcpPassiveOpens)" = "$N"
serve_stop
check "serve exits 0 on SIGTERM" test "$SERVE_RC" = 0

echo "== abuse: silent control clients while traffic flows"
serve_plain
# Five clients connect to the control socket and say nothing for 6 s.
bg_start timeout 20 python3 -c '
import socket, sys, time
held = []
for _ in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    held.append(s)
time.sleep(6)' "$W/ctl.sock"
SILENT=$LASTPID
sleep 0.5
if command -v ping >/dev/null; then
	X timeout 20 ping -c 40 -i 0.05 -W 1 $SADDR >"$W/ping.log" 2>&1
	check "ping through it: $(grep -o '[0-9]* received' "$W/ping.log") of 40" grep -q "40 received" "$W/ping.log"
fi
X timeout 60 "$W/peer" churn $SADDR 80 500 /hello.txt "$W/www/hello.txt" server >"$W/churn-a.log" 2>&1
check "500 requests meanwhile: $(tail -1 "$W/churn-a.log")" grep -q "500 ok, 0 failed" "$W/churn-a.log"
check "synack ss still answers" sh -c "timeout 3 $BIN ss --ctl $W/ctl.sock | grep -q '^LISTEN'"
wait_pid "$SILENT" 20
serve_stop
check "serve exits 0 on SIGTERM" test "$SERVE_RC" = 0

echo "== abuse: slowloris against --header-timeout while a client is served"
serve_plain --max-conns 4 --header-timeout 2
# Four clients take every slot and trickle a request head, one byte a second.
bg_start ip netns exec "$NS" timeout 30 python3 -c '
import socket, sys, time
held = []
for _ in range(4):
    s = socket.socket()
    s.connect((sys.argv[1], 80))
    s.send(b"GET / HTTP/1.1\r\n")
    held.append(s)
reset = 0
for t in range(8):
    time.sleep(1)
    for s in list(held):
        try:
            s.send(b"X")
        except OSError:
            held.remove(s); reset += 1
print("slowloris: %d of 4 reset" % reset)' $SADDR >"$W/slow.log" 2>&1
SLOW=$LASTPID
sleep 4
X timeout 10 "$W/peer" churn $SADDR 80 20 /hello.txt "$W/www/hello.txt" server >"$W/churn-l.log" 2>&1
check "a client is served while slowloris runs: $(tail -1 "$W/churn-l.log")" grep -q "20 ok, 0 failed" "$W/churn-l.log"
wait_pid "$SLOW" 30
check "$(cat "$W/slow.log")" grep -q "4 of 4 reset" "$W/slow.log"
serve_stop
check "serve exits 0 on SIGTERM" test "$SERVE_RC" = 0

echo "== --pcap at its limit"
serve_plain --pcap "$W/cap.pcap" --pcap-max 20K
X timeout 60 "$W/peer" churn $SADDR 80 300 /hello.txt "$W/www/hello.txt" server >"$W/churn-p.log" 2>&1
check "300 requests with the capture full: $(tail -1 "$W/churn-p.log")" grep -q "300 ok, 0 failed" "$W/churn-p.log"
serve_stop
size=$(stat -c %s "$W/cap.pcap")
check "the capture stopped at $size bytes (limit 20480)" test "$size" -le 20480 -a "$size" -gt 19000
check "and reads back whole (synack ladder)" sh -c "$BIN ladder '$W/cap.pcap' >/dev/null 2>&1"

echo "== shutdown with a peer that never acknowledges our FIN"
# The kernel's ACK of our FIN is kept from synack by an nft rule dropping everything the
# kernel sends to synack (and a blackhole route where nft is missing: now and then an ACK
# still gets through just after the route is added, and the connection then closes cleanly
# with nothing to reset). So up to 3 attempts, each bounded; the exact behaviour (rc 0, the
# message, FIN then RST in the capture of that client's connection) must hold in one of them.
noack_once() {
serve_plain --pcap "$W/noack.pcap"
bg_start ip netns exec "$NS" timeout 20 python3 -c '
import os, socket, sys, time
s = socket.socket()
s.connect((sys.argv[1], 80))
s.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(4096)
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(15)' $SADDR "$W/noack.ready"
NOACK=$LASTPID
wait_for 5 test -s "$W/noack.ready"
# From now on nothing the kernel sends reaches synack: our FIN is never acknowledged.
if [ "$NFT" = 1 ]; then
	X nft add table ip synack_noack &&
		X nft add chain ip synack_noack out '{ type filter hook output priority 0; }' &&
		X nft add rule ip synack_noack out ip daddr $SADDR drop
else
	X ip route add blackhole $SADDR/32
fi
t0=$(date +%s)
serve_stop
NOACK_RC=$SERVE_RC
NOACK_SAID=$(grep -c "1 connection did not finish closing in 3 s: reset" "$W/serve.log")
if [ "$NFT" = 1 ]; then X nft delete table ip synack_noack; else X ip route del blackhole $SADDR/32; fi
# The capture: synack's FIN, then (unanswered) its RST, on this client's connection only (a
# reset to an earlier attempt's client, which the new serve does not know, is not its).
python3 - "$W/noack.pcap" "$SADDR" "$(cat "$W/noack.ready")" >"$W/noack.txt" <<'PY'
import struct, sys, socket
data = open(sys.argv[1], "rb").read()
me, port = socket.inet_aton(sys.argv[2]), int(sys.argv[3])
off, seen = 24, []
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    p = data[off + 16:off + 16 + incl]
    off += 16 + incl
    th = (p[0] & 15) * 4
    if p[12:16] == me and p[9] == 6 and struct.unpack(">H", p[th + 2:th + 4])[0] == port:
        f = p[th + 13]
        seen.append("R" if f & 4 else "F" if f & 1 else "")
print("".join(x for x in seen if x))
PY
wait_pid "$NOACK" 20
}
NFT=0
if command -v nft >/dev/null && X nft add table ip synack_noack 2>/dev/null; then
	NFT=1; X nft delete table ip synack_noack
fi
noack_ok=0
for attempt in 1 2 3; do
	rm -f "$W/noack.ready" "$W/noack.pcap"
	: >"$W/serve.log"
	noack_once
	if [ "$NOACK_RC" = 0 ] && [ "$NOACK_SAID" -ge 1 ] && grep -q "^F*R$" "$W/noack.txt"; then
		noack_ok=1
		break
	fi
	echo "  (attempt $attempt: rc $NOACK_RC, capture $(cat "$W/noack.txt"): an ACK got through; again)"
done
check "serve exits 0 after its 3 s grace, says so, and the capture shows our FIN, then our RST ($(cat "$W/noack.txt"))" test "$noack_ok" = 1

echo "churn: $pass passed, $failed failed"
[ "$failed" = 0 ]
