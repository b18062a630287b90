#!/bin/sh
# Runs every libFuzzer harness for a bounded time over its committed corpus
# (tests/fuzz/corpus/NAME).  New inputs go to a temporary directory, so the
# repository stays untouched; `make fuzz` runs longer and keeps them.
set -eu
BUILD=${BUILD:-build}
SECS=${FUZZ_SMOKE_SECONDS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$tmp/$name"
	echo "== $name for ${SECS}s"
	"$f" -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="$tmp/" \
	    "$tmp/$name" "tests/fuzz/corpus/$name" 2>"$tmp/$name.log" || {
		tail -n 40 "$tmp/$name.log"; echo "$name failed"; exit 1; }
	grep -E 'stat::number_of_executed_units|stat::new_units_added' "$tmp/$name.log"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no fuzzers built in $BUILD/fuzz"; exit 1; }
echo "$n fuzzers ran clean"
