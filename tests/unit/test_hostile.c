/*
 * Hostile input to one stack on the scripted netif: the regression tests of
 * what the adversarial suite (tests/adversarial/) found over net_tap, replayed
 * here without root, DPDK or a kernel so that they run everywhere.
 *   - land attack: a datagram claiming our own address as its source is
 *     dropped (it used to start a TCP ACK storm through the loopback queue);
 *   - sources in 0.0.0.0/8 are martians;
 *   - malformed IPv4 options drop the datagram, well-formed ones are skipped;
 *   - reassembly charges fragments by the buffers they pin, so a flood of
 *     8-byte fragments can no longer hold thousands of receive buffers.
 * Stack at 198.18.0.2/24 (MAC 02:00:00:00:00:02), peer 198.18.0.1.
 */
#include <arpa/inet.h>
#include <shunt/tcp.h>
#include "testnet.h"
#include "pkt.h"

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

struct hx {
	struct shunt_vclock clock;
	struct shunt_stack *s;
	struct shunt_netif *nif;
	uint32_t me, peer;
	uint8_t frame[70000];
};

static void
hx_init(struct hx *h, const struct shunt_stack_config *cfg)
{
	struct shunt_stack_config c;
	int err;

	if (cfg != NULL)
		c = *cfg;
	else
		shunt_stack_config_init(&c);
	shunt_vclock_init(&h->clock, 1000000000ull);
	c.clock = &h->clock.clock;
	c.seed = 11;
	h->s = shunt_stack_create(&c, &err);
	CHECKF(h->s != NULL, "create %d", err);
	h->nif = shunt_script_netif_create(h->s, our_mac, 1500, 0, &err);
	CHECK(h->nif != NULL);
	h->me = ip4("198.18.0.2");
	h->peer = ip4("198.18.0.1");
	CHECK_EQ(shunt_netif_set_ip4(h->nif, h->me, ip4("255.255.255.0"), 0), 0);
	CHECK_EQ(shunt_netif_up(h->nif), 0);
	shunt_script_clear(h->nif);
	CHECK_EQ(shunt_arp_add_static(h->s, h->peer, peer_mac), 0);
}

static void
hx_fini(struct hx *h)
{
	shunt_stack_poll(h->s);
	shunt_script_clear(h->nif);
	destroy_no_leaks(h->s);
}

static void
hx_inject(struct hx *h, const uint8_t *frame, size_t len)
{
	CHECK_EQ(shunt_script_inject(h->nif, frame, (uint32_t)len), 0);
	shunt_stack_poll(h->s);
}

static uint64_t
stat_of(struct hx *h, size_t off)
{
	struct shunt_stats st;

	shunt_stack_stats(h->s, &st);
	return *(uint64_t *)((char *)&st + off);
}
#define HSTAT(h, name) stat_of((h), offsetof(struct shunt_stats, name))

static uint16_t
csum16(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + a TCP segment (no options) with a correct checksum. */
static size_t
tcp_frame(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags)
{
	struct pkt_ip ip = { src, dst, 6, 64, 0, 1, 0 };
	uint8_t seg[20], ph[12];
	uint32_t sum = 0;
	size_t i;

	memset(seg, 0, sizeof(seg));
	seg[0] = (uint8_t)(sport >> 8);
	seg[1] = (uint8_t)sport;
	seg[2] = (uint8_t)(dport >> 8);
	seg[3] = (uint8_t)dport;
	for (i = 0; i < 4; i++) {
		seg[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		seg[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	seg[12] = 5 << 4;
	seg[13] = flags;
	seg[14] = 0xff;
	seg[15] = 0xff;
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = 0;
	ph[11] = 20;
	for (i = 0; i < 12; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	{
		uint16_t c = csum16(sum, seg, 20);

		seg[16] = (uint8_t)(c >> 8);
		seg[17] = (uint8_t)c;
	}
	return pkt_ip4(buf, our_mac, peer_mac, &ip, seg, sizeof(seg));
}

static int
accept_none(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	(void)arg;
	(void)newpcb;
	(void)err;
	return -111;
}

TEST(hostile_land_attack_dropped)
{
	struct shunt_tcp_pcb *l;
	struct hx h;
	size_t n;
	int i;

	hx_init(&h, NULL);
	l = shunt_tcp_new(h.s);
	CHECK(l != NULL);
	CHECK_EQ(shunt_tcp_bind(l, 0, htons(7)), 0);
	CHECK_EQ(shunt_tcp_listen(l, 16), 0);
	shunt_tcp_accept(l, accept_none);
	/* SYN from 198.18.0.2:7 to 198.18.0.2:7, off the wire. */
	n = tcp_frame(h.frame, h.me, h.me, 7, 7, 1000, 0, 0x02);
	hx_inject(&h, h.frame, n);
	for (i = 0; i < 100; i++) {
		shunt_vclock_advance(&h.clock, 1000000);
		shunt_stack_poll(h.s);
	}
	/* Before the fix: a SYN_RECEIVED child talking to itself, millions of ACKs through loopback. */
	CHECK_EQ(HSTAT(&h, ip_drop_src), 1);
	CHECK_EQ(HSTAT(&h, tcp_rx), 0);
	CHECK(HSTAT(&h, ip_rx) <= 1);
	CHECK_EQ(shunt_tcp_count(h.s, SHUNT_TCP_SYN_RECEIVED), 0);
	CHECK_EQ(shunt_script_pending(h.nif), 0);
	/* The same with ACK, RST, and as UDP and ICMP: all dropped at the IP layer. */
	n = tcp_frame(h.frame, h.me, h.me, 7, 7, 1000, 5, 0x10);
	hx_inject(&h, h.frame, n);
	n = pkt_udp(h.frame, our_mac, peer_mac, h.me, h.me, 7, 7, "loop", 4);
	hx_inject(&h, h.frame, n);
	n = pkt_ping(h.frame, our_mac, peer_mac, h.me, h.me, 1, 1, "loop", 4);
	hx_inject(&h, h.frame, n);
	CHECK_EQ(HSTAT(&h, ip_drop_src), 4);
	CHECK_EQ(shunt_script_pending(h.nif), 0);
	shunt_tcp_close(l);
	hx_fini(&h);
}

static int local_got;

static void
local_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	(void)arg;
	(void)pcb;
	(void)ip;
	(void)port;
	local_got += (int)p->tot_len;
	shunt_pbuf_free(p);
}

TEST(hostile_own_source_still_delivered_locally)
{
	struct shunt_udp_pcb *a, *b;
	struct hx h;
	int i;

	hx_init(&h, NULL);
	a = shunt_udp_new(h.s);
	b = shunt_udp_new(h.s);
	CHECK_EQ(shunt_udp_bind(a, 0, htons(1000)), 0);
	CHECK_EQ(shunt_udp_bind(b, 0, htons(2000)), 0);
	shunt_udp_recv(b, local_recv, NULL);
	local_got = 0;
	/* Our own address as the destination: the loopback queue, where our source is honest. */
	CHECK_EQ(shunt_udp_sendto_buf(a, "hello", 5, h.me, htons(2000)), 0);
	for (i = 0; i < 3; i++)
		shunt_stack_poll(h.s);
	CHECK_EQ(local_got, 5);
	CHECK_EQ(HSTAT(&h, ip_drop_src), 0);
	shunt_udp_remove(a);
	shunt_udp_remove(b);
	hx_fini(&h);
}

TEST(hostile_zeronet_source_dropped)
{
	struct hx h;
	size_t n;

	hx_init(&h, NULL);
	n = pkt_ping(h.frame, our_mac, peer_mac, ip4("0.0.0.0"), h.me, 1, 1, "x", 1);
	hx_inject(&h, h.frame, n);
	n = pkt_ping(h.frame, our_mac, peer_mac, ip4("0.1.2.3"), h.me, 1, 1, "x", 1);
	hx_inject(&h, h.frame, n);
	CHECK_EQ(HSTAT(&h, ip_drop_src), 2);
	CHECK_EQ(shunt_script_pending(h.nif), 0);
	hx_fini(&h);
}

/* A ping from the peer whose IPv4 header carries opts (a multiple of 4 bytes). */
static size_t
ping_with_opts(struct hx *h, const uint8_t *opts, size_t olen)
{
	size_t n = pkt_ping(h->frame, our_mac, peer_mac, h->peer, h->me, 9, 9, "opts", 4);
	uint8_t *ip = h->frame + 14;
	uint16_t tot;
	uint16_t c;

	memmove(ip + 20 + olen, ip + 20, n - 14 - 20);
	memcpy(ip + 20, opts, olen);
	ip[0] = (uint8_t)(0x40 | ((20 + olen) / 4));
	tot = (uint16_t)((ip[2] << 8 | ip[3]) + olen);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[10] = ip[11] = 0;
	c = csum16(0, ip, 20 + olen);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return n + olen;
}

TEST(hostile_ip_options_validated)
{
	static const struct {
		uint8_t o[12];
		size_t len;
		int good;
	} cases[] = {
		{ { 1, 1, 1, 0 }, 4, 1 },				/* NOPs, EOL */
		{ { 7, 7, 4, 0, 0, 0, 0, 0 }, 8, 1 },			/* record route, room for one */
		{ { 68, 8, 5, 0, 0, 0, 0, 0 }, 8, 1 },			/* timestamp */
		{ { 131, 7, 4, 198, 19, 254, 1, 0 }, 8, 1 },		/* loose source route: skipped */
		{ { 0, 0xff, 0xff, 0xff }, 4, 1 },			/* EOL, then anything */
		{ { 7, 39, 0, 0 }, 4, 0 },				/* length past the header */
		{ { 68, 0, 0, 0 }, 4, 0 },				/* length 0 */
		{ { 131, 1, 0, 0 }, 4, 0 },				/* length 1 */
		{ { 7, 7, 1, 0, 0, 0, 0, 0 }, 8, 0 },			/* pointer below 4 */
		{ { 68, 8, 4, 0, 0, 0, 0, 0 }, 8, 0 },			/* timestamp pointer below 5 */
		{ { 1, 1, 1, 0x94 }, 4, 0 },				/* router alert cut short */
	};
	struct hx h;
	size_t i, n;
	uint64_t bad = 0;

	hx_init(&h, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t before = HSTAT(&h, icmp_echo_reply);

		n = ping_with_opts(&h, cases[i].o, cases[i].len);
		hx_inject(&h, h.frame, n);
		shunt_script_clear(h.nif);
		if (cases[i].good) {
			CHECKF(HSTAT(&h, icmp_echo_reply) == before + 1, "case %zu: good options not answered", i);
		} else {
			bad++;
			CHECKF(HSTAT(&h, icmp_echo_reply) == before, "case %zu: bad options answered", i);
			CHECK_EQ(HSTAT(&h, ip_drop_options), bad);
		}
	}
	hx_fini(&h);
}

TEST(hostile_tiny_fragment_flood_bounded_by_truesize)
{
	struct shunt_pool_usage u;
	struct hx h;
	uint8_t d[8];
	size_t n;
	uint32_t i, peak = 0;

	hx_init(&h, NULL);
	memset(d, 0x5a, sizeof(d));
	/*
	 * 6000 fragments of 8 bytes in 20 datagrams that never complete: 1.5 MB
	 * charged by payload (under the 4 MB bound, all kept: 6000 buffers
	 * pinned), 14 MB by the buffers they pin (about 1700 kept).
	 */
	for (i = 0; i < 6000; i++) {
		struct pkt_ip ip = { h.peer, h.me, 17, 64, 0, (uint16_t)(i % 20), (uint16_t)(0x2000 | (i / 20)) };

		n = pkt_ip4(h.frame, our_mac, peer_mac, &ip, d, sizeof(d));
		hx_inject(&h, h.frame, n);
		shunt_stack_pool_usage(h.s, &u);
		if (u.pbuf_in_use > peak)
			peak = u.pbuf_in_use;
	}
	CHECKF(peak < 2100, "the flood held %u buffers", peak);
	CHECK(HSTAT(&h, ip_frag_drop_memory) > 0);
	/* A complete fragmented ping still gets through. */
	{
		uint8_t big[3000];
		uint64_t before = HSTAT(&h, icmp_echo_reply);
		size_t off;

		memset(big, 0, sizeof(big));
		big[0] = 8;	/* echo request, checksum below */
		for (off = 8; off < sizeof(big); off++)
			big[off] = (uint8_t)off;
		{
			uint16_t c = csum16(0, big, sizeof(big));

			big[2] = (uint8_t)(c >> 8);
			big[3] = (uint8_t)c;
		}
		for (off = 0; off < sizeof(big); off += 1000) {
			struct pkt_ip ip = { h.peer, h.me, 1, 64, 0, 0x777,
			    (uint16_t)((off + 1000 < sizeof(big) ? 0x2000 : 0) | (off / 8)) };

			n = pkt_ip4(h.frame, our_mac, peer_mac, &ip, big + off, 1000);
			hx_inject(&h, h.frame, n);
		}
		CHECK_EQ(HSTAT(&h, icmp_echo_reply), before + 1);
	}
	shunt_script_clear(h.nif);
	hx_fini(&h);
}
