#!/bin/bash
# Test bed: shunt programs on DPDK virtual NICs inside private network
# namespaces, with the kernel (or another shunt) as the peer.  Every name it
# creates carries $$, every address is in 198.18.0.0/15, no route leads out,
# every program runs under `timeout`, and everything is removed on exit --
# also when a test fails or is interrupted.
#
# As a command (the usual case: one program on net_tap, a client in the netns):
#
#   scripts/testbed.sh [-t SECONDS] PROGRAM [ARGS...] -- CLIENT [ARGS...]
#
#   Creates a netns, starts PROGRAM in it -- the word @EAL@ in ARGS becomes the
#   EAL arguments of a net_tap port whose kernel side is sh0 -- waits for sh0,
#   gives the kernel side 198.18.0.1/24 (the program is meant to take
#   198.18.0.2/24), runs CLIENT inside the netns, then stops PROGRAM (SIGTERM,
#   then SIGKILL) and removes everything.  Exit status: CLIENT's, or 1 if the
#   bed could not be set up.  PROGRAM's output is shown at the end.
#   Example:
#     scripts/testbed.sh build/examples/udp_echo_raw --dpdk @EAL@ --ip 198.18.0.2/24 -- ping -c 3 198.18.0.2
#
# As a library (`. scripts/testbed.sh` from a test script):
#
#   tb_init NAME            temp dir $TB_DIR, cleanup trap on EXIT/INT/TERM; NAME tags every object
#   tb_netns VAR            creates a netns (name in $VAR), loopback up, IPv6 off, no routes
#   tb_eal VAR VDEV [SUFFIX]  sets $VAR to EAL arguments for VDEV with a private --file-prefix
#   tb_spawn VAR NS LOG CMD...  starts CMD in netns NS (output to LOG) under a timeout; PID in $VAR
#   tb_wait_log PID LOG REGEX SECS   waits until LOG matches REGEX; fails if PID dies or time runs out
#   tb_wait_link NS IF SECS waits until interface IF exists in NS
#   tb_stop PID             SIGTERM, up to 10 s grace, then SIGKILL; returns PID's exit status
#   tb_exec NS CMD...       runs CMD inside NS
#   tb_tap_start PROGRAM ARGS...   the command's set-up: sets TB_NS, TB_PID, TB_LOG
#   tb_cleanup              stops what was started, deletes netns and veths, removes temp files
#
# Variables: TB_TIMEOUT (lifetime bound of every program, default 300 s),
# TB_KERNEL_IP=198.18.0.1, TB_SHUNT_IP=198.18.0.2, TB_PREFIX_LEN=24.

TB_TIMEOUT=${TB_TIMEOUT:-300}
TB_KERNEL_IP=198.18.0.1
TB_SHUNT_IP=198.18.0.2
TB_PREFIX_LEN=24
TB_NAME=tb
TB_DIR=
TB_PIDS=()
TB_NETNS=()
TB_EAL_PREFIXES=()
TB_SEQ=0

tb_log() { printf 'testbed: %s\n' "$*" >&2; }

tb_init() {	# NAME
	TB_NAME=${1:-tb}
	TB_DIR=$(mktemp -d "/tmp/shunt-$TB_NAME-$$.XXXXXX") || return 1
	trap 'tb_cleanup' EXIT
	trap 'tb_cleanup; trap - EXIT; exit 130' INT
	trap 'tb_cleanup; trap - EXIT; exit 143' TERM
}

tb_need_root() {	# prints the reason and returns 1 when the bed cannot run here
	if [ "$(id -u)" != 0 ]; then echo "needs root (network namespaces, tap devices)"; return 1; fi
	if ! ip netns list >/dev/null 2>&1; then echo "ip netns does not work here"; return 1; fi
	if [ ! -c /dev/net/tun ]; then echo "/dev/net/tun is missing"; return 1; fi
	return 0
}

tb_netns() {	# VAR
	local ns="sh-$TB_NAME-$$-$TB_SEQ"
	TB_SEQ=$((TB_SEQ + 1))
	ip netns add "$ns" || return 1
	TB_NETNS+=("$ns")
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
	    >/dev/null 2>&1
	printf -v "$1" '%s' "$ns"
}

tb_eal() {	# VAR VDEV [SUFFIX]
	local prefix="shunt-$TB_NAME-$$-${3:-$TB_SEQ}" ncpu
	TB_SEQ=$((TB_SEQ + 1))
	ncpu=$(nproc 2>/dev/null || echo 1)
	TB_EAL_PREFIXES+=("$prefix")
	# --no-huge: no machine needs hugepages; the lcore floats over all CPUs so
	# that two DPDK processes of one test never share a pinned core.
	printf -v "$1" '%s' "--no-huge -m 256 --no-pci --vdev=$2 --file-prefix=$prefix --lcores=0@(0-$((ncpu - 1))) --log-level=*:notice"
}

tb_spawn() {	# VAR NS LOG CMD...
	local var=$1 ns=$2 log=$3
	shift 3
	timeout -k 5 "$TB_TIMEOUT" ip netns exec "$ns" "$@" >"$log" 2>&1 &
	TB_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}

tb_wait_log() {	# PID LOG REGEX SECS
	local pid=$1 log=$2 re=$3 n=$(($4 * 10))
	while [ "$n" -gt 0 ]; do
		grep -Eq -- "$re" "$log" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			tb_log "process $pid ended before \"$re\" appeared in $log:"
			sed 's/^/    /' "$log" >&2
			return 1
		fi
		sleep 0.1
		n=$((n - 1))
	done
	tb_log "timed out waiting for \"$re\" in $log:"
	sed 's/^/    /' "$log" >&2
	return 1
}

tb_wait_link() {	# NS IF SECS
	local n=$(($3 * 10))
	while [ "$n" -gt 0 ]; do
		ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	tb_log "interface $2 did not appear in netns $1"
	return 1
}

tb_stop() {	# PID -> its exit status (PID must be one tb_spawn started)
	local pid=$1 n=100 rc
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
		if kill -0 "$pid" 2>/dev/null; then
			tb_log "process $pid ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	# Forget it: a later cleanup must not signal whatever process reuses the number.
	local keep=() p
	for p in "${TB_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	TB_PIDS=("${keep[@]}")
	return $rc
}

tb_exec() {	# NS CMD...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

tb_cleanup() {
	local pid ns p
	for pid in "${TB_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && tb_stop "$pid"
	done
	TB_PIDS=()
	for ns in "${TB_NETNS[@]}"; do
		# Kernel-side veth ends of this netns go with it; processes still in it are ours only.
		ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	TB_NETNS=()
	for p in "${TB_EAL_PREFIXES[@]}"; do
		[ -n "$p" ] && rm -rf "/var/run/dpdk/$p"
	done
	TB_EAL_PREFIXES=()
	[ -n "$TB_DIR" ] && rm -rf "$TB_DIR"
	TB_DIR=
}

# Starts PROGRAM ARGS (with @EAL@ replaced) on net_tap in a new netns and
# gives the kernel side of sh0 198.18.0.1/24.  Sets TB_NS, TB_PID, TB_LOG, TB_EAL.
tb_tap_start() {
	local args=() a
	tb_netns TB_NS || return 1
	tb_eal TB_EAL "net_tap0,iface=sh0" || return 1
	for a in "$@"; do
		if [ "$a" = "@EAL@" ]; then args+=("$TB_EAL"); else args+=("$a"); fi
	done
	TB_LOG=$TB_DIR/program.log
	tb_spawn TB_PID "$TB_NS" "$TB_LOG" "${args[@]}"
	tb_wait_link "$TB_NS" sh0 20 || { sed 's/^/    /' "$TB_LOG" >&2; return 1; }
	tb_exec "$TB_NS" ip addr add "$TB_KERNEL_IP/$TB_PREFIX_LEN" dev sh0 || return 1
	tb_exec "$TB_NS" ip link set sh0 up || return 1
}

tb_main() {
	local prog=() client=() rc
	while [ $# -gt 0 ]; do
		case $1 in
		-t) TB_TIMEOUT=$2; shift 2 ;;
		-h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; return 0 ;;
		*) break ;;
		esac
	done
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do prog+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	client=("$@")
	if [ ${#prog[@]} -eq 0 ] || [ ${#client[@]} -eq 0 ]; then
		echo "usage: $0 [-t SECONDS] PROGRAM [ARGS...] -- CLIENT [ARGS...]  (see $0 --help)" >&2
		return 2
	fi
	tb_need_root >/dev/null || { echo "testbed: $(tb_need_root)" >&2; return 1; }
	tb_init cli || return 1
	if ! tb_tap_start "${prog[@]}"; then
		tb_log "could not set up the test bed"
		return 1
	fi
	timeout "$TB_TIMEOUT" ip netns exec "$TB_NS" "${client[@]}"
	rc=$?
	tb_stop "$TB_PID"
	echo "--- ${prog[0]##*/} output:"
	cat "$TB_LOG"
	return $rc
}

# Run as a command unless sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	tb_main "$@"
	exit $?
fi
