#!/bin/sh
# kernel.sh NAME: fetch (once) a Debian kernel for the VM tests and print
# the directory holding its vmlinuz, the modules the guest needs, and, for
# kernels with BTF, its vmlinux.h.
#
#   7.3        linux-binary-7.3.4+deb13-amd64 (trixie-backports): sched_ext,
#              UPTR; 9p is modular, so the four 9p modules come along
#   6.12-cloud the newest linux-image-6.12.*-cloud-amd64 of trixie: no UPTR,
#              no 9p (the guest's files are packed into its initramfs)
set -eu
name=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TLD_CACHE:-/var/cache/tld}
dir=$cache/vm/$name

[ -f "$dir/ready" ] && { echo "$dir"; exit 0; }
rm -rf "$dir"
mkdir -p "$dir/modules"

case $name in
7.3)
	release=7.3.4+deb13-amd64
	image=$("$root/scripts/fetch-deb.sh" "linux-binary-$release")
	mods=$("$root/scripts/fetch-deb.sh" "linux-modules-$release")
	dpkg-deb --fsys-tarfile "$mods" | tar -x -C "$dir" --wildcards \
			'*/fs/9p/9p.ko.xz' '*/fs/netfs/netfs.ko.xz' \
			'*/net/9p/9pnet.ko.xz' '*/net/9p/9pnet_virtio.ko.xz'
	find "$dir" -name '*.ko.xz' -exec mv -t "$dir/modules" {} +
	xz -d "$dir"/modules/*.ko.xz
	;;
6.12-cloud)
	meta=$("$root/scripts/fetch-deb.sh" linux-image-cloud-amd64 trixie)
	pkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-6\.12[^ ]*\).*/\1/p' | head -n 1)
	image=$("$root/scripts/fetch-deb.sh" "$pkg" trixie)
	;;
*)
	echo "kernel.sh: unknown kernel '$name' (7.3 or 6.12-cloud)" >&2
	exit 2
	;;
esac

dpkg-deb --fsys-tarfile "$image" | tar -x -C "$dir" --wildcards '*/vmlinuz*'
find "$dir" -name 'vmlinuz*' -type f -exec mv {} "$dir/vmlinuz.tmp" \;
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name modules -exec rm -rf {} +

# The bzImage's payload is a zstd stream holding the ELF vmlinux, whose
# .BTF section is what a scheduler for this kernel is compiled against.
off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$dir/vmlinuz" | head -n 1 | cut -d: -f1)
if [ -n "$off" ]; then
	tail -c +$((off + 1)) "$dir/vmlinuz" | zstd -dcq 2>/dev/null >"$dir/vmlinux" || true
	if bpftool btf dump file "$dir/vmlinux" format c >"$dir/vmlinux.h" 2>/dev/null; then
		:
	else
		rm -f "$dir/vmlinux.h"
	fi
	rm -f "$dir/vmlinux"
fi
touch "$dir/ready"
echo "$dir"
