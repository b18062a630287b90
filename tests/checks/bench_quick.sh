#!/bin/sh
# Smoke run of the benchmark harness (bench/): builds $BUILD/bench/shunt-bench
# and its helpers (shunt-peer, shunt-callcost) and runs every micro benchmark
# briefly, plus a few macro ones once each (--bench_macro=smoke: 64-byte
# ping-pong on the kernel over veth and shunt's raw API over net_memif, the
# intercepted-call cost, the in-process round trip, the idle CPU and poller
# sleeps of a thread-mode pair) -- bench-quick-run, bounded to 60 s (it takes
# about 10).  The multi-process ones need root and
# DPDK's net_memif; without them they are reported as skipped, not failed.
# Fails when the harness fails: a build error, a benchmark that reports an
# error, a pool leak or a retransmission on the lossless bench wire.  Figures
# that vary too much are only flagged: a smoke run on a shared machine
# measures nothing.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."

if ! pkg-config --exists benchmark 2>/dev/null && [ ! -f /usr/include/benchmark/benchmark.h ]; then
	echo "Google Benchmark (libbenchmark-dev) is not installed"
	exit 77
fi
if [ ! -f "$BUILD/libshunt-core.a" ]; then
	echo "$BUILD/libshunt-core.a not built (run make first)"
	exit 1
fi
if ! make -s BUILD="$BUILD" -f Makefile -f bench/Makefile.inc bench-bins; then
	echo "building the benchmarks failed"
	exit 1
fi
timeout --kill-after=5 60 make -s BUILD="$BUILD" -f Makefile -f bench/Makefile.inc bench-quick-run
rc=$?
case $rc in
0) ;;
124|137) echo "bench-quick-run did not finish within 60 s"; rc=1 ;;
*) echo "bench-quick-run failed (exit $rc)" ;;
esac
exit "$rc"
