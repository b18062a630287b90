#!/bin/bash
# TCP between shunt and the Linux kernel over DPDK net_tap in a private
# netns, 100 MB each way (XFER_MB to change it), compared by sha256:
#   - kernel client -> shunt server (tests/tools/tcp_xfer --listen: passive open);
#   - shunt client -> kernel server (tcp_xfer --connect: active open);
#   - a kernel tcpdump of each connection shows window scaling, timestamps
#     and SACK offered by both sides, and data segments carrying timestamps;
#   - the kernel counted no TCP checksum errors; the driver dropped nothing.
# With XFER_FAULTS (tcp_kernel_xfer_loss.sh sets it) shunt's fault injector
# impairs both directions on shunt's side, and the capture must also show
# SACK blocks from both ends.  Throughput and retransmissions are printed
# (figures for the report, not checks).
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3 tcpdump sha256sum
it_need_pmd tap
it_need_built "$TCP_XFER"
tb_init tcpx
MB=${XFER_MB:-100}
FAULTS=${XFER_FAULTS:-}
XOPTS=()
[ -n "$FAULTS" ] && XOPTS=(--faults "$FAULTS")
# Extra options of the sending shunt client (the loss test lowers its RTO floor).
read -r -a COPTS <<<"${XFER_CLIENT_OPTS:-}"
[ -n "$FAULTS" ] && echo "shunt's fault injector, both directions: $FAULTS"
[ ${#COPTS[@]} -gt 0 ] && echo "shunt client options: ${COPTS[*]}"

tb_netns NS || exit 1
step "$MB MB of random data"
head -c "${MB}M" /dev/urandom >"$TB_DIR/src" || exit 1
want=$(sha256sum <"$TB_DIR/src" | cut -d' ' -f1)
echo "sha256 $want"

# Enough packets to hold a few losses when there are faults.
CAPTURE=200
[ -n "$FAULTS" ] && CAPTURE=3000

# Captures the first packets of a connection to PORT on sh0 (headers only).
capture_start() {	# PIDVAR PCAP PORT
	tb_spawn "$1" "$NS" "$TB_DIR/tcpdump-$3.log" tcpdump -i sh0 -nn -s 128 -c "$CAPTURE" -U -w "$2" "tcp port $3"
	tb_wait_log "${!1}" "$TB_DIR/tcpdump-$3.log" "listening on" 10
}

# The options a SYN (or SYN-ACK) from SRC carried, as tcpdump prints them.
check_syn() {	# PCAP SRC WHAT
	local line
	line=$(tcpdump -nn -r "$1" 2>/dev/null | grep -E "IP $2\.[0-9]+ > .*Flags \[S\.?\]" | head -n 1)
	echo "    $line"
	case $line in
	*sackOK*) ok "$3 offers SACK" ;;
	*) bad "$3 carries no sackOK" ;;
	esac
	case $line in
	*"TS val"*) ok "$3 offers timestamps" ;;
	*) bad "$3 carries no timestamp option" ;;
	esac
	case $line in
	*wscale*) ok "$3 offers window scaling ($(echo "$line" | grep -o 'wscale [0-9]*'))" ;;
	*) bad "$3 carries no wscale" ;;
	esac
}

check_sack_blocks() {	# PCAP SRC WHAT
	local n
	n=$(tcpdump -nn -r "$1" 2>/dev/null | grep -cE "IP $2\.[0-9]+ > .*sack [0-9]+ \{")
	[ "$n" -gt 0 ] && ok "$3: $n ACKs carry SACK blocks" || bad "$3: no ACK with SACK blocks"
}

# "fault injector, frames received: N judged, N lost ..." of a log: the frames lost.
fault_lost() {	# LOG received|sent
	sed -n "s/^fault injector, frames $2: [0-9]* judged, \([0-9]*\) lost.*/\1/p" "$1"
}

check_data_ts() {	# PCAP SRC WHAT
	local n
	n=$(tcpdump -nn -r "$1" 2>/dev/null | grep -E "IP $2\.[0-9]+ > .*Flags \[\.\].*TS val.*length [1-9]" | wc -l)
	[ "$n" -gt 0 ] && ok "$3: $n data segments carry timestamps" || bad "$3: no data segment with timestamps"
}

csum0=$(tt_nstat "$NS" TcpInCsumErrors)
kretrans0=$(tt_nstat "$NS" TcpRetransSegs)

step "kernel client -> shunt server (tcp_xfer --listen), $MB MB"
tt_start SRV "$NS" "$TB_DIR/server.log" "listening" "$TCP_XFER" --dpdk @EAL@ --ip 198.18.0.2/24 --listen \
    --port 5001 --recv-file "$TB_DIR/got-shunt" --stats "${XOPTS[@]}" || exit 1
capture_start TD1 "$TB_DIR/in.pcap" 5001 || exit 1
if timeout 300 ip netns exec "$NS" python3 "$TCPCHECK" source 198.18.0.2 5001 --file "$TB_DIR/src"; then
	ok "kernel sent $MB MB"
else
	bad "kernel client failed"
fi
# The kernel may still be resending its last bytes after its close: the server ends at the kernel's FIN.
tt_wait "$SRV" 120
rc=$?
[ "$rc" = 0 ] && ok "tcp_xfer (server) received everything and exited 0" ||
	bad "tcp_xfer (server) exited with status $rc"
tt_show "$TB_DIR/server.log"
got=$(sha256sum <"$TB_DIR/got-shunt" | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "sha256 of what shunt received matches" || bad "sha256 differs: $got"
tt_no_drops "$TB_DIR/server.log" "tcp_xfer (server)"
kretrans1=$(tt_nstat "$NS" TcpRetransSegs)
tb_stop "$TD1"
check_syn "$TB_DIR/in.pcap" 198.18.0.1 "the kernel's SYN"
check_syn "$TB_DIR/in.pcap" 198.18.0.2 "shunt's SYN-ACK"
check_data_ts "$TB_DIR/in.pcap" 198.18.0.1 "kernel -> shunt"
if grep -q "options timestamps sack wscale" "$TB_DIR/server.log"; then
	ok "shunt's TCP_INFO: timestamps, sack, wscale in use"
else
	bad "shunt's TCP_INFO does not list all three options"
fi

step "shunt client -> kernel server (tcp_xfer --connect), $MB MB"
tb_spawn SINK "$NS" "$TB_DIR/sink.log" python3 "$TCPCHECK" sink 5002 --out "$TB_DIR/got-kernel" \
    --ready "$TB_DIR/sink.ready" --timeout 300
n=100
while [ ! -e "$TB_DIR/sink.ready" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
# The tap exists once the client has made it: capture, then let the client connect.
tt_start CLI "$NS" "$TB_DIR/client.log" "connecting" "$TCP_XFER" --dpdk @EAL@ --ip 198.18.0.2/24 \
    --connect 198.18.0.1:5002 --send-file "$TB_DIR/src" --wait-for "$TB_DIR/go" --stats --timeout 280 \
    "${XOPTS[@]}" "${COPTS[@]}" || exit 1
capture_start TD2 "$TB_DIR/out.pcap" 5002 || exit 1
touch "$TB_DIR/go"
tt_wait "$CLI" 290
rc=$?
[ "$rc" = 0 ] && ok "tcp_xfer (client) exited 0" || bad "tcp_xfer (client) exited with status $rc"
tt_show "$TB_DIR/client.log"
tb_stop "$SINK"
cat "$TB_DIR/sink.log"
got=$(sha256sum <"$TB_DIR/got-kernel" | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "sha256 of what the kernel received matches" || bad "sha256 differs: $got"
tt_no_drops "$TB_DIR/client.log" "tcp_xfer (client)"
tb_stop "$TD2"
check_syn "$TB_DIR/out.pcap" 198.18.0.2 "shunt's SYN"
check_syn "$TB_DIR/out.pcap" 198.18.0.1 "the kernel's SYN-ACK"
check_data_ts "$TB_DIR/out.pcap" 198.18.0.2 "shunt -> kernel"

csum1=$(tt_nstat "$NS" TcpInCsumErrors)
[ "$csum0" = "$csum1" ] && ok "the kernel counted no TCP checksum errors" ||
	bad "the kernel counted $((csum1 - csum0)) TCP checksum errors"

if [ -n "$FAULTS" ]; then
	step "the faults happened and were repaired"
	for log in server client; do
		for d in received sent; do
			n=$(fault_lost "$TB_DIR/$log.log" $d)
			[ "${n:-0}" -gt 0 ] && ok "$log: the injector dropped $n frames $d" ||
				bad "$log: no frames $d were dropped"
		done
	done
	v=$(it_counter "$TB_DIR/client.log" tcp_retransmit)
	[ "$v" -gt 0 ] && ok "shunt (sender) retransmitted $v segments" || bad "shunt retransmitted nothing"
	v=$(it_counter "$TB_DIR/server.log" tcp_sack_tx)
	[ "$v" -gt 0 ] && ok "shunt (receiver) sent $v ACKs with SACK blocks" || bad "shunt sent no SACK blocks"
	check_sack_blocks "$TB_DIR/in.pcap" 198.18.0.2 "shunt -> kernel (receiving)"
	check_sack_blocks "$TB_DIR/out.pcap" 198.18.0.1 "kernel -> shunt (receiving)"
fi

step "throughput"
# "tcp_xfer: received N bytes in S s, R MB/s" -> "N bytes in S s, R MB/s"
rate() { sed -n "s/^tcp_xfer: $1 \([0-9]* bytes in [0-9.]* s, [0-9.]* MB\/s\).*/\1/p" "$2"; }
echo "kernel -> shunt: $(rate received "$TB_DIR/server.log")"
echo "shunt -> kernel: $(rate sent "$TB_DIR/client.log")"
echo "kernel retransmissions while sending to shunt: $((kretrans1 - kretrans0)) segments"
for c in tcp_retransmit tcp_fast_retransmit tcp_rto tcp_sack_rx tcp_sack_tx; do
	echo "shunt $c: server $(it_counter "$TB_DIR/server.log" $c), client $(it_counter "$TB_DIR/client.log" $c)"
done
it_finish
