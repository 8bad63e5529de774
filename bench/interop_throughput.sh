#!/usr/bin/env bash
# Throughput of a 64 MiB transfer between synack and the Linux kernel over TUN, both ways, and
# between two kernels over a veth pair (MTU 1500, as the TUN device) measured the same way:
# the wall time of the sending process, from connect until the receiver's close, 5 runs each,
# median reported. Needs root and /dev/net/tun; otherwise says so and exits 0.
# Usage: bench/interop_throughput.sh [path/to/synack]
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "bench interop: skipped (needs root and /dev/net/tun)"; exit 0
fi
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-bench.XXXXXX)
NS=synack-bench-$$ NSA=synack-bench-a-$$ NSB=synack-bench-b-$$
. tests/interop/lib.sh
cleanup() {
	kill_bg
	scripts/netns down "$NS"; ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RUNS=${RUNS:-5}
${CC:-cc} -O2 -o "$W/peer" tests/interop/peer.c || exit 1
head -c $((64 << 20)) /dev/urandom >"$W/64m"
scripts/netns up "$NS" tun0 "$KADDR/24" || exit 1

now() { date +%s%N; }
mibs() { awk -v ns="$1" 'BEGIN { printf "%.1f", 64 / (ns / 1e9) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# kernel -> synack: the kernel sends to synack's discard server.
serve_start discard
k2s=()
for i in $(seq "$RUNS"); do
	t0=$(now); X timeout 120 "$W/peer" client $SADDR 9 echo "$W/64m" /dev/null || echo "run $i failed"
	k2s+=("$(mibs $(( $(now) - t0 )))")
done
serve_stop

# synack -> kernel: synack connect sends to a kernel server that reads to EOF.
s2k=()
for i in $(seq "$RUNS"); do
	peer_server $((6000 + i)) sink-then-send /dev/null /dev/null
	t0=$(now)
	X timeout 120 "$BIN" connect --tun tun0 --addr $SADDR/24 --send "$W/64m" $KADDR:$((6000 + i)) ||
		echo "run $i failed"
	s2k+=("$(mibs $(( $(now) - t0 )))")
	wait_pid "$PEER_PID" 10
done

# kernel -> kernel: two namespaces joined by a veth pair with MTU 1500.
ip netns add "$NSA" && ip netns add "$NSB"
ip link add sb0 netns "$NSA" type veth peer name sb1 netns "$NSB"
ip -n "$NSA" addr add 10.78.0.1/24 dev sb0 && ip -n "$NSB" addr add 10.78.0.2/24 dev sb1
ip -n "$NSA" link set sb0 mtu 1500 up && ip -n "$NSB" link set sb1 mtu 1500 up
ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up
k2k=()
for i in $(seq "$RUNS"); do
	bg_start ip netns exec "$NSB" timeout 60 "$W/peer" server $((6100 + i)) sink-then-send /dev/null /dev/null
	p=$LASTPID
	wait_for 5 sh -c "ip netns exec $NSB ss -Htln 'sport = :$((6100 + i))' | grep -q LISTEN"
	t0=$(now); ip netns exec "$NSA" timeout 60 "$W/peer" client 10.78.0.2 $((6100 + i)) echo "$W/64m" /dev/null
	k2k+=("$(mibs $(( $(now) - t0 )))")
	wait_pid "$p" 10
done

best() { sort -n | tail -n 1; }
echo "conditions: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), Linux $(uname -r), synack $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"TUN and veth MTU 1500, $RUNS runs each"
echo "64 MiB transfer, MiB/s: runs | best | median"
row() {
	local name=$1; shift
	printf '  %-34s %s | %s | %s\n' "$name" "$*" "$(printf '%s\n' "$@" | best)" "$(printf '%s\n' "$@" | median)"
}
row "kernel -> synack (TUN)" "${k2s[@]}"
row "synack -> kernel (TUN)" "${s2k[@]}"
row "kernel -> kernel (veth, MTU 1500)" "${k2k[@]}"
