/*
 * ICMPv4 fixed header (RFC 792): parse and emit.
 */
#include "wire/icmp4.h"

int
icmp4_parse(const uint8_t *b, size_t len, struct icmp4_hdr *h)
{
	if (len < ICMP4_HDR_LEN)
		return -WIRE_ESHORT;
	h->type = b[0];
	h->code = b[1];
	h->csum = wire_get16(b + 2);
	h->rest = wire_get32(b + 4);
	return ICMP4_HDR_LEN;
}

void
icmp4_emit(const struct icmp4_hdr *h, uint8_t *b)
{
	b[0] = h->type;
	b[1] = h->code;
	wire_put16(b + 2, 0);
	wire_put32(b + 4, h->rest);
}
