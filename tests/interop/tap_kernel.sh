#!/bin/bash
# shunt over DPDK net_tap, the Linux kernel as the peer, in a private netns:
#   - ping -c 20 gets 20 replies; ping -s 4000 (fragmented both ways) gets replies;
#   - 1000 UDP datagrams of 1..8000 bytes, random content, echoed by
#     examples/udp_echo_raw, every byte compared;
#   - a datagram to a closed port earns ICMP port unreachable (ECONNREFUSED);
#   - the kernel counted no checksum errors (our checksum offloads are right),
#     and shunt's counters agree with what was sent.
set -u
. "$(dirname "$0")/lib.bash"
it_require ping python3
it_need_pmd tap
it_need_built "$ECHO"
tb_init tap

step "start udp_echo_raw on net_tap (sh0) in a private netns"
tb_tap_start "$ECHO" --dpdk @EAL@ --ip 198.18.0.2/24 --stats || exit 1
tb_wait_log "$TB_PID" "$TB_LOG" "echoing UDP" 20 || exit 1
grep "echoing UDP" "$TB_LOG"

step "ping -c 20 198.18.0.2"
out=$(timeout 60 ip netns exec "$TB_NS" ping -n -c 20 -i 0.05 -W 2 198.18.0.2 2>&1)
echo "$out" | tail -n 3
rcvd=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${rcvd:-0}" = 20 ] && ok "20/20 echo replies" || bad "ping: ${rcvd:-0}/20 replies"

step "ping -s 4000 198.18.0.2 (fragmented request and reply)"
out=$(timeout 60 ip netns exec "$TB_NS" ping -n -c 5 -i 0.1 -s 4000 -W 2 198.18.0.2 2>&1)
echo "$out" | tail -n 3
rcvd=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${rcvd:-0}" = 5 ] && ok "5/5 fragmented echo replies" || bad "ping -s 4000: ${rcvd:-0}/5 replies"
if echo "$out" | grep -q "^4008 bytes from 198.18.0.2"; then ok "replies carry all 4000 bytes"; else
	bad "no full-size reply"; fi

step "1000 UDP datagrams of 1..8000 bytes to udp_echo_raw"
csum_before=$(it_snmp "$TB_NS" Udp InCsumErrors)
if timeout 300 ip netns exec "$TB_NS" python3 "$UDPCHECK" echo 198.18.0.2 --count 1000 --max-size 8000; then
	ok "every datagram came back intact"
else
	bad "UDP echo exchange"
fi
csum_after=$(it_snmp "$TB_NS" Udp InCsumErrors)
[ "$csum_before" = "$csum_after" ] && ok "kernel saw no UDP checksum errors" ||
	bad "kernel counted $((csum_after - csum_before)) UDP checksum errors"

step "UDP to a closed port"
if timeout 30 ip netns exec "$TB_NS" python3 "$UDPCHECK" refused 198.18.0.2 9; then
	ok "ICMP port unreachable reached the kernel's socket"
else
	bad "no ECONNREFUSED for a closed port"
fi

step "malformed frames from the kernel side, then check shunt still answers"
mac=$(sed -n 's/.*echoing UDP.*(mac \([0-9a-f:]*\),.*/\1/p' "$TB_LOG")
if timeout 60 ip netns exec "$TB_NS" python3 "$UDPCHECK" junk sh0 "$mac" --count 3000; then
	ok "junk written"
else
	bad "could not write junk frames"
fi
kill -0 "$TB_PID" 2>/dev/null && ok "udp_echo_raw survived" || bad "udp_echo_raw died"
if timeout 30 ip netns exec "$TB_NS" python3 "$UDPCHECK" echo 198.18.0.2 --count 50 --max-size 8000 \
    --seed 7 >/dev/null; then
	ok "still echoing intact datagrams"
else
	bad "no longer echoing after malformed input"
fi

step "stop udp_echo_raw (SIGTERM) and read its counters"
tb_stop "$TB_PID"
rc=$?
TB_PID=
[ "$rc" = 0 ] && ok "clean exit" || bad "udp_echo_raw exited with status $rc"
sed -n '/stopping:/,$p' "$TB_LOG"
echoed=$(sed -n 's/.*stopping: \([0-9]*\) datagrams echoed.*/\1/p' "$TB_LOG")
[ "${echoed:-0}" -ge 1000 ] && ok "server echoed $echoed datagrams" || bad "server echoed ${echoed:-0} datagrams"
[ "$(it_counter "$TB_LOG" icmp_echo_reply)" -ge 25 ] && ok "icmp_echo_reply counted" || bad "icmp_echo_reply"
[ "$(it_counter "$TB_LOG" ip_frag_reassembled)" -gt 0 ] && ok "reassembly counted" || bad "ip_frag_reassembled is 0"
[ "$(it_counter "$TB_LOG" icmp_unreach_tx)" -ge 1 ] && ok "icmp_unreach_tx counted" || bad "icmp_unreach_tx is 0"
# (junk above has bad IP header sums on purpose: only the driver's drops must be zero)
for c in rx_drop_nopbuf tx_drop_nombuf tx_drop_full tx_drop_bad; do
	v=$(it_counter "$TB_LOG" $c)
	[ "$v" = 0 ] || bad "$c = $v"
done
it_finish
