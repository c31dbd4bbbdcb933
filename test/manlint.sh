#!/bin/sh
# The man pages format without a groff warning (-ww), .so aliases
# followed, and every name a page's NAME section documents has a page (an
# alias, at least), so that `man NAME` finds it. Installed as
# $O/test/manlint, with the source tree's path put in by make.
set -eu
man=@SRC@/man
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An alias's ".so man3/NAME.3" is relative to the manual's root.
mkdir "$tmp/man3" "$tmp/man7"
cp "$man"/*.3 "$tmp/man3/"
cp "$man"/*.7 "$tmp/man7/"
bad=0
for f in "$tmp"/man3/* "$tmp"/man7/*; do
	out=$(cd "$tmp" && groff -ww -man -z "$f" 2>&1)
	if [ -n "$out" ]; then
		echo "manlint: $(basename "$f"): $out"
		bad=1
	fi
done
for f in "$man"/*.[378]; do
	names=$(sed -n '/^\.SH NAME/{n;p;}' "$f" | sed 's/ \\-.*//; s/,/ /g')
	for n in $names; do
		ls "$man/$n".[378] >/dev/null 2>&1 && continue
		echo "manlint: $(basename "$f") documents $n, which has no page"
		bad=1
	done
done
exit $bad
