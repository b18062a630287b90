/*
 * Two stacks over the in-memory link: UDP under injected loss, duplication,
 * reordering and corruption.  The link's hook records every datagram copy that
 * goes on the wire; the receiver must get exactly that multiset, intact.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "pkt.h"

#define NDGRAM 10000

struct wire_log {
	uint16_t on_wire[NDGRAM];	/* copies of each datagram that the link carried */
	int arp_requests_dropped;
	int drop_first_arp;
	uint8_t dst_mac[6];		/* side 1's MAC: a frame with another destination is not intact */
};

struct rx_state {
	uint16_t got[NDGRAM];
	int total, bad, reordered;
	int last_seq;
};

/* Datagram i: a 4-byte sequence number, then bytes derived from it. */
static uint32_t
dgram_len(int i)
{
	return 4 + (uint32_t)(i * 37 % 1400);
}

static void
dgram_fill(uint8_t *b, int i)
{
	uint32_t n = dgram_len(i), k;

	memcpy(b, &i, 4);
	for (k = 4; k < n; k++)
		b[k] = (uint8_t)(i * 131 + k * 7);
}

static int
hook(void *arg, int side, uint8_t *frame, uint32_t *len, uint32_t cap)
{
	struct wire_log *w = arg;
	struct pkt_view v;
	int seq;

	(void)cap;
	if (pkt_parse(frame, *len, &v) != 0)
		return 0;
	if (v.eth_type == 0x0806 && v.arp_op == 1 && w->drop_first_arp) {
		w->drop_first_arp = 0;
		w->arp_requests_dropped++;
		return 1;
	}
	/* Count only intact data datagrams from side 0: corrupted copies must not arrive. */
	if (side == 0 && v.proto == 17 && v.l4_csum_ok && v.ip_csum_ok && v.l4_len >= 12 &&
	    memcmp(v.dmac, w->dst_mac, 6) == 0) {
		memcpy(&seq, v.l4 + 8, 4);
		if (seq >= 0 && seq < NDGRAM)
			w->on_wire[seq]++;
	}
	return 0;
}

static void
on_rx(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src, uint16_t sport)
{
	struct rx_state *r = arg;
	uint8_t buf[1500], want[1500];
	int seq;

	(void)pcb;
	(void)src;
	(void)sport;
	if (p->tot_len < 4 || shunt_pbuf_copy_out(p, 0, buf, sizeof(buf)) != p->tot_len) {
		r->bad++;
		goto out;
	}
	memcpy(&seq, buf, 4);
	if (seq < 0 || seq >= NDGRAM || p->tot_len != dgram_len(seq)) {
		r->bad++;
		goto out;
	}
	dgram_fill(want, seq);
	if (memcmp(buf, want, p->tot_len) != 0) {
		r->bad++;
		goto out;
	}
	if (seq < r->last_seq)
		r->reordered++;
	r->last_seq = seq;
	r->got[seq]++;
	r->total++;
out:
	shunt_pbuf_free(p);
}

static void
run_exchange(uint64_t seed, const struct shunt_link_faults *f, int expect_faults)
{
	static struct testnet tn;
	static struct wire_log w;
	static struct rx_state r;
	struct shunt_udp_pcb *tx, *rx;
	struct shunt_link_stats ls;
	uint8_t buf[1500];
	int i, delivered_expect = 0;

	memset(&w, 0, sizeof(w));
	memset(&r, 0, sizeof(r));
	testnet_init(&tn, NULL, seed);
	memcpy(w.dst_mac, tn.mac[1], 6);
	shunt_link_set_hook(tn.link, hook, &w);
	/* Resolve first, so the faults fall on data only. */
	testnet_settle(&tn, 10000000);
	rx = shunt_udp_new(tn.s[1]);
	tx = shunt_udp_new(tn.s[0]);
	CHECK_EQ(shunt_udp_bind(rx, 0, htons(9000)), 0);
	shunt_udp_recv(rx, on_rx, &r);
	CHECK_EQ(shunt_udp_bind(tx, 0, htons(9001)), 0);
	/* Prime ARP before the faults start. */
	CHECK_EQ(shunt_udp_sendto_buf(tx, "", 0, tn.ip[1], htons(9)), 0);
	testnet_settle(&tn, 1000000000);
	shunt_link_set_faults(tn.link, 0, f);
	for (i = 0; i < NDGRAM; i++) {
		dgram_fill(buf, i);
		CHECK_EQ(shunt_udp_sendto_buf(tx, buf, dgram_len(i), tn.ip[1], htons(9000)), 0);
		/* Pace the sender like a real one: let each burst land before the next. */
		if (i % 64 == 63)
			testnet_settle(&tn, 1000000000);
	}
	testnet_settle(&tn, 2000000000);
	CHECK_EQ(shunt_link_in_flight(tn.link), 0);
	CHECK_EQ(r.bad, 0);
	for (i = 0; i < NDGRAM; i++) {
		CHECKF(r.got[i] == w.on_wire[i], "datagram %d: received %u times, carried intact %u times",
		    i, r.got[i], w.on_wire[i]);
		delivered_expect += w.on_wire[i];
	}
	CHECK_EQ(r.total, delivered_expect);
	shunt_link_get_stats(tn.link, 0, &ls);
	if (expect_faults) {
		CHECK(ls.lost > 0 || f->loss_ppm == 0);
		CHECK(ls.duplicated > 0 || f->dup_ppm == 0);
		CHECK(ls.reordered > 0 || f->reorder_ppm == 0);
		CHECK(r.reordered > 0 || f->reorder_ppm == 0);
		CHECK(ls.corrupted > 0 || f->corrupt_ppm == 0);
		/* Each loss and duplicate shows in the count; corrupted copies never arrive. */
		CHECK(r.total <= NDGRAM - (int)ls.lost + (int)ls.duplicated);
		CHECK(r.total >= NDGRAM - (int)ls.lost - (int)ls.corrupted);
		CHECK_EQ(ls.queue_drops, 0);
	} else {
		CHECK_EQ(r.total, NDGRAM);
	}
	shunt_udp_remove(tx);
	shunt_udp_remove(rx);
	testnet_fini(&tn);
}

TEST(udp_link_clean_10000)
{
	struct shunt_link_faults f;

	memset(&f, 0, sizeof(f));
	run_exchange(1, &f, 0);
}

TEST(udp_link_faults_10000)
{
	struct shunt_link_faults f;
	uint64_t seed;

	for (seed = 1; seed <= 3; seed++) {
		memset(&f, 0, sizeof(f));
		f.seed = seed;
		f.loss_ppm = 50000;		/* 5 % */
		f.dup_ppm = 20000;		/* 2 % */
		f.reorder_ppm = 100000;		/* 10 % */
		f.reorder_delay_ns = 300000;
		f.corrupt_ppm = 10000;		/* 1 % */
		f.delay_ns = 50000;
		f.jitter_ns = 20000;
		run_exchange(seed, &f, 1);
	}
}

struct arp_rx {
	int n;
};

static void
count_rx(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src, uint16_t sport)
{
	((struct arp_rx *)arg)->n++;
	shunt_pbuf_free(p);
	(void)pcb;
	(void)src;
	(void)sport;
}

TEST(arp_survives_loss_of_first_request)
{
	static struct testnet tn;
	static struct wire_log w;
	struct arp_rx r = { 0 };
	struct shunt_udp_pcb *tx, *rx;
	uint8_t mac[6];

	memset(&w, 0, sizeof(w));
	testnet_init(&tn, NULL, 99);
	testnet_settle(&tn, 10000000);		/* gratuitous ARPs go by */
	w.drop_first_arp = 1;
	shunt_link_set_hook(tn.link, hook, &w);
	rx = shunt_udp_new(tn.s[1]);
	tx = shunt_udp_new(tn.s[0]);
	CHECK_EQ(shunt_udp_bind(rx, 0, htons(9000)), 0);
	shunt_udp_recv(rx, count_rx, &r);
	CHECK_EQ(shunt_udp_sendto_buf(tx, "held", 4, tn.ip[1], htons(9000)), 0);
	testnet_run(&tn, 100000000, 5, NULL, NULL);	/* 0.5 s: first request lost, nothing yet */
	CHECK_EQ(w.arp_requests_dropped, 1);
	CHECK_EQ(r.n, 0);
	testnet_run(&tn, 100000000, 10, NULL, NULL);	/* the retry at 1 s resolves it */
	CHECK_EQ(r.n, 1);
	CHECK_EQ(shunt_arp_lookup(tn.s[0], tn.ip[1], mac), 0);
	CHECK_MEM(mac, tn.mac[1], 6);
	shunt_udp_remove(tx);
	shunt_udp_remove(rx);
	testnet_fini(&tn);
}

TEST(udp_broadcast_reaches_all_bound)
{
	static struct testnet tn;
	struct arp_rx r1 = { 0 }, r2 = { 0 };
	struct shunt_udp_pcb *tx, *a, *b;

	testnet_init(&tn, NULL, 5);
	a = shunt_udp_new(tn.s[1]);
	b = shunt_udp_new(tn.s[1]);
	tx = shunt_udp_new(tn.s[0]);
	shunt_udp_set_flags(a, SHUNT_UDP_F_REUSEADDR);
	shunt_udp_set_flags(b, SHUNT_UDP_F_REUSEADDR);
	CHECK_EQ(shunt_udp_bind(a, 0, htons(67)), 0);
	CHECK_EQ(shunt_udp_bind(b, 0, htons(67)), 0);
	shunt_udp_recv(a, count_rx, &r1);
	shunt_udp_recv(b, count_rx, &r2);
	shunt_udp_set_flags(tx, SHUNT_UDP_F_BROADCAST);
	CHECK_EQ(shunt_udp_sendto_buf(tx, "all", 3, ip4("255.255.255.255"), htons(67)), 0);
	CHECK_EQ(shunt_udp_sendto_buf(tx, "net", 3, ip4("198.18.0.255"), htons(67)), 0);
	testnet_settle(&tn, 10000000);
	CHECK_EQ(r1.n, 2);
	CHECK_EQ(r2.n, 2);
	shunt_udp_remove(a);
	shunt_udp_remove(b);
	shunt_udp_remove(tx);
	testnet_fini(&tn);
}
