#!/bin/sh
# run.sh [-k KERNEL] [-c CPUS] [-d] [-p FILE]... [-t SECONDS] -- COMMAND...
#
# Boot a Debian kernel (test/vm/kernel.sh names them) under qemu with
# software emulation, run COMMAND inside as root in the host's current
# directory, and exit with its status. COMMAND's output is printed; a guest
# that crashes or outlives SECONDS is a failure, and its console is shown.
#
# With 9p (the 7.3 kernel) the guest chroots into the host's root, mounted
# read-only, with fresh /proc, /sys, /dev, bpffs, cgroup2 and a tmpfs /tmp.
# Without it (6.12-cloud), each FILE given with -p is packed into the
# initramfs at its own path, with the shared libraries it needs.
#
# KVM is not used: the host's is a nested para-virtual one that crashes
# stock kernels. TCG with one thread boots in about 3 s.
#
# -d gives the guest deterministic time: its clocks count instructions
# (qemu -icount), so the host descheduling qemu's one thread does not show
# up as guest latency. About 2.5x slower; for tests that time the guest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kernel=7.3
cpus=2
icount=
timeout=600
pack=
while getopts k:c:dp:t: opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	c) cpus=$OPTARG ;;
	d) icount="-icount shift=0,sleep=off" ;;
	p) pack="$pack $OPTARG" ;;
	t) timeout=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "usage: run.sh [-k KERNEL] [-c CPUS] [-d] [-p FILE]... [-t SECONDS] -- COMMAND..." >&2; exit 2; }

kdir=$("$here/kernel.sh" "$kernel")
work=$(mktemp -d /tmp/tld-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/host"
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$kdir"/modules/*.ko "$root/lib/modules/" 2>/dev/null || true

# pack FILE: FILE and the shared objects it loads, each at its own path.
pack_file() {
	mkdir -p "$root$(dirname "$1")"
	cp -L "$1" "$root$1"
	ldd "$1" 2>/dev/null | sed -n 's|.*=> \(/[^ ]*\).*|\1|p; s|^[[:space:]]*\(/[^ ]*\) .*|\1|p' |
		while read -r lib; do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
}
for f in $pack; do
	case $f in /*) ;; *) f=$PWD/$f ;; esac
	pack_file "$f"
done

# The command, quoted for the guest's sh.
cmd=
for a in "$@"; do
	cmd="$cmd '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"
done

cat >"$root/init" <<EOT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
r=
if [ -e /lib/modules/9p.ko ]; then
	for m in netfs 9pnet 9pnet_virtio 9p; do insmod /lib/modules/\$m.ko; done
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host
	r=/host
	mount -t proc proc \$r/proc
	mount -t sysfs sys \$r/sys
	mount -t devtmpfs dev \$r/dev
fi
mount -t bpf bpf \$r/sys/fs/bpf
mount -t cgroup2 cgroup2 \$r/sys/fs/cgroup
mount -t tracefs tracefs \$r/sys/kernel/tracing 2>/dev/null
# A fresh /tmp, except for the working directory if it lives there.
mkdir -p /hosttmp
mount -o bind \$r/tmp /hosttmp
mount -t tmpfs tmp \$r/tmp
case $PWD in /tmp/*)
	mkdir -p \$r$PWD
	mount -o bind /hosttmp${PWD#/tmp} \$r$PWD ;;
esac
cp /cmd \$r/tmp/.tld-vm-cmd
echo tld-vm: begin
chroot \${r:-/} /bin/sh /tmp/.tld-vm-cmd </dev/null
echo "tld-vm: exit \$?"
poweroff -f
EOT
printf 'cd %s && exec%s\n' "$PWD" "$cmd" >"$root/cmd"
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd"

log=$work/console
rc=0
timeout "$timeout" qemu-system-x86_64 -accel tcg,thread=single -cpu max -m 2G -smp "$cpus" $icount \
	-kernel "$kdir/vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 rdinit=/init panic=-1 oops=panic quiet loglevel=3" \
	-fsdev local,id=fs0,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot \
	-display none -serial "file:$log" -monitor none -nic none -no-reboot \
	</dev/null || rc=$?
tr -d '\r' <"$log" >"$log.txt"
status=$(sed -n 's/^tld-vm: exit \([0-9]*\)$/\1/p' "$log.txt" | tail -n 1)
if [ -z "$status" ]; then
	if [ "$rc" = 124 ]; then
		echo "vm: the $kernel guest did not finish within ${timeout}s; its console:"
	else
		echo "vm: the $kernel guest stopped without an exit status (qemu: $rc); its console:"
	fi
	tail -n 80 "$log.txt"
	exit 1
fi
sed -n '/^tld-vm: begin$/,/^tld-vm: exit [0-9]*$/p' "$log.txt" | sed '1d;$d'
exit "$status"
