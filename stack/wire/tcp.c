/*
 * TCP header and options: parse and emit (RFC 9293 §3.1, RFC 7323 §2-3,
 * RFC 2018 §2-3).  Option layouts on emit follow the common NOP-padded forms
 * so that every option stays 4-byte aligned.
 */
#include "wire/tcp.h"

int
tcp_parse(const uint8_t *b, size_t len, struct tcp_hdr *h)
{
	if (len < TCP_HDR_LEN)
		return -WIRE_ESHORT;
	h->hlen = (uint8_t)((b[12] >> 4) * 4);
	if (h->hlen < TCP_HDR_LEN)
		return -WIRE_EHLEN;
	if (h->hlen > len)
		return -WIRE_ESHORT;
	h->sport = wire_get16(b);
	h->dport = wire_get16(b + 2);
	h->seq = wire_get32(b + 4);
	h->ack = wire_get32(b + 8);
	h->flags = b[13];
	h->win = wire_get16(b + 14);
	h->csum = wire_get16(b + 16);
	h->urg = wire_get16(b + 18);
	return h->hlen;
}

void
tcp_parse_opts(const uint8_t *b, uint8_t hlen, int syn, struct tcp_opts *o)
{
	const uint8_t *p = b + TCP_HDR_LEN;
	const uint8_t *end = b + hlen;

	o->present = 0;
	o->nsack = 0;
	while (p < end) {
		uint8_t kind = p[0], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2)
			break;
		olen = p[1];
		if (olen < 2 || olen > end - p)
			break;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == 4 && syn) {
				o->mss = wire_get16(p + 2);
				o->present |= TCPO_MSS;
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == 3 && syn) {
				o->wscale = p[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : p[2];
				o->present |= TCPO_WSCALE;
			}
			break;
		case TCPOPT_SACK_PERM:
			if (olen == 2 && syn)
				o->present |= TCPO_SACK_PERM;
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0 && !syn) {
				int n = (olen - 2) / 8, i;

				if (n > TCP_MAX_SACK_BLOCKS)
					n = TCP_MAX_SACK_BLOCKS;
				for (i = 0; i < n; i++) {
					o->sack[i].start = wire_get32(p + 2 + 8 * i);
					o->sack[i].end = wire_get32(p + 6 + 8 * i);
				}
				o->nsack = (uint8_t)n;
				o->present |= TCPO_SACK;
			}
			break;
		case TCPOPT_TIMESTAMP:
			if (olen == 10) {
				o->tsval = wire_get32(p + 2);
				o->tsecr = wire_get32(p + 6);
				o->present |= TCPO_TS;
			}
			break;
		default:
			break;
		}
		p += olen;
	}
}

void
tcp_emit(const struct tcp_hdr *h, uint8_t *b)
{
	wire_put16(b, h->sport);
	wire_put16(b + 2, h->dport);
	wire_put32(b + 4, h->seq);
	wire_put32(b + 8, h->ack);
	b[12] = (uint8_t)((h->hlen / 4) << 4);
	b[13] = h->flags;
	wire_put16(b + 14, h->win);
	wire_put16(b + 16, h->csum);
	wire_put16(b + 18, h->urg);
}

int
tcp_opts_len(const struct tcp_opts *o)
{
	int n = 0;

	if (o->present & TCPO_MSS)
		n += 4;
	/* SACK-permitted rides in front of the timestamp, or alone padded with two NOPs. */
	if (o->present & TCPO_TS)
		n += 12;
	else if (o->present & TCPO_SACK_PERM)
		n += 4;
	if (o->present & TCPO_WSCALE)
		n += 4;
	if (o->present & TCPO_SACK) {
		int room = (40 - n - 4) / 8;
		int k = o->nsack < room ? o->nsack : room;

		if (k > 0)
			n += 4 + 8 * k;
	}
	return n;
}

int
tcp_emit_opts(const struct tcp_opts *o, uint8_t *b)
{
	uint8_t *p = b;

	if (o->present & TCPO_MSS) {
		p[0] = TCPOPT_MSS;
		p[1] = 4;
		wire_put16(p + 2, o->mss);
		p += 4;
	}
	if (o->present & TCPO_TS) {
		if (o->present & TCPO_SACK_PERM) {
			p[0] = TCPOPT_SACK_PERM;
			p[1] = 2;
		} else {
			p[0] = TCPOPT_NOP;
			p[1] = TCPOPT_NOP;
		}
		p[2] = TCPOPT_TIMESTAMP;
		p[3] = 10;
		wire_put32(p + 4, o->tsval);
		wire_put32(p + 8, o->tsecr);
		p += 12;
	} else if (o->present & TCPO_SACK_PERM) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_SACK_PERM;
		p[3] = 2;
		p += 4;
	}
	if (o->present & TCPO_WSCALE) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_WSCALE;
		p[2] = 3;
		p[3] = o->wscale;
		p += 4;
	}
	if (o->present & TCPO_SACK) {
		int room = (40 - (int)(p - b) - 4) / 8;
		int k = o->nsack < room ? o->nsack : room, i;

		if (k > 0) {
			p[0] = TCPOPT_NOP;
			p[1] = TCPOPT_NOP;
			p[2] = TCPOPT_SACK;
			p[3] = (uint8_t)(2 + 8 * k);
			for (i = 0; i < k; i++) {
				wire_put32(p + 4 + 8 * i, o->sack[i].start);
				wire_put32(p + 8 + 8 * i, o->sack[i].end);
			}
			p += 4 + 8 * k;
		}
	}
	return (int)(p - b);
}
