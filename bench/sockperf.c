/*
 * sockperf, unmodified (Debian's binary): ping-pong and throughput over TCP
 * with 64-byte messages, plainly on the kernel and with both ends under
 * shunt -- the `shunt` launcher and the preload shim -- over DPDK net_memif.
 *
 *	kernel        sockperf server and client in two namespaces joined by veth
 *	shunt         both under `shunt --ip ... --dpdk '... net_memif ...'`, the
 *	              shim's default poll mode (a poller thread)
 *	shunt-inline  the same with --poll inline (waiting calls poll the NIC)
 *
 * ping-pong runs with --full-rtt, so its percentiles are round trips; its
 * measured phase is sockperf's (-t seconds after its own warm-up).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "topo.h"

#define SOCKPERF	"/usr/bin/sockperf"
#define PORT		"11111"
#define READY_MS	20000

struct spcfg {
	enum topo_kind topo;
	int pingpong;
	const char *poll;		/* NULL: the launcher's default */
};

/* The number after "key" in sockperf's output (e.g. "percentile 50.000 ="), or -1. */
static double
after(const char *out, const char *key)
{
	const char *p = out;

	while ((p = strstr(p, key)) != NULL) {
		p += strlen(key);
		while (*p == ' ' || *p == '=' || *p == '\t')
			p++;
		/* "Total Run] ..." comes before "Total N observations": take the first number. */
		if (*p >= '0' && *p <= '9')
			return strtod(p, NULL);
	}
	return -1;
}

static void
bm_sockperf(struct bench_state *st)
{
	const struct spcfg *c = bench_udata(st);
	static char out[65536];
	char launcher[512], err[256], tail[512], line[256], secs[16], msz[16], ipl[2][24];
	char *argv[2][32];
	struct topo t;
	struct proc srv, cli;
	int i, n, r, sec = bench_macro_ms() >= 1000 ? bench_macro_ms() / 1000 : 1;
	double rate = 0, p50 = -1, p99 = -1, p999 = -1;

	snprintf(launcher, sizeof(launcher), "%s/../shunt", bench_bin_dir());
	if (access(SOCKPERF, X_OK) != 0) {
		bench_skip(st, "sockperf is not installed");
		return;
	}
	if (c->topo == TOPO_MEMIF && access(launcher, X_OK) != 0) {
		bench_error(st, "%s is not built", launcher);
		return;
	}
	if (topo_unavailable(c->topo) != NULL) {
		bench_skip(st, "%s", topo_unavailable(c->topo));
		return;
	}
	while (bench_keep_running(st)) {
		if (topo_up(&t, c->topo, err, sizeof(err)) != 0) {
			bench_error(st, "topology: %s", err);
			return;
		}
		snprintf(secs, sizeof(secs), "%d", sec);
		snprintf(msz, sizeof(msz), "%d", (int)bench_arg(st, 0));
		for (i = 0; i < 2; i++) {
			n = 0;
			snprintf(ipl[i], sizeof(ipl[i]), "%s/%d", t.ip[i], t.prefix_len);
			if (c->topo == TOPO_MEMIF) {
				argv[i][n++] = launcher;
				argv[i][n++] = "--ip";
				argv[i][n++] = ipl[i];
				argv[i][n++] = "--dpdk";
				argv[i][n++] = t.eal[i];
				argv[i][n++] = "--stats";
				/* Both ends are shunt over shared memory: no checksums, as the kernel across veth. */
				argv[i][n++] = "--trust-csum";
				if (c->poll != NULL) {
					argv[i][n++] = "--poll";
					argv[i][n++] = (char *)c->poll;
				}
				argv[i][n++] = "--";
			}
			argv[i][n++] = SOCKPERF;
			if (i == TOPO_SERVER) {
				argv[i][n++] = "server";
			} else {
				argv[i][n++] = c->pingpong ? "ping-pong" : "throughput";
				argv[i][n++] = "-m";
				argv[i][n++] = msz;
				argv[i][n++] = "-t";
				argv[i][n++] = secs;
				if (c->pingpong)
					argv[i][n++] = "--full-rtt";
			}
			argv[i][n++] = "-i";
			argv[i][n++] = t.ip[TOPO_SERVER];
			argv[i][n++] = "-p";
			argv[i][n++] = PORT;
			argv[i][n++] = "--tcp";
			argv[i][n] = NULL;
		}
		r = proc_start(&srv, &t, t.ns[TOPO_SERVER], t.cpu[TOPO_SERVER], argv[TOPO_SERVER], NULL, "server");
		/* sockperf says which call it blocks in once its sockets are set up. */
		if (r == 0)
			r = proc_wait_line(&srv, "to block on", line, sizeof(line), READY_MS);
		if (r != 0) {
			proc_stop(&srv);
			proc_log_tail(&srv, tail, sizeof(tail));
			bench_error(st, "sockperf server not ready (%s): %s", strerror(-r), tail);
			topo_down(&t);
			return;
		}
		r = proc_start(&cli, &t, t.ns[TOPO_CLIENT], t.cpu[TOPO_CLIENT], argv[TOPO_CLIENT], NULL, "client");
		if (r == 0 && proc_read_all(&cli, out, sizeof(out), sec * 1000 + 30000) < 0)
			r = -ETIMEDOUT;
		if (r == 0)
			r = proc_wait_exit(&cli, 5000);
		proc_stop(&cli);
		proc_stop(&srv);
		if (c->pingpong) {
			p50 = after(out, "percentile 50.000");
			p99 = after(out, "percentile 99.000");
			p999 = after(out, "percentile 99.900");
			rate = after(out, "Total ");	/* "Total N observations" */
		} else {
			rate = after(out, "Message Rate is");
		}
		if (r != 0 || rate <= 0 || (c->pingpong && p50 <= 0)) {
			proc_log_tail(&cli, tail, sizeof(tail));
			bench_error(st, "sockperf client failed (status %d): %s", r, tail);
			topo_down(&t);
			return;
		}
		topo_down(&t);
		bench_set_iteration_time(st, sec);
	}
	bench_counter(st, "cpu_srv", t.cpu[TOPO_SERVER], BENCH_C_PLAIN);
	bench_counter(st, "cpu_cli", t.cpu[TOPO_CLIENT], BENCH_C_PLAIN);
	if (c->pingpong) {
		/* sockperf prints microseconds; the figures are in ns like the others. */
		bench_counter(st, "p50", p50 * 1000, BENCH_C_PLAIN);
		bench_counter(st, "p99", p99 * 1000, BENCH_C_PLAIN);
		bench_counter(st, "p99.9", p999 * 1000, BENCH_C_PLAIN);
		bench_set_items(st, (uint64_t)rate);
	} else {
		bench_counter(st, "msgs/s", rate, BENCH_C_PLAIN);
		bench_set_items(st, (uint64_t)(rate * sec));
	}
}

static const struct spcfg pp_k = { TOPO_VETH, 1, NULL };
static const struct spcfg pp_s = { TOPO_MEMIF, 1, NULL };
static const struct spcfg pp_i = { TOPO_MEMIF, 1, "inline" };
static const struct spcfg tp_k = { TOPO_VETH, 0, NULL };
static const struct spcfg tp_s = { TOPO_MEMIF, 0, NULL };
static const struct spcfg tp_i = { TOPO_MEMIF, 0, "inline" };

#define SPF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME)
#define PP_FIGS		.figs = { { "p50", "us", 1000, 0, 0 }, { "p99", "us", 1000, 0, 0.35 }, \
			    { "p99.9", "us", 1000, 0, 0.5 } }, .nfigs = 3
#define TP_FIGS		.figs = { { "msgs/s", "M/s", 1e6, 1, 0 } }, .nfigs = 1
#define SP(fam, var, cfg, figs_, ...) \
	{ .family = fam, .variant = var, .fn = bm_sockperf, .udata = &cfg, .flags = SPF, .nargs = 1, \
	  .nargsets = 1, .args = { { 64 } }, .reps = 3, figs_, ##__VA_ARGS__ }

static const char NOTE_SP[] = "sockperf 3.7 (Debian), TCP, 64-byte messages; ping-pong with --full-rtt "
    "(round trips); shunt: both ends unmodified under the shunt launcher over net_memif; 3 runs of 1 s each";

static const struct bench_def defs[] = {
	SP("sockperf/ping-pong", "kernel", pp_k, PP_FIGS, .note = NOTE_SP),
	SP("sockperf/ping-pong", "shunt", pp_s, PP_FIGS),
	SP("sockperf/ping-pong", "shunt-inline", pp_i, PP_FIGS),
	SP("sockperf/throughput", "kernel", tp_k, TP_FIGS),
	SP("sockperf/throughput", "shunt", tp_s, TP_FIGS),
	SP("sockperf/throughput", "shunt-inline", tp_i, TP_FIGS),
};

static void __attribute__((constructor))
sockperf_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
