#!/bin/bash
# A forking server under shunt: socat accepts on shunt and forks a child per
# connection that echoes it (cat).  Several kernel clients at once, each
# byte checked; the parent's listener keeps working throughout.
. "$(dirname "$0")/lib.bash"
command -v socat >/dev/null || pl_skip "socat not installed"
pl_setup
pl_bg srv bash -c "$(declare -f pl_shunt); NS=$NS SHUNT_BIN=$SHUNT_BIN SIP=$SIP EAL='$EAL'; PL_SHUNT_OPTS=(--log info); \
    pl_shunt socat TCP-LISTEN:7100,bind=$SIP,reuseaddr,fork EXEC:cat 2> $PL_TMP/srv.log"
pl_wait_log "$PL_TMP/srv.log" "shunt (bind $SIP:7100)" || pl_fail "socat under shunt did not bind"
sleep 0.3
for i in 1 2 3 4 5 6; do
	head -c $((200000 * i)) /dev/urandom > "$PL_TMP/in$i"
done
pids=()
for i in 1 2 3 4 5 6; do
	pl_kernel timeout 30 python3 - "$SIP" 7100 "$PL_TMP/in$i" "$PL_TMP/out$i" <<'PY' &
import socket, sys, threading
host, port, src, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = open(src, 'rb').read()
s = socket.create_connection((host, port), timeout=20)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
t.join()
open(dst, 'wb').write(got)
PY
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || pl_fail "a client failed"
done
for i in 1 2 3 4 5 6; do
	cmp -s "$PL_TMP/in$i" "$PL_TMP/out$i" || pl_fail "connection $i: echo differs ($(stat -c %s "$PL_TMP/out$i") of $(stat -c %s "$PL_TMP/in$i") bytes)"
done
echo "ok: 6 concurrent connections, each served by a forked child, echoed intact"
grep -q "relaying it for a forked child" "$PL_TMP/srv.log" || pl_fail "no relay was used"
echo "ok: the parent relayed the connections it handed to children"
