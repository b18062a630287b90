/*
 * TCP between two stacks over the in-memory link: handshakes, transfers in
 * both directions at once compared byte for byte, closes, and the same under
 * loss, reordering, duplication and corruption for many seeds.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "tcpapp.h"

struct pair {
	struct tapp srv, cli, lst;
	struct shunt_tcp_pcb *lpcb;
};

static int
pair_done(void *arg)
{
	struct pair *p = arg;

	return tapp_done(&p->srv) && tapp_done(&p->cli);
}

static int
pair_closed(void *arg)
{
	struct pair *p = arg;

	return p->srv.closed && p->cli.closed;
}

/* Opens a connection 198.18.0.1 -> 198.18.0.2:80 carrying `up` bytes up and `down` bytes down. */
static void
pair_open(struct testnet *tn, struct pair *p, uint64_t up, uint64_t down)
{
	struct shunt_tcp_pcb *c;

	memset(p, 0, sizeof(*p));
	p->lpcb = shunt_tcp_new(tn->s[1]);
	CHECK(p->lpcb != NULL);
	CHECK_EQ(shunt_tcp_bind(p->lpcb, 0, htons(80)), 0);
	CHECK_EQ(shunt_tcp_listen(p->lpcb, 16), 0);
	p->lst.accept_into = &p->srv;
	tapp_listen(&p->lst, p->lpcb);
	p->cli.tx_seed = 11;
	p->cli.tx_total = up;
	p->cli.rx_seed = 22;
	p->cli.rx_expect = down;
	p->srv.tx_seed = 22;
	p->srv.tx_total = down;
	p->srv.rx_seed = 11;
	p->srv.rx_expect = up;
	c = shunt_tcp_new(tn->s[0]);
	CHECK(c != NULL);
	CHECK_EQ(tapp_connect(&p->cli, c, tn->ip[1], htons(80)), 0);
}

TEST(tcp_link_handshake_and_small_exchange)
{
	static struct testnet tn;
	static struct pair p;

	testnet_init(&tn, NULL, 1);
	pair_open(&tn, &p, 1000, 5000);
	CHECK(testnet_run(&tn, 100000, 10000, pair_done, &p) >= 0);
	CHECK(p.cli.connected);
	CHECK(p.srv.accepted);
	CHECK_EQ(p.cli.rx_bad + p.srv.rx_bad, 0);
	CHECK_EQ(shunt_tcp_state(p.cli.pcb), SHUNT_TCP_ESTABLISHED);
	CHECK_EQ(shunt_tcp_state(p.srv.pcb), SHUNT_TCP_ESTABLISHED);
	/* Both sides close: the active closer ends in TIME_WAIT, the other is gone. */
	p.cli.close_when_done = p.srv.close_when_done = 1;
	shunt_tcp_close(p.cli.pcb);
	p.cli.pcb = NULL;
	p.cli.closed = 1;
	CHECK(testnet_run(&tn, 100000, 10000, pair_closed, &p) >= 0);
	testnet_settle(&tn, 1000000000);
	CHECK_EQ(shunt_tcp_count(tn.s[0], SHUNT_TCP_TIME_WAIT), 1);
	CHECK_EQ(shunt_tcp_count(tn.s[1], SHUNT_TCP_ESTABLISHED) + shunt_tcp_count(tn.s[1], SHUNT_TCP_LAST_ACK), 0);
	/* TIME_WAIT ends after 2 MSL (60 s by default). */
	testnet_run(&tn, 1000000000, 61, NULL, NULL);
	CHECK_EQ(shunt_tcp_count(tn.s[0], SHUNT_TCP_TIME_WAIT), 0);
	shunt_tcp_close(p.lpcb);
	testnet_fini(&tn);
}

static void
bulk(uint64_t seed, const struct shunt_link_faults *f, uint64_t bytes, const char *cc, uint64_t max_virtual_s)
{
	static struct testnet tn;
	static struct pair p;
	struct shunt_stack_config c;
	int rounds;

	shunt_stack_config_init(&c);
	if (cc != NULL)
		c.tcp_cc = cc;
	testnet_init(&tn, &c, seed);
	if (f != NULL) {
		shunt_link_set_faults(tn.link, 0, f);
		shunt_link_set_faults(tn.link, 1, f);
	}
	pair_open(&tn, &p, bytes, bytes);
	/* Virtual time steps of 50 µs; the bound is stated in virtual seconds. */
	rounds = testnet_run(&tn, 50000, (int)(max_virtual_s * 20000), pair_done, &p);
	CHECKF(rounds >= 0, "seed %llu: transfer stalled: up %llu/%llu acked %llu, down %llu/%llu acked %llu",
	    (unsigned long long)seed, (unsigned long long)p.srv.rx_got, (unsigned long long)bytes,
	    (unsigned long long)p.cli.tx_acked, (unsigned long long)p.cli.rx_got, (unsigned long long)bytes,
	    (unsigned long long)p.srv.tx_acked);
	CHECK_EQ(p.cli.rx_bad, 0);
	CHECK_EQ(p.srv.rx_bad, 0);
	CHECK_EQ(p.cli.err, 0);
	CHECK_EQ(p.srv.err, 0);
	p.cli.close_when_done = p.srv.close_when_done = 1;
	tapp_pump(&p.cli);
	tapp_pump(&p.srv);
	shunt_tcp_close(p.cli.pcb);
	p.cli.pcb = NULL;
	p.cli.closed = 1;
	CHECKF(testnet_run(&tn, 1000000, 600000, pair_closed, &p) >= 0, "seed %llu: close did not finish",
	    (unsigned long long)seed);
	shunt_tcp_close(p.lpcb);
	testnet_fini(&tn);
}

TEST(tcp_link_bulk_1mb_clean)
{
	bulk(1, NULL, 1 << 20, NULL, 60);
}

TEST(tcp_link_bulk_1mb_loss)
{
	struct shunt_link_faults f;

	memset(&f, 0, sizeof(f));
	f.seed = 3;
	f.loss_ppm = 50000;
	f.delay_ns = 1000000;
	bulk(3, &f, 1 << 20, NULL, 120);
}
