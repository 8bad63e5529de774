#!/usr/bin/env bash
# Installs what `make check` needs on Debian 12 (when root), or says what will be skipped.
set -u
need=()
[ -f /usr/include/criterion/criterion.h ] || need+=(libcriterion-dev)
command -v tshark >/dev/null || need+=(tshark)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v socat >/dev/null || need+=(socat)
command -v pkg-config >/dev/null || need+=(pkg-config) # install-check: examples built through synack.pc
command -v python3 >/dev/null || need+=(python3)       # install-check: the kernel's client of hello_tun
command -v curl >/dev/null || need+=(curl)
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v chromium >/dev/null || need+=(chromium) # render-check: the HTML report in a headless browser
command -v ss >/dev/null || need+=(iproute2)
command -v wrk >/dev/null || need+=(wrk)             # interop: HTTP keep-alive load against the http app
command -v hping3 >/dev/null || need+=(hping3)       # bench: the SYN flood on the wire
command -v nft >/dev/null || need+=(nftables)        # interop: loss on the kernel's side of the lossy run
# the TUN link's io_uring write batching (optional: a build without it skips it)
pkg-config --exists liburing 2>/dev/null || need+=(liburing-dev)
# preload-check: unmodified programs over `synack run` (each missing one is skipped with a line)
command -v python3 >/dev/null || need+=(python3)
command -v nc >/dev/null || need+=(netcat-openbsd)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v nginx >/dev/null || need+=(nginx-light)
command -v iperf3 >/dev/null || need+=(iperf3)
# make fuzz / fuzz-check: clang with libFuzzer (Debian 12: clang 14, runtime in libclang-rt-14-dev).
fuzz/have-libfuzzer.sh clang >/dev/null 2>&1 || need+=(clang libclang-rt-14-dev)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || true
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
		echo "deps: apt-get install ${need[*]} failed; parts needing them will be skipped"
else
	echo "deps: not root: cannot install ${need[*]}; parts needing them will be skipped"
fi
[ -f /usr/include/criterion/criterion.h ] || {
	echo "deps: Criterion (libcriterion-dev) is missing and the unit tests need it"; exit 1; }
exit 0
