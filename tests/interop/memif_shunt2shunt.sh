#!/bin/bash
# Two shunt processes over DPDK net_memif (shared memory, no kernel on the
# data path): examples/udp_echo_raw as the memif server, the raw-API client
# tests/tools/udp_client_raw as the memif client, sending 1000 datagrams of
# 1..8000 bytes and comparing every byte of every echo.  The socket lives in
# a per-test temp dir; both run inside a private netns anyway.
set -u
. "$(dirname "$0")/lib.bash"
it_require
it_need_pmd memif
it_need_built "$ECHO" "$CLIENT"
tb_init memif

tb_netns NS || exit 1
SOCK=$TB_DIR/memif.sock

step "start udp_echo_raw as memif server (198.18.2.2)"
tb_eal EAL_S "net_memif0,role=server,id=0,socket=$SOCK,socket-abstract=no,mac=02:00:c6:12:02:02" srv$$ || exit 1
tb_spawn PID_S "$NS" "$TB_DIR/server.log" "$ECHO" --dpdk "$EAL_S" --ip 198.18.2.2/24 --stats
tb_wait_log "$PID_S" "$TB_DIR/server.log" "echoing UDP" 20 || exit 1
grep "echoing UDP" "$TB_DIR/server.log"

step "udp_client_raw as memif client (198.18.2.1): 1000 datagrams of 1..8000 bytes"
tb_eal EAL_C "net_memif0,role=client,id=0,socket=$SOCK,socket-abstract=no,mac=02:00:c6:12:02:01" cli$$ || exit 1
seed=$(date +%s)
echo "seed $seed"
if timeout 300 ip netns exec "$NS" "$CLIENT" --dpdk "$EAL_C" --ip 198.18.2.1/24 --server 198.18.2.2 \
    --count 1000 --max-size 8000 --seed "$seed" --stats >"$TB_DIR/client.log" 2>&1; then
	ok "every datagram came back intact"
else
	bad "client reported failure"
fi
grep -v "^EAL:\|^TELEMETRY:" "$TB_DIR/client.log"
grep -q "1000/1000 datagrams echoed intact" "$TB_DIR/client.log" && ok "1000/1000 confirmed" ||
	bad "client did not confirm 1000/1000"

step "stop udp_echo_raw (SIGTERM) and read its counters"
tb_stop "$PID_S"
rc=$?
[ "$rc" = 0 ] && ok "clean exit" || bad "udp_echo_raw exited with status $rc"
sed -n '/stopping:/,$p' "$TB_DIR/server.log"
echoed=$(sed -n 's/.*stopping: \([0-9]*\) datagrams echoed.*/\1/p' "$TB_DIR/server.log")
[ "${echoed:-0}" -ge 1000 ] && ok "server echoed $echoed datagrams" || bad "server echoed ${echoed:-0} datagrams"
for c in ip_drop_csum udp_drop_csum rx_drop_nopbuf tx_drop_nombuf tx_drop_full tx_drop_bad; do
	for log in "$TB_DIR/server.log" "$TB_DIR/client.log"; do
		v=$(it_counter "$log" $c)
		[ "$v" = 0 ] || bad "$c = $v in ${log##*/}"
	done
done
it_finish
