#!/bin/sh
# Installs every Debian 12 package that building, testing, benchmarking and
# the demo need.  Idempotent: does nothing when all are present.  Run as root
# (make check / make demo call it).
set -eu

PKGS="
build-essential pkg-config gcc g++ make clang libclang-rt-14-dev
dpdk-dev libdpdk-dev libnuma-dev libpcap-dev libbenchmark-dev
iproute2 iputils-ping ethtool procps psmisc kmod
curl wget netcat-openbsd socat tcpdump
nginx-light redis-server redis-tools iperf3 sockperf wrk
python3 python3-scapy hping3 gnuplot-nox
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing — run as root: scripts/deps.sh" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi
# The Debian packages start services we do not want running under tests.
for svc in nginx redis-server; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" >/dev/null 2>&1 || true
		systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
done
exit 0
