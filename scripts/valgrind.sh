#!/bin/sh
# valgrind.sh ARGS...: run valgrind 3.24 from Debian trixie, unpacked into
# the cache and never installed. Bookworm's 3.19 does not know pidfd_open
# (syscall 434), which every libtld registration makes.
set -eu
here=$(dirname "$0")
cache=${TLD_CACHE:-/var/cache/tld}
root=$cache/valgrind
if [ ! -x "$root/usr/bin/valgrind.bin" ]; then
	deb=$("$here/fetch-deb.sh" valgrind trixie)
	rm -rf "$root.tmp"
	dpkg-deb -x "$deb" "$root.tmp"
	mv "$root.tmp" "$root"
fi
VALGRIND_LIB=$root/usr/libexec/valgrind exec "$root/usr/bin/valgrind.bin" "$@"
