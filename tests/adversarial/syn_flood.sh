#!/bin/bash
# SYN flood: SYN_FLOOD_COUNT (default 200000) SYNs from spoofed sources in
# 198.19.0.0/16 at SYN_FLOOD_RATE per second (default 40000) against the
# socket-API echo server (examples/tcp_echo_socket) over DPDK net_tap, while
# kernel clients open SYN_FLOOD_CONNS connections (default 400) and echo 64
# bytes on each.  At least 99 % of them must succeed; the server's memory
# (peak RSS) must stay within SYN_FLOOD_MEM_KB of where it started; its
# counters must show SYN cookies sent and validated.  The spoofed sources
# get their SYN-ACKs through the gateway 198.18.0.1, the namespace's kernel,
# which does not forward and has no route out: they die there.
set -u
. "$(dirname "$0")/lib.bash"
adv_require
it_need_built "$TCP_ECHO_SOCKET"
COUNT=${SYN_FLOOD_COUNT:-200000}
RATE=${SYN_FLOOD_RATE:-40000}
CONNS=${SYN_FLOOD_CONNS:-400}
MEM_KB=${SYN_FLOOD_MEM_KB:-65536}
tb_init synflood
tb_netns NS || exit 1
adv_seal_netns "$NS"

step "start tcp_echo_socket"
tt_start PID "$NS" "$TB_DIR/server.log" "echoing TCP" "$TCP_ECHO_SOCKET" --dpdk @EAL@ --ip 198.18.0.2/24 \
    --gw 198.18.0.1 --max-conns 4096 --stats || exit 1
SPID=$(adv_child_pid "$PID")
# Warm up: a few connections, so that the baseline includes a working server.
timeout 30 ip netns exec "$NS" "$PY" -c '
import socket
for i in range(20):
    s = socket.create_connection(("198.18.0.2", 7), timeout=5); s.sendall(b"x" * 100)
    n = 0
    while n < 100: n += len(s.recv(100))
    s.close()' || bad "warm-up connections failed"
rss0=$(adv_rss "$SPID")
hwm0=$(awk '/^VmHWM:/ { print $2 }' /proc/"$SPID"/status)

step "flood: $COUNT SYNs at $RATE/s, $CONNS legitimate connections meanwhile"
if timeout 300 ip netns exec "$NS" "$PY" "$ADV/synflood.py" --count "$COUNT" --rate "$RATE" --conns "$CONNS" \
    ${SYN_FLOOD_SEED:+--seed "$SYN_FLOOD_SEED"}; then
	ok "at least 99 % of the legitimate connections succeeded"
else
	bad "legitimate connections failed during the flood"
fi
rss1=$(adv_rss "$SPID")
hwm1=$(awk '/^VmHWM:/ { print $2 }' /proc/"$SPID"/status)
echo "server memory: RSS $rss0 kB before, $rss1 kB after; peak $hwm0 kB before, $hwm1 kB after"
[ $((hwm1 - hwm0)) -le "$MEM_KB" ] && ok "peak memory grew by $((hwm1 - hwm0)) kB (bound $MEM_KB)" ||
	bad "peak memory grew by $((hwm1 - hwm0)) kB (bound $MEM_KB)"

step "after the flood: the server still serves"
if timeout 60 ip netns exec "$NS" python3 "$TCPCHECK" echo 198.18.0.2 --bytes 1M --conns 4; then
	ok "4 x 1 MB echoed intact after the flood"
else
	bad "echo after the flood"
fi
ip netns exec "$NS" ping -c 2 -W 1 -q 198.18.0.2 >/dev/null && ok "ping answers" || bad "ping unanswered"

step "stop and counters"
tt_stop "$PID" tcp_echo_socket
tt_show "$TB_DIR/server.log" | grep -E 'stopping|tcp_|ip_rx|eth_rx|rx_frames|imissed|rx_nombuf'
adv_counter_min "$TB_DIR/server.log" tcp_syncookie_tx $((COUNT / 2))
adv_counter_min "$TB_DIR/server.log" tcp_syncookie_ok 1
it_finish
