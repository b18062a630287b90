/*
 * Helpers shared by the example programs and the test tools: address
 * parsing, a stop flag set by SIGINT/SIGTERM, the poll loop that spins while
 * there is traffic and sleeps when there is none, counter printing, and the
 * command line every DPDK example shares (--dpdk, --ip, --gw, --port, --pcap,
 * --faults, --stats ...) with the start and end that go with it.
 * Everything is static inline: examples are single files on the public API.
 */
#ifndef SHUNT_EXAMPLE_UTIL_H
#define SHUNT_EXAMPLE_UTIL_H

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/netconn.h>
#include <shunt/dpdk.h>

/* Idle polls before the loop starts to sleep, and the sleeps' bounds. */
#define EX_SPIN_POLLS		1000
#define EX_SLEEP_MIN_NS		20000ull
#define EX_SLEEP_MAX_NS		1000000ull

static volatile sig_atomic_t ex_stop_flag;

static inline void
ex_on_signal(int sig)
{
	(void)sig;
	ex_stop_flag = 1;
}

/* SIGINT and SIGTERM ask the loop to end (no SA_RESTART: a sleep ends early). */
static inline void
ex_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ex_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline int
ex_stopped(void)
{
	return ex_stop_flag != 0;
}

/* "198.18.0.2/24" into address and netmask (network order); -EINVAL if malformed. */
static inline int
ex_parse_cidr(const char *s, uint32_t *addr, uint32_t *mask)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	char *end;
	long len = 32;

	if (slash != NULL) {
		if ((size_t)(slash - s) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == slash + 1 || len < 1 || len > 32)
			return -EINVAL;
	} else {
		if (strlen(s) >= sizeof(buf))
			return -EINVAL;
		strcpy(buf, s);
	}
	if (shunt_ip4_parse(buf, addr) != 0)
		return -EINVAL;
	*mask = htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len));
	return 0;
}

static inline int
ex_parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * The poll loop's back-off: spin while frames arrive; after EX_SPIN_POLLS
 * empty polls, sleep -- first briefly, then longer, never past the stack's
 * next deadline nor EX_SLEEP_MAX_NS -- so that an idle program does not burn
 * a core and a busy one never sleeps.
 */
struct ex_poller {
	struct shunt_stack *s;
	unsigned idle;
	uint64_t sleep_ns;
};

static inline void
ex_poller_init(struct ex_poller *pl, struct shunt_stack *s)
{
	pl->s = s;
	pl->idle = 0;
	pl->sleep_ns = EX_SLEEP_MIN_NS;
}

/* One poll of the stack, maybe followed by a nap; returns the frames received. */
static inline int
ex_poll(struct ex_poller *pl)
{
	int n = shunt_stack_poll(pl->s);
	uint64_t now, deadline, nap;
	struct timespec ts;

	if (n > 0) {
		pl->idle = 0;
		pl->sleep_ns = EX_SLEEP_MIN_NS;
		return n;
	}
	if (++pl->idle < EX_SPIN_POLLS)
		return 0;
	nap = pl->sleep_ns;
	now = shunt_stack_now(pl->s);
	deadline = shunt_stack_next_deadline(pl->s);
	if (deadline <= now)
		return 0;
	if (deadline - now < nap)
		nap = deadline - now;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)nap;
	nanosleep(&ts, NULL);
	if (pl->sleep_ns < EX_SLEEP_MAX_NS)
		pl->sleep_ns *= 2;
	if (pl->sleep_ns > EX_SLEEP_MAX_NS)
		pl->sleep_ns = EX_SLEEP_MAX_NS;
	return 0;
}

/* After the program itself sent something: expect an answer soon, spin again. */
static inline void
ex_poller_kick(struct ex_poller *pl)
{
	pl->idle = 0;
	pl->sleep_ns = EX_SLEEP_MIN_NS;
}

static inline void
ex_print_counter(const char *name, uint64_t value, void *arg)
{
	fprintf((FILE *)arg, "  %-28s %llu\n", name, (unsigned long long)value);
}

/* The stack's nonzero counters, then the DPDK netif's (nif may be NULL). */
static inline void
ex_print_stats(FILE *f, struct shunt_stack *s, struct shunt_netif *nif)
{
	struct shunt_stats st;
	struct shunt_dpdk_stats ds;

	shunt_stack_stats(s, &st);
	fprintf(f, "stack counters (nonzero):\n");
	shunt_stats_foreach(&st, 1, ex_print_counter, f);
	if (nif != NULL) {
		shunt_dpdk_netif_stats(nif, &ds);
		fprintf(f, "dpdk netif %s counters (nonzero):\n", shunt_netif_get_info(nif)->name);
		shunt_dpdk_stats_foreach(&ds, 1, ex_print_counter, f);
	}
	fflush(f);
}

static inline const char *
ex_mac_str(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static inline const char *
ex_caps_str(uint32_t caps, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s%s",
	    caps == 0 ? "none" : "",
	    caps & SHUNT_NETIF_CAP_TX_IP4_CSUM ? "tx-ip4-csum " : "",
	    caps & SHUNT_NETIF_CAP_TX_UDP_CSUM ? "tx-udp-csum " : "",
	    caps & SHUNT_NETIF_CAP_TX_TCP_CSUM ? "tx-tcp-csum " : "",
	    caps & SHUNT_NETIF_CAP_TSO ? "tso " : "",
	    caps & SHUNT_NETIF_CAP_RX_CSUM ? "rx-csum " : "",
	    caps & SHUNT_NETIF_CAP_MULTISEG ? "multiseg" : "");
	return buf;
}

/*
 * Starts DPDK, attaches the port pc describes and gives it an address: the
 * common start of every DPDK example.  Prints one line and returns NULL on
 * failure.
 */
static inline struct shunt_netif *
ex_dpdk_up(struct shunt_stack *s, const char *prog, const char *eal, const struct shunt_dpdk_port_config *pc,
    const char *cidr, const char *gw_str)
{
	struct shunt_netif *nif;
	uint32_t addr, mask, gw = 0;
	cpu_set_t saved;
	char eb[256];
	int err, have_affinity;

	if (ex_parse_cidr(cidr, &addr, &mask) != 0) {
		fprintf(stderr, "%s: bad address \"%s\" (want A.B.C.D/len)\n", prog, cidr);
		return NULL;
	}
	if (gw_str != NULL && shunt_ip4_parse(gw_str, &gw) != 0) {
		fprintf(stderr, "%s: bad gateway \"%s\"\n", prog, gw_str);
		return NULL;
	}
	/*
	 * The EAL pins the calling thread to its main lcore, and threads made
	 * later (a netconn poller, connection workers) would inherit the pin:
	 * give the program back the CPUs it had.
	 */
	have_affinity = sched_getaffinity(0, sizeof(saved), &saved) == 0;
	err = shunt_dpdk_eal_init(eal, eb, sizeof(eb));
	if (have_affinity)
		sched_setaffinity(0, sizeof(saved), &saved);
	if (err != 0) {
		fprintf(stderr, "%s: %s\n", prog, eb);
		return NULL;
	}
	nif = shunt_dpdk_netif_create(s, pc, &err, eb, sizeof(eb));
	if (nif == NULL) {
		fprintf(stderr, "%s: %s\n", prog, eb);
		return NULL;
	}
	err = shunt_netif_set_ip4(nif, addr, mask, gw);
	if (err == 0)
		err = shunt_netif_up(nif);
	if (err != 0) {
		fprintf(stderr, "%s: configuring %s: %s\n", prog, cidr, strerror(-err));
		shunt_netif_remove(nif);
		return NULL;
	}
	return nif;
}

/*
 * Port options shared by the examples: --dev NAME, --mtu N, --mbufs N,
 * --rx-buf BYTES.  Returns 1 if (opt, val) was one of them (0 if not, -1 if
 * its value is bad).
 */
static inline int
ex_port_option(struct shunt_dpdk_port_config *pc, const char *opt, const char *val)
{
	char *end;
	unsigned long v;

	if (strcmp(opt, "--dev") == 0) {
		pc->port_name = val;
		return 1;
	}
	if (strcmp(opt, "--mtu") != 0 && strcmp(opt, "--mbufs") != 0 && strcmp(opt, "--rx-buf") != 0)
		return 0;
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno != 0 || *end != '\0' || end == val || v == 0 || v > 1u << 24)
		return -1;
	if (strcmp(opt, "--mtu") == 0) {
		if (v > 65535)
			return -1;
		pc->mtu = (uint16_t)v;
	} else if (strcmp(opt, "--mbufs") == 0) {
		pc->mbuf_count = (uint32_t)v;
	} else {
		pc->rx_buf_size = (uint32_t)v;
	}
	return 1;
}

/* A byte count with an optional K, M or G suffix (powers of 1024); -EINVAL if malformed. */
static inline int
ex_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || (v != 0 && mult > UINT64_MAX / v))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

/* "5%", "0.1%" or "50000ppm" (a bare number is a percentage) as parts per million. */
static inline int
ex_parse_ppm(const char *s, uint32_t *ppm)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -EINVAL;
	if (strcmp(end, "ppm") == 0) {
		if (v > 1e6)
			return -EINVAL;
		*ppm = (uint32_t)(v + 0.5);
		return 0;
	}
	if (strcmp(end, "%") != 0 && *end != '\0')
		return -EINVAL;
	if (v > 100)
		return -EINVAL;
	*ppm = (uint32_t)(v * 1e4 + 0.5);
	return 0;
}

/* "1ms", "200us", "5000ns", "1s" (a bare number is microseconds) as nanoseconds. */
static inline int
ex_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v, mult = 1e3;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -EINVAL;
	if (strcmp(end, "ns") == 0)
		mult = 1;
	else if (strcmp(end, "us") == 0 || *end == '\0')
		mult = 1e3;
	else if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "s") == 0)
		mult = 1e9;
	else
		return -EINVAL;
	if (v * mult > 60e9)
		return -EINVAL;
	*ns = (uint64_t)(v * mult + 0.5);
	return 0;
}

/* "100M" (bits per second, k/M/G = 10^3/10^6/10^9) for the serialisation delay. */
static inline int
ex_parse_rate(const char *s, uint64_t *bps)
{
	char *end;
	double v, mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mult = 1e3; end++; break;
	case 'm': case 'M': mult = 1e6; end++; break;
	case 'g': case 'G': mult = 1e9; end++; break;
	default: break;
	}
	if (strcmp(end, "bit") == 0 || strcmp(end, "bps") == 0)
		end += strlen(end);
	if (*end != '\0' || v * mult > 1e12)
		return -EINVAL;
	*bps = (uint64_t)(v * mult);
	return 0;
}

/* Which way the fault injector works: bit 0 frames received, bit 1 frames sent. */
#define EX_FAULT_RX	1
#define EX_FAULT_TX	2

/*
 * A fault specification for shunt_netif_faults(), as a comma-separated list:
 *   loss=5%,dup=1%,reorder=25%,corrupt=0.1%,delay=1ms,jitter=200us,seed=N
 * and also reorder-delay=2ms, rate=100M (bits/s), queue=N (frames held per
 * direction) and dir=rx|tx|both (default both).  Writes one line and returns
 * -EINVAL if anything in it is wrong.
 */
static inline int
ex_parse_faults(const char *spec, struct shunt_link_faults *f, int *dirs, const char *prog)
{
	char buf[512], *save = NULL, *tok;
	int bad = 0;

	memset(f, 0, sizeof(*f));
	*dirs = EX_FAULT_RX | EX_FAULT_TX;
	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "%s: --faults: specification too long\n", prog);
		return -EINVAL;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL && !bad; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		unsigned long long n;
		char *end;

		if (val == NULL) {
			bad = 1;
			break;
		}
		*val++ = '\0';
		if (strcmp(tok, "loss") == 0)
			bad = ex_parse_ppm(val, &f->loss_ppm) != 0;
		else if (strcmp(tok, "dup") == 0)
			bad = ex_parse_ppm(val, &f->dup_ppm) != 0;
		else if (strcmp(tok, "reorder") == 0)
			bad = ex_parse_ppm(val, &f->reorder_ppm) != 0;
		else if (strcmp(tok, "corrupt") == 0)
			bad = ex_parse_ppm(val, &f->corrupt_ppm) != 0;
		else if (strcmp(tok, "delay") == 0)
			bad = ex_parse_duration(val, &f->delay_ns) != 0;
		else if (strcmp(tok, "jitter") == 0)
			bad = ex_parse_duration(val, &f->jitter_ns) != 0;
		else if (strcmp(tok, "reorder-delay") == 0)
			bad = ex_parse_duration(val, &f->reorder_delay_ns) != 0;
		else if (strcmp(tok, "rate") == 0)
			bad = ex_parse_rate(val, &f->rate_bps) != 0;
		else if (strcmp(tok, "seed") == 0 || strcmp(tok, "queue") == 0) {
			errno = 0;
			n = strtoull(val, &end, 0);
			bad = errno != 0 || end == val || *end != '\0' || *val == '-';
			if (strcmp(tok, "seed") == 0)
				f->seed = n;
			else if (n > UINT32_MAX)
				bad = 1;
			else
				f->queue_max = (uint32_t)n;
		} else if (strcmp(tok, "dir") == 0) {
			if (strcmp(val, "rx") == 0)
				*dirs = EX_FAULT_RX;
			else if (strcmp(val, "tx") == 0)
				*dirs = EX_FAULT_TX;
			else if (strcmp(val, "both") == 0)
				*dirs = EX_FAULT_RX | EX_FAULT_TX;
			else
				bad = 1;
		} else {
			bad = 1;
		}
		if (bad)
			fprintf(stderr, "%s: --faults: bad item \"%s=%s\"\n", prog, tok, val);
	}
	if (bad) {
		if (tok != NULL && strchr(spec, '=') == NULL)
			fprintf(stderr, "%s: --faults wants key=value items, e.g. loss=5%%,delay=1ms,seed=1\n", prog);
		return -EINVAL;
	}
	return 0;
}

/* What the fault injector did, one line per direction it works in. */
static inline void
ex_print_faults(FILE *out, struct shunt_netif *nif, int dirs)
{
	static const char *const names[2] = { "received", "sent" };
	struct shunt_link_stats st;
	int d;

	for (d = 0; d < 2; d++) {
		if (!(dirs & (1 << d)))
			continue;
		shunt_netif_fault_stats(nif, d, &st);
		fprintf(out, "fault injector, frames %s: %llu judged, %llu lost, %llu duplicated, %llu reordered, "
		    "%llu corrupted\n", names[d], (unsigned long long)st.sent, (unsigned long long)st.lost,
		    (unsigned long long)st.duplicated, (unsigned long long)st.reordered,
		    (unsigned long long)st.corrupted);
	}
	fflush(out);
}

/*
 * The command line every DPDK example shares, and what it sets up:
 *   --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port N] [--pcap FILE]
 *   [--faults SPEC] [--stats] [--sndbuf BYTES] [--rcvbuf BYTES]
 *   [--rto-min-ms N] [--cc newreno|cubic] [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]
 * --rto-min-ms lowers the floor of the retransmission timeout below Linux's
 * 200 ms, as `ip route ... rto_min` does, for links whose RTT is far below it.
 */
#define EX_COMMON_USAGE \
	"--dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port N] [--pcap FILE]\n" \
	"       [--faults 'loss=5%,dup=1%,reorder=25%,corrupt=0.1%,delay=1ms,jitter=200us,seed=N']\n" \
	"       [--stats] [--sndbuf BYTES] [--rcvbuf BYTES] [--rto-min-ms N] [--cc newreno|cubic]\n" \
	"       [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]"

struct ex_opts {
	const char *prog;
	const char *eal, *cidr, *gw, *pcap, *faults, *cc;
	uint16_t port;
	int stats;
	uint64_t sndbuf, rcvbuf;	/* 0: the stack's defaults */
	uint64_t rto_min_ms;		/* 0: the stack's default */
	struct shunt_dpdk_port_config pc;
	struct shunt_link_faults fspec;
	int fault_dirs;
};

static inline void
ex_opts_init(struct ex_opts *o, const char *prog, uint16_t default_port)
{
	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->port = default_port;
	shunt_dpdk_port_config_init(&o->pc);
}

/*
 * Looks at argv[*i]: if it is one of the shared options, takes it (and its
 * value, advancing *i) and returns 1; returns 0 for an option the program
 * must handle itself, -1 (with a message) for a shared option with a bad or
 * missing value.
 */
static inline int
ex_option(struct ex_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	int po;

	if (strcmp(a, "--stats") == 0) {
		o->stats = 1;
		return 1;
	}
	if (strcmp(a, "--dpdk") != 0 && strcmp(a, "--ip") != 0 && strcmp(a, "--gw") != 0 &&
	    strcmp(a, "--port") != 0 && strcmp(a, "--pcap") != 0 && strcmp(a, "--faults") != 0 &&
	    strcmp(a, "--sndbuf") != 0 && strcmp(a, "--rcvbuf") != 0 && strcmp(a, "--dev") != 0 &&
	    strcmp(a, "--rto-min-ms") != 0 && strcmp(a, "--cc") != 0 &&
	    strcmp(a, "--mtu") != 0 && strcmp(a, "--mbufs") != 0 && strcmp(a, "--rx-buf") != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", o->prog, a);
		return -1;
	}
	v = argv[++*i];
	po = ex_port_option(&o->pc, a, v);
	if (po > 0)
		return 1;
	if (po < 0)
		goto bad;
	if (strcmp(a, "--dpdk") == 0)
		o->eal = v;
	else if (strcmp(a, "--ip") == 0)
		o->cidr = v;
	else if (strcmp(a, "--gw") == 0)
		o->gw = v;
	else if (strcmp(a, "--pcap") == 0)
		o->pcap = v;
	else if (strcmp(a, "--port") == 0) {
		if (ex_parse_port(v, &o->port) != 0)
			goto bad;
	} else if (strcmp(a, "--faults") == 0) {
		if (ex_parse_faults(v, &o->fspec, &o->fault_dirs, o->prog) != 0)
			return -1;
		o->faults = v;
	} else if (strcmp(a, "--cc") == 0) {
		if (strcmp(v, "newreno") != 0 && strcmp(v, "cubic") != 0)
			goto bad;
		o->cc = v;
	} else if (strcmp(a, "--rto-min-ms") == 0) {
		if (ex_parse_size(v, &o->rto_min_ms) != 0 || o->rto_min_ms == 0 || o->rto_min_ms > 60000)
			goto bad;
	} else {
		uint64_t *dst = strcmp(a, "--sndbuf") == 0 ? &o->sndbuf : &o->rcvbuf;

		if (ex_parse_size(v, dst) != 0 || *dst < 4096 || *dst > (1ull << 30))
			goto bad;
	}
	return 1;
bad:
	fprintf(stderr, "%s: bad value for %s: \"%s\"\n", o->prog, a, v);
	return -1;
}

/* The options a program cannot do without; prints what is missing. */
static inline int
ex_opts_complete(const struct ex_opts *o)
{
	if (o->eal == NULL || o->cidr == NULL) {
		fprintf(stderr, "%s: --dpdk and --ip are required\n", o->prog);
		return 0;
	}
	return 1;
}

/*
 * A program's own option at argv[*i]: 1 if it took it (advancing *i past a
 * value), 0 if the option is not its own or its value is bad.
 */
typedef int (*ex_own_option_fn)(void *arg, int argc, char **argv, int *i);

/* --max-conns N (1..99999, into the uint64_t at arg): the echo servers' own option. */
static inline int
ex_max_conns_option(void *arg, int argc, char **argv, int *i)
{
	uint64_t *maxc = arg;

	if (strcmp(argv[*i], "--max-conns") != 0 || *i + 1 >= argc || ex_parse_size(argv[*i + 1], maxc) != 0 ||
	    *maxc == 0 || *maxc >= 100000)
		return 0;
	++*i;
	return 1;
}

/*
 * The command line: the shared options, then the program's own (own may be
 * NULL), -h/--help; then the required ones.  Returns -1 to go on, or the
 * status to exit with after printing the usage (0 for --help, 2 otherwise).
 */
static inline int
ex_parse_args(struct ex_opts *o, int argc, char **argv, ex_own_option_fn own, void *arg,
    void (*usage)(const char *prog))
{
	int i, r;

	for (i = 1; i < argc; i++) {
		r = ex_option(o, argc, argv, &i);
		if (r > 0 || (r == 0 && own != NULL && own(arg, argc, argv, &i) > 0))
			continue;
		if (r == 0 && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			usage(o->prog);
			return 0;
		}
		if (r == 0)
			fprintf(stderr, "%s: unknown or bad argument %s\n", o->prog, argv[i]);
		usage(o->prog);
		return 2;
	}
	if (!ex_opts_complete(o)) {
		usage(o->prog);
		return 2;
	}
	return -1;
}

/*
 * A stack on a DPDK port as the options say: address, pcap capture, fault
 * injection.  Returns the stack (its netif in *nifp), or NULL after printing
 * one line.
 */
static inline struct shunt_stack *
ex_start(struct ex_opts *o, struct shunt_netif **nifp)
{
	struct shunt_stack_config cfg;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	int err, d;

	shunt_stack_config_init(&cfg);
	if (o->sndbuf != 0)
		cfg.tcp_sndbuf = (uint32_t)o->sndbuf;
	if (o->rcvbuf != 0)
		cfg.tcp_rcvbuf = (uint32_t)o->rcvbuf;
	if (o->rto_min_ms != 0)
		cfg.tcp_rto_min_ms = (uint32_t)o->rto_min_ms;
	if (o->cc != NULL)
		cfg.tcp_cc = o->cc;
	s = shunt_stack_create(&cfg, &err);
	if (s == NULL) {
		fprintf(stderr, "%s: shunt_stack_create: %s\n", o->prog, strerror(-err));
		return NULL;
	}
	nif = ex_dpdk_up(s, o->prog, o->eal, &o->pc, o->cidr, o->gw);
	if (nif == NULL)
		goto fail;
	if (o->pcap != NULL && (err = shunt_pcap_attach(nif, o->pcap)) != 0) {
		fprintf(stderr, "%s: pcap %s: %s\n", o->prog, o->pcap, strerror(-err));
		goto fail;
	}
	/* Outermost, so that the capture records what really went on the wire and came off it. */
	for (d = 0; o->faults != NULL && d < 2; d++) {
		if (!(o->fault_dirs & (1 << d)))
			continue;
		err = shunt_netif_faults(nif, d, &o->fspec);
		if (err != 0) {
			fprintf(stderr, "%s: --faults: %s\n", o->prog, strerror(-err));
			goto fail;
		}
	}
	*nifp = nif;
	return s;
fail:
	shunt_stack_destroy(s);
	shunt_dpdk_fini();
	return NULL;
}

/* One line saying where the program listens and on what device. */
static inline void
ex_announce(const struct ex_opts *o, struct shunt_netif *nif, const char *what)
{
	const struct shunt_netif_info *ni = shunt_netif_get_info(nif);
	char ab[16], mb[18], cb[128];
	uint32_t addr;

	shunt_netif_get_ip4(nif, &addr, NULL, NULL);
	printf("%s: %s on %s:%u via %s (mac %s, mtu %u, offloads %s)%s%s\n", o->prog, what,
	    shunt_ip4_str(addr, ab), o->port, ni->name, ex_mac_str(ni->mac, mb), ni->mtu,
	    ex_caps_str(ni->caps, cb, sizeof(cb)), o->faults != NULL ? ", faults " : "",
	    o->faults != NULL ? o->faults : "");
	fflush(stdout);
}

/* The end of every example: fault and stack counters, then the stack, the port and DPDK go. */
static inline void
ex_finish(const struct ex_opts *o, struct shunt_stack *s, struct shunt_netif *nif)
{
	if (o->faults != NULL)
		ex_print_faults(stdout, nif, o->fault_dirs);
	ex_print_stats(stdout, s, o->stats ? nif : NULL);
	/* Removes the netif too, which stops and closes the port (and closes the pcap file). */
	shunt_stack_destroy(s);
	shunt_dpdk_fini();
}

/*
 * The sequential and socket APIs' examples: a sys (lock and poller thread)
 * over the stack ex_start made; NULL after one line and ex_finish().
 */
static inline struct shunt_sys *
ex_sys_start(const struct ex_opts *o, struct shunt_stack *s, struct shunt_netif *nif)
{
	struct shunt_sys_config ycfg;
	struct shunt_sys *sys;
	int err;

	shunt_sys_config_init(&ycfg);
	sys = shunt_sys_create(s, &ycfg, &err);
	if (sys == NULL) {
		fprintf(stderr, "%s: shunt_sys_create: %s\n", o->prog, strerror(-err));
		ex_finish(o, s, nif);
	}
	return sys;
}

#endif
