#!/bin/bash
# Unmodified curl and wget under shunt fetch a 50 MB file from a kernel HTTP
# server over DPDK net_tap; the bytes must be the same (sha256).
. "$(dirname "$0")/lib.bash"
pl_setup
head -c 50000000 /dev/urandom > "$PL_TMP/big.bin"
want=$(sha256sum < "$PL_TMP/big.bin" | cut -d' ' -f1)
pl_bg srv pl_kernel python3 -m http.server --bind $KIP --directory "$PL_TMP" 8000
pl_wait_port 8000 || pl_fail "kernel http server did not start"

pl_shunt timeout 60 curl -sS -o "$PL_TMP/got.curl" "http://$KIP:8000/big.bin" || pl_fail "curl under shunt failed"
got=$(sha256sum < "$PL_TMP/got.curl" | cut -d' ' -f1)
[ "$got" = "$want" ] || pl_fail "curl: sha256 $got != $want"
echo "ok: curl under shunt fetched 50 MB intact"

pl_shunt timeout 60 wget -q -O "$PL_TMP/got.wget" "http://$KIP:8000/big.bin" || pl_fail "wget under shunt failed"
got=$(sha256sum < "$PL_TMP/got.wget" | cut -d' ' -f1)
[ "$got" = "$want" ] || pl_fail "wget: sha256 $got != $want"
echo "ok: wget under shunt fetched 50 MB intact"

# The shim said which way the socket went.
PL_SHUNT_OPTS=(--log info)
pl_shunt timeout 30 curl -sS -o /dev/null "http://$KIP:8000/big.bin" 2> "$PL_TMP/log" || pl_fail "curl (logged) failed"
grep -q "shunt (connect $KIP:8000)" "$PL_TMP/log" || { cat "$PL_TMP/log"; pl_fail "no log line for the shunt socket"; }
echo "ok: the log names the socket's way"
