#!/bin/bash
# Unmodified nginx under shunt serves a 50 MB file to the kernel's curl
# (sha256 equal), small files to a bounded wrk run with no socket errors, and
# keeps serving the kernel's loopback on the same INADDR_ANY listener (dual).
. "$(dirname "$0")/lib.bash"
command -v nginx >/dev/null || pl_skip "nginx not installed"
pl_setup
mkdir -p "$PL_TMP/www" "$PL_TMP/ngx/logs"
head -c 50000000 /dev/urandom > "$PL_TMP/www/big.bin"
echo "hello from nginx under shunt" > "$PL_TMP/www/index.html"
want=$(sha256sum < "$PL_TMP/www/big.bin" | cut -d' ' -f1)
cat > "$PL_TMP/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid $PL_TMP/ngx/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	client_body_temp_path $PL_TMP/ngx/body;
	proxy_temp_path $PL_TMP/ngx/proxy;
	fastcgi_temp_path $PL_TMP/ngx/fcgi;
	uwsgi_temp_path $PL_TMP/ngx/uwsgi;
	scgi_temp_path $PL_TMP/ngx/scgi;
	server {
		listen 8080;
		root $PL_TMP/www;
	}
}
CONF
PL_SHUNT_OPTS=(--log info)
pl_bg srv pl_shunt nginx -p "$PL_TMP/ngx" -c "$PL_TMP/nginx.conf"
pl_wait_connect $SIP 8080 150 || pl_fail "nginx under shunt does not answer on $SIP:8080"

pl_kernel timeout 60 curl -sS -o "$PL_TMP/got" "http://$SIP:8080/big.bin" || pl_fail "curl from the kernel failed"
got=$(sha256sum < "$PL_TMP/got" | cut -d' ' -f1)
[ "$got" = "$want" ] || pl_fail "sha256 $got != $want"
echo "ok: 50 MB from nginx under shunt, intact"

body=$(pl_kernel timeout 10 curl -sS "http://127.0.0.1:8080/index.html") || pl_fail "loopback request failed"
[ "$body" = "hello from nginx under shunt" ] || pl_fail "loopback body: $body"
echo "ok: the same listener answers on the kernel's loopback"

pl_kernel timeout 20 wrk -t1 -c8 -d3s "http://$SIP:8080/index.html" > "$PL_TMP/wrk.txt" 2>&1 || pl_fail "wrk failed: $(cat "$PL_TMP/wrk.txt")"
cat "$PL_TMP/wrk.txt"
grep -q "Socket errors" "$PL_TMP/wrk.txt" && pl_fail "wrk saw socket errors"
grep -q "Non-2xx" "$PL_TMP/wrk.txt" && pl_fail "wrk saw non-2xx answers"
reqs=$(awk '/requests in/ {print $1}' "$PL_TMP/wrk.txt")
[ "${reqs:-0}" -gt 100 ] || pl_fail "wrk completed only ${reqs:-0} requests"
echo "ok: wrk completed $reqs requests with no socket errors"
