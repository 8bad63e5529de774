# Helpers for the interop suite (sourced by run.sh and bench/interop_throughput.sh).
# Needs: BIN (the synack binary), W (a scratch dir), NS (the namespace). Every wait is bounded.

KADDR=10.77.0.1   # the kernel's address on tun0
SADDR=10.77.0.2   # synack's
X() { ip netns exec "$NS" "$@"; }

pass=0 failed=0
ok() { pass=$((pass + 1)); printf '  ok    %s\n' "$1"; }
ko() {
	failed=$((failed + 1)); printf '  FAIL  %s: %s\n' "$1" "$2"
	fail_context
}
# What a failure leaves in the CI log (the scratch dir is gone afterwards): the last lines of
# synack's and the kernel peer's logs, and the resets in synack connect's latest capture.
fail_context() {
	local f
	for f in "$W/connect.log" "$W/peer.log"; do
		[ -s "$f" ] && tail -n 5 "$f" | sed "s|^|        ${f##*/}: |"
	done
	[ -n "${CCAP:-}" ] && [ -s "$CCAP" ] &&
		tcpdump -nn -r "$CCAP" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | tail -n 3 |
		sed "s|^|        ${CCAP##*/}: |"
	return 0
}
check() { # check NAME COND-COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else ko "$name" "$*"; fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
same() { [ -f "$1" ] && [ -f "$2" ] && [ "$(sha "$1")" = "$(sha "$2")" ]; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds or time is up.
wait_for() {
	local n=$(( $1 * 20 )); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05; n=$((n - 1))
	done
	return 1
}

# Background processes we started, by pid, for the cleanup trap.
BG=()
bg_start() { "$@" & BG+=($!); LASTPID=$!; }
# wait_pid PID SECONDS: waits for our child; kills it when time is up. Sets RC.
wait_pid() {
	local pid=$1 n=$(( $2 * 20 ))
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
	if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
	wait "$pid" 2>/dev/null; RC=$?
}
kill_bg() {
	local p
	for p in "${BG[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${BG[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
	BG=()
}

# serve_start APP [ARGS...]: synack serve on tun0 with a control socket and a capture.
CAPS=()
serve_start() {
	local app=$1; shift
	SCAP="$W/serve-$app-${#CAPS[@]}.pcap"; CAPS+=("$SCAP")
	rm -f "$W/ctl.sock"
	bg_start ip netns exec "$NS" timeout 900 "$BIN" serve --tun tun0 --addr "$SADDR/24" --app "$app" \
		--ctl "$W/ctl.sock" --pcap "$SCAP" "$@" 2>>"$W/serve.log"
	SERVE_PID=$LASTPID
	wait_for 5 test -S "$W/ctl.sock"
}
# serve_stop: SIGTERM, and the exit status must be 0 (graceful).
serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait_pid "$SERVE_PID" 10
	SERVE_RC=$RC
}
synack_ss() { "$BIN" ss --ctl "$W/ctl.sock" "$@"; }
synack_nstat() { "$BIN" nstat --ctl "$W/ctl.sock"; }
# nstat_get NAME: a counter's value (0 when not listed).
nstat_get() { synack_nstat | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }

# connect_run NAME ARGS...: synack connect with a capture; sets CRC (its exit status).
connect_run() {
	local name=$1; shift
	CCAP="$W/connect-$name.pcap"; CAPS+=("$CCAP")
	X timeout 120 "$BIN" connect --tun tun0 --addr "$SADDR/24" --pcap "$CCAP" "$@" \
		2>>"$W/connect.log"
	CRC=$?
}

# peer_server PORT MODE ARGS...: the kernel's server in the background; waits until it listens.
# It is killed after PEER_TIMEOUT seconds (120).
peer_server() {
	local port=$1
	bg_start ip netns exec "$NS" timeout "${PEER_TIMEOUT:-120}" "$W/peer" server "$@" >>"$W/peer.log" 2>&1
	PEER_PID=$LASTPID
	wait_for 5 sh -c "ip netns exec $NS ss -Htln 'sport = :$port' | grep -q LISTEN"
}

# Kernel-side TIME-WAIT between the kernel and synack, local port or remote port PORT.
kernel_tw() { X ss -Htan state time-wait | grep -q "$1"; }
