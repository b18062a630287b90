#!/bin/bash
# The pcap tap on a DPDK netif: udp_echo_raw --pcap records what it sends and
# receives over net_tap; after a few datagrams from the kernel, tcpdump -r
# must read the file and show each datagram and its echo (and the ARP that
# came first), with the right lengths.
set -u
. "$(dirname "$0")/lib.bash"
it_require python3 tcpdump
it_need_pmd tap
it_need_built "$ECHO"
tb_init pcap

PCAP=$TB_DIR/echo.pcap
step "start udp_echo_raw --pcap on net_tap"
tb_tap_start "$ECHO" --dpdk @EAL@ --ip 198.18.0.2/24 --pcap "$PCAP" || exit 1
tb_wait_log "$TB_PID" "$TB_LOG" "echoing UDP" 20 || exit 1

step "5 datagrams from the kernel"
timeout 30 ip netns exec "$TB_NS" python3 "$UDPCHECK" few 198.18.0.2 --count 5 && ok "5 echoes" || bad "echoes missing"

step "stop udp_echo_raw (closes the capture) and read it back"
tb_stop "$TB_PID"
rc=$?
[ "$rc" = 0 ] && ok "clean exit" || bad "udp_echo_raw exited with status $rc"
[ -s "$PCAP" ] || { bad "no capture file"; it_finish; }
out=$(tcpdump -nn -r "$PCAP" 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] && ok "tcpdump read the file" || bad "tcpdump -r failed with status $status"
req=$(echo "$out" | grep -cE '198\.18\.0\.1\.[0-9]+ > 198\.18\.0\.2\.7: UDP, length 1[0-9]$')
rep=$(echo "$out" | grep -cE '198\.18\.0\.2\.7 > 198\.18\.0\.1\.[0-9]+: UDP, length 1[0-9]$')
[ "$req" = 5 ] && ok "5 datagrams recorded" || bad "$req datagrams recorded, want 5"
[ "$rep" = 5 ] && ok "5 echoes recorded" || bad "$rep echoes recorded, want 5"
echo "$out" | grep -q "ARP, Reply 198.18.0.2 is-at" && ok "our ARP reply recorded" || bad "no ARP reply in the capture"
it_finish
