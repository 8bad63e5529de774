#!/usr/bin/env bash
# shellcheck disable=SC2015 # `COND && ok || ko ...`: ok always succeeds
# Installs synack into a temporary prefix and checks what a user of the installed files gets:
#
#  1. the versioned shared library: libsynack.so -> libsynack.so.MAJOR -> libsynack.so.VERSION,
#     SONAME libsynack.so.MAJOR, and one version everywhere (VERSION, pkg-config --modversion,
#     synack --version, synack_version());
#  2. the boundary: `nm -D --defined-only` of the installed libsynack.so lists exactly the
#     functions the installed headers declare (scripts/api-symbols.sh reads them with the
#     compiler), all synack_-prefixed, and no data;
#  3. every example in examples/ builds with nothing but `pkg-config --cflags --libs synack`
#     (shared: it must record libsynack.so.MAJOR) and with `cc -static ... pkg-config --static`
#     (no libsynack.so needed), both with -Werror; each runs (hello_tun: see 4);
#  4. as root: hello_tun serves echo on a TUN device in a network namespace created here
#     (scripts/netns), the kernel's TCP sends it 100,000 bytes and must get the same bytes back
#     and then EOF; the namespace and everything in it are removed on exit.
set -u
cd "$(dirname "$0")/.." || exit 1
prefix=$(mktemp -d /tmp/synack-install.XXXXXX)
NS=synack-icheck-$$
ns_up=0
cleanup() {
	[ -n "${SERVER_PID:-}" ] && kill -KILL "$SERVER_PID" 2>/dev/null
	[ "$ns_up" = 1 ] && scripts/netns down "$NS"
	rm -rf "$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "install-check: FAIL $*"; }

make -s install PREFIX="$prefix" >/dev/null || { echo "install-check: make install failed"; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
lib=$prefix/lib
version=$(cat VERSION)
major=${version%%.*}

# ---- 1. the files and the version ------------------------------------------------------------
[ "$(readlink "$lib/libsynack.so")" = "libsynack.so.$major" ] &&
	[ "$(readlink "$lib/libsynack.so.$major")" = "libsynack.so.$version" ] &&
	[ -f "$lib/libsynack.so.$version" ] && [ ! -L "$lib/libsynack.so.$version" ] &&
	ok || ko "symlinks: want libsynack.so -> libsynack.so.$major -> libsynack.so.$version; have: $(ls -l "$lib"/libsynack*)"
soname=$(readelf -d "$lib/libsynack.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libsynack.so.$major" ] && ok || ko "SONAME is '$soname', want libsynack.so.$major"
have=$(pkg-config --modversion synack)
[ "$have" = "$version" ] && ok || ko "pkg-config --modversion says '$have', VERSION says $version"
have=$("$prefix/bin/synack" --version)
[ "$have" = "synack $version" ] && ok || ko "synack --version says '$have', want 'synack $version'"
have=$("$prefix/bin/synack" -V)
[ "$have" = "synack $version" ] && ok || ko "synack -V says '$have', want 'synack $version'"
"$prefix/bin/synack" --version extra >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && ok || ko "synack --version extra exited $rc, want 2 (a usage error)"
printf '#include <stdio.h>\n#include <synack/synack.h>\nint main(void) { puts(synack_version()); return 0; }\n' \
	>"$prefix/v.c"
# shellcheck disable=SC2046
if cc -std=c11 -Werror "$prefix/v.c" $(pkg-config --cflags --libs synack) -o "$prefix/v"; then
	have=$(LD_LIBRARY_PATH="$lib" "$prefix/v")
	[ "$have" = "$version" ] && ok || ko "synack_version() says '$have', want $version"
else
	ko "a program calling synack_version() does not build"
fi

# ---- 2. the exported symbols are the declared API --------------------------------------------
if scripts/api-symbols.sh "$prefix/include" >"$prefix/declared"; then
	nm -D --defined-only "$lib/libsynack.so.$version" >"$prefix/nm"
	awk '{print $3}' "$prefix/nm" | sort >"$prefix/exported"
	bad=$(awk '$2 != "T" || $3 !~ /^synack_/' "$prefix/nm")
	[ -z "$bad" ] && ok || ko "exported symbols that are not synack_ functions:
$bad"
	extra=$(comm -13 "$prefix/declared" "$prefix/exported")
	[ -z "$extra" ] && ok || ko "exported but declared in no installed header: ${extra//$'\n'/ }"
	missing=$(comm -23 "$prefix/declared" "$prefix/exported")
	[ -z "$missing" ] && ok || ko "declared in the installed headers but not exported: ${missing//$'\n'/ }"
	echo "install-check: libsynack.so exports $(wc -l <"$prefix/exported") functions," \
		"the headers declare $(wc -l <"$prefix/declared")"
else
	ko "scripts/api-symbols.sh could not read the installed headers"
fi

# ---- 3. the examples, shared and static ------------------------------------------------------
cflags="-std=c11 -Wall -Wextra -Werror"
for src in examples/*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046,SC2086
	if cc $cflags "$src" $(pkg-config --cflags --libs synack) -o "$prefix/$name"; then
		readelf -d "$prefix/$name" | grep -q "NEEDED.*\[libsynack.so.$major\]" && ok ||
			ko "$name (shared) does not record libsynack.so.$major"
	else
		ko "$name does not build with pkg-config --cflags --libs synack"
	fi
	# shellcheck disable=SC2046,SC2086
	if cc -static $cflags "$src" $(pkg-config --static --cflags --libs synack) \
		-o "$prefix/$name.static" 2>"$prefix/$name.static.err"; then
		readelf -d "$prefix/$name.static" 2>/dev/null | grep -q NEEDED &&
			ko "$name (static) still needs a shared library" || ok
	else
		ko "$name does not build with cc -static and pkg-config --static: $(head -5 "$prefix/$name.static.err")"
	fi
	[ "$name" = hello_tun ] && continue # runs as root in a namespace, below
	for bin in "$name" "$name.static"; do
		[ -x "$prefix/$bin" ] || continue
		LD_LIBRARY_PATH="$lib" timeout 60 "$prefix/$bin" >"$prefix/$bin.out" 2>&1 && ok ||
			{ ko "$bin exited $?"; sed 's/^/  /' "$prefix/$bin.out"; }
	done
done

# ---- 4. hello_tun against the kernel's TCP, in a namespace of its own ------------------------
echo_over_tun() {
	local py kaddr=10.77.0.1 saddr=10.77.0.2 n=100000
	py=$(command -v python3) || { echo "install-check: hello_tun run skipped (no python3)"; return; }
	if ! ip netns add "$NS-probe" 2>/dev/null; then
		echo "install-check: hello_tun run skipped (cannot create a network namespace here)"; return
	fi
	ip netns del "$NS-probe"
	scripts/netns up "$NS" tun0 "$kaddr/24" || { ko "scripts/netns up $NS"; return; }
	ns_up=1
	ip netns exec "$NS" env LD_LIBRARY_PATH="$lib" timeout 60 "$prefix/hello_tun" tun0 "$saddr/24" \
		>"$prefix/tun.out" 2>&1 &
	SERVER_PID=$!
	local i=0
	until grep -q "^hello_tun: echo on" "$prefix/tun.out" || [ $i = 100 ] ||
		! kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	# The kernel connects, sends n bytes while reading, half-closes, and reads to EOF.
	if ip netns exec "$NS" timeout 30 "$py" - "$saddr" 7 "$n" <<-'EOF'; then ok; else ko "hello_tun: kernel client"; fi
		import socket, sys, threading
		host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		data = bytes((i * 131 + 7) % 251 for i in range(n))
		s = socket.create_connection((host, port), timeout=10)
		def send():
		    s.sendall(data)
		    s.shutdown(socket.SHUT_WR)
		t = threading.Thread(target=send)
		t.start()
		got = bytearray()
		while chunk := s.recv(65536):
		    got += chunk
		t.join()
		if bytes(got) != data:
		    first = next((i for i in range(min(len(got), n)) if got[i] != data[i]), min(len(got), n))
		    sys.exit(f"echo: sent {n} bytes, got {len(got)} back, first difference at {first}")
		print(f"hello_tun: {n} bytes echoed exactly, then EOF")
	EOF
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID"
	local rc=$?
	SERVER_PID=
	[ $rc = 0 ] && ok || { ko "hello_tun exited $rc after SIGTERM"; sed 's/^/  /' "$prefix/tun.out"; }
	scripts/netns down "$NS"
	ns_up=0
	ip netns list | grep -qw "^$NS" && ko "namespace $NS left behind" || ok
}
if [ ! -x "$prefix/hello_tun" ]; then
	: # its build failure is counted above
elif [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "install-check: hello_tun run skipped (needs root and /dev/net/tun)"
else
	echo_over_tun
fi

echo "install-check: $pass passed, $fail failed"
[ "$fail" = 0 ]
