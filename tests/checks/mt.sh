#!/bin/bash
# The multi-threaded tests: $BUILD/tests/mt (plain: the 8-thread stress test
# and the idle-CPU measurement) and $BUILD/tests/mt-tsan (the same under
# ThreadSanitizer, where any report fails the run).  Each binary prints its
# own tally; this passes when both report no failure and TSan said nothing.
set -u
BUILD=${BUILD:-build}
LIMIT=${MT_TIMEOUT:-110}
rc=0

run() {	# name binary [env...]
	local name=$1 bin=$2 log tally failed st
	shift 2
	[ -x "$bin" ] || { echo "$bin not built"; rc=1; return; }
	log=$(mktemp)
	env "$@" SHUNT_TEST_TIMEOUT=$LIMIT timeout --kill-after=5 "$LIMIT" "$bin" >"$log" 2>&1
	st=$?
	grep -v '^PASS ' "$log" | grep -v ' passed, '
	tally=$(tail -n 1 "$log")
	failed=$(echo "$tally" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	echo "$name: $tally"
	if [ -z "$failed" ] || [ "$failed" != 0 ] || [ "$st" != 0 ]; then
		echo "$name: failed (exit $st)"
		rc=1
	fi
	if grep -q 'WARNING: ThreadSanitizer' "$log"; then
		echo "$name: ThreadSanitizer reported a problem"
		rc=1
	fi
	rm -f "$log"
}

run mt "$BUILD/tests/mt"
run mt-tsan "$BUILD/tests/mt-tsan" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
exit $rc
