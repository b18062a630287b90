/*
 * ARP (RFC 826) and the IPv4 neighbour cache (RFC 1122 §2.3.2.1-2).
 * Below: eth.c.  Above: ip4.c hands packets with a next hop to arp_output().
 *
 * Entries: INCOMPLETE while a request is out (packets wait, bounded, oldest
 * dropped first); REACHABLE for arp_timeout_ms, then, if the entry was used,
 * re-probed while still in use so a busy flow never stalls on expiry; STATIC
 * entries are set by the user and never expire.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"
#include "priv/eth.h"
#include "wire/arp.h"
#include "wire/eth.h"

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void arp_timer(struct shunt_stack *s, struct shunt_timer *t);

static inline unsigned
arp_hash(uint32_t ip)
{
	return (unsigned)((ip * 2654435761u) >> 24) & (ARP_HASH - 1);
}

int
arp_init(struct shunt_stack *s)
{
	struct arp_table *t = &s->arp;
	int i;

	t->entries = calloc(ARP_MAX_ENTRIES, sizeof(*t->entries));
	if (t->entries == NULL)
		return -ENOMEM;
	for (i = ARP_MAX_ENTRIES - 1; i >= 0; i--) {
		t->entries[i].hnext = t->free;
		t->free = &t->entries[i];
		timer_init(&t->entries[i].timer, arp_timer);
	}
	return 0;
}

static void
drop_pending(struct shunt_stack *s, struct arp_entry *e)
{
	struct shunt_pbuf *p = e->pending, *n;

	for (; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		STAT_INC(s, arp_drop_unresolved);
		shunt_pbuf_free(p);
	}
	e->pending = e->pending_tail = NULL;
	e->npending = 0;
	e->pending_bytes = 0;
}

static struct arp_entry *
arp_find(struct shunt_stack *s, uint32_t ip)
{
	struct arp_entry *e;

	for (e = s->arp.hash[arp_hash(ip)]; e != NULL; e = e->hnext)
		if (e->ip == ip)
			return e;
	return NULL;
}

static void
arp_free_entry(struct shunt_stack *s, struct arp_entry *e)
{
	struct arp_table *t = &s->arp;
	struct arp_entry **pp = &t->hash[arp_hash(e->ip)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	timer_cancel(s, &e->timer);
	drop_pending(s, e);
	e->state = ARP_FREE;
	e->hnext = t->free;
	t->free = e;
	t->used--;
}

static struct arp_entry *
arp_new_entry(struct shunt_stack *s, uint32_t ip, struct shunt_netif *nif)
{
	struct arp_table *t = &s->arp;
	struct arp_entry *e = t->free;
	unsigned h;

	if (e == NULL) {
		/* Table full: recycle a dynamic entry, preferring one that is not resolving. */
		int i;

		for (i = 0; i < ARP_MAX_ENTRIES; i++) {
			e = &t->entries[(stack_rand(s) + (unsigned)i) % ARP_MAX_ENTRIES];
			if (e->state == ARP_REACHABLE)
				break;
		}
		if (i == ARP_MAX_ENTRIES)
			return NULL;
		arp_free_entry(s, e);
	}
	t->free = e->hnext;
	t->used++;
	h = arp_hash(ip);
	memset(e->mac, 0, 6);
	e->ip = ip;
	e->nif = nif;
	e->retries = 0;
	e->pending = e->pending_tail = NULL;
	e->npending = 0;
	e->pending_bytes = 0;
	e->hnext = t->hash[h];
	t->hash[h] = e;
	return e;
}

void
arp_fini(struct shunt_stack *s)
{
	int i;

	if (s->arp.entries == NULL)
		return;
	for (i = 0; i < ARP_MAX_ENTRIES; i++)
		if (s->arp.entries[i].state != ARP_FREE)
			arp_free_entry(s, &s->arp.entries[i]);
	free(s->arp.entries);
	s->arp.entries = NULL;
}

void
arp_flush_netif(struct shunt_stack *s, struct shunt_netif *nif)
{
	int i;

	for (i = 0; s->arp.entries != NULL && i < ARP_MAX_ENTRIES; i++)
		if (s->arp.entries[i].state != ARP_FREE && s->arp.entries[i].nif == nif)
			arp_free_entry(s, &s->arp.entries[i]);
}

static void
arp_send(struct shunt_netif *nif, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha, uint32_t tpa)
{
	struct shunt_stack *s = nif->stack;
	struct shunt_pbuf *p = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM, ARP_LEN);
	struct arp_pkt a;

	if (p == NULL) {
		STAT_INC(s, eth_drop_nobuf);
		return;
	}
	a.op = op;
	memcpy(a.sha, nif->info.mac, 6);
	a.spa = nif->ip;
	memcpy(a.tha, tha, 6);
	a.tpa = tpa;
	arp_emit(&a, p->payload);
	if (op == ARP_OP_REQUEST)
		STAT_INC(s, arp_tx_request);
	else
		STAT_INC(s, arp_tx_reply);
	eth_output(nif, p, eth_dst, ETH_TYPE_ARP);
}

static void
arp_request(struct shunt_netif *nif, uint32_t ip)
{
	static const uint8_t zero[6];

	arp_send(nif, ARP_OP_REQUEST, bcast_mac, zero, ip);
}

void
arp_announce(struct shunt_netif *nif)
{
	/* Gratuitous ARP (RFC 5227 §3): a request for our own address, announcing it. */
	static const uint8_t zero[6];

	arp_send(nif, ARP_OP_REQUEST, bcast_mac, zero, nif->ip);
}

static void
flush_pending(struct shunt_stack *s, struct arp_entry *e)
{
	struct shunt_pbuf *p = e->pending, *n;

	e->pending = e->pending_tail = NULL;
	e->npending = 0;
	e->pending_bytes = 0;
	for (; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		eth_output(e->nif, p, e->mac, ETH_TYPE_IP4);
	}
	(void)s;
}

static void
arp_set_reachable(struct shunt_stack *s, struct arp_entry *e, const uint8_t mac[6])
{
	memcpy(e->mac, mac, 6);
	if (e->state == ARP_STATIC)
		return;
	e->state = ARP_REACHABLE;
	e->retries = 0;
	e->used = 0;
	timer_arm(s, &e->timer, (uint64_t)s->cfg.arp_timeout_ms * 1000000ull);
	flush_pending(s, e);
}

static void
arp_timer(struct shunt_stack *s, struct shunt_timer *t)
{
	struct arp_entry *e = (struct arp_entry *)((char *)t - offsetof(struct arp_entry, timer));

	if (e->state == ARP_INCOMPLETE || (e->state == ARP_REACHABLE && e->retries > 0)) {
		if (e->retries >= s->cfg.arp_max_retries) {
			arp_free_entry(s, e);
			return;
		}
	} else if (e->state != ARP_REACHABLE) {
		return;
	} else if (!e->used) {
		/* Aged out and idle: forget it; the next packet resolves afresh. */
		arp_free_entry(s, e);
		return;
	}
	/* Resolving, or a reachable entry that aged out: ask (again). */
	e->retries++;
	arp_request(e->nif, e->ip);
	timer_arm(s, &e->timer, (uint64_t)s->cfg.arp_retry_ms * 1000000ull);
}

void
arp_input(struct shunt_netif *nif, struct shunt_pbuf *p)
{
	struct shunt_stack *s = nif->stack;
	struct arp_entry *e;
	struct arp_pkt a;
	int for_us;

	STAT_INC(s, arp_rx);
	if ((p->len < ARP_LEN && shunt_pbuf_pullup(p, ARP_LEN) != 0) || arp_parse(p->payload, p->len, &a) < 0) {
		STAT_INC(s, arp_drop_malformed);
		goto out;
	}
	/* Senders that cannot be: broadcast/multicast MACs, zero or broadcast IPs (RFC 1122 §2.3.2.2). */
	if (eth_is_multicast(a.sha) || a.spa == IP4_BCAST || netif_is_bcast(nif, a.spa)) {
		STAT_INC(s, arp_drop_malformed);
		goto out;
	}
	if (a.spa == nif->ip && nif->ip != 0) {
		/* Someone else claims our address. */
		STAT_INC(s, arp_drop_conflict);
		goto out;
	}
	for_us = nif->ip != 0 && a.tpa == nif->ip;
	/* RFC 826 merge: update an entry we hold; add one if the packet is for us. */
	if (a.spa != 0) {
		e = arp_find(s, a.spa);
		if (e != NULL && e->state != ARP_STATIC) {
			e->nif = nif;
			arp_set_reachable(s, e, a.sha);
		} else if (e == NULL && for_us) {
			e = arp_new_entry(s, a.spa, nif);
			if (e != NULL)
				arp_set_reachable(s, e, a.sha);
		}
	}
	if (for_us && a.op == ARP_OP_REQUEST)
		arp_send(nif, ARP_OP_REPLY, a.sha, a.sha, a.spa);
out:
	shunt_pbuf_free(p);
}

void
arp_output(struct shunt_netif *nif, struct shunt_pbuf *p, uint32_t nexthop)
{
	struct shunt_stack *s = nif->stack;
	struct arp_entry *e;

	if (netif_is_bcast(nif, nexthop)) {
		eth_output(nif, p, bcast_mac, ETH_TYPE_IP4);
		return;
	}
	e = arp_find(s, nexthop);
	if (likely(e != NULL && e->state >= ARP_REACHABLE)) {
		e->used = 1;
		eth_output(nif, p, e->mac, ETH_TYPE_IP4);
		return;
	}
	if (e == NULL) {
		e = arp_new_entry(s, nexthop, nif);
		if (e == NULL) {
			STAT_INC(s, arp_drop_queue_full);
			shunt_pbuf_free(p);
			return;
		}
		e->state = ARP_INCOMPLETE;
		e->retries = 1;
		arp_request(nif, nexthop);
		timer_arm(s, &e->timer, (uint64_t)s->cfg.arp_retry_ms * 1000000ull);
	}
	/* Bounded in packets and in bytes; the oldest make way (Linux: unres_qlen_bytes). */
	while (e->pending != NULL && (e->npending >= s->cfg.arp_queue_len ||
	    e->pending_bytes + p->tot_len > s->cfg.arp_queue_bytes)) {
		struct shunt_pbuf *old = e->pending;

		e->pending = old->qnext;
		old->qnext = NULL;
		e->npending--;
		e->pending_bytes -= old->tot_len;
		STAT_INC(s, arp_drop_queue_full);
		shunt_pbuf_free(old);
		if (e->pending == NULL)
			e->pending_tail = NULL;
	}
	p->qnext = NULL;
	if (e->pending_tail != NULL)
		e->pending_tail->qnext = p;
	else
		e->pending = p;
	e->pending_tail = p;
	e->npending++;
	e->pending_bytes += p->tot_len;
}

int
shunt_arp_add_static(struct shunt_stack *s, uint32_t ip, const uint8_t mac[6])
{
	struct arp_entry *e = arp_find(s, ip);
	struct shunt_netif *nif = netif_for_subnet(s, ip);

	if (ip == 0 || ip == IP4_BCAST || eth_is_multicast(mac))
		return -EINVAL;
	if (nif == NULL && s->nnetifs > 0)
		nif = s->netifs[0];
	if (nif == NULL)
		return -ENODEV;
	if (e == NULL) {
		e = arp_new_entry(s, ip, nif);
		if (e == NULL)
			return -ENOSPC;
	}
	timer_cancel(s, &e->timer);
	memcpy(e->mac, mac, 6);
	e->state = ARP_STATIC;
	e->nif = nif;
	flush_pending(s, e);
	stack_api_done(s);
	return 0;
}

int
shunt_arp_remove(struct shunt_stack *s, uint32_t ip)
{
	struct arp_entry *e = arp_find(s, ip);

	if (e == NULL)
		return -ENOENT;
	arp_free_entry(s, e);
	return 0;
}

int
shunt_arp_lookup(struct shunt_stack *s, uint32_t ip, uint8_t mac[6])
{
	struct arp_entry *e = arp_find(s, ip);

	if (e == NULL || e->state < ARP_REACHABLE)
		return -ENOENT;
	memcpy(mac, e->mac, 6);
	return 0;
}
