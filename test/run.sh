#!/bin/sh
# Run every test program in $O/test (or those named in $TESTS), one line
# each, then the totals. A test exits 0 (pass), 77 (skip) or else (fail).
O=${O:-build}
pass=0
fail=0
skip=0
rm -rf /sys/fs/bpf/tld-test
for t in ${TESTS:-$(ls "$O"/test)}; do
	bin=$O/test/$t
	case $t in *.*) continue ;; esac
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	out=$(timeout "${TEST_TIMEOUT:-600}" "$bin" 2>&1)
	rc=$?
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $t"
		;;
	77)
		skip=$((skip + 1))
		echo "SKIP $t: $(echo "$out" | tail -n 1)"
		;;
	*)
		fail=$((fail + 1))
		echo "FAIL $t (exit $rc)"
		echo "$out" | tail -n 40 | sed 's/^/    /'
		;;
	esac
done
rm -rf /sys/fs/bpf/tld-test
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
