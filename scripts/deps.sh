#!/bin/sh
# Install what tld needs on Debian 12, for a purpose: build (the default),
# vm (the sched_ext VM tests), bench, or deb (make deb). Needs root only
# when something is missing; otherwise it does nothing.
set -eu
here=$(dirname "$0")
purpose=${1:-build}

have() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || return 1
	done
}

build_ready() {
	have clang-19 clang++-19 llvm-strip-19 bpftool gcc g++ make pkg-config xz groff &&
		pkg-config --atleast-version=1.4 libbpf &&
		[ -f /usr/include/gelf.h ] && [ -f /usr/include/zlib.h ] &&
		[ -f /usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.fuzzer-x86_64.a ]
}

backports() {
	f=/etc/apt/sources.list.d/bookworm-backports.sources
	[ -f "$f" ] && return 0
	cat >"$f" <<EOT
Types: deb
URIs: $("$here/debian-mirror.sh")
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
}

install() {
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages for '$purpose'; run as root to install them" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "${updated:-}" ]; then
		backports
		apt-get update -qq
		updated=1
	fi
	apt-get install -y -qq "$@" >/dev/null
}

case $purpose in
build)
	build_ready && exit 0
	install clang-19 llvm-19 libclang-rt-19-dev gcc g++ make pkg-config libelf-dev zlib1g-dev \
		xz-utils groff-base
	install -t bookworm-backports libbpf-dev bpftool
	;;
vm)
	have qemu-system-x86_64 busybox xz zstd && exit 0
	install qemu-system-x86 busybox-static xz-utils zstd
	;;
bench)
	have gnuplot && exit 0
	install gnuplot-nox
	;;
deb)
	have dpkg-buildpackage dh lintian && exit 0
	install dpkg-dev debhelper lintian
	;;
*)
	echo "usage: deps.sh [build|vm|bench|deb]" >&2
	exit 2
	;;
esac
