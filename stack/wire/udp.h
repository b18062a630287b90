/*
 * UDP header (RFC 768).  Stateless parse/emit.
 */
#ifndef SHUNT_WIRE_UDP_H
#define SHUNT_WIRE_UDP_H

#include "wire/bytes.h"

#define UDP_HDR_LEN 8

struct udp_hdr {
	uint16_t sport;		/* host order */
	uint16_t dport;
	uint16_t len;		/* header + data */
	uint16_t csum;
};

/* len is the IP payload length; the UDP length must fit in it. -WIRE_ESHORT / -WIRE_ELEN. */
int udp_parse(const uint8_t *b, size_t len, struct udp_hdr *h);
void udp_emit(const struct udp_hdr *h, uint8_t *b);

#endif
