#!/usr/bin/env bash
# What the synack process itself spends per transfer -- CPU time and system calls -- which a
# loaded machine inflates far less than wall time: `perf stat -e task-clock,raw_syscalls:
# sys_enter` on synack serve --app discard (kernel -> synack, "k2s") and synack connect
# (synack -> kernel, "s2k"), with offloads and --no-offload, for this build with io_uring
# write batching on (SYNACK_TUN_URING=1; off by default) and off (SYNACK_TUN_URING=0), and BASE (another synack
# binary, e.g. main's) when given. RUNS interleaved rounds (3), SIZE MiB (256). Needs root,
# /dev/net/tun and perf; otherwise says so and exits 0. The namespace is created and removed here.
# Usage: [BASE=path/to/other/synack] bench/cpucost.sh [path/to/synack]
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v perf >/dev/null; then
	echo "bench cpucost: skipped (needs root, /dev/net/tun and perf)"; exit 0
fi
MINE=$(realpath "${1:-build/synack}")
RUNS=${RUNS:-3} SIZE=${SIZE:-256}
W=$(mktemp -d /tmp/synack-cpucost.XXXXXX); NS=synack-cpucost-$$
. tests/interop/lib.sh
cleanup() { kill_bg; scripts/netns down "$NS" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cc -O2 -Wall -o "$W/peer" tests/interop/peer.c || exit 1
head -c $((SIZE << 20)) /dev/urandom >"$W/data"
scripts/netns up "$NS" tun0 "$KADDR/24" >/dev/null || exit 1
PORT=7100
parse() { awk -F, '/task-clock/ { t = $1 } /sys_enter/ { s = $1 } END { printf "%.0f/%d", t, s }' "$1"; }
k2s() { # BIN ENV... [--no-offload]
	local bin=$1 env=$2; shift 2
	bg_start ip netns exec "$NS" env $env timeout 300 "$bin" serve --tun tun0 --addr $SADDR/24 --app discard "$@" >>"$W/serve.log" 2>&1
	local sp=$LASTPID
	wait_for 5 sh -c "ip netns exec $NS ss -Htln 'sport = :9' | grep -q LISTEN"
	sleep 0.1; local spid; spid=$(pgrep -P $sp)
	perf stat -x, -e task-clock,raw_syscalls:sys_enter -p "$spid" -o "$W/st" &
	local pp=$!; sleep 0.2
	X timeout 300 "$W/peer" client $SADDR 9 echo "$W/data" /dev/null || echo "k2s failed" >&2
	kill -INT $pp; wait $pp
	kill -TERM "$sp"; wait_pid "$sp" 10
	parse "$W/st"
}
s2k() {
	local bin=$1 env=$2; shift 2
	PORT=$((PORT + 1))
	bg_start ip netns exec "$NS" timeout 300 "$W/peer" server $PORT sink-then-send /dev/null /dev/null >/dev/null 2>&1
	local p=$LASTPID
	wait_for 5 sh -c "ip netns exec $NS ss -Htln 'sport = :$PORT' | grep -q LISTEN"
	ip netns exec "$NS" env $env perf stat -x, -e task-clock,raw_syscalls:sys_enter -o "$W/st" -- \
		"$bin" connect --quiet --tun tun0 --addr $SADDR/24 "$@" --send "$W/data" $KADDR:$PORT || echo "s2k failed" >&2
	wait_pid "$p" 10
	parse "$W/st"
}
declare -A R
variants=("uring-off|$MINE|SYNACK_TUN_URING=0" "default|$MINE|SYNACK_TUN_URING=1")
names="uring-off default"
if [ -n "${BASE:-}" ]; then variants=("base|$(realpath "$BASE")|X=0" "${variants[@]}"); names="base $names"; fi
for i in $(seq "$RUNS"); do
	for v in "${variants[@]}"; do
		IFS='|' read -r name bin env <<<"$v"
		R["$name k2s"]+=" $(k2s "$bin" "$env")"
		R["$name s2k"]+=" $(s2k "$bin" "$env")"
		R["$name k2s-plain"]+=" $(k2s "$bin" "$env" --no-offload)"
		R["$name s2k-plain"]+=" $(s2k "$bin" "$env" --no-offload)"
	done
done
median() { tr ' ' '\n' | grep . | sort -t/ -k1,1n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "conditions: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), Linux $(uname -r), synack $(git rev-parse --short HEAD 2>/dev/null || echo '?'), MTU 1500, one flow of $SIZE MiB, $RUNS interleaved rounds"
echo "CPU ms / system calls of the synack process: runs | median (by CPU)"
for d in k2s s2k k2s-plain s2k-plain; do
	for v in $names; do
		printf '  %-10s %-10s %-44s | %s\n' "$d" "$v" "${R["$v $d"]}" "$(echo "${R["$v $d"]}" | median)"
	done
done
