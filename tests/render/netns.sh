#!/usr/bin/env bash
# Kernel-to-kernel TCP conversations, captured by tcpdump, drawn by synack ladder: the states
# synack infers from the capture must agree with what `ss -tan` showed on each side while the
# conversation ran. Needs root; creates two network namespaces joined by a veth pair, and two more
# joined by tunrelay (below), and removes them on exit. Called by tests/render/run.sh.
#
# Scenarios over the veth: the client closes first; the server closes first; the client aborts
# (RST); a connection refused (RST to a SYN); and the client closing first again over IPv6
# (fd00:199::1 and ::2 on the same veth), so that a kernel's IPv6 capture is drawn too. Then, through tunrelay.c (two TUN devices, one per
# namespace, joined by a relay that delays every packet and drops some with synack's fault
# decorator): a lossy 2 MiB transfer (retransmissions, compared with tshark's), and a
# simultaneous close (400 ms each way, so FINs sent at the same instant cross in the relay).
set -u
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
NA=synack-see-a-$$; NB=synack-see-b-$$
VA=ska$$; VB=skb$$
T=$(mktemp -d /tmp/synack-netns.XXXXXX)
TPID= TPID2=
RA=synack-rl-a-$$; RB=synack-rl-b-$$ # the relay's namespaces
RPIDS= # the relay, its tcpdumps and conversation programs
cleanup() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	[ -n "$TPID2" ] && kill "$TPID2" 2>/dev/null
	for p in $RPIDS; do kill "$p" 2>/dev/null; done
	ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null
	ip netns del "$RA" 2>/dev/null; ip netns del "$RB" 2>/dev/null
	[ -n "${KEEP:-}" ] && cp "$T/k.pcap" /tmp/see-k.pcap; rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "netns: FAIL: $*"; exit 1; }

ip netns add "$NA" && ip netns add "$NB" || fail "cannot create namespaces"
ip link add "$VA" netns "$NA" type veth peer name "$VB" netns "$NB" || fail "cannot create veth"
ip -n "$NA" addr add 10.199.0.1/24 dev "$VA"; ip -n "$NB" addr add 10.199.0.2/24 dev "$VB"
# nodad: usable at once, without Duplicate Address Detection's wait
ip -n "$NA" addr add fd00:199::1/64 dev "$VA" nodad; ip -n "$NB" addr add fd00:199::2/64 dev "$VB" nodad
for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
ip -n "$NA" link set "$VA" up; ip -n "$NB" link set "$VB" up
# No offloads: segments on the wire as the kernel sent them.
ip netns exec "$NA" ethtool -K "$VA" tso off gso off gro off >/dev/null 2>&1 || true

: >"$T/tcpdump.err"
ip netns exec "$NA" tcpdump --immediate-mode -i "$VA" -U -s 0 -w "$T/k.pcap" tcp 2>"$T/tcpdump.err" &
TPID=$!
# The same conversations seen through `tcpdump -i any` (Linux cooked capture, SLL or SLL2).
: >"$T/tcpdump-any.err"
ip netns exec "$NA" tcpdump --immediate-mode -i any -U -s 0 -w "$T/k-any.pcap" tcp \
	2>"$T/tcpdump-any.err" &
TPID2=$!
for _ in $(seq 50); do
	grep -q listening "$T/tcpdump.err" && grep -q listening "$T/tcpdump-any.err" && break
	sleep 0.1
done

# ss_state NS PORT: the state of the socket with local port PORT, as our names ("CLOSED" when
# there is none).
ss_state() {
	local s
	s=$(ip netns exec "$1" ss -tanH "( sport = :$2 )" | awk '$1 != "LISTEN" {print $1; exit}')
	case "$s" in
	"") echo CLOSED ;; ESTAB) echo ESTABLISHED ;; SYN-RECV) echo SYN-RECEIVED ;;
	*) echo "$s" ;;
	esac
}
waitf() { for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done; fail "timeout: $1"; }

# observe NAME NS PORT EXPECTED: record what ss shows now (it must be EXPECTED, or the test
# itself is off).
declare -A OBS
observe() {
	local got; got=$(ss_state "$2" "$3")
	[ "$got" = "$4" ] || fail "$1: ss shows $got on port $3, the test expected $4"
	OBS[$1]="${OBS[$1]:-} $got"
}

run_scenario() { # NAME PORT [ipv6]
	local name=$1 port=$2 d=$T/$1 fam=${3:-}
	mkdir -p "$d"
	case $name in
	cfirst|cfirst6)
		ip netns exec "$NB" python3 "$HERE/kconv.py" server cfirst "$d" $port $fam & local sp=$!
		ip netns exec "$NA" python3 "$HERE/kconv.py" client cfirst "$d" $port $fam & local cp=$!
		waitf "$d/server_eof"; sleep 0.2
		observe "$name:c" "$NA" $((port + 1000)) FIN-WAIT-2
		observe "$name:s" "$NB" $port CLOSE-WAIT
		touch "$d/server_close"; waitf "$d/server_closed"; sleep 0.2
		observe "$name:c" "$NA" $((port + 1000)) TIME-WAIT
		observe "$name:s" "$NB" $port CLOSED
		wait $sp $cp ;;
	sfirst)
		ip netns exec "$NB" python3 "$HERE/kconv.py" server sfirst "$d" $port & local sp=$!
		ip netns exec "$NA" python3 "$HERE/kconv.py" client sfirst "$d" $port & local cp=$!
		waitf "$d/client_eof"; sleep 0.2
		observe "$name:s" "$NB" $port FIN-WAIT-2
		observe "$name:c" "$NA" $((port + 1000)) CLOSE-WAIT
		touch "$d/client_close"; waitf "$d/client_closed"; sleep 0.2
		observe "$name:s" "$NB" $port TIME-WAIT
		observe "$name:c" "$NA" $((port + 1000)) CLOSED
		touch "$d/done"; wait $sp $cp ;;
	rst)
		ip netns exec "$NB" python3 "$HERE/kconv.py" server rst "$d" $port & local sp=$!
		ip netns exec "$NA" python3 "$HERE/kconv.py" client rst "$d" $port & local cp=$!
		waitf "$d/client_closed"; waitf "$d/server_reset"; sleep 0.1
		observe "$name:c" "$NA" $((port + 1000)) CLOSED
		wait $sp $cp
		observe "$name:s" "$NB" $port CLOSED ;;
	refused)
		ip netns exec "$NA" python3 "$HERE/kconv.py" client refused "$d" $port ||
			fail "refused: client failed"
		[ -e "$d/refused" ] || fail "refused: connect was not refused"
		observe "$name:c" "$NA" $((port + 1000)) CLOSED ;;
	esac
}

run_scenario cfirst 5001
run_scenario sfirst 5002
run_scenario rst 5003
run_scenario refused 5004
run_scenario cfirst6 5005 ipv6
sleep 0.5
kill -INT "$TPID" "$TPID2"; wait "$TPID" "$TPID2" 2>/dev/null; TPID= TPID2=

# conn_of PORT: the connection's --conn spec (port 5005 is the IPv6 one).
conn_of() {
	if [ "$1" = 5005 ]; then echo "[fd00:199::1]:$(($1 + 1000))-[fd00:199::2]:$1"
	else echo "10.199.0.1:$(($1 + 1000))-10.199.0.2:$1"; fi
}
# inferred NAME PORT SIDE: the states synack inferred for one endpoint, in order.
inferred() {
	local ep=$3
	"$BIN" ladder "$T/k.pcap" --conn "$(conn_of "$2")" --format jsonl |
		grep '"ev":"state"' | grep -F "\"host\":\"$ep\"" | sed 's/.*"to":"\([A-Z0-9-]*\)".*/\1/' | tr '\n' ' '
}

# Each observation must appear, in order, in the inferred states, and the last one must be
# the final inferred state.
check() { # NAME PORT SIDE(c|s)
	local ep; ep=$(conn_of "$2")
	if [ "$3" = c ]; then ep=${ep%%-*}; else ep=${ep#*-}; fi
	local inf; inf=$(inferred "$1" "$2" "$ep")
	local obs=${OBS[$1:$3]:-}
	local rest=" $inf" last=
	for o in $obs; do
		last=$o
		[ "$o" = CLOSED ] && [ -z "$inf" ] && continue # never had a connection (refused server)
		case "$rest" in *" $o "*) rest=${rest#*" $o "}; rest=" $rest" ;;
		*) fail "$1 $ep: ss showed $o; inferred: $inf" ;; esac
	done
	local final; final=$(echo "$inf" | awk '{print $NF}')
	[ -z "$inf" ] || [ "$final" = "$last" ] || fail "$1 $ep: final inferred $final, ss shows $last"
	echo "netns: $1 $ep: ss saw$obs; inferred: $inf"
}
for s in "cfirst 5001" "sfirst 5002" "rst 5003" "cfirst6 5005"; do
	set -- $s; check "$1" "$2" c; check "$1" "$2" s
	if command -v tshark >/dev/null; then
		python3 "$HERE/tshark_check.py" "$BIN" "$T/k.pcap" "$(conn_of "$2")" >"$T/ts" 2>&1 ||
			fail "$1: marks differ from tshark's: $(cat "$T/ts")"
	fi
done
check refused 5004 c
states() { "$BIN" ladder "$1" --format jsonl | grep '"ev":"state"' | sed 's/"t_us":[0-9]*,//'; }
states "$T/k.pcap" >"$T/st-veth"; states "$T/k-any.pcap" >"$T/st-any"
[ -s "$T/st-veth" ] && cmp -s "$T/st-veth" "$T/st-any" ||
	fail "the -i any capture infers other states: $(diff "$T/st-veth" "$T/st-any" | head)"
lt=$(tcpdump -r "$T/k-any.pcap" -c 1 2>&1 | sed -n 's/.*link-type \([A-Z0-9_]*\).*/\1/p')
echo "netns: the tcpdump -i any capture ($lt) infers the same states"
"$BIN" report "$T/k.pcap" -o "$T/k.html" || fail "report of the kernel capture"
# ---- through the relay: loss and crossing FINs --------------------------------------------
# Namespace RA holds tunA (10.198.1.1/16), RB holds tunB (10.198.2.1/16): each kernel finds the
# other's address on-link through its TUN device, whose other end is tunrelay (tunrelay.c),
# which holds every packet for --delay-ms and sends it on through synack's fault decorator.
RELAY=$T/tunrelay RELAY_PID=
LIBA=$(dirname "$BIN")/libsynack.a
SRC=$(cd "$HERE/../.." && pwd)
relay_build() {
	local san=
	case $LIBA in */san/*) san=-fsanitize=address,undefined ;; esac
	cc -std=c11 -D_GNU_SOURCE -O2 $san -I"$SRC/include" -I"$SRC/src" "$HERE/tunrelay.c" \
		"$LIBA" -lm -o "$RELAY" 2>"$T/cc.err" || fail "tunrelay does not build: $(head -5 "$T/cc.err")"
}
relay_setup() {
	ip netns add "$RA" && ip netns add "$RB" || fail "relay: cannot create namespaces"
	ip -n "$RA" tuntap add dev tunA mode tun && ip -n "$RB" tuntap add dev tunB mode tun ||
		fail "relay: cannot create the TUN devices"
	ip -n "$RA" addr add 10.198.1.1/16 dev tunA; ip -n "$RB" addr add 10.198.2.1/16 dev tunB
	for n in "$RA" "$RB"; do ip -n "$n" link set lo up; done
	ip -n "$RA" link set tunA up; ip -n "$RB" link set tunB up
}
start_relay() { # tunrelay options
	: >"$T/relay.out"
	"$RELAY" "/run/netns/$RA" tunA "/run/netns/$RB" tunB --seconds 40 "$@" \
		>"$T/relay.out" 2>"$T/relay.err" &
	RELAY_PID=$!; RPIDS="$RPIDS $RELAY_PID"
	for _ in $(seq 50); do
		grep -q ready "$T/relay.out" && return 0
		kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.1
	done
	fail "tunrelay did not start: $(cat "$T/relay.err")"
}
stop_relay() { kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null; RELAY_PID=; }
# rcap NS DEV FILE: tcpdump on one TUN device until stop_caps.
CAPS=
rcap() {
	# a small snapshot and a large buffer: with -s 0 the ring holds a few packets and tcpdump
	# drops most of a burst (the kernel then seems to have skipped sequence numbers)
	: >"$3.err"
	ip netns exec "$1" tcpdump --immediate-mode -i "$2" -U -s 2000 -B 16384 -w "$3" tcp \
		2>"$3.err" &
	CAPS="$CAPS $!"; RPIDS="$RPIDS $!"
	for _ in $(seq 50); do grep -q listening "$3.err" && return 0; sleep 0.1; done
	fail "tcpdump on $2 did not start: $(cat "$3.err")"
}
stop_caps() { sleep 0.3; kill -INT $CAPS; wait $CAPS 2>/dev/null; CAPS=; }
waitl() { # FILE SECONDS
	for _ in $(seq $(($2 * 20))); do [ -e "$1" ] && return 0; sleep 0.05; done
	fail "timeout: $1"
}
# until_state NS PORT STATE: ss shows STATE within 5 s (a lost FIN or ACK costs a retransmission).
until_state() {
	for _ in $(seq 100); do [ "$(ss_state "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
}
# The programs on each side, in python3 (as kconv.py): marker files step them.
PY_COMMON='
import os, socket, sys, time
d = sys.argv[1]
def mark(n): open(os.path.join(d, n), "w").close()
def wait(n, limit=30.0):
    end = time.time() + limit
    while not os.path.exists(os.path.join(d, n)):
        if time.time() > end: sys.exit("timed out waiting for " + n)
        time.sleep(0.002)
def at_go():
    wait("go")
    t = float(open(os.path.join(d, "go")).read())
    time.sleep(max(0.0, t - time.time()))
def server(port):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.198.2.1", port)); ls.listen(1); mark("listening")
    c, _ = ls.accept(); ls.close(); mark("accepted"); return c
def client(port):
    wait("listening")
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.198.1.1", port + 1000)); s.settimeout(20); s.connect(("10.198.2.1", port))
    mark("connected"); return s
'
# lossy: the client sends the file and closes first; the server reads to the end, then closes.
PY_XSERVER='
c = server(int(sys.argv[2])); wait("go")
with open(sys.argv[3], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b: break
        f.write(b)
mark("server_eof"); c.close(); mark("server_closed")
'
PY_XCLIENT='
s = client(int(sys.argv[2])); wait("go")
s.sendall(open(sys.argv[3], "rb").read()); s.close(); mark("client_closed")
'
# simultaneous close: both close at the instant written in "go".
PY_SSERVER='
c = server(int(sys.argv[2])); at_go(); c.close(); mark("server_closed"); wait("done")
'
PY_SCLIENT='
s = client(int(sys.argv[2])); at_go(); s.close(); mark("client_closed"); wait("done")
'

# rinferred CAP CONN EP: the states synack inferred for one endpoint, in order.
rinferred() {
	"$BIN" ladder "$1" --conn "$2" --format jsonl | grep '"ev":"state"' | grep "\"host\":\"$3\"" |
		sed 's/.*"to":"\([A-Z0-9-]*\)".*/\1/' | tr '\n' ' ' | sed 's/ $//'
}
# rcheck NAME CAP CONN SIDE: as check, for a capture and connection given.
rcheck() {
	local ep=${3%-*}; [ "$4" = s ] && ep=${3#*-}
	local inf; inf=$(rinferred "$2" "$3" "$ep")
	local obs=${OBS[$1:$4]:-} rest=" $inf " last=
	for o in $obs; do
		last=$o
		case "$rest" in *" $o "*) rest=" ${rest#*" $o "}" ;;
		*) fail "$1 $ep: ss showed $o; inferred: $inf" ;; esac
	done
	[ "${inf##* }" = "$last" ] || fail "$1 $ep: final inferred ${inf##* }, ss shows $last"
	echo "netns: $1 $ep ($(basename "$2")): ss saw$obs; inferred: $inf"
}

relay_lossy() { # a 2 MiB transfer A -> B, 5 % loss each way, 20 ms each way
	local d=$T/lossy port=6001 conn=10.198.1.1:7001-10.198.2.1:6001
	mkdir -p "$d"
	head -c 2097152 /dev/urandom >"$d/src"
	start_relay --delay-ms 20 --loss 0.05 --seed 5
	rcap "$RA" tunA "$d/a.pcap"
	ip netns exec "$RB" timeout 30 python3 -c "$PY_COMMON$PY_XSERVER" "$d" $port "$d/dst" &
	local sp=$!; RPIDS="$RPIDS $sp"
	ip netns exec "$RA" timeout 30 python3 -c "$PY_COMMON$PY_XCLIENT" "$d" $port "$d/src" &
	local cp=$!; RPIDS="$RPIDS $cp"
	waitl "$d/accepted" 10; waitl "$d/connected" 10
	observe lossy:c "$RA" 7001 ESTABLISHED; observe lossy:s "$RB" $port ESTABLISHED
	local t0; t0=$(date +%s.%N)
	touch "$d/go"; waitl "$d/server_closed" 25
	local secs; secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
	until_state "$RA" 7001 TIME-WAIT; until_state "$RB" $port CLOSED
	observe lossy:c "$RA" 7001 TIME-WAIT; observe lossy:s "$RB" $port CLOSED
	wait $sp && wait $cp || fail "lossy: a side of the transfer failed"
	stop_caps; stop_relay
	[ -n "${KEEP:-}" ] && cp "$d/a.pcap" /tmp/relay-lossy.pcap
	cmp -s "$d/src" "$d/dst" || fail "lossy: the bytes received differ from those sent"
	[ "$(sha256sum <"$d/src")" = "$(sha256sum <"$d/dst")" ] || fail "lossy: sha256 differs"
	local lost; lost=$(sed -n 's/.*A->B: .*lost \([0-9]*\),.*/\1/p' "$T/relay.err")
	local lost2; lost2=$(sed -n 's/.*B->A: .*lost \([0-9]*\),.*/\1/p' "$T/relay.err")
	rcheck lossy "$d/a.pcap" $conn c; rcheck lossy "$d/a.pcap" $conn s
	# retransmissions: synack's marks, its report's table, and tshark's analysis must agree
	local mine; mine=$("$BIN" ladder "$d/a.pcap" --conn $conn --format jsonl --first 100000 \
		--last 0 | grep '"ev":"tx"' | grep -c '"retx":true')
	[ "$mine" -gt 0 ] || fail "lossy: synack marks no retransmission ($lost data packets lost)"
	"$BIN" report "$d/a.pcap" -o "$d/r.html" || fail "lossy: report"
	local rep; rep=$(python3 - "$d/r.html" <<'PYEOF'
import re, sys
h = open(sys.argv[1]).read()
m = re.search(r'<td>\d+\.\d+</td><td>\d+\.\d+</td><td>\d+</td><td>\d+</td><td>\d+</td>'
              r'<td(?: class="bad")?>(\d+)</td>', h)
print(m.group(1) if m else 'none')
PYEOF
)
	[ "$rep" = "$mine" ] || fail "lossy: the report's table counts $rep retransmissions, the ladder $mine"
	local msg="2 MiB in ${secs}s, sha256 equal; relay lost $lost of A->B, $lost2 of B->A;"
	msg="$msg synack marks $mine retransmissions"
	if command -v tshark >/dev/null; then
		# Seen at the sender, a retransmission sent less than the first round trip after the
		# previous segment is called out-of-order by tshark (its heuristic for a capture in
		# the middle of the path), a plain retransmission otherwise; synack knows the bytes
		# were sent before. So synack's retransmissions must be exactly the segments tshark
		# marks as either. (tshark_check.py is not used here: tshark also counts the ACK of
		# a retransmitted SYN-ACK as a duplicate ACK, which RFC 5681 does not.)
		local cmp; cmp=$(python3 - "$BIN" "$d/a.pcap" $conn <<'PYEOF'
import json, subprocess, sys
binary, pcap, conn = sys.argv[1:4]
out = subprocess.run([binary, 'ladder', pcap, '--conn', conn, '--format', 'jsonl', '--first',
                      '100000', '--last', '0'], capture_output=True, text=True, check=True).stdout
tx = [json.loads(l) for l in out.splitlines() if '"ev":"tx"' in l]
mine = {i + 1 for i, e in enumerate(tx) if e.get('retx')}
f = ['tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission',
     'tcp.analysis.spurious_retransmission', 'tcp.analysis.out_of_order']
cmd = ['tshark', '-n', '-r', pcap, '-Y', 'tcp', '-T', 'fields']
for x in f:
    cmd += ['-e', x]
rows = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
rows = [(r.split('\t') + [''] * 4)[:4] for r in rows]
if len(rows) != len(tx):
    sys.exit('synack drew %d segments, tshark has %d' % (len(tx), len(rows)))
retx = {i + 1 for i, r in enumerate(rows) if r[0] or r[1] or r[2]}
ooo = {i + 1 for i, r in enumerate(rows) if r[3] and not (r[0] or r[1] or r[2])}
if mine != retx | ooo:
    sys.exit('synack only: %s; tshark only: %s' % (sorted(mine - retx - ooo)[:10],
                                                    sorted((retx | ooo) - mine)[:10]))
print('tshark %d (%d retransmissions + %d out-of-order), the same segments'
      % (len(retx | ooo), len(retx), len(ooo)))
PYEOF
) || fail "lossy: retransmissions differ from tshark's: $cmp"
		msg="$msg, $cmp"
	fi
	echo "netns: lossy transfer through tunrelay: $msg"
}

relay_simclose() { # both sides close at the same instant; 400 ms each way, so the FINs cross
	local d=$T/simclose port=6002 conn=10.198.1.1:7002-10.198.2.1:6002
	mkdir -p "$d"
	start_relay --delay-ms 400
	rcap "$RA" tunA "$d/a.pcap"; rcap "$RB" tunB "$d/b.pcap"
	ip netns exec "$RB" timeout 20 python3 -c "$PY_COMMON$PY_SSERVER" "$d" $port &
	local sp=$!; RPIDS="$RPIDS $sp"
	ip netns exec "$RA" timeout 20 python3 -c "$PY_COMMON$PY_SCLIENT" "$d" $port &
	local cp=$!; RPIDS="$RPIDS $cp"
	waitl "$d/accepted" 10; waitl "$d/connected" 10; sleep 0.3
	observe simclose:c "$RA" 7002 ESTABLISHED; observe simclose:s "$RB" $port ESTABLISHED
	local go; go=$(awk -v n="$(date +%s.%N)" 'BEGIN{printf "%.3f", n + 0.3}')
	echo "$go" >"$d/go.tmp"; mv "$d/go.tmp" "$d/go"
	# Each state lasts one 400 ms crossing (FIN-WAIT-1 until the peer's FIN arrives, CLOSING
	# until the ACK of ours does), so polling ss sees every one of them even on a loaded
	# machine, where sampling at fixed instants did not. Bounded: 40 rounds after go.
	sleep_until "$go" 0
	local c=ESTABLISHED s=ESTABLISHED gc gs
	for _ in $(seq 40); do
		gc=$(ss_state "$RA" 7002); gs=$(ss_state "$RB" $port)
		[ "$gc" != "$c" ] && { c=$gc; OBS[simclose:c]="${OBS[simclose:c]} $c"; }
		[ "$gs" != "$s" ] && { s=$gs; OBS[simclose:s]="${OBS[simclose:s]} $s"; }
		[ "$c" = TIME-WAIT ] && [ "$s" = TIME-WAIT ] && break
		sleep 0.05
	done
	for side in c s; do
		[ "${OBS[simclose:$side]}" = " ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT" ] ||
			fail "simclose:$side: ss showed${OBS[simclose:$side]}, the test expected ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT"
	done
	touch "$d/done"; wait $sp && wait $cp || fail "simclose: a side failed"
	stop_caps; stop_relay
	# each side's states from the capture taken at that side
	rcheck simclose "$d/a.pcap" $conn c; rcheck simclose "$d/b.pcap" $conn s
	for side in "c a" "s b"; do
		set -- $side
		local ep=${conn%-*}; [ "$1" = s ] && ep=${conn#*-}
		case " $(rinferred "$d/$2.pcap" $conn "$ep") " in
		*" FIN-WAIT-1 CLOSING TIME-WAIT "*) ;;
		*) fail "simclose $ep: inferred $(rinferred "$d/$2.pcap" $conn "$ep")" ;;
		esac
		if command -v tshark >/dev/null; then
			python3 "$HERE/tshark_check.py" "$BIN" "$d/$2.pcap" $conn >"$T/ts" 2>&1 ||
				fail "simclose: marks differ from tshark's: $(cat "$T/ts")"
		fi
	done
}
sleep_until() { # EPOCH OFFSET
	sleep "$(awk -v t="$1" -v o="$2" -v n="$(date +%s.%N)" \
		'BEGIN{d = t + o - n; if (d < 0) d = 0; printf "%.3f", d}')"
}

if [ ! -c /dev/net/tun ] || ! command -v cc >/dev/null; then
	echo "netns: no /dev/net/tun or no cc: lossy transfer and simultaneous close skipped"
else
	relay_build; relay_setup
	start_relay --delay-ms 1
	# up to 5 tries: on a loaded machine the relay may not be reading yet when the first goes
	ok=; for _ in 1 2 3 4 5; do ip netns exec "$RA" ping -c 1 -W 2 10.198.2.1 >/dev/null && { ok=1; break; }; done
	[ -n "$ok" ] || fail "relay: no ping through tunrelay (5 tries)"
	stop_relay
	relay_lossy
	relay_simclose
fi
echo "netns: all passed"
