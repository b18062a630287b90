/*
 * Big-endian field access for the wire formats.  Received bytes are never cast
 * to packed structs nor swapped in place: parsers read fields through these.
 */
#ifndef SHUNT_WIRE_BYTES_H
#define SHUNT_WIRE_BYTES_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* Parse failures, returned negated; each maps to its own drop counter. */
enum wire_err {
	WIRE_OK = 0,
	WIRE_ESHORT,		/* buffer shorter than the header says */
	WIRE_EVERSION,		/* wrong version field */
	WIRE_EHLEN,		/* impossible header length */
	WIRE_ELEN,		/* impossible total length */
	WIRE_ECSUM,		/* checksum mismatch */
	WIRE_EFORMAT,		/* field values that cannot be */
};

static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* IPv4 addresses travel in network order inside the stack (as in_addr does): copy as bytes. */
static inline uint32_t
wire_get_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

static inline void
wire_put_addr(uint8_t *p, uint32_t a)
{
	memcpy(p, &a, 4);
}

#endif
