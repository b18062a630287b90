/*
 * Ethernet II header (IEEE 802.3, DIX framing).  Stateless parse/emit.
 */
#ifndef SHUNT_WIRE_ETH_H
#define SHUNT_WIRE_ETH_H

#include "wire/bytes.h"

#define ETH_HDR_LEN	14
#define ETH_TYPE_IP4	0x0800
#define ETH_TYPE_ARP	0x0806
#define ETH_TYPE_VLAN	0x8100

struct eth_hdr {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t type;
};

/* Returns the header length (14) or -WIRE_ESHORT. */
int eth_parse(const uint8_t *b, size_t len, struct eth_hdr *h);
void eth_emit(const struct eth_hdr *h, uint8_t *b);

static inline int
eth_is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static inline int
eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

#endif
