#!/bin/sh
# Plots the macro figures of a benchmark run (the harness's --bench_figures
# output: benchmark, figure, variant, median in the unit shown, unit, cv, ok)
# with gnuplot: round-trip percentiles of the ping-pong benchmarks
# (log scale, one cluster of p50 / p99 / p99.9 bars per variant), and the
# throughput figures (messages/s, Gbit/s, connections/s), kernel and shunt
# side by side.
#
#   bench/plot.sh FIGURES.tsv OUT.png
#
# make bench runs it on $(BUILD)/bench/figures.tsv; BENCHMARKS.md shows the
# copy in bench/plot.png.
set -eu
in=${1:?usage: bench/plot.sh FIGURES.tsv OUT.png}
out=${2:?usage: bench/plot.sh FIGURES.tsv OUT.png}
command -v gnuplot >/dev/null 2>&1 || { echo "plot.sh: gnuplot is not installed" >&2; exit 1; }
tmp=$(mktemp -d /tmp/shunt-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# latency BENCH FILE: one line per variant: name p50 p99 p99.9 (microseconds)
latency() {
	awk -F'\t' -v b="$1" '
		$1 == b && $2 == "p50" { p50[$3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[n++] = $3 } }
		$1 == b && $2 == "p99" { p99[$3] = $4 }
		$1 == b && $2 == "p99.9" { p999[$3] = $4 }
		END { for (i = 0; i < n; i++) { v = order[i]; print v, p50[v], p99[v], p999[v] } }' "$in" >"$2"
}

# single BENCH FIGURE FILE: one line per variant: name value
single() {
	awk -F'\t' -v b="$1" -v f="$2" '$1 == b && $2 == f { print $3, $4 }' "$in" >"$3"
}

latency tcp_rr/block/64 "$tmp/rr_block"
latency tcp_rr/poll/64 "$tmp/rr_poll"
latency sockperf/ping-pong/64 "$tmp/sp_pp"
latency inproc_rr/64 "$tmp/inproc"
single tcp_msgs/64 msgs/s "$tmp/msgs"
single sockperf/throughput/64 msgs/s "$tmp/sp_tp"
single tcp_bulk/65536 Gbit/s "$tmp/bulk"
single tcp_cps/64 conn/s "$tmp/cps"

for f in "$tmp"/*; do
	# gnuplot cannot plot an empty file; a placeholder keeps the layout.
	[ -s "$f" ] || echo "(not-run) 0 0 0" >"$f"
done

gnuplot <<EOF
set terminal pngcairo size 1600,1000 font "DejaVu Sans,10" noenhanced
set output "$out"
set multiplot layout 2,4 title "shunt vs kernel -- $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)" font ",13"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 scale 0 font ",9"
set key top left font ",9"
set logscale y
set ylabel "round trip (us, log)"
set title "64 B ping-pong, blocking waits"
plot "$tmp/rr_block" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
set title "64 B ping-pong, polling waits"
plot "$tmp/rr_poll" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
set title "sockperf ping-pong (unmodified), 64 B"
plot "$tmp/sp_pp" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
set title "in-process, one core (stack alone)"
plot "$tmp/inproc" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
unset logscale y
set key off
set yrange [0:*]
set ylabel "million messages/s"
set title "64 B messages, TCP_NODELAY, one connection"
plot "$tmp/msgs" using 2:xtic(1) lc rgb "#2e8b57"
set title "sockperf throughput (unmodified), 64 B"
plot "$tmp/sp_tp" using 2:xtic(1) lc rgb "#2e8b57"
set ylabel "Gbit/s"
set title "bulk, 64 KiB writes, one connection"
plot "$tmp/bulk" using 2:xtic(1) lc rgb "#4169e1"
set ylabel "thousand connections/s"
set title "short connections (connect, 64 B each way, close)"
plot "$tmp/cps" using 2:xtic(1) lc rgb "#b8860b"
unset multiplot
EOF
echo "plot.sh: wrote $out"
