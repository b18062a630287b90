# Shared parts of the TCP interop tests (tcp_*.sh, http_examples.sh,
# two_apis.sh): the TCP examples and tools, and starting one of them on
# net_tap inside a netns the test already made.  Sourced after lib.bash;
# not a test itself (tests/run.sh runs *.sh only).

TCP_ECHO_RAW=$BUILD/examples/tcp_echo_raw
TCP_ECHO_NETCONN=$BUILD/examples/tcp_echo_netconn
TCP_ECHO_SOCKET=$BUILD/examples/tcp_echo_socket
HTTP_RAW=$BUILD/examples/http_raw
HTTP_EPOLL=$BUILD/examples/http_epoll
TWO_APIS=$BUILD/examples/two_apis
TCP_XFER=$BUILD/tools/tcp_xfer
TCPCHECK=$ROOT/tests/interop/tcp_check.py

# Starts PROGRAM ARGS in netns NS on a fresh net_tap port (@EAL@ in ARGS
# becomes its EAL arguments), gives the kernel side sh0 198.18.0.1/24 as
# soon as the port exists, and waits until the program's output matches
# READY.  Sets $PIDVAR; output goes to LOG.  The tap goes away with the
# program, so each program gets its own (and the kernel side its address).
tt_start() {	# PIDVAR NS LOG READY PROGRAM ARGS...
	local pidvar=$1 ns=$2 log=$3 ready=$4 eal a args=()
	shift 4
	tb_eal eal "net_tap0,iface=sh0" || return 1
	for a in "$@"; do
		if [ "$a" = "@EAL@" ]; then args+=("$eal"); else args+=("$a"); fi
	done
	tb_spawn "$pidvar" "$ns" "$log" "${args[@]}"
	tb_wait_link "$ns" sh0 20 || { sed 's/^/    /' "$log" >&2; return 1; }
	tb_exec "$ns" ip addr add "$TB_KERNEL_IP/$TB_PREFIX_LEN" dev sh0 || return 1
	tb_exec "$ns" ip link set sh0 up || return 1
	[ -z "$ready" ] && return 0
	tb_wait_log "${!pidvar}" "$log" "$ready" 20
}

# Stops a program started by tt_start (SIGTERM) and checks it exited 0.
tt_stop() {	# PID NAME
	local rc
	tb_stop "$1"
	rc=$?
	[ "$rc" = 0 ] && ok "$2 exited cleanly" || bad "$2 exited with status $rc"
}

# Waits up to SECS for a program started by tt_start to end by itself, then
# stops it if it has not; returns its exit status (SIGTERM's if stopped).
tt_wait() {	# PID SECS
	local n=$(($2 * 10))
	while [ "$n" -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		n=$((n - 1))
	done
	kill -0 "$1" 2>/dev/null && tb_log "process $1 still running after $2 s: stopping it"
	tb_stop "$1"
}

# Program output without DPDK's start-up chatter.
tt_show() {	# LOG
	grep -v '^EAL:\|^TELEMETRY:\|^tap_nl_dump\|^qdisc_create\|^eth_dev_tap_create' "$1" | sed 's/^/    /'
}

# Fails the test if a driver counter shows dropped frames or a checksum went wrong.
tt_no_drops() {	# LOG NAME
	local c v
	for c in rx_drop_nopbuf tx_drop_nombuf tx_drop_full tx_drop_bad tcp_drop_csum ip_drop_csum; do
		v=$(it_counter "$1" $c)
		[ "$v" = 0 ] || bad "$2: $c = $v"
	done
}

# A kernel counter from `nstat -a` in netns NS (0 if absent), e.g. TcpInCsumErrors.
tt_nstat() {	# NS NAME
	ip netns exec "$1" nstat -az "$2" 2>/dev/null | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}
