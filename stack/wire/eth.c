/*
 * Ethernet II header: parse and emit.  Called by stack/core/eth.c.
 */
#include "wire/eth.h"

int
eth_parse(const uint8_t *b, size_t len, struct eth_hdr *h)
{
	if (len < ETH_HDR_LEN)
		return -WIRE_ESHORT;
	memcpy(h->dst, b, 6);
	memcpy(h->src, b + 6, 6);
	h->type = wire_get16(b + 12);
	return ETH_HDR_LEN;
}

void
eth_emit(const struct eth_hdr *h, uint8_t *b)
{
	memcpy(b, h->dst, 6);
	memcpy(b + 6, h->src, 6);
	wire_put16(b + 12, h->type);
}
