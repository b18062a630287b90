#!/bin/bash
# make soak: the long forms of the reliability tests.
#
#   tests/soak/run.sh BUILD
#
# 1. A mixed workload for SOAK_SECONDS (default 600): examples/two_apis
#    (socket-API TCP echo, raw-API UDP echo) over DPDK net_tap with shunt's
#    fault injector on both directions (SOAK_FAULTS), against tests/soak/
#    client.py in the netns: 8 workers opening connections of 1 byte..2 MB
#    (some closed with RST), 4 connections kept open the whole time, UDP
#    datagrams, every byte checked.  (The adversarial probes are not mixed in:
#    the hand-driven attacker does not retransmit, so the injector's losses
#    would fail its checks, not shunt.)
#    The server's RSS is sampled every 30 s: growth after the first minute
#    must stay under SOAK_MEM_KB (default 65536).  The server must stop cleanly.
# 2. tests/adversarial/impaired_transfers.sh with 100 MB per transfer and
#    seeds SOAK_IMPAIR_SEEDS (default "1 2"): kernel <-> shunt and
#    shunt <-> shunt through impair_bridge, sha256 equal every time.
# 3. tests/adversarial/syn_flood.sh with 1,000,000 SYNs.
# SOAK_ONLY=mixed|impair|flood runs one part.  Ends with "N passed, N failed".
set -u
BUILD=${1:-build}
export BUILD
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${SOAK_SECONDS:-600}
MEM_KB=${SOAK_MEM_KB:-65536}
FAULTS=${SOAK_FAULTS:-loss=1%,reorder=5%,dup=0.5%,corrupt=0.05%,delay=200us,jitter=200us,seed=$(date +%s)}
ONLY=${SOAK_ONLY:-}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
passed=0 failed=0

result() {	# NAME RC
	if [ "$2" = 0 ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

mixed() (
	. tests/adversarial/lib.bash
	adv_require ping
	it_need_built "$TWO_APIS"
	TB_TIMEOUT=$((SECS + 600))
	tb_init soak
	tb_netns NS || exit 1
	adv_seal_netns "$NS"
	step "two_apis with faults $FAULTS"
	tt_start PID "$NS" "$TB_DIR/server.log" "echoing UDP" "$TWO_APIS" --dpdk @EAL@ --ip 198.18.0.2/24 \
	    --gw 198.18.0.1 --faults "$FAULTS" --rto-min-ms 20 --stats || exit 1
	SPID=$(adv_child_pid "$PID")
	step "mixed load for $SECS s"
	timeout $((SECS + 300)) ip netns exec "$NS" "$PY" "$ROOT/tests/soak/client.py" 198.18.0.2 7 \
	    --seconds "$SECS" >"$TB_DIR/client.log" 2>&1 &
	CLI=$!
	t=0 rss_base=0 rss_max=0
	: >"$TB_DIR/rss"
	while kill -0 "$CLI" 2>/dev/null; do
		sleep 30
		t=$((t + 30))
		r=$(adv_rss "$SPID")
		echo "t=$t s: server RSS $r kB" | tee -a "$TB_DIR/rss"
		[ "$t" = 60 ] && rss_base=$r
		[ "$r" -gt "$rss_max" ] && rss_max=$r
	done
	wait "$CLI" && ok "mixed load: every byte intact" || bad "mixed load failed"
	cat "$TB_DIR/client.log"
	[ "$rss_base" -gt 0 ] || rss_base=$(head -n 1 "$TB_DIR/rss" | sed 's/.*RSS \([0-9]*\).*/\1/')
	growth=$((rss_max - rss_base))
	[ "$growth" -le "$MEM_KB" ] && ok "server RSS grew $growth kB after the first minute (bound $MEM_KB)" ||
		bad "server RSS grew $growth kB after the first minute (bound $MEM_KB)"
	tt_stop "$PID" two_apis
	tt_show "$TB_DIR/server.log" | grep -E 'stopping|fault injector|tcp_(retransmit|rto|conn|syncookie|drop)|_nobuf|rx_nombuf'
	it_finish
)

if [ -z "$ONLY" ] || [ "$ONLY" = mixed ]; then
	echo "== soak: mixed workload, $SECS s"
	mixed 2>&1 | tee "$LOGDIR/soak_mixed.log" | grep -E '^(ok|FAIL|==|t=|soak client|  t=)'
	result soak/mixed "${PIPESTATUS[0]}"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = impair ]; then
	echo "== soak: 100 MB transfers under impairment, seeds ${SOAK_IMPAIR_SEEDS:-1 2}"
	IMPAIR_MB=100 IMPAIR_SEEDS=${SOAK_IMPAIR_SEEDS:-1 2} IMPAIR_TIMEOUT=900 TB_TIMEOUT=1000 \
	    tests/adversarial/impaired_transfers.sh >"$LOGDIR/soak_impair.log" 2>&1
	rc=$?
	grep -E '^(ok|FAIL|==)|MB/s' "$LOGDIR/soak_impair.log"
	result soak/impaired_transfers_100MB $rc
fi
if [ -z "$ONLY" ] || [ "$ONLY" = flood ]; then
	echo "== soak: SYN flood, 1,000,000 SYNs"
	SYN_FLOOD_COUNT=1000000 SYN_FLOOD_RATE=50000 SYN_FLOOD_CONNS=2000 tests/adversarial/syn_flood.sh \
	    >"$LOGDIR/soak_flood.log" 2>&1
	rc=$?
	grep -E '^(ok|FAIL)|legitimate|sent [0-9]* SYNs|memory' "$LOGDIR/soak_flood.log"
	result soak/syn_flood_1M $rc
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
