#!/usr/bin/env bash
# Loss recovery measured against Linux on the same impairment (issue 11), in one run.
#
# synack: two stacks on the simulated network (bench/loss_sim.c: synack_sim, virtual clock).
# Linux: two kernels in two network namespaces created here, joined by bench/fault_relay.c,
# which carries their packets through the same simnet path and fault decorator on the real
# clock. Every knob is the same on both sides: 50 ms each way, loss (and duplication,
# reordering, corruption) drawn per frame in each direction, the bandwidth and queue limit.
#
#  1. smoltcp's netsim grid: 10 MiB one way, 100 ms RTT, equal send and receive buffers of 8,
#     32 and 128 KiB, loss 0, 0.1, 1, 2, 5, 10, 20, 30 %; plus a 100 Mbit/s bottleneck row
#     (2 MiB buffers, so that the bottleneck and not the window is the ceiling; queue of one
#     RTT's worth of frames at the bottleneck). Goodput is printed as a fraction of the
#     ceiling, window/RTT (min(window/RTT, 100 Mbit/s) for the bottleneck row), with synack's
#     ratio to Linux in each cell. Linux runs in real time, so every cell of both is measured
#     the same bounded way: the bytes delivered CAP seconds after connect() (or all 10 MiB, if
#     sooner), one run per cell. The two fast cells (the bottleneck row at 0 and 0.1 %) run
#     first, one at a time, FAST_REPS times each (default 3, the median is printed); then
#     every other Linux cell at once (JOBS). synack's uncapped
#     10 MiB figure (run to the end on the virtual clock, up to 4 simulated hours) is printed
#     beside it.
#  2. 1 MiB transfers at 20 % and 30 % loss with 2 % duplication, 5 % reordering (held back
#     1 ms) and 1 % corruption, 128 KiB buffers: completion time p50/p99 and RTOs per transfer
#     (TcpExtTCPTimeouts of both ends: synack's counter, Linux's nstat inside its
#     namespaces), XFER_LINUX transfers of Linux with each congestion control of XFER_CC
#     (default "cubic bbr": cubic is Linux's default, bbr this host's; real time, limit
#     XFER_LIMIT s, all at once) and XFER_SYNACK of synack (virtual time, limit 4 h), with
#     ratios.
#
# Linux's buffers (bench/loss_peer.c): SO_SNDBUF = B and SO_RCVBUF = 0.8 B on both sockets
# (the kernel doubles both and announces about 62% of its receive buffer for these packets, so
# its window is about B, as synack's is exactly B), window clamped to B; the connecting side
# receives, so that all of it is set before the handshake. Its congestion control is LINUX_CC
# (default cubic, Linux's default and synack's; set per socket with TCP_CONGESTION, since the
# host's default, which new namespaces inherit, may be another: bbr here). The relay reports
# the largest window each
# kernel announced, printed with the conditions. Needs root and /dev/net/tun for the Linux half;
# without them synack's half runs and Linux's is skipped (said so).
#
# Usage: bench/loss.sh [path/to/synack]
# env: CAP (s, default 60), XFER_LINUX (20), XFER_SYNACK (200), XFER_LIMIT (s, 240),
#      JOBS (Linux cells at once, default 80), LINUX_CC (the grid's, cubic), XFER_CC
#      ("cubic bbr"), FAST_REPS (3), ONLY ("grid xfer")
# The relay reports how late it delivered frames (it is a process on a shared machine): the
# mean and largest lateness are printed with the results.
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/synack}
B=$(dirname "$BIN")
LIB=$B/libsynack.a
CAP=${CAP:-60} XFER_LINUX=${XFER_LINUX:-20} XFER_SYNACK=${XFER_SYNACK:-200}
XFER_LIMIT=${XFER_LIMIT:-240} JOBS=${JOBS:-80} LINUX_CC=${LINUX_CC:-cubic}
XFER_CC=${XFER_CC:-cubic bbr}
ONLY=${ONLY:-grid xfer}
SIM_LIMIT=14400
[ -f "$LIB" ] || { echo "bench loss: $LIB missing (run make)"; exit 1; }
W=$(mktemp -d /tmp/synack-loss.XXXXXX)
TAG=sl$$
LINUX=1
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	LINUX=0
	echo "bench loss: Linux half skipped (needs root and /dev/net/tun); synack's half only"
fi
cleanup() {
	local p
	for p in $(cat "$W"/*.pid 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$TAG-"); do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
CC=${CC:-cc}
for p in loss_sim fault_relay loss_peer; do
	$CC -std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE -Iinclude -Isrc bench/$p.c "$LIB" \
		-o "$W/$p" -lm -lpthread || exit 1
done

MIB=$((1 << 20))
LOSSES="0 0.001 0.01 0.02 0.05 0.10 0.20 0.30"
BW=100000000
BW_BUF=$((2 << 20))
# The bottleneck's queue: the frames in flight over one 50 ms leg at 100 Mbit/s (417 of 1500
# bytes) plus one RTT's worth (833) waiting.
BW_QLIMIT=1250
XFER_FAULTS="dup=0.02 reorder=0.05 corrupt=0.01 reorder_us=1000"

# ---- one Linux cell: two namespaces, the relay, the transfer, nstat, teardown ----------------
linux_cell() { # ID CC BYTES BUF CAP LIMIT SEED RELAY-ARGS...
	local id=$1 cc=$2 bytes=$3 buf=$4 cap=$5 limit=$6 seed=$7; shift 7
	local a=$TAG-$id-a b=$TAG-$id-b n out=$W/linux-$id
	ip netns add "$a" && ip netns add "$b" || { echo "fail=netns" >"$out"; return; }
	for n in "$a" "$b"; do
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	done
	ip -n "$a" tuntap add dev la mode tun && ip -n "$b" tuntap add dev lb mode tun &&
	ip -n "$a" addr add 10.9.0.1/24 dev la && ip -n "$b" addr add 10.9.0.2/24 dev lb &&
	ip -n "$a" link set la mtu 1500 up && ip -n "$b" link set lb mtu 1500 up ||
		{ echo "fail=devices" >"$out"; return; }
	"$W/fault_relay" "/run/netns/$a" la "/run/netns/$b" lb seed="$seed" \
		seconds=$((limit + 60)) "$@" >"$out.relay" 2>"$out.relay.err" &
	local rp=$!
	echo $rp >"$W/$id.pid"
	local i=0
	while ! grep -q ready "$out.relay.err" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	local res
	res=$(timeout $((limit + 30)) "$W/loss_peer" "/run/netns/$a" "/run/netns/$b" 10.9.0.2 5001 \
		"$bytes" "$cap" "$limit" "$buf" "$cc" 2>>"$out.err") || res="fail=peer"
	local rto=0 v
	for n in "$a" "$b"; do
		v=$(ip netns exec "$n" nstat -asz TcpExtTCPTimeouts 2>/dev/null |
			awk '$1 == "TcpExtTCPTimeouts" {print $2}')
		rto=$((rto + ${v:-0}))
	done
	kill -TERM $rp 2>/dev/null
	wait $rp 2>/dev/null
	rm -f "$W/$id.pid"
	echo "$res rtos=$rto $(cat "$out.relay" 2>/dev/null)" >"$out"
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
}
throttle() { while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done; }

# ---- synack's side: runs meanwhile (virtual time, one core) ----------------------------------
sim_all() {
	local buf loss i=0
	if [[ " $ONLY " == *" grid "* ]]; then
		for buf in 8192 32768 131072; do
			for loss in $LOSSES; do
				"$W/loss_sim" bytes=$((10 * MIB)) buf=$buf loss=$loss cap=$CAP \
					limit=$SIM_LIMIT seed=$((i + 1)) >"$W/sim-g-$buf-$loss"
				i=$((i + 1))
			done
		done
		for loss in $LOSSES; do
			"$W/loss_sim" bytes=$((10 * MIB)) buf=$BW_BUF loss=$loss bw=$BW \
				qlimit=$BW_QLIMIT cap=$CAP limit=$SIM_LIMIT seed=$((i + 1)) \
				>"$W/sim-g-bw-$loss"
			i=$((i + 1))
		done
	fi
	if [[ " $ONLY " == *" xfer "* ]]; then
		for loss in 0.20 0.30; do
			"$W/loss_sim" bytes=$MIB buf=131072 loss=$loss $XFER_FAULTS cap=$SIM_LIMIT \
				limit=$SIM_LIMIT seed=1000 runs="$XFER_SYNACK" >"$W/sim-x-$loss"
		done
	fi
}

T0=$(date +%s)
if [ $LINUX = 1 ] && [[ " $ONLY " == *" grid "* ]]; then
	# The bottleneck row's fast cells first, alone (before synack's simulations start too):
	# at 100 Mbit/s the relay moves 8,000 frames a second, and other relays beside it would
	# slow it down.
	# Cubic's slow start overshoots the bottleneck's queue there and how long the repair
	# takes varies a lot from run to run: FAST_REPS runs each (default 3), the median.
	i=24
	for loss in 0 0.001; do
		for ((r = 0; r < ${FAST_REPS:-3}; r++)); do
			linux_cell "g-bw-$loss-r$r" "$LINUX_CC" $((10 * MIB)) $BW_BUF "$CAP" "$CAP" \
				$((i + 1 + 100 * r)) loss="$loss" bw=$BW qlimit=$BW_QLIMIT
			cat "$W/linux-g-bw-$loss-r$r" >>"$W/linux-g-bw-$loss"
		done
		i=$((i + 1))
	done
fi
sim_all &
SIM_PID=$!
echo $SIM_PID >"$W/sim.pid"
if [ $LINUX = 1 ]; then
	if [[ " $ONLY " == *" grid "* ]]; then
		i=0
		for buf in 8192 32768 131072; do
			for loss in $LOSSES; do
				throttle
				linux_cell "g-$buf-$loss" "$LINUX_CC" $((10 * MIB)) $buf "$CAP" "$CAP" \
					$((i + 1)) loss="$loss" &
				i=$((i + 1))
			done
		done
		i=26
		for loss in $LOSSES; do
			case $loss in 0 | 0.001) continue ;; esac
			throttle
			linux_cell "g-bw-$loss" "$LINUX_CC" $((10 * MIB)) $BW_BUF "$CAP" "$CAP" \
				$((i + 1)) loss="$loss" bw=$BW qlimit=$BW_QLIMIT &
			i=$((i + 1))
		done
		wait $(jobs -rp | grep -vx "$SIM_PID") 2>/dev/null
	fi
	if [[ " $ONLY " == *" xfer "* ]]; then
		for cc in $XFER_CC; do
			for loss in 0.20 0.30; do
				for ((i = 0; i < XFER_LINUX; i++)); do
					throttle
					linux_cell "x-$cc-$loss-$i" "$cc" $MIB 131072 "$XFER_LIMIT" \
						"$XFER_LIMIT" $((1000 + i)) loss="$loss" $XFER_FAULTS &
				done
			done
		done
	fi
fi
wait
rm -f "$W/sim.pid"
T1=$(date +%s)

# ---- the report ------------------------------------------------------------------------------
echo "loss bench: $(date -u '+%Y-%m-%d %H:%M UTC'), synack $(git rev-parse --short HEAD 2>/dev/null)," \
	"$(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1))," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), Linux $(uname -r), $((T1 - T0)) s wall"
echo "conditions: 100 ms RTT (50 ms each way, no jitter), MTU 1500, faults drawn per frame in both" \
	"directions by synack's fault decorator (same code for both stacks); synack: default config" \
	"(congestion control cubic, SACK, timestamps) with send and receive buffers B, no autotuning;" \
	"Linux: congestion control $LINUX_CC in the grid, SO_SNDBUF = B, SO_RCVBUF = 0.8 B, window" \
	"clamped to B;" \
	"Linux cells run $JOBS at a time on the real clock through bench/fault_relay.c"
W="$W" CAP="$CAP" LINUX="$LINUX" LOSSES="$LOSSES" XFER_LIMIT="$XFER_LIMIT" SIM_LIMIT="$SIM_LIMIT" \
	BW="$BW" BW_BUF="$BW_BUF" ONLY="$ONLY" XFER_CC="$XFER_CC" python3 bench/loss_report.py
