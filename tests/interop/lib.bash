# Shared start of the interop tests: paths, prerequisites, small checks.
# Sourced by tests/interop/*.sh; not a test itself (tests/run.sh runs *.sh only).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
. "$ROOT/scripts/testbed.sh"

ECHO=$BUILD/examples/udp_echo_raw
CLIENT=$BUILD/tools/udp_client_raw
UDPCHECK=$ROOT/tests/interop/udp_check.py
FAILS=0

# Skip (exit 77, reason on the last line) when the machine cannot host the bed.
it_require() {	# [commands...]
	local why c
	why=$(tb_need_root) || { echo "skipped: $why"; exit 77; }
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 77; }
	done
}

# Skip when a DPDK poll-mode driver is not installed (e.g. it_need_pmd memif).
it_need_pmd() {	# names...
	local n
	for n in "$@"; do
		ldconfig -p 2>/dev/null | grep -q "librte_net_$n\.so" ||
			{ echo "skipped: DPDK PMD net_$n is not installed"; exit 77; }
	done
}

it_need_built() {	# files...
	local f
	for f in "$@"; do
		[ -x "$f" ] || { echo "FAIL: $f is not built (make BUILD=... all)"; exit 1; }
	done
}

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }

# The value of counter NAME in a program's final counter dump (0 if absent).
it_counter() {	# LOG NAME
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

# A kernel counter of /proc/net/snmp in netns NS, e.g. it_snmp NS Udp InCsumErrors.
it_snmp() {	# NS PROTO FIELD
	ip netns exec "$1" awk -v p="$2:" -v f="$3" '
		$1 == p && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == p && hdr { print $col[f]; exit }' /proc/net/snmp
}

it_finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
