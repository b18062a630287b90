#!/bin/bash
# The end-to-end demo (`make demo`): shunt's own TCP/IP stack on a DPDK
# virtual NIC, talking to the Linux kernel, inside a private network
# namespace that is removed afterwards.
#
#   scripts/demo.sh [BUILD]        (as root; BUILD defaults to build)
#
# Today: examples/udp_echo_raw (raw UDP API over DPDK net_tap) answers
# datagrams and pings from the kernel.  Each act is one function below; new
# acts (nginx and curl under the preload shim) are added to ACTS.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
. "$ROOT/scripts/testbed.sh"

ECHO=$BUILD/examples/udp_echo_raw
UDPCHECK=$ROOT/tests/interop/udp_check.py

if [ -t 1 ]; then B=$(printf '\033[1m'); N=$(printf '\033[0m'); else B=; N=; fi
title() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s\n' "$*"; }
indent() { sed 's/^/    /'; }

act_start() {
	title "Starting udp_echo_raw: shunt's stack on a DPDK net_tap port, in a network namespace of its own"
	tb_tap_start "$ECHO" --dpdk @EAL@ --ip 198.18.0.2/24 --stats || return 1
	tb_wait_log "$TB_PID" "$TB_LOG" "echoing UDP" 20 || return 1
	say "DPDK EAL arguments: $TB_EAL"
	grep "echoing UDP" "$TB_LOG" | indent
	say "The kernel's end of the tap is sh0 = 198.18.0.1/24; shunt is 198.18.0.2 (not the kernel: DPDK owns that side)."
}

act_udp() {
	title "The kernel sends UDP datagrams to 198.18.0.2 port 7; shunt echoes them"
	timeout 30 ip netns exec "$TB_NS" python3 "$UDPCHECK" few 198.18.0.2 --count 5
}

act_ping() {
	title "ping 198.18.0.2 (ICMP echo: the reply is built in the request's own DPDK buffer)"
	timeout 30 ip netns exec "$TB_NS" ping -n -c 5 -i 0.2 198.18.0.2 | indent
	title "ping -s 4000 198.18.0.2 (fragmented: shunt reassembles the request and fragments the reply)"
	timeout 30 ip netns exec "$TB_NS" ping -n -c 3 -i 0.2 -s 4000 198.18.0.2 | indent
}

act_bulk() {
	title "1000 datagrams of 1..8000 bytes with random content, every echoed byte compared"
	timeout 120 ip netns exec "$TB_NS" python3 "$UDPCHECK" echo 198.18.0.2 --count 1000 --max-size 8000 | indent
}

act_counters() {
	title "Stopping udp_echo_raw (SIGTERM): its counters"
	tb_stop "$TB_PID"
	TB_PID=
	sed -n '/stopping:/,$p' "$TB_LOG" | indent
}

ACTS="act_start act_udp act_ping act_bulk act_counters"

main() {
	local why act
	if ! why=$(tb_need_root); then
		echo "demo: $why" >&2
		return 1
	fi
	if [ ! -x "$ECHO" ]; then
		echo "demo: $ECHO is not built (make BUILD=${1:-build} all)" >&2
		return 1
	fi
	tb_init demo || return 1
	say "${B}shunt demo${N}: a kernel-bypass TCP/IP stack, running over DPDK in a private network namespace."
	for act in $ACTS; do
		if ! $act; then
			echo "demo: $act failed; program output:" >&2
			[ -n "${TB_LOG:-}" ] && indent <"$TB_LOG" >&2
			return 1
		fi
	done
	title "Done: namespace, tap and DPDK state removed"
}

main "$@"
