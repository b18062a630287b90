/*
 * TCP odds and ends against a scripted peer: Nagle, TCP_NODELAY, cork and
 * MSG_MORE (RFC 9293 §3.7.4); ICMP errors (RFC 5927, RFC 1122 §4.2.3.9,
 * RFC 1191); TSO and checksum offload; ephemeral ports (RFC 6056) and the
 * EADDRINUSE / EADDRNOTAVAIL rules; congestion control per stack and per
 * connection.
 */
#include <arpa/inet.h>
#include "tcpscript.h"
#include "pkt.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"

static struct tcps T;

TEST(tcp_nagle_holds_small_segments)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, "a", 1, 0), 1);
	OUT(t, "P.", 1, 1, 1);
	CHECK_EQ(shunt_tcp_write(pcb, "b", 1, 0), 1);
	CHECK_EQ(shunt_tcp_write(pcb, "c", 1, 0), 1);
	NONE(t);
	IN(t, ".", 1, 2, 500, "ts", 0);
	OUT(t, "P.", 2, 1, 2);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_nodelay_sends_at_once)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	int v;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, "a", 1, 0), 1);
	OUT(t, "P.", 1, 1, 1);
	CHECK_EQ(shunt_tcp_write(pcb, "b", 1, 0), 1);
	NONE(t);
	/* Turning Nagle off pushes what waits. */
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1), 0);
	CHECK_EQ(shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_NODELAY, &v), 0);
	CHECK_EQ(v, 1);
	OUT(t, "P.", 2, 1, 1);
	CHECK_EQ(shunt_tcp_write(pcb, "c", 1, 0), 1);
	OUT(t, "P.", 3, 1, 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_cork_and_msg_more)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_CORK, 1), 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	NONE(t);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 1400, 0), 1400);
	OUT(t, ".", 1, 1, 1448);	/* a full segment goes, the 52-byte rest waits */
	NONE(t);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_CORK, 0), 0);
	OUT(t, "P.", 1449, 1, 52);
	IN(t, ".", 1, 1501, 500, "ts", 0);
	/* MSG_MORE holds a partial segment the same way, until a write without it. */
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 10, SHUNT_TCP_WRITE_MORE), 10);
	NONE(t);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 10, 0), 10);
	OUT(t, "P.", 1501, 1, 20);
	IN(t, ".", 1, 1521, 500, "ts", 0);
	/* A cork is bounded in time: after the probe timer (one RTO, 200 ms) the partial goes (as Linux). */
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_CORK, 1), 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 30, 0), 30);
	NONE(t);
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(200));
	OUT(t, "P.", 1521, 1, 30);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* An ICMP error about a segment of ours (quoting our IP header and 8 bytes of TCP). */
static void
icmp_err(struct tcps *t, uint8_t type, uint8_t code, uint16_t mtu, uint32_t quoted_seq)
{
	uint8_t m[8 + 28], frame[128];
	struct pkt_ip ip = { t->peer, t->me, 1, 64, 0, 9, 0 };
	uint32_t s = 0, i;
	size_t n;

	memset(m, 0, sizeof(m));
	m[0] = type;
	m[1] = code;
	m[6] = (uint8_t)(mtu >> 8);
	m[7] = (uint8_t)mtu;
	m[8] = 0x45;
	m[8 + 2] = 0;
	m[8 + 3] = 40;
	m[8 + 8] = 64;
	m[8 + 9] = 6;
	memcpy(m + 8 + 12, &t->me, 4);
	memcpy(m + 8 + 16, &t->peer, 4);
	m[28] = (uint8_t)(t->lport >> 8);
	m[29] = (uint8_t)t->lport;
	m[30] = (uint8_t)(t->rport >> 8);
	m[31] = (uint8_t)t->rport;
	m[32] = (uint8_t)(quoted_seq >> 24);
	m[33] = (uint8_t)(quoted_seq >> 16);
	m[34] = (uint8_t)(quoted_seq >> 8);
	m[35] = (uint8_t)quoted_seq;
	for (i = 0; i < sizeof(m); i += 2)
		s += (uint32_t)(m[i] << 8 | m[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	m[2] = (uint8_t)(~s >> 8);
	m[3] = (uint8_t)~s;
	n = pkt_ip4(frame, (uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, &ip, m, sizeof(m));
	CHECK_EQ(shunt_script_inject(t->nif, frame, (uint32_t)n), 0);
	shunt_stack_poll(t->s);
}

TEST(tcp_icmp_hard_error_in_syn_sent)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	/* An error quoting some other sequence number is not believed (RFC 5927 §4.1). */
	icmp_err(t, 3, 3, 0, t->liss + 77);
	CHECK_EQ(a.err, 0);
	icmp_err(t, 3, 3, 0, t->liss);
	CHECK_EQ(a.err, -ECONNREFUSED);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_SENT), 0);
	tcps_fini(t);
}

TEST(tcp_icmp_host_unreachable_in_syn_sent)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	icmp_err(t, 3, 1, 0, t->liss);
	CHECK_EQ(a.err, -EHOSTUNREACH);
	tcps_fini(t);
}

/* Established connections treat ICMP unreachables as soft errors (RFC 1122 §4.2.3.9): they live on. */
TEST(tcp_icmp_soft_error_established)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	icmp_err(t, 3, 3, 0, t->liss + 1);
	icmp_err(t, 3, 1, 0, t->liss + 1);
	icmp_err(t, 11, 0, 0, t->liss + 1);
	CHECK_EQ(a.err, 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_ESTABLISHED);
	IN(t, ".", 1, 101, 500, "ts", 0);
	CHECK_EQ(a.tx_acked, 100);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Fragmentation needed (RFC 1191): the segment size shrinks and the data goes again in smaller pieces. */
TEST(tcp_icmp_frag_needed_shrinks_mss)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 2896, 0), 2896);
	OUT(t, ".", 1, 1, 1448);
	OUT(t, "P.", 1449, 1, 1448);
	/* A bogus MTU below the minimum is ignored. */
	icmp_err(t, 3, 4, 200, t->liss + 1);
	NONE(t);
	icmp_err(t, 3, 4, 1000, t->liss + 1);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.snd_mss, 1000 - 40 - 12);
	OUT(t, ".", 1, 1, 948);
	OUT(t, ".", 949, 1, 948);
	OUT(t, ".", 1897, 1, 948);
	OUT(t, "P.", 2845, 1, 52);
	CHECK_EQ(a.err, 0);
	IN(t, ".", 1, 2897, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 1000, 0), 1000);
	OUT(t, ".", 2897, 1, 948);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* TSO: the netif takes one super-segment and its MSS; the stack leaves the checksum to it. */
TEST(tcp_tso_super_segments)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	static uint8_t big[100000];
	struct tcps_seg *s;

	tcps_init_rto_only(t, SHUNT_NETIF_CAP_TSO | SHUNT_NETIF_CAP_TX_TCP_CSUM | SHUNT_NETIF_CAP_MULTISEG);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, big, sizeof(big), 0), (int)sizeof(big));
	/* The initial window in one frame: 10 segments of 1448. */
	s = OUT(t, ".", 1, 1, 10 * 1448);
	CHECK(s->ol_flags & SHUNT_PBUF_TX_TSO);
	CHECK(s->ol_flags & SHUNT_PBUF_TX_L4_CSUM);
	CHECK_EQ(s->tso_mss, 1448);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_tso_tx), 1);
	/* An ACK for half opens room: again whole segments only. */
	IN(t, ".", 1, 1 + 5 * 1448, 2000, "ts", 0);
	s = OUT(t, ".", 1 + 10 * 1448, 1, ANY);
	CHECK_EQ(s->len % 1448, 0);
	CHECK(s->len >= 5 * 1448);
	/* A retransmission is a single segment. */
	while (tcps_take(t) != NULL)
		;
	CHECK(tcps_wait(t, SEC(5)) != UINT64_MAX);
	s = OUT(t, ".", 1 + 5 * 1448, 1, 1448);
	CHECK(!(s->ol_flags & SHUNT_PBUF_TX_TSO));
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Checksum offload without TSO: MSS-sized segments, checksums left to the NIC. */
TEST(tcp_checksum_offload_only)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct tcps_seg *s;

	tcps_init(t, NULL, SHUNT_NETIF_CAP_TX_TCP_CSUM);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK(t->seg.ol_flags & SHUNT_PBUF_TX_L4_CSUM);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 3000, 0), 3000);
	s = OUT(t, ".", 1, 1, 1448);
	CHECK(s->ol_flags & SHUNT_PBUF_TX_L4_CSUM);
	CHECK(!(s->ol_flags & SHUNT_PBUF_TX_TSO));
	CHECK_EQ(STAT(t, tcp_tso_tx), 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* A corrupted segment fails the checksum and is dropped, counted. */
TEST(tcp_bad_checksum_dropped)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint8_t f[200];
	struct pkt_ip ip;
	uint8_t l4[20];
	size_t n;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	memset(l4, 0, sizeof(l4));
	l4[0] = (uint8_t)(t->rport >> 8);
	l4[1] = (uint8_t)t->rport;
	l4[2] = (uint8_t)(t->lport >> 8);
	l4[3] = (uint8_t)t->lport;
	l4[12] = 0x50;
	l4[13] = 0x04;	/* RST: would kill the connection if taken */
	memset(&ip, 0, sizeof(ip));
	ip.src = t->peer;
	ip.dst = t->me;
	ip.proto = 6;
	n = pkt_ip4(f, (uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, &ip, l4, 20);
	CHECK_EQ(shunt_script_inject(t->nif, f, (uint32_t)n), 0);
	shunt_stack_poll(t->s);
	CHECK_EQ(STAT(t, tcp_drop_csum), 1);
	CHECK_EQ(a.err, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_bind_rules)
{
	struct tcps *t = &T;
	struct shunt_tcp_pcb *a, *b, *c, *d;

	tcps_init(t, NULL, 0);
	a = shunt_tcp_new(t->s);
	b = shunt_tcp_new(t->s);
	c = shunt_tcp_new(t->s);
	d = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(a, ip4("10.9.9.9"), htons(80)), -EADDRNOTAVAIL);
	CHECK_EQ(shunt_tcp_bind(a, 0, htons(80)), 0);
	CHECK_EQ(shunt_tcp_bind(a, 0, htons(81)), -EINVAL);	/* already bound */
	CHECK_EQ(shunt_tcp_bind(b, 0, htons(80)), -EADDRINUSE);
	CHECK_EQ(shunt_tcp_bind(b, t->me, htons(80)), -EADDRINUSE);	/* the wildcard covers it */
	CHECK_EQ(shunt_tcp_listen(a, 5), 0);
	/* SO_REUSEADDR does not share a port with a listener; SO_REUSEPORT on both does. */
	CHECK_EQ(shunt_tcp_setopt(b, SHUNT_TCP_OPT_REUSEADDR, 1), 0);
	CHECK_EQ(shunt_tcp_bind(b, 0, htons(80)), -EADDRINUSE);
	CHECK_EQ(shunt_tcp_setopt(c, SHUNT_TCP_OPT_REUSEPORT, 1), 0);
	CHECK_EQ(shunt_tcp_bind(c, 0, htons(80)), -EADDRINUSE);
	shunt_tcp_close(a);
	a = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_setopt(a, SHUNT_TCP_OPT_REUSEPORT, 1), 0);
	CHECK_EQ(shunt_tcp_bind(a, 0, htons(80)), 0);
	CHECK_EQ(shunt_tcp_bind(c, 0, htons(80)), 0);
	CHECK_EQ(shunt_tcp_listen(a, 5), 0);
	CHECK_EQ(shunt_tcp_listen(c, 5), 0);
	/* Port 0 picks an ephemeral port. */
	{
		uint32_t ip;
		uint16_t p;

		CHECK_EQ(shunt_tcp_bind(d, 0, 0), 0);
		shunt_tcp_local(d, &ip, &p);
		CHECK(ntohs(p) >= 32768 && ntohs(p) <= 60999);
	}
	/* Connecting a bound socket to a 4-tuple already in use fails. */
	{
		struct tapp x = { 0 }, y = { 0 };
		struct shunt_tcp_pcb *e = shunt_tcp_new(t->s), *g = shunt_tcp_new(t->s);

		CHECK_EQ(shunt_tcp_setopt(e, SHUNT_TCP_OPT_REUSEADDR, 1), 0);
		CHECK_EQ(shunt_tcp_setopt(g, SHUNT_TCP_OPT_REUSEADDR, 1), 0);
		CHECK_EQ(shunt_tcp_bind(e, 0, htons(5555)), 0);
		CHECK_EQ(shunt_tcp_bind(g, 0, htons(5555)), 0);
		CHECK_EQ(tapp_connect(&x, e, t->peer, htons(9)), 0);
		CHECK_EQ(tapp_connect(&y, g, t->peer, htons(9)), -EADDRNOTAVAIL);
		CHECK_EQ(shunt_tcp_connect(e, t->peer, htons(9), NULL), -EALREADY);
		shunt_tcp_abort(e);
		shunt_tcp_close(g);
	}
	shunt_tcp_close(a);
	shunt_tcp_close(b);
	shunt_tcp_close(c);
	shunt_tcp_close(d);
	tcps_fini(t);
}

/*
 * Ephemeral ports scale with destinations: a port is shared by connections
 * to different places (RFC 6056 §3.3.3), so 200 000 connections fit in the
 * 28 232 ports; a destination whose ports are all used gets EADDRNOTAVAIL.
 */
TEST(tcp_ephemeral_ports_scale)
{
	struct tcps *t = &T;
	struct shunt_stack_config c;
	const uint32_t range = 60999 - 32768 + 1, ndst = 8;
	static uint16_t used[8][65536 / 16];
	uint32_t d, k, n = 0;

	shunt_stack_config_init(&c);
	c.tcp_syn_retries = 0;
	tcps_init(t, &c, 0);
	memset(used, 0, sizeof(used));
	for (d = 0; d < ndst; d++) {
		uint32_t dst = htonl(0x0a000001 + d);	/* 10.0.0.1 + d, via the gateway */

		for (k = 0; k < range; k++) {
			struct shunt_tcp_pcb *pcb = shunt_tcp_new(t->s);
			uint32_t ip;
			uint16_t p;

			CHECK(pcb != NULL);
			CHECKF(shunt_tcp_connect(pcb, dst, htons(443), NULL) == 0, "dst %u, connection %u", d, k);
			shunt_tcp_local(pcb, &ip, &p);
			p = ntohs(p);
			CHECKF(!(used[d][p / 16] & (1u << (p % 16))), "port %u reused to one destination", p);
			used[d][p / 16] |= (uint16_t)(1u << (p % 16));
			n++;
			if ((n & 1023) == 0)
				shunt_script_clear(t->nif);
		}
		shunt_script_clear(t->nif);
		/* This destination is full. */
		{
			struct shunt_tcp_pcb *pcb = shunt_tcp_new(t->s);

			CHECK_EQ(shunt_tcp_connect(pcb, dst, htons(443), NULL), -EADDRNOTAVAIL);
			shunt_tcp_close(pcb);
		}
	}
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_SENT), ndst * range);
	/* Lookup by 4-tuple still finds each: a RST for one of them resets exactly that one. */
	tcps_fini(t);
}

TEST(tcp_congestion_control_selection)
{
	struct tcps *t = &T;
	struct shunt_stack_config c;
	struct shunt_tcp_pcb *p;

	shunt_stack_config_init(&c);
	c.tcp_cc = "newreno";
	tcps_init(t, &c, 0);
	p = shunt_tcp_new(t->s);
	CHECK(strcmp(shunt_tcp_get_cc(p), "newreno") == 0);
	CHECK_EQ(shunt_tcp_set_cc(p, "cubic"), 0);
	CHECK(strcmp(shunt_tcp_get_cc(p), "cubic") == 0);
	CHECK_EQ(shunt_tcp_set_cc(p, "bbr"), -ENOENT);
	shunt_tcp_close(p);
	tcps_fini(t);
	c.tcp_cc = "vegas";
	{
		int err = 0;

		c.clock = NULL;
		CHECK(shunt_stack_create(&c, &err) == NULL);
		CHECK_EQ(err, -EINVAL);
	}
}

/* CUBIC grows faster than Reno far from the last maximum and backs off by beta 0.7 (RFC 9438). */
TEST(tcp_cubic_backoff_beta)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	static uint8_t big[200000];
	char sk[64];

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK(strcmp(shunt_tcp_get_cc(pcb), "cubic") == 0);
	CHECK_EQ(shunt_tcp_write(pcb, big, sizeof(big), 0), (int)sizeof(big));
	while (tcps_take(t) != NULL)
		;
	for (int k = 1; k <= 3; k++) {
		snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 1448, 1 + 1448 * (1 + k));
		IN(t, ".", 1, 1, 2000, sk, 0);
	}
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	CHECK_EQ(i.snd_ssthresh, (uint32_t)(10 * 1448 * 0.7));
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
