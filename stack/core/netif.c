/*
 * netifs as the stack sees them: registration, IPv4 addressing, transmit
 * batching.  Below: the driver's ops table.  Above: eth.c (frames out) and
 * shunt_stack_poll (frames in).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"

struct shunt_netif *
shunt_netif_add(struct shunt_stack *s, const struct shunt_netif_ops *ops, const struct shunt_netif_info *info,
    void *priv, int *err)
{
	struct shunt_netif *nif;

	if (ops == NULL || ops->rx_burst == NULL || ops->tx_burst == NULL || info == NULL ||
	    info->mtu < 576 || info->mtu > 9000) {
		if (err != NULL)
			*err = -EINVAL;
		return NULL;
	}
	if (s->nnetifs == SHUNT_MAX_NETIFS) {
		if (err != NULL)
			*err = -ENOSPC;
		return NULL;
	}
	nif = calloc(1, sizeof(*nif));
	if (nif == NULL) {
		if (err != NULL)
			*err = -ENOMEM;
		return NULL;
	}
	nif->stack = s;
	nif->ops = ops;
	nif->priv = priv;
	nif->info = *info;
	snprintf(nif->name, sizeof(nif->name), "%s", info->name != NULL ? info->name : "netif");
	nif->info.name = nif->name;
	nif->caps = info->caps;
	nif->index = s->nnetifs;
	s->netifs[s->nnetifs++] = nif;
	return nif;
}

void
shunt_netif_remove(struct shunt_netif *nif)
{
	struct shunt_stack *s = nif->stack;
	int i;

	netif_flush(nif);
	if (s->ints_armed > 0) {
		/* The poller sleeps on this netif's descriptor: wake it to re-arm the others. */
		stack_ints_disarm(s);
		if (s->kick != NULL)
			s->kick(s->kick_arg);
	}
	arp_flush_netif(s, nif);
	shunt_pcap_detach(nif);
	for (i = 0; i < s->nnetifs; i++) {
		if (s->netifs[i] == nif) {
			s->netifs[i] = s->netifs[--s->nnetifs];
			s->netifs[i]->index = i;
			break;
		}
	}
	if (nif->ops->destroy != NULL)
		nif->ops->destroy(nif);
	shunt_netif_tx_pressure(nif, 0);
	free(nif);
}

void *
shunt_netif_priv(struct shunt_netif *nif)
{
	return nif->priv;
}

struct shunt_stack *
shunt_netif_stack(struct shunt_netif *nif)
{
	return nif->stack;
}

const struct shunt_netif_info *
shunt_netif_get_info(struct shunt_netif *nif)
{
	return &nif->info;
}

void
shunt_netif_set_caps(struct shunt_netif *nif, uint32_t caps)
{
	nif->caps = caps & nif->info.caps;
}

int
shunt_netif_set_ip4(struct shunt_netif *nif, uint32_t addr, uint32_t netmask, uint32_t gw)
{
	uint32_t hmask = ntohl(netmask);

	/* A netmask is a run of ones followed by zeros: its complement is 2^k - 1. */
	if ((~hmask & (~hmask + 1)) != 0)
		return -EINVAL;
	if (addr == 0 || addr == IP4_BCAST)
		return -EINVAL;
	if (gw != 0 && (gw & netmask) != (addr & netmask))
		return -ENETUNREACH;
	nif->ip = addr;
	nif->netmask = netmask;
	nif->gw = gw;
	nif->bcast = addr | ~netmask;
	return 0;
}

void
shunt_netif_get_ip4(struct shunt_netif *nif, uint32_t *addr, uint32_t *netmask, uint32_t *gw)
{
	if (addr != NULL)
		*addr = nif->ip;
	if (netmask != NULL)
		*netmask = nif->netmask;
	if (gw != NULL)
		*gw = nif->gw;
}

int
shunt_netif_up(struct shunt_netif *nif)
{
	if (nif->ip == 0)
		return -EADDRNOTAVAIL;
	nif->up = 1;
	stack_refresh_now(nif->stack);
	if (nif->ops->link_up != NULL && !nif->ops->link_up(nif))
		nif->announce_pending = 1;	/* a gratuitous ARP into a dead link helps nobody */
	else
		arp_announce(nif);
	stack_api_done(nif->stack);
	return 0;
}

void
shunt_netif_down(struct shunt_netif *nif)
{
	netif_flush(nif);
	nif->up = 0;
}

void
netif_flush(struct shunt_netif *nif)
{
	int n = nif->ntx, sent;

	if (n == 0)
		return;
	nif->ntx = 0;
	sent = nif->ops->tx_burst(nif, nif->txq, n);
	STAT_ADD(nif->stack, eth_tx, (uint64_t)sent);
	if (sent < n)
		STAT_ADD(nif->stack, eth_tx_drop, (uint64_t)(n - sent));
}

void
netif_flush_all(struct shunt_stack *s)
{
	int i;

	for (i = 0; i < s->nnetifs; i++)
		if (s->netifs[i]->ntx > 0)
			netif_flush(s->netifs[i]);
}

void
netif_tx(struct shunt_netif *nif, struct shunt_pbuf *frame)
{
	if (unlikely(frame->next != NULL && !(nif->info.caps & SHUNT_NETIF_CAP_MULTISEG))) {
		/* The driver takes one buffer per frame: make it one. */
		struct shunt_pbuf *flat = shunt_pbuf_clone(nif->stack, frame, SHUNT_PBUF_HEADROOM);

		if (flat == NULL || flat->next != NULL) {
			if (flat != NULL)
				shunt_pbuf_free(flat);
			shunt_pbuf_free(frame);
			STAT_INC(nif->stack, eth_drop_nobuf);
			return;
		}
		flat->ol_flags = frame->ol_flags;
		flat->tso_mss = frame->tso_mss;
		flat->l2_len = frame->l2_len;
		flat->l3_len = frame->l3_len;
		flat->l4_len = frame->l4_len;
		shunt_pbuf_free(frame);
		frame = flat;
	}
	if (unlikely(nif->pcap != NULL))
		pcap_record(nif->pcap, frame);
	nif->txq[nif->ntx++] = frame;
	if (nif->ntx == NETIF_TX_BATCH)
		netif_flush(nif);
}

struct shunt_netif *
netif_for_subnet(struct shunt_stack *s, uint32_t ip)
{
	int i;

	for (i = 0; i < s->nnetifs; i++) {
		struct shunt_netif *nif = s->netifs[i];

		if (nif->up && ((ip ^ nif->ip) & nif->netmask) == 0)
			return nif;
	}
	return NULL;
}

int
netif_is_local_ip(struct shunt_stack *s, uint32_t ip)
{
	int i;

	for (i = 0; i < s->nnetifs; i++)
		if (s->netifs[i]->ip == ip && ip != 0)
			return 1;
	return 0;
}

int
netif_is_bcast(const struct shunt_netif *nif, uint32_t ip)
{
	return ip == IP4_BCAST || (ip == nif->bcast && nif->netmask != IP4_BCAST);
}

void
shunt_netif_tx_pressure(struct shunt_netif *nif, int on)
{
	on = on != 0;
	if (nif->tx_pressure == on)
		return;
	nif->tx_pressure = on;
	nif->stack->tx_pressure += on ? 1 : -1;
}
