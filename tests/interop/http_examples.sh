#!/bin/bash
# The HTTP/1.1 file servers -- examples/http_raw (raw API, zero-copy bodies
# from mmap'd files) and examples/http_epoll (socket API, shunt_epoll) --
# over DPDK net_tap in a private netns, with kernel clients:
#   - curl fetches a 12 MB file, an odd-sized one and an empty one: sha256 equal;
#   - a missing file is 404, a path leaving the directory 400, HEAD carries
#     the length and no body;
#   - keep-alive: curl reuses one connection for three URLs, and
#     tcp_check.py http makes GET/HEAD requests and a 404 on one connection;
#   - wrk -t1 -c8 -d3s completes with requests and no socket errors;
#   - the server stops cleanly on SIGTERM; no driver drops, no bad checksums.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tcp_lib.bash"
it_require python3 curl wrk sha256sum
it_need_pmd tap
it_need_built "$HTTP_RAW" "$HTTP_EPOLL"
tb_init http
tb_netns NS || exit 1

WWW=$TB_DIR/www
mkdir -p "$WWW/sub/dir" || exit 1
printf '<html><body>shunt</body></html>\n' >"$WWW/index.html"
head -c 12M /dev/urandom >"$WWW/big.bin"
head -c 100003 /dev/urandom >"$WWW/odd.bin"
: >"$WWW/empty.txt"
echo "deep" >"$WWW/sub/dir/file.txt"
csum0=$(tt_nstat "$NS" TcpInCsumErrors)
URL=http://198.18.0.2

fetch_same() {	# PATH
	local got want
	want=$(sha256sum <"$WWW/$1" | cut -d' ' -f1)
	got=$(timeout 60 ip netns exec "$NS" curl -sf "$URL/$1" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "GET /$1: sha256 equal ($(stat -c %s "$WWW/$1") bytes)" ||
		bad "GET /$1: sha256 differs"
}

code_of() {	# CURL-ARGS... -> HTTP status
	timeout 30 ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' "$@"
}

run_http() {	# NAME PROGRAM
	local name=$1 prog=$2 log="$TB_DIR/$1.log" out n rps
	step "$name"
	tt_start PID "$NS" "$log" "serving" "$prog" --dpdk @EAL@ --ip 198.18.0.2/24 --root "$WWW" --stats ||
		{ bad "$name did not start"; return; }
	grep "serving" "$log"
	fetch_same big.bin
	fetch_same odd.bin
	fetch_same empty.txt
	fetch_same index.html
	fetch_same sub/dir/file.txt
	n=$(code_of "$URL/empty.txt")
	[ "$n" = 200 ] && ok "GET /empty.txt: 200" || bad "GET /empty.txt is $n"
	n=$(code_of "$URL/")
	[ "$n" = 200 ] && ok "GET / serves index.html" || bad "GET / is $n"
	n=$(code_of "$URL/nope.html")
	[ "$n" = 404 ] && ok "missing file: 404" || bad "missing file: $n"
	n=$(code_of --path-as-is "$URL/../etc/passwd")
	[ "$n" = 400 ] && ok "/../etc/passwd: 400" || bad "/../etc/passwd: $n"
	n=$(code_of -X POST -d x "$URL/index.html")
	[ "$n" = 413 ] || [ "$n" = 405 ] && ok "POST with a body: $n" || bad "POST with a body: $n"
	out=$(timeout 30 ip netns exec "$NS" curl -sI "$URL/big.bin" | tr -d '\r')
	echo "$out" | grep -q "^Content-Length: $(stat -c %s "$WWW/big.bin")$" && ok "HEAD: Content-Length right" ||
		bad "HEAD: $(echo "$out" | tr '\n' ' ')"
	out=$(timeout 60 ip netns exec "$NS" curl -sv -o /dev/null -o /dev/null -o /dev/null \
	    "$URL/index.html" "$URL/odd.bin" "$URL/nope" 2>&1)
	n=$(echo "$out" | grep -c "Re-using existing connection")
	[ "$n" = 2 ] && ok "curl: three requests on one connection" || bad "curl reused the connection $n times, want 2"
	if timeout 60 ip netns exec "$NS" python3 "$TCPCHECK" http 198.18.0.2 --port 80 --path /odd.bin \
	    --expect-file "$WWW/odd.bin" --requests 8; then
		ok "keep-alive: GET/HEAD and a 404 on one connection"
	else
		bad "keep-alive check"
	fi
	out=$(timeout 30 ip netns exec "$NS" wrk -t1 -c8 -d3s "$URL/index.html" 2>&1)
	echo "$out" | sed 's/^/    /'
	n=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
	rps=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
	[ "${n:-0}" -gt 0 ] && ok "wrk: $n requests, $rps requests/s" || bad "wrk made no requests"
	echo "$out" | grep -q "Socket errors" && bad "wrk: $(echo "$out" | grep 'Socket errors')" ||
		ok "wrk: no socket errors"
	echo "$out" | grep -q "Non-2xx" && bad "wrk: $(echo "$out" | grep 'Non-2xx')" || ok "wrk: every response 2xx"
	echo "$name: wrk $rps requests/s" >>"$TB_DIR/figures"
	tt_stop "$PID" "$name"
	sed -n '/stopping:/p' "$log"
	tt_no_drops "$log" "$name"
}

run_http http_raw "$HTTP_RAW"
run_http http_epoll "$HTTP_EPOLL"

csum1=$(tt_nstat "$NS" TcpInCsumErrors)
[ "$csum0" = "$csum1" ] && ok "the kernel counted no TCP checksum errors" ||
	bad "the kernel counted $((csum1 - csum0)) TCP checksum errors"
step "figures"
cat "$TB_DIR/figures"
it_finish
