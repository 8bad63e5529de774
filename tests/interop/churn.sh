#!/usr/bin/env bash
# Churn on the real wire: 30,000 short HTTP requests one after another, each on a new
# connection, from the Linux kernel (tests/interop/peer.c churn) to `synack serve --app http`
# with its default options, first with synack closing first (Connection: close: synack holds
# every TIME-WAIT), then with the kernel closing first. Every request must succeed. In a
# network namespace created here and removed on exit. Usage: tests/interop/churn.sh [synack]
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
		--app http --root "$W/www" --ctl "$W/ctl.sock" 2>>"$W/serve.log"
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

echo "churn: $pass passed, $failed failed"
[ "$failed" = 0 ]
