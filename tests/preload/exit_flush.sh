#!/bin/bash
# A program that writes and exits at once: the kernel would still deliver what
# it wrote (the closed socket lives on), so shunt must too.  Python under
# shunt sends 20 MB to a kernel server, then exits straight away -- once after
# close(), once leaving the socket open for exit to close -- and the server's
# sha256 must match.
. "$(dirname "$0")/lib.bash"
pl_setup
head -c 20000000 /dev/urandom > "$PL_TMP/data"
want=$(sha256sum < "$PL_TMP/data" | cut -d' ' -f1)

send_and_exit() {	# port mode(close|open)
	pl_shunt /usr/bin/python3 -c "
import socket, sys, os
s = socket.create_connection(('$KIP', $1))
s.sendall(open('$PL_TMP/data', 'rb').read())
if '$2' == 'close':
    s.close()
os._exit(0)
"
}

port=7100
for mode in close open; do
	port=$((port + 1))
	pl_bg srv pl_kernel sh -c "socat -u TCP-LISTEN:$port,bind=$KIP,reuseaddr OPEN:$PL_TMP/r-$mode,creat,trunc"
	pl_wait_port $port || pl_fail "kernel socat did not listen"
	send_and_exit $port $mode || pl_fail "python under shunt ($mode) failed"
	timeout 20 tail --pid="$srv" -f /dev/null
	got=$(sha256sum < "$PL_TMP/r-$mode" | cut -d' ' -f1)
	[ "$got" = "$want" ] || pl_fail "socket left $mode at exit: $(stat -c %s "$PL_TMP/r-$mode") of 20000000 bytes arrived"
	echo "ok: 20 MB written, socket left $mode at exit: all arrived"
done
echo "all checks passed"
