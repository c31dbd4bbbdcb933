#!/bin/sh
# deb.sh build OUT: build the Debian packages from a copy of the tracked
# tree into OUT, and run lintian on them (an error fails).
# deb.sh check OUT: install them with dpkg -i, check what they put where,
# and remove them with dpkg -r, leaving nothing behind.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cmd=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)

build() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir "$tmp/tld"
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$tmp/tld")
	(cd "$tmp/tld" && dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) ||
		{ tail -n 40 "$tmp/build.log"; exit 1; }
	rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
	mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out/"
	lintian --fail-on error "$out"/*.changes
	ls "$out"/*.deb
}

# installed PACKAGE FILE: dpkg says FILE is PACKAGE's, and it is there.
installed() {
	dpkg -S "$2" | grep -q "^$1:" && [ -e "$2" ] ||
		{ echo "deb.sh: $1 did not install $2"; exit 1; }
}

check() {
	multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	dpkg -i "$out"/libtld0_*.deb "$out"/libtld-dev_*.deb "$out"/tldtool_*.deb \
		"$out"/tldd_*.deb >/dev/null
	installed libtld0 "/usr/lib/$multi/libtld.so.0"
	installed libtld-dev /usr/include/tld/tld.h
	installed libtld-dev /usr/include/tld/tld.bpf.h
	installed libtld-dev /usr/include/tld/tld.hpp
	installed libtld-dev "/usr/lib/$multi/libtld.a"
	installed libtld-dev /usr/share/man/man3/tld_get_data.3.gz
	installed tldtool /usr/sbin/tldtool
	installed tldd /usr/sbin/tldd
	installed tldd /lib/systemd/system/tldd.socket
	installed tldd /lib/systemd/system/tldd.service
	# Where systemd is installed; its man check needs man-db, which may not be.
	if command -v systemd-analyze >/dev/null; then
		bad=$(systemd-analyze verify /lib/systemd/system/tldd.socket \
			/lib/systemd/system/tldd.service 2>&1 | grep -v "Command 'man " || true)
		[ -z "$bad" ] || { echo "deb.sh: tldd's units: $bad"; exit 1; }
	fi
	[ "$(pkg-config --modversion libtld)" = "$(sed -n 's/^VERSION[ \t]*:= //p' "$src/Makefile")" ] ||
		{ echo "deb.sh: pkg-config does not find libtld"; exit 1; }
	/usr/sbin/tldtool --help >/dev/null
	/usr/sbin/tldd --help >/dev/null
	# Purged, so that its socket's enablement goes too.
	dpkg -P tldd >/dev/null
	dpkg -r tldtool libtld-dev libtld0 >/dev/null
	for f in /usr/sbin/tldtool /usr/sbin/tldd /lib/systemd/system/tldd.socket \
		/etc/systemd/system/sockets.target.wants/tldd.socket \
		/usr/include/tld "/usr/lib/$multi/libtld.so.0"; do
		[ ! -e "$f" ] || { echo "deb.sh: $f is still there after dpkg -r"; exit 1; }
	done
	echo "installed and removed: $(cd "$out" && ls *.deb | tr '\n' ' ')"
}

case $cmd in
build) build ;;
check) check ;;
*) echo "usage: deb.sh build|check OUT" >&2; exit 2 ;;
esac
