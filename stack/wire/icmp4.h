/*
 * ICMPv4 header (RFC 792).  Stateless parse/emit of the fixed 8 bytes; the
 * checksum covers the whole message and is checked by the caller over the pbuf.
 */
#ifndef SHUNT_WIRE_ICMP4_H
#define SHUNT_WIRE_ICMP4_H

#include "wire/bytes.h"

#define ICMP4_HDR_LEN		8
#define ICMP4_ECHO_REPLY	0
#define ICMP4_DEST_UNREACH	3
#define ICMP4_SOURCE_QUENCH	4
#define ICMP4_ECHO		8
#define ICMP4_TIME_EXCEEDED	11
#define ICMP4_PARAM_PROBLEM	12
/* Destination unreachable codes */
#define ICMP4_NET_UNREACH	0
#define ICMP4_HOST_UNREACH	1
#define ICMP4_PROTO_UNREACH	2
#define ICMP4_PORT_UNREACH	3
#define ICMP4_FRAG_NEEDED	4

struct icmp4_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest;		/* id/seq for echo, next-hop MTU for frag-needed */
};

int icmp4_parse(const uint8_t *b, size_t len, struct icmp4_hdr *h);
/* Writes the header with checksum 0; the caller sums the message and stores it. */
void icmp4_emit(const struct icmp4_hdr *h, uint8_t *b);

#endif
