#!/usr/bin/env bash
# The command line's edges (make cli-check; part of make test):
#   1. every usage error is one line on stderr that names the option, and exits 2;
#   2. the TUN device's usual errors say what to do (as root, in namespaces this script makes
#      with unshare, gone when it ends: the host's own network is never touched);
#   3. serve in a PID+network namespace of its own (where it looks like the host's namespace
#      to itself) prints the changes it makes and undoes them on exit;
#   4. connect prints its progress (the SYN, each retry, the time to connect);
#   5. synack top and synack nstat against a running serve in a namespace: connections with
#      cwnd/rtt/bytes, the counters that changed with their rate.
# Parts that need root (or unshare, or /dev/net/tun) are skipped with a line saying so.
set -u
BIN=$(cd "$(dirname "${1:-build/synack}")" && pwd)/$(basename "${1:-build/synack}")
T=$(mktemp -d /tmp/synack-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "cli-check: FAIL: $*"; }

# usage WANT_RC PATTERN CMD...: exits WANT_RC with exactly one line on stderr matching PATTERN
# and nothing on stdout.
usage() {
	local want=$1 pat=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; local rc=$?
	local lines; lines=$(wc -l <"$T/err")
	if [ $rc -ne "$want" ]; then bad "$*: exit $rc, want $want: $(head -c 300 "$T/err")"; return; fi
	if [ "$lines" -ne 1 ]; then bad "$*: $lines lines on stderr, want 1: $(head -c 400 "$T/err")"; return; fi
	grep -q -- "$pat" "$T/err" || { bad "$*: '$(cat "$T/err")' lacks '$pat'"; return; }
	[ ! -s "$T/out" ] || { bad "$*: wrote to stdout: $(head -c 200 "$T/out")"; return; }
	ok
}

G=$(cd "$(dirname "$0")/../render/golden" && pwd)
P=$G/lossy_transfer.pcap

# 1. usage errors: the cases issue 16 lists, then one of each kind per command
usage 2 "synack demo: --loss: bad value '2' (want a probability from 0 to 1)" "$BIN" demo --loss 2
usage 2 "synack demo: --loss needs a value" "$BIN" demo --loss
usage 2 "synack demo: --scenario: no scenario 'x'" "$BIN" demo --scenario x
usage 2 "synack demo: unknown option '--bogus'" "$BIN" demo --bogus
usage 2 "synack demo: --mss: bad value '10' (want 64 to 65495)" "$BIN" demo --mss 10
usage 1 "synack tsg: $T/none.pcap: No such file" "$BIN" tsg "$T/none.pcap"
usage 2 "synack tsg: --dir: 1.2.3.4:5 is neither end" "$BIN" tsg "$P" --dir 1.2.3.4:5
usage 2 "synack tsg: --dir: bad value 'x' (want A.B.C.D:P)" "$BIN" tsg "$P" --dir x
usage 2 "synack tsg: --graph: bad value 'pie'" "$BIN" tsg "$P" --graph pie
usage 2 "synack tsg: --from needs a value" "$BIN" tsg "$P" --from
usage 2 "synack ladder: --from needs a value" "$BIN" ladder "$P" --from
usage 2 "synack ladder: --format: want text, svg, html or jsonl, not 'png'" "$BIN" ladder "$P" --format png
usage 2 "synack ladder: --conn: want A.B.C.D:P-E.F.G.H:P, not 'x'" "$BIN" ladder "$P" --conn x
usage 2 "synack ladder: unknown option '--bogus'" "$BIN" ladder "$P" --bogus
usage 2 "synack report: --max-conns: want a count" "$BIN" report "$P" --max-conns x
usage 2 "synack report: no input file" "$BIN" report
usage 2 "synack fsm: --format: want svg, html or text, not 'png'" "$BIN" fsm "$P" --format png
usage 2 "synack fsm demo: --loss: bad value" "$BIN" fsm demo --loss 7
usage 2 "synack ss: --ctl PATH is required" "$BIN" ss
usage 2 "synack nstat: this option needs a value: '--ctl'" "$BIN" nstat --ctl
usage 2 "synack top: --interval: want seconds from 0.05 to 3600, not '0'" "$BIN" top --ctl x --interval 0
usage 2 "synack top: --ctl PATH is required" "$BIN" top
usage 1 "synack top: --ctl $T/nobody.sock: No such file" "$BIN" top --ctl "$T/nobody.sock" --count 1
usage 2 "synack drill: no SCRIPT" "$BIN" drill
usage 2 "synack: unknown command 'frobnicate'" "$BIN" frobnicate
usage 2 "synack: no command" "$BIN"
mkdir -p "$T/www"
S="$BIN serve --tun t0 --app http"
usage 2 "synack serve: --addr: '10.0.0.2' has no prefix length: write A.B.C.D/NN" $S --addr 10.0.0.2
usage 2 "synack serve: --addr: want A.B.C.D/NN (NN 1 to 31) or IPV6/NN (NN 1 to 127), not '10.0.0.300/24'" $S --addr 10.0.0.300/24
usage 2 "synack serve: --addr: want A.B.C.D/NN (NN 1 to 31) or IPV6/NN (NN 1 to 127), not '10.0.0.2/32'" $S --addr 10.0.0.2/32
usage 2 "synack serve: --addr: want A.B.C.D/NN (NN 1 to 31) or IPV6/NN (NN 1 to 127), not 'fd00::2/128'" $S --addr fd00::2/128
usage 2 "synack serve: --addr: want A.B.C.D/NN (NN 1 to 31) or IPV6/NN (NN 1 to 127), not 'fd00::g/64'" $S --addr fd00::g/64
usage 2 "synack serve: --addr: 'fd00::2' has no prefix length: write A.B.C.D/NN or IPV6/NN (e.g. fd00::2/64)" $S --addr fd00::2
usage 2 "synack serve: --addr: one address of each family at most: '10.0.0.2/24' and '10.0.1.2/24' are both IPv4" $S --addr 10.0.0.2/24 --addr 10.0.1.2/24
usage 2 "synack serve: --addr: at most two (one IPv4, one IPv6), not also 'fd01::2/64'" $S --addr 10.0.0.2/24 --addr fd00::2/64 --addr fd01::2/64
usage 2 "synack serve: --root: not a directory: '$T/missing'" $S --addr 10.0.0.2/24 --root "$T/missing"
usage 2 "synack serve: --root is for --app http only" "$BIN" serve --tun t0 --addr 10.0.0.2/24 --app echo --root "$T/www"
usage 2 "synack serve: --tun: a device name has 1 to 15 characters, 'abcdefghijklmnop' has 16" \
	"$BIN" serve --tun abcdefghijklmnop --addr 10.0.0.2/24 --app echo
usage 2 "synack serve: this option needs a value: '--app'" "$BIN" serve --tun t0 --addr 10.0.0.2/24 --app
usage 2 "synack serve: --app: want echo, discard, chargen or http, not 'ftp'" "$BIN" serve --tun t0 --addr 10.0.0.2/24 --app ftp
usage 2 "synack serve: --port: want 1 to 65535, not '0'" "$BIN" serve --tun t0 --addr 10.0.0.2/24 --app echo --port 0
usage 2 "synack connect: --addr: '10.0.0.2' has no prefix length" "$BIN" connect --tun t0 --addr 10.0.0.2 10.0.0.1:7
usage 2 "synack connect: HOST:PORT: want A.B.C.D:PORT or \[IPV6\]:PORT, not '10.0.0.1'" "$BIN" connect --tun t0 --addr 10.0.0.2/24 10.0.0.1
usage 2 "synack connect: HOST:PORT: want A.B.C.D:PORT or \[IPV6\]:PORT, not 'fd00::1:80'" "$BIN" connect --tun t0 --addr fd00::2/64 fd00::1:80
usage 2 "synack connect: HOST:PORT: want A.B.C.D:PORT or \[IPV6\]:PORT, not '\[10.0.0.1\]:80'" "$BIN" connect --tun t0 --addr 10.0.0.2/24 '[10.0.0.1]:80'
usage 2 "synack connect: HOST:PORT: an IPv6 peer needs an IPv6 --addr; got '10.0.0.2/24'" "$BIN" connect --tun t0 --addr 10.0.0.2/24 '[fd00::1]:80'
usage 2 "synack connect: HOST:PORT: an IPv4 peer needs an IPv4 --addr; got 'fd00::2/64'" "$BIN" connect --tun t0 --addr fd00::2/64 10.0.0.1:80
usage 2 "synack connect: unknown option '--bogus'" "$BIN" connect --bogus

# every subcommand has the same man-style help
for cmd in demo drill serve connect ss nstat top ladder tsg report fsm; do
	"$BIN" $cmd --help >"$T/help" 2>&1 || { bad "$cmd --help exits non-zero"; continue; }
	for sec in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS"; do
		grep -q "^$sec\$" "$T/help" || bad "synack $cmd --help lacks its $sec section"
	done
	ok
done

# man pages: one per subcommand and synack(1), generated from the --help texts, clean roff
"$(dirname "$0")/../../scripts/man.sh" "$BIN" "$T/man" >/dev/null 2>"$T/err" || bad "man.sh: $(cat "$T/err")"
for cmd in demo drill serve connect ss nstat top ladder tsg report fsm; do
	f="$T/man/synack-$cmd.1"
	if [ ! -s "$f" ]; then bad "no man page for $cmd"; continue; fi
	grep -q "^\.SH NAME$" "$f" && grep -qF "synack\\-$cmd \\- " "$f" && grep -q '^\.SH EXIT STATUS$' "$f" && ok ||
		bad "man page of $cmd: $(head -8 "$f")"
	if command -v groff >/dev/null; then
		groff -man -Tutf8 -ww -z "$f" 2>"$T/groff" && [ ! -s "$T/groff" ] && ok || bad "groff warns on $f: $(head -3 "$T/groff")"
	fi
done
[ -s "$T/man/synack.1" ] && grep -qF 'synack\-top(1)' "$T/man/synack.1" && ok || bad "synack.1 lacks its SEE ALSO"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || [ ! -c /dev/net/tun ]; then
	echo "cli-check: not root (or no unshare, or no /dev/net/tun): TUN, serve, connect and top checks skipped"
	echo "cli-check: $pass passed, $fail failed"
	[ $fail -eq 0 ]; exit
fi

# 2. TUN errors say what to do (each in a network namespace of its own)
NS="unshare -n"
tun_err() { # tun_err NAME WANT_PATTERN CMD...
	local name=$1 pat=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; local rc=$?
	[ $rc -eq 3 ] && grep -q -- "$pat" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && ok ||
		bad "$name: exit $rc, want 3 and '$pat': $(cat "$T/err")"
}
tun_err "TUN without CAP_NET_ADMIN" "run as root, or give the program CAP_NET_ADMIN" \
	$NS setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
	"$BIN" serve --tun tun0 --addr 10.77.0.2/24 --app echo
tun_err "a device that is not TUN" "the name is not a TUN device's" \
	$NS "$BIN" serve --tun lo --addr 10.77.0.2/24 --app echo
cat >"$T/busy.sh" <<EOF
"$BIN" serve --tun tun0 --addr 10.77.0.2/24 --app echo --ctl "$T/busy.sock" 2>/dev/null &
for i in \$(seq 100); do [ -S "$T/busy.sock" ] && break; sleep 0.05; done
"$BIN" serve --tun tun0 --addr 10.77.0.3/24 --app echo; rc=\$?
kill %1; wait; exit \$rc
EOF
tun_err "a device another synack holds" "another process holds the device" $NS bash "$T/busy.sh"

# 3. in what looks like the host's own namespace (PID 1 shares it), changes are announced and
# undone: a device created goes away; an address given to a device that stays is removed.
cat >"$T/host.sh" <<EOF
ip tuntap add dev keep0 mode tun
"$BIN" serve --tun new0 --addr 10.77.0.2/24 --app echo --ctl "$T/h1.sock" 2>"$T/new.err" &
for i in \$(seq 100); do [ -S "$T/h1.sock" ] && break; sleep 0.05; done
ip -o addr show dev new0 >"$T/new.during" 2>&1
kill -TERM %1; wait %1
ip link show new0 >"$T/new.after" 2>&1
"$BIN" serve --tun keep0 --addr 10.78.0.2/24 --addr fd00:78::2/64 --app echo --ctl "$T/h2.sock" 2>"$T/keep.err" &
for i in \$(seq 100); do [ -S "$T/h2.sock" ] && break; sleep 0.05; done
ip -o addr show dev keep0 >"$T/keep.during" 2>&1
kill -TERM %1; wait %1
ip -o addr show dev keep0 >"$T/keep.after" 2>&1
EOF
unshare -n -p -f --mount-proc bash "$T/host.sh"
grep -q "synack serve: changing this host's network (not a namespace made for synack): created TUN device new0; gave the kernel's side of new0 10.77.0.1/24" "$T/new.err" &&
	grep -q "10.77.0.1/24" "$T/new.during" && grep -q "synack serve: TUN device new0 removed" "$T/new.err" &&
	grep -q "does not exist" "$T/new.after" && ok || bad "announce a created device: $(cat "$T/new.err" "$T/new.after")"
grep -q "gave the kernel's side of keep0 10.78.0.1/24 and fd00:78::1/64" "$T/keep.err" && ! grep -q "created TUN" "$T/keep.err" &&
	grep -q "10.78.0.1/24" "$T/keep.during" && grep -q "inet6 fd00:78::1/64" "$T/keep.during" &&
	grep -q "synack serve: removed 10.78.0.1/24 and fd00:78::1/64 from keep0" "$T/keep.err" &&
	! grep -q "inet " "$T/keep.after" && ! grep -q "fd00:78::1" "$T/keep.after" && ok ||
	bad "undo the addresses on a kept device: $(cat "$T/keep.err" "$T/keep.during" "$T/keep.after")"
# ... and in a namespace made for it (scripts/netns, unshare -n), nothing is said.
$NS bash -c "\"$BIN\" serve --tun tun0 --addr 10.77.0.2/24 --app echo --ctl $T/q.sock 2>$T/quiet.err &
	for i in \$(seq 100); do [ -S $T/q.sock ] && break; sleep 0.05; done; kill -TERM %1; wait %1"
grep -q "changing this host" "$T/quiet.err" && bad "announced inside a namespace: $(cat "$T/quiet.err")" || ok

# 4. connect's progress: a SYN nobody answers (10.79.0.9 is routed to the device, the kernel
# does not forward), then a refused one (the kernel's side answers with a RST)
$NS timeout --preserve-status -s INT 5 "$BIN" connect --tun tun0 --addr 10.79.0.2/24 10.79.0.9:9 2>"$T/c1.err"; rc=$?
[ $rc -eq 8 ] && grep -q "^synack connect: SYN to 10.79.0.9:9$" "$T/c1.err" &&
	grep -qE "^synack connect: no answer after [0-9]+\.[0-9] s: SYN retry 1$" "$T/c1.err" &&
	grep -qE "^synack connect: no answer after [0-9]+\.[0-9] s: SYN retry 2$" "$T/c1.err" && ok ||
	bad "connect progress (rc $rc): $(cat "$T/c1.err")"
$NS "$BIN" connect --tun tun0 --addr 10.79.0.2/24 10.79.0.1:9 2>"$T/c2.err"; rc=$?
[ $rc -eq 4 ] && grep -q "SYN to 10.79.0.1:9" "$T/c2.err" && grep -q "Connection refused" "$T/c2.err" && ok ||
	bad "connect refused (rc $rc): $(cat "$T/c2.err")"
$NS "$BIN" connect --quiet --tun tun0 --addr 10.79.0.2/24 10.79.0.1:9 2>"$T/c3.err"
[ "$(wc -l <"$T/c3.err")" -eq 1 ] && ok || bad "connect --quiet: $(cat "$T/c3.err")"

# 5. top and nstat against a running serve: one connection open, data sent between refreshes
cat >"$T/top.sh" <<EOF
"$BIN" serve --tun tun0 --addr 10.77.0.2/24 --app echo --ctl "$T/ctl.sock" 2>"$T/serve.err" &
for i in \$(seq 100); do [ -S "$T/ctl.sock" ] && break; sleep 0.05; done
exec 3<>/dev/tcp/10.77.0.2/7
printf hello >&3; IFS= read -r -t 5 -N 5 a <&3
"$BIN" nstat --ctl "$T/ctl.sock" >"$T/nstat1"
"$BIN" top --ctl "$T/ctl.sock" --count 3 --interval 0.3 >"$T/top.out" 2>"$T/top.err" &
for i in \$(seq 200); do grep -q "first refresh" "$T/top.out" 2>/dev/null && break; sleep 0.05; done
printf world >&3; IFS= read -r -t 5 -N 5 b <&3
"$BIN" nstat --ctl "$T/ctl.sock" >"$T/nstat2"
wait %2; echo "top \$?" >"$T/top.rc"
exec 3>&-
kill -TERM %1; wait %1
EOF
$NS bash "$T/top.sh"
[ "$(cat "$T/top.rc" 2>/dev/null)" = "top 0" ] && [ "$(grep -c '^------' "$T/top.out")" -eq 3 ] &&
	grep -qE '^ESTAB +0 +0 +10\.77\.0\.2:7 +10\.77\.0\.1:[0-9]+' "$T/top.out" &&
	grep -q 'cwnd:[0-9]* .* retrans:0/0 bytes_acked:' "$T/top.out" &&
	grep -q 'bytes_received:10$' "$T/top.out" &&
	grep -qE '^  TcpPassiveOpens +1$' "$T/top.out" &&
	grep -qE '^  TcpInSegs +\+[1-9][0-9]* +[0-9.]+/s   \(total [0-9]+\)$' "$T/top.out" && ok ||
	bad "top: $(cat "$T/top.out" "$T/top.err")"
grep -qE '^TcpInSegs +[0-9]+ +[0-9]+\.[0-9]$' "$T/nstat2" &&
	! grep -qE '^TcpInSegs +[0-9]+ +0\.0$' "$T/nstat2" && ok ||
	bad "nstat: segments arrived since the previous nstat, yet TcpInSegs's rate is 0.0: $(cat "$T/nstat2")"

echo "cli-check: $pass passed, $fail failed"
[ $fail -eq 0 ]
