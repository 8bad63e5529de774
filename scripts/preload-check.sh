#!/usr/bin/env bash
# Unmodified programs over `synack run` (tests/preload/run.sh), and with SAN=1 the same suite
# with the preload layer built with ASan+UBSan (the sanitizer runtimes preloaded ahead of it,
# since the programs themselves are not instrumented). Usage: scripts/preload-check.sh BIN [san]
set -u
BIN=$1
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "preload-check: skipped (needs root and /dev/net/tun to create a namespace and a TUN device)"
	exit 0
fi
if [ "${2:-}" != san ]; then
	exec timeout 600 tests/preload/run.sh "$BIN"
fi
asan=$(${CC:-gcc} -print-file-name=libasan.so) ubsan=$(${CC:-gcc} -print-file-name=libubsan.so)
[ -f "$asan" ] && [ -f "$ubsan" ] || { echo "preload-check: skipped under ASan (no libasan/libubsan)"; exit 0; }
# Leak checking is off: it would report the programs' own (python's, nginx's) allocations.
# The thread-safe layer's leaks are checked by tests/drivers/test_mt under `make sanitize`.
export RUN_PRELOAD="$asan:$ubsan" SYNACK_PRELOAD=$(realpath "$(dirname "$BIN")/libsynack-preload.so")
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export SYNACK_PRELOAD_SAN_CHECK=1
exec timeout 900 tests/preload/run.sh "$BIN"
