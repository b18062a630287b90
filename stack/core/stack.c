/*
 * The stack instance: creation from a config, the poll loop (receive bursts,
 * run timers, flush transmit batches), clocks, counters.  Top of the core:
 * the APIs and the drivers call in here; it calls eth_input() per frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include "priv/stack.h"
#include "priv/eth.h"
#include "priv/tcp.h"

#ifndef SHUNT_VERSION
#define SHUNT_VERSION "0.1.0"
#endif

const char *
shunt_version(void)
{
	return SHUNT_VERSION;
}

static uint64_t
mono_now(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct shunt_clock mono_clock = { mono_now, NULL };

const struct shunt_clock *
shunt_clock_monotonic(void)
{
	return &mono_clock;
}

static uint64_t
vclock_now(void *ctx)
{
	return ((struct shunt_vclock *)ctx)->now;
}

void
shunt_vclock_init(struct shunt_vclock *vc, uint64_t start_ns)
{
	vc->clock.now_ns = vclock_now;
	vc->clock.ctx = vc;
	vc->now = start_ns;
}

void
shunt_vclock_advance(struct shunt_vclock *vc, uint64_t ns)
{
	vc->now += ns;
}

void
shunt_stack_config_init(struct shunt_stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->pbuf_count = 16384;
	cfg->pbuf_hdr_count = 32768;
	cfg->pbuf_data_size = 2048;
	cfg->arp_timeout_ms = 60000;
	cfg->arp_retry_ms = 1000;
	cfg->arp_max_retries = 3;
	cfg->arp_queue_len = 101;	/* Linux's unres_qlen */
	cfg->arp_queue_bytes = 212992;	/* Linux's unres_qlen_bytes */
	cfg->reass_timeout_ms = 30000;	/* Linux ipfrag_time */
	cfg->reass_max_bytes = 4u << 20;	/* Linux ipfrag_high_thresh */
	cfg->icmp_rate_per_sec = 1000;	/* Linux icmp_msgs_per_sec */
	cfg->icmp_burst = 50;		/* Linux icmp_msgs_burst */
	cfg->ip_ttl = 64;
	cfg->tcp_msl_ms = 30000;	/* 2 * MSL = 60 s, as Linux's TIME_WAIT */
	cfg->tcp_max_time_wait = 65536;
	cfg->tcp_syn_backlog = 1024;
	cfg->tcp_sndbuf = 256 * 1024;
	cfg->tcp_rcvbuf = 256 * 1024;
	cfg->tcp_ooo_max_bytes = 8u << 20;
	cfg->tcp_cc = "cubic";
	cfg->tcp_max_pcbs = 1u << 20;
	cfg->tcp_rto_initial_ms = 1000;
	cfg->tcp_rto_min_ms = 200;
	cfg->tcp_rto_max_ms = 120000;
	cfg->tcp_retries = 15;
	cfg->tcp_syn_retries = 6;
	cfg->tcp_synack_retries = 5;
	cfg->tcp_delack_ms = 40;
	cfg->tcp_fin_timeout_ms = 60000;
	cfg->tcp_keepidle_s = 7200;
	cfg->tcp_keepintvl_s = 75;
	cfg->tcp_keepcnt = 9;
	cfg->tcp_challenge_ack_per_sec = 1000;
	cfg->tcp_conn_hash = 65536;
	cfg->tcp_tlp = 1;
}

uint64_t
stack_rand(struct shunt_stack *s)
{
	/* xorshift64*: fast, seedable for reproducible tests; secrets come from getrandom. */
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int
config_check(const struct shunt_stack_config *c)
{
	if (c->pbuf_data_size < 256 || c->pbuf_data_size > 65535 - SHUNT_PBUF_HEADROOM)
		return -EINVAL;
	if (c->pbuf_count < 64 || c->pbuf_hdr_count < 64)
		return -EINVAL;
	if (c->arp_queue_len == 0 || c->ip_ttl == 0 || c->icmp_burst == 0 || c->icmp_rate_per_sec == 0)
		return -EINVAL;
	if (c->tcp_conn_hash == 0 || (c->tcp_conn_hash & (c->tcp_conn_hash - 1)) != 0)
		return -EINVAL;
	if (c->tcp_rto_min_ms == 0 || c->tcp_rto_min_ms > c->tcp_rto_max_ms || c->tcp_sndbuf < 2048 ||
	    c->tcp_rcvbuf < 2048 || c->tcp_challenge_ack_per_sec == 0)
		return -EINVAL;
	return 0;
}

struct shunt_stack *
shunt_stack_create(const struct shunt_stack_config *cfg, int *errp)
{
	struct shunt_stack_config defcfg;
	struct shunt_stack *s;
	int err;

	if (cfg == NULL) {
		shunt_stack_config_init(&defcfg);
		cfg = &defcfg;
	}
	err = config_check(cfg);
	if (err != 0)
		goto fail;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	s->cfg = *cfg;
	s->clock = cfg->clock != NULL ? *cfg->clock : mono_clock;
	stack_refresh_now(s);
	timer_wheel_init(&s->timers, s->now);
	if (cfg->seed != 0) {
		uint64_t x = cfg->seed;
		int i;

		for (i = 0; i < 16; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			s->secret[i] = (uint8_t)(x >> 56);
		}
		s->rng = cfg->seed | 1;
	} else {
		if (getrandom(s->secret, sizeof(s->secret), 0) != sizeof(s->secret) ||
		    getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng)) {
			err = -EIO;
			goto fail_free;
		}
		s->rng |= 1;
	}
	s->ip_id = (uint16_t)stack_rand(s);
	err = pbuf_pool_init(&s->pool, s, cfg->pbuf_count, cfg->pbuf_hdr_count,
	    cfg->pbuf_data_size + SHUNT_PBUF_HEADROOM);
	if (err != 0)
		goto fail_free;
	err = arp_init(s);
	if (err != 0)
		goto fail_pool;
	err = ip4_reass_init(s);
	if (err != 0)
		goto fail_arp;
	s->udp.next_ephemeral = (uint16_t)(32768 + stack_rand(s) % (61000 - 32768));
	err = tcp_stack_init(s);
	if (err != 0)
		goto fail_reass;
	return s;

fail_reass:
	ip4_reass_fini(s);
fail_arp:
	arp_fini(s);
fail_pool:
	pbuf_pool_fini(&s->pool);
fail_free:
	free(s);
fail:
	if (errp != NULL)
		*errp = err;
	return NULL;
}

uint32_t
shunt_stack_destroy_checked(struct shunt_stack *s, struct shunt_pool_usage *left)
{
	struct shunt_pool_usage u;

	memset(&u, 0, sizeof(u));
	if (s != NULL) {
		tcp_stack_fini(s);
		udp_fini(s);
		/* Fragments may wrap a driver's buffers: give them back before the drivers go. */
		ip4_reass_fini(s);
		while (s->nnetifs > 0)
			shunt_netif_remove(s->netifs[s->nnetifs - 1]);
		arp_fini(s);
		/* Last: closing connections above may have sent to ourselves. */
		while (s->loop_head != NULL) {
			struct shunt_pbuf *p = s->loop_head;

			s->loop_head = p->qnext;
			p->qnext = NULL;
			shunt_pbuf_free(p);
		}
		s->loop_tail = NULL;
		shunt_stack_pool_usage(s, &u);
		pbuf_pool_fini(&s->pool);
		free(s);
	}
	if (left != NULL)
		*left = u;
	return u.pbuf_in_use + u.pbuf_hdr_in_use;
}

void
shunt_stack_destroy(struct shunt_stack *s)
{
	shunt_stack_destroy_checked(s, NULL);
}

int
shunt_stack_poll(struct shunt_stack *s)
{
	struct shunt_pbuf *pkts[NETIF_RX_BURST];
	int i, j, n, total = 0;

	stack_refresh_now(s);
	s->in_poll = 1;
	if (unlikely(s->loop_head != NULL))
		total += ip4_loopback_run(s, NETIF_RX_BURST);
	for (i = 0; i < s->nnetifs; i++) {
		struct shunt_netif *nif = s->netifs[i];

		if (unlikely(nif->announce_pending) && nif->ops->link_up(nif)) {
			/* The link came up after the interface did: announce the address now. */
			nif->announce_pending = 0;
			arp_announce(nif);
		}
		n = nif->ops->rx_burst(nif, pkts, NETIF_RX_BURST);
		for (j = 0; j < n; j++) {
			if (j + 1 < n)
				__builtin_prefetch(pkts[j + 1]->payload);
			if (unlikely(nif->pcap != NULL))
				pcap_record(nif->pcap, pkts[j]);
			eth_input(nif, pkts[j]);
		}
		total += n;
	}
	if (unlikely(s->tcp->ndeferred != 0 || s->tcp->defer_overflow) && s->tx_pressure == 0)
		tcp_resume_deferred(s);
	timer_run(s, s->now);
	s->in_poll = 0;
	netif_flush_all(s);
	return total;
}

uint64_t
shunt_stack_next_deadline(struct shunt_stack *s)
{
	if (s->loop_head != NULL)
		return s->now;
	return timer_next_deadline(s);
}

void
stack_ints_disarm(struct shunt_stack *s)
{
	int i;

	for (i = 0; i < s->ints_armed; i++)
		s->netifs[i]->ops->rx_intr_disarm(s->netifs[i]);
	s->ints_armed = 0;
}

int
shunt_stack_sleep_prepare(struct shunt_stack *s, int *fds, int max, uint64_t *until)
{
	int i, n;

	if (s->nnetifs > max)
		return -ENOSPC;
	for (i = 0; i < s->nnetifs; i++) {
		struct shunt_netif *nif = s->netifs[i];
		int fd;

		if (nif->ops->rx_intr_arm == NULL || nif->ops->rx_intr_disarm == NULL) {
			stack_ints_disarm(s);
			return -ENOTSUP;
		}
		fd = nif->ops->rx_intr_arm(nif);
		if (fd < 0) {
			stack_ints_disarm(s);
			return fd;
		}
		fds[i] = fd;
		s->ints_armed = i + 1;
	}
	n = shunt_stack_poll(s);
	if (n > 0 || s->loop_head != NULL) {
		stack_ints_disarm(s);
		return -EAGAIN;
	}
	s->wake_at = shunt_stack_next_deadline(s);
	*until = s->wake_at;
	return s->nnetifs;
}

void
shunt_stack_sleep_end(struct shunt_stack *s)
{
	stack_ints_disarm(s);
	s->wake_at = 0;
}

void
shunt_stack_set_kick(struct shunt_stack *s, void (*fn)(void *arg), void *arg)
{
	s->kick = fn;
	s->kick_arg = arg;
}

uint64_t
shunt_stack_now(struct shunt_stack *s)
{
	return stack_refresh_now(s);
}

void
shunt_stack_stats(struct shunt_stack *s, struct shunt_stats *out)
{
	*out = s->stats;
}

void
shunt_stack_stats_reset(struct shunt_stack *s)
{
	memset(&s->stats, 0, sizeof(s->stats));
}

void
shunt_stats_foreach(const struct shunt_stats *st, int nonzero_only,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg)
{
#define SHUNT_STATS_VISIT(n) \
	if (!nonzero_only || st->n != 0) \
		fn(#n, st->n, arg);
	SHUNT_STATS_LIST(SHUNT_STATS_VISIT)
#undef SHUNT_STATS_VISIT
}

int
shunt_ip4_parse(const char *str, uint32_t *addr_be)
{
	unsigned int b[4];
	char tail;
	uint8_t bytes[4];
	int i;

	if (str == NULL || sscanf(str, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (b[i] > 255)
			return -EINVAL;
		bytes[i] = (uint8_t)b[i];
	}
	memcpy(addr_be, bytes, 4);
	return 0;
}

const char *
shunt_ip4_str(uint32_t addr_be, char buf[16])
{
	const uint8_t *b = (const uint8_t *)&addr_be;

	snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}
