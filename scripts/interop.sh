#!/usr/bin/env bash
# Interoperability with the Linux kernel's TCP over TUN in a private network namespace.
set -u
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "interop: skipped (needs root and /dev/net/tun to create a namespace and a TUN device)"
	exit 0
fi
if [ ! -x tests/interop/run.sh ]; then
	echo "interop: skipped (no interop suite yet: see issue 'synack on a real wire')"
	exit 0
fi
tests/interop/run.sh "$@" || exit 1
tests/interop/ipv6.sh "$@" || exit 1
tests/interop/churn.sh "$@" || exit 1
exec tests/interop/mq.sh "$@"
