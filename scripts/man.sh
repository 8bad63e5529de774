#!/usr/bin/env bash
# Writes the man pages of the synack command, synack.1 and synack-CMD.1 for every subcommand,
# into DIR, from one source: the --help text each subcommand prints (NAME, SYNOPSIS,
# DESCRIPTION, OPTIONS, EXIT STATUS, ... at the left margin, the text indented by four spaces).
#   scripts/man.sh build/synack build/man
set -eu
bin=$1 dir=$2
mkdir -p "$dir"
version=$(cd "$(dirname "$0")/.." && git describe --always --dirty 2>/dev/null || echo unknown)

# roff: a backslash doubled, a line starting with . or ' protected, the section heads as .SH
to_roff() { # to_roff NAME SECTION-TITLE < help
	local name=$1 title=$2
	printf '.TH %s 1 "" "synack %s" "synack manual"\n' "$(echo "$name" | tr a-z A-Z)" "$version"
	awk -v title="$title" '
		function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); if (s ~ /^[.\x27]/) s = "\\&" s; return s }
		/^[A-Z][A-Z ]+$/ { if (open) print ".fi"; print ".SH " $0; sec = $0; open = 0; next }
		sec == "NAME" { sub(/^ +/, ""); n = index($0, " - ");
			if (n) { cmd = substr($0, 1, n - 1); gsub(/ /, "-", cmd); print esc(cmd) " \\- " esc(substr($0, n + 3)) }
			else print esc($0); next }
		sec != "" { if (!open) { print ".nf"; open = 1 } sub(/^    /, ""); print esc($0) }
		END { if (open) print ".fi" }'
}

"$bin" --help >/dev/null
cmds=$("$bin" --help | awk '/^  [a-z]/ { print $1 }')
for c in $cmds; do
	"$bin" "$c" --help | to_roff "synack-$c" "$c" >"$dir/synack-$c.1"
done
{
	echo "NAME"
	echo "    synack - a userspace TCP/IP stack that draws what it does"
	echo "SYNOPSIS"
	echo "    synack COMMAND [OPTIONS]"
	echo "DESCRIPTION"
	echo "    Each command has its own page, synack-COMMAND(1), and prints the same text with"
	echo "    synack COMMAND --help."
	echo ""
	"$bin" --help | awk '/^  [a-z]/ { printf "    %-8s %s\n", $1, substr($0, index($0, $2)) }'
	echo "EXIT STATUS"
	echo "    That of the command; 2 for an unknown command or none."
	echo "SEE ALSO"
	for c in $cmds; do printf '    synack-%s(1)\n' "$c"; done
} | to_roff synack synack >"$dir/synack.1"
echo "man: $(ls "$dir" | wc -l) pages in $dir"
