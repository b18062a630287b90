/*
 * ICMPv4 (RFC 792; RFC 1122 §3.2.2).  Below: ip4.c.  Above: udp.c and tcp
 * receive the errors that quote their datagrams.
 *
 * Errors we send are rate-limited by one token bucket per stack (Linux's
 * icmp_msgs_per_sec / icmp_msgs_burst) and never sent about ICMP errors,
 * broadcasts or martian sources (RFC 1122 §3.2.2).  Echo requests to a
 * broadcast address are ignored, as Linux does by default.
 */
#include <errno.h>
#include <string.h>
#include "priv/stack.h"
#include "wire/csum.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

#define ICMP_QUOTE_MAX	(576 - IP4_HDR_LEN - ICMP4_HDR_LEN)

static int
icmp_is_error(uint8_t type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH || type == ICMP4_TIME_EXCEEDED ||
	    type == ICMP4_PARAM_PROBLEM || type == 5 /* redirect */;
}

static void
icmp_echo(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip)
{
	struct ip4_route rt;
	struct ip4_tx tx;
	struct shunt_pbuf *r;
	uint32_t sum;

	if (ip->bcast || ip4_route_lookup(s, ip->src, &rt) != 0) {
		shunt_pbuf_free(p);
		return;
	}
	if (p->next == NULL && p->refcnt == 1 && p->kind != SHUNT_PBUF_REF) {
		r = p;		/* answer in the request's own buffer */
	} else {
		r = shunt_pbuf_clone(s, p, SHUNT_PBUF_HEADROOM);
		shunt_pbuf_free(p);
		if (r == NULL) {
			STAT_INC(s, ip_drop_nobuf);
			return;
		}
	}
	r->ol_flags = 0;
	r->payload[0] = ICMP4_ECHO_REPLY;
	r->payload[2] = 0;
	r->payload[3] = 0;
	sum = csum_fold(csum_pbuf(0, r, 0, r->tot_len));
	wire_put16(r->payload + 2, (uint16_t)sum);
	tx.src = ip->dst;
	tx.dst = ip->src;
	tx.proto = IP4_PROTO_ICMP;
	tx.ttl = s->cfg.ip_ttl;
	tx.tos = ip->tos;
	tx.df = 0;
	STAT_INC(s, icmp_echo_reply);
	STAT_INC(s, icmp_tx);
	ip4_output(s, r, &tx, &rt);
}

static int
icmp_errno(uint8_t type, uint8_t code)
{
	if (type == ICMP4_DEST_UNREACH) {
		switch (code) {
		case ICMP4_NET_UNREACH:
			return ENETUNREACH;
		case ICMP4_PROTO_UNREACH:
			return ENOPROTOOPT;
		case ICMP4_PORT_UNREACH:
			return ECONNREFUSED;
		case ICMP4_FRAG_NEEDED:
			return EMSGSIZE;
		default:
			return EHOSTUNREACH;
		}
	}
	if (type == ICMP4_PARAM_PROBLEM)
		return EPROTO;
	return EHOSTUNREACH;
}

static void
icmp_error_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct icmp4_hdr *h)
{
	uint8_t q[IP4_HDR_LEN + 60 + 8];
	uint32_t n = shunt_pbuf_copy_out(p, ICMP4_HDR_LEN, q, sizeof(q));
	struct ip4_hdr qh;
	uint32_t hl;

	/* The quote: the offending IP header and at least 8 bytes of what followed it. */
	if (n < IP4_HDR_LEN || (q[0] >> 4) != 4) {
		STAT_INC(s, icmp_drop_malformed);
		return;
	}
	hl = (uint32_t)(q[0] & 0x0f) * 4;
	if (hl < IP4_HDR_LEN || n < hl + 8) {
		STAT_INC(s, icmp_drop_malformed);
		return;
	}
	qh.src = wire_get_addr(q + 12);
	qh.dst = wire_get_addr(q + 16);
	qh.proto = q[9];
	/* Only errors about datagrams we sent concern us. */
	if (!netif_is_local_ip(s, qh.src)) {
		STAT_INC(s, icmp_drop_malformed);
		return;
	}
	STAT_INC(s, icmp_err_rx);
	if (h->type == ICMP4_SOURCE_QUENCH || h->type == 5)
		return;		/* deprecated (RFC 6633) / we do not follow redirects */
	if (qh.proto == IP4_PROTO_UDP)
		udp_icmp_error(s, qh.src, qh.dst, q + hl, n - hl, icmp_errno(h->type, h->code));
	else if (qh.proto == IP4_PROTO_TCP)
		tcp_icmp_error(s, qh.src, qh.dst, q + hl, n - hl, icmp_errno(h->type, h->code),
		    h->type == ICMP4_DEST_UNREACH && h->code == ICMP4_FRAG_NEEDED ? (h->rest & 0xffff) : 0);
}

void
icmp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip)
{
	struct icmp4_hdr h;

	STAT_INC(s, icmp_rx);
	if ((p->len < ICMP4_HDR_LEN && shunt_pbuf_pullup(p, ICMP4_HDR_LEN) != 0) ||
	    icmp4_parse(p->payload, p->len, &h) < 0) {
		STAT_INC(s, icmp_drop_malformed);
		goto drop;
	}
	if (csum_fold(csum_pbuf(0, p, 0, p->tot_len)) != 0) {
		STAT_INC(s, icmp_drop_csum);
		goto drop;
	}
	if (h.type == ICMP4_ECHO) {
		icmp_echo(s, p, ip);
		return;
	}
	if (icmp_is_error(h.type) && !ip->bcast)
		icmp_error_input(s, p, &h);
drop:
	shunt_pbuf_free(p);
}

static int
icmp_ratelimit_ok(struct shunt_stack *s)
{
	struct icmp_state *st = &s->icmp;
	uint64_t cost = 1000000000ull / s->cfg.icmp_rate_per_sec;
	uint64_t cap = cost * s->cfg.icmp_burst;

	if (st->last == 0)
		st->tokens_ns = cap;
	else
		st->tokens_ns += s->now - st->last;
	st->last = s->now;
	if (st->tokens_ns > cap)
		st->tokens_ns = cap;
	if (st->tokens_ns < cost)
		return 0;
	st->tokens_ns -= cost;
	return 1;
}

void
icmp_send_error(struct shunt_stack *s, struct shunt_pbuf *orig, const struct ip4_rx *ip, uint8_t type, uint8_t code)
{
	struct ip4_route rt;
	struct icmp4_hdr h;
	struct ip4_tx tx;
	struct shunt_pbuf *r;
	uint32_t qlen, sum;
	uint8_t first = ((const uint8_t *)&ip->src)[0];

	if (ip->bcast || ip->src == 0 || ip->src == IP4_BCAST || first >= 224 || first == 127)
		return;
	/* Never an error about an ICMP error (RFC 1122 §3.2.2). */
	if (ip->proto == IP4_PROTO_ICMP && (orig->len < 1 || icmp_is_error(orig->payload[0])))
		return;
	if (!icmp_ratelimit_ok(s)) {
		STAT_INC(s, icmp_drop_ratelimit);
		return;
	}
	if (ip4_route_lookup(s, ip->src, &rt) != 0)
		return;
	qlen = ip->hlen + orig->tot_len;
	if (qlen > ICMP_QUOTE_MAX)
		qlen = ICMP_QUOTE_MAX;
	r = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM, ICMP4_HDR_LEN + qlen);
	if (r == NULL) {
		STAT_INC(s, ip_drop_nobuf);
		return;
	}
	h.type = type;
	h.code = code;
	h.csum = 0;
	h.rest = 0;
	icmp4_emit(&h, r->payload);
	/* The offending IP header sits right in front of the L4 payload we were given. */
	if (shunt_pbuf_header(orig, ip->hlen) != 0) {
		shunt_pbuf_free(r);
		return;
	}
	shunt_pbuf_copy_out(orig, 0, r->payload + ICMP4_HDR_LEN, qlen);
	shunt_pbuf_header(orig, -(int)ip->hlen);
	sum = csum_fold(csum_pbuf(0, r, 0, r->tot_len));
	wire_put16(r->payload + 2, (uint16_t)sum);
	tx.src = ip->dst;
	tx.dst = ip->src;
	tx.proto = IP4_PROTO_ICMP;
	tx.ttl = s->cfg.ip_ttl;
	tx.tos = 0;
	tx.df = 0;
	if (type == ICMP4_DEST_UNREACH)
		STAT_INC(s, icmp_unreach_tx);
	STAT_INC(s, icmp_tx);
	ip4_output(s, r, &tx, &rt);
}
