#!/bin/bash
# Preload robustness: a plain C program (tests/preload/robust.c, built here
# with cc, no shunt in it) run under the `shunt` launcher over DPDK net_tap,
# talking to a kernel echo server through shunt:
#   - signals during blocking calls (EINTR honoured without SA_RESTART,
#     restarted with it; poll/epoll_wait always EINTR; data intact meanwhile);
#   - a socket closed by one thread while others block on it (recv, epoll_wait):
#     no crash, no hang, the descriptor number reused and working;
#   - fork and exec under load: children exit or exec /bin/sh (which must
#     still see SHUNT_* and LD_PRELOAD) while a thread streams 8 MB intact.
set -u
. "$(dirname "$0")/../preload/lib.bash"
pl_setup
cc -O1 -pthread -o "$PL_TMP/robust" "$ROOT/tests/preload/robust.c" || pl_fail "cannot build robust.c"
cat > "$PL_TMP/echo.py" <<'PY'
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            if b == b"bye":		# close 200 ms later, without a word
                time.sleep(0.2)
                break
            if b == b"delay":		# answer 300 ms late
                time.sleep(0.3)
            c.sendall(b)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
pl_bg ECHO pl_kernel python3 "$PL_TMP/echo.py" $KIP 7300
pl_wait_port 7300 || pl_fail "kernel echo server did not start"
rc=0
for mode in eintr close fork; do
	echo "== robust $mode ($(date +%s.%N | cut -c1-14))"
	if ! pl_shunt timeout 120 "$PL_TMP/robust" $mode $KIP 7300 40 >"$PL_TMP/out" 2>"$PL_TMP/err"; then
		cat "$PL_TMP/out"; tail -n 20 "$PL_TMP/err"
		echo "FAIL: robust $mode"
		rc=1
		continue
	fi
	cat "$PL_TMP/out"
done
[ "$rc" = 0 ] || exit 1
echo "ok: signals, close-while-blocked and fork/exec under load held"
