#!/bin/bash
# Adversarial peer suite against a socket-API server: examples/two_apis
# (TCP echo on shunt's socket API, UDP echo on the raw API, one stack) over
# DPDK net_tap in a private netns.  attack.py sends every probe (RFC 5961
# blind RST/SYN/data injection, PAWS, malformed IPv4/TCP/UDP headers and
# options, tiny MSS, zero window, overlapping segments and fragments, ping
# of death, fragment floods, land attack, flag combinations, ICMP errors
# quoting live connections) and runs the oracle after each: alive, ping,
# fresh connection, old connections intact.  Then the server must stop
# cleanly and its counters must show the defences at work.
set -u
. "$(dirname "$0")/lib.bash"
adv_require ping
it_need_built "$TWO_APIS"
tb_init advsock
tb_netns NS || exit 1
adv_seal_netns "$NS"

step "start two_apis (gateway 198.18.0.1, so answers to spoofed sources stay in the netns)"
tt_start PID "$NS" "$TB_DIR/server.log" "echoing UDP" "$TWO_APIS" --dpdk @EAL@ --ip 198.18.0.2/24 \
    --gw 198.18.0.1 --stats || exit 1
SPID=$(adv_child_pid "$PID")
echo "server pid $SPID ($(cat /proc/$SPID/comm))"
rss0=$(adv_rss "$SPID")

step "attacks"
if timeout 600 ip netns exec "$NS" "$PY" "$ADV/attack.py" --pid "$SPID" --port 7 --udp-port 7 \
    ${ADV_ONLY:+--only "$ADV_ONLY"} ${ADV_SEED:+--seed "$ADV_SEED"}; then
	ok "every probe held"
else
	bad "some probe broke something"
fi
rss1=$(adv_rss "$SPID")
echo "server RSS: $rss0 kB before, $rss1 kB after"

step "stop and counters"
tt_stop "$PID" two_apis
tt_show "$TB_DIR/server.log" | grep -v '^    $' | tail -n 80
if [ -z "${ADV_ONLY:-}" ]; then
	for c in tcp_challenge_ack tcp_challenge_ack_limited tcp_drop_paws ip_drop_hlen ip_drop_len ip_drop_csum \
	    ip_drop_src ip_frag_drop_oversize ip_frag_drop_overlap ip_frag_drop_memory tcp_drop_malformed \
	    udp_drop_malformed udp_drop_csum tcp_drop_window tcp_ooo_rx icmp_drop_csum; do
		adv_counter_min "$TB_DIR/server.log" $c 1
	done
fi
it_finish
