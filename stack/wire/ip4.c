/*
 * IPv4 header parse and emit (RFC 791 §3.1; RFC 1122 §3.2.1.1-3.2.1.8).
 * Options are skipped: we never act on them (source routes are a known hazard,
 * RFC 1122 §3.2.1.8 lets a host ignore what it does not implement).
 */
#include "wire/ip4.h"
#include "wire/csum.h"

int
ip4_parse(const uint8_t *b, size_t len, struct ip4_hdr *h, int skip_csum)
{
	if (len < IP4_HDR_LEN)
		return -WIRE_ESHORT;
	if ((b[0] >> 4) != 4)
		return -WIRE_EVERSION;
	h->hlen = (uint8_t)((b[0] & 0x0f) * 4);
	if (h->hlen < IP4_HDR_LEN)
		return -WIRE_EHLEN;
	if (h->hlen > len)
		return -WIRE_ESHORT;
	h->tot_len = wire_get16(b + 2);
	if (h->tot_len < h->hlen)
		return -WIRE_ELEN;
	if (h->tot_len > len)
		return -WIRE_ESHORT;
	if (!skip_csum && csum_fold(csum_add(0, b, h->hlen)) != 0)
		return -WIRE_ECSUM;
	h->tos = b[1];
	h->id = wire_get16(b + 4);
	h->frag = wire_get16(b + 6);
	h->ttl = b[8];
	h->proto = b[9];
	h->csum = wire_get16(b + 10);
	h->src = wire_get_addr(b + 12);
	h->dst = wire_get_addr(b + 16);
	/* The reserved flag must be zero (RFC 791). */
	if (h->frag & 0x8000)
		return -WIRE_EFORMAT;
	return h->hlen;
}

void
ip4_emit(const struct ip4_hdr *h, uint8_t *b, int no_csum)
{
	b[0] = 0x45;
	b[1] = h->tos;
	wire_put16(b + 2, h->tot_len);
	wire_put16(b + 4, h->id);
	wire_put16(b + 6, h->frag);
	b[8] = h->ttl;
	b[9] = h->proto;
	b[10] = 0;
	b[11] = 0;
	wire_put_addr(b + 12, h->src);
	wire_put_addr(b + 16, h->dst);
	if (!no_csum)
		wire_put16(b + 10, csum_fold(csum_add(0, b, IP4_HDR_LEN)));
}
