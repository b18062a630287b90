/*
 * ARP, IPv4, ICMP and UDP against a scripted peer: the test injects frames
 * and reads back exactly what the stack sent.  Stack at 198.18.0.2/24
 * (MAC 02:00:00:00:00:02), the peer at 198.18.0.1 (MAC 02:00:00:00:00:01).
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "pkt.h"

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fx {
	struct shunt_vclock clock;
	struct shunt_stack *s;
	struct shunt_netif *nif;
	uint32_t me, peer;
	uint8_t frame[70000];
};

static void
fx_init_cfg(struct fx *f, struct shunt_stack_config *cfg)
{
	struct shunt_stack_config c;
	int err;

	if (cfg != NULL)
		c = *cfg;
	else
		shunt_stack_config_init(&c);
	shunt_vclock_init(&f->clock, 1000000000ull);
	c.clock = &f->clock.clock;
	c.seed = 7;
	f->s = shunt_stack_create(&c, &err);
	CHECKF(f->s != NULL, "create %d", err);
	f->nif = shunt_script_netif_create(f->s, our_mac, 1500, 0, &err);
	CHECK(f->nif != NULL);
	f->me = ip4("198.18.0.2");
	f->peer = ip4("198.18.0.1");
	CHECK_EQ(shunt_netif_set_ip4(f->nif, f->me, ip4("255.255.255.0"), 0), 0);
	CHECK_EQ(shunt_netif_up(f->nif), 0);
}

static void
fx_init(struct fx *f)
{
	fx_init_cfg(f, NULL);
	shunt_script_clear(f->nif);	/* the gratuitous ARP */
	CHECK_EQ(shunt_arp_add_static(f->s, f->peer, peer_mac), 0);
}

static void
fx_fini(struct fx *f)
{
	shunt_stack_poll(f->s);
	shunt_script_clear(f->nif);
	destroy_no_leaks(f->s);
}

static void
inject(struct fx *f, const uint8_t *frame, size_t len)
{
	CHECK_EQ(shunt_script_inject(f->nif, frame, (uint32_t)len), 0);
	shunt_stack_poll(f->s);
}

/* Takes the next sent frame into f->frame and parses it; fails if there is none. */
static struct pkt_view
take(struct fx *f)
{
	struct pkt_view v;
	int n = shunt_script_take(f->nif, f->frame, sizeof(f->frame));

	CHECKF(n > 0, "expected a frame, got none");
	CHECK_EQ(pkt_parse(f->frame, (size_t)n, &v), 0);
	return v;
}

static uint64_t
stat(struct fx *f, size_t off)
{
	struct shunt_stats st;

	shunt_stack_stats(f->s, &st);
	return *(uint64_t *)((char *)&st + off);
}
#define STAT(f, name) stat((f), offsetof(struct shunt_stats, name))

TEST(arp_gratuitous_on_up)
{
	struct fx f;
	struct pkt_view v;

	fx_init_cfg(&f, NULL);
	v = take(&f);
	CHECK_EQ(v.eth_type, 0x0806);
	CHECK_EQ(v.arp_op, 1);
	CHECK_EQ(v.arp_spa, f.me);
	CHECK_EQ(v.arp_tpa, f.me);
	CHECK_MEM(v.dmac, bcast, 6);
	fx_fini(&f);
}

TEST(arp_replies_and_learns)
{
	struct fx f;
	struct pkt_view v;
	uint8_t mac[6];
	size_t n;

	fx_init_cfg(&f, NULL);
	shunt_script_clear(f.nif);
	n = pkt_arp(f.frame, bcast, peer_mac, 1, peer_mac, f.peer, (uint8_t[6]){ 0 }, f.me);
	inject(&f, f.frame, n);
	v = take(&f);
	CHECK_EQ(v.arp_op, 2);
	CHECK_EQ(v.arp_spa, f.me);
	CHECK_EQ(v.arp_tpa, f.peer);
	CHECK_MEM(v.dmac, peer_mac, 6);
	CHECK_MEM(v.smac, our_mac, 6);
	CHECK_EQ(shunt_arp_lookup(f.s, f.peer, mac), 0);
	CHECK_MEM(mac, peer_mac, 6);
	/* A request for someone else teaches nothing and gets no answer. */
	n = pkt_arp(f.frame, bcast, peer_mac, 1, peer_mac, ip4("198.18.0.7"), (uint8_t[6]){ 0 }, ip4("198.18.0.9"));
	inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	CHECK_EQ(shunt_arp_lookup(f.s, ip4("198.18.0.7"), mac), -ENOENT);
	/* Someone claiming our address is a conflict, counted and ignored. */
	n = pkt_arp(f.frame, bcast, peer_mac, 1, peer_mac, f.me, (uint8_t[6]){ 0 }, f.me);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, arp_drop_conflict), 1);
	/* Truncated ARP. */
	inject(&f, f.frame, 14 + 20);
	CHECK_EQ(STAT(&f, arp_drop_malformed), 1);
	fx_fini(&f);
}

TEST(arp_holds_packets_retries_and_gives_up)
{
	struct fx f;
	struct pkt_view v;
	struct shunt_udp_pcb *u;
	uint32_t other = ip4("198.18.0.77");
	uint8_t mac77[6] = { 2, 0, 0, 0, 0, 0x77 };
	int i;
	size_t n;

	fx_init(&f);
	u = shunt_udp_new(f.s);
	CHECK_EQ(shunt_udp_sendto_buf(u, "one", 3, other, htons(9)), 0);
	CHECK_EQ(shunt_udp_sendto_buf(u, "two", 3, other, htons(9)), 0);
	v = take(&f);
	CHECK_EQ(v.arp_op, 1);
	CHECK_EQ(v.arp_tpa, other);
	CHECK_EQ(shunt_script_pending(f.nif), 0);	/* datagrams wait */
	/* The answer releases them, in order. */
	n = pkt_arp(f.frame, our_mac, mac77, 2, mac77, other, our_mac, f.me);
	inject(&f, f.frame, n);
	v = take(&f);
	CHECK_EQ(v.proto, 17);
	CHECK_MEM(v.dmac, mac77, 6);
	CHECK_MEM(v.l4 + 8, "one", 3);
	v = take(&f);
	CHECK_MEM(v.l4 + 8, "two", 3);

	/* An address nobody answers for: 3 requests a second apart, then the packet is dropped. */
	CHECK_EQ(shunt_udp_sendto_buf(u, "lost", 4, ip4("198.18.0.99"), htons(9)), 0);
	for (i = 0; i < 3; i++) {
		v = take(&f);
		CHECK_EQ(v.arp_op, 1);
		CHECK_EQ(shunt_script_pending(f.nif), 0);
		shunt_vclock_advance(&f.clock, 1000000000ull);
		shunt_stack_poll(f.s);
	}
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	CHECK_EQ(STAT(&f, arp_drop_unresolved), 1);
	shunt_udp_remove(u);
	fx_fini(&f);
}

TEST(arp_pending_queue_is_bounded)
{
	struct shunt_stack_config c;
	struct fx f;
	struct shunt_udp_pcb *u;
	static uint8_t d[1400];
	int i;

	/* In packets: Linux's unres_qlen, 101. */
	fx_init(&f);
	u = shunt_udp_new(f.s);
	for (i = 0; i < 150; i++)
		CHECK_EQ(shunt_udp_sendto_buf(u, "x", 1, ip4("198.18.0.50"), htons(9)), 0);
	CHECK_EQ(STAT(&f, arp_drop_queue_full), 150 - 101);
	shunt_udp_remove(u);
	fx_fini(&f);

	/* In bytes: Linux's unres_qlen_bytes, 212992, of 1428-byte datagrams: 149 fit. */
	shunt_stack_config_init(&c);
	c.arp_queue_len = 1000;
	fx_init_cfg(&f, &c);
	shunt_script_clear(f.nif);
	u = shunt_udp_new(f.s);
	for (i = 0; i < 200; i++)
		CHECK_EQ(shunt_udp_sendto_buf(u, d, sizeof(d), ip4("198.18.0.50"), htons(9)), 0);
	CHECK_EQ(STAT(&f, arp_drop_queue_full), 200 - 212992 / (20 + 8 + 1400));
	shunt_udp_remove(u);
	fx_fini(&f);
}

TEST(icmp_echo_reply)
{
	struct fx f;
	struct pkt_view v;
	uint8_t data[56];
	size_t n;
	int i;

	fx_init(&f);
	for (i = 0; i < 56; i++)
		data[i] = (uint8_t)i;
	n = pkt_ping(f.frame, our_mac, peer_mac, f.peer, f.me, 0x1234, 7, data, sizeof(data));
	inject(&f, f.frame, n);
	v = take(&f);
	CHECK_EQ(v.proto, 1);
	CHECK_EQ(v.icmp_type, 0);
	CHECK(v.l4_csum_ok);
	CHECK(v.ip_csum_ok);
	CHECK_EQ(v.src, f.me);
	CHECK_EQ(v.dst, f.peer);
	CHECK_EQ(v.l4[4] << 8 | v.l4[5], 0x1234);
	CHECK_EQ(v.l4[6] << 8 | v.l4[7], 7);
	CHECK_MEM(v.l4 + 8, data, 56);
	/* A ping with a broken checksum is dropped and counted. */
	n = pkt_ping(f.frame, our_mac, peer_mac, f.peer, f.me, 1, 1, data, sizeof(data));
	f.frame[14 + 20 + 9] ^= 0x40;
	inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	CHECK_EQ(STAT(&f, icmp_drop_csum), 1);
	/* Broadcast pings are ignored (Linux icmp_echo_ignore_broadcasts). */
	n = pkt_ping(f.frame, bcast, peer_mac, f.peer, ip4("198.18.0.255"), 1, 1, data, 8);
	inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	fx_fini(&f);
}

/* Sends a payload as IPv4 fragments of at most `chunk` bytes (a multiple of 8), in the given order. */
static void
inject_fragments(struct fx *f, const uint8_t *l4, size_t len, size_t chunk, uint16_t id, const int *order, int nfrag)
{
	int k;

	for (k = 0; k < nfrag; k++) {
		size_t off = (size_t)order[k] * chunk;
		size_t n = len - off < chunk ? len - off : chunk;
		struct pkt_ip ip = { f->peer, f->me, 1, 64, 0, id, 0 };
		uint8_t fr[2000];
		size_t fl;

		ip.frag = (uint16_t)((off / 8) | (off + n < len ? 0x2000 : 0));
		fl = pkt_ip4(fr, our_mac, peer_mac, &ip, l4 + off, n);
		inject(f, fr, fl);
	}
}

TEST(icmp_fragmented_ping_4000)
{
	struct fx f;
	uint8_t msg[4008], back[4008];
	size_t got = 0;
	int order[3] = { 2, 0, 1 }, i;
	struct pkt_view v;
	uint32_t sum = 0;

	fx_init(&f);
	msg[0] = 8;
	msg[1] = 0;
	msg[2] = msg[3] = 0;
	msg[4] = 0;
	msg[5] = 9;
	msg[6] = 0;
	msg[7] = 1;
	for (i = 8; i < 4008; i++)
		msg[i] = (uint8_t)(i * 3);
	for (i = 0; i < 4008; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	msg[2] = (uint8_t)(~sum >> 8);
	msg[3] = (uint8_t)~sum;
	inject_fragments(&f, msg, sizeof(msg), 1480, 0x4242, order, 3);
	CHECK_EQ(STAT(&f, ip_frag_reassembled), 1);
	/* The reply leaves in fragments of at most 1480 bytes; reassemble it here. */
	while (shunt_script_pending(f.nif) > 0) {
		uint16_t off;

		v = take(&f);
		CHECK_EQ(v.proto, 1);
		CHECK(v.ip_csum_ok);
		CHECK(v.l4_len <= 1480);
		off = (uint16_t)((v.frag & 0x1fff) * 8);
		CHECK(off + v.l4_len <= sizeof(back));
		memcpy(back + off, v.l4, v.l4_len);
		got += v.l4_len;
	}
	CHECK_EQ(got, sizeof(msg));
	CHECK_EQ(back[0], 0);					/* echo reply */
	CHECK_MEM(back + 4, msg + 4, sizeof(msg) - 4);
	CHECK_EQ(STAT(&f, ip_frag_tx), 3);
	fx_fini(&f);
}

TEST(ip_fragment_overlap_and_oversize_dropped)
{
	struct fx f;
	uint8_t msg[3000];
	int order[2] = { 0, 1 };
	struct pkt_ip ip;
	size_t n;

	fx_init(&f);
	memset(msg, 0xab, sizeof(msg));
	/* Overlap: fragment 0 covers [0,1480), then one at [1000,2000). */
	inject_fragments(&f, msg, 1480 + 8, 1480, 0x100, order, 1);
	ip = (struct pkt_ip){ f.peer, f.me, 1, 64, 0, 0x100, (uint16_t)(1000 / 8) };
	n = pkt_ip4(f.frame, our_mac, peer_mac, &ip, msg, 1000);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_frag_drop_overlap), 1);
	CHECK_EQ(STAT(&f, ip_frag_reassembled), 0);
	/* Ping of death: offset 65528 with 100 bytes exceeds 65535. */
	ip = (struct pkt_ip){ f.peer, f.me, 1, 64, 0, 0x200, (uint16_t)(65528 / 8) };
	n = pkt_ip4(f.frame, our_mac, peer_mac, &ip, msg, 100);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_frag_drop_oversize), 1);
	/* A middle fragment whose length is not a multiple of 8. */
	ip = (struct pkt_ip){ f.peer, f.me, 1, 64, 0, 0x300, 0x2000 };
	n = pkt_ip4(f.frame, our_mac, peer_mac, &ip, msg, 100);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_frag_drop_bad), 1);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	(void)order;
	fx_fini(&f);
}

TEST(ip_reassembly_timeout_sends_time_exceeded)
{
	struct fx f;
	uint8_t msg[2000];
	int order[1] = { 0 };
	struct pkt_view v;

	fx_init(&f);
	memset(msg, 1, sizeof(msg));
	msg[0] = 8;	/* looks like an echo request; quoting must not care */
	inject_fragments(&f, msg, sizeof(msg), 1480, 0x777, order, 1);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	shunt_vclock_advance(&f.clock, 29000000000ull);
	shunt_stack_poll(f.s);
	CHECK_EQ(STAT(&f, ip_frag_drop_timeout), 0);
	shunt_vclock_advance(&f.clock, 1000000000ull);
	shunt_stack_poll(f.s);
	CHECK_EQ(STAT(&f, ip_frag_drop_timeout), 1);
	v = take(&f);
	CHECK_EQ(v.icmp_type, 11);
	CHECK_EQ(v.icmp_code, 1);
	CHECK(v.l4_csum_ok);
	fx_fini(&f);
}

TEST(ip_reassembly_memory_bound_under_flood)
{
	struct shunt_stack_config c;
	struct fx f;
	uint8_t d[1480];
	uint16_t id;
	size_t n;

	shunt_stack_config_init(&c);
	c.reass_max_bytes = 64 * 1024;
	fx_init_cfg(&f, &c);
	shunt_script_clear(f.nif);
	memset(d, 0x5a, sizeof(d));
	/* 2000 first fragments that never complete. */
	for (id = 0; id < 2000; id++) {
		struct pkt_ip ip = { f.peer, f.me, 17, 64, 0, id, 0x2000 };

		n = pkt_ip4(f.frame, our_mac, peer_mac, &ip, d, id % 2 ? 1480 : 8);
		inject(&f, f.frame, n);
	}
	CHECK(STAT(&f, ip_frag_drop_memory) > 1000);
	/* A complete datagram still gets through afterwards. */
	{
		struct shunt_udp_pcb *u = shunt_udp_new(f.s);

		CHECK_EQ(shunt_udp_bind(u, 0, htons(7)), 0);
		n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1000, 7, "ok", 2);
		inject(&f, f.frame, n);
		shunt_udp_remove(u);
	}
	fx_fini(&f);
}

TEST(udp_closed_port_unreachable_and_ratelimit)
{
	struct fx f;
	struct pkt_view v;
	size_t n;
	int i;

	fx_init(&f);
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 40000, 9999, "knock", 5);
	inject(&f, f.frame, n);
	v = take(&f);
	CHECK_EQ(v.proto, 1);
	CHECK_EQ(v.icmp_type, 3);
	CHECK_EQ(v.icmp_code, 3);
	CHECK(v.l4_csum_ok);
	/* The quote: original IP header (src = peer) and the UDP header. */
	CHECK_EQ(v.l4_len, 8 + 20 + 8 + 5);
	CHECK_MEM(v.l4 + 8 + 12, &f.peer, 4);
	CHECK_EQ(v.l4[8 + 20 + 2] << 8 | v.l4[8 + 20 + 3], 9999);
	/* Broadcast to a closed port: silence. */
	n = pkt_udp(f.frame, bcast, peer_mac, f.peer, ip4("255.255.255.255"), 40000, 9999, "x", 1);
	inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	/* A burst: the bucket (50 deep) empties, the rest are counted. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 40000, 9999, "knock", 5);
	for (i = 0; i < 200; i++)
		inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 49);
	CHECK_EQ(STAT(&f, icmp_drop_ratelimit), 151);
	shunt_script_clear(f.nif);
	shunt_vclock_advance(&f.clock, 10000000);	/* 10 ms refills 10 tokens */
	for (i = 0; i < 20; i++)
		inject(&f, f.frame, n);
	CHECK_EQ(shunt_script_pending(f.nif), 10);
	fx_fini(&f);
}

struct rx_log {
	int n;
	uint8_t last[9000];
	uint32_t last_len;
	uint32_t src;
	uint16_t sport;
};

static void
on_udp(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src, uint16_t sport)
{
	struct rx_log *l = arg;

	l->n++;
	l->last_len = shunt_pbuf_copy_out(p, 0, l->last, sizeof(l->last));
	l->src = src;
	l->sport = sport;
	shunt_pbuf_free(p);
	(void)pcb;
}

TEST(udp_malformed_input_counted)
{
	struct fx f;
	struct shunt_udp_pcb *u;
	struct rx_log log = { 0 };
	size_t n;

	fx_init(&f);
	u = shunt_udp_new(f.s);
	CHECK_EQ(shunt_udp_bind(u, 0, htons(7)), 0);
	shunt_udp_recv(u, on_udp, &log);
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1234, 7, "payload", 7);
	inject(&f, f.frame, n);
	CHECK_EQ(log.n, 1);
	CHECK_EQ(log.last_len, 7);
	CHECK_EQ(ntohs(log.sport), 1234);
	/* Bad UDP checksum. */
	f.frame[n - 1] ^= 1;
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, udp_drop_csum), 1);
	f.frame[n - 1] ^= 1;
	/* UDP length larger than the IP payload. */
	f.frame[14 + 20 + 5] = 200;
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, udp_drop_malformed), 1);
	/* IP header checksum broken. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1234, 7, "payload", 7);
	f.frame[14 + 10] ^= 0xff;
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_drop_csum), 1);
	/* Truncated frames at every length up to the IP header end. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1234, 7, "payload", 7);
	for (size_t k = 0; k < 14 + 20 + 8; k++)
		inject(&f, f.frame, k);
	CHECK_EQ(log.n, 1);
	CHECK(STAT(&f, eth_drop_short) + STAT(&f, ip_drop_short) + STAT(&f, udp_drop_malformed) >= 14 + 20 + 8 - 1);
	/* IHL below 5, total length below IHL. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1234, 7, "payload", 7);
	f.frame[14] = 0x43;
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_drop_hlen), 1);
	/* Ethernet padding after a short datagram is ignored. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, f.me, 1234, 7, "pad", 3);
	memset(f.frame + n, 0xee, 60 - n);
	inject(&f, f.frame, 60);
	CHECK_EQ(log.n, 2);
	CHECK_EQ(log.last_len, 3);
	/* Martian source. */
	n = pkt_udp(f.frame, our_mac, peer_mac, ip4("127.0.0.1"), f.me, 1234, 7, "x", 1);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_drop_src), 1);
	/* Not for us. */
	n = pkt_udp(f.frame, our_mac, peer_mac, f.peer, ip4("198.18.0.3"), 1234, 7, "x", 1);
	inject(&f, f.frame, n);
	CHECK_EQ(STAT(&f, ip_drop_not_ours), 1);
	CHECK_EQ(log.n, 2);
	CHECK_EQ(shunt_script_pending(f.nif), 0);
	shunt_udp_remove(u);
	fx_fini(&f);
}

TEST(udp_send_fragments_large_datagram)
{
	struct fx f;
	struct shunt_udp_pcb *u;
	uint8_t data[4000], back[4100];
	struct pkt_view v;
	uint32_t got = 0;
	int frags = 0, i;

	fx_init(&f);
	for (i = 0; i < 4000; i++)
		data[i] = (uint8_t)(i * 7);
	u = shunt_udp_new(f.s);
	CHECK_EQ(shunt_udp_bind(u, 0, htons(5555)), 0);
	CHECK_EQ(shunt_udp_sendto_buf(u, data, 4000, f.peer, htons(6666)), 0);
	while (shunt_script_pending(f.nif) > 0) {
		v = take(&f);
		CHECK(v.ip_csum_ok);
		CHECK(v.ip_len <= 1500);
		memcpy(back + (v.frag & 0x1fff) * 8, v.l4, v.l4_len);
		got += (uint32_t)v.l4_len;
		frags++;
		if (frags < 3)
			CHECK(v.frag & 0x2000);
		else
			CHECK(!(v.frag & 0x2000));
	}
	CHECK_EQ(frags, 3);
	CHECK_EQ(got, 4008);
	CHECK_MEM(back + 8, data, 4000);
	/* Too large for any datagram. */
	{
		static uint8_t big[70000];

		CHECK_EQ(shunt_udp_sendto_buf(u, big, 65508, f.peer, htons(1)), -EMSGSIZE);
	}
	/* Broadcast needs the flag. */
	CHECK_EQ(shunt_udp_sendto_buf(u, "b", 1, ip4("198.18.0.255"), htons(1)), -EACCES);
	shunt_udp_set_flags(u, SHUNT_UDP_F_BROADCAST);
	CHECK_EQ(shunt_udp_sendto_buf(u, "b", 1, ip4("198.18.0.255"), htons(1)), 0);
	v = take(&f);
	CHECK_MEM(v.dmac, bcast, 6);
	/* No route off the subnet without a gateway. */
	CHECK_EQ(shunt_udp_sendto_buf(u, "b", 1, ip4("198.19.5.5"), htons(1)), -ENETUNREACH);
	shunt_udp_remove(u);
	fx_fini(&f);
}

TEST(udp_bind_rules)
{
	struct fx f;
	struct shunt_udp_pcb *a, *b, *c;
	uint32_t ip;
	uint16_t port;

	fx_init(&f);
	a = shunt_udp_new(f.s);
	b = shunt_udp_new(f.s);
	c = shunt_udp_new(f.s);
	CHECK_EQ(shunt_udp_bind(a, 0, htons(53)), 0);
	CHECK_EQ(shunt_udp_bind(b, f.me, htons(53)), -EADDRINUSE);
	CHECK_EQ(shunt_udp_bind(b, ip4("198.18.0.9"), htons(54)), -EADDRNOTAVAIL);
	shunt_udp_set_flags(a, SHUNT_UDP_F_REUSEADDR);
	shunt_udp_set_flags(b, SHUNT_UDP_F_REUSEADDR);
	CHECK_EQ(shunt_udp_bind(b, f.me, htons(53)), 0);
	CHECK_EQ(shunt_udp_bind(c, 0, 0), 0);
	shunt_udp_local(c, &ip, &port);
	CHECK(ntohs(port) >= 32768 && ntohs(port) <= 60999);
	CHECK_EQ(shunt_udp_bind(c, 0, 0), -EINVAL);	/* already bound */
	shunt_udp_remove(a);
	shunt_udp_remove(b);
	shunt_udp_remove(c);
	fx_fini(&f);
}
