#!/bin/bash
# make demo: unmodified Debian programs over shunt, on a DPDK virtual NIC.
#
# In a private network namespace, a persistent tap device sh0 joins the
# kernel (198.18.0.1) and shunt (198.18.0.2, through DPDK's net_tap).
#   1. nginx runs under shunt; the kernel's curl fetches from it.
#   2. curl runs under shunt; it fetches from a kernel HTTP server.
# Everything it creates is removed on exit.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
. tests/preload/lib.bash

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

pl_setup
mkdir -p "$PL_TMP/www" "$PL_TMP/ngx"
head -c 20000000 /dev/urandom > "$PL_TMP/www/big.bin"
echo "<h1>Hello from nginx, running unmodified over shunt</h1>" > "$PL_TMP/www/index.html"
want=$(sha256sum < "$PL_TMP/www/big.bin" | cut -d' ' -f1)

say "network namespace $NS: kernel $KIP on sh0 (tap), shunt $SIP over DPDK net_tap"
ip -n "$NS" -br addr show sh0 | sed "s/DOWN/(down until shunt opens it)/"

say "1. nginx under shunt:  shunt --ip $SIP/24 --dpdk '...net_tap...' --stats -- nginx"
cat > "$PL_TMP/nginx.conf" <<CONF
daemon off;
master_process off;
error_log stderr warn;
pid $PL_TMP/ngx/nginx.pid;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $PL_TMP/ngx/body;
	proxy_temp_path $PL_TMP/ngx/proxy;
	fastcgi_temp_path $PL_TMP/ngx/fcgi;
	uwsgi_temp_path $PL_TMP/ngx/uwsgi;
	scgi_temp_path $PL_TMP/ngx/scgi;
	server { listen 8080; root $PL_TMP/www; }
}
CONF
PL_SHUNT_OPTS=(--stats --log info)
pl_bg ngx bash -c "$(declare -f pl_shunt); NS=$NS SHUNT_BIN=$SHUNT_BIN SIP=$SIP EAL='$EAL'; \
    PL_SHUNT_OPTS=(--stats --log info); pl_shunt nginx -p $PL_TMP/ngx -c $PL_TMP/nginx.conf 2> $PL_TMP/ngx.log"
pl_wait_connect $SIP 8080 150 || { cat "$PL_TMP/ngx.log"; pl_fail "nginx under shunt did not come up"; }
grep "shunt\[" "$PL_TMP/ngx.log" | sed 's/^/   /'

say "the kernel's curl -> nginx under shunt"
pl_kernel curl -sS "http://$SIP:8080/index.html"
pl_kernel curl -sS -o "$PL_TMP/got" -w '   20 MB in %{time_total} s (%{speed_download} bytes/s)\n' "http://$SIP:8080/big.bin" ||
    pl_fail "download failed"
[ "$(sha256sum < "$PL_TMP/got" | cut -d' ' -f1)" = "$want" ] || pl_fail "the file differs"
echo "   sha256 matches"
say "the kernel pings shunt's address (shunt's stack answers)"
pl_kernel ping -c 3 -i 0.2 -q $SIP | tail -2 | sed 's/^/   /'

say "nginx stops: shunt's counters for its process"
kill -TERM -- "-$ngx" 2>/dev/null
for i in $(seq 50); do grep -q "counters:" "$PL_TMP/ngx.log" && sleep 0.2 && break; sleep 0.1; done
sed -n '/counters:/,$p' "$PL_TMP/ngx.log" | grep -E "counters|eth_rx|eth_tx|ip_rx|tcp_rx|tcp_tx|tcp_passive|tcp_retrans|icmp_echo" |
    sed 's/^/   /'

say "2. curl under shunt:  shunt ... -- curl http://$KIP:8000/big.bin  (a kernel server)"
pl_bg srv pl_kernel python3 -m http.server --bind $KIP --directory "$PL_TMP/www" 8000
pl_wait_port 8000 || pl_fail "kernel http server did not start"
PL_SHUNT_OPTS=(--stats --log info)
pl_shunt curl -sS -o "$PL_TMP/got2" -w '   20 MB in %{time_total} s (%{speed_download} bytes/s)\n' \
    "http://$KIP:8000/big.bin" 2> "$PL_TMP/curl.log" || { cat "$PL_TMP/curl.log"; pl_fail "curl under shunt failed"; }
[ "$(sha256sum < "$PL_TMP/got2" | cut -d' ' -f1)" = "$want" ] || pl_fail "the file differs"
echo "   sha256 matches"
grep -E "shunt \(connect|counters|eth_rx|tcp_rx|tcp_tx|tcp_active" "$PL_TMP/curl.log" | sed 's/^/   /'

say "done: two unmodified programs ran over shunt; the namespace is removed on exit"
