#!/bin/sh
# Holds every #include "..." in src/, tools/ and include/synack/ to scripts/layers.txt and
# prints one line per include that breaks it:
#   src/link/fault.c:12: includes core/rng.h: link may include util, core, sys
# Exits 1 if any did (or if the table is malformed or has a cycle), 0 otherwise.
# Usage: scripts/check-layers.sh [TREE]   (default: the tree this script is in)
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
table=scripts/layers.txt
[ -r "$table" ] || { echo "check-layers: $table missing"; exit 1; }
files=$(find src tools include/synack -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
# shellcheck disable=SC2086
awk -v table="$table" '
function short(dir) { return dir == "include/synack" ? "synack" : (dir ~ /^src\// ? substr(dir, 5) : dir) }
function rule(n,   s, i, k, name) {
	k = split(deps[n], d, " ")
	name = n == "synack" ? "include/synack" : n
	if (k == 0)
		return name " may include only " name
	s = name " may include "
	for (i = 1; i <= k; i++)
		s = s (i > 1 ? ", " : "") d[i]
	return s
}
BEGIN {
	while ((getline line < table) > 0) {
		sub(/#.*/, "", line)
		if (line ~ /^[ \t]*$/)
			continue
		if (line !~ /^[^ \t:]+:/) {
			printf "%s: bad line: %s\n", table, line; bad = 1; continue
		}
		dir = line; sub(/:.*/, "", dir)
		rest = line; sub(/^[^:]*:[ \t]*/, "", rest); gsub(/[ \t]+/, " ", rest); sub(/ $/, "", rest)
		n = short(dir); known[n] = 1; dirof[n] = dir; deps[n] = rest; order[++nl] = n
		k = split(rest, d, " ")
		for (i = 1; i <= k; i++)
			allowed[n, d[i]] = 1
	}
	# Every layer named exists, and the table has no cycle (peel off layers whose deps are gone).
	for (i = 1; i <= nl; i++) {
		k = split(deps[order[i]], d, " ")
		for (j = 1; j <= k; j++)
			if (!(d[j] in known)) { printf "%s: %s names unknown layer %s\n", table, order[i], d[j]; bad = 1 }
	}
	left = nl
	do {
		progress = 0
		for (i = 1; i <= nl; i++) {
			n = order[i]
			if (n in gone) continue
			k = split(deps[n], d, " "); ok = 1
			for (j = 1; j <= k; j++)
				if (d[j] in known && !(d[j] in gone) && d[j] != n) ok = 0
			if (ok) { gone[n] = 1; left--; progress = 1 }
		}
	} while (progress)
	if (left > 0) {
		# Peel from the top too (layers no remaining layer depends on): what is left is
		# the cycle itself, not everything above it.
		do {
			progress = 0
			for (i = 1; i <= nl; i++) {
				n = order[i]
				if (n in gone) continue
				used = 0
				for (j = 1; j <= nl && !used; j++) {
					m = order[j]
					if (m in gone || m == n) continue
					if ((m, n) in allowed) used = 1
				}
				if (!used) { gone[n] = 1; progress = 1 }
			}
		} while (progress)
		s = ""
		for (i = 1; i <= nl; i++) if (!(order[i] in gone)) s = s " " order[i]
		printf "%s: the table has a cycle among:%s\n", table, s; bad = 1
	}
	# Every file lies in a layer of the table (checked here: awk never sees an empty file).
	for (i = 1; i < ARGC; i++) {
		dir = ARGV[i]; sub(/\/[^\/]*$/, "", dir)
		n = short(dir)
		if (!(n in known) || dirof[n] != dir) {
			printf "%s: %s is not a layer in %s\n", ARGV[i], dir, table; bad = 1
			stray[ARGV[i]] = 1
		}
	}
}
FNR == 1 {
	dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
	me = short(dir)
}
FILENAME in stray { next }
/^[ \t]*#[ \t]*include[ \t]*"/ {
	hdr = $0; sub(/^[^"]*"/, "", hdr); sub(/".*/, "", hdr)
	if (hdr !~ /\//)
		next    # the own folder
	top = hdr; sub(/\/.*/, "", top)
	if (top == me || (top == "synack" && hdr !~ /\.\./))
		next
	if (!((me, top) in allowed) || hdr ~ /\.\./) {
		printf "%s:%d: includes %s: %s\n", FILENAME, FNR, hdr, rule(me); bad = 1
	}
}
END { exit bad }
' $files
