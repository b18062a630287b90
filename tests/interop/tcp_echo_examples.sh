#!/bin/bash
# The three TCP echo examples -- examples/tcp_echo_raw (raw API, also with
# --zero-copy), tcp_echo_netconn (netconn API) and tcp_echo_socket (socket
# API) -- over DPDK net_tap in a private netns, with kernel clients:
#   - nc gets its line back;
#   - one connection sends 8 MB and eight at once 1 MB each, in writes of
#     1 byte to 64 KiB, and every echoed byte is compared (tcp_check.py);
#   - the server stops cleanly on SIGTERM and counts every byte it echoed;
#   - no frame was dropped by the driver, no checksum went wrong (kernel's
#     TcpInCsumErrors included);
#   - once more, tcp_echo_raw with shunt's fault injector on both directions
#     (loss, duplication, reordering, corruption, delay, jitter): still every
#     byte intact, and damaged frames caught by the checksums on both ends.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3 nc
it_need_pmd tap
it_need_built "$TCP_ECHO_RAW" "$TCP_ECHO_NETCONN" "$TCP_ECHO_SOCKET"
tb_init tcpecho
tb_netns NS || exit 1
csum0=$(tt_nstat "$NS" TcpInCsumErrors)
seed=$(date +%s)
echo "seed $seed"

run_echo() {	# NAME PROGRAM [OPTIONS...]
	local name=$1 log="$TB_DIR/$1.log" out want echoed
	shift
	step "$name"
	tt_start PID "$NS" "$log" "echoing TCP" "$@" --dpdk @EAL@ --ip 198.18.0.2/24 --stats "${FAULTS[@]}" ||
		{ bad "$name did not start"; return; }
	grep "echoing TCP" "$log"
	out=$(echo "hello, $name" | timeout 10 ip netns exec "$NS" nc -q 1 198.18.0.2 7)
	[ "$out" = "hello, $name" ] && ok "nc: line echoed" || bad "nc got \"$out\""
	if timeout 120 ip netns exec "$NS" python3 "$TCPCHECK" echo 198.18.0.2 --bytes 8M --conns 1 --seed "$seed"; then
		ok "8 MB on one connection echoed intact"
	else
		bad "8 MB on one connection"
	fi
	if timeout 120 ip netns exec "$NS" python3 "$TCPCHECK" echo 198.18.0.2 --bytes 1M --conns 8 --seed "$seed"; then
		ok "8 connections x 1 MB echoed intact"
	else
		bad "8 connections x 1 MB"
	fi
	tt_stop "$PID" "$name"
	sed -n '/stopping:/p' "$log"
	want=$((8 * 1048576 + 8 * 1048576 + ${#name} + 8))
	echoed=$(sed -n 's/.*stopping: .* \([0-9]*\) bytes echoed.*/\1/p' "$log")
	[ "${echoed:-0}" = "$want" ] && ok "$name counted $echoed bytes echoed" ||
		bad "$name counted ${echoed:-0} bytes echoed, want $want"
	if [ ${#FAULTS[@]} -eq 0 ]; then
		tt_no_drops "$log" "$name"
	else
		sed -n '/^fault injector/p' "$log"
		for c in tcp_drop_csum tcp_dup_rx tcp_ooo_rx; do echo "    shunt $c: $(it_counter "$log" $c)"; done
		[ "$(it_counter "$log" tcp_drop_csum)" -gt 0 ] && ok "shunt's checksum caught damaged frames" ||
			echo "    (no received frame happened to be corrupted)"
	fi
	echo "    retransmissions by shunt: $(it_counter "$log" tcp_retransmit)"
}

FAULTS=()

run_echo tcp_echo_raw "$TCP_ECHO_RAW"
run_echo tcp_echo_raw-zero-copy "$TCP_ECHO_RAW" --zero-copy
run_echo tcp_echo_netconn "$TCP_ECHO_NETCONN"
run_echo tcp_echo_socket "$TCP_ECHO_SOCKET"

csum1=$(tt_nstat "$NS" TcpInCsumErrors)
[ "$csum0" = "$csum1" ] && ok "the kernel counted no TCP checksum errors" ||
	bad "the kernel counted $((csum1 - csum0)) TCP checksum errors"

FAULTS=(--faults "loss=1%,dup=1%,reorder=5%,corrupt=0.1%,delay=1ms,jitter=200us,seed=$seed")
echo
echo "faults on shunt's side from here: ${FAULTS[1]}"
run_echo tcp_echo_raw-faults "$TCP_ECHO_RAW"
csum2=$(tt_nstat "$NS" TcpInCsumErrors)
echo "    the kernel's checksum caught $((csum2 - csum1)) damaged frames from shunt"
it_finish
