#!/usr/bin/env bash
# The fast path against its ceilings, in one run, interleaved (issue 10): one flow of SIZE MiB
# (default 128) each way between synack and the Linux kernel over TUN, with offloads (the
# default) and without (--no-offload), against kernel <-> kernel through bench/vnet_relay.c
# (a process copying packets between two TUN devices: with the virtio-net header and TSO, the
# ceiling for any stack behind TUN; --plain, the ceiling without offloads) and over a veth
# pair. MTU 1500 everywhere; each figure is the wall time of the sending side from connect
# until the receiver's close; RUNS rounds (default 3), each round running every path once, so
# load changes hit them alike; medians and ratios printed. Namespaces are created here and
# removed on exit. Needs root and /dev/net/tun; otherwise says so and exits 0.
# Usage: bench/fastpath.sh [path/to/synack]      (env: RUNS, SIZE)
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "bench fastpath: skipped (needs root and /dev/net/tun)"; exit 0
fi
BIN=$(realpath "${1:-build/synack}")
RUNS=${RUNS:-3} SIZE=${SIZE:-128}
W=$(mktemp -d /tmp/synack-fastpath.XXXXXX)
NS=synack-fp-$$ NSA=synack-fp-a-$$ NSB=synack-fp-b-$$
. tests/interop/lib.sh
cleanup() {
	kill_bg
	scripts/netns down "$NS" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
${CC:-cc} -O2 -Wall -o "$W/peer" tests/interop/peer.c || exit 1
${CC:-cc} -O2 -Wall -o "$W/relay" bench/vnet_relay.c || exit 1
head -c $((SIZE << 20)) /dev/urandom >"$W/data"
scripts/netns up "$NS" tun0 "$KADDR/24" >/dev/null || exit 1

# Two kernels: NSA and NSB, joined by TUN devices rA/rB (through the relay, 10.79.0.0/24) and
# by a veth pair (10.78.0.0/24).
ip netns add "$NSA" && ip netns add "$NSB" || exit 1
for n in "$NSA" "$NSB"; do ip -n "$n" link set lo up; done
ip -n "$NSA" tuntap add dev rA mode tun && ip -n "$NSB" tuntap add dev rB mode tun
ip -n "$NSA" addr add 10.79.0.1/24 dev rA && ip -n "$NSB" addr add 10.79.0.2/24 dev rB
ip -n "$NSA" link set rA mtu 1500 up && ip -n "$NSB" link set rB mtu 1500 up
ip link add fpa0 netns "$NSA" type veth peer name fpb0 netns "$NSB"
ip -n "$NSA" addr add 10.78.0.1/24 dev fpa0 && ip -n "$NSB" addr add 10.78.0.2/24 dev fpb0
ip -n "$NSA" link set fpa0 mtu 1500 up && ip -n "$NSB" link set fpb0 mtu 1500 up

now() { date +%s%N; }
gbps() { awk -v b=$((SIZE << 20)) -v ns="$1" 'BEGIN { printf "%.2f", b * 8 / ns }'; }
PORT=7000
nextport() { PORT=$((PORT + 1)); }
listening() { ip netns exec "$1" ss -Htln "sport = :$2" | grep -q LISTEN; }

# kernel -> synack: a kernel client sends to synack's discard server.
k2s() { # [--no-offload]; synack serve without capture or control socket
	bg_start ip netns exec "$NS" timeout 300 "$BIN" serve --tun tun0 --addr $SADDR/24 --app discard \
		"$@" >>"$W/serve.log" 2>&1
	local sp=$LASTPID
	wait_for 5 listening "$NS" 9
	local t0; t0=$(now)
	X timeout 300 "$W/peer" client $SADDR 9 echo "$W/data" /dev/null || echo "k2s $* failed" >&2
	local t1; t1=$(now)
	kill -TERM "$sp"; wait_pid "$sp" 10
	gbps $((t1 - t0))
}
# synack -> kernel: synack connect sends to a kernel server that reads to EOF.
s2k() { # [--no-offload]
	nextport
	bg_start ip netns exec "$NS" timeout 300 "$W/peer" server $PORT sink-then-send /dev/null /dev/null \
		>/dev/null 2>&1
	local p=$LASTPID
	wait_for 5 listening "$NS" $PORT
	local t0; t0=$(now)
	X timeout 300 "$BIN" connect --tun tun0 --addr $SADDR/24 "$@" --send "$W/data" $KADDR:$PORT ||
		echo "s2k $* failed" >&2
	local t1; t1=$(now)
	wait_pid "$p" 10
	gbps $((t1 - t0))
}
# kernel -> kernel from NSA to NSB at address $1.
k2k() {
	nextport
	bg_start ip netns exec "$NSB" timeout 300 "$W/peer" server $PORT sink-then-send /dev/null /dev/null \
		>/dev/null 2>&1
	local p=$LASTPID
	wait_for 5 listening "$NSB" $PORT
	local t0; t0=$(now)
	ip netns exec "$NSA" timeout 300 "$W/peer" client "$1" $PORT echo "$W/data" /dev/null ||
		echo "k2k $1 failed" >&2
	local t1; t1=$(now)
	wait_pid "$p" 10
	gbps $((t1 - t0))
}
relay() { # [--plain]: k2k through the relay
	bg_start "$W/relay" "/run/netns/$NSA" rA "/run/netns/$NSB" rB "$@" >>"$W/relay.log" 2>&1
	local r=$LASTPID
	sleep 0.2
	k2k 10.79.0.2
	kill -TERM "$r"; wait_pid "$r" 5
}

declare -A R
names=(k2s s2k relay k2s_plain s2k_plain relay_plain veth)
for i in $(seq "$RUNS"); do
	R[k2s]+=" $(k2s)"
	R[s2k]+=" $(s2k)"
	R[relay]+=" $(relay)"
	R[k2s_plain]+=" $(k2s --no-offload)"
	R[s2k_plain]+=" $(s2k --no-offload)"
	R[relay_plain]+=" $(relay --plain)"
	R[veth]+=" $(k2k 10.78.0.2)"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A M
for n in "${names[@]}"; do M[$n]=$(echo "${R[$n]}" | median); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "conditions: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), Linux $(uname -r), synack $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
echo "            kernel cc $(sysctl -n net.ipv4.tcp_congestion_control), MTU 1500, one flow of $SIZE MiB, $RUNS interleaved rounds"
echo "Gbit/s: runs | median | ratio"
row() { printf '  %-48s %-24s | %6s | %s\n' "$1" "$2" "$3" "$4"; }
row "kernel -> synack (TUN, offloads)" "${R[k2s]}" "${M[k2s]}" "$(ratio "${M[k2s]}" "${M[relay]}") of the vnet relay"
row "synack -> kernel (TUN, offloads)" "${R[s2k]}" "${M[s2k]}" "$(ratio "${M[s2k]}" "${M[relay]}") of the vnet relay"
row "kernel -> kernel (vnet relay, TSO: the ceiling)" "${R[relay]}" "${M[relay]}" "1.00"
row "kernel -> synack (TUN, --no-offload)" "${R[k2s_plain]}" "${M[k2s_plain]}" "$(ratio "${M[k2s_plain]}" "${M[relay_plain]}") of the plain relay"
row "synack -> kernel (TUN, --no-offload)" "${R[s2k_plain]}" "${M[s2k_plain]}" "$(ratio "${M[s2k_plain]}" "${M[relay_plain]}") of the plain relay"
row "kernel -> kernel (plain relay, no offloads)" "${R[relay_plain]}" "${M[relay_plain]}" "1.00"
row "kernel -> kernel (veth)" "${R[veth]}" "${M[veth]}" "$(ratio "${M[veth]}" "${M[relay]}") of the vnet relay"
