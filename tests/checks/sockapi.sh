#!/bin/bash
# The socket-semantics suite ($BUILD/tests/sockapi): every test runs against
# the kernel's sockets and against shunt's socket API.  The kernel half sends
# packets on loopback only, inside a network namespace made for this run and
# deleted on exit.  Passes when the binary reports no failure; prints its
# tally.  Arguments are passed on as test-name filters.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/tests/sockapi
LIMIT=${SOCKAPI_TIMEOUT:-240}

[ -x "$BIN" ] || { echo "$BIN not built"; exit 1; }
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "needs root and iproute2 for a private network namespace"
	exit 77
fi
NS=shunt-sockapi-$$
cleanup() {
	# Anything of ours still inside (a test's stray child) goes with the namespace.
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! ip netns add "$NS" 2>/dev/null; then
	echo "cannot create a network namespace"
	exit 77
fi
ip -n "$NS" link set lo up || exit 1

LOG=$(mktemp)
SHUNT_TEST_TIMEOUT=60 timeout --kill-after=5 "$LIMIT" ip netns exec "$NS" "$BIN" "$@" >"$LOG" 2>&1
rc=$?
grep -v '^PASS ' "$LOG"
tally=$(tail -n 1 "$LOG")
rm -f "$LOG"
[ "$rc" = 124 ] || [ "$rc" = 137 ] && { echo "timed out after $LIMIT s"; exit 1; }
failed=$(echo "$tally" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$failed" ] || { echo "no tally from $BIN (exit $rc)"; exit 1; }
echo "sockapi: $tally"
[ "$failed" = 0 ] && [ "$rc" = 0 ]
