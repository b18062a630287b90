#!/bin/bash
# A poller asleep on net_tap's receive interrupt must wake for every frame,
# also when the machine is busy.  net_tap's descriptor is the tap itself and
# its receive burst returns nothing until the PMD's SIGIO handler has run in
# some thread: a poller woken by a frame before that must not go back to
# sleep on the (edge-triggered) interrupt and leave the frame in the tap.
# With both CPUs kept busy by two spinning shells (bounded, ours), single UDP
# datagrams are sent to examples/two_apis' raw-API echo with pauses between
# them (long enough for its poller to reach its interrupt sleep); every one
# must come back within a second.  Before the fix about half of them did not.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3
it_need_pmd tap
it_need_built "$TWO_APIS"
tb_init tapintr
tb_netns NS || exit 1

step "start two_apis, then load both CPUs"
tt_start PID "$NS" "$TB_DIR/two.log" "echoing UDP" "$TWO_APIS" --dpdk @EAL@ --ip 198.18.0.2/24 --stats || exit 1
tb_spawn HOG1 "$NS" /dev/null timeout 60 sh -c 'while :; do :; done'
tb_spawn HOG2 "$NS" /dev/null timeout 60 sh -c 'while :; do :; done'

step "20 datagrams, one at a time, 300 ms apart"
late=0
for i in $(seq 1 20); do
	sleep 0.3
	if ! timeout 10 ip netns exec "$NS" python3 "$UDPCHECK" few 198.18.0.2 --count 1 >"$TB_DIR/few.out" 2>&1; then
		late=$((late + 1))
		sed 's/^/    /' "$TB_DIR/few.out"
	fi
done
[ "$late" = 0 ] && ok "20 of 20 echoed within 1 s" || bad "$late of 20 datagrams not echoed within 1 s"

step "stop"
tb_stop "$HOG1"; tb_stop "$HOG2"
tt_stop "$PID" two_apis
it_finish
