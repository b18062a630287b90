#!/bin/bash
# The test runner of `make check`: runs every suite, prints what each test
# did, and ends with one line "N passed, N failed, N skipped".
#
#   tests/run.sh BUILD [filter]
#
# Suites: the unit tests (plain and under ASan+UBSan; each prints its own
# tally, which is added in), the export-list check, the fuzzers for a short
# bounded time, and the scripts in tests/interop/, tests/preload/,
# tests/e2e/ and tests/adversarial/ (each one test: exit 0 pass, 77 skip,
# anything else fail).
set -u
BUILD=${1:-build}
FILTER=${2:-}
export BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
passed=0 failed=0 skipped=0
failures=""

note() { printf '%s\n' "$*"; }

add_tally() {	# parse "N passed, N failed, N skipped" from a suite's last line
	local line=$1 name=$2 p f s
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		failed=$((failed + 1)); failures="$failures $name(no-tally)"; return
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
	[ "$f" != 0 ] && failures="$failures $name"
}

run_unit() {	# name binary
	local name=$1 bin=$2 last
	[ -x "$bin" ] || { note "FAIL $name: $bin not built"; failed=$((failed + 1)); return; }
	note "== $name"
	"$bin" $FILTER 2>&1 | tee "$LOGDIR/$name.log" | grep -v '^PASS ' | grep -v ' passed, '
	last=$(tail -n 1 "$LOGDIR/$name.log")
	note "   $last"
	add_tally "$last" "$name"
}

run_script() {	# path [timeout]
	local t=$1 limit=${2:-900} name rc start end
	name=$(echo "$t" | sed 's|^tests/||; s|\.sh$||')
	if [ -n "$FILTER" ] && ! echo "$name" | grep -q -- "$FILTER"; then return; fi
	start=$(date +%s)
	timeout --kill-after=10 "$limit" "$t" >"$LOGDIR/$(echo "$name" | tr / _).log" 2>&1
	rc=$?
	end=$(date +%s)
	case $rc in
	0) note "PASS $name ($((end - start)) s)"; passed=$((passed + 1)) ;;
	77) note "SKIP $name: $(tail -n 1 "$LOGDIR/$(echo "$name" | tr / _).log")"; skipped=$((skipped + 1)) ;;
	*) note "FAIL $name (exit $rc, $((end - start)) s) — log: $LOGDIR/$(echo "$name" | tr / _).log"
	   tail -n 15 "$LOGDIR/$(echo "$name" | tr / _).log" | sed 's/^/    /'
	   failed=$((failed + 1)); failures="$failures $name" ;;
	esac
}

run_unit unit "$BUILD/tests/unit"
SHUNT_TEST_TIMEOUT=900 run_unit unit-asan-ubsan "$BUILD/tests/unit-san"

note "== checks, fuzzers, interop, end to end"
for t in tests/checks/*.sh; do [ -f "$t" ] && run_script "$t" 300; done
for t in tests/fuzz/*.sh; do [ -f "$t" ] && run_script "$t" 600; done
for t in tests/interop/*.sh tests/preload/*.sh tests/e2e/*.sh tests/adversarial/*.sh; do
	[ -f "$t" ] && run_script "$t" 900
done

[ -n "$failures" ] && note "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
