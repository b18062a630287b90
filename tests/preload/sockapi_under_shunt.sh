#!/bin/bash
# The socket-semantics suite, compiled once as a plain Linux program
# (tests/sockapi-plain, no shunt in it), gives the same results run plainly
# on the kernel's loopback and run under the shim with both ends on shunt's
# address.  Where shunt differs on purpose the suite says so (via_shim).
. "$(dirname "$0")/lib.bash"
BIN=$ROOT/$BUILD/tests/sockapi-plain
[ -x "$BIN" ] || pl_fail "$BIN not built"
pl_setup
ip netns exec "$NS" env SOCKAPI_SERVER_IP=127.0.0.1 SOCKAPI_CLIENT_IP=127.0.0.1 timeout 300 "$BIN" \
    > "$PL_TMP/plain" 2>&1
plain=$(tail -n 1 "$PL_TMP/plain")
ip netns exec "$NS" env SOCKAPI_SERVER_IP=$SIP SOCKAPI_CLIENT_IP=$SIP timeout 400 \
    "$SHUNT_BIN" --ip $SIP/24 --dpdk "$EAL" -- "$BIN" > "$PL_TMP/shunt" 2>&1
shunted=$(tail -n 1 "$PL_TMP/shunt")
echo "plain:       $plain"
echo "under shunt: $shunted"
grep -v '^PASS' "$PL_TMP/shunt" | head -40
case "$plain" in *" 0 failed"*) ;; *) pl_fail "the suite fails on the kernel itself" ;; esac
[ "$plain" = "$shunted" ] || pl_fail "results differ"
diff <(grep -E '^(PASS|FAIL|SKIP)' "$PL_TMP/plain" | sed 's/ (.*//') \
    <(grep -E '^(PASS|FAIL|SKIP)' "$PL_TMP/shunt" | sed 's/ (.*//') || pl_fail "per-test results differ"
echo "ok: the same binary gives the same results plainly and under shunt"
