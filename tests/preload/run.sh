#!/usr/bin/env bash
# Unmodified programs over synack (`synack run`, the LD_PRELOAD layer) against the Linux
# kernel's TCP, over TUN in a network namespace created here and removed on exit.
# Usage: tests/preload/run.sh [path/to/synack]   (SYNACK_PRELOAD_ONLY="curl nc" runs a subset;
# RUN_PRELOAD=libs is put in LD_PRELOAD of `synack run` only: the sanitizer runtimes)
# Every program runs under timeout(1); the whole suite takes about two minutes.
set -u
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-preload.XXXXXX)
chmod 755 "$W"
NS=synack-preload-$$
. tests/interop/lib.sh
KADDR6=fd00:77::1   # the kernel's IPv6 address on tun0
SADDR6=fd00:77::2   # synack's (given with RUN_ADDRS="--addr $SADDR/24 --addr $SADDR6/64")
RUN_ADDRS="--addr $SADDR/24"

cleanup() {
	kill_bg
	scripts/netns down "$NS"
	[ -n "${SYNACK_PRELOAD_KEEP:-}" ] && echo "preload: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [ -z "${SYNACK_PRELOAD_ONLY:-}" ] || [[ " $SYNACK_PRELOAD_ONLY " == *" $1 "* ]]; }
have() { # have TOOL...: all installed, or one line saying what is skipped
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "  skip  $t is not installed (scripts/deps.sh installs it as root)"; return 1; }
	done
}

# run_bg NAME ARGS...: a program under synack in the background, with a capture and a control
# socket; waits until the control socket answers (the stack has started) or 10 s.
run_bg() {
	local name=$1; shift
	RCAP="$W/$name.pcap"; RCTL="$W/$name.sock"
	bg_start ip netns exec "$NS" timeout 120 env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 $RUN_ADDRS \
		--pcap "$RCAP" --ctl "$RCTL" -- "$@" >"$W/$name.out" 2>"$W/$name.err"
	RUN_PID=$LASTPID
}
# run_fg NAME SECONDS ARGS...: a program under synack in the foreground; sets RC.
run_fg() {
	local name=$1 secs=$2; shift 2
	RCAP="$W/$name.pcap"
	X timeout "$secs" env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 $RUN_ADDRS --pcap "$RCAP" -- "$@" \
		>"$W/$name.out" 2>"$W/$name.err"
	RC=$?
}
listening() { X ss -Htln "sport = :$1" | grep -q LISTEN; }
synack_listening() { "$BIN" ss --ctl "$RCTL" 2>/dev/null | grep -q "LISTEN.*:$1 "; }
# The capture holds a SYN from synack's address: the traffic went through synack.
syn_from_synack() {
	tcpdump -nr "$1" "src host $SADDR and tcp[tcpflags] & tcp-syn != 0" 2>/dev/null | grep -q .
}
passive_opens() { "$BIN" nstat --ctl "$RCTL" | awk '$1 == "TcpPassiveOpens" { v = $2 } END { print v + 0 }'; }
stop_bg() { kill -TERM "$1" 2>/dev/null; wait_pid "$1" 10; }

for tool in ss sha256sum timeout tcpdump; do
	command -v $tool >/dev/null || { echo "preload: skipped (no $tool)"; exit 0; }
done
[ -f "${SYNACK_PRELOAD:-$(dirname "$BIN")/libsynack-preload.so}" ] ||
	{ echo "preload: no libsynack-preload.so beside $BIN"; exit 1; }
if ! ip netns add "$NS-probe" 2>/dev/null; then
	echo "preload: skipped (root, but cannot create a network namespace here)"; exit 0
fi
ip netns del "$NS-probe"
scripts/netns up "$NS" tun0 "$KADDR/24" "$KADDR6/64" || exit 1
X sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 # ::1, for the IPv6 loopback checks
# 1,000 connections opening at once overflow the default queue of 500 frames toward synack.
X ip link set tun0 txqueuelen 10000

mkdir -p "$W/www"
head -c $((4 << 20)) /dev/urandom >"$W/www/4m.bin"
head -c $((1 << 20)) /dev/urandom >"$W/1m"
echo "hello over synack" >"$W/www/hello.txt"

if want run; then
	echo "== synack run itself: arguments, --gw, one process per device"
	"$BIN" run --tun tun0 --addr "$SADDR/24" >/dev/null 2>"$W/run-usage.err"
	check "no command: exit 2 and a usage line" sh -c "[ $? = 2 ] && grep -q 'no command' $W/run-usage.err"
	"$BIN" run --tun tun0 --addr 10.77.0.300/24 -- true 2>"$W/run-usage.err"
	check "bad --addr: exit 2 naming it" sh -c "[ $? = 2 ] && grep -q -- '--addr: want' $W/run-usage.err"
	"$BIN" run --tun tun0 --addr "$SADDR/24" -- /nonexistent/prog 2>/dev/null
	check "a command that does not exist: exit 127" test $? = 127
	X timeout 20 env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 --addr "$SADDR/24" --gw 10.77.0.9 -- \
		python3 -c 'import socket; socket.socket()' >/dev/null 2>"$W/run-gw.err"
	check "--gw that is not the kernel's address: socket() fails with EACCES and says why" \
		sh -c "grep -q 'SYNACK_GW is not the kernel' $W/run-gw.err && grep -q PermissionError $W/run-gw.err"
	X timeout 20 env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 --addr "$SADDR/24" --gw $KADDR -- \
		python3 -c 'import socket; socket.socket()' >/dev/null 2>"$W/run-gw.err"
	check "--gw $KADDR (the kernel's address): accepted" test $? = 0
	# The parent starts the stack; an exec'd child that opens a TCP socket cannot take the
	# device: a message and EACCES, not a hang.
	cat >"$W/execchild.py" <<'PY'
import socket, subprocess, sys
s = socket.socket()
r = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"], capture_output=True, text=True, timeout=20)
print("child-rc", r.returncode)
print(r.stderr)
PY
	X timeout 30 env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 --addr "$SADDR/24" -- python3 "$W/execchild.py" >"$W/execchild.out" 2>&1
	check "an exec'd child while the parent holds the device: EACCES and a message naming the cause" \
		sh -c "grep -q 'child-rc 1' $W/execchild.out && grep -q 'another process holds it' $W/execchild.out && grep -q PermissionError $W/execchild.out"
fi

if want probe; then
	echo "== the promised behaviour, through the ordinary calls (tests/preload/probe.c)"
	${CC:-cc} -O2 -Wall -o "$W/probe" tests/preload/probe.c || { echo "preload: cannot build probe"; exit 1; }
	bg_start ip netns exec "$NS" timeout 60 socat TCP-LISTEN:9100,bind=$KADDR,reuseaddr,fork EXEC:cat
	KE=$LASTPID
	wait_for 10 listening 9100
	run_fg probe 30 "$W/probe" $KADDR 9100 9101
	while read -r st name; do
		if [ "$st" = ok ]; then ok "$name"; else ko "${name%%: *}" "${name#*: }"; fi
	done < <(sed 's/^FAIL /FAIL /' "$W/probe.out")
	check "probe exits 0" test $RC = 0
	check "the forked child's calls printed the fork message" grep -q "a forked child cannot use" "$W/probe.err"
	stop_bg $KE
fi

if want stress; then
	# Under the sanitizers every call is several times slower: fewer rounds keep the run well
	# inside its bound on a loaded machine (4 x 500 ran out of its 120 s once at load 12).
	# KNOWN: one round in about 10,000 has failed ("Operation now in progress" after a
	# blocking connect's round), not yet explained; SYNACK_STRESS_ROUNDS=2500 hunts it.
	rounds=${SYNACK_STRESS_ROUNDS:-250}; [ -n "${SYNACK_PRELOAD_SAN_CHECK:-}" ] && rounds=200
	echo "== stress: 4 threads x $rounds connections, blocking and not, close racing a blocked recv"
	${CC:-cc} -O2 -Wall -pthread -o "$W/stress" tests/preload/stress.c || { echo "preload: cannot build stress"; exit 1; }
	bg_start ip netns exec "$NS" timeout 120 "$W/stress" server 9200
	KST=$LASTPID
	wait_for 10 listening 9200
	run_fg stress 120 "$W/stress" client $KADDR 9200 4 $rounds
	check "stress: $(cat "$W/stress.out") (exit $RC)" test $RC = 0
	check "stress: nothing on stderr but what the program printed" sh -c "! grep -v '^thread' $W/stress.err | grep -q ."
	stop_bg $KST
fi

if [ -n "${RUN_PRELOAD:-}" ] && want curl; then
	# `LD_PRELOAD=libasan.so curl ...` hangs in setlocale() without synack anywhere near it.
	echo "  skip  curl as a synack client under ASan: curl hangs with libasan preloaded, synack or not"
elif want curl && have curl python3; then
	echo "== curl (synack client) <- python3 http.server (kernel)"
	bg_start ip netns exec "$NS" timeout 60 python3 -m http.server 8000 --bind $KADDR \
		--directory "$W/www" >"$W/khttp.log" 2>&1
	KHTTP=$LASTPID
	wait_for 10 listening 8000
	run_fg curl 30 curl -sS -o "$W/curl.4m" http://$KADDR:8000/4m.bin
	check "curl exits 0" test $RC = 0
	check "curl: 4 MiB byte-exact" same "$W/www/4m.bin" "$W/curl.4m"
	check "curl: the capture shows synack's SYN (the traffic went through synack)" syn_from_synack "$RCAP"
	run_fg curl-refused 30 curl -sS http://$KADDR:8001/
	check "curl to a closed port: exit 7 (couldn't connect: ECONNREFUSED)" test $RC = 7
	# --trace: the stack's events as JSON lines, drawn by synack ladder --trace.
	X timeout 30 env ${RUN_PRELOAD:+LD_PRELOAD=$RUN_PRELOAD} "$BIN" run --tun tun0 --addr "$SADDR/24" --trace "$W/curl.jsonl" -- \
		curl -sS -o "$W/curl.hello" http://$KADDR:8000/hello.txt 2>"$W/curl-trace.err"
	"$BIN" ladder --trace "$W/curl.jsonl" >"$W/curl.ladder" 2>&1
	check "synack ladder --trace draws curl's connection (SYN-SENT, ESTABLISHED, a FIN, TIME-WAIT or CLOSED)" \
		sh -c "grep -q SYN-SENT $W/curl.ladder && grep -q ESTABLISHED $W/curl.ladder && grep -qE ' FP?\\. ' $W/curl.ladder && grep -qE 'TIME-WAIT|CLOSED' $W/curl.ladder"
	stop_bg $KHTTP
	# Loopback stays the kernel's: a server on 127.0.0.1 inside the namespace answers.
	bg_start ip netns exec "$NS" timeout 60 python3 -m http.server 8003 --bind 127.0.0.1 \
		--directory "$W/www" >"$W/klo.log" 2>&1
	KLO=$LASTPID
	wait_for 10 listening 8003
	run_fg curl-loop 30 curl -sS -o "$W/curl.lo" http://127.0.0.1:8003/hello.txt
	check "curl to 127.0.0.1 reaches the kernel's loopback server (socket moved to the kernel)" \
		same "$W/www/hello.txt" "$W/curl.lo"
	check "...and nothing of it went through synack (the capture is empty or absent)" \
		sh -c "[ ! -s $RCAP ] || ! tcpdump -nr $RCAP 2>/dev/null | grep -q ."
	stop_bg $KLO
fi

if want http.server && have curl python3; then
	echo "== python3 -m http.server (synack server) <- curl (kernel)"
	run_bg httpd python3 -m http.server 8000 --directory "$W/www"
	wait_for 10 synack_listening 8000
	check "http.server listens on synack (synack ss)" synack_listening 8000
	X timeout 30 curl -sS -o "$W/httpd.4m" http://$SADDR:8000/4m.bin
	check "kernel curl: 4 MiB byte-exact from http.server over synack" same "$W/www/4m.bin" "$W/httpd.4m"
	X timeout 30 curl -sS -o "$W/httpd.hello" http://$SADDR:8000/hello.txt
	check "kernel curl: a second request" same "$W/www/hello.txt" "$W/httpd.hello"
	# Whether http.server or curl closes first is a race (under the sanitizers curl often
	# wins, and synack's side ends in LAST-ACK, not TIME-WAIT): an idle kernel connection
	# held open gives the table a row that is there for sure.
	bg_start ip netns exec "$NS" timeout 30 python3 -c "import socket, time
a = socket.create_connection(('$SADDR', 8000)); time.sleep(25)"
	HOLD=$LASTPID
	held_row() { "$BIN" ss --ctl "$RCTL" >"$W/httpd.ss" 2>&1 && grep -q "ESTAB.*$SADDR:8000 *$KADDR:" "$W/httpd.ss"; }
	wait_for 10 held_row
	check "synack ss lists the listener (0.0.0.0:8000) and a connection on it" \
		sh -c "grep -q 'LISTEN.*0.0.0.0:8000' $W/httpd.ss && grep -q 'ESTAB.*$SADDR:8000 *$KADDR:' $W/httpd.ss"
	stop_bg $HOLD
	check "synack nstat: 2 passive opens" test "$(passive_opens)" -ge 2
	stop_bg $RUN_PID
	check "the stack is gone with the program (no TUN left held)" sh -c "! kill -0 $RUN_PID 2>/dev/null"
fi

if want nc && have nc; then
	echo "== nc both ways"
	run_bg nc-server nc -l 9000
	wait_for 10 synack_listening 9000
	X timeout 30 nc -N $SADDR 9000 <"$W/1m"
	wait_pid $RUN_PID 20
	check "nc -l under synack received 1 MiB byte-exact from the kernel's nc" same "$W/1m" "$W/nc-server.out"
	bg_start ip netns exec "$NS" timeout 30 sh -c "nc -l $KADDR 9001 >$W/nc-k.out"
	KNC=$LASTPID
	wait_for 10 listening 9001
	run_fg nc-client 30 sh -c "nc -N $KADDR 9001 <$W/1m"
	wait_pid $KNC 20
	check "nc under synack sent 1 MiB byte-exact to the kernel's nc -l" same "$W/1m" "$W/nc-k.out"
	check "nc client: the capture shows synack's SYN" syn_from_synack "$RCAP"
fi

if want socat && have socat; then
	echo "== socat both ways"
	run_bg socat-server socat -u TCP-LISTEN:9002,reuseaddr "CREATE:$W/socat-s.out"
	wait_for 10 synack_listening 9002
	X timeout 30 socat -u "FILE:$W/1m" TCP:$SADDR:9002
	wait_pid $RUN_PID 20
	check "socat TCP-LISTEN under synack received 1 MiB byte-exact" same "$W/1m" "$W/socat-s.out"
	bg_start ip netns exec "$NS" timeout 30 socat -u TCP-LISTEN:9003,bind=$KADDR,reuseaddr "CREATE:$W/socat-k.out"
	KS=$LASTPID
	wait_for 10 listening 9003
	run_fg socat-client 30 socat -u "FILE:$W/1m" TCP:$KADDR:9003
	wait_pid $KS 20
	check "socat under synack sent 1 MiB byte-exact to the kernel's socat" same "$W/1m" "$W/socat-k.out"
	# Both directions at once through one connection: socat relays stdin and the socket.
	bg_start ip netns exec "$NS" timeout 30 socat TCP-LISTEN:9004,bind=$KADDR,reuseaddr EXEC:cat
	KS=$LASTPID
	wait_for 10 listening 9004
	run_fg socat-echo 30 socat -t 5 - TCP:$KADDR:9004 <"$W/1m"
	check "socat under synack: 1 MiB echoed back by the kernel's socat, byte-exact" same "$W/1m" "$W/socat-echo.out"
	stop_bg $KS
fi

if want redis && have redis-server redis-benchmark redis-cli; then
	echo "== redis-server (synack) <- redis-benchmark (kernel)"
	run_bg redis redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no \
		--protected-mode no --dir "$W"
	wait_for 10 synack_listening 6379
	val=$(head -c 3000 /dev/urandom | base64 -w0)
	X timeout 10 redis-cli -h $SADDR SET k "$val" >/dev/null
	check "redis-cli SET then GET: 4 KiB value byte-exact" \
		test "$(X timeout 10 redis-cli -h $SADDR GET k)" = "$val"
	X timeout 60 redis-benchmark -h $SADDR -n 20000 -c 50 -q -t set,get >"$W/redis-bench.txt" 2>&1
	check "redis-benchmark: SET and GET complete ($(tr '\r' '\n' <"$W/redis-bench.txt" | grep -E '^(SET|GET): [0-9.]+ requests' | sed 's/ requests per second.*/ rps/' | tr '\n' ' '))" \
		sh -c "tr '\r' '\n' <$W/redis-bench.txt | grep -q '^SET: .*requests per second' && tr '\r' '\n' <$W/redis-bench.txt | grep -q '^GET: .*requests per second'"
	check "synack nstat: redis took at least 50 connections" test "$(passive_opens)" -ge 50
	stop_bg $RUN_PID
fi

if want nginx && have nginx wrk curl; then
	echo "== nginx (synack, epoll, one process) <- wrk with 1,000 connections (kernel)"
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
	sendfile on;
	keepalive_requests 100000;
	client_body_temp_path $W; proxy_temp_path $W; fastcgi_temp_path $W;
	uwsgi_temp_path $W; scgi_temp_path $W;
	server { listen 8080 backlog=4096; root $W/www; }
}
EOF
	run_bg nginx sh -c "ulimit -n 8192; exec nginx -c $W/nginx.conf -e $W/nginx-error.log"
	wait_for 10 synack_listening 8080
	check "nginx listens on synack" synack_listening 8080
	X timeout 30 curl -sS -o "$W/nginx.4m" http://$SADDR:8080/4m.bin
	check "kernel curl: 4 MiB byte-exact from nginx (sendfile) over synack" same "$W/www/4m.bin" "$W/nginx.4m"
	X sh -c "ulimit -n 8192; timeout 60 wrk -t 2 -c 1000 -d 5s http://$SADDR:8080/hello.txt" >"$W/wrk.txt" 2>&1
	reqs=$(awk '/requests in/ { print $1 }' "$W/wrk.txt")
	errs=$(grep -o 'Socket errors:.*' "$W/wrk.txt" || echo "Socket errors: none")
	check "wrk -c 1000 against nginx: ${reqs:-0} requests; $errs" test "${reqs:-0}" -gt 0
	check "wrk: no connect errors" sh -c "! grep -q 'connect [1-9]' $W/wrk.txt"
	"$BIN" nstat --ctl "$RCTL" >"$W/nginx-nstat.txt"
	check "synack nstat: 1,000 connections accepted" test "$(passive_opens)" -ge 1000
	stop_bg $RUN_PID
fi

if want iperf3 && have iperf3; then
	echo "== iperf3 both ways"
	run_bg iperf3-server iperf3 -s -4 -p 5201 -1
	wait_for 10 synack_listening 5201
	X timeout 30 iperf3 -c $SADDR -p 5201 -t 2 -J >"$W/iperf-up.json" 2>&1
	check "iperf3 client (kernel) -> server (synack): $(python3 -c "import json,sys; print('%.0f Mbit/s' % (json.load(open(sys.argv[1]))['end']['sum_received']['bits_per_second']/1e6))" "$W/iperf-up.json" 2>/dev/null)" \
		python3 -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['end']['sum_received']['bytes'] > 0 else 1)" "$W/iperf-up.json"
	wait_pid $RUN_PID 10
	bg_start ip netns exec "$NS" timeout 60 iperf3 -s -B $KADDR -p 5202 -1 >"$W/kiperf.log" 2>&1
	KI=$LASTPID
	wait_for 10 listening 5202
	run_fg iperf3-client 30 iperf3 -c $KADDR -p 5202 -t 2 -R -J
	check "iperf3 client (synack) <- server (kernel), -R: $(python3 -c "import json,sys; print('%.0f Mbit/s' % (json.load(open(sys.argv[1]))['end']['sum_received']['bits_per_second']/1e6))" "$W/iperf3-client.out" 2>/dev/null)" \
		python3 -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['end']['sum_received']['bytes'] > 0 else 1)" "$W/iperf3-client.out"
	check "iperf3 client: the capture shows synack's SYN" syn_from_synack "$RCAP"
	stop_bg $KI
fi

if want ipv6; then
	echo "== IPv6: synack run --addr $SADDR/24 --addr $SADDR6/64 (AF_INET6 sockets on synack)"
	RUN_ADDRS="--addr $SADDR/24 --addr $SADDR6/64"
	# synack's SYN from its IPv6 address in a capture (tcpdump's tcp[] does not reach IPv6).
	syn6_from_synack() { tcpdump -nr "$1" ip6 2>/dev/null | grep -qE "^[0-9:.]+ IP6 $SADDR6\.[0-9]+ > .*Flags \[S\]"; }
	"$BIN" run --tun tun0 --addr "$SADDR6/64" --addr fd00:99::2/64 -- true 2>"$W/run6-usage.err"
	check "two IPv6 --addr: exit 2, one line naming --addr" \
		sh -c "[ $? = 2 ] && grep -q -- '--addr: one address of each family' $W/run6-usage.err"
	bg_start ip netns exec "$NS" timeout 60 socat TCP6-LISTEN:9110,reuseaddr,fork EXEC:cat
	KE6=$LASTPID
	wait_for 10 listening 9110
	run_fg probe6 60 python3 tests/preload/probe6.py $KADDR $KADDR6 $SADDR6 9110 9111
	while read -r st name; do
		if [ "$st" = ok ]; then ok "probe6: $name"; else ko "probe6: ${name%%: *}" "${name#*: }"; fi
	done <"$W/probe6.out"
	check "probe6 exits 0" test $RC = 0
	stop_bg $KE6

	if [ -z "${RUN_PRELOAD:-}" ] && have curl python3; then
		bg_start ip netns exec "$NS" timeout 60 python3 -m http.server 8010 --bind $KADDR6 \
			--directory "$W/www" >"$W/khttp6.log" 2>&1
		KH6=$LASTPID
		wait_for 10 listening 8010
		run_fg curl6 30 curl -6 -sS -o "$W/curl6.4m" "http://[$KADDR6]:8010/4m.bin"
		check "curl -6 under synack exits 0" test $RC = 0
		check "curl -6: 4 MiB byte-exact from the kernel's http.server over IPv6" same "$W/www/4m.bin" "$W/curl6.4m"
		check "curl -6: the capture shows synack's SYN from $SADDR6" syn6_from_synack "$RCAP"
		stop_bg $KH6
		bg_start ip netns exec "$NS" timeout 60 python3 -m http.server 8013 --bind ::1 \
			--directory "$W/www" >"$W/klo6.log" 2>&1
		KLO6=$LASTPID
		wait_for 10 listening 8013
		run_fg curl6-loop 30 curl -6 -sS -o "$W/curl6.lo" "http://[::1]:8013/hello.txt"
		check "curl -6 to [::1] reaches the kernel's loopback server (socket moved to the kernel)" \
			same "$W/www/hello.txt" "$W/curl6.lo"
		check "...and nothing of it went through synack" \
			sh -c "[ ! -s $RCAP ] || ! tcpdump -nr $RCAP 2>/dev/null | grep -q ."
		stop_bg $KLO6
	elif [ -n "${RUN_PRELOAD:-}" ]; then
		echo "  skip  curl -6 as a synack client under ASan: curl hangs with libasan preloaded"
	fi

	if have curl python3; then
		run_bg httpd6 python3 -m http.server 8011 --bind :: --directory "$W/www"
		wait_for 10 synack_listening 8011
		X timeout 30 curl -6 -sS -o "$W/httpd6.v6" "http://[$SADDR6]:8011/4m.bin"
		check "http.server --bind :: over synack: kernel curl -6 gets 4 MiB byte-exact" same "$W/www/4m.bin" "$W/httpd6.v6"
		X timeout 30 curl -4 -sS -o "$W/httpd6.v4" "http://$SADDR:8011/4m.bin"
		check "...and kernel curl -4 gets 4 MiB byte-exact from the same dual-stack listener" same "$W/www/4m.bin" "$W/httpd6.v4"
		check "...which logged its IPv4 client as ::ffff:$KADDR, as on Linux" grep -q "^::ffff:$KADDR - " "$W/httpd6.err"
		check "...and its IPv6 client as $KADDR6" grep -q "^$KADDR6 - " "$W/httpd6.err"
		# Two idle kernel connections, one of each family, held open while ss reads the table.
		bg_start ip netns exec "$NS" timeout 30 python3 -c "import socket, time
a = socket.create_connection(('$SADDR6', 8011)); b = socket.create_connection(('$SADDR', 8011)); time.sleep(25)"
		HOLD=$LASTPID
		both_rows() {
			"$BIN" ss --ctl "$RCTL" >"$W/httpd6.ss" 2>&1 &&
				grep -q "ESTAB.*\[$SADDR6\]:8011 *\[$KADDR6\]:" "$W/httpd6.ss" &&
				grep -q "ESTAB.*$SADDR:8011 *$KADDR:" "$W/httpd6.ss"
		}
		wait_for 10 both_rows
		check "synack ss: the dual-stack listener (*:8011) and an ESTAB row of each family on it" \
			sh -c "grep -q 'LISTEN.*\*:8011' $W/httpd6.ss && grep -q 'ESTAB.*\[$SADDR6\]:8011' $W/httpd6.ss && grep -q 'ESTAB.*$SADDR:8011' $W/httpd6.ss"
		check "the capture shows synack's SYN-ACKs from $SADDR6 and $SADDR" \
			sh -c "tcpdump -nr $RCAP 2>/dev/null | grep -qE 'IP6 $SADDR6\.8011 > .*Flags \[S\.\]' && tcpdump -nr $RCAP 2>/dev/null | grep -qE 'IP $SADDR\.8011 > .*Flags \[S\.\]'"
		stop_bg $HOLD
		stop_bg $RUN_PID
	fi

	RUN_ADDRS="--addr $SADDR6/64" # IPv6 only: AF_INET sockets stay the kernel's
	run_fg v6only-cfg 30 python3 -c "import errno, socket
s = socket.socket(socket.AF_INET6)
try:
    s.connect(('::ffff:$KADDR', 9))
except OSError as e:
    print(errno.errorcode[e.errno])
s4 = socket.socket()
try:
    s4.connect(('$KADDR', 9))
except OSError as e:
    print(errno.errorcode[e.errno])"
	check "IPv6 --addr only: a v4-mapped destination is ENETUNREACH; an AF_INET socket is the kernel's (ECONNREFUSED, nothing in synack's capture)" \
		sh -c "[ \"\$(tr '\\n' ' ' <$W/v6only-cfg.out)\" = 'ENETUNREACH ECONNREFUSED ' ] && { [ ! -s $RCAP ] || ! tcpdump -nr $RCAP 2>/dev/null | grep -q .; }"
	if have nc; then
		run_bg nc6-server nc -6 -l 9012
		wait_for 10 synack_listening 9012
		X timeout 30 nc -N $SADDR6 9012 <"$W/1m"
		wait_pid $RUN_PID 20
		check "nc -6 -l under synack (IPv6 --addr only) received 1 MiB byte-exact from the kernel's nc" same "$W/1m" "$W/nc6-server.out"
		bg_start ip netns exec "$NS" timeout 30 sh -c "nc -6 -l $KADDR6 9013 >$W/nc6-k.out"
		KNC6=$LASTPID
		wait_for 10 listening 9013
		run_fg nc6-client 30 sh -c "nc -N $KADDR6 9013 <$W/1m"
		wait_pid $KNC6 20
		check "nc under synack sent 1 MiB byte-exact to the kernel's nc -6 -l" same "$W/1m" "$W/nc6-k.out"
		check "nc -6 client: the capture shows synack's SYN from $SADDR6" syn6_from_synack "$RCAP"
	fi
	RUN_ADDRS="--addr $SADDR/24 --addr $SADDR6/64"
	if have socat; then
		run_bg socat6-server socat -u TCP6-LISTEN:9014,reuseaddr "CREATE:$W/socat6-s.out"
		wait_for 10 synack_listening 9014
		X timeout 30 socat -u "FILE:$W/1m" "TCP6:[$SADDR6]:9014"
		wait_pid $RUN_PID 20
		check "socat TCP6-LISTEN under synack received 1 MiB byte-exact" same "$W/1m" "$W/socat6-s.out"
		bg_start ip netns exec "$NS" timeout 30 socat TCP6-LISTEN:9015,bind="[$KADDR6]",reuseaddr EXEC:cat
		KS6=$LASTPID
		wait_for 10 listening 9015
		run_fg socat6-echo 30 socat -t 5 - "TCP6:[$KADDR6]:9015" <"$W/1m"
		check "socat TCP6 under synack: 1 MiB echoed back by the kernel's socat over IPv6, byte-exact" same "$W/1m" "$W/socat6-echo.out"
		check "socat TCP6 client: the capture shows synack's SYN from $SADDR6" syn6_from_synack "$RCAP"
		stop_bg $KS6
	fi
	RUN_ADDRS="--addr $SADDR/24"
fi

if [ -n "${SYNACK_PRELOAD_SAN_CHECK:-}" ]; then
	check "no AddressSanitizer or UBSan report from any program" \
		sh -c "! grep -lE 'ERROR: AddressSanitizer|runtime error:' $W/*.err"
fi
echo "preload: $pass passed, $failed failed"
if [ "$failed" -gt 0 ]; then
	for f in "$W"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
	exit 1
fi
exit 0
