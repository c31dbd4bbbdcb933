#!/bin/sh
# The ABI: the symbols libtld.so exports, with their types and versions,
# must be the committed list (test/libtld.abi). An export added or lost
# by accident fails here; one added on purpose is added to the list, and
# to a new version node in src/libtld.map.
set -eu
# Installed as $O/test/abi, with the source tree's path put in by make.
here=$(cd "$(dirname "$0")" && pwd)
list=@SRC@/test/libtld.abi
lib=$(ls "$here"/../libtld.so.*.*.* | head -n 1)
got=$(nm -D --defined-only "$lib" | awk '{ print $2, $3 }' | sort -k2)
want=$(cat "$list")
if [ "$got" != "$want" ]; then
	echo "abi: $lib exports other symbols than test/libtld.abi lists (< listed, > exported):"
	printf '%s\n' "$got" | diff "$list" - || true
	exit 1
fi
