#!/bin/sh
# Run the test programs, one line each, then the totals: every program in
# $O/test (or those named in $TESTS), the same against the ASan build in
# $O/asan/test and the clang build in $O/clang/test, the fuzzers in
# $O/fuzz, each also over its regression inputs in test/fuzz/corpus/NAME,
# $COMPACT_TESTS again with TLD_COMPACT=64, and $VALGRIND_TESTS under
# valgrind. A program exits 0 (pass), 77 (skip)
# or anything else (fail). With PLAIN_ONLY=1, only the first. Then, if
# built, the VM tests.
O=${O:-build}
# A bpffs of the run's own: the host's may keep others out of its root
# (some systems mount it 0700, and the unprivileged tests then fail), and
# what a test pins must neither meet nor outlive other pins.
if [ -z "${TLD_TEST_BPFFS:-}" ]; then
	TLD_TEST_BPFFS=1 exec unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$0" "$@"' \
		"$0" "$@"
fi
VALGRIND_TESTS=${VALGRIND_TESTS-thread_exit}
here=$(dirname "$0")
pass=0
fail=0
skip=0

# run NAME COMMAND...
run() {
	name=$1
	shift
	out=$(timeout "${TEST_TIMEOUT:-900}" "$@" 2>&1)
	rc=$?
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $name"
		;;
	77)
		skip=$((skip + 1))
		echo "SKIP $name: $(echo "$out" | tail -n 1)"
		;;
	*)
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc)"
		echo "$out" | tail -n 40 | sed 's/^/    /'
		;;
	esac
}

# programs DIR: the test programs built in DIR
programs() {
	[ -d "$1" ] || return 0
	for t in ${TESTS:-$(ls "$1")}; do
		case $t in *.*) continue ;; esac
		[ -f "$1/$t" ] && [ -x "$1/$t" ] && echo "$t"
	done
}

rm -rf /sys/fs/bpf/tld-test
for t in $(programs "$O/test"); do
	run "$t" "$O/test/$t"
done
[ -n "${PLAIN_ONLY:-}" ] && VALGRIND_TESTS=
# Again in the compact layout, those that fit it: not the tests that need
# more than 64 data bytes per thread, or a page of each thread's own.
COMPACT_TESTS=${COMPACT_TESTS-basic fork stale_tid security strict exec recover fini callback keys vouch}
for t in $([ -n "${PLAIN_ONLY:-}" ] || echo $COMPACT_TESTS); do
	[ -z "${TESTS:-}" ] || echo " $TESTS " | grep -q " $t " || continue
	[ -x "$O/test/$t" ] && run "compact/$t" env TLD_COMPACT=64 "$O/test/$t"
done
for t in $([ -n "${PLAIN_ONLY:-}" ] || programs "$O/asan/test"); do
	run "asan/$t" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$O/asan/test/$t"
done
for t in $([ -n "${PLAIN_ONLY:-}" ] || programs "$O/clang/test"); do
	run "clang/$t" "$O/clang/test/$t"
done
# fuzz NAME FUZZER ARGS...: a crash fails (libFuzzer's own exit code, 77,
# would be a skip) and leaves its input in $O/fuzz, not in the current
# directory.
fuzz() {
	name=$1
	shift
	run "$name" "$@" -error_exitcode=1 -artifact_prefix="$O/fuzz/"
}

for t in $([ -n "${PLAIN_ONLY:-}" ] || programs "$O/fuzz"); do
	fuzz "fuzz/$t" "$O/fuzz/$t" -runs="${FUZZ_RUNS:-300000}" -seed=1 -max_len=8192
	# Inputs that once crashed it, each run once; named files, not the
	# directory, which libFuzzer would add its new inputs to.
	[ -d "$here/fuzz/corpus/$t" ] &&
		fuzz "fuzz/$t/corpus" "$O/fuzz/$t" "$here/fuzz/corpus/$t"/*
done
for t in $VALGRIND_TESTS; do
	[ -z "${TESTS:-}" ] || echo " $TESTS " | grep -q " $t " || continue
	run "valgrind/$t" env TH_VALGRIND=1 "$here/../scripts/valgrind.sh" -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$O/test/$t"
done
# The Debian packages, if make deb built them: installed, checked, removed.
if [ -z "${PLAIN_ONLY:-}" ] && [ -z "${TESTS:-}" ] && ls "$O"/deb/*.deb >/dev/null 2>&1; then
	run deb/install "$here/../scripts/deb.sh" check "$O/deb"
fi
# In Debian's kernels under qemu (test/vm): the suite (where UPTR and arena
# maps must work, so no test skips for want of them), scx_tld, and the
# balancer under scx_tld on two CPUs in 7.3, and what a kernel without
# UPTR, 6.12, gets. make vm-tests builds them.
if [ -z "${PLAIN_ONLY:-}" ] && [ -z "${TESTS:-}" ] && [ -x "$O/vm/sched" ]; then
	run vm-7.3/suite "$here/vm/run.sh" -k 7.3 -t 840 -- \
		env O="$O" PLAIN_ONLY=1 TLD_EXPECT_UPTR=1 TLD_EXPECT_ARENA=1 "$here/run.sh"
	run vm-7.3/sched "$here/vm/run.sh" -k 7.3 -c 1 -d -t 600 -- "$O/vm/sched"
	run vm-7.3/balance "$here/vm/run.sh" -k 7.3 -c 2 -t 300 -- "$O/vm/balance"
	run vm-6.12-cloud/uptr "$here/vm/run.sh" -k 6.12-cloud -t 300 -p "$O/test/uptr" \
		-p "$O/tldtool" -- env TLD_EXPECT_UPTR=0 "$O/test/uptr"
fi
rm -rf /sys/fs/bpf/tld-test
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
