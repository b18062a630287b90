/*
 * Frame builders and parsers for tests: the scripted peer's hands.
 * Addresses are in network order, ports in host order.
 */
#ifndef SHUNT_TEST_PKT_H
#define SHUNT_TEST_PKT_H

#include <stdint.h>
#include <stddef.h>

struct pkt_ip {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint16_t id;
	uint16_t frag;			/* flags | offset/8 */
};

/* Ethernet + IPv4 + payload.  Returns the frame length. */
size_t pkt_ip4(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], const struct pkt_ip *ip,
    const void *payload, size_t len);
/* Ethernet + IPv4 + UDP (checksum filled) + data. */
size_t pkt_udp(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, const void *data, size_t len);
/* Ethernet + IPv4 + ICMP echo request with data (checksum filled). */
size_t pkt_ping(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint32_t src, uint32_t dst,
    uint16_t id, uint16_t seq, const void *data, size_t len);
/* Ethernet + ARP. */
size_t pkt_arp(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint16_t op,
    const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa);

/* Parsed view of a frame the stack sent. */
struct pkt_view {
	uint16_t eth_type;
	uint8_t dmac[6], smac[6];
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_spa, arp_tpa;
	/* IPv4 */
	uint32_t src, dst;
	uint8_t proto, ttl;
	uint16_t ip_len, id, frag;
	int ip_csum_ok;
	/* L4 */
	const uint8_t *l4;
	size_t l4_len;
	int l4_csum_ok;			/* TCP/UDP/ICMP checksum verified */
	uint16_t sport, dport;		/* UDP/TCP */
	uint8_t icmp_type, icmp_code;
};

/* 0 on success, -1 if the frame is not well formed. */
int pkt_parse(const uint8_t *frame, size_t len, struct pkt_view *v);

#endif
