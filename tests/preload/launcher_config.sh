#!/bin/bash
# The launcher and the configuration: --help/--version; a program that makes
# no network calls behaves identically under shunt; a bad setting is one line
# naming it, and the program runs on the kernel.
. "$(dirname "$0")/lib.bash"
"$SHUNT_BIN" --help | grep -q "usage: shunt" || pl_fail "--help"
"$SHUNT_BIN" --version | grep -q "^shunt [0-9]" || pl_fail "--version"
"$SHUNT_BIN" > /dev/null 2>&1 && pl_fail "no program should be an error"
echo "ok: --help, --version, usage errors"

prog='ls -la /usr/share/doc/bash 2>&1; echo "$((6 * 7))"; sort /etc/passwd | head -3; exit 7'
a=$(sh -c "$prog"; echo "status $?")
b=$(SHUNT_IP=198.18.0.2/24 SHUNT_DPDK='--no-huge' "$SHUNT_BIN" -- sh -c "$prog" 2>&1; echo "status $?")
[ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b"); pl_fail "output or status changed under shunt"; }
echo "ok: a program without network calls is unchanged (output and exit status)"

pl_setup
pl_bg srv pl_kernel python3 -m http.server --bind $KIP 8000
pl_wait_port 8000 || pl_fail "kernel http server did not start"
for bad in "SHUNT_IP=198.18.0.300/24" "SHUNT_POLL=sometimes" "SHUNT_SPIN_US=-5" "SHUNT_RULES=shunt:nonsense"; do
	out=$(ip netns exec "$NS" env SHUNT_IP=198.18.0.2/24 SHUNT_DPDK="$EAL" "$bad" \
	    LD_PRELOAD="$ROOT/$BUILD/libshunt-preload.so" curl -sS -o /dev/null -w '%{http_code}' "http://$KIP:8000/" 2> "$PL_TMP/err")
	[ "$out" = 200 ] || pl_fail "$bad: the program did not run on the kernel ($out)"
	[ "$(wc -l < "$PL_TMP/err")" = 1 ] || { cat "$PL_TMP/err"; pl_fail "$bad: want exactly one line"; }
	grep -q "${bad%%=*}" "$PL_TMP/err" || pl_fail "$bad: the line does not name the setting: $(cat "$PL_TMP/err")"
	echo "ok: $bad -> $(cat "$PL_TMP/err")"
done
out=$(ip netns exec "$NS" env SHUNT_IP=198.18.0.2/24 LD_PRELOAD="$ROOT/$BUILD/libshunt-preload.so" \
    curl -sS -o /dev/null -w '%{http_code}' "http://$KIP:8000/" 2> "$PL_TMP/err")
[ "$out" = 200 ] && grep -q SHUNT_DPDK "$PL_TMP/err" || pl_fail "missing SHUNT_DPDK not reported"
echo "ok: a missing SHUNT_DPDK is reported and the program runs on the kernel"
