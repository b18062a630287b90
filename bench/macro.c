/*
 * Macro benchmarks: TCP between two processes, each pinned to its own core,
 * on the kernel and on shunt, with the same client and server code
 * (bench/peer/shunt-peer).  Every repetition is a fresh run: namespaces and
 * links made for it (topo.c), the server started and waited for, the client
 * run for a warm-up and a measured phase, both ended, everything removed.
 *
 * Variants (one per way of reaching a network):
 *	kernel        kernel TCP over a veth pair between two namespaces (the baseline)
 *	kernel-lo     kernel TCP over loopback within one namespace
 *	shunt-thread  shunt's socket API, struct shunt_sys with its poller thread
 *	              (SHUNT_POLL_THREAD: waiters sleep on a futex; with one CPU
 *	              per process, as here, the default is not to spin first)
 *	shunt-inline  shunt's socket API, SHUNT_POLL_INLINE (waiters poll the NIC)
 *	shunt-raw     shunt's raw API, one thread polling the stack without pause
 * the shunt ones over DPDK net_memif between the two processes (shared
 * memory, no kernel on the data path).
 *
 * Families:
 *	tcp_rr/block/64   ping-pong of 64 bytes, blocking waits (kernel: recv()
 *	                  sleeps; shunt-thread: futex) -- p50, p99, p99.9 of the round trip
 *	tcp_rr/poll/64    the same with polling waits (kernel: recv(MSG_DONTWAIT) in a
 *	                  loop; shunt-inline and shunt-raw poll the NIC)
 *	tcp_msgs/64       the server writes 64-byte messages (TCP_NODELAY, one call
 *	                  each) as fast as it can, the client reads: messages/s
 *	tcp_bulk/65536    the same with 64 KiB writes: Gbit/s over one connection
 *	tcp_cps/64        connect, 64-byte request, 64-byte reply, the server
 *	                  closes, the client closes: connections/s, one at a time
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "topo.h"

#define PORT		"5001"
#define READY_MS	20000
#define WARMUP_MS	150

struct mcfg {
	enum topo_kind topo;
	const char *api;		/* shunt-peer --api */
	const char *test;		/* --test */
	int busy;			/* kernel: --busy */
	const char *poll;		/* socket API: --poll */
};

/* Counter names and units of the figures; each family picks its own. */
#define FIG_P50		{ "p50", "us", 1000, 0, 0 }
#define FIG_P99		{ "p99", "us", 1000, 0, 0.35 }
#define FIG_P999	{ "p99.9", "us", 1000, 0, 0.5 }
#define FIG_MSGS	{ "msgs/s", "M/s", 1e6, 1, 0 }
#define FIG_GBPS	{ "Gbit/s", "Gbit/s", 1, 1, 0 }
#define FIG_CPS		{ "conn/s", "k/s", 1000, 1, 0 }

static int
run(struct bench_state *st, const struct mcfg *m, int size, char *line, size_t len)
{
	struct topo t;
	struct proc srv, cli;
	char err[256], tail[512], ready[256], sz[16], cpu[2][8], warm[16], ms[16], tmo[16], ipl[2][24];
	char peer[512];
	char *argv[2][40];
	int i, n, r, measure_ms = bench_macro_ms(), warm_ms = bench_smoke() ? 50 : WARMUP_MS;
	double v;

	snprintf(peer, sizeof(peer), "%s/shunt-peer", bench_bin_dir());
	if (access(peer, X_OK) != 0) {
		bench_error(st, "%s is not built (make bench-bins)", peer);
		return -1;
	}
	if (topo_unavailable(m->topo) != NULL) {
		bench_skip(st, "%s", topo_unavailable(m->topo));
		return -1;
	}
	if (topo_up(&t, m->topo, err, sizeof(err)) != 0) {
		bench_error(st, "topology: %s", err);
		return -1;
	}
	snprintf(sz, sizeof(sz), "%d", size);
	snprintf(warm, sizeof(warm), "%d", warm_ms);
	snprintf(ms, sizeof(ms), "%d", measure_ms);
	snprintf(tmo, sizeof(tmo), "%d", (warm_ms + measure_ms) / 1000 + 30);
	for (i = 0; i < 2; i++) {
		n = 0;
		snprintf(cpu[i], sizeof(cpu[i]), "%d", t.cpu[i]);
		snprintf(ipl[i], sizeof(ipl[i]), "%s/%d", t.ip[i], t.prefix_len);
		argv[i][n++] = peer;
		argv[i][n++] = "--role";
		argv[i][n++] = i == TOPO_SERVER ? "server" : "client";
		argv[i][n++] = "--api";
		argv[i][n++] = (char *)m->api;
		argv[i][n++] = "--test";
		argv[i][n++] = (char *)m->test;
		argv[i][n++] = "--addr";
		argv[i][n++] = t.ip[TOPO_SERVER];
		argv[i][n++] = "--port";
		argv[i][n++] = PORT;
		argv[i][n++] = "--size";
		argv[i][n++] = sz;
		argv[i][n++] = "--cpu";
		argv[i][n++] = cpu[i];
		argv[i][n++] = "--warmup-ms";
		argv[i][n++] = warm;
		argv[i][n++] = "--ms";
		argv[i][n++] = ms;
		argv[i][n++] = "--timeout-s";
		argv[i][n++] = tmo;
		if (m->busy)
			argv[i][n++] = "--busy";
		if (m->poll != NULL) {
			argv[i][n++] = "--poll";
			argv[i][n++] = (char *)m->poll;
		}
		if (m->topo == TOPO_MEMIF) {
			argv[i][n++] = "--dpdk";
			argv[i][n++] = t.eal[i];
			argv[i][n++] = "--ip";
			argv[i][n++] = ipl[i];
		}
		argv[i][n] = NULL;
	}
	r = proc_start(&srv, &t, t.ns[TOPO_SERVER], t.cpu[TOPO_SERVER], argv[TOPO_SERVER], NULL, "server");
	if (r != 0) {
		bench_error(st, "starting the server: %s", strerror(-r));
		topo_down(&t);
		return -1;
	}
	r = proc_wait_line(&srv, "ready", ready, sizeof(ready), READY_MS);
	if (r != 0) {
		proc_stop(&srv);
		proc_log_tail(&srv, tail, sizeof(tail));
		bench_error(st, "server not ready (%s): %s", strerror(-r), tail);
		topo_down(&t);
		return -1;
	}
	r = proc_start(&cli, &t, t.ns[TOPO_CLIENT], t.cpu[TOPO_CLIENT], argv[TOPO_CLIENT], NULL, "client");
	if (r == 0)
		r = proc_wait_line(&cli, "result", line, len, (warm_ms + measure_ms) + READY_MS);
	if (r != 0) {
		proc_stop(&cli);
		proc_stop(&srv);
		proc_log_tail(&cli, tail, sizeof(tail));
		bench_error(st, "client failed (%s): %s", strerror(-r), tail);
		topo_down(&t);
		return -1;
	}
	/*
	 * The server goes first: a net_memif server whose client leaves while it
	 * polls has been seen to crash in the PMD (DPDK 22.11's receive path).
	 */
	proc_stop(&srv);
	proc_wait_exit(&cli, 5000);
	proc_stop(&cli);
	topo_down(&t);
	if (line_field(ready, "cpu", &v) == 0)
		bench_counter(st, "cpu_srv", v, BENCH_C_PLAIN);
	if (line_field(line, "cpu", &v) == 0)
		bench_counter(st, "cpu_cli", v, BENCH_C_PLAIN);
	return 0;
}

static void
bm_macro(struct bench_state *st)
{
	const struct mcfg *m = bench_udata(st);
	char line[512];
	double items = 0, ns = 0, bytes = 0, v;
	int ok = 0;

	while (bench_keep_running(st)) {
		if (run(st, m, (int)bench_arg(st, 0), line, sizeof(line)) != 0)
			return;
		/* A stream may move nothing in its measured phase (a stall): that is a figure, 0. */
		if (line_field(line, "items", &items) != 0 || line_field(line, "ns", &ns) != 0 ||
		    line_field(line, "bytes", &bytes) != 0 || ns <= 0 ||
		    (items <= 0 && strcmp(m->test, "stream") != 0)) {
			bench_error(st, "client's result is incomplete: %s", line);
			return;
		}
		bench_set_iteration_time(st, ns / 1e9);
		ok = 1;
	}
	if (!ok)
		return;
	bench_set_items(st, (uint64_t)items);
	bench_set_bytes(st, (uint64_t)bytes);
	if (line_field(line, "p50", &v) == 0)
		bench_counter(st, "p50", v, BENCH_C_PLAIN);
	if (strcmp(m->test, "rr") == 0) {
		if (line_field(line, "p99", &v) == 0)
			bench_counter(st, "p99", v, BENCH_C_PLAIN);
		if (line_field(line, "p999", &v) == 0)
			bench_counter(st, "p99.9", v, BENCH_C_PLAIN);
	} else if (strcmp(m->test, "stream") == 0) {
		bench_counter(st, "msgs/s", items / (ns / 1e9), BENCH_C_PLAIN);
		bench_counter(st, "Gbit/s", bytes * 8 / ns, BENCH_C_PLAIN);
	} else {
		bench_counter(st, "conn/s", items / (ns / 1e9), BENCH_C_PLAIN);
	}
}

static const struct mcfg k_veth_block = { TOPO_VETH, "kernel", "rr", 0, NULL };
static const struct mcfg k_lo_block = { TOPO_LO, "kernel", "rr", 0, NULL };
static const struct mcfg s_thread_rr = { TOPO_MEMIF, "socket", "rr", 0, "thread" };
static const struct mcfg k_veth_busy = { TOPO_VETH, "kernel", "rr", 1, NULL };
static const struct mcfg k_lo_busy = { TOPO_LO, "kernel", "rr", 1, NULL };
static const struct mcfg s_inline_rr = { TOPO_MEMIF, "socket", "rr", 0, "inline" };
static const struct mcfg s_raw_rr = { TOPO_MEMIF, "raw", "rr", 0, NULL };

#define STREAMS(test) \
	static const struct mcfg k_veth_##test = { TOPO_VETH, "kernel", #test, 0, NULL }; \
	static const struct mcfg k_lo_##test = { TOPO_LO, "kernel", #test, 0, NULL }; \
	static const struct mcfg s_thread_##test = { TOPO_MEMIF, "socket", #test, 0, "thread" }; \
	static const struct mcfg s_inline_##test = { TOPO_MEMIF, "socket", #test, 0, "inline" }; \
	static const struct mcfg s_raw_##test = { TOPO_MEMIF, "raw", #test, 0, NULL };
STREAMS(stream)
STREAMS(cps)

#define MF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME)
#define RR_FIGS		.figs = { FIG_P50, FIG_P99, FIG_P999 }, .nfigs = 3
#define MSG_FIGS	.figs = { FIG_MSGS }, .nfigs = 1
#define BULK_FIGS	.figs = { FIG_GBPS }, .nfigs = 1
#define CPS_FIGS	.figs = { FIG_CPS, FIG_P50 }, .nfigs = 2
#define MACRO(fam, var, cfg, size, fl, figs_, ...) \
	{ .family = fam, .variant = var, .fn = bm_macro, .udata = &cfg, .flags = fl, \
	  .nargs = 1, .nargsets = 1, .args = { { size } }, figs_, ##__VA_ARGS__ }

static const char NOTE_RR[] = "tcp_rr: round trip of one 64-byte message over one connection (TCP_NODELAY), "
    "measured by the client per round trip; block: waits sleep (kernel recv(), shunt-thread futex: with one CPU "
    "per process the waiter does not spin, its poller thread polls for 200 us after traffic, yielding the CPU each "
    "round); poll: waits spin (kernel recv(MSG_DONTWAIT) in a loop, shunt-inline/-raw poll the NIC)";
static const char NOTE_STREAM[] = "tcp_msgs/tcp_bulk: the server writes one message per call as fast as it "
    "can, the client reads 256 KiB at a time and counts bytes; one connection";
static const char NOTE_CPS[] = "tcp_cps: one connection at a time: socket, connect, 64-byte request, "
    "64-byte reply, the server closes, the client reads the end and closes; as many as the phases take (no cap: "
    "a shunt run cycles the 28,232-port range several times over the server's TIME_WAITs)";
static const char NOTE_TOPO[] = "kernel: two namespaces over veth; kernel-lo: loopback in one namespace; "
    "shunt-*: two processes over DPDK net_memif with trust_csum (no checksums, as the kernel's veth; PEER_CSUM=1 "
    "computes them); server and client pinned to one core each";

static const struct bench_def defs[] = {
	MACRO("tcp_rr/block", "kernel", k_veth_block, 64, MF, RR_FIGS, .note = NOTE_RR),
	MACRO("tcp_rr/block", "kernel-lo", k_lo_block, 64, MF, RR_FIGS, .note = NOTE_TOPO),
	MACRO("tcp_rr/block", "shunt-thread", s_thread_rr, 64, MF, RR_FIGS),
	MACRO("tcp_rr/poll", "kernel", k_veth_busy, 64, MF | BENCH_F_SMOKE, RR_FIGS),
	MACRO("tcp_rr/poll", "kernel-lo", k_lo_busy, 64, MF, RR_FIGS),
	MACRO("tcp_rr/poll", "shunt-inline", s_inline_rr, 64, MF, RR_FIGS),
	MACRO("tcp_rr/poll", "shunt-raw", s_raw_rr, 64, MF | BENCH_F_SMOKE, RR_FIGS),
	MACRO("tcp_msgs", "kernel", k_veth_stream, 64, MF, MSG_FIGS, .note = NOTE_STREAM),
	MACRO("tcp_msgs", "kernel-lo", k_lo_stream, 64, MF, MSG_FIGS),
	MACRO("tcp_msgs", "shunt-thread", s_thread_stream, 64, MF, MSG_FIGS),
	MACRO("tcp_msgs", "shunt-inline", s_inline_stream, 64, MF, MSG_FIGS),
	MACRO("tcp_msgs", "shunt-raw", s_raw_stream, 64, MF, MSG_FIGS),
	MACRO("tcp_bulk", "kernel", k_veth_stream, 65536, MF, BULK_FIGS),
	MACRO("tcp_bulk", "kernel-lo", k_lo_stream, 65536, MF, BULK_FIGS),
	MACRO("tcp_bulk", "shunt-thread", s_thread_stream, 65536, MF, BULK_FIGS),
	MACRO("tcp_bulk", "shunt-inline", s_inline_stream, 65536, MF, BULK_FIGS),
	MACRO("tcp_bulk", "shunt-raw", s_raw_stream, 65536, MF, BULK_FIGS),
	MACRO("tcp_cps", "kernel", k_veth_cps, 64, MF, CPS_FIGS, .note = NOTE_CPS),
	MACRO("tcp_cps", "kernel-lo", k_lo_cps, 64, MF, CPS_FIGS),
	MACRO("tcp_cps", "shunt-thread", s_thread_cps, 64, MF, CPS_FIGS),
	MACRO("tcp_cps", "shunt-inline", s_inline_cps, 64, MF, CPS_FIGS),
	MACRO("tcp_cps", "shunt-raw", s_raw_cps, 64, MF, CPS_FIGS),
};

static void __attribute__((constructor))
macro_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
