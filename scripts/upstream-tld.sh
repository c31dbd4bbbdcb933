#!/bin/sh
# Put the kernel selftests' task local data headers, from Debian's
# linux-source-7.3, in DIR: tld tests and benchmarks compare against them.
# They are extracted at build time and never committed.
set -eu
here=$(dirname "$0")
dest=$1
sel=tools/testing/selftests/bpf
[ -f "$dest/task_local_data.bpf.h" ] && [ -f "$dest/task_local_data.h" ] && exit 0
deb=$("$here/fetch-deb.sh" linux-source-7.3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*/linux-source-7.3.tar.xz'
tar -xJf "$tmp"/usr/src/linux-source-7.3.tar.xz -C "$tmp" \
	"linux-source-7.3/$sel/progs/task_local_data.bpf.h" \
	"linux-source-7.3/$sel/prog_tests/task_local_data.h"
mkdir -p "$dest"
cp "$tmp/linux-source-7.3/$sel/progs/task_local_data.bpf.h" \
	"$tmp/linux-source-7.3/$sel/prog_tests/task_local_data.h" "$dest/"
