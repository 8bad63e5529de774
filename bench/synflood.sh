#!/usr/bin/env bash
# SYN floods: first fed straight to a stack in-process (bench/synflood_cpu.c: SYNs/s one CPU
# absorbs), then on the wire: hping3 --flood -S --rand-source, from the kernel's side of a TUN
# device in a private namespace, against `synack serve --app echo` (SYN cookies in their
# default mode 1) for DUR seconds (default 10, at most 10), while a legitimate kernel client
# connects in a loop, sends a line and reads its echo. Reports the SYNs per second synack
# received and answered, the legitimate success rate (it must be 100%) and synack's memory
# (resident set) before, at its peak and after. Needs root, /dev/net/tun and hping3 (installed
# with apt-get when root); otherwise says so and exits 0.
# Usage: bench/synflood.sh [path/to/synack]
set -u
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/synack}")

# First, without a device: what one stack absorbs on one CPU (bench/synflood_cpu.c).
CPU=$(mktemp /tmp/synflood-cpu.XXXXXX)
if ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/synflood_cpu.c \
	"$(dirname "$BIN")/libsynack.a" $(pkg-config --libs liburing 2>/dev/null) -o "$CPU"; then
	"$CPU" 1000000
else
	echo "bench synflood: could not build bench/synflood_cpu.c"
fi
rm -f "$CPU"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "bench synflood: the wire part is skipped (needs root and /dev/net/tun)"; exit 0
fi
if ! command -v hping3 >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hping3 >/dev/null 2>&1 || true
fi
if ! command -v hping3 >/dev/null; then
	echo "bench synflood: the wire part is skipped (hping3 not installed: apt-get install hping3)"; exit 0
fi
DUR=${DUR:-10}
[ "$DUR" -le 10 ] || DUR=10
W=$(mktemp -d /tmp/synack-flood.XXXXXX)
NS=synack-flood-$$
. tests/interop/lib.sh
cleanup() {
	kill_bg
	scripts/netns down "$NS"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/netns up "$NS" tun0 "$KADDR/24" || exit 1

serve_start echo
SPID=$(pgrep -P "$SERVE_PID" -x synack || true)
[ -n "$SPID" ] || SPID=$(pgrep -P "$(pgrep -P "$SERVE_PID" | head -n 1)" -x synack || true)
[ -n "$SPID" ] || { echo "bench synflood: synack serve did not start"; cat "$W/serve.log"; exit 1; }
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SPID/status"; }
ctr() { nstat_get "$1"; }

# One legitimate exchange succeeds at least once before the flood.
X timeout 3 bash -c "exec 3<>/dev/tcp/$SADDR/7 && echo hello >&3 && read -t 2 l <&3 && [ \"\$l\" = hello ]" ||
	{ echo "bench synflood: the echo server does not answer"; exit 1; }

rss0=$(rss VmRSS)
in0=$(ctr IpInReceives); ck0=$(ctr TcpExtSyncookiesSent); po0=$(ctr TcpPassiveOpens)
dr0=$(ctr TcpExtListenDrops); bs0=$(ctr SynackDrop_ip_bad_src); cf0=$(ctr TcpExtSyncookiesFailed)
cr0=$(ctr TcpExtSyncookiesRecv)

bg_start ip netns exec "$NS" timeout -s INT "$DUR" hping3 --flood -S -p 7 --rand-source \
	"$SADDR" >"$W/hping.log" 2>&1
HPID=$LASTPID
t0=$(date +%s%N)
# The legitimate client: connect, send a line, read the echo, close; again until the flood
# ends. Each attempt has 8 s: the flood overflows the TUN device's queue, so the client's
# segments may be lost there and need the kernel's retransmissions (SYN at 1 and 3 s).
X bash -c "
	ok=0; n=0; end=\$((\$(date +%s) + $DUR))
	while [ \$(date +%s) -lt \$end ]; do
		n=\$((n + 1))
		if timeout 8 bash -c 'exec 3<>/dev/tcp/$SADDR/7 && echo hello >&3 && read -t 7 l <&3 && [ \"\$l\" = hello ]' 2>/dev/null; then
			ok=\$((ok + 1))
		fi
	done
	echo \$ok \$n" >"$W/client.out"
wait_pid "$HPID" 5
t1=$(date +%s%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')

rss_peak=$(rss VmHWM)
in1=$(ctr IpInReceives); ck1=$(ctr TcpExtSyncookiesSent); po1=$(ctr TcpPassiveOpens)
dr1=$(ctr TcpExtListenDrops); bs1=$(ctr SynackDrop_ip_bad_src); cf1=$(ctr TcpExtSyncookiesFailed)
cr1=$(ctr TcpExtSyncookiesRecv)
sleep 1
rss1=$(rss VmRSS)
read -r ok n <"$W/client.out"
sent=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' "$W/hping.log" | tail -n 1)
rate() { awk -v v="$1" -v s="$secs" 'BEGIN { printf "%.0f", v / s }'; }

echo "SYN flood on the wire: hping3 --flood -S --rand-source for ${secs} s against synack serve (cookies mode 1)"
printf '  %-44s %s\n' "SYNs sent by hping3" "${sent:-?}"
printf '  %-44s %s (%s/s)\n' "packets synack received (IpInReceives)" "$((in1 - in0))" "$(rate $((in1 - in0)))"
printf '  %-44s %s (%s/s)\n' "SYN cookies sent (TcpExtSyncookiesSent)" "$((ck1 - ck0))" "$(rate $((ck1 - ck0)))"
printf '  %-44s %s\n' "SYNs dropped (TcpExtListenDrops)" "$((dr1 - dr0))"
printf '  %-44s %s\n' "from refused sources (0/8, 127/8, 224/3...)" "$((bs1 - bs0))"
printf '  %-44s %s valid, %s failed\n' "cookie ACKs (TcpExtSyncookiesRecv/Failed)" "$((cr1 - cr0))" "$((cf1 - cf0))"
printf '  %-44s %s of %s (%s%%); passive opens %s\n' "legitimate exchanges that succeeded" "$ok" "$n" \
	"$(awk -v a="$ok" -v b="$n" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')" "$((po1 - po0))"
printf '  %-44s %s kB before, %s kB peak, %s kB after\n' "synack resident memory" "$rss0" "$rss_peak" "$rss1"
[ "$n" -gt 0 ] && [ "$ok" = "$n" ] || { echo "  FAIL: legitimate connections failed during the flood"; exit 1; }
