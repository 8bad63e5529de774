#!/usr/bin/env bash
# One stack per core (issue 10): `synack serve --threads 2` on a multi-queue TUN device that
# synack creates, in a network namespace created here and removed on exit. Kernel clients
# from known source ports: every request served byte-exact, each stack accepts exactly the
# connections the steering function gives its queue, ss and nstat through --ctl show the
# union. Stacks that open connections get replies on their own queue after the kernel's
# flow table has forgotten them (tests/interop/mqsteer.c). A device that exists without
# multi-queue: the default falls back to one stack, an explicit --threads 2 fails.
# Usage: tests/interop/mq.sh [path/to/synack]
set -u
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/synack}")
W=$(mktemp -d /tmp/synack-mq.XXXXXX)
NS=synack-mq-$$
. tests/interop/lib.sh
SADDR=10.88.0.2 KADDR=10.88.0.1

cleanup() {
	kill_bg
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "interop mq: one stack per core on a multi-queue TUN"
LIB="$(dirname "$BIN")/libsynack.a" SANFLAGS=
# A sanitizer build's library (make SAN=1) links only with the sanitizers.
nm "$LIB" 2>/dev/null | grep -q __asan_ && SANFLAGS="-fsanitize=address,undefined"
for p in mqclients mqsteer; do
	${CC:-cc} -O2 -Wall $SANFLAGS -Iinclude -o "$W/$p" tests/interop/$p.c "$LIB" -lpthread -lm ||
		{ echo "interop mq: cannot build $p"; exit 1; }
done
ip netns add "$NS" || { echo "interop mq: skipped (cannot create a network namespace)"; exit 0; }
X ip link set lo up

# --- serve --threads 2: 40 kernel clients, held open while ss and nstat look ---------------
bg_start ip netns exec "$NS" timeout 120 "$BIN" serve --tun mq0 --addr $SADDR/24 --app echo --threads 2 \
	--ctl "$W/ctl.sock" 2>"$W/serve.log"
SP=$LASTPID
wait_for 5 test -S "$W/ctl.sock"
check "serve --threads 2 says it is steered by port" grep -q "2 queues, threads and stacks, steered by port" "$W/serve.log"
X timeout 10 "$BIN" serve --tun mq0 --addr 10.88.0.3/24 --app echo --threads 2 2>"$W/busy.err"
BRC=$?
busy() { [ "$1" = 3 ] && [ "$(wc -l <"$W/busy.err")" = 1 ] && grep -q "another process holds the device" "$W/busy.err"; }
check "a second serve on the same multi-queue device: exit 3, busy (not a queue of it)" busy $BRC
rm -f "$W/go"
X timeout 60 "$W/mqclients" $SADDR 7 41000 40 2 "$W/go" >"$W/clients.out" 2>&1 &
CP=$!
wait_for 10 grep -q '^open' "$W/clients.out"
"$BIN" ss --ctl "$W/ctl.sock" >"$W/ss.out"
"$BIN" nstat --ctl "$W/ctl.sock" >"$W/nstat.out"
touch "$W/go"
wait "$CP"; CRC=$?
check "ss: a listener on each stack (dual-stack, *:7)" [ "$(grep -c "^LISTEN .* \*:7 " "$W/ss.out")" = 2 ]
check "ss: the 40 held connections of both stacks" [ "$(grep -c "^ESTAB .* $SADDR:7 " "$W/ss.out")" = 40 ]
check "nstat: the sum of both stacks (TcpPassiveOpens 40, TcpCurrEstab 40)" \
	sh -c "grep -q '^TcpPassiveOpens  *40 ' '$W/nstat.out' && grep -q '^TcpCurrEstab  *40 ' '$W/nstat.out'"
check "every request echoed byte-exact" [ $CRC = 0 ]
kill -TERM "$SP"; wait_pid "$SP" 10
check "serve --threads 2 exits 0 after SIGTERM" [ "$RC" = 0 ]
expect=$(sed -n 's/.*expected per queue: //p' "$W/clients.out")
got=$(sed -n 's/.*connections accepted per stack: //p' "$W/serve.log")
per_queue() { [ -n "$expect" ] && [ "$got" = "$expect" ]; }
both() { set -- $got; [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -gt 0 ]; }
check "each stack accepted the connections of its queue (expected $expect, got $got)" per_queue
check "both stacks served" both

# --- active opens: replies come back to the opener after 7 s idle -------------------------
X timeout 60 "$W/mqsteer" steer mq1 16 7 >"$W/steer.out" 2>&1
check "active opens on 2 stacks: every reply on the opener's queue after 7 s idle" \
	grep -q "32 connections opened by synack, 32 established, 32 got their data" "$W/steer.out"

# --- an existing device without multi-queue ---------------------------------------------
X ip tuntap add dev sq0 mode tun
X timeout 10 "$BIN" serve --tun sq0 --addr $SADDR/24 --app echo --threads 2 2>"$W/sq.err"
check "--threads 2 on a single-queue device: exit 3" [ $? = 3 ]
check "... with one line that says what to do" \
	sh -c "[ \$(wc -l <'$W/sq.err') = 1 ] && grep -q 'without multi-queue.*--threads 1' '$W/sq.err'"
bg_start ip netns exec "$NS" timeout 30 "$BIN" serve --tun sq0 --addr $SADDR/24 --app echo 2>"$W/sq.log"
SP=$LASTPID
wait_for 5 grep -q "echo on" "$W/sq.log"
rm -f "$W/go2"; touch "$W/go2"
X timeout 30 "$W/mqclients" $SADDR 7 42000 4 1 "$W/go2" >"$W/sq.out" 2>&1
check "the default on it: one stack, serving" grep -q "^echoed 4 of 4" "$W/sq.out"
kill -TERM "$SP"; wait_pid "$SP" 10
# A persistent multi-queue device nobody holds: --threads 2 attaches two queues to it.
X ip tuntap add dev pm0 mode tun multi_queue
bg_start ip netns exec "$NS" timeout 30 "$BIN" serve --tun pm0 --addr 10.87.0.2/24 --app echo --threads 2 2>"$W/pm.log"
SP=$LASTPID
wait_for 5 grep -q "echo on" "$W/pm.log"
rm -f "$W/go3"; touch "$W/go3"
X timeout 30 "$W/mqclients" 10.87.0.2 7 43000 8 2 "$W/go3" >"$W/pm.out" 2>&1
check "a persistent multi-queue device: --threads 2 serves on it" \
	sh -c "grep -q '^echoed 8 of 8' '$W/pm.out' && grep -q '2 queues' '$W/pm.log'"
kill -TERM "$SP"; wait_pid "$SP" 10
"$BIN" serve --tun sq0 --addr $SADDR/24 --app echo --threads 2 --pcap "$W/x.pcap" 2>"$W/pcap.err"
check "--threads 2 with --pcap: exit 2, one line" \
	sh -c "[ $? = 2 ] && [ \$(wc -l <'$W/pcap.err') = 1 ] && grep -q -- '--threads' '$W/pcap.err'"

echo "interop mq: $pass passed, $failed failed"
[ "$failed" = 0 ]
