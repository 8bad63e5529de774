#!/usr/bin/env bash
# Installs synack into a temporary prefix and builds and runs every example in examples/
# against it through pkg-config: the headers, libraries and .pc file work as installed.
set -eu
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make -s install PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pass=0; fail=0
for src in examples/*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046
	if cc -std=c11 -Wall -Wextra -Werror "$src" $(pkg-config --cflags synack) \
		"$prefix/lib/libsynack.a" -lm -o "$prefix/$name" && "$prefix/$name" >"$prefix/$name.out"; then
		pass=$((pass + 1))
	else
		echo "install-check: $name failed"; cat "$prefix/$name.out" 2>/dev/null; fail=$((fail + 1))
	fi
	# and against the shared library
	if cc -std=c11 "$src" $(pkg-config --cflags --libs synack) -lm -o "$prefix/$name.so" &&
		LD_LIBRARY_PATH="$prefix/lib" "$prefix/$name.so" >/dev/null; then
		pass=$((pass + 1))
	else
		echo "install-check: $name (shared) failed"; fail=$((fail + 1))
	fi
done
echo "install-check: $pass passed, $fail failed"
[ "$fail" = 0 ]
