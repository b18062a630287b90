/*
 * Local delivery: a stack talking to its own address never puts the packets
 * on the wire and delivers them through the next poll round, as Linux's
 * loopback does.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "tcpapp.h"

struct one {
	struct tapp srv, cli, lst;
};

static int
done(void *arg)
{
	struct one *o = arg;

	return tapp_done(&o->srv) && tapp_done(&o->cli);
}

TEST(loopback_tcp_to_own_address)
{
	static struct testnet tn;
	static struct one o;
	struct shunt_link_stats ls;
	struct shunt_tcp_pcb *l, *c;

	testnet_init(&tn, NULL, 8);
	testnet_settle(&tn, 10000000);
	shunt_link_get_stats(tn.link, 0, &ls);
	memset(&o, 0, sizeof(o));
	l = shunt_tcp_new(tn.s[0]);
	CHECK_EQ(shunt_tcp_bind(l, 0, htons(7000)), 0);
	CHECK_EQ(shunt_tcp_listen(l, 4), 0);
	o.lst.accept_into = &o.srv;
	tapp_listen(&o.lst, l);
	o.cli.tx_seed = 5;
	o.cli.tx_total = 3 << 20;
	o.cli.rx_seed = 6;
	o.cli.rx_expect = 1 << 20;
	o.srv.tx_seed = 6;
	o.srv.tx_total = 1 << 20;
	o.srv.rx_seed = 5;
	o.srv.rx_expect = 3 << 20;
	c = shunt_tcp_new(tn.s[0]);
	CHECK_EQ(tapp_connect(&o.cli, c, tn.ip[0], htons(7000)), 0);
	CHECK(testnet_run(&tn, 10000, 200000, done, &o) >= 0);
	CHECK_EQ(o.cli.rx_bad + o.srv.rx_bad, 0);
	{
		struct shunt_link_stats after;

		/* Nothing of it went on the wire. */
		shunt_link_get_stats(tn.link, 0, &after);
		CHECK_EQ(after.sent, ls.sent);
	}
	shunt_tcp_abort(o.cli.pcb);
	shunt_tcp_abort(o.srv.pcb);
	shunt_tcp_close(l);
	testnet_fini(&tn);
}

static void
count(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	(*(int *)arg)++;
	shunt_pbuf_free(p);
	(void)pcb;
	(void)ip;
	(void)port;
}

TEST(loopback_udp_to_own_address)
{
	static struct testnet tn;
	struct shunt_udp_pcb *a, *b;
	int n = 0, i;

	testnet_init(&tn, NULL, 9);
	a = shunt_udp_new(tn.s[0]);
	b = shunt_udp_new(tn.s[0]);
	CHECK_EQ(shunt_udp_bind(b, tn.ip[0], htons(53)), 0);
	shunt_udp_recv(b, count, &n);
	for (i = 0; i < 100; i++)
		CHECK_EQ(shunt_udp_sendto_buf(a, "x", 1, tn.ip[0], htons(53)), 0);
	/* 100 queued, delivered over the next rounds (32 per round). */
	testnet_run(&tn, 1000, 10, NULL, NULL);
	CHECK_EQ(n, 100);
	/* A large datagram is not fragmented on the way to ourselves. */
	{
		static uint8_t big[20000];

		CHECK_EQ(shunt_udp_sendto_buf(a, big, sizeof(big), tn.ip[0], htons(53)), 0);
		testnet_run(&tn, 1000, 2, NULL, NULL);
		CHECK_EQ(n, 101);
	}
	shunt_udp_remove(a);
	shunt_udp_remove(b);
	testnet_fini(&tn);
}
