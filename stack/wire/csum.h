/*
 * The Internet checksum (RFC 1071, RFC 1624 for incremental updates).
 * Sums are kept unfolded in 32 bits while adding pieces; csum_fold() turns
 * one into the 16-bit one's complement that goes on the wire.
 */
#ifndef SHUNT_WIRE_CSUM_H
#define SHUNT_WIRE_CSUM_H

#include <stdint.h>
#include <stddef.h>

/* Adds len bytes at data to sum.  odd says whether an odd number of bytes came before. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);

static inline uint16_t
csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Adds a 16-bit value that is in wire (big-endian) order as read by wire_get16. */
static inline uint32_t
csum_add16(uint32_t sum, uint16_t v)
{
	uint64_t s = (uint64_t)sum + v;

	return (uint32_t)((s & 0xffffffff) + (s >> 32));
}

/*
 * The pseudo-header sum of TCP and UDP (RFC 793, 768): addresses in network
 * order, protocol, L4 length.  Unfolded.
 */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4len);

/* Sum of a pbuf chain from byte off on, len bytes (handles odd pieces). */
struct shunt_pbuf;
uint32_t csum_pbuf(uint32_t sum, const struct shunt_pbuf *p, uint32_t off, uint32_t len);

#endif
