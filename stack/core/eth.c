/*
 * Ethernet: demultiplexes received frames to ARP and IPv4, frames outgoing
 * packets.  Below: netif.c.  Above: arp.c, ip4.c.
 */
#include <string.h>
#include "priv/stack.h"
#include "priv/eth.h"
#include "wire/eth.h"

void
eth_input(struct shunt_netif *nif, struct shunt_pbuf *p)
{
	struct shunt_stack *s = nif->stack;
	struct eth_hdr h;

	STAT_INC(s, eth_rx);
	if (unlikely(p->len < ETH_HDR_LEN) && shunt_pbuf_pullup(p, ETH_HDR_LEN) != 0) {
		STAT_INC(s, eth_drop_short);
		goto drop;
	}
	eth_parse(p->payload, p->len, &h);
	if (memcmp(h.dst, nif->info.mac, 6) != 0 && !eth_is_broadcast(h.dst)) {
		STAT_INC(s, eth_drop_dst);
		goto drop;
	}
	if (!nif->up) {
		STAT_INC(s, eth_drop_dst);
		goto drop;
	}
	shunt_pbuf_header(p, -ETH_HDR_LEN);
	switch (h.type) {
	case ETH_TYPE_IP4:
		ip4_input(nif, p);
		return;
	case ETH_TYPE_ARP:
		arp_input(nif, p);
		return;
	default:
		STAT_INC(s, eth_drop_type);
		goto drop;
	}
drop:
	shunt_pbuf_free(p);
}

void
eth_output(struct shunt_netif *nif, struct shunt_pbuf *p, const uint8_t dst[6], uint16_t type)
{
	struct eth_hdr h;

	if (shunt_pbuf_header(p, ETH_HDR_LEN) != 0) {
		struct shunt_pbuf *hp = shunt_pbuf_alloc(nif->stack, 0, ETH_HDR_LEN);

		if (hp == NULL) {
			STAT_INC(nif->stack, eth_drop_nobuf);
			shunt_pbuf_free(p);
			return;
		}
		hp->ol_flags = p->ol_flags;
		hp->tso_mss = p->tso_mss;
		hp->l3_len = p->l3_len;
		hp->l4_len = p->l4_len;
		shunt_pbuf_cat(hp, p);
		p = hp;
	}
	memcpy(h.dst, dst, 6);
	memcpy(h.src, nif->info.mac, 6);
	h.type = type;
	eth_emit(&h, p->payload);
	p->l2_len = ETH_HDR_LEN;
	netif_tx(nif, p);
}
