/*
 * conn_memory: what an idle established TCP connection costs in memory, per
 * end (one socket or PCB), and for 100,000 connections (both ends, 200,000
 * sockets).  shunt-peer --test mem does the work in a process of its own;
 * see bench/peer/peer_mem.c.
 *
 *	kernel      100,000 connections over loopback in a namespace of their own,
 *	            spread over processes of 8,000 each (the descriptor limit);
 *	            the growth of the kernel's slab caches that grew with them
 *	shunt-raw   100,000 connections between two shunt stacks in one process,
 *	            raw API: the heap they take (PCBs and whatever else)
 *	shunt       shunt's socket API (socket + netconn + PCB, each socket an
 *	            eventfd): heap, plus the slab of the eventfds; as many
 *	            connections as one process's descriptors allow (both ends in
 *	            it), the 100,000 figure scaled from that
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "topo.h"

#define CONNS		100000
#define SMOKE_CONNS	2000

struct cmcfg {
	enum topo_kind topo;
	const char *api;
};

static void
bm_connmem(struct bench_state *st)
{
	const struct cmcfg *c = bench_udata(st);
	char peer[512], err[256], tail[512], line[512], conns[16], cpu[8];
	char *argv[16];
	struct topo t;
	struct proc p;
	double items = 0, ends = 0, heap = 0, slab = 0, ns = 0;
	int r;

	snprintf(peer, sizeof(peer), "%s/shunt-peer", bench_bin_dir());
	if (topo_unavailable(c->topo) != NULL) {
		bench_skip(st, "%s", topo_unavailable(c->topo));
		return;
	}
	while (bench_keep_running(st)) {
		if (topo_up(&t, c->topo, err, sizeof(err)) != 0) {
			bench_error(st, "topology: %s", err);
			return;
		}
		snprintf(conns, sizeof(conns), "%d", bench_smoke() ? SMOKE_CONNS : (int)bench_arg(st, 0));
		snprintf(cpu, sizeof(cpu), "%d", t.cpu[TOPO_CLIENT]);
		argv[0] = peer;
		argv[1] = "--role";
		argv[2] = "client";
		argv[3] = "--api";
		argv[4] = (char *)c->api;
		argv[5] = "--test";
		argv[6] = "mem";
		argv[7] = "--addr";
		argv[8] = "127.0.0.1";
		argv[9] = "--conns";
		argv[10] = conns;
		argv[11] = "--cpu";
		argv[12] = cpu;
		argv[13] = NULL;
		r = proc_start(&p, &t, c->topo == TOPO_NONE ? NULL : t.ns[0], t.cpu[TOPO_CLIENT], argv, NULL, "mem");
		if (r == 0)
			r = proc_wait_line(&p, "result", line, sizeof(line), 120000);
		proc_wait_exit(&p, 10000);
		proc_stop(&p);
		if (r != 0 || line_field(line, "items", &items) != 0 || line_field(line, "ends", &ends) != 0 ||
		    line_field(line, "heap", &heap) != 0 || line_field(line, "slab", &slab) != 0 ||
		    line_field(line, "ns", &ns) != 0 || ends <= 0) {
			proc_log_tail(&p, tail, sizeof(tail));
			bench_error(st, "memory run failed (%s): %s", strerror(-r), tail);
			topo_down(&t);
			return;
		}
		topo_down(&t);
		bench_set_iteration_time(st, ns / 1e9);
	}
	bench_set_items(st, (uint64_t)items);
	bench_counter(st, "cpu_srv", t.cpu[TOPO_CLIENT], BENCH_C_PLAIN);
	bench_counter(st, "cpu_cli", t.cpu[TOPO_CLIENT], BENCH_C_PLAIN);
	bench_counter(st, "conns", items, BENCH_C_PLAIN);
	bench_counter(st, "B/end", (heap + slab) / ends, BENCH_C_PLAIN);
	bench_counter(st, "heap", heap / ends, BENCH_C_PLAIN);
	bench_counter(st, "kernel", slab / ends, BENCH_C_PLAIN);
	bench_counter(st, "@100k", (heap + slab) / ends * 2 * CONNS, BENCH_C_PLAIN);
}

static const struct cmcfg cm_k = { TOPO_LO, "kernel" };
static const struct cmcfg cm_r = { TOPO_NONE, "raw" };
static const struct cmcfg cm_s = { TOPO_NONE, "socket" };

/*
 * The kernel's figure is system-wide slab (other work on the machine adds to
 * it); the heap figures repeat to the byte.
 */
#define CMF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME)
#define CMFIGS		.figs = { { "B/end", "B", 1, 0, 0 }, { "heap", "B", 1, 0, 0 }, \
			    { "kernel", "B", 1, 0, 0.5 }, { "@100k", "MiB", 1 << 20, 0, 0 }, \
			    { "conns", "", 1, -1, 0 } }, .nfigs = 5
#define CM(var, cfg, reps_, ...) \
	{ .family = "conn_memory", .variant = var, .fn = bm_connmem, .udata = &cfg, .flags = CMF, .nargs = 1, \
	  .nargsets = 1, .args = { { CONNS } }, CMFIGS, .reps = reps_, ##__VA_ARGS__ }

static const char NOTE_CM[] = "conn_memory: per end (socket or PCB) of idle established connections, no data "
    "queued; B/end = heap + kernel; kernel = slab growth (/proc/slabinfo, whole slabs) of the caches that grew "
    "with the connections, less the /proc/PID/fd entries a monitor instantiates, heap = malloc'd (mallinfo2, "
    "with malloc's overhead); @100k = B/end x 200,000 ends; conns = connections measured (the socket API's are "
    "bounded by one process's descriptor limit: every shunt socket is an eventfd)";

static const struct bench_def defs[] = {
	CM("kernel", cm_k, 1, .note = NOTE_CM),
	CM("shunt-raw", cm_r, 3),
	CM("shunt", cm_s, 3),
};

static void __attribute__((constructor))
connmem_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
