/*
 * UDP header (RFC 768): parse and emit.  A length field larger than the IP
 * payload, or smaller than the header, is a lie and the datagram is dropped.
 */
#include "wire/udp.h"

int
udp_parse(const uint8_t *b, size_t len, struct udp_hdr *h)
{
	if (len < UDP_HDR_LEN)
		return -WIRE_ESHORT;
	h->sport = wire_get16(b);
	h->dport = wire_get16(b + 2);
	h->len = wire_get16(b + 4);
	h->csum = wire_get16(b + 6);
	if (h->len < UDP_HDR_LEN || h->len > len)
		return -WIRE_ELEN;
	return UDP_HDR_LEN;
}

void
udp_emit(const struct udp_hdr *h, uint8_t *b)
{
	wire_put16(b, h->sport);
	wire_put16(b + 2, h->dport);
	wire_put16(b + 4, h->len);
	wire_put16(b + 6, h->csum);
}
