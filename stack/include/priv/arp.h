/*
 * ARP (RFC 826) and neighbour cache for IPv4 next hops (RFC 1122 §2.3.2).
 */
#ifndef SHUNT_PRIV_ARP_H
#define SHUNT_PRIV_ARP_H

#include <shunt/pbuf.h>
#include "priv/timer.h"

struct shunt_netif;

enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE,		/* request sent, packets waiting */
	ARP_REACHABLE,
	ARP_STATIC,
};

struct arp_entry {
	struct arp_entry *hnext;	/* hash chain */
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;
	uint8_t retries;
	uint8_t used;			/* sent through since it was last confirmed */
	struct shunt_netif *nif;
	struct shunt_pbuf *pending;	/* packets waiting, linked by qnext */
	struct shunt_pbuf *pending_tail;
	uint32_t npending;
	uint32_t pending_bytes;
	uint64_t expires;
	struct shunt_timer timer;
};

#define ARP_HASH	256
#define ARP_MAX_ENTRIES	1024

struct arp_table {
	struct arp_entry *hash[ARP_HASH];
	struct arp_entry *entries;	/* ARP_MAX_ENTRIES of them */
	struct arp_entry *free;
	uint32_t used;
};

int arp_init(struct shunt_stack *s);
void arp_fini(struct shunt_stack *s);
void arp_input(struct shunt_netif *nif, struct shunt_pbuf *p);
/*
 * Sends IP packet p to next hop `nexthop` on nif, resolving it first if
 * needed (the packet waits, bounded).  Consumes p.
 */
void arp_output(struct shunt_netif *nif, struct shunt_pbuf *p, uint32_t nexthop);
void arp_announce(struct shunt_netif *nif);
/* Forget everything learnt through nif (netif going away). */
void arp_flush_netif(struct shunt_stack *s, struct shunt_netif *nif);

#endif
