#!/bin/bash
# Kernel paths keep working inside a shunted program: loopback TCP, AF_UNIX,
# name resolution, pipes, eventfd, timerfd and signalfd share one epoll with
# a connection over shunt; and with 2,000 descriptors open, select() on the
# low ones still works (descriptor numbers are the kernel's own).
. "$(dirname "$0")/lib.bash"
pl_setup
cc -O1 -o "$PL_TMP/mixed" "$(dirname "$0")/mixed.c" || pl_fail "cannot build mixed.c"
cat > "$PL_TMP/hello.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
def serve(c):
    c.recv(2)
    c.sendall(b"hello")
    c.recv(1)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
pl_bg h1 pl_kernel python3 "$PL_TMP/hello.py" $KIP 7200
pl_bg h2 pl_kernel python3 "$PL_TMP/hello.py" 127.0.0.1 7201
pl_wait_port 7200 && pl_wait_port 7201 || pl_fail "helper servers did not start"
PL_SHUNT_OPTS=(--log info)
pl_shunt timeout 30 "$PL_TMP/mixed" epoll $KIP 7200 7201 > "$PL_TMP/out" 2> "$PL_TMP/log" ||
    { cat "$PL_TMP/out" "$PL_TMP/log"; pl_fail "mixed epoll"; }
cat "$PL_TMP/out"
[ "$(grep -c 'ready in the shared epoll' "$PL_TMP/out")" = 7 ] || pl_fail "not every descriptor reported"
grep -q "shunt (connect $KIP:7200)" "$PL_TMP/log" || pl_fail "the connection to $KIP did not go over shunt"
grep -q "kernel (connect 127.0.0.1:7201)" "$PL_TMP/log" || pl_fail "loopback did not stay on the kernel"
echo "ok: kernel descriptors and a shunt socket in one epoll"
pl_shunt timeout 30 "$PL_TMP/mixed" select $KIP 7200 > "$PL_TMP/out2" 2>&1 || { cat "$PL_TMP/out2"; pl_fail "mixed select"; }
cat "$PL_TMP/out2"
echo "ok: select with 2,000 descriptors open"
