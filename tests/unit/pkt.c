/* Frame builders for tests: see pkt.h.  Independent of the stack's own emitters on purpose. */
#include <string.h>
#include "pkt.h"

static uint16_t
sum16(const uint8_t *b, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t
pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	const uint8_t *a = (const uint8_t *)&src, *b = (const uint8_t *)&dst;

	return (uint32_t)(a[0] << 8 | a[1]) + (uint32_t)(a[2] << 8 | a[3]) + (uint32_t)(b[0] << 8 | b[1]) +
	    (uint32_t)(b[2] << 8 | b[3]) + proto + (uint32_t)len;
}

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

size_t
pkt_ip4(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], const struct pkt_ip *ip, const void *payload,
    size_t len)
{
	uint8_t *h = buf + 14;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, 0x0800);
	h[0] = 0x45;
	h[1] = ip->tos;
	put16(h + 2, (uint16_t)(20 + len));
	put16(h + 4, ip->id);
	put16(h + 6, ip->frag);
	h[8] = ip->ttl ? ip->ttl : 64;
	h[9] = ip->proto;
	h[10] = h[11] = 0;
	memcpy(h + 12, &ip->src, 4);
	memcpy(h + 16, &ip->dst, 4);
	put16(h + 10, (uint16_t)~sum16(h, 20, 0));
	memcpy(h + 20, payload, len);
	return 14 + 20 + len;
}

size_t
pkt_udp(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const void *data, size_t len)
{
	uint8_t u[65536];
	struct pkt_ip ip = { src, dst, 17, 64, 0, 1, 0 };
	uint16_t c;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	c = (uint16_t)~sum16(u, 8 + len, pseudo(src, dst, 17, 8 + len));
	put16(u + 6, c == 0 ? 0xffff : c);
	return pkt_ip4(buf, dmac, smac, &ip, u, 8 + len);
}

size_t
pkt_ping(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint32_t src, uint32_t dst, uint16_t id,
    uint16_t seq, const void *data, size_t len)
{
	uint8_t m[65536];
	struct pkt_ip ip = { src, dst, 1, 64, 0, 7, 0 };

	m[0] = 8;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	memcpy(m + 8, data, len);
	put16(m + 2, (uint16_t)~sum16(m, 8 + len, 0));
	return pkt_ip4(buf, dmac, smac, &ip, m, 8 + len);
}

size_t
pkt_arp(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint16_t op, const uint8_t sha[6], uint32_t spa,
    const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *a = buf + 14;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tpa, 4);
	return 14 + 28;
}

int
pkt_parse(const uint8_t *f, size_t len, struct pkt_view *v)
{
	const uint8_t *h;
	size_t hl;

	memset(v, 0, sizeof(*v));
	if (len < 14)
		return -1;
	memcpy(v->dmac, f, 6);
	memcpy(v->smac, f + 6, 6);
	v->eth_type = (uint16_t)(f[12] << 8 | f[13]);
	if (v->eth_type == 0x0806) {
		if (len < 42)
			return -1;
		v->arp_op = (uint16_t)(f[20] << 8 | f[21]);
		memcpy(&v->arp_spa, f + 28, 4);
		memcpy(&v->arp_tpa, f + 38, 4);
		return 0;
	}
	if (v->eth_type != 0x0800 || len < 34)
		return -1;
	h = f + 14;
	hl = (size_t)(h[0] & 15) * 4;
	v->ip_len = (uint16_t)(h[2] << 8 | h[3]);
	if (hl < 20 || v->ip_len < hl || 14 + (size_t)v->ip_len > len)
		return -1;
	v->id = (uint16_t)(h[4] << 8 | h[5]);
	v->frag = (uint16_t)(h[6] << 8 | h[7]);
	v->ttl = h[8];
	v->proto = h[9];
	memcpy(&v->src, h + 12, 4);
	memcpy(&v->dst, h + 16, 4);
	v->ip_csum_ok = sum16(h, hl, 0) == 0xffff;
	v->l4 = h + hl;
	v->l4_len = v->ip_len - hl;
	if (v->frag & 0x3fff)
		return 0;	/* a fragment: L4 not checked here */
	if (v->proto == 17 && v->l4_len >= 8) {
		v->sport = (uint16_t)(v->l4[0] << 8 | v->l4[1]);
		v->dport = (uint16_t)(v->l4[2] << 8 | v->l4[3]);
		v->l4_csum_ok = (v->l4[6] | v->l4[7]) == 0 ||
		    sum16(v->l4, v->l4_len, pseudo(v->src, v->dst, 17, v->l4_len)) == 0xffff;
	} else if (v->proto == 6 && v->l4_len >= 20) {
		v->sport = (uint16_t)(v->l4[0] << 8 | v->l4[1]);
		v->dport = (uint16_t)(v->l4[2] << 8 | v->l4[3]);
		v->l4_csum_ok = sum16(v->l4, v->l4_len, pseudo(v->src, v->dst, 6, v->l4_len)) == 0xffff;
	} else if (v->proto == 1 && v->l4_len >= 8) {
		v->icmp_type = v->l4[0];
		v->icmp_code = v->l4[1];
		v->l4_csum_ok = sum16(v->l4, v->l4_len, 0) == 0xffff;
	}
	return 0;
}
