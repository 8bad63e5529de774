#!/usr/bin/env bash
# make demo, part two: a real conversation. curl (the kernel's TCP) fetches a page from
# `synack serve --app http` over a TUN device in a private namespace, and the capture is drawn
# with the same ladder renderer as the simulated demo. Needs root and /dev/net/tun.
set -u
bin=${1:-build/synack}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v curl >/dev/null; then
	echo
	echo "=== the real wire: skipped (needs root, /dev/net/tun and curl). Run it with:"
	echo "    sudo scripts/demo-wire.sh $bin"
	exit 0
fi
bin=$(realpath "$bin")
cd "$(dirname "$0")/.."
NS=synack-demo-$$
W=$(mktemp -d /tmp/synack-demo.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	scripts/netns down "$NS"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo
echo "=== the real wire: curl (Linux TCP, 10.77.0.1) -> synack serve --app http (10.77.0.2), over tun0"
scripts/netns up "$NS" tun0 10.77.0.1/24 || exit 1
ip netns exec "$NS" timeout 60 "$bin" serve --tun tun0 --addr 10.77.0.2/24 --app http \
	--pcap "$W/wire.pcap" --ctl "$W/ctl.sock" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -S "$W/ctl.sock" ] && break; sleep 0.05; done
echo "\$ curl -s http://10.77.0.2/ | head -n 4"
ip netns exec "$NS" timeout 10 curl -s -H 'Connection: close' http://10.77.0.2/ | head -n 4
sleep 0.2
echo "\$ synack ss --ctl ctl.sock"
"$bin" ss --ctl "$W/ctl.sock"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid" 2>/dev/null
pid=
echo
echo "\$ synack ladder wire.pcap"
"$bin" ladder "$W/wire.pcap"
