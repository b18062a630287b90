/*
 * ARP packet for IPv4 over Ethernet (RFC 826).  Stateless parse/emit.
 */
#ifndef SHUNT_WIRE_ARP_H
#define SHUNT_WIRE_ARP_H

#include "wire/bytes.h"

#define ARP_LEN		28
#define ARP_HTYPE_ETH	1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2

struct arp_pkt {
	uint16_t op;
	uint8_t sha[6];		/* sender hardware address */
	uint32_t spa;		/* sender protocol address, network order */
	uint8_t tha[6];
	uint32_t tpa;
};

/* Returns ARP_LEN, -WIRE_ESHORT, or -WIRE_EFORMAT (not Ethernet/IPv4, unknown op). */
int arp_parse(const uint8_t *b, size_t len, struct arp_pkt *a);
void arp_emit(const struct arp_pkt *a, uint8_t *b);

#endif
