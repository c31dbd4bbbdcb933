#!/bin/sh
# make demo: create the tld map, run threads that publish hints under a BPF
# consumer, and show what BPF saw next to what the threads wrote.
set -eu
O=${O:-build}
echo "== tldtool map create"
"$O/tldtool" map create
echo
echo "== hintstat -- hints 6 3   (6 threads, 3 s, on $(nproc) CPUs)"
"$O/examples/hintstat" -- "$O/examples/hints" 6 3
