/*
 * Helpers shared by the example programs and the test tools: address
 * parsing, a stop flag set by SIGINT/SIGTERM, the poll loop that spins while
 * there is traffic and sleeps when there is none, and counter printing.
 * Everything is static inline: examples are single files on the public API.
 */
#ifndef SHUNT_EXAMPLE_UTIL_H
#define SHUNT_EXAMPLE_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
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
	char eb[256];
	int err;

	if (ex_parse_cidr(cidr, &addr, &mask) != 0) {
		fprintf(stderr, "%s: bad address \"%s\" (want A.B.C.D/len)\n", prog, cidr);
		return NULL;
	}
	if (gw_str != NULL && shunt_ip4_parse(gw_str, &gw) != 0) {
		fprintf(stderr, "%s: bad gateway \"%s\"\n", prog, gw_str);
		return NULL;
	}
	err = shunt_dpdk_eal_init(eal, eb, sizeof(eb));
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

#endif
