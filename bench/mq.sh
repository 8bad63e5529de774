#!/usr/bin/env bash
# One stack per core against the kernel, in one run, interleaved (issue 10): connections per
# second with kernel clients (bench/mqload.c: connect, 64 bytes each way, close) 1 and 32 at
# a time, against `synack serve --app echo` with --threads 1 and --threads 2 over its
# multi-queue TUN device, and against a kernel echo server (bench/mqload.c, epoll, one
# thread) over a veth pair; then many-flow aggregate throughput, FLOWS kernel flows at once
# sending SIZE MiB in all to `synack serve --app discard` with --threads 1 and 2, and to a
# kernel discard server over veth, with synack's CPU time per GiB (less noisy than wall time
# on a loaded machine). And whether replies reach the stack that opened the connection
# (tests/interop/mqsteer.c: 32 active opens on 2 stacks, 7 s idle) with synack's steering
# program and with the kernel's own queue choice. MTU 1500; RUNS rounds (default 3), each
# running every case once; medians and ratios printed. Namespaces are created here and
# removed on exit. Needs root and /dev/net/tun; otherwise says so and exits 0.
# Usage: bench/mq.sh [path/to/synack]       (env: RUNS, CONNS (default 2000), FLOWS (8), SIZE (128))
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "bench mq: skipped (needs root and /dev/net/tun)"; exit 0
fi
BIN=$(realpath "${1:-build/synack}")
RUNS=${RUNS:-3} CONNS=${CONNS:-2000} FLOWS=${FLOWS:-8} SIZE=${SIZE:-128}
W=$(mktemp -d /tmp/synack-mqbench.XXXXXX)
NS=synack-mqb-$$ NSK=synack-mqbk-$$
. tests/interop/lib.sh
SADDR=10.88.0.2 KSRV=10.78.0.2
cleanup() {
	kill_bg
	ip netns del "$NS" 2>/dev/null; ip netns del "$NSK" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
${CC:-cc} -O2 -Wall -o "$W/mqload" bench/mqload.c -lpthread || exit 1
${CC:-cc} -O2 -Wall -Iinclude -o "$W/mqsteer" tests/interop/mqsteer.c \
	"$(dirname "$BIN")/libsynack.a" -lpthread -lm || exit 1

# The clients' namespace NS (synack's TUN device mq0, made by synack serve) and the kernel
# server's NSK, joined by a veth pair (10.78.0.0/24).
ip netns add "$NS" && ip netns add "$NSK" || exit 1
for n in "$NS" "$NSK"; do ip -n "$n" link set lo up; done
ip link add mqb0 netns "$NS" type veth peer name mqb1 netns "$NSK"
ip -n "$NS" addr add 10.78.0.1/24 dev mqb0 && ip -n "$NSK" addr add $KSRV/24 dev mqb1
ip -n "$NS" link set mqb0 mtu 1500 up && ip -n "$NSK" link set mqb1 mtu 1500 up
# Room for every round's client ports (the clients close first: TIME-WAIT is theirs).
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
bg_start ip netns exec "$NSK" "$W/mqload" server 7 echo
bg_start ip netns exec "$NSK" "$W/mqload" server 9 discard
wait_for 5 sh -c "ip netns exec $NSK ss -Htln | grep -q ':9 '"

serve() { # THREADS APP
	: >"$W/serve.log"
	bg_start ip netns exec "$NS" timeout 600 "$BIN" serve --tun mq0 --addr $SADDR/24 --app "$2" \
		--threads "$1" --max-conns 4000 2>"$W/serve.log"
	SP=$LASTPID
	wait_for 5 grep -q " on $SADDR" "$W/serve.log"
}
unserve() { kill -TERM "$SP"; wait_pid "$SP" 10; }
conns() { ip netns exec "$NS" timeout 300 "$W/mqload" conns "$1" 7 "$2" "$CONNS" || echo 0; }
flows() { ip netns exec "$NS" timeout 300 "$W/mqload" flows "$1" 9 "$FLOWS" $((SIZE / FLOWS)) || echo 0; }
# CPU time (user + system, ms) synack's process has used so far: load on the machine stretches
# wall time, much less the work done.
TCK=$(getconf CLK_TCK)
cpu_ms() { local p; p=$(pgrep -P "$SP" synack); awk -v t="$TCK" '{ print int(($14 + $15) * 1000 / t) }' "/proc/${p:-0}/stat" 2>/dev/null || echo 0; }
# synack's CPU ms per GiB received in one flows run (the figure of flows on stdout first).
flows_cpu() { local a b g; a=$(cpu_ms); g=$(flows $SADDR); b=$(cpu_ms)
	echo "$g $(awk -v ms=$((b - a)) -v mib=$((SIZE / FLOWS * FLOWS)) 'BEGIN { printf "%.0f", ms * 1024 / mib }')"; }

declare -A R
for i in $(seq "$RUNS"); do
	for t in 1 2; do
		serve $t echo
		R[s${t}c1]+=" $(conns $SADDR 1)"
		R[s${t}c32]+=" $(conns $SADDR 32)"
		unserve
	done
	R[kc1]+=" $(conns $KSRV 1)"
	R[kc32]+=" $(conns $KSRV 32)"
	for t in 1 2; do
		serve $t discard
		set -- $(flows_cpu)
		R[s${t}f]+=" ${1:-0}"
		R[s${t}cpu]+=" ${2:-0}"
		unserve
	done
	R[kf]+=" $(flows $KSRV)"
done
steer=$(ip netns exec "$NS" timeout 60 "$W/mqsteer" steer mqs0 16 7 2>&1 | sed 's/^mqsteer //')
auto=$(ip netns exec "$NS" timeout 60 "$W/mqsteer" auto mqs0 16 7 2>&1 | sed 's/^mqsteer //')

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A M
for n in "${!R[@]}"; do M[$n]=$(echo "${R[$n]}" | median); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "conditions: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), Linux $(uname -r), synack $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
echo "            MTU 1500, offloads on; kernel clients in one namespace; the kernel's server over veth;"
echo "            $CONNS connections per figure, $FLOWS flows of $((SIZE / FLOWS)) MiB; $RUNS interleaved rounds"
row() { printf '  %-46s %-26s | %8s | %s\n' "$1" "$2" "$3" "$4"; }
echo "connections/s (connect, 64 bytes each way, close): runs | median | ratio"
row "synack serve --threads 1, 1 at a time" "${R[s1c1]}" "${M[s1c1]}" "$(ratio "${M[s1c1]}" "${M[kc1]}") of the kernel"
row "synack serve --threads 2, 1 at a time" "${R[s2c1]}" "${M[s2c1]}" "$(ratio "${M[s2c1]}" "${M[kc1]}") of the kernel"
row "kernel server (veth), 1 at a time" "${R[kc1]}" "${M[kc1]}" "1.00"
row "synack serve --threads 1, 32 at a time" "${R[s1c32]}" "${M[s1c32]}" "$(ratio "${M[s1c32]}" "${M[kc32]}") of the kernel"
row "synack serve --threads 2, 32 at a time" "${R[s2c32]}" "${M[s2c32]}" "$(ratio "${M[s2c32]}" "${M[kc32]}") of the kernel"
row "kernel server (veth), 32 at a time" "${R[kc32]}" "${M[kc32]}" "1.00"
echo "many-flow aggregate Gbit/s ($FLOWS kernel flows at once to a discard server): runs | median | ratio"
row "synack serve --threads 1" "${R[s1f]}" "${M[s1f]}" "$(ratio "${M[s1f]}" "${M[kf]}") of the kernel"
row "synack serve --threads 2" "${R[s2f]}" "${M[s2f]}" "$(ratio "${M[s2f]}" "${M[kf]}") of the kernel, $(ratio "${M[s2f]}" "${M[s1f]}") of --threads 1"
row "kernel server (veth)" "${R[kf]}" "${M[kf]}" "1.00"
echo "synack's CPU time (user + system) per GiB in those runs, ms: runs | median | ratio"
row "synack serve --threads 1" "${R[s1cpu]}" "${M[s1cpu]}" "1.00"
row "synack serve --threads 2" "${R[s2cpu]}" "${M[s2cpu]}" "$(ratio "${M[s2cpu]}" "${M[s1cpu]}") of --threads 1"
echo "active opens on 2 stacks, replies after 7 s idle:"
echo "  steering program:   ${steer:-failed}"
echo "  kernel's own queue: ${auto:-failed}"
