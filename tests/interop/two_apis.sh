#!/bin/bash
# examples/two_apis over DPDK net_tap in a private netns: one process, one
# stack, a raw-API UDP echo and a socket-API TCP echo on the same port at
# the same time.  The kernel sends 500 UDP datagrams of 1..8000 bytes
# (udp_check.py) while four TCP connections each push 4 MB through the TCP
# echo (tcp_check.py); both must come back intact, and the program's counters
# must show both services at work.  It stops cleanly on SIGTERM.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3 nc
it_need_pmd tap
it_need_built "$TWO_APIS"
tb_init twoapis
tb_netns NS || exit 1

step "start two_apis"
tt_start PID "$NS" "$TB_DIR/two.log" "echoing UDP" "$TWO_APIS" --dpdk @EAL@ --ip 198.18.0.2/24 --stats || exit 1
grep "echoing UDP" "$TB_DIR/two.log"

step "one of each"
out=$(echo tcp-line | timeout 10 ip netns exec "$NS" nc -q 1 198.18.0.2 7)
[ "$out" = tcp-line ] && ok "TCP (socket API) echoed a line" || bad "TCP answered \"$out\""
if timeout 30 ip netns exec "$NS" python3 "$UDPCHECK" few 198.18.0.2 --count 3; then
	ok "UDP (raw API) echoed datagrams"
else
	bad "UDP echo"
fi

step "both at once: 500 UDP datagrams while 4 TCP connections send 4 MB each"
timeout 120 ip netns exec "$NS" python3 "$UDPCHECK" echo 198.18.0.2 --count 500 --max-size 8000 \
    >"$TB_DIR/udp.out" 2>&1 &
UDP=$!
if timeout 120 ip netns exec "$NS" python3 "$TCPCHECK" echo 198.18.0.2 --bytes 4M --conns 4; then
	ok "TCP: 4 x 4 MB echoed intact"
else
	bad "TCP echo under load"
fi
wait "$UDP"
rc=$?
cat "$TB_DIR/udp.out"
[ "$rc" = 0 ] && ok "UDP: 500 datagrams echoed intact" || bad "UDP echo under load"

step "stop two_apis"
tt_stop "$PID" two_apis
sed -n '/stopping:/p' "$TB_DIR/two.log"
udp=$(sed -n 's/.*UDP (raw API): \([0-9]*\) datagrams echoed.*/\1/p' "$TB_DIR/two.log")
tcp=$(sed -n 's/.*TCP (sockets): [0-9]* connections, \([0-9]*\) bytes echoed.*/\1/p' "$TB_DIR/two.log")
[ "${udp:-0}" -ge 503 ] && ok "raw API side echoed $udp datagrams" || bad "raw API side echoed ${udp:-0} datagrams"
[ "${tcp:-0}" -ge $((4 * 4194304 + 9)) ] && ok "socket side echoed $tcp bytes" ||
	bad "socket side echoed ${tcp:-0} bytes"
tt_no_drops "$TB_DIR/two.log" two_apis
it_finish
