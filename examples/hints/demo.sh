#!/bin/sh
# make demo: create the tld map, run threads that publish hints under a BPF
# consumer, look at the hints with tldtool while they run, and show what
# BPF saw next to what the threads wrote.
set -eu
O=${O:-build}
echo "== tldtool map create"
"$O/tldtool" map create
echo
echo "== hintstat -- hints 6 3   (6 threads, 3 s, on $(nproc) CPUs)"
"$O/examples/hintstat" -- "$O/examples/hints" 6 3 >"$O/demo.out" &
consumer=$!
sleep 1.5
app=$(pgrep -n -f "$O/examples/hints 6 3" || true)
"$O/tldtool" show "$app" >"$O/demo.show" 2>&1 || true
wait "$consumer" && status=0 || status=$?
cat "$O/demo.out"
echo
echo "== tldtool show $app   (taken halfway through)"
cat "$O/demo.show"
exit "$status"
