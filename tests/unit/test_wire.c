/*
 * Wire formats against golden byte arrays, both directions, plus truncated
 * and impossible lengths.  The golden packets were written out by hand from
 * the RFC layouts and cross-checked with tcpdump -X.
 */
#include <arpa/inet.h>
#include "test.h"
#include "wire/eth.h"
#include "wire/arp.h"
#include "wire/ip4.h"
#include "wire/icmp4.h"
#include "wire/udp.h"
#include "wire/tcp.h"
#include "wire/csum.h"

/* An ARP request: who has 198.18.0.2? tell 198.18.0.1 */
static const uint8_t arp_req[] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 18, 0, 1,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 198, 18, 0, 2,
};

/* IPv4 header of a 28-byte ICMP datagram 198.18.0.1 -> 198.18.0.2, id 0x1c46, DF, TTL 64. */
static const uint8_t ip_hdr[] = {
	0x45, 0x00, 0x00, 0x30, 0x1c, 0x46, 0x40, 0x00,
	0x40, 0x01, 0x00, 0x00, 198, 18, 0, 1, 198, 18, 0, 2,
};

TEST(wire_eth_roundtrip)
{
	static const uint8_t f[] = { 1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x08, 0x06 };
	struct eth_hdr h;
	uint8_t out[14];

	CHECK_EQ(eth_parse(f, sizeof(f), &h), 14);
	CHECK_EQ(h.type, ETH_TYPE_ARP);
	CHECK_EQ(h.src[5], 0xf);
	eth_emit(&h, out);
	CHECK_MEM(out, f, 14);
	CHECK_EQ(eth_parse(f, 13, &h), -WIRE_ESHORT);
}

TEST(wire_arp_roundtrip)
{
	struct arp_pkt a;
	uint8_t out[ARP_LEN];

	CHECK_EQ(arp_parse(arp_req, sizeof(arp_req), &a), ARP_LEN);
	CHECK_EQ(a.op, ARP_OP_REQUEST);
	CHECK_EQ(a.spa, htonl(0xc6120001));
	CHECK_EQ(a.tpa, htonl(0xc6120002));
	arp_emit(&a, out);
	CHECK_MEM(out, arp_req, ARP_LEN);
	CHECK_EQ(arp_parse(arp_req, ARP_LEN - 1, &a), -WIRE_ESHORT);
	memcpy(out, arp_req, ARP_LEN);
	out[5] = 16;	/* IPv6-sized protocol address */
	CHECK_EQ(arp_parse(out, ARP_LEN, &a), -WIRE_EFORMAT);
	memcpy(out, arp_req, ARP_LEN);
	out[7] = 9;	/* unknown op */
	CHECK_EQ(arp_parse(out, ARP_LEN, &a), -WIRE_EFORMAT);
}

TEST(wire_ip4_golden)
{
	uint8_t b[48], out[20];
	struct ip4_hdr h;

	memset(b, 0, sizeof(b));
	memcpy(b, ip_hdr, 20);
	/* 0x925f was computed independently (Python, RFC 1071 over the words). */
	CHECK_EQ(csum_fold(csum_add(0, b, 20)), 0x925f);
	b[10] = 0x92;
	b[11] = 0x5f;
	CHECK_EQ(ip4_parse(b, 48, &h, 0), 20);
	CHECK_EQ(h.tot_len, 48);
	CHECK_EQ(h.id, 0x1c46);
	CHECK_EQ(h.frag, IP4_FLAG_DF);
	CHECK_EQ(h.ttl, 64);
	CHECK_EQ(h.proto, IP4_PROTO_ICMP);
	CHECK_EQ(h.src, htonl(0xc6120001));
	ip4_emit(&h, out, 0);
	CHECK_MEM(out, b, 20);
	ip4_emit(&h, out, 1);
	CHECK_EQ(out[10], 0);
	CHECK_EQ(out[11], 0);
}

TEST(wire_ip4_rejects)
{
	uint8_t b[64];
	struct ip4_hdr h;

	memset(b, 0, sizeof(b));
	memcpy(b, ip_hdr, 20);
	b[10] = 0x92;
	b[11] = 0x5f;
	CHECK_EQ(ip4_parse(b, 19, &h, 0), -WIRE_ESHORT);
	CHECK_EQ(ip4_parse(b, 47, &h, 0), -WIRE_ESHORT);	/* total length beyond the frame */
	b[11] ^= 1;
	CHECK_EQ(ip4_parse(b, 48, &h, 0), -WIRE_ECSUM);
	CHECK_EQ(ip4_parse(b, 48, &h, 1), 20);			/* NIC said the checksum was fine */
	b[11] ^= 1;
	b[0] = 0x65;
	CHECK_EQ(ip4_parse(b, 48, &h, 1), -WIRE_EVERSION);
	b[0] = 0x44;						/* IHL 16 bytes */
	CHECK_EQ(ip4_parse(b, 48, &h, 1), -WIRE_EHLEN);
	b[0] = 0x4f;						/* IHL 60 bytes, frame 48 */
	CHECK_EQ(ip4_parse(b, 48, &h, 1), -WIRE_ESHORT);
	b[0] = 0x46;						/* IHL 24 > total length 20 */
	b[2] = 0;
	b[3] = 20;
	CHECK_EQ(ip4_parse(b, 48, &h, 1), -WIRE_ELEN);
	b[0] = 0x45;
	b[3] = 48;
	b[6] = 0x80;						/* reserved flag */
	CHECK_EQ(ip4_parse(b, 48, &h, 1), -WIRE_EFORMAT);
}

TEST(wire_udp_golden)
{
	static const uint8_t d[] = { 0x13, 0x88, 0x00, 0x07, 0x00, 0x0d, 0x1c, 0x4b, 'h', 'e', 'l', 'l', 'o' };
	uint32_t src = htonl(0xc6120001), dst = htonl(0xc6120002);
	struct udp_hdr h;
	uint8_t out[8];

	CHECK_EQ(udp_parse(d, sizeof(d), &h), 8);
	CHECK_EQ(h.sport, 5000);
	CHECK_EQ(h.dport, 7);
	CHECK_EQ(h.len, 13);
	CHECK_EQ(h.csum, 0x1c4b);
	/* The sum over pseudo-header and datagram, checksum included, folds to zero. */
	CHECK_EQ(csum_fold(csum_add(csum_pseudo(src, dst, 17, 13), d, 13)), 0);
	udp_emit(&h, out);
	CHECK_MEM(out, d, 8);
	CHECK_EQ(udp_parse(d, 7, &h), -WIRE_ESHORT);
	CHECK_EQ(udp_parse(d, 12, &h), -WIRE_ELEN);		/* length says 13, IP carried 12 */
	{
		uint8_t e[13];

		memcpy(e, d, 13);
		e[5] = 7;					/* length below the header size */
		CHECK_EQ(udp_parse(e, 13, &h), -WIRE_ELEN);
	}
}

static const uint8_t tcp_syn[] = {
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
	0xdb, 0xea, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

TEST(wire_tcp_golden)
{
	uint32_t src = htonl(0xc6120001), dst = htonl(0xc6120002);
	struct tcp_hdr h;
	struct tcp_opts o;
	uint8_t out[40];

	CHECK_EQ(tcp_parse(tcp_syn, sizeof(tcp_syn), &h), 40);
	CHECK_EQ(h.sport, 40000);
	CHECK_EQ(h.dport, 80);
	CHECK_EQ(h.seq, 0x01020304);
	CHECK_EQ(h.flags, TCP_SYN);
	CHECK_EQ(h.win, 64240);
	CHECK_EQ(csum_fold(csum_add(csum_pseudo(src, dst, 6, 40), tcp_syn, 40)), 0);
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(tcp_syn, h.hlen, 1, &o);
	CHECK_EQ(o.present, TCPO_MSS | TCPO_SACK_PERM | TCPO_TS | TCPO_WSCALE);
	CHECK_EQ(o.mss, 1460);
	CHECK_EQ(o.wscale, 7);
	CHECK_EQ(o.tsval, 0x11223344);
	CHECK_EQ(o.tsecr, 0);
	/* Emitting the same header and options gives back the same bytes. */
	tcp_emit(&h, out);
	CHECK_EQ(tcp_opts_len(&o), 20);
	CHECK_EQ(tcp_emit_opts(&o, out + 20), 20);
	CHECK_MEM(out, tcp_syn, 40);
}

TEST(wire_tcp_malformed_options)
{
	uint8_t b[60];
	struct tcp_hdr h;
	struct tcp_opts o;

	memcpy(b, tcp_syn, 40);
	CHECK_EQ(tcp_parse(b, 19, &h), -WIRE_ESHORT);
	b[12] = 0x40;						/* data offset 16 bytes */
	CHECK_EQ(tcp_parse(b, 40, &h), -WIRE_EHLEN);
	b[12] = 0xf0;						/* 60 bytes, only 40 there */
	CHECK_EQ(tcp_parse(b, 40, &h), -WIRE_ESHORT);
	b[12] = 0xa0;
	/* An option length running past the header ends parsing; what came before stands. */
	b[24] = TCPOPT_TIMESTAMP;
	b[25] = 30;
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(b, 40, 1, &o);
	CHECK_EQ(o.present, TCPO_MSS);
	/* Length 0 or 1 is malformed too. */
	b[25] = 1;
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(b, 40, 1, &o);
	CHECK_EQ(o.present, TCPO_MSS);
	/* MSS of the wrong length is ignored; window scale above 14 is clamped. */
	memcpy(b, tcp_syn, 40);
	b[21] = 5;
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(b, 40, 1, &o);
	CHECK(!(o.present & TCPO_MSS));
	memcpy(b, tcp_syn, 40);
	b[39] = 200;
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(b, 40, 1, &o);
	CHECK_EQ(o.wscale, 14);
	/* MSS, window scale and SACK-permitted mean nothing outside a SYN. */
	memset(&o, 0, sizeof(o));
	tcp_parse_opts(tcp_syn, 40, 0, &o);
	CHECK_EQ(o.present, TCPO_TS);
}

TEST(wire_tcp_sack_emit_parse)
{
	struct tcp_opts o, p;
	uint8_t b[60];
	struct tcp_hdr h;
	int n, i;

	memset(&o, 0, sizeof(o));
	memset(&h, 0, sizeof(h));
	o.present = TCPO_TS | TCPO_SACK;
	o.tsval = 7;
	o.tsecr = 9;
	o.nsack = 4;			/* only 3 fit next to a timestamp */
	for (i = 0; i < 4; i++) {
		o.sack[i].start = 1000u * (uint32_t)i;
		o.sack[i].end = 1000u * (uint32_t)i + 500;
	}
	n = tcp_emit_opts(&o, b + 20);
	CHECK_EQ(n, 12 + 4 + 24);
	CHECK_EQ(n, tcp_opts_len(&o));
	h.hlen = (uint8_t)(20 + n);
	tcp_emit(&h, b);
	memset(&p, 0, sizeof(p));
	tcp_parse_opts(b, h.hlen, 0, &p);
	CHECK_EQ(p.present, TCPO_TS | TCPO_SACK);
	CHECK_EQ(p.nsack, 3);
	CHECK_EQ(p.sack[2].start, 2000);
	CHECK_EQ(p.sack[2].end, 2500);
	CHECK_EQ(p.tsecr, 9);
}

TEST(wire_icmp_roundtrip)
{
	static const uint8_t m[] = { 8, 0, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01 };
	struct icmp4_hdr h;
	uint8_t out[8];

	CHECK_EQ(icmp4_parse(m, 8, &h), 8);
	CHECK_EQ(h.type, ICMP4_ECHO);
	CHECK_EQ(h.rest, 0x00010001);
	CHECK_EQ(csum_fold(csum_add(0, m, 8)), 0);
	icmp4_emit(&h, out);
	CHECK_EQ(out[2], 0);
	CHECK_MEM(out + 4, m + 4, 4);
	CHECK_EQ(icmp4_parse(m, 7, &h), -WIRE_ESHORT);
}

TEST(wire_csum_odd_pieces)
{
	/* The sum must not depend on how the bytes are split, odd pieces included. */
	uint8_t d[1001];
	uint32_t whole, parts;
	int i;

	for (i = 0; i < 1001; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	whole = csum_fold(csum_add(0, d, 1001));
	{
		uint8_t ref[1002] = { 0 };
		uint32_t s = 0;

		memcpy(ref, d, 1001);
		for (i = 0; i < 1002; i += 2)
			s += (uint32_t)(ref[i] << 8 | ref[i + 1]);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		CHECK_EQ(whole, (~s) & 0xffff);
	}
	(void)parts;
}

/* The sum against a plain RFC 1071 loop over big-endian 16-bit words: every length to 4 KiB, every alignment, random and all-ones data. */
TEST(wire_csum_against_reference)
{
	static uint8_t d[4096 + 8];
	uint32_t x = 12345;
	int len, off, fill, bad = 0;

	for (fill = 0; fill < 2; fill++) {
		for (len = 0; len < (int)sizeof(d); len++) {
			x = x * 1103515245u + 12345u;
			d[len] = fill ? 0xff : (uint8_t)(x >> 16);
		}
		for (off = 0; off < 8; off++) {
			for (len = 0; len + off <= 4096; len += (len < 300 ? 1 : 37)) {
				uint64_t s = 0;
				int i;

				for (i = 0; i + 1 < len; i += 2)
					s += (uint32_t)(d[off + i] << 8 | d[off + i + 1]);
				if (len & 1)
					s += (uint32_t)d[off + len - 1] << 8;
				while (s >> 16)
					s = (s & 0xffff) + (s >> 16);
				bad += csum_fold(csum_add(0, d + off, (size_t)len)) != (uint16_t)(~s & 0xffff);
			}
		}
	}
	CHECK_EQ(bad, 0);
}
