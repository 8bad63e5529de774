#!/usr/bin/env bash
# Prints the functions the public headers declare, one per line, sorted: what libsynack.so
# must export, no more and no less (scripts/install-check.sh compares it with nm -D).
#
#   scripts/api-symbols.sh INCLUDEDIR      (the directory that holds synack/*.h)
#
# The compiler reads the headers, not a regex: each header is compiled alone with gcc's
# -aux-info, which writes one line per function the translation unit declares or defines,
# tagged with its file, line and kind ("NC": a prototype; "NF": a definition). We keep the
# prototypes that come from INCLUDEDIR/synack/ and are not static; the static inline helpers
# (link.h's synack_link_send(), addr.h's synack_addr_v4(), ...) are definitions, compiled into
# the caller, and not exported. Compiling each header alone also proves it is self-contained.
set -eu
if [ $# != 1 ] || [ ! -d "$1/synack" ]; then
	echo "usage: api-symbols.sh INCLUDEDIR (the directory that holds synack/*.h)" >&2
	exit 2
fi
inc=$(realpath "$1")
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
for h in "$inc"/synack/*.h; do
	n=$(basename "$h" .h)
	printf '#include <synack/%s.h>\n' "$n" >"$w/$n.c"
	gcc -std=c11 -Wall -Wextra -Werror -I"$inc" -aux-info "$w/$n.aux" -c "$w/$n.c" -o "$w/$n.o" ||
		{ echo "api-symbols: synack/$n.h does not compile on its own" >&2; exit 1; }
done
# A line reads: /* DIR/synack/x.h:LINE:NC */ extern int synack_x (int, char *);
cat "$w"/*.aux | awk -v pre="/* $inc/synack/" '
	index($0, pre) != 1 { next }
	{ body = substr($0, index($0, "*/ ") + 3) }
	$0 !~ /:NC \*\/ / || body ~ /^static / { next }
	match(body, /[A-Za-z_][A-Za-z0-9_]* \(/) { print substr(body, RSTART, RLENGTH - 2) }
' | sort -u
