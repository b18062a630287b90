/*
 * IPv4 (RFC 791; host requirements of RFC 1122 §3.2.1 and §3.3).
 * Below: eth.c (input), arp.c (output).  Above: icmp.c, udp.c, tcp_input.c.
 *
 * We are a host, not a router: datagrams not addressed to us (or to a
 * broadcast address of the receiving netif) are dropped and counted, never
 * forwarded.  Options are checked for form and otherwise skipped (RFC 1122
 * §3.2.1.8 allows ignoring those we do not implement; source routing is
 * deliberately not honoured).  A datagram off the wire that claims one of our
 * own addresses as its source is forged (a "land" attack): answering it would
 * talk to ourselves through the loopback queue, forever for TCP.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "priv/stack.h"
#include "wire/ip4.h"
#include "wire/icmp4.h"

static int
martian_src(uint32_t src)
{
	uint8_t first = ((const uint8_t *)&src)[0];

	/*
	 * Broadcast, multicast, class E, loopback and "this network" (0/8)
	 * never come off a wire as a source (RFC 1122 §3.2.1.3).
	 */
	return src == IP4_BCAST || first >= 224 || first == 127 || first == 0;
}

static int
own_address(const struct shunt_stack *s, uint32_t addr)
{
	int i;

	for (i = 0; i < s->nnetifs; i++)
		if (s->netifs[i]->ip == addr && addr != 0)
			return 1;
	return 0;
}

static void ip4_input_one(struct shunt_netif *nif, struct shunt_pbuf *p, int looped);

void
ip4_input(struct shunt_netif *nif, struct shunt_pbuf *p)
{
	ip4_input_one(nif, p, 0);
}

/* looped: the datagram is one of ours, from the loopback queue, not from a wire. */
static void
ip4_input_one(struct shunt_netif *nif, struct shunt_pbuf *p, int looped)
{
	struct shunt_stack *s = nif->stack;
	struct ip4_hdr h;
	struct ip4_rx rx;
	int hl;

	STAT_INC(s, ip_rx);
	if (unlikely(p->len < IP4_HDR_LEN) && shunt_pbuf_pullup(p, IP4_HDR_LEN) != 0) {
		STAT_INC(s, ip_drop_short);
		goto drop;
	}
	hl = (p->payload[0] & 0x0f) * 4;
	if (unlikely(hl > p->len) && shunt_pbuf_pullup(p, (uint32_t)hl) != 0) {
		STAT_INC(s, ip_drop_hlen);
		goto drop;
	}
	/* Parse against the whole packet length; the header itself is contiguous now. */
	hl = ip4_parse(p->payload, p->tot_len, &h, p->ol_flags & SHUNT_PBUF_RX_IP4_OK);
	if (unlikely(hl < 0)) {
		switch (-hl) {
		case WIRE_EVERSION:
			STAT_INC(s, ip_drop_version);
			break;
		case WIRE_EHLEN:
			STAT_INC(s, ip_drop_hlen);
			break;
		case WIRE_ELEN:
		case WIRE_EFORMAT:
			STAT_INC(s, ip_drop_len);
			break;
		case WIRE_ECSUM:
			STAT_INC(s, ip_drop_csum);
			break;
		default:
			STAT_INC(s, ip_drop_short);
			break;
		}
		goto drop;
	}
	/* Ethernet pads short frames: the IP total length is the truth. */
	if (p->tot_len > h.tot_len)
		shunt_pbuf_trim(p, h.tot_len);
	if (unlikely(martian_src(h.src)) || (unlikely(own_address(s, h.src)) && !looped)) {
		STAT_INC(s, ip_drop_src);
		goto drop;
	}
	if (unlikely(hl > IP4_HDR_LEN) && !ip4_opts_valid(p->payload, (uint8_t)hl)) {
		STAT_INC(s, ip_drop_options);
		goto drop;
	}
	rx.bcast = 0;
	if (unlikely(h.dst != nif->ip)) {
		if (!netif_is_bcast(nif, h.dst)) {
			STAT_INC(s, ip_drop_not_ours);
			goto drop;
		}
		rx.bcast = 1;
	}
	if (unlikely(h.frag & (IP4_FLAG_MF | IP4_OFF_MASK))) {
		STAT_INC(s, ip_frag_rx);
		p = ip4_reass(s, p, &h);
		if (p == NULL)
			return;
		hl = h.hlen;
	}
	shunt_pbuf_header(p, -hl);
	rx.nif = nif;
	rx.src = h.src;
	rx.dst = h.dst;
	rx.len = (uint16_t)(h.tot_len - hl);
	rx.proto = h.proto;
	rx.ttl = h.ttl;
	rx.tos = h.tos;
	rx.hlen = (uint8_t)hl;
	switch (h.proto) {
	case IP4_PROTO_TCP:
		tcp_input(s, p, &rx);
		return;
	case IP4_PROTO_UDP:
		udp_input(s, p, &rx);
		return;
	case IP4_PROTO_ICMP:
		icmp_input(s, p, &rx);
		return;
	default:
		STAT_INC(s, ip_drop_proto);
		if (!rx.bcast)
			icmp_send_error(s, p, &rx, ICMP4_DEST_UNREACH, ICMP4_PROTO_UNREACH);
		goto drop;
	}
drop:
	shunt_pbuf_free(p);
}

int
ip4_route_lookup(struct shunt_stack *s, uint32_t dst, struct ip4_route *rt)
{
	struct shunt_netif *nif;
	int i;

	rt->local = 0;
	if (dst == IP4_BCAST) {
		/* Limited broadcast leaves through the first interface that is up. */
		for (i = 0; i < s->nnetifs; i++) {
			if (s->netifs[i]->up) {
				rt->nif = s->netifs[i];
				rt->nexthop = dst;
				rt->src = rt->nif->ip;
				return 0;
			}
		}
		return -ENETUNREACH;
	}
	rt->local = 0;
	for (i = 0; i < s->nnetifs; i++) {
		nif = s->netifs[i];
		if (nif->up && nif->ip == dst) {
			rt->nif = nif;
			rt->nexthop = dst;
			rt->src = dst;
			rt->local = 1;
			return 0;
		}
	}
	nif = netif_for_subnet(s, dst);
	if (nif != NULL) {
		rt->nif = nif;
		rt->nexthop = dst;
		rt->src = nif->ip;
		return 0;
	}
	for (i = 0; i < s->nnetifs; i++) {
		nif = s->netifs[i];
		if (nif->up && nif->gw != 0) {
			rt->nif = nif;
			rt->nexthop = nif->gw;
			rt->src = nif->ip;
			return 0;
		}
	}
	return -ENETUNREACH;
}

/* Puts room for an IPv4 header in front of p, in its headroom or in a new pbuf. */
static struct shunt_pbuf *
ip4_make_room(struct shunt_stack *s, struct shunt_pbuf *p)
{
	struct shunt_pbuf *hp;

	if (p->kind != SHUNT_PBUF_REF && p->refcnt == 1 && shunt_pbuf_header(p, IP4_HDR_LEN) == 0)
		return p;
	hp = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM - IP4_HDR_LEN, IP4_HDR_LEN);
	if (hp == NULL)
		return NULL;
	hp->ol_flags = p->ol_flags;
	hp->tso_mss = p->tso_mss;
	hp->l4_len = p->l4_len;
	shunt_pbuf_cat(hp, p);
	return hp;
}

static void
ip4_send_one(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_hdr *h, const struct ip4_route *rt)
{
	int offload = rt->nif->caps & SHUNT_NETIF_CAP_TX_IP4_CSUM;

	ip4_emit(h, p->payload, offload);
	if (offload)
		p->ol_flags |= SHUNT_PBUF_TX_IP4_CSUM;
	p->l3_len = IP4_HDR_LEN;
	STAT_INC(s, ip_tx);
	if (unlikely(rt->local)) {
		/* To ourselves: queue it for the next poll round, never re-entering input from here. */
		p->qnext = NULL;
		if (s->loop_tail != NULL)
			s->loop_tail->qnext = p;
		else
			s->loop_head = p;
		s->loop_tail = p;
		if (s->kick != NULL && s->loop_head == p)
			s->kick(s->kick_arg);
		return;
	}
	arp_output(rt->nif, p, rt->nexthop);
}

int
ip4_loopback_run(struct shunt_stack *s, int max)
{
	int n = 0;

	while (s->loop_head != NULL && n < max) {
		struct shunt_pbuf *p = s->loop_head;
		struct shunt_netif *nif = NULL;
		int i;

		s->loop_head = p->qnext;
		if (s->loop_head == NULL)
			s->loop_tail = NULL;
		p->qnext = NULL;
		/* Our own bytes: nothing to verify, as on Linux's loopback. */
		p->ol_flags = SHUNT_PBUF_RX_IP4_OK | SHUNT_PBUF_RX_L4_OK;
		p->tso_mss = 0;
		for (i = 0; i < s->nnetifs && nif == NULL; i++)
			if (s->netifs[i]->ip == wire_get_addr(p->payload + 16))
				nif = s->netifs[i];
		if (nif == NULL || shunt_pbuf_pullup(p, IP4_HDR_LEN) != 0) {
			shunt_pbuf_free(p);
			continue;
		}
		ip4_input_one(nif, p, 1);
		n++;
	}
	return n;
}

static int
ip4_fragment(struct shunt_stack *s, struct shunt_pbuf *p, struct ip4_hdr *h, const struct ip4_route *rt)
{
	uint32_t chunk = (rt->nif->info.mtu - IP4_HDR_LEN) & ~7u;
	uint32_t total = p->tot_len, off;

	for (off = 0; off < total; off += chunk) {
		uint32_t n = total - off < chunk ? total - off : chunk;
		struct shunt_pbuf *hp, *data;

		hp = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM - IP4_HDR_LEN, IP4_HDR_LEN);
		data = hp != NULL ? shunt_pbuf_slice(s, p, off, n) : NULL;
		if (data == NULL) {
			if (hp != NULL)
				shunt_pbuf_free(hp);
			STAT_INC(s, ip_drop_nobuf);
			shunt_pbuf_free(p);
			return -ENOBUFS;
		}
		shunt_pbuf_cat(hp, data);
		h->tot_len = (uint16_t)(IP4_HDR_LEN + n);
		h->frag = (uint16_t)((off / 8) | (off + n < total ? IP4_FLAG_MF : 0));
		STAT_INC(s, ip_frag_tx);
		ip4_send_one(s, hp, h, rt);
	}
	shunt_pbuf_free(p);
	return 0;
}

int
ip4_output(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_tx *tx, const struct ip4_route *rt)
{
	uint32_t total = IP4_HDR_LEN + p->tot_len;
	struct shunt_pbuf *hp;
	struct ip4_hdr h;

	if (total > 65535) {
		shunt_pbuf_free(p);
		return -EMSGSIZE;
	}
	h.hlen = IP4_HDR_LEN;
	h.tos = tx->tos;
	h.tot_len = (uint16_t)total;
	h.id = s->ip_id++;
	h.frag = tx->df ? IP4_FLAG_DF : 0;
	h.ttl = tx->ttl;
	h.proto = tx->proto;
	h.csum = 0;
	h.src = tx->src;
	h.dst = tx->dst;
	if (total > rt->nif->info.mtu && !(p->ol_flags & SHUNT_PBUF_TX_TSO) && !rt->local) {
		if (tx->df) {
			STAT_INC(s, ip_drop_df);
			shunt_pbuf_free(p);
			return -EMSGSIZE;
		}
		return ip4_fragment(s, p, &h, rt);
	}
	hp = ip4_make_room(s, p);
	if (hp == NULL) {
		STAT_INC(s, ip_drop_nobuf);
		shunt_pbuf_free(p);
		return -ENOBUFS;
	}
	ip4_send_one(s, hp, &h, rt);
	return 0;
}
