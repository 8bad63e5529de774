#!/usr/bin/env bash
# Kernel-to-kernel TCP conversations, captured by tcpdump, drawn by synack ladder: the states
# synack infers from the capture must agree with what `ss -tan` showed on each side while the
# conversation ran. Needs root; creates two network namespaces joined by a veth pair and removes
# them on exit. Called by tests/render/run.sh.
#
# Scenarios: the client closes first; the server closes first; the client aborts (RST); a
# connection refused (RST to a SYN). A simultaneous close cannot be timed reliably from user
# space (both FINs must cross on the wire), so it is skipped here; the scripted capture
# tests/render/golden/simultaneous_close.pcap covers its inference.
set -u
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
NA=synack-see-a-$$; NB=synack-see-b-$$
VA=ska$$; VB=skb$$
T=$(mktemp -d /tmp/synack-netns.XXXXXX)
TPID= TPID2=
cleanup() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	[ -n "$TPID2" ] && kill "$TPID2" 2>/dev/null
	ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null
	[ -n "${KEEP:-}" ] && cp "$T/k.pcap" /tmp/see-k.pcap; rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "netns: FAIL: $*"; exit 1; }

ip netns add "$NA" && ip netns add "$NB" || fail "cannot create namespaces"
ip link add "$VA" netns "$NA" type veth peer name "$VB" netns "$NB" || fail "cannot create veth"
ip -n "$NA" addr add 10.199.0.1/24 dev "$VA"; ip -n "$NB" addr add 10.199.0.2/24 dev "$VB"
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

run_scenario() { # NAME PORT
	local name=$1 port=$2 d=$T/$1
	mkdir -p "$d"
	case $name in
	cfirst)
		ip netns exec "$NB" python3 "$HERE/kconv.py" server cfirst "$d" $port & local sp=$!
		ip netns exec "$NA" python3 "$HERE/kconv.py" client cfirst "$d" $port & local cp=$!
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
sleep 0.5
kill -INT "$TPID" "$TPID2"; wait "$TPID" "$TPID2" 2>/dev/null; TPID= TPID2=

# inferred NAME PORT SIDE: the states synack inferred for one endpoint, in order.
inferred() {
	local ep=$3
	"$BIN" ladder "$T/k.pcap" --conn "10.199.0.1:$(($2 + 1000))-10.199.0.2:$2" --format jsonl |
		grep '"ev":"state"' | grep "\"host\":\"$ep\"" | sed 's/.*"to":"\([A-Z0-9-]*\)".*/\1/' | tr '\n' ' '
}

# Each observation must appear, in order, in the inferred states, and the last one must be
# the final inferred state.
check() { # NAME PORT SIDE(c|s)
	local ep
	if [ "$3" = c ]; then ep=10.199.0.1:$(($2 + 1000)); else ep=10.199.0.2:$2; fi
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
for s in "cfirst 5001" "sfirst 5002" "rst 5003"; do
	set -- $s; check "$1" "$2" c; check "$1" "$2" s
	if command -v tshark >/dev/null; then
		python3 "$HERE/tshark_check.py" "$BIN" "$T/k.pcap" \
			"10.199.0.1:$(($2 + 1000))-10.199.0.2:$2" >"$T/ts" 2>&1 ||
			fail "$1: marks differ from tshark's: $(cat "$T/ts")"
	fi
done
check refused 5004 c
echo "netns: lossy kernel transfer skipped (needs a loss qdisc or firewall rule: this" \
	"script does not inject loss; golden/lossy_transfer and the simulator's lossy capture" \
	"cover loss, checked against tshark)"
echo "netns: simultaneous close skipped (the FINs cannot be made to cross from user space;" \
	"golden/simultaneous_close covers it)"
states() { "$BIN" ladder "$1" --format jsonl | grep '"ev":"state"' | sed 's/"t_us":[0-9]*,//'; }
states "$T/k.pcap" >"$T/st-veth"; states "$T/k-any.pcap" >"$T/st-any"
[ -s "$T/st-veth" ] && cmp -s "$T/st-veth" "$T/st-any" ||
	fail "the -i any capture infers other states: $(diff "$T/st-veth" "$T/st-any" | head)"
lt=$(tcpdump -r "$T/k-any.pcap" -c 1 2>&1 | sed -n 's/.*link-type \([A-Z0-9_]*\).*/\1/p')
echo "netns: the tcpdump -i any capture ($lt) infers the same states"
"$BIN" report "$T/k.pcap" -o "$T/k.html" || fail "report of the kernel capture"
echo "netns: all passed"
