/*
 * struct shunt_stack: every piece of mutable state of one stack instance.
 * Internal; the public handle is opaque.
 */
#ifndef SHUNT_PRIV_STACK_H
#define SHUNT_PRIV_STACK_H

#include <errno.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include "priv/timer.h"
#include "priv/pbuf_pool.h"
#include "priv/netif.h"
#include "priv/arp.h"
#include "priv/ip4.h"
#include "priv/icmp.h"
#include "priv/udp.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

struct tcp_stack;

struct shunt_stack {
	struct shunt_stack_config cfg;
	struct shunt_clock clock;
	uint64_t now;			/* cached clock, refreshed per poll / API entry */
	int in_poll;			/* batch transmissions until the round ends */
	struct timer_wheel timers;
	struct shunt_pbuf_pool pool;
	struct shunt_netif *netifs[SHUNT_MAX_NETIFS];
	int nnetifs;
	struct arp_table arp;
	uint16_t ip_id;
	struct ip4_reass reass;
	struct icmp_state icmp;
	struct udp_table udp;
	struct tcp_stack *tcp;
	struct shunt_pbuf *loop_head;	/* datagrams to our own addresses, for the next poll round */
	struct shunt_pbuf *loop_tail;
	void (*kick)(void *arg);	/* asks whoever polls to poll soon */
	uint64_t wake_at;		/* the poller sleeps until then on interrupts (0: not asleep) */
	int ints_armed;			/* netifs whose receive interrupt is armed (the first ones) */
	int tx_pressure;		/* netifs under transmit back-pressure */
	void *kick_arg;
	uint64_t rng;			/* xorshift state, seeded from cfg.seed */
	uint8_t secret[16];		/* keys ISNs and SYN cookies */
	struct shunt_stats stats;
};

#define STAT_INC(s, name)	((s)->stats.name++)
#define STAT_ADD(s, name, n)	((s)->stats.name += (n))

static inline uint64_t
stack_now(struct shunt_stack *s)
{
	return s->now;
}

static inline uint64_t
stack_refresh_now(struct shunt_stack *s)
{
	s->now = s->clock.now_ns(s->clock.ctx);
	return s->now;
}

uint64_t stack_rand(struct shunt_stack *s);
/* Disarms the receive interrupts shunt_stack_sleep_prepare armed. */
void stack_ints_disarm(struct shunt_stack *s);

/* Flushes transmit batches when called outside a poll round (end of an API call). */
static inline void
stack_api_done(struct shunt_stack *s)
{
	if (!s->in_poll)
		netif_flush_all(s);
}

/* TCP hooks the stack calls (tcp.c); TCP owns its state behind s->tcp. */
int tcp_stack_init(struct shunt_stack *s);
void tcp_stack_fini(struct shunt_stack *s);
void tcp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip);
void tcp_icmp_error(struct shunt_stack *s, uint32_t src, uint32_t dst, const uint8_t *l4, uint32_t len,
    int err, uint32_t mtu);

#endif
