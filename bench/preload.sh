#!/usr/bin/env bash
# Unmodified servers over synack (`synack run`, TUN) against the same servers over the kernel's
# TCP (two namespaces joined by a veth pair, MTU 1500 as the TUN device); the client is always
# the kernel's. One run of each, figures as the tools print them, and the ratio synack/kernel:
#   redis-benchmark -n 100000 -c 50 -t set,get       against redis-server (no persistence)
#   wrk -t 2 -c 100 -d 5s, and -c 1000               against nginx (epoll, one process)
#   iperf3 -t 5, both directions                     against iperf3 -s
# Needs root, /dev/net/tun and the programs; otherwise says what it skips and exits 0.
# Usage: bench/preload.sh [path/to/synack]
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "bench preload: skipped (needs root and /dev/net/tun)"; exit 0
fi
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-bench-pl.XXXXXX)
chmod 755 "$W"
NS=synack-benchpl-$$ NSA=synack-benchpl-a-$$ NSB=synack-benchpl-b-$$
. tests/interop/lib.sh
cleanup() {
	kill_bg
	scripts/netns down "$NS"
	for n in "$NSA" "$NSB"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/netns up "$NS" tun0 "$KADDR/24" || exit 1
ip -n "$NS" link set tun0 txqueuelen 10000
ip netns add "$NSA" && ip netns add "$NSB"
ip link add pb0 netns "$NSA" type veth peer name pb1 netns "$NSB"
ip -n "$NSA" addr add 10.79.0.1/24 dev pb0 && ip -n "$NSB" addr add 10.79.0.2/24 dev pb1
ip -n "$NSA" link set pb0 mtu 1500 up && ip -n "$NSB" link set pb1 mtu 1500 up
ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up
VADDR=10.79.0.2

mkdir -p "$W/www" && echo "hello over synack" >"$W/www/hello.txt"
cat >"$W/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 8192;
error_log $W/nginx-error.log warn;
pid $W/nginx.pid;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $W; proxy_temp_path $W; fastcgi_temp_path $W;
	uwsgi_temp_path $W; scgi_temp_path $W;
	server { listen 8080 backlog=4096; root $W/www; }
}
EOF

# server_up WHERE PORT CMD...: WHERE is "synack" (under synack run in $NS) or "kernel" (in
# $NSB); waits until the port listens.
server_up() {
	local where=$1 port=$2; shift 2
	if [ "$where" = synack ]; then
		rm -f "$W/ctl.sock"
		bg_start ip netns exec "$NS" sh -c 'ulimit -n 8192; exec "$@"' sh timeout 300 "$BIN" run \
			--tun tun0 --addr "$SADDR/24" --ctl "$W/ctl.sock" -- "$@" >>"$W/server.log" 2>&1
		SRV=$LASTPID
		wait_for 10 sh -c "'$BIN' ss --ctl '$W/ctl.sock' 2>/dev/null | grep -q 'LISTEN.*:$port '"
	else
		bg_start ip netns exec "$NSB" sh -c 'ulimit -n 8192; exec "$@"' sh timeout 300 "$@" >>"$W/server.log" 2>&1
		SRV=$LASTPID
		wait_for 10 sh -c "ip netns exec $NSB ss -Htln 'sport = :$port' | grep -q LISTEN"
	fi
}
server_down() { kill -TERM "$SRV" 2>/dev/null; wait_pid "$SRV" 10; }
# client WHERE CMD...: the kernel's client, in $NS (toward synack) or $NSA (toward $NSB).
client() {
	local where=$1; shift
	local ns=$NS; [ "$where" = kernel ] && ns=$NSA
	ip netns exec "$ns" sh -c 'ulimit -n 8192; exec "$@"' sh "$@"
}
addr_of() { [ "$1" = synack ] && echo $SADDR || echo $VADDR; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

declare -A R
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	for where in synack kernel; do
		server_up $where 6379 redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no \
			--protected-mode no --dir "$W"
		client $where timeout 120 redis-benchmark -h "$(addr_of $where)" -n 100000 -c 50 -q \
			-t set,get >"$W/redis-$where.txt" 2>&1
		R[redis-set-$where]=$(tr '\r' '\n' <"$W/redis-$where.txt" | awk '/^SET: [0-9.]+ requests/ { print $2 }')
		R[redis-get-$where]=$(tr '\r' '\n' <"$W/redis-$where.txt" | awk '/^GET: [0-9.]+ requests/ { print $2 }')
		server_down
	done
else
	echo "bench preload: redis skipped (redis-server/redis-tools not installed)"
fi

if command -v nginx >/dev/null && command -v wrk >/dev/null; then
	for where in synack kernel; do
		server_up $where 8080 nginx -c "$W/nginx.conf"
		for c in 100 1000; do
			client $where timeout 60 wrk -t 2 -c $c -d 5s "http://$(addr_of $where):8080/hello.txt" \
				>"$W/wrk-$c-$where.txt" 2>&1
			R[wrk$c-$where]=$(awk '/^Requests\/sec/ { print $2 }' "$W/wrk-$c-$where.txt")
			R[wrk$c-lat-$where]=$(awk '/Latency/ { print $2 }' "$W/wrk-$c-$where.txt")
			R[wrk$c-err-$where]=$(grep -o 'Socket errors:.*' "$W/wrk-$c-$where.txt" || echo none)
		done
		server_down
	done
else
	echo "bench preload: nginx/wrk skipped (not installed)"
fi

if command -v iperf3 >/dev/null; then
	for where in synack kernel; do
		for dir in up down; do
			server_up $where 5201 iperf3 -s -4 -p 5201 -1
			flag=; [ $dir = down ] && flag=-R
			client $where timeout 60 iperf3 -c "$(addr_of $where)" -p 5201 -t 5 $flag -J \
				>"$W/iperf-$dir-$where.json" 2>&1
			R[iperf-$dir-$where]=$(python3 -c "import json,sys; print('%.0f' % (json.load(open(sys.argv[1]))['end']['sum_received']['bits_per_second']/1e6))" "$W/iperf-$dir-$where.json" 2>/dev/null || echo 0)
			server_down
		done
	done
else
	echo "bench preload: iperf3 skipped (not installed)"
fi

echo "bench preload: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); one run each"
printf '%-46s %14s %14s %8s\n' "what" "over synack" "over kernel" "ratio"
row() { printf '%-46s %14s %14s %8s\n' "$1" "${2:-n/a}" "${3:-n/a}" "$(ratio "${2:-0}" "${3:-0}")"; }
row "redis-benchmark SET, requests/s (-c 50)" "${R[redis-set-synack]:-}" "${R[redis-set-kernel]:-}"
row "redis-benchmark GET, requests/s (-c 50)" "${R[redis-get-synack]:-}" "${R[redis-get-kernel]:-}"
row "nginx + wrk -c 100, requests/s" "${R[wrk100-synack]:-}" "${R[wrk100-kernel]:-}"
row "nginx + wrk -c 1000, requests/s" "${R[wrk1000-synack]:-}" "${R[wrk1000-kernel]:-}"
printf '%-46s %14s %14s\n' "nginx + wrk -c 1000, mean latency" "${R[wrk1000-lat-synack]:-}" "${R[wrk1000-lat-kernel]:-}"
printf '%-46s %s | %s\n' "wrk -c 1000 socket errors (synack | kernel)" "${R[wrk1000-err-synack]:-}" "${R[wrk1000-err-kernel]:-}"
row "iperf3 client->server, Mbit/s (server side)" "${R[iperf-up-synack]:-}" "${R[iperf-up-kernel]:-}"
row "iperf3 -R server->client, Mbit/s" "${R[iperf-down-synack]:-}" "${R[iperf-down-kernel]:-}"
