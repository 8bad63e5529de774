#!/bin/sh
# The layering check (scripts/check-layers.sh against scripts/layers.txt) on the real tree and
# on copies of it broken on purpose: each break must give exactly the expected line(s) and a
# failing exit status, the real tree none and success.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "layers-check: FAIL: $*"; fail=$((fail + 1)); }

# A fresh copy of the tree's sources and scripts in $T/t.
copy() {
	rm -rf "$T/t" && mkdir -p "$T/t" &&
		cp -r "$here/src" "$here/tools" "$here/include" "$here/scripts" "$T/t/"
}
# Appends an include to a file and prints the line it landed on.
add_include() { # FILE HEADER
	printf '#include "%s"\n' "$2" >> "$T/t/$1"
	wc -l < "$T/t/$1" | tr -d ' '
}
# Runs the check on the copy; it must fail with exactly the expected output.
expect() { # NAME EXPECTED
	out=$("$T/t/scripts/check-layers.sh" "$T/t" 2>&1); rc=$?
	if [ $rc -ne 1 ]; then bad "$1: exit status $rc, expected 1 (output: $out)"
	elif [ "$out" != "$2" ]; then bad "$1: got [$out], expected [$2]"
	else ok; fi
}

out=$("$here/scripts/check-layers.sh" "$here" 2>&1); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] && ok || bad "the real tree: exit $rc: $out"

copy; n=$(add_include src/link/fault.c drivers/loop.h)
expect "link up into drivers" "src/link/fault.c:$n: includes drivers/loop.h: link may include util, core, sys"

copy; n=$(add_include src/host/host.c render/ladder.h)
expect "host into render" "src/host/host.c:$n: includes render/ladder.h: host may include util, link, drivers"

copy; n=$(add_include src/util/seq.h core/tcb.h)
expect "util into core" "src/util/seq.h:$n: includes core/tcb.h: util may include only util"

copy; n=$(add_include src/render/tsg.c core/stack_impl.h)
expect "command into core internals" \
	"src/render/tsg.c:$n: includes core/stack_impl.h: render may include util"

copy; n=$(add_include include/synack/wire.h ../../src/core/tcb.h)
expect "public header out of include/synack" \
	"include/synack/wire.h:$n: includes ../../src/core/tcb.h: include/synack may include only include/synack"

copy; a=$(add_include src/core/timer.c sys/x.h); b=$(add_include src/drill/lexer.c host/host.h)
expect "two violations, two lines" "src/core/timer.c:$a: includes sys/x.h: core may include util
src/drill/lexer.c:$b: includes host/host.h: drill may include util, drivers"

copy; mkdir "$T/t/src/extra" && : > "$T/t/src/extra/x.c"
expect "a folder the table does not know" "src/extra/x.c: src/extra is not a layer in scripts/layers.txt"

copy; sed -i 's/^src\/util:.*/src\/util: drivers/' "$T/t/scripts/layers.txt"
out=$("$T/t/scripts/check-layers.sh" "$T/t" 2>&1); rc=$?
[ "$out" = "scripts/layers.txt: the table has a cycle among: util core sys link drivers" ] &&
	[ $rc -eq 1 ] && ok || bad "cycle: exit $rc, got [$out]"

copy; sed -i 's/^src\/host:.*/src\/host: util link drivers render/; s/^src\/render:.*/src\/render: util host/' \
	"$T/t/scripts/layers.txt"
out=$("$T/t/scripts/check-layers.sh" "$T/t" 2>&1); rc=$?
[ "$out" = "scripts/layers.txt: the table has a cycle among: render host" ] &&
	[ $rc -eq 1 ] && ok || bad "cycle between command folders: exit $rc, got [$out]"

copy; sed -i 's/^src\/demo:.*/src\/demo: util render nosuch/' "$T/t/scripts/layers.txt"
expect "an unknown layer in the table" "scripts/layers.txt: demo names unknown layer nosuch"

echo "layers-check: $pass passed, $fail failed"
[ $fail -eq 0 ]
