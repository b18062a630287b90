#!/bin/bash
# Adversarial peer suite against an unmodified program under the preload
# shim: Debian's python3 -m http.server (HTTP/1.1, a thread per connection)
# run by the `shunt` launcher over DPDK net_tap (tests/preload/lib.bash).
# attack.py runs every TCP/IP probe in HTTP mode: after each, the server is
# alive, answers ping, serves a fresh GET, and two kept-alive connections
# opened at the start still get the file intact.
set -u
. "$(dirname "$0")/../preload/lib.bash"
ADV=$ROOT/tests/adversarial
PY=/usr/bin/python3
. "$ADV/lib.bash" 2>/dev/null || true	# adv_find_desc, adv_rss (the interop bed itself is not used here)
"$PY" -c 'import scapy' 2>/dev/null || pl_skip "skipped: python3-scapy is not installed"
pl_setup
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0 >/dev/null
mkdir -p "$PL_TMP/www"
head -c 20000 /dev/urandom >"$PL_TMP/www/file.bin"
PL_SHUNT_OPTS=(--gw $KIP --stats)
server() { pl_shunt "$PY" -m http.server -p HTTP/1.1 --bind $SIP --directory "$PL_TMP/www" 8000 \
    >"$PL_TMP/server.log" 2>&1; }
pl_bg GRP server
pl_wait_connect $SIP 8000 200 || { cat "$PL_TMP/server.log"; pl_fail "http.server under shunt did not start"; }
SPID=$(adv_find_desc "$GRP" python3) || pl_fail "cannot find the server process"
echo "server pid $SPID: $(tr '\0' ' ' </proc/$SPID/cmdline)"
rc=0
timeout 600 ip netns exec "$NS" "$PY" "$ADV/attack.py" --pid "$SPID" --port 8000 --mode http \
    --http-path /file.bin --http-file "$PL_TMP/www/file.bin" ${ADV_ONLY:+--only "$ADV_ONLY"} \
    ${ADV_SEED:+--seed "$ADV_SEED"} || rc=1
kill -INT "$SPID" 2>/dev/null
for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
grep -E 'tcp_challenge|tcp_drop_paws|ip_drop_src|ip_frag_drop|ip_drop_options|tcp_rst' "$PL_TMP/server.log" | sed 's/^/    /'
[ "$rc" = 0 ] || pl_fail "some probe broke something"
echo "ok: every probe held against http.server under the preload shim"
