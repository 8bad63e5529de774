#!/usr/bin/env bash
# synack against the Linux kernel over IPv6 (and both families at once) on a TUN device, in
# network namespaces created here and removed on exit: curl -6 against serve --app http,
# 64 MiB both ways byte-exact with and without offloads, ping -6, ss/nstat rows and counters,
# a dual-stack listener serving an IPv4 and an IPv6 kernel client, a device synack creates
# with an address of each family for the kernel, and a Packet Too Big from a kernel router
# (a second namespace behind a 1280-byte link) that the transfer must obey.
# Usage: tests/interop/ipv6.sh [path/to/synack]. Every wait is bounded.
set -u
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-ipv6.XXXXXX)
NS=synack-ipv6-$$
NSC=$NS-c
NS2=$NS-b
. tests/interop/lib.sh
KADDR6=fd00:77::1   # the kernel's IPv6 address on tun0
SADDR6=fd00:77::2   # synack's

cleanup() {
	kill_bg
	scripts/netns down "$NS"
	ip netns del "$NSC" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	[ -n "${SYNACK_INTEROP_KEEP:-}" ] && echo "ipv6: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in ss sha256sum timeout curl ping tcpdump; do
	command -v $tool >/dev/null || { echo "ipv6: skipped (no $tool)"; exit 0; }
done
if [ ! -r /proc/net/if_inet6 ]; then
	echo "ipv6: skipped (the kernel has no IPv6)"; exit 0
fi
export PEER_DUAL=1 # peer's servers listen on [::], both families
${CC:-cc} -O2 -Wall -o "$W/peer" tests/interop/peer.c || { echo "ipv6: cannot build peer"; exit 1; }
scripts/netns up "$NS" tun0 "$KADDR/24" "$KADDR6/64" || exit 1

head -c 1024 /dev/urandom >"$W/1k"
head -c $((64 << 20)) /dev/urandom >"$W/64m"
head -c $((4 << 20)) /dev/urandom >"$W/4m"
mkdir -p "$W/www" && ln "$W/64m" "$W/www/big.bin" && echo "hello over IPv6" >"$W/www/hello.txt"
rate() { awk -v b=$((64 << 20)) -v ns="$1" 'BEGIN { printf "%.1f MiB/s", b / 1048576 / (ns / 1e9) }'; }

# serve6_start APP [ARGS...]: synack serve on tun0 with both addresses, a control socket and a
# capture.
serve6_start() {
	local app=$1; shift
	SCAP="$W/serve6-$app-${#CAPS[@]}.pcap"; CAPS+=("$SCAP")
	rm -f "$W/ctl.sock"
	bg_start ip netns exec "$NS" timeout 600 "$BIN" serve --tun tun0 --addr "$SADDR/24" \
		--addr "$SADDR6/64" --app "$app" --ctl "$W/ctl.sock" --pcap "$SCAP" "$@" 2>>"$W/serve.log"
	SERVE_PID=$LASTPID
	wait_for 5 test -S "$W/ctl.sock"
}
# connect6_run NAME ARGS...: synack connect with both addresses and a capture; sets CRC.
connect6_run() {
	local name=$1; shift
	CCAP="$W/connect6-$name.pcap"; CAPS+=("$CCAP")
	X timeout 120 "$BIN" connect --tun tun0 --addr "$SADDR/24" --addr "$SADDR6/64" \
		--pcap "$CCAP" "$@" 2>>"$W/connect.log"
	CRC=$?
}
# tcp_lengths CAP FILTER: the TCP payload lengths tcpdump reports for FILTER, one a line.
tcp_lengths() {
	tcpdump -nn -r "$1" "$2" 2>/dev/null | grep -o 'length [0-9]*$' | tr -dc '0-9\n'
}
max_of() { sort -n | tail -1; }

echo "== kernel client -> synack serve over IPv6 (http, dual-stack)"
serve6_start http --root "$W/www"
X timeout 10 curl -6 -sS -o "$W/index.html" "http://[$SADDR6]/"
check "curl -6 http://[$SADDR6]/ returns the built-in page" grep -q synack "$W/index.html"
code=$(X timeout 10 curl -6 -s -o "$W/hello.got" -w '%{http_code}' "http://[$SADDR6]/hello.txt")
check "curl -6 a file: 200, the file's bytes" sh -c "[ '$code' = 200 ] && cmp -s '$W/hello.got' '$W/www/hello.txt'"
t0=$(date +%s%N)
X timeout 120 curl -6 -sS -o "$W/big.got" "http://[$SADDR6]/big.bin"
t1=$(date +%s%N)
check "curl -6 64 MiB file: same sha256 ($(rate $((t1 - t0))) synack -> kernel)" same "$W/64m" "$W/big.got"
rm -f "$W/big.got"
X timeout 10 curl -4 -sS -o "$W/index4.html" "http://$SADDR/"
check "the same listener serves curl -4 http://$SADDR/" grep -q synack "$W/index4.html"
check "synack ss: one dual-stack listener, shown as ss shows it (*:80 *:*)" \
	sh -c "[ \$($BIN ss --ctl $W/ctl.sock | grep -c '^LISTEN') = 1 ] && $BIN ss --ctl $W/ctl.sock | grep -Eq '^LISTEN .* \*:80 +\*:\*'"
lport=$(X timeout 10 curl -6 -sS -o /dev/null -w '%{local_port}' -H 'Connection: close' "http://[$SADDR6]/hello.txt")
synack_tw6() { "$BIN" ss --ctl "$W/ctl.sock" | grep -Eq "^TIME-WAIT .* \[$SADDR6\]:80 +\[$KADDR6\]:$lport "; }
wait_for 3 synack_tw6
check "synack ss: an IPv6 row as ss prints it (TIME-WAIT [$SADDR6]:80 [$KADDR6]:$lport)" synack_tw6
X timeout 10 ping -6 -c 3 -i 0.2 -W 2 "$SADDR6" >"$W/ping6.log" 2>&1
check "ping -6 $SADDR6: 3 replies" grep -q "3 received" "$W/ping6.log"
check "synack nstat: Icmp6InEchos $(nstat_get Icmp6InEchos) = 3, Icmp6OutEchoReplies $(nstat_get Icmp6OutEchoReplies) = 3" \
	test "$(nstat_get Icmp6InEchos)" = 3 -a "$(nstat_get Icmp6OutEchoReplies)" = 3
check "synack nstat: Ip6InReceives $(nstat_get Ip6InReceives) > 1000, Ip6OutRequests, Ip6InDelivers, Icmp6InMsgs" \
	test "$(nstat_get Ip6InReceives)" -gt 1000 -a "$(nstat_get Ip6OutRequests)" -gt 0 \
	-a "$(nstat_get Ip6InDelivers)" -gt 0 -a "$(nstat_get Icmp6InMsgs)" -ge 3
v4was=$(nstat_get IpInReceives)
X timeout 10 ping -4 -c 2 -i 0.2 -W 2 "$SADDR" >"$W/ping4.log" 2>&1
check "ping -4 $SADDR beside it: 2 replies" grep -q "2 received" "$W/ping4.log"
check "counted as IPv4 (IpInReceives $v4was -> $(nstat_get IpInReceives)), not IPv6 (Icmp6InEchos still 3)" \
	test "$(nstat_get IpInReceives)" -ge $((v4was + 2)) -a "$(nstat_get Icmp6InEchos)" = 3
serve_stop
check "serve exits 0 on SIGTERM" test "$SERVE_RC" = 0

echo "== a dual-stack listener: an IPv4 and an IPv6 kernel client at once (echo)"
serve6_start echo
# Each client sends 4 MiB from a pipe that stays open until both are seen ESTAB together
# (the file "go"; at most 30 s). The writer is never killed: killed before its cat had run,
# it would close the pipe early and the client would echo less than 4 MiB.
rm -f "$W/f4" "$W/f6" "$W/go"; mkfifo "$W/f4" "$W/f6"
hold="n=600; while [ ! -e '$W/go' ] && [ \$n -gt 0 ]; do sleep 0.05; n=\$((n - 1)); done"
bg_start sh -c "exec >'$W/f4'; cat '$W/4m'; $hold"
bg_start sh -c "exec >'$W/f6'; cat '$W/4m'; $hold"
bg_start ip netns exec "$NS" timeout 60 "$W/peer" client $SADDR 7 echo "$W/f4" "$W/d4.back"
P4=$LASTPID
bg_start ip netns exec "$NS" timeout 60 "$W/peer" client $SADDR6 7 echo "$W/f6" "$W/d6.back"
P6=$LASTPID
both_estab() { [ "$("$BIN" ss --ctl "$W/ctl.sock" | grep -Ec "^ESTAB .* ($SADDR:7 +$KADDR:|\[$SADDR6\]:7 +\[$KADDR6\]:)")" = 2 ]; }
wait_for 10 both_estab; est=$?
touch "$W/go"
wait_pid "$P4" 60; r4=$RC
wait_pid "$P6" 60; r6=$RC
check "both clients echoed 4 MiB byte-exact (IPv4 exit $r4, IPv6 exit $r6)" \
	sh -c "[ $r4 = 0 ] && [ $r6 = 0 ] && cmp -s '$W/4m' '$W/d4.back' && cmp -s '$W/4m' '$W/d6.back'"
check "synack ss showed both at once: $SADDR:7 and [$SADDR6]:7 ESTAB" test "$est" = 0
check "TcpPassiveOpens = 2 on the one listener" test "$(nstat_get TcpPassiveOpens)" = 2
serve_stop

echo "== 64 MiB both ways over IPv6, offloads on (the default)"
serve6_start echo
t0=$(date +%s%N)
X timeout 120 "$W/peer" client $SADDR6 7 echo "$W/64m" "$W/64m.back"
t1=$(date +%s%N)
check "kernel -> synack echo 64 MiB over IPv6: same sha256 ($(rate $((t1 - t0))) each way)" same "$W/64m" "$W/64m.back"
rm -f "$W/64m.back"
serve_stop
big=$(tcp_lengths "$SCAP" "ip6 and tcp and src $SADDR6" | max_of)
check "with offloads synack's IPv6 segments went out larger than the MSS (GSO TCPV6: largest ${big:-none} > 1440)" \
	test "${big:-0}" -gt 1440
bigk=$(tcp_lengths "$SCAP" "ip6 and tcp and src $KADDR6" | max_of)
check "and the kernel's reached synack whole (largest ${bigk:-none} > 1440)" test "${bigk:-0}" -gt 1440
peer_server 5001 echo
t0=$(date +%s%N)
connect6_run echo64m --send "$W/64m" --recv "$W/c64m.back" "[$KADDR6]:5001"
t1=$(date +%s%N)
wait_pid "$PEER_PID" 10
check "synack connect [$KADDR6]:5001 echo 64 MiB: exit $CRC, same sha256 ($(rate $((t1 - t0))) each way)" \
	sh -c "[ $CRC = 0 ] && cmp -s $W/64m $W/c64m.back"
rm -f "$W/c64m.back"

echo "== 64 MiB both ways over IPv6, --no-offload"
serve6_start echo --no-offload
X timeout 120 "$W/peer" client $SADDR6 7 echo "$W/64m" "$W/64m.back"
check "kernel -> synack echo 64 MiB over IPv6 without offloads: same sha256" same "$W/64m" "$W/64m.back"
rm -f "$W/64m.back"
serve_stop
big=$(tcp_lengths "$SCAP" "ip6 and tcp" | max_of)
check "without offloads every IPv6 segment fits the MTU (largest payload ${big:-none} = 1500 - 60 - 12 of timestamps)" \
	test "${big:-0}" = 1428
peer_server 5002 echo
connect6_run nooffload --no-offload --send "$W/64m" --recv "$W/c64m.back" "[$KADDR6]:5002"
wait_pid "$PEER_PID" 10
check "synack connect over IPv6 without offloads, echo 64 MiB: exit $CRC, same sha256" \
	sh -c "[ $CRC = 0 ] && cmp -s $W/64m $W/c64m.back"
rm -f "$W/c64m.back"
connect6_run refused --send "$W/1k" "[$KADDR6]:5999"
check "synack connecting to a closed kernel port over IPv6: ECONNREFUSED (exit 4, got $CRC)" test "$CRC" = 4

echo "== Packet Too Big from a kernel router"
# The kernel routes fd00:78::/64 over a veth whose near end has MTU 1280 to a server whose
# end has 1500 (it announces MSS 1440). synack's full-size segments get ICMPv6 Packet Too Big
# (MTU 1280) back and must shrink to an MSS of 1280 - 60 = 1220 bytes (RFC 8201): 1208 of data
# beside the 12 bytes of the timestamp option.
ip netns add "$NSC" && ip link add pmtuA netns "$NS" type veth peer name pmtuC netns "$NSC"
X sysctl -qw net.ipv6.conf.pmtuA.disable_ipv6=0 && X sysctl -qw net.ipv6.conf.all.forwarding=1
X ip addr add fd00:78::1/64 dev pmtuA nodad && X ip link set pmtuA mtu 1280 up
ip -n "$NSC" link set lo up && ip -n "$NSC" addr add fd00:78::2/64 dev pmtuC nodad
ip -n "$NSC" link set pmtuC mtu 1500 up && ip -n "$NSC" -6 route add fd00:77::/64 via fd00:78::1
pmtu_run() { # pmtu_run NAME PORT [connect options]
	local name=$1 port=$2; shift 2
	rm -f "$W/pmtu.got"
	bg_start ip netns exec "$NSC" timeout 60 "$W/peer" server "$port" sink-then-send "$W/pmtu.got" /dev/null \
		>"$W/pmtu-peer.log"
	PP=$LASTPID
	wait_for 5 sh -c "ip netns exec $NSC ss -Htln 'sport = :$port' | grep -q LISTEN"
	connect6_run "$name" "$@" --send "$W/4m" "[fd00:78::2]:$port"
	wait_pid "$PP" 20
}
pmtu_run pmtu-plain 5010 --no-offload
rmss0=$(sed -n 's/^peer: rcv_mss //p' "$W/pmtu-peer.log")
ptb=$(tcpdump -nn -r "$CCAP" 'icmp6 and ip6[40] == 2' 2>/dev/null | grep -c 'packet too big, mtu 1280')
check "4 MiB through a 1280-byte hop without offloads: exit $CRC, byte-exact, ICMPv6 Packet Too Big (mtu 1280) heard ($ptb)" \
	sh -c "[ $CRC = 0 ] && cmp -s $W/4m $W/pmtu.got && [ $ptb -ge 1 ]"
# Segment sizes in synack's capture: 1428 (MSS 1440) before the Packet Too Big, at most 1208
# (MSS 1220) after it.
tcpdump -nn -r "$CCAP" "ip6 and (tcp or icmp6)" 2>/dev/null >"$W/pmtu.txt"
before=$(awk '/packet too big/ { exit } / > fd00:78::2\.[0-9]+:.*length [0-9]+$/ { print $NF }' "$W/pmtu.txt" | max_of)
after=$(awk 'p && / > fd00:78::2\.[0-9]+:.*length [0-9]+$/ { print $NF } /packet too big/ { p = 1 }' "$W/pmtu.txt")
amax=$(echo "$after" | max_of); acount=$(echo "$after" | grep -c '^1208$')
check "synack's segments: ${before:-none} bytes of data before the Packet Too Big, at most ${amax:-none} after ($acount of 1208 = 1280 - 60 - 12; the receiver's rcv_mss ${rmss0:-?})" \
	sh -c "[ '${before:-0}' = 1428 ] && [ '${amax:-0}' = 1208 ] && [ $acount -gt 3400 ] && [ '${rmss0:-0}' = 1208 ]"
pmtu_run pmtu-offload 5011
ptb=$(tcpdump -nn -r "$CCAP" 'icmp6 and ip6[40] == 2' 2>/dev/null | grep -c 'packet too big, mtu 1280')
check "4 MiB through the 1280-byte hop with offloads: exit $CRC, byte-exact, Packet Too Big heard ($ptb)" \
	sh -c "[ $CRC = 0 ] && cmp -s $W/4m $W/pmtu.got && [ $ptb -ge 1 ]"
# synack's capture holds its 64 KB segments before the kernel cut them: the receiving kernel
# says what arrived (its receive-MSS estimate: the largest segment, or GSO size, it got).
rmss=$(sed -n 's/^peer: rcv_mss //p' "$W/pmtu-peer.log")
check "with offloads the kernel's segments from synack carried at most ${rmss:-?} bytes (1208 = MSS 1220 - 12)" \
	test "${rmss:-0}" = 1208
ip netns del "$NSC"
# The kernel, forwarding now, refuses fd00:99::/64: ICMPv6 administratively prohibited is a
# hard error (EACCES, as Linux's icmpv6_err_convert), and connect exits 7.
X ip -6 route add prohibit fd00:99::/64
connect6_run unreach6 --send "$W/1k" "[fd00:99::1]:80"
check "ICMPv6 administratively prohibited from the kernel: exit 7 (got $CRC), EACCES" \
	sh -c "[ $CRC = 7 ] && tail -1 '$W/connect.log' | grep -q 'fd00:99::1\]:80: Permission denied'"

echo "== a device synack creates, with an address of each family for the kernel"
ip netns add "$NS2" && ip -n "$NS2" link set lo up
bg_start ip netns exec "$NS2" timeout 30 "$BIN" serve --tun sn6test0 --addr 10.88.0.2/24 \
	--addr fd00:88::2/64 --app http 2>>"$W/serve.log"
P2=$LASTPID
wait_for 5 sh -c "ip -n $NS2 addr show sn6test0 | grep -q 'inet6 fd00:88::1/64'"
check "the kernel's side got 10.88.0.1/24 and fd00:88::1/64" \
	sh -c "ip -n $NS2 addr show sn6test0 | grep -q 'inet 10.88.0.1/24' && ip -n $NS2 addr show sn6test0 | grep -q 'inet6 fd00:88::1/64'"
out=$(ip netns exec "$NS2" timeout 10 curl -6 -s "http://[fd00:88::2]/" | grep -c synack)
check "curl -6 through it" test "${out:-0}" -ge 1
kill -TERM "$P2"; wait_pid "$P2" 10
check "the device goes away with synack" sh -c "! ip -n $NS2 link show sn6test0 2>/dev/null"
ip -n "$NS2" tuntap add dev sn6off0 mode tun
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.sn6off0.disable_ipv6=1
ip netns exec "$NS2" timeout 10 "$BIN" serve --tun sn6off0 --addr fd00:89::2/64 --app echo 2>"$W/off.log"
rc=$?
check "IPv6 off on the device: exit 3 and one line saying so (exit $rc: $(head -c 120 "$W/off.log"))" \
	sh -c "[ $rc = 3 ] && [ \$(wc -l <'$W/off.log') = 1 ] && grep -q 'disable_ipv6' '$W/off.log'"
ip netns del "$NS2"

echo "== captures (tshark)"
if command -v tshark >/dev/null; then
	for cap in "${CAPS[@]}"; do
		[ -s "$cap" ] || { ko "$(basename "$cap")" "missing capture"; continue; }
		# Payload is random bytes: decode it as data. ICMPv6 errors quote our segments cut
		# short (their TCP checksum cannot match); the kernel may send 0xffff for a zero sum.
		n=$(tshark -n -r "$cap" -d 'tcp.port==1-65535,data' -o tcp.check_checksum:TRUE \
			-Y "_ws.malformed || icmpv6.checksum.status == 0 ||
			(tcp.checksum.status == 0 && !icmpv6 && !(tcp.checksum == 0xffff))" \
			2>"$W/tshark.err" | wc -l)
		grep -v 'Running as user' "$W/tshark.err" | grep -q . && n="$n (tshark: $(head -c 200 "$W/tshark.err"))"
		check "$(basename "$cap"): no malformed packets, no bad checksums" test "$n" = 0
	done
else
	echo "  (tshark not installed: capture check skipped)"
fi

echo "ipv6: $pass passed, $failed failed"
[ "$failed" = 0 ]
