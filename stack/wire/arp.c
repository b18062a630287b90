/*
 * ARP (RFC 826) packet: parse and emit.  Only Ethernet hardware and IPv4
 * protocol addresses exist for us; anything else is a format error.
 */
#include "wire/arp.h"
#include "wire/eth.h"

int
arp_parse(const uint8_t *b, size_t len, struct arp_pkt *a)
{
	if (len < ARP_LEN)
		return -WIRE_ESHORT;
	if (wire_get16(b) != ARP_HTYPE_ETH || wire_get16(b + 2) != ETH_TYPE_IP4 ||
	    b[4] != 6 || b[5] != 4)
		return -WIRE_EFORMAT;
	a->op = wire_get16(b + 6);
	if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
		return -WIRE_EFORMAT;
	memcpy(a->sha, b + 8, 6);
	a->spa = wire_get_addr(b + 14);
	memcpy(a->tha, b + 18, 6);
	a->tpa = wire_get_addr(b + 24);
	return ARP_LEN;
}

void
arp_emit(const struct arp_pkt *a, uint8_t *b)
{
	wire_put16(b, ARP_HTYPE_ETH);
	wire_put16(b + 2, ETH_TYPE_IP4);
	b[4] = 6;
	b[5] = 4;
	wire_put16(b + 6, a->op);
	memcpy(b + 8, a->sha, 6);
	wire_put_addr(b + 14, a->spa);
	memcpy(b + 18, a->tha, 6);
	wire_put_addr(b + 24, a->tpa);
}
