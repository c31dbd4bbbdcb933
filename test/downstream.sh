#!/bin/sh
# Downstream use: `make install-lib` needs no BPF toolchain; `make install`
# into a temporary DESTDIR, then a program and a BPF object built out of
# tree with nothing but pkg-config's flags, the installed headers and this
# kernel's BTF, run against the kernel (test/downstream/). Installed as
# $O/test/downstream, with the source tree's path put in by make.
set -eu
src=@SRC@
build=$(cd "$(dirname "$0")/.." && pwd)
if ldd "$build"/libtld.so.*.*.* | grep -q libasan; then
	echo "SKIP: an ASan build; the plain build checks downstream use"
	exit 77
fi
tmp=$(mktemp -d)
map=/sys/fs/bpf/tld-test/downstream-$$/tld_data_map
trap '"$tmp/root/usr/sbin/tldtool" --path "$map" map remove >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# The library alone installs with a C compiler: no clang, bpftool or vmlinux.h.
if make -n -C "$src" O="$tmp/lib" DESTDIR="$tmp/lib" install-lib | grep -E 'clang|bpftool|vmlinux'; then
	echo "downstream: make install-lib would run the BPF toolchain"
	exit 1
fi
make -s -C "$src" O="$build" DESTDIR="$tmp/root" PREFIX=/usr install >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$tmp/root" PKG_CONFIG_PATH="$tmp/root/usr/lib/pkgconfig"
cflags=$(pkg-config --cflags libtld)
libs=$(pkg-config --libs libtld)
cd "$tmp"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I. $cflags \
	-c "$src/test/downstream/probe.bpf.c" -o probe.bpf.o
cc -Wall -Werror $cflags "$src/test/downstream/app.c" -o app $libs \
	$(pkg-config --libs libbpf) -Wl,-rpath,"$tmp/root/usr/lib"
"$tmp/root/usr/sbin/tldtool" --path "$map" map create >/dev/null
TLD_MAP_PATH=$map ./app probe.bpf.o
