#!/bin/bash
# nc and socat, TCP and UDP, both directions: under shunt against the kernel
# and the kernel against them under shunt.  Bytes are compared.
. "$(dirname "$0")/lib.bash"
command -v socat >/dev/null || pl_skip "socat not installed"
pl_setup
head -c 3000000 /dev/urandom > "$PL_TMP/data"
want=$(sha256sum < "$PL_TMP/data" | cut -d' ' -f1)
check() {	# file what
	[ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$want" ] || pl_fail "$2: bytes differ"
	echo "ok: $2"
}

# TCP: server under shunt (socat), client on the kernel (nc).  socat accepts once:
# wait for the shim's log line, not with a probing connection.
PL_SHUNT_OPTS=(--log info)
pl_bg s1 bash -c "$(declare -f pl_shunt); NS=$NS SHUNT_BIN=$SHUNT_BIN SIP=$SIP EAL='$EAL'; PL_SHUNT_OPTS=(--log info); \
    pl_shunt socat -u TCP-LISTEN:7001,bind=$SIP,reuseaddr OPEN:$PL_TMP/r1,creat,trunc 2> $PL_TMP/s1.log"
pl_wait_log "$PL_TMP/s1.log" "shunt (bind $SIP:7001)" || pl_fail "socat under shunt did not bind"
PL_SHUNT_OPTS=()
sleep 0.3
pl_kernel timeout 30 nc -q 1 -N $SIP 7001 < "$PL_TMP/data" || pl_fail "nc to socat under shunt failed"
wait "$s1" 2>/dev/null
check "$PL_TMP/r1" "TCP kernel nc -> socat under shunt"

# TCP: server on the kernel (socat), client under shunt (nc).
pl_bg s2 pl_kernel socat -u TCP-LISTEN:7002,bind=$KIP,reuseaddr OPEN:"$PL_TMP/r2",creat,trunc
pl_wait_port 7002 || pl_fail "kernel socat did not listen"
pl_shunt timeout 30 nc -q 1 -N $KIP 7002 < "$PL_TMP/data" || pl_fail "nc under shunt failed"
wait "$s2" 2>/dev/null
check "$PL_TMP/r2" "TCP nc under shunt -> kernel socat"

# TCP: socat under shunt as the client, reading back through nc under shunt is covered above; now socat -> kernel nc.
pl_bg s3 pl_kernel sh -c "nc -l -p 7003 -s $KIP > $PL_TMP/r3"
pl_wait_port 7003 || pl_fail "kernel nc did not listen"
pl_shunt timeout 30 socat -u OPEN:"$PL_TMP/data" TCP:$KIP:7003 || pl_fail "socat under shunt (client) failed"
wait "$s3" 2>/dev/null
check "$PL_TMP/r3" "TCP socat under shunt -> kernel nc"

# UDP: datagrams both ways through socat's UDP echo (no "fork": a forked child cannot
# send on a shunt UDP socket it inherited; see README, fork).
head -c 1400 /dev/urandom > "$PL_TMP/dg"
pl_bg u1 bash -c "$(declare -f pl_shunt); NS=$NS SHUNT_BIN=$SHUNT_BIN SIP=$SIP EAL='$EAL'; PL_SHUNT_OPTS=(--log info); \
    pl_shunt socat UDP-RECVFROM:7004,bind=$SIP EXEC:cat 2> $PL_TMP/u1.log"
pl_wait_log "$PL_TMP/u1.log" "shunt (bind $SIP:7004)" || pl_fail "UDP socat under shunt did not bind"
sleep 0.3
out=$(pl_kernel timeout 5 socat -T 2 - UDP:$SIP:7004 < "$PL_TMP/dg" | sha256sum | cut -d' ' -f1)
[ "$out" = "$(sha256sum < "$PL_TMP/dg" | cut -d' ' -f1)" ] || pl_fail "UDP echo under shunt (kernel client) differs"
echo "ok: UDP kernel socat -> socat echo under shunt"
pl_bg u2 pl_kernel socat UDP-RECVFROM:7005,bind=$KIP,fork EXEC:cat
sleep 0.5
out=$(pl_shunt timeout 5 socat -T 2 - UDP:$KIP:7005 < "$PL_TMP/dg" | sha256sum | cut -d' ' -f1)
[ "$out" = "$(sha256sum < "$PL_TMP/dg" | cut -d' ' -f1)" ] || pl_fail "UDP socat under shunt -> kernel echo differs"
echo "ok: UDP socat under shunt -> kernel socat echo"
