/*
 * IPv4 (RFC 791, RFC 1122 §3.2): input validation and demultiplexing, routing
 * (subnet routes of the netifs and one default gateway), output with
 * fragmentation, and reassembly (ip4_frag.c).
 */
#ifndef SHUNT_PRIV_IP4_H
#define SHUNT_PRIV_IP4_H

#include <shunt/pbuf.h>
#include "priv/timer.h"

struct shunt_netif;
struct shunt_stack;

/* What the upper layer learns about a received datagram; p->payload is at the L4 header. */
struct ip4_rx {
	struct shunt_netif *nif;
	uint32_t src, dst;		/* network order */
	uint16_t len;			/* L4 bytes (p->tot_len) */
	uint8_t proto, ttl, tos, hlen;
	uint8_t bcast;			/* sent to a broadcast address */
};

struct ip4_route {
	struct shunt_netif *nif;
	uint32_t nexthop;
	uint32_t src;
	int local;			/* to one of our own addresses: looped back, never on the wire */
};

struct ip4_tx {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint8_t df;
};

#define IP4_BCAST	0xffffffffu

void ip4_input(struct shunt_netif *nif, struct shunt_pbuf *p);
/* Delivers datagrams sent to our own addresses; returns how many. */
int ip4_loopback_run(struct shunt_stack *s, int max);
/* -ENETUNREACH if no netif can reach dst. */
int ip4_route_lookup(struct shunt_stack *s, uint32_t dst, struct ip4_route *rt);
/*
 * Prepends the IPv4 header (into headroom or a new pbuf), fragments if the
 * datagram exceeds the MTU (unless df: -EMSGSIZE), and sends.  Consumes p.
 */
int ip4_output(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_tx *tx, const struct ip4_route *rt);
/* Bytes an upper layer must leave in front of its header. */
#define IP4_LINK_HEADROOM (14 + 20)

/* Reassembly (ip4_frag.c). */
struct reass_entry;
#define REASS_HASH 256
struct ip4_reass {
	struct reass_entry *hash[REASS_HASH];
	struct reass_entry *head;	/* oldest first */
	struct reass_entry *tail;
	uint32_t bytes;			/* charged to the memory bound */
	uint32_t count;
};
int ip4_reass_init(struct shunt_stack *s);
void ip4_reass_fini(struct shunt_stack *s);
/*
 * Takes a fragment (p->payload at the IP header).  Returns the whole datagram
 * once complete (payload at the first fragment's IP header, *h describing it
 * as unfragmented), else NULL.
 */
struct ip4_hdr;
struct shunt_pbuf *ip4_reass(struct shunt_stack *s, struct shunt_pbuf *p, struct ip4_hdr *h);

#endif
