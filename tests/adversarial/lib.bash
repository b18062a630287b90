# Shared start of the adversarial tests (tests/adversarial/*.sh): the test
# bed of the interop tests plus what a hostile peer needs.  Sourced; not a
# test itself.
#
# The attacker speaks from spoofed sources in 198.19.0.0/16 (inside
# 198.18.0.0/15).  The shunt server runs with the kernel's 198.18.0.1 as its
# gateway, so its answers to those sources come back to the kernel's MAC;
# the namespace's kernel does not forward (ip_forward=0, no route out) and
# drops them, and the attacker reads them off the tap with a packet socket.
. "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.bash"
. "$(dirname "${BASH_SOURCE[0]}")/../interop/tcp_lib.bash"
ADV=$ROOT/tests/adversarial
# Debian's python3 (python3-scapy); a python3 earlier in PATH may lack scapy.
PY=/usr/bin/python3

adv_require() {
	it_require "$@"
	it_need_pmd tap
	"$PY" -c 'import scapy' 2>/dev/null || { echo "skipped: python3-scapy is not installed"; exit 77; }
}

# Forwarding off, no default route: what the attacker's spoofed sources get back stays here.
adv_seal_netns() {	# NS
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.forwarding=0 >/dev/null
	if ip netns exec "$1" ip route show default | grep -q .; then
		echo "FAIL: netns $1 has a default route"
		exit 1
	fi
}

# Resident set size of a process in kB.
adv_rss() {	# PID
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Counter NAME of the stack's final dump in LOG, at least MIN.
adv_counter_min() {	# LOG NAME MIN
	local v
	v=$(it_counter "$1" "$2")
	if [ "$v" -ge "$3" ]; then ok "$2 = $v"; else bad "$2 = $v (want >= $3)"; fi
}

# The program tb_spawn started under `timeout` (ip netns exec execs it in timeout's child).
adv_child_pid() {	# PID
	local kids n=50
	while [ "$n" -gt 0 ]; do
		kids=$(cat /proc/"$1"/task/*/children 2>/dev/null)
		[ -n "$kids" ] && { echo "$kids" | awk '{ print $1; exit }'; return 0; }
		sleep 0.1
		n=$((n - 1))
	done
	echo "$1"
}

# A descendant of PID (itself included) whose command name is COMM, waiting up to 10 s for it.
adv_find_desc() {	# PID COMM
	local root=$1 comm=$2 n=100 queue p
	while [ "$n" -gt 0 ]; do
		queue=("$root")
		while [ ${#queue[@]} -gt 0 ]; do
			p=${queue[0]}
			queue=("${queue[@]:1}")
			if [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$comm" ]; then echo "$p"; return 0; fi
			queue+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
		done
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
