#!/bin/sh
# Print the Debian mirror this machine's apt already uses for bookworm, so
# that extra suites come from the same place.
set -eu
{
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null
	echo
} | awk '
	/^[[:space:]]*#/ { next }
	/^URIs:/ { uri = $2 }
	/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") hit = uri }
	/^$/ { if (hit) { print hit; exit } uri = "" }
' | grep . && exit 0
awk '$1 == "deb" && $3 == "bookworm" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep . && exit 0
echo "debian-mirror.sh: no bookworm source in /etc/apt" >&2
exit 1
