#!/bin/bash
# Integrity under impairment: TCP transfers through tests/tools/impair_bridge
# (loss 5 %, reordering 25 %, duplication 1 %, corruption 0.1 %, delay 1 ms
# with 0.5 ms jitter, both directions, each with its own dice) between two
# namespaces, with sha256 compared every time:
#   kernel <-> shunt: shunt's tcp_xfer on DPDK net_af_packet, the kernel's
#                     tcp_check.py; kernel -> shunt and shunt -> kernel;
#   shunt <-> shunt:  two tcp_xfer processes, each on net_af_packet, both
#                     directions at once on one connection.
# IMPAIR_MB (default 8) per transfer, IMPAIR_SEEDS (default "1 2") seeds;
# `make soak` runs 100 MB with more seeds.  Every veth end has TSO, GSO, GRO
# and TX checksumming off, so that each frame on the wire is a real one with
# its checksums: a corrupted frame must be caught by whoever receives it.
# Topology: nsL:veL (198.18.2.1) -- veth -- nsB:bl | impair_bridge | br -- veth -- nsR:veR (198.18.2.2)
set -u
. "$(dirname "$0")/lib.bash"
it_require ethtool sha256sum python3
it_need_pmd af_packet
BRIDGE=$BUILD/tools/impair_bridge
it_need_built "$BRIDGE" "$TCP_XFER"
MB=${IMPAIR_MB:-8}
SEEDS=${IMPAIR_SEEDS:-1 2}
SPEC_BASE=${IMPAIR_FAULTS:-loss=5%,reorder=25%,dup=1%,corrupt=0.1%,delay=1ms,jitter=500us,reorder-delay=2ms}
LIMIT=${IMPAIR_TIMEOUT:-240}
# shunt's side, as tcp_kernel_xfer_loss.sh: the bridge's RTT is about 2 ms, and a
# 200 ms RTO floor (Linux's) would turn every lost retransmission into a stall.
read -r -a SOPTS <<<"${IMPAIR_SHUNT_OPTS---rto-min-ms 20}"
tb_init impair
tb_netns NS_L || exit 1
tb_netns NS_B || exit 1
tb_netns NS_R || exit 1
VL=shil$$ BL=shibl$$ VR=shir$$ BR=shibr$$
ip link add name "$VL" netns "$NS_L" type veth peer name "$BL" netns "$NS_B" || exit 1
ip link add name "$VR" netns "$NS_R" type veth peer name "$BR" netns "$NS_B" || exit 1
for p in "$NS_L:$VL" "$NS_B:$BL" "$NS_B:$BR" "$NS_R:$VR"; do
	ns=${p%%:*} dev=${p#*:}
	tb_exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1
	tb_exec "$ns" ip link set "$dev" up || exit 1
done
echo "$NS_L:$VL  <->  [$NS_B: $BL | impair_bridge | $BR]  <->  $NS_R:$VR"
echo "faults, each direction: $SPEC_BASE; shunt options: ${SOPTS[*]:-none}"

head -c "${MB}M" /dev/urandom >"$TB_DIR/src" || exit 1
want=$(sha256sum <"$TB_DIR/src" | cut -d' ' -f1)
echo "$MB MB of random data, sha256 $want"
RATES=()

bridge_start() {	# SEED
	tb_spawn BPID "$NS_B" "$TB_DIR/bridge.log" "$BRIDGE" "$BL" "$BR" --faults "$SPEC_BASE,seed=$1" \
	    --stats-file "$TB_DIR/bridge.stats"
	tb_wait_log "$BPID" "$TB_DIR/bridge.log" running 10
}

bridge_stop() {
	tb_stop "$BPID"
	grep '^impair_bridge [ab]' "$TB_DIR/bridge.log" | sed 's/^/    /'
	local lost corr
	lost=$(awk '/_lost/ { s += $2 } END { print s + 0 }' "$TB_DIR/bridge.stats")
	corr=$(awk '/_corrupted/ { s += $2 } END { print s + 0 }' "$TB_DIR/bridge.stats")
	[ "$lost" -gt 0 ] && ok "the bridge dropped $lost frames and corrupted $corr" || bad "the bridge impaired nothing"
}

# Starts tcp_xfer ARGS on net_af_packet on IF in NS; waits for READY.  PIDVAR gets its PID.
xfer_start() {	# PIDVAR NS IF LOG READY ARGS...
	local var=$1 ns=$2 dev=$3 log=$4 ready=$5 eal
	shift 5
	tb_eal eal "net_af_packet0,iface=$dev" || return 1
	tb_spawn "$var" "$ns" "$log" "$TCP_XFER" --dpdk "$eal" --stats "${SOPTS[@]}" "$@"
	tb_wait_log "${!var}" "$log" "$ready" 20
}

xfer_wait() {	# PID NAME LOG
	local rc
	wait "$1"
	rc=$?
	tb_stop "$1"
	[ "$rc" = 0 ] && ok "$2 exited 0" || { bad "$2 exited with status $rc"; tt_show "$3" | tail -n 30; }
	grep -E '^tcp_xfer: (sent|received)' "$3" | sed 's/^/    /'
	grep -E '^tcp_xfer: (sent|received)' "$3" | sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p' | while read -r r; do
		echo "$2 $r" >>"$TB_DIR/rates"
	done
	for c in tcp_retransmit tcp_fast_retransmit tcp_rto tcp_tlp tcp_drop_csum tcp_dup_rx tcp_ooo_rx; do
		printf '    %s %s\n' "$c" "$(it_counter "$3" $c)"
	done
}

same() {	# FILE WHAT
	local got
	got=$(sha256sum <"$1" | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "$2: sha256 equal" || bad "$2: sha256 $got differs"
}

tb_exec "$NS_L" ip addr add 198.18.2.1/24 dev "$VL"
for seed in $SEEDS; do
	step "seed $seed: kernel (198.18.2.1) -> shunt (198.18.2.2), $MB MB"
	bridge_start "$seed" || exit 1
	xfer_start SRV "$NS_R" "$VR" "$TB_DIR/srv.log" listening --ip 198.18.2.2/24 --listen --port 5001 \
	    --recv-file "$TB_DIR/got" --timeout "$LIMIT" || exit 1
	if timeout "$LIMIT" ip netns exec "$NS_L" python3 "$TCPCHECK" source 198.18.2.2 5001 --file "$TB_DIR/src" \
	    --timeout "$LIMIT" >"$TB_DIR/src.log" 2>&1; then
		ok "kernel sent $MB MB ($(tail -n 1 "$TB_DIR/src.log"))"
	else
		bad "kernel source failed: $(tail -n 2 "$TB_DIR/src.log")"
	fi
	xfer_wait "$SRV" "tcp_xfer server" "$TB_DIR/srv.log"
	same "$TB_DIR/got" "kernel -> shunt, seed $seed"
	bridge_stop

	step "seed $seed: shunt (198.18.2.2) -> kernel (198.18.2.1), $MB MB"
	bridge_start "$seed" || exit 1
	rm -f "$TB_DIR/sink.ready"
	tb_spawn SINK "$NS_L" "$TB_DIR/sink.log" python3 "$TCPCHECK" sink 5002 --out "$TB_DIR/got" \
	    --ready "$TB_DIR/sink.ready" --timeout "$LIMIT"
	for _ in $(seq 100); do [ -e "$TB_DIR/sink.ready" ] && break; sleep 0.1; done
	xfer_start CLI "$NS_R" "$VR" "$TB_DIR/cli.log" connecting --ip 198.18.2.2/24 --connect 198.18.2.1:5002 \
	    --send-file "$TB_DIR/src" --timeout "$LIMIT" || exit 1
	xfer_wait "$CLI" "tcp_xfer client" "$TB_DIR/cli.log"
	tb_stop "$SINK"
	same "$TB_DIR/got" "shunt -> kernel, seed $seed"
	bridge_stop
done

# shunt <-> shunt: the left side becomes a second shunt (its kernel address goes).
tb_exec "$NS_L" ip addr flush dev "$VL"
for seed in $SEEDS; do
	step "seed $seed: shunt (198.18.2.1) <-> shunt (198.18.2.2), $MB MB each way at once"
	bridge_start "$((seed + 100))" || exit 1
	xfer_start SRV "$NS_R" "$VR" "$TB_DIR/srv.log" listening --ip 198.18.2.2/24 --listen --port 5003 \
	    --recv-file "$TB_DIR/got" --send-bytes "${MB}M" --seed "$seed" --timeout "$LIMIT" || exit 1
	xfer_start CLI "$NS_L" "$VL" "$TB_DIR/cli.log" connecting --ip 198.18.2.1/24 --connect 198.18.2.2:5003 \
	    --send-file "$TB_DIR/src" --recv-file "$TB_DIR/got2" --timeout "$LIMIT" || exit 1
	xfer_wait "$CLI" "tcp_xfer client (left)" "$TB_DIR/cli.log"
	xfer_wait "$SRV" "tcp_xfer server (right)" "$TB_DIR/srv.log"
	same "$TB_DIR/got" "left -> right, seed $seed"
	pat=$("$TCP_XFER" --gen "${MB}M" --seed "$seed" | sha256sum | cut -d' ' -f1)
	got=$(sha256sum <"$TB_DIR/got2" | cut -d' ' -f1)
	[ "$got" = "$pat" ] && ok "right -> left, seed $seed: sha256 equal" || bad "right -> left, seed $seed: sha256 differs"
	bridge_stop
done

step "throughput under impairment (MB/s per transfer)"
[ -f "$TB_DIR/rates" ] && sed 's/^/    /' "$TB_DIR/rates"
it_finish
