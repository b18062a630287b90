#!/bin/bash
# shunt over DPDK net_af_packet on one end of a veth pair, the kernel on the
# other end, each in its own netns (198.18.1.0/24): ping, then 1000 UDP
# datagrams of 1..8000 bytes echoed by examples/udp_echo_raw, every byte
# compared.  The kernel's veth sends with `tx off` so that its frames carry
# full checksums (a veth otherwise hands out partial ones, DESIGN.md §4).
set -u
. "$(dirname "$0")/lib.bash"
it_require ping python3 ethtool
it_need_pmd af_packet
it_need_built "$ECHO"
tb_init afp

step "two netns joined by a veth pair"
tb_netns NS_S || exit 1		# shunt's side
tb_netns NS_K || exit 1		# the kernel's side
IF_S=shva$$
IF_K=shvb$$
ip link add name "$IF_S" netns "$NS_S" type veth peer name "$IF_K" netns "$NS_K" || exit 1
tb_exec "$NS_S" ip link set "$IF_S" up || exit 1
tb_exec "$NS_K" ip addr add 198.18.1.1/24 dev "$IF_K" || exit 1
tb_exec "$NS_K" ip link set "$IF_K" up || exit 1
tb_exec "$NS_K" ethtool -K "$IF_K" tx off >/dev/null || exit 1
echo "$NS_S:$IF_S (shunt, 198.18.1.2)  <-->  $NS_K:$IF_K (kernel, 198.18.1.1, tx checksumming off)"

# net_af_packet joins a PACKET_FANOUT group with FLAG_DEFRAG: the kernel
# reassembles IP fragments before the PMD sees them and the PMD copies each
# datagram whole into one mbuf.  Its ring frames (framesz) and our mbufs
# (--rx-buf) must therefore hold the largest reassembled datagram (8042 bytes
# with headers): 16 KiB frames, 4 to a 64 KiB block.
step "start udp_echo_raw on net_af_packet ($IF_S)"
tb_eal EAL "net_af_packet0,iface=$IF_S,framesz=16384,blocksz=65536,framecnt=512" || exit 1
tb_spawn PID "$NS_S" "$TB_DIR/echo.log" "$ECHO" --dpdk "$EAL" --ip 198.18.1.2/24 --rx-buf 16384 --mbufs 2048 \
    --stats
tb_wait_log "$PID" "$TB_DIR/echo.log" "echoing UDP" 20 || exit 1
grep "echoing UDP" "$TB_DIR/echo.log"

step "ping -c 10 198.18.1.2"
out=$(timeout 60 ip netns exec "$NS_K" ping -n -c 10 -i 0.05 -W 2 198.18.1.2 2>&1)
echo "$out" | tail -n 3
rcvd=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${rcvd:-0}" = 10 ] && ok "10/10 echo replies" || bad "ping: ${rcvd:-0}/10 replies"

step "1000 UDP datagrams of 1..8000 bytes to udp_echo_raw"
csum_before=$(it_snmp "$NS_K" Udp InCsumErrors)
if timeout 300 ip netns exec "$NS_K" python3 "$UDPCHECK" echo 198.18.1.2 --count 1000 --max-size 8000; then
	ok "every datagram came back intact"
else
	bad "UDP echo exchange"
fi
csum_after=$(it_snmp "$NS_K" Udp InCsumErrors)
[ "$csum_before" = "$csum_after" ] && ok "kernel saw no UDP checksum errors" ||
	bad "kernel counted $((csum_after - csum_before)) UDP checksum errors"

step "stop udp_echo_raw (SIGTERM) and read its counters"
tb_stop "$PID"
rc=$?
[ "$rc" = 0 ] && ok "clean exit" || bad "udp_echo_raw exited with status $rc"
sed -n '/stopping:/,$p' "$TB_DIR/echo.log"
echoed=$(sed -n 's/.*stopping: \([0-9]*\) datagrams echoed.*/\1/p' "$TB_DIR/echo.log")
[ "${echoed:-0}" -ge 1000 ] && ok "server echoed $echoed datagrams" || bad "server echoed ${echoed:-0} datagrams"
for c in ip_drop_csum udp_drop_csum icmp_drop_csum rx_drop_nopbuf tx_drop_nombuf tx_drop_full tx_drop_bad; do
	v=$(it_counter "$TB_DIR/echo.log" $c)
	[ "$v" = 0 ] || bad "$c = $v"
done
it_finish
