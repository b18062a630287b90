/*
 * intercept: what every program pays for running under shunt -- the preload
 * shim's wrapper around a call on a kernel descriptor (a pipe here), which
 * looks the descriptor up and calls libc's function.
 *
 * Both variants run bench/peer/shunt-callcost (plain libc, pinned to the
 * harness's core):
 *	kernel  plainly
 *	shunt   plainly and then under LD_PRELOAD=libshunt-preload.so, back to
 *	        back; "added" is the shim's price per call, from the difference
 *	        between the libc call and the same system call made through
 *	        syscall(2) (which the shim does not see) in each process:
 *	        added = (libc - syscall)_preloaded - (libc - syscall)_plain.
 * No shunt configuration is given: the shim stays on the kernel, as it does
 * for every descriptor that is not a shunt socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "topo.h"

struct icfg {
	const char *call;		/* "fcntl" or "read" */
	int preload;
};

/* Runs shunt-callcost once; fills the per-call ns of the libc call and of its syscall(2) twin. */
static int
callcost(struct bench_state *st, const struct topo *t, const char *call, int preload, double *libc, double *sys)
{
	char prog[512], lib[600], env_pre[640], line[512], tail[512], key[32];
	char *argv[] = { prog, NULL };
	char *env[] = { env_pre, "SHUNT_LOG=error", NULL };
	struct proc p;
	int r;

	snprintf(prog, sizeof(prog), "%s/shunt-callcost", bench_bin_dir());
	snprintf(lib, sizeof(lib), "%s/../libshunt-preload.so", bench_bin_dir());
	snprintf(env_pre, sizeof(env_pre), "LD_PRELOAD=%s", lib);
	if (access(prog, X_OK) != 0 || (preload && access(lib, R_OK) != 0)) {
		bench_error(st, "%s or %s is not built", prog, lib);
		return -1;
	}
	r = proc_start(&p, t, NULL, bench_cpu(), argv, preload ? env : NULL, preload ? "preload" : "plain");
	if (r == 0)
		r = proc_wait_line(&p, "result", line, sizeof(line), 30000);
	proc_wait_exit(&p, 5000);
	proc_stop(&p);
	snprintf(key, sizeof(key), "%s_sys", call);
	if (r != 0 || line_field(line, call, libc) != 0 || line_field(line, key, sys) != 0) {
		proc_log_tail(&p, tail, sizeof(tail));
		bench_error(st, "shunt-callcost failed (%s): %s", strerror(-r), tail);
		return -1;
	}
	return 0;
}

static void
bm_intercept(struct bench_state *st)
{
	const struct icfg *c = bench_udata(st);
	double libc = 0, sys = 0, plibc = 0, psys = 0;
	char err[256];
	struct topo t;

	while (bench_keep_running(st)) {
		if (topo_up(&t, TOPO_NONE, err, sizeof(err)) != 0) {
			bench_error(st, "%s", err);
			return;
		}
		if (callcost(st, &t, c->call, 0, &libc, &sys) != 0 ||
		    (c->preload && callcost(st, &t, c->call, 1, &plibc, &psys) != 0)) {
			topo_down(&t);
			return;
		}
		topo_down(&t);
		bench_set_iteration_time(st, (c->preload ? plibc : libc) * 1e-9);
	}
	bench_set_items(st, 1);
	bench_counter(st, "cpu_srv", bench_cpu(), BENCH_C_PLAIN);
	bench_counter(st, "cpu_cli", bench_cpu(), BENCH_C_PLAIN);
	bench_counter(st, "ns/call", c->preload ? plibc : libc, BENCH_C_PLAIN);
	bench_counter(st, "syscall", c->preload ? psys : sys, BENCH_C_PLAIN);
	if (c->preload)
		bench_counter(st, "added", (plibc - psys) - (libc - sys), BENCH_C_PLAIN);
}

static const struct icfg fcntl_k = { "fcntl", 0 };
static const struct icfg fcntl_s = { "fcntl", 1 };
static const struct icfg read_k = { "read", 0 };
static const struct icfg read_s = { "read", 1 };

/*
 * "added" is a difference of a few ns between figures of ~300: its spread
 * is in ns, not in percent, so it is shown however much it varies.
 */
#define IF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME | BENCH_F_SMOKE)
#define IFIGS		.figs = { { "ns/call", "ns", 1, 0, 0 }, { "syscall", "ns", 1, -1, 0 }, \
			    { "added", "ns", 1, 0, 1e9 } }, .nfigs = 3

static const char NOTE_I[] = "intercept: libc fcntl(F_GETFL) / read(fd, buf, 0) on a pipe, plainly (kernel) "
    "and under LD_PRELOAD=libshunt-preload.so (shunt); syscall: the same system call through syscall(2) in the "
    "same process; added = the shim's price per call (difference of the two differences; shown even when it "
    "varies, its spread is a few ns)";

static const struct bench_def defs[] = {
	{ .family = "intercept/fcntl", .variant = "kernel", .fn = bm_intercept, .udata = &fcntl_k, .flags = IF,
	  IFIGS, .note = NOTE_I },
	{ .family = "intercept/fcntl", .variant = "shunt", .fn = bm_intercept, .udata = &fcntl_s, .flags = IF, IFIGS },
	{ .family = "intercept/read", .variant = "kernel", .fn = bm_intercept, .udata = &read_k, .flags = IF, IFIGS },
	{ .family = "intercept/read", .variant = "shunt", .fn = bm_intercept, .udata = &read_s, .flags = IF, IFIGS },
};

static void __attribute__((constructor))
intercept_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
