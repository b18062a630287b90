#!/bin/bash
# More unmodified servers under shunt with kernel clients: sockperf
# (ping-pong), iperf3 (both directions), python3 -m http.server.
. "$(dirname "$0")/lib.bash"
pl_setup

if command -v sockperf >/dev/null; then
	pl_bg sp pl_shunt sockperf server -i $SIP -p 11111 --tcp
	pl_wait_connect $SIP 11111 150 || pl_fail "sockperf server under shunt does not answer"
	pl_kernel timeout 30 sockperf ping-pong -i $SIP -p 11111 --tcp -t 3 > "$PL_TMP/sp.txt" 2>&1 ||
	    pl_fail "sockperf ping-pong failed: $(tail -5 "$PL_TMP/sp.txt")"
	grep -E "Summary: Latency|percentile 50.000" "$PL_TMP/sp.txt"
	grep -q "Summary: Latency is" "$PL_TMP/sp.txt" || pl_fail "sockperf printed no summary"
	grep -qi "error" "$PL_TMP/sp.txt" && pl_fail "sockperf reported errors"
	kill -- "-$sp" 2>/dev/null
	echo "ok: sockperf server under shunt answered a 3 s ping-pong"
fi

if command -v iperf3 >/dev/null; then
	pl_bg ip3 pl_shunt iperf3 -s -B $SIP -p 5201
	pl_wait_connect $SIP 5201 150 || pl_fail "iperf3 -s under shunt does not answer"
	for dir in "" "-R"; do
		pl_kernel timeout 30 iperf3 -c $SIP -p 5201 -t 2 $dir > "$PL_TMP/ip3.txt" 2>&1 ||
		    pl_fail "iperf3 -c $dir failed: $(tail -5 "$PL_TMP/ip3.txt")"
		grep -E "sender|receiver" "$PL_TMP/ip3.txt"
		grep -q "receiver" "$PL_TMP/ip3.txt" || pl_fail "iperf3 $dir printed no result"
		sleep 0.5
	done
	kill -- "-$ip3" 2>/dev/null
	echo "ok: iperf3 -s under shunt served both directions"
fi

mkdir -p "$PL_TMP/www"
head -c 5000000 /dev/urandom > "$PL_TMP/www/f.bin"
want=$(sha256sum < "$PL_TMP/www/f.bin" | cut -d' ' -f1)
pl_bg hs pl_shunt python3 -m http.server --bind $SIP --directory "$PL_TMP/www" 8000
pl_wait_connect $SIP 8000 150 || pl_fail "python http.server under shunt does not answer"
for i in 1 2 3; do
	pl_kernel timeout 30 curl -sS -o "$PL_TMP/got" "http://$SIP:8000/f.bin" || pl_fail "curl $i failed"
	[ "$(sha256sum < "$PL_TMP/got" | cut -d' ' -f1)" = "$want" ] || pl_fail "curl $i: sha256 differs"
done
echo "ok: python3 -m http.server under shunt served curl three times, intact"
