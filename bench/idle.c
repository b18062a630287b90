/*
 * idle_cpu: the CPU an idle program takes, as a share of one core over a
 * window of several seconds (CPU time of all its threads, from
 * /proc/PID/task/TID/schedstat), and how often its threads were woken (the
 * same file's count of times a thread was put on a CPU, per second).  For
 * shunt's socket API, also the poller's sleeps over the window and how many
 * of them were on receive interrupts (shunt-peer prints its sys counters
 * when we send it SIGUSR2 at the window's start and end).
 *
 *	kernel         shunt-peer on kernel sockets over veth: a server with one
 *	               established connection on which nothing happens
 *	shunt-thread   the same over net_memif with shunt's socket API, poll mode
 *	               thread (a poller thread that sleeps when there is nothing
 *	               to do: the design's promise, and the goal's subject)
 *	shunt-inline   the same in poll mode inline, where a waiting call polls
 *	               the NIC itself: busy by design, shown for contrast
 *	shunt-preload  an unmodified program (sockperf server, listening, no
 *	               client) under the shunt launcher
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "topo.h"

#define WINDOW_MS	5000
#define SETTLE_MS	500

struct idcfg {
	enum topo_kind topo;
	const char *api;		/* shunt-peer --api; NULL: sockperf under the launcher */
	const char *poll;
};

/*
 * Nanoseconds the process has run on a CPU so far, all its threads together,
 * and how many times its threads were put on a CPU (schedstat's third field:
 * a thread that sleeps and is woken counts one each time).
 */
static uint64_t
cpu_ns(pid_t pid, uint64_t *slices)
{
	char path[64], p2[600];
	struct dirent *de;
	uint64_t sum = 0;
	DIR *d;

	*slices = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		unsigned long long run = 0, wait = 0, n = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p2, sizeof(p2), "%s/%s/schedstat", path, de->d_name);
		f = fopen(p2, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%llu %llu %llu", &run, &wait, &n) >= 1) {
			sum += run;
			*slices += n;
		}
		fclose(f);
	}
	closedir(d);
	return sum;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
bm_idle(struct bench_state *st)
{
	const struct idcfg *c = bench_udata(st);
	char peer[512], launcher[512], err[256], tail[512], line[256], cpu[2][8], ipl[2][24];
	char *argv[2][32];
	struct topo t;
	struct proc p[2];
	int i, n, r, bad, nproc = c->api != NULL ? 2 : 1, window = bench_smoke() ? 500 : WINDOW_MS;
	int sysstats = c->api != NULL && strcmp(c->api, "socket") == 0, have_stats[2] = { 0, 0 };
	uint64_t c0[2] = { 0, 0 }, c1[2] = { 0, 0 }, w0[2] = { 0, 0 }, w1[2] = { 0, 0 }, t0 = 0, t1 = 0;
	double sleeps[2] = { 0, 0 }, intr[2] = { 0, 0 };

	snprintf(peer, sizeof(peer), "%s/shunt-peer", bench_bin_dir());
	snprintf(launcher, sizeof(launcher), "%s/../shunt", bench_bin_dir());
	if (topo_unavailable(c->topo) != NULL) {
		bench_skip(st, "%s", topo_unavailable(c->topo));
		return;
	}
	if (c->api == NULL && access("/usr/bin/sockperf", X_OK) != 0) {
		bench_skip(st, "sockperf is not installed");
		return;
	}
	while (bench_keep_running(st)) {
		if (topo_up(&t, c->topo, err, sizeof(err)) != 0) {
			bench_error(st, "topology: %s", err);
			return;
		}
		for (i = 0; i < 2; i++) {
			n = 0;
			snprintf(cpu[i], sizeof(cpu[i]), "%d", t.cpu[i]);
			snprintf(ipl[i], sizeof(ipl[i]), "%s/%d", t.ip[i], t.prefix_len);
			if (c->api == NULL) {
				argv[i][n++] = launcher;
				argv[i][n++] = "--ip";
				argv[i][n++] = ipl[i];
				argv[i][n++] = "--dpdk";
				argv[i][n++] = t.eal[i];
				argv[i][n++] = "--trust-csum";	/* memif to another shunt, as in the macro figures */
				argv[i][n++] = "--";
				argv[i][n++] = "/usr/bin/sockperf";
				argv[i][n++] = "server";
				argv[i][n++] = "-i";
				argv[i][n++] = t.ip[TOPO_SERVER];
				argv[i][n++] = "--tcp";
				argv[i][n] = NULL;
				continue;
			}
			argv[i][n++] = peer;
			argv[i][n++] = "--role";
			argv[i][n++] = i == TOPO_SERVER ? "server" : "client";
			argv[i][n++] = "--api";
			argv[i][n++] = (char *)c->api;
			argv[i][n++] = "--test";
			argv[i][n++] = "idle";
			argv[i][n++] = "--addr";
			argv[i][n++] = t.ip[TOPO_SERVER];
			argv[i][n++] = "--cpu";
			argv[i][n++] = cpu[i];
			argv[i][n++] = "--timeout-s";
			argv[i][n++] = "60";
			if (c->poll != NULL) {
				argv[i][n++] = "--poll";
				argv[i][n++] = (char *)c->poll;
			}
			if (c->topo == TOPO_MEMIF) {
				argv[i][n++] = "--dpdk";
				argv[i][n++] = t.eal[i];
				argv[i][n++] = "--ip";
				argv[i][n++] = ipl[i];
			}
			argv[i][n] = NULL;
		}
		memset(p, 0, sizeof(p));
		for (i = 0, r = 0, bad = 0; i < nproc; i++) {
			r = proc_start(&p[i], &t, t.ns[i], t.cpu[i], argv[i], NULL, i == 0 ? "server" : "client");
			if (r == 0)
				r = proc_wait_line(&p[i], c->api != NULL ? "ready" : "to block on", line, sizeof(line),
				    20000);
			if (r != 0) {
				bad = i;
				break;
			}
		}
		if (r == 0) {
			sleep_ms(SETTLE_MS);
			t0 = bench_now_ns();
			for (i = 0; i < nproc; i++) {
				if (sysstats)
					kill(p[i].pid, SIGUSR2);
				c0[i] = cpu_ns(p[i].pid, &w0[i]);
			}
			sleep_ms(window);
			t1 = bench_now_ns();
			for (i = 0; i < nproc; i++) {
				c1[i] = cpu_ns(p[i].pid, &w1[i]);
				if (sysstats)
					kill(p[i].pid, SIGUSR2);
			}
			/* The peers' counters over the window (one line each, right after the signal). */
			for (i = 0; i < nproc && sysstats; i++) {
				have_stats[i] = proc_wait_line(&p[i], "stats ", line, sizeof(line), 2000) == 0 &&
				    line_field(line, "poller_sleeps", &sleeps[i]) == 0 &&
				    line_field(line, "intr_sleeps", &intr[i]) == 0;
			}
		}
		for (i = nproc - 1; i >= 0; i--)
			proc_stop(&p[i]);
		if (r != 0) {
			proc_log_tail(&p[bad], tail, sizeof(tail));
			bench_error(st, "idle program did not come up (%s): %s", strerror(-r), tail);
			topo_down(&t);
			return;
		}
		topo_down(&t);
		bench_set_iteration_time(st, (double)(t1 - t0) / 1e9);
	}
	bench_set_items(st, 1);
	bench_counter(st, "cpu_srv", t.cpu[TOPO_SERVER], BENCH_C_PLAIN);
	bench_counter(st, "cpu_cli", t.cpu[TOPO_CLIENT], BENCH_C_PLAIN);
	bench_counter(st, "server", 100.0 * (double)(c1[0] - c0[0]) / (double)(t1 - t0), BENCH_C_PLAIN);
	bench_counter(st, "srv wake/s", (double)(w1[0] - w0[0]) / ((double)(t1 - t0) / 1e9), BENCH_C_PLAIN);
	if (nproc == 2) {
		bench_counter(st, "client", 100.0 * (double)(c1[1] - c0[1]) / (double)(t1 - t0), BENCH_C_PLAIN);
		bench_counter(st, "cli wake/s", (double)(w1[1] - w0[1]) / ((double)(t1 - t0) / 1e9), BENCH_C_PLAIN);
	}
	if (sysstats && !(have_stats[0] && have_stats[1])) {
		bench_error(st, "no poller counters from the peers (SIGUSR2)");
		return;
	}
	if (sysstats) {
		/* Both ends' poller sleeps over the window, and of them those on receive interrupts. */
		bench_counter(st, "sleeps/s", (sleeps[0] + sleeps[1]) / 2 / ((double)(t1 - t0) / 1e9), BENCH_C_PLAIN);
		bench_counter(st, "intr/s", (intr[0] + intr[1]) / 2 / ((double)(t1 - t0) / 1e9), BENCH_C_PLAIN);
	}
}

static const struct idcfg idle_k = { TOPO_VETH, "kernel", NULL };
static const struct idcfg idle_t = { TOPO_MEMIF, "socket", "thread" };
static const struct idcfg idle_i = { TOPO_MEMIF, "socket", "inline" };
static const struct idcfg idle_p = { TOPO_MEMIF, NULL, NULL };

/* One run each: a window is seconds long, and an idle figure does not wander. */
#define IDF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME)
#define IDFIGS		.figs = { { "server", "%", 1, 0, 0 }, { "client", "%", 1, 0, 0 }, \
			    { "srv wake/s", "/s", 1, -1, 0 }, { "cli wake/s", "/s", 1, -1, 0 }, \
			    { "sleeps/s", "/s", 1, -1, 0 }, { "intr/s", "/s", 1, -1, 0 } }, .nfigs = 6, .reps = 1
#define ID(var, cfg, fl, ...) \
	{ .family = "idle_cpu", .variant = var, .fn = bm_idle, .udata = &cfg, .flags = fl, .nargs = 1, \
	  .nargsets = 1, .args = { { WINDOW_MS } }, IDFIGS, ##__VA_ARGS__ }

static const char NOTE_IDLE[] = "idle_cpu: % of one core over 5 s (all threads, /proc/PID/task/*/schedstat) "
    "of a server with one established, silent connection (server) and of its client; shunt-preload: sockperf "
    "server under the shunt launcher, listening, no client; ratios of near-zero figures say little; wake/s: "
    "times per second any of its threads was put on a CPU (schedstat); sleeps/s, intr/s: the socket API's "
    "poller sleeps per second (mean of the two ends), and of them those until a frame, a timer or a kick on "
    "receive interrupts (shunt_sys_get_stats)";

static const struct bench_def defs[] = {
	ID("kernel", idle_k, IDF, .note = NOTE_IDLE),
	ID("shunt-thread", idle_t, IDF | BENCH_F_SMOKE),
	ID("shunt-inline", idle_i, IDF),
	ID("shunt-preload", idle_p, IDF),
};

static void __attribute__((constructor))
idle_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
