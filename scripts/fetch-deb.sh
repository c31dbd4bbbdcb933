#!/bin/sh
# fetch-deb.sh PKG [SUITE]: download a package of a Debian suite (default
# trixie-backports) into the cache and print the .deb's path. It uses a
# private apt state, so the machine's own apt sources and preferences are
# never touched and nothing from the suite is installed.
set -eu
pkg=$1
suite=${2:-trixie-backports}
here=$(dirname "$0")
cache=${TLD_CACHE:-/var/cache/tld}
state=$cache/apt/$suite
debs=$cache/debs/$suite

found=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -n "$found" ]; then
	echo "$found"
	exit 0
fi
mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/empty" "$debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $("$here/debian-mirror.sh") $suite main" \
	>"$state/sources.list"
set -- -o "Dir::Etc::SourceList=$state/sources.list" \
	-o "Dir::Etc::SourceParts=$state/empty" \
	-o "Dir::Etc::Preferences=/dev/null" \
	-o "Dir::Etc::PreferencesParts=$state/empty" \
	-o "Dir::State::Lists=$state/lists" \
	-o "Dir::Cache=$state" \
	-o "APT::Sandbox::User=root"
if ! ls "$state/lists/"*Packages* >/dev/null 2>&1; then
	apt-get "$@" update -qq >&2
fi
(cd "$debs" && apt-get "$@" download -qq "$pkg" >&2)
ls "$debs/${pkg}"_*.deb | head -n 1
