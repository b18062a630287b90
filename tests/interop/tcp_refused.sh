#!/bin/bash
# Connecting to a TCP port nobody listens on, both ways over DPDK net_tap in
# a private netns:
#   - kernel -> shunt: shunt answers the SYN with a RST, the kernel's
#     connect() fails with ECONNREFUSED (and a port that does listen still works);
#   - shunt -> kernel: the kernel's RST makes shunt_connect() fail with
#     ECONNREFUSED (tests/tools/tcp_xfer --expect-refused).
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3 nc
it_need_pmd tap
it_need_built "$TCP_ECHO_RAW" "$TCP_XFER"
tb_init tcpref
tb_netns NS || exit 1

step "kernel -> shunt port 9 (closed; tcp_echo_raw listens on 7)"
tt_start SRV "$NS" "$TB_DIR/echo.log" "echoing TCP" "$TCP_ECHO_RAW" --dpdk @EAL@ --ip 198.18.0.2/24 || exit 1
if timeout 30 ip netns exec "$NS" python3 "$TCPCHECK" refused 198.18.0.2 9; then
	ok "ECONNREFUSED from shunt's RST"
else
	bad "no ECONNREFUSED for a closed shunt port"
fi
out=$(echo ping | timeout 10 ip netns exec "$NS" nc -q 1 198.18.0.2 7)
[ "$out" = ping ] && ok "the open port 7 still echoes" || bad "port 7 answered \"$out\""
tt_stop "$SRV" tcp_echo_raw
tt_show "$TB_DIR/echo.log"
v=$(it_counter "$TB_DIR/echo.log" tcp_rst_tx)
[ "$v" -ge 1 ] && ok "shunt counted $v RST sent" || bad "tcp_rst_tx is 0"
v=$(it_counter "$TB_DIR/echo.log" tcp_drop_noport)
[ "$v" -ge 1 ] && ok "shunt counted $v segments for no port" || bad "tcp_drop_noport is 0"

step "shunt -> kernel port 9 (closed)"
tt_start CLI "$NS" "$TB_DIR/client.log" "connecting" "$TCP_XFER" --dpdk @EAL@ --ip 198.18.0.2/24 \
    --connect 198.18.0.1:9 --expect-refused --wait-for "$TB_DIR/go" --timeout 60 || exit 1
touch "$TB_DIR/go"
tt_wait "$CLI" 60
rc=$?
tt_show "$TB_DIR/client.log"
[ "$rc" = 0 ] && ok "shunt_connect failed with ECONNREFUSED" || bad "tcp_xfer --expect-refused exited with $rc"
v=$(it_counter "$TB_DIR/client.log" tcp_rst_rx)
[ "$v" -ge 1 ] && ok "shunt counted $v RST received" || bad "tcp_rst_rx is 0"
it_finish
