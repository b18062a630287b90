/*
 * TCP header and options (RFC 9293 §3.1; options of RFC 7323, 2018).
 * Stateless parse/emit.
 */
#ifndef SHUNT_WIRE_TCP_H
#define SHUNT_WIRE_TCP_H

#include "wire/bytes.h"

#define TCP_HDR_LEN	20
#define TCP_MAX_HDR_LEN	60

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10
#define TCP_URG	0x20
#define TCP_ECE	0x40
#define TCP_CWR	0x80

#define TCPOPT_EOL		0
#define TCPOPT_NOP		1
#define TCPOPT_MSS		2
#define TCPOPT_WSCALE		3
#define TCPOPT_SACK_PERM	4
#define TCPOPT_SACK		5
#define TCPOPT_TIMESTAMP	8

#define TCP_MAX_WSCALE		14
#define TCP_MAX_SACK_BLOCKS	4

/* Which options a segment carried. */
#define TCPO_MSS	0x01
#define TCPO_WSCALE	0x02
#define TCPO_SACK_PERM	0x04
#define TCPO_SACK	0x08
#define TCPO_TS		0x10

struct tcp_sack_block {
	uint32_t start, end;
};

struct tcp_opts {
	uint8_t present;	/* TCPO_* */
	uint8_t wscale;		/* clamped to 14 as RFC 7323 §2.3 says */
	uint8_t nsack;
	uint16_t mss;
	uint32_t tsval, tsecr;
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};

struct tcp_hdr {
	uint16_t sport;		/* host order */
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t hlen;		/* bytes, 20..60 */
	uint8_t flags;
	uint16_t win;
	uint16_t csum;
	uint16_t urg;
};

/*
 * Parses the fixed header; len is the IP payload length.  Returns the header
 * length (with options) or -WIRE_ESHORT / -WIRE_EHLEN.
 */
int tcp_parse(const uint8_t *b, size_t len, struct tcp_hdr *h);
/*
 * Parses the options area (b points at the TCP header, hlen its length).
 * Like Linux, a malformed option ends parsing without failing the segment,
 * and an option whose length is wrong for its kind is ignored.
 */
void tcp_parse_opts(const uint8_t *b, uint8_t hlen, int syn, struct tcp_opts *o);
/* Writes the 20-byte header with checksum field h->csum. */
void tcp_emit(const struct tcp_hdr *h, uint8_t *b);
/*
 * Writes the options in o (in the padded layouts Linux uses) at b; returns the
 * number of bytes written, a multiple of 4, at most 40.
 */
int tcp_emit_opts(const struct tcp_opts *o, uint8_t *b);
/* Bytes tcp_emit_opts would write. */
int tcp_opts_len(const struct tcp_opts *o);

#endif
