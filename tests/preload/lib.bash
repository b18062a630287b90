# Helpers for end-to-end tests of unmodified programs under the preload shim.
# Source it; then:
#   pl_setup            private netns "$NS" with a persistent tap sh0 (kernel side 198.18.0.1/24)
#                       and loopback up; everything is removed on exit (trap)
#   pl_shunt CMD...     runs CMD in the namespace under the shunt launcher (shunt 198.18.0.2/24)
#   pl_kernel CMD...    runs CMD in the namespace on the kernel
#   pl_bg VAR CMD...    runs CMD (a program, or pl_shunt/pl_kernel) in the background in its own process
#                       group; the PID goes into VAR and the group is ended on exit
#   pl_wait_port PORT   waits until something listens on TCP PORT in the namespace
#   pl_fail MSG / pl_skip MSG
# Network rules: only this namespace, only 198.18.0.0/24, no routes out, every load bounded.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHUNT_BIN=$ROOT/$BUILD/shunt
NS=shunt-pl-$$
PL_PIDS=()
PL_SHUNT_OPTS=()
PL_TMP=$(mktemp -d /tmp/shunt-pl.XXXXXX)
KIP=198.18.0.1
SIP=198.18.0.2

pl_cleanup() {
	local p
	# Each background command leads its own process group: end the group, by its PID.
	for p in "${PL_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -- "-$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${PL_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 -- "-$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PL_TMP"
}
trap pl_cleanup EXIT
trap 'exit 130' INT TERM

pl_fail() { echo "FAIL: $*"; exit 1; }
pl_skip() { echo "$*"; exit 77; }

pl_setup() {
	[ "$(id -u)" = 0 ] || pl_skip "needs root for network namespaces"
	[ -x "$SHUNT_BIN" ] || pl_fail "$SHUNT_BIN not built"
	ip netns add "$NS" || pl_skip "cannot create a network namespace"
	ip -n "$NS" link set lo up
	ip -n "$NS" tuntap add dev sh0 mode tap multi_queue || pl_fail "cannot create the tap"
	ip -n "$NS" addr add $KIP/24 dev sh0
	ip -n "$NS" link set sh0 up
	EAL="--no-huge -m 512 --no-pci --vdev=net_tap0,iface=sh0 -l 0 --log-level=error"
}

pl_shunt() {
	ip netns exec "$NS" "$SHUNT_BIN" --ip $SIP/24 --dpdk "$EAL" "${PL_SHUNT_OPTS[@]}" -- "$@"
}

pl_kernel() {
	ip netns exec "$NS" "$@"
}

pl_bg() {
	local var=$1
	shift
	set -m
	"$@" &
	local pid=$!
	set +m
	PL_PIDS+=("$pid")
	printf -v "$var" '%s' "$pid"
}

pl_wait_port() {	# PORT [tries]
	local port=$1 tries=${2:-100} i
	for ((i = 0; i < tries; i++)); do
		if ip netns exec "$NS" ss -ltn 2>/dev/null | grep -q ":$port "; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Waits until FILE has a line matching PATTERN (the shim's log says a socket is set up).
pl_wait_log() {	# FILE PATTERN [tries]
	local f=$1 pat=$2 tries=${3:-150} i
	for ((i = 0; i < tries; i++)); do
		grep -q -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Waits until a TCP connect to ADDR:PORT succeeds from the kernel side.
pl_wait_connect() {	# ADDR PORT [tries]
	local addr=$1 port=$2 tries=${3:-100} i
	for ((i = 0; i < tries; i++)); do
		if ip netns exec "$NS" timeout 1 bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
