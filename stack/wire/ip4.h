/*
 * IPv4 header (RFC 791, with RFC 1122 §3.2.1 validation).  Stateless parse/emit.
 */
#ifndef SHUNT_WIRE_IP4_H
#define SHUNT_WIRE_IP4_H

#include "wire/bytes.h"

#define IP4_HDR_LEN	20
#define IP4_PROTO_ICMP	1
#define IP4_PROTO_TCP	6
#define IP4_PROTO_UDP	17
#define IP4_FLAG_DF	0x4000
#define IP4_FLAG_MF	0x2000
#define IP4_OFF_MASK	0x1fff

struct ip4_hdr {
	uint8_t hlen;		/* bytes, 20..60 */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag;		/* flags and offset in 8-byte units, as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src;		/* network order */
	uint32_t dst;
};

/*
 * Validates version, header length, total length against len (the bytes the
 * frame carried; trailing padding is allowed) and, unless skip_csum, the
 * header checksum.  Returns the header length or a negated wire_err.
 */
int ip4_parse(const uint8_t *b, size_t len, struct ip4_hdr *h, int skip_csum);
/*
 * 1 if the options of a header of hlen bytes are well formed (RFC 791 §3.1:
 * every option but EOL and NOP has a length of at least 2 that fits; record
 * route, timestamp and source routes carry a pointer of at least 4 (5 for the
 * timestamp)), 0 if not.  Malformed options mark a forged or broken datagram.
 */
int ip4_opts_valid(const uint8_t *b, uint8_t hlen);
/* Writes a 20-byte header (h->hlen is ignored, options are never sent) with its checksum unless no_csum. */
void ip4_emit(const struct ip4_hdr *h, uint8_t *b, int no_csum);

static inline uint32_t
ip4_frag_off(const struct ip4_hdr *h)
{
	return (uint32_t)(h->frag & IP4_OFF_MASK) * 8;
}

#endif
