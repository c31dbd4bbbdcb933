#!/bin/sh
# cxx_asm.sh COMPILER FLAGS...: compile test/cxx_asm.cpp and check that
# tld::var's code is C's, instruction for instruction up to the first
# return (the hot path), with the key's name as the only difference.
set -eu
obj=$(mktemp)
trap 'rm -f "$obj"' EXIT
"$@" -O2 -c "$(dirname "$0")/cxx_asm.cpp" -o "$obj"

# hot FUNC: FUNC's instructions up to its first ret, addresses and names gone
hot() {
	objdump -d --no-show-raw-insn -r "$obj" | awk -v f="<$1>:" '
		$2 == f { on = 1; next }
		on && /^$/ { exit }
		on { sub(/^[ \t]*[0-9a-f]+:[ \t]*/, ""); sub(/[ \t]*#.*/, "")
		     gsub(/[0-9a-f]+ <[^>]*>/, "L"); sub(/[ \t](key|\.bss)([-+]0x[0-9a-f]+)?$/, " KEY")
		     print; if ($1 == "ret") exit }'
}

c=$(hot c_get)
for f in cxx_get cxx_store; do
	cxx=$(hot $f)
	if [ -z "$c" ] || [ "$c" != "$cxx" ]; then
		echo "cxx_asm: $f is not C's store with $1:"
		echo "--- C"; echo "$c"; echo "--- C++"; echo "$cxx"
		exit 1
	fi
done
