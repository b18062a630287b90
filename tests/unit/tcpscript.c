/* Scripted TCP peer: see tcpscript.h.  Builds and parses segments itself, independent of the stack's wire code. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include "tcpscript.h"
#include "pkt.h"

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t
sum16(const uint8_t *b, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t
pseudo(uint32_t src, uint32_t dst, size_t len)
{
	const uint8_t *a = (const uint8_t *)&src, *b = (const uint8_t *)&dst;

	return (uint32_t)(a[0] << 8 | a[1]) + (uint32_t)(a[2] << 8 | a[3]) + (uint32_t)(b[0] << 8 | b[1]) +
	    (uint32_t)(b[2] << 8 | b[3]) + 6 + (uint32_t)len;
}

static void __attribute__((noreturn, format(printf, 3, 4)))
fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	test_fail(file, line, "%s", msg);
}

static uint8_t
parse_flags(const char *file, int line, const char *fl, int *want_psh)
{
	uint8_t f = 0;

	if (want_psh != NULL)
		*want_psh = 0;
	for (; *fl; fl++) {
		switch (*fl) {
		case 'S': f |= TCPS_SYN; break;
		case 'F': f |= TCPS_FIN; break;
		case 'R': f |= TCPS_RST; break;
		case 'P': f |= TCPS_PSH; if (want_psh != NULL) *want_psh = 1; break;
		case '.': f |= TCPS_ACK; break;
		case 'U': f |= 0x20; break;
		case 'E': f |= 0x40; break;
		case 'W': f |= 0x80; break;
		default: fail(file, line, "bad flag '%c'", *fl);
		}
	}
	return f;
}

static void
flags_str(uint8_t f, char out[12])
{
	char *p = out;

	if (f & TCPS_SYN) *p++ = 'S';
	if (f & TCPS_FIN) *p++ = 'F';
	if (f & TCPS_RST) *p++ = 'R';
	if (f & TCPS_PSH) *p++ = 'P';
	if (f & 0x20) *p++ = 'U';
	if (f & 0x40) *p++ = 'E';
	if (f & 0x80) *p++ = 'W';
	if (f & TCPS_ACK) *p++ = '.';
	if (p == out) *p++ = '-';
	*p = 0;
}

void
tcps_init(struct tcps *t, const struct shunt_stack_config *cfg, uint32_t caps)
{
	struct shunt_stack_config c;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (cfg != NULL)
		c = *cfg;
	else
		shunt_stack_config_init(&c);
	shunt_vclock_init(&t->clock, 1000000000ull);
	c.clock = &t->clock.clock;
	if (c.seed == 0)
		c.seed = 7;
	t->s = shunt_stack_create(&c, &err);
	CHECKF(t->s != NULL, "stack create: %d", err);
	t->nif = shunt_script_netif_create(t->s, our_mac, 1500, caps, &err);
	CHECKF(t->nif != NULL, "script netif: %d", err);
	t->me = ip4("198.18.0.2");
	t->peer = ip4("198.18.0.1");
	CHECK_EQ(shunt_netif_set_ip4(t->nif, t->me, ip4("255.255.255.0"), ip4("198.18.0.254")), 0);
	CHECK_EQ(shunt_netif_up(t->nif), 0);
	shunt_script_clear(t->nif);
	CHECK_EQ(shunt_arp_add_static(t->s, t->peer, peer_mac), 0);
	CHECK_EQ(shunt_arp_add_static(t->s, ip4("198.18.0.254"), peer_mac), 0);
	t->lport = 8080;
	t->rport = 40000;
	t->riss = 1000000;
	t->ts_base = 5000;
	t->rx_seed = 0;	/* struct tapp's default rx_seed */
}

void
tcps_init_rto_only(struct tcps *t, uint32_t caps)
{
	struct shunt_stack_config c;

	shunt_stack_config_init(&c);
	c.tcp_tlp = 0;
	tcps_init(t, &c, caps);
}

void
tcps_fini(struct tcps *t)
{
	shunt_stack_poll(t->s);
	shunt_script_clear(t->nif);
	destroy_no_leaks(t->s);
	t->s = NULL;
}

uint32_t
tcps_peer_ts(struct tcps *t)
{
	return t->ts_base + (uint32_t)(t->clock.now / 1000000ull);
}

/* Options from a comma list; returns the bytes written (padded to 4). */
static int
build_opts(struct tcps *t, const char *file, int line, const char *opts, uint8_t *b)
{
	char tok[64];
	int n = 0;
	const char *p = opts;

	while (p != NULL && *p) {
		const char *e = strchr(p, ',');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		unsigned a, c;

		if (l >= sizeof(tok))
			fail(file, line, "option too long");
		memcpy(tok, p, l);
		tok[l] = 0;
		p = e != NULL ? e + 1 : NULL;
		while (tok[0] == ' ')
			memmove(tok, tok + 1, strlen(tok));
		if (sscanf(tok, "mss %u", &a) == 1) {
			b[n] = 2; b[n + 1] = 4; put16(b + n + 2, (uint16_t)a); n += 4;
		} else if (sscanf(tok, "wscale %u", &a) == 1) {
			b[n] = 1; b[n + 1] = 3; b[n + 2] = 3; b[n + 3] = (uint8_t)a; n += 4;
		} else if (strcmp(tok, "sackOK") == 0) {
			b[n] = 1; b[n + 1] = 1; b[n + 2] = 4; b[n + 3] = 2; n += 4;
		} else if (strncmp(tok, "ts", 2) == 0 && (tok[2] == 0 || tok[2] == ' ')) {
			uint32_t v = tcps_peer_ts(t), ecr = t->ts_recent;

			if (tok[2] == ' ' && sscanf(tok + 3, "%u %u", &a, &c) == 2) {
				v = a;
				ecr = c;
			}
			b[n] = 1; b[n + 1] = 1; b[n + 2] = 8; b[n + 3] = 10;
			put32(b + n + 4, v);
			put32(b + n + 8, ecr);
			n += 12;
		} else if (strncmp(tok, "sack ", 5) == 0) {
			const char *q = tok + 5;
			int k = 0, start = n;

			b[n] = 1; b[n + 1] = 1; b[n + 2] = 5;
			n += 4;
			while (sscanf(q, "%u:%u", &a, &c) == 2) {
				put32(b + n, t->liss + a);
				put32(b + n + 4, t->liss + c);
				n += 8;
				k++;
				q = strchr(q, ' ');
				if (q == NULL)
					break;
				q++;
			}
			b[start + 3] = (uint8_t)(2 + 8 * k);
		} else if (strcmp(tok, "nop") == 0) {
			b[n++] = 1;
		} else if (strcmp(tok, "eol") == 0) {
			b[n++] = 0;
		} else if (tok[0] != 0) {
			fail(file, line, "bad option '%s'", tok);
		}
	}
	while (n % 4)
		b[n++] = 0;
	if (n > 40)
		fail(file, line, "options too long (%d)", n);
	return n;
}

void
tcps_inject(struct tcps *t, const char *file, int line, const char *flags, uint32_t seq, uint32_t ack,
    uint16_t win, const char *opts, const void *data, uint32_t len)
{
	uint8_t *l4 = t->build;
	struct pkt_ip ip = { t->peer, t->me, 6, 64, 0, 1, 0x4000 };
	uint8_t fl = parse_flags(file, line, flags, NULL);
	int olen = build_opts(t, file, line, opts, l4 + 20);
	uint32_t i, hl = 20 + (uint32_t)olen;
	size_t n;

	if (hl + len > sizeof(t->build) - 64)
		fail(file, line, "segment too big");
	put16(l4, t->rport);
	put16(l4 + 2, t->lport);
	put32(l4 + 4, seq);
	put32(l4 + 8, (fl & TCPS_ACK) ? ack : 0);
	l4[12] = (uint8_t)((hl / 4) << 4);
	l4[13] = fl;
	put16(l4 + 14, win);
	put16(l4 + 16, 0);
	put16(l4 + 18, 0);
	if (data != NULL) {
		memcpy(l4 + hl, data, len);
	} else {
		/* The peer's stream: its first data byte is at riss + 1. */
		uint64_t off = (uint64_t)(uint32_t)(seq - t->riss - 1) + ((fl & TCPS_SYN) ? 1 : 0);

		for (i = 0; i < len; i++)
			l4[hl + i] = tapp_byte(t->rx_seed, off + i);
	}
	put16(l4 + 16, (uint16_t)~fold(sum16(l4, hl + len, pseudo(t->peer, t->me, hl + len))));
	n = pkt_ip4(t->frame, our_mac, peer_mac, &ip, l4, hl + len);
	if (shunt_script_inject(t->nif, t->frame, (uint32_t)n) != 0)
		fail(file, line, "inject: pool empty");
	shunt_stack_poll(t->s);
}

static int
parse_seg(struct tcps *t, const uint8_t *f, int n, struct tcps_seg *s)
{
	struct pkt_view v;
	const uint8_t *l4, *o, *end;
	uint32_t hl;

	if (pkt_parse(f, (size_t)n, &v) != 0 || v.proto != 6 || v.l4_len < 20)
		return -1;
	memset(s, 0, sizeof(*s));
	l4 = v.l4;
	s->src = v.src;
	s->dst = v.dst;
	s->ttl = v.ttl;
	s->tos = f[15];
	s->df = (v.frag & 0x4000) != 0;
	s->sport = get16(l4);
	s->dport = get16(l4 + 2);
	s->seq = get32(l4 + 4);
	s->ack = get32(l4 + 8);
	hl = (uint32_t)(l4[12] >> 4) * 4;
	s->flags = l4[13];
	s->win = get16(l4 + 14);
	if (hl < 20 || hl > v.l4_len)
		return -1;
	s->len = (uint32_t)v.l4_len - hl;
	s->data = l4 + hl;
	for (o = l4 + 20, end = l4 + hl; o < end;) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (end - o < 2 || o[1] < 2 || o[1] > end - o)
			return -1;
		switch (o[0]) {
		case 2: s->has_mss = 1; s->mss = get16(o + 2); break;
		case 3: s->has_ws = 1; s->ws = o[2]; break;
		case 4: s->has_sackok = 1; break;
		case 8: s->has_ts = 1; s->tsval = get32(o + 2); s->tsecr = get32(o + 6); break;
		case 5:
			for (s->nsack = 0; s->nsack < (o[1] - 2) / 8 && s->nsack < 4; s->nsack++) {
				s->sack[s->nsack][0] = get32(o + 2 + 8 * s->nsack);
				s->sack[s->nsack][1] = get32(o + 6 + 8 * s->nsack);
			}
			break;
		}
		o += o[1];
	}
	/* With checksum offload the field holds the pseudo-header sum for the NIC to finish. */
	if (!(s->ol_flags & SHUNT_PBUF_TX_L4_CSUM) && !v.l4_csum_ok)
		return -2;
	if (!v.ip_csum_ok)
		return -3;
	(void)t;
	return 0;
}

struct tcps_seg *
tcps_take(struct tcps *t)
{
	uint8_t ol = 0;
	uint16_t tso = 0;
	int n, r;

	for (;;) {
		n = shunt_script_take_flags(t->nif, t->frame, sizeof(t->frame), &ol, &tso);
		if (n < 0)
			return NULL;
		if (n >= 14 && t->frame[12] == 0x08 && t->frame[13] == 0x06)
			continue;	/* ARP is not this test's business */
		break;
	}
	t->seg.ol_flags = ol;
	r = parse_seg(t, t->frame, n, &t->seg);
	t->seg.ol_flags = ol;
	t->seg.tso_mss = tso;
	if (r == -2 && (ol & SHUNT_PBUF_TX_L4_CSUM))
		r = 0;
	CHECKF(r == 0, "sent frame not a valid TCP segment (%d)", r);
	t->seg.when = t->clock.now;
	if (t->seg.has_ts)
		t->ts_recent = t->seg.tsval;
	return &t->seg;
}

struct tcps_seg *
tcps_expect(struct tcps *t, const char *file, int line, const char *flags, long long seq, long long ack,
    long long len)
{
	struct tcps_seg *s;
	int want_psh;
	uint8_t want = parse_flags(file, line, flags, &want_psh), got;
	char a[12], b[12];

	s = tcps_take(t);
	if (s == NULL)
		fail(file, line, "expected %s seg, nothing sent", flags);
	if (s->src != t->me || s->dst != t->peer || s->sport != t->lport || s->dport != t->rport)
		fail(file, line, "segment on the wrong 4-tuple (ports %u > %u)", s->sport, s->dport);
	if ((want & TCPS_SYN) && !(want & TCPS_ACK) && (s->flags & TCPS_SYN))
		t->liss = s->seq;	/* the stack's active open: learn its ISN */
	if ((want & TCPS_SYN) && (want & TCPS_ACK) && (s->flags & TCPS_SYN))
		t->liss = s->seq;
	got = s->flags;
	if (!want_psh)
		got &= (uint8_t)~TCPS_PSH;
	if (got != want) {
		flags_str(s->flags, a);
		flags_str(want, b);
		fail(file, line, "flags %s, expected %s (seq %u ack %u len %u)", a, b, s->seq - t->liss,
		    s->ack - t->riss, s->len);
	}
	if (seq != ANY && s->seq != t->liss + (uint32_t)seq)
		fail(file, line, "%s seq %u, expected %lld", flags, s->seq - t->liss, seq);
	if (ack != ANY && (s->flags & TCPS_ACK) && s->ack != t->riss + (uint32_t)ack)
		fail(file, line, "%s ack %u, expected %lld", flags, s->ack - t->riss, ack);
	if (len != ANY && s->len != (uint32_t)len)
		fail(file, line, "%s len %u, expected %lld (seq %u)", flags, s->len, len, s->seq - t->liss);
	return s;
}

void
tcps_expect_opts(struct tcps *t, const char *file, int line, const char *opts)
{
	struct tcps_seg *s = &t->seg;
	int mss = 0, ws = 0, sackok = 0, ts = 0, nsack = 0;
	const char *p = opts;
	char tok[64];

	while (p != NULL && *p) {
		const char *e = strchr(p, ',');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		unsigned a, c;

		memcpy(tok, p, l < sizeof(tok) ? l : sizeof(tok) - 1);
		tok[l < sizeof(tok) ? l : sizeof(tok) - 1] = 0;
		p = e != NULL ? e + 1 : NULL;
		while (tok[0] == ' ')
			memmove(tok, tok + 1, strlen(tok));
		if (strncmp(tok, "mss", 3) == 0) {
			mss = 1;
			if (sscanf(tok, "mss %u", &a) == 1 && s->mss != a)
				fail(file, line, "mss %u, expected %u", s->mss, a);
		} else if (strncmp(tok, "wscale", 6) == 0) {
			ws = 1;
			if (sscanf(tok, "wscale %u", &a) == 1 && s->ws != a)
				fail(file, line, "wscale %u, expected %u", s->ws, a);
		} else if (strcmp(tok, "sackOK") == 0) {
			sackok = 1;
		} else if (strncmp(tok, "ts", 2) == 0 && (tok[2] == 0 || tok[2] == ' ')) {
			ts = 1;
			if (sscanf(tok, "ts %u %u", &a, &c) == 2 && (s->tsval != a || s->tsecr != c))
				fail(file, line, "ts %u %u, expected %u %u", s->tsval, s->tsecr, a, c);
			if (sscanf(tok, "ts ecr %u", &c) == 1 && s->tsecr != c)
				fail(file, line, "tsecr %u, expected %u", s->tsecr, c);
		} else if (strncmp(tok, "sack", 4) == 0) {
			const char *q = tok + 4;

			while (*q == ' ')
				q++;
			while (*q && sscanf(q, "%u:%u", &a, &c) == 2) {
				if (nsack >= s->nsack)
					fail(file, line, "only %d SACK blocks", s->nsack);
				if (s->sack[nsack][0] != t->riss + a || s->sack[nsack][1] != t->riss + c)
					fail(file, line, "SACK block %d is %u:%u, expected %u:%u", nsack,
					    s->sack[nsack][0] - t->riss, s->sack[nsack][1] - t->riss, a, c);
				nsack++;
				q = strchr(q, ' ');
				if (q == NULL)
					break;
				q++;
			}
			if (nsack == 0)
				nsack = -1;	/* "sack" alone: any blocks */
		} else if (tok[0] != 0) {
			fail(file, line, "bad option '%s'", tok);
		}
	}
	if (mss != s->has_mss || ws != s->has_ws || sackok != s->has_sackok || ts != s->has_ts)
		fail(file, line, "options: mss %d ws %d sackOK %d ts %d, expected %d %d %d %d", s->has_mss,
		    s->has_ws, s->has_sackok, s->has_ts, mss, ws, sackok, ts);
	if (nsack >= 0 && nsack != s->nsack)
		fail(file, line, "%d SACK blocks, expected %d", s->nsack, nsack);
	if (nsack < 0 && s->nsack == 0)
		fail(file, line, "no SACK blocks, expected some");
}

void
tcps_expect_none(struct tcps *t, const char *file, int line)
{
	struct tcps_seg *s = tcps_take(t);
	char a[12];

	if (s != NULL) {
		flags_str(s->flags, a);
		fail(file, line, "expected nothing, got %s seq %u ack %u len %u", a, s->seq - t->liss,
		    s->ack - t->riss, s->len);
	}
}

void
tcps_advance(struct tcps *t, uint64_t ns)
{
	shunt_vclock_advance(&t->clock, ns);
	shunt_stack_poll(t->s);
}

void
tcps_run(struct tcps *t, uint64_t ns)
{
	uint64_t end = t->clock.now + ns;

	for (;;) {
		uint64_t d = shunt_stack_next_deadline(t->s);

		if (d > end)
			break;
		if (d > t->clock.now)
			t->clock.now = d;
		shunt_stack_poll(t->s);
	}
	t->clock.now = end;
	shunt_stack_poll(t->s);
}

uint64_t
tcps_wait(struct tcps *t, uint64_t max_ns)
{
	uint64_t start = t->clock.now, end = start + max_ns;

	shunt_stack_poll(t->s);
	while (shunt_script_pending(t->nif) == 0) {
		uint64_t d = shunt_stack_next_deadline(t->s);

		if (d > end)
			return UINT64_MAX;
		if (d > t->clock.now)
			t->clock.now = d;
		shunt_stack_poll(t->s);
	}
	return t->clock.now - start;
}

struct shunt_tcp_pcb *
tcps_connect(struct tcps *t, struct tapp *a, const char *synack_opts)
{
	struct shunt_tcp_pcb *pcb = shunt_tcp_new(t->s);
	struct tcps_seg *s;
	uint32_t lip;
	uint16_t lp;

	CHECK(pcb != NULL);
	CHECK_EQ(tapp_connect(a, pcb, t->peer, htons(t->rport)), 0);
	shunt_tcp_local(pcb, &lip, &lp);
	t->lport = ntohs(lp);
	s = OUT(t, "S", 0, ANY, 0);
	CHECK(s->has_mss);
	IN(t, "S.", 0, 1, 65535, synack_opts, 0);
	CHECK(a->connected);
	OUT(t, ".", 1, 1, 0);
	return pcb;
}

struct shunt_tcp_pcb *
tcps_listen(struct tcps *t, struct tapp *lst, int backlog)
{
	struct shunt_tcp_pcb *l = shunt_tcp_new(t->s);

	CHECK(l != NULL);
	CHECK_EQ(shunt_tcp_bind(l, 0, htons(t->lport)), 0);
	CHECK_EQ(shunt_tcp_listen(l, backlog), 0);
	tapp_listen(lst, l);
	return l;
}

struct shunt_tcp_pcb *
tcps_accept(struct tcps *t, struct tapp *lst, struct tapp *a, const char *syn_opts)
{
	lst->accept_into = a;
	IN(t, "S", 0, 0, 65535, syn_opts, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, ".", 1, 1, 65535, strstr(syn_opts, "ts") != NULL ? "ts" : "", 0);
	CHECK(a->accepted);
	return a->pcb;
}

uint64_t
tcps_stat_at(struct tcps *t, size_t off)
{
	struct shunt_stats st;

	shunt_stack_stats(t->s, &st);
	return *(uint64_t *)((char *)&st + off);
}

static void
print_stat(const char *name, uint64_t v, void *arg)
{
	(void)arg;
	fprintf(stderr, "    %s = %llu\n", name, (unsigned long long)v);
}

void
tcps_dump_stats(struct tcps *t)
{
	struct shunt_stats st;

	shunt_stack_stats(t->s, &st);
	shunt_stats_foreach(&st, 1, print_stat, NULL);
}
