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

int
ip4_opts_valid(const uint8_t *b, uint8_t hlen)
{
	const uint8_t *p = b + IP4_HDR_LEN, *end = b + hlen;

	while (p < end) {
		uint8_t type = p[0], olen;

		if (type == 0)		/* end of option list */
			return 1;
		if (type == 1) {	/* no operation */
			p++;
			continue;
		}
		if (end - p < 2)
			return 0;
		olen = p[1];
		if (olen < 2 || olen > end - p)
			return 0;
		switch (type) {
		case 7:			/* record route */
		case 131:		/* loose source route */
		case 137:		/* strict source route */
			if (olen < 3 || p[2] < 4)
				return 0;
			break;
		case 68:		/* timestamp */
			if (olen < 4 || p[2] < 5)
				return 0;
			break;
		default:
			break;
		}
		p += olen;
	}
	return 1;
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
