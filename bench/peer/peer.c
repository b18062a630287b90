/*
 * shunt-peer's main: options, pinning, the lifetime bound, and the lines the
 * harness reads (see peer.h).
 *
 *   shunt-peer --role server|client --api kernel|socket|raw --test rr|stream|cps|idle|mem
 *       --addr A.B.C.D --port N [--size N] [--busy] [--poll thread|inline] [--spin-us N] [--cpu N]
 *       [--conns N]
 *       [--warmup-ms N] [--ms N] [--timeout-s N] [--dpdk 'EAL ARGS' --ip A.B.C.D/len]
 *
 * --addr is where the server listens and where the client connects.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/tcp.h>
#include <shunt/dpdk.h>
#include "peer.h"

uint64_t
peer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
peer_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shunt-peer[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int
peer_lat_init(struct peer_result *r, uint64_t cap)
{
	r->lat = malloc(cap * sizeof(*r->lat));
	r->lat_cap = r->lat != NULL ? cap : 0;
	r->nlat = 0;
	return r->lat != NULL ? 0 : -ENOMEM;
}

void
peer_phase_init(struct peer_phase *ph, const struct peer_opts *o, uint64_t now)
{
	ph->warm_end = now + o->warmup_ms * 1000000ull;
	ph->start = ph->end = 0;
}

int
peer_phase_item(struct peer_phase *ph, const struct peer_opts *o, struct peer_result *res, uint64_t t0, uint64_t t)
{
	if (t < ph->warm_end)
		return 0;
	if (res->items == 0) {
		ph->start = t0;
		ph->end = t0 + o->ms * 1000000ull;
	}
	res->items++;
	peer_lat_add(res, t - t0);
	res->ns = t - ph->start;
	return t >= ph->end;
}

void
peer_ready(const struct peer_opts *o)
{
	printf("ready cpu=%d pid=%d\n", sched_getcpu(), (int)getpid());
	fflush(stdout);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
pct(const uint32_t *v, uint64_t n, double p)
{
	uint64_t i = (uint64_t)(p * (double)n + 0.999999);

	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

void
peer_report(const struct peer_opts *o, struct peer_result *r)
{
	printf("result items=%llu bytes=%llu ns=%llu cpu=%d", (unsigned long long)r->items,
	    (unsigned long long)r->bytes, (unsigned long long)r->ns, sched_getcpu());
	if (r->nlat > 0) {
		qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_u32);
		printf(" samples=%llu p50=%u p99=%u p999=%u max=%u", (unsigned long long)r->nlat,
		    pct(r->lat, r->nlat, 0.5), pct(r->lat, r->nlat, 0.99), pct(r->lat, r->nlat, 0.999),
		    r->lat[r->nlat - 1]);
	}
	printf("\n");
	fflush(stdout);
}

static void
dump_stat(const char *name, uint64_t v, void *arg)
{
	fprintf(stderr, "  %-28s %llu\n", name, (unsigned long long)v);
}

void
peer_dump_stats(struct shunt_stack *s)
{
	struct shunt_stats st;
	int i;

	shunt_stack_stats(s, &st);
	fprintf(stderr, "shunt-peer[%d]: counters:\n", (int)getpid());
	shunt_stats_foreach(&st, 1, dump_stat, NULL);
	if (peer_nif != NULL) {
		struct shunt_dpdk_stats ds;

		/* The DPDK port's: frames the ring refused (tx_deferred, tx_drop_full) ... */
		shunt_dpdk_netif_stats(peer_nif, &ds);
		fprintf(stderr, "  DPDK port:\n");
		shunt_dpdk_stats_foreach(&ds, 1, dump_stat, NULL);
	}
	for (i = SHUNT_TCP_CLOSED; i <= SHUNT_TCP_TIME_WAIT; i++)
		if (shunt_tcp_count(s, (enum shunt_tcp_state)i) != 0)
			fprintf(stderr, "  tcp %-24s %u\n", shunt_tcp_state_name((enum shunt_tcp_state)i),
			    shunt_tcp_count(s, (enum shunt_tcp_state)i));
}

static struct shunt_stack *dump_stack;

/*
 * SIGUSR1 prints the stack's counters: a look into a run that hangs.  Not
 * async-signal-safe (it reads the stack unlocked and uses stdio); for
 * debugging only, never sent by the harness.
 */
static void
on_usr1(int sig)
{
	if (dump_stack != NULL)
		peer_dump_stats(dump_stack);
}

/*
 * The idle test's window (socket API, any test): the harness sends SIGUSR2
 * when its window opens and again when it closes; the second prints the
 * poller's counters over the window as one line on stdout,
 *	stats poller_sleeps=N intr_sleeps=N poll_rounds=N
 * (what a sleep of the poller cost is in the harness's CPU figure; these say
 * how often it slept, and how many of the sleeps were on receive interrupts).
 * Async-signal-safe: atomic loads of the counters, write(2).
 */
static struct shunt_sys *stats_sys;
static struct shunt_sys_stats stats0;
static volatile sig_atomic_t stats_open;

static char *
put_u64(char *p, uint64_t v)
{
	char t[24];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = t[--n];
	return p;
}

static char *
put_str(char *p, const char *s)
{
	while (*s != '\0')
		*p++ = *s++;
	return p;
}

static void
on_usr2(int sig)
{
	struct shunt_sys_stats st;
	char line[160], *p = line;
	int saved = errno;

	(void)sig;
	if (stats_sys == NULL)
		return;
	if (!stats_open) {
		shunt_sys_get_stats(stats_sys, &stats0);
		stats_open = 1;
		return;
	}
	shunt_sys_get_stats(stats_sys, &st);
	stats_open = 0;
	p = put_str(p, "stats poller_sleeps=");
	p = put_u64(p, st.poller_sleeps - stats0.poller_sleeps);
	p = put_str(p, " intr_sleeps=");
	p = put_u64(p, st.poller_intr_sleeps - stats0.poller_intr_sleeps);
	p = put_str(p, " poll_rounds=");
	p = put_u64(p, st.poll_rounds - stats0.poll_rounds);
	*p++ = '\n';
	if (write(1, line, (size_t)(p - line)) < 0) {
		/* the harness is gone: nothing to tell */
	}
	errno = saved;
}

static void
usage(void)
{
	fprintf(stderr, "usage: shunt-peer --role server|client --api kernel|socket|raw --test rr|stream|cps|idle|mem\n"
	    "    --addr A.B.C.D --port N [--size N] [--busy] [--poll thread|inline] [--spin-us N] [--cpu N] [--conns N]\n"
	    "    [--warmup-ms N] [--ms N] [--timeout-s N] [--dpdk 'EAL ARGS' --ip A.B.C.D/len]\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		usage();
	return v;
}

static void
parse(struct peer_opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->cpu = -1;
	o->spin_us = -1;
	o->size = 64;
	o->warmup_ms = 200;
	o->ms = 500;
	o->timeout_s = 60;
	o->port = htons(5001);
	o->server = -1;
	o->test = (enum peer_test)-1;
	o->api = (enum peer_api)-1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--busy") == 0) {
			o->busy = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--role") == 0)
			o->server = strcmp(v, "server") == 0 ? 1 : strcmp(v, "client") == 0 ? 0 : -1;
		else if (strcmp(a, "--api") == 0)
			o->api = strcmp(v, "kernel") == 0 ? API_KERNEL : strcmp(v, "socket") == 0 ? API_SOCKET :
			    strcmp(v, "raw") == 0 ? API_RAW : (enum peer_api)-1;
		else if (strcmp(a, "--test") == 0)
			o->test = strcmp(v, "rr") == 0 ? TEST_RR : strcmp(v, "stream") == 0 ? TEST_STREAM :
			    strcmp(v, "cps") == 0 ? TEST_CPS : strcmp(v, "idle") == 0 ? TEST_IDLE :
			    strcmp(v, "mem") == 0 ? TEST_MEM : (enum peer_test)-1;
		else if (strcmp(a, "--addr") == 0) {
			if (inet_pton(AF_INET, v, &o->addr) != 1)
				usage();
		} else if (strcmp(a, "--port") == 0)
			o->port = htons((uint16_t)num(v, 1, 65535));
		else if (strcmp(a, "--size") == 0)
			o->size = (uint32_t)num(v, 1, 1 << 20);
		else if (strcmp(a, "--poll") == 0) {
			if (strcmp(v, "inline") != 0 && strcmp(v, "thread") != 0)
				usage();
			o->inline_poll = strcmp(v, "inline") == 0;
		} else if (strcmp(a, "--cpu") == 0)
			o->cpu = (int)num(v, 0, CPU_SETSIZE - 1);
		else if (strcmp(a, "--conns") == 0)
			o->conns = (uint64_t)num(v, 1, 10000000);
		else if (strcmp(a, "--spin-us") == 0)
			o->spin_us = (int)num(v, 0, 1000000);
		else if (strcmp(a, "--warmup-ms") == 0)
			o->warmup_ms = (uint32_t)num(v, 0, 60000);
		else if (strcmp(a, "--ms") == 0)
			o->ms = (uint32_t)num(v, 1, 600000);
		else if (strcmp(a, "--timeout-s") == 0)
			o->timeout_s = (uint32_t)num(v, 1, 3600);
		else if (strcmp(a, "--dpdk") == 0)
			o->dpdk = v;
		else if (strcmp(a, "--ip") == 0)
			o->ip = v;
		else
			usage();
	}
	if (o->server < 0 || (int)o->api < 0 || (int)o->test < 0 || o->addr == 0)
		usage();
	if (o->test == TEST_MEM && o->conns == 0)
		o->conns = 100000;
	if (o->api != API_KERNEL && o->test != TEST_MEM && (o->dpdk == NULL || o->ip == NULL))
		usage();
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		peer_die("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

int
main(int argc, char **argv)
{
	struct peer_opts o;
	struct shunt_stack *s;
	struct shunt_netif *nif = NULL;
	struct shunt_sys_config ycfg;
	struct shunt_sys *sys;
	struct net n;
	int err, rc;

	parse(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Whatever goes wrong, and however the harness fares, we do not outlive this. */
	alarm(o.timeout_s);
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread exists (DPDK's, the poller), so that all of them inherit it. */
	pin(o.cpu);
	if (o.test == TEST_MEM)
		return mem_test(&o);
	if (o.api == API_KERNEL) {
		net_kernel(&n);
		return o.server ? sock_server(&o, &n) : sock_client(&o, &n);
	}
	s = peer_stack_up(&o, &nif);
	dump_stack = s;
	signal(SIGUSR1, on_usr1);
	/* The EAL moves its main thread to its lcore: put it back where the harness said. */
	pin(o.cpu);
	if (o.api == API_RAW) {
		rc = o.server ? raw_server(&o, s) : raw_client(&o, s);
	} else {
		shunt_sys_config_init(&ycfg);
		ycfg.mode = o.inline_poll ? SHUNT_POLL_INLINE : SHUNT_POLL_THREAD;
		if (o.spin_us >= 0)
			ycfg.spin_us = (uint32_t)o.spin_us;
		sys = shunt_sys_create(s, &ycfg, &err);
		if (sys == NULL)
			peer_die("shunt_sys_create: %s", strerror(-err));
		net_shunt(&n, sys);
		{
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_usr2;
			sa.sa_flags = SA_RESTART;
			sigemptyset(&sa.sa_mask);
			stats_sys = sys;
			sigaction(SIGUSR2, &sa, NULL);
		}
		rc = o.server ? sock_server(&o, &n) : sock_client(&o, &n);
		shunt_sys_destroy(sys);
	}
	peer_stack_down(s, nif);
	return rc;
}
