#!/bin/sh
# make vm-demo runs this inside Debian's 7.3 kernel, on one vCPU: latwork
# under the kernel's own scheduler, then under scx_tld, which reads the
# hints latwork's threads publish through libtld.
set -eu
O=${1:-build}

"$O/tldtool" map create
echo "== latwork under the kernel's scheduler (EEVDF), which knows no hints"
"$O/vm/latwork" 4 200
echo "== latwork under scx_tld"
"$O/vm/scx_tld" -i 2 &
sched=$!
sleep 1
cat /sys/kernel/sched_ext/root/ops /sys/kernel/sched_ext/state
"$O/vm/latwork" 4 200
kill -INT "$sched"
wait "$sched"
"$O/tldtool" map remove
