/*
 * TCP between two stacks over the in-memory link: handshakes, transfers in
 * both directions at once compared byte for byte, closes, and the same under
 * loss, reordering, duplication and corruption for many seeds.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "tcpapp.h"
#include "priv/stack.h"
#include "priv/tcp.h"

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

/*
 * Polls both stacks, jumping virtual time from event to event (a frame due
 * on the link, a timer), until done or `limit` of virtual time passed.
 * Returns the virtual time it took, or UINT64_MAX.
 */
static uint64_t
run_events(struct testnet *tn, uint64_t limit, int (*done)(void *), void *arg)
{
	uint64_t start = tn->clock.now;

	for (;;) {
		uint64_t next, d;

		shunt_stack_poll(tn->s[0]);
		shunt_stack_poll(tn->s[1]);
		if (done(arg))
			return tn->clock.now - start;
		next = shunt_link_next_due(tn->link);
		d = shunt_stack_next_deadline(tn->s[0]);
		if (d < next)
			next = d;
		d = shunt_stack_next_deadline(tn->s[1]);
		if (d < next)
			next = d;
		if (next <= tn->clock.now)
			next = tn->clock.now + 1000;
		if (next == UINT64_MAX || next - start > limit)
			return UINT64_MAX;
		tn->clock.now = next;
	}
}

/*
 * Two stacks, one connection, `bytes` each way at once, compared byte for
 * byte by the apps; then both close.  Returns the virtual time the transfer
 * took (the test fails past max_virtual_s).
 */
static struct shunt_stats bulk_stats[2];	/* of the last bulk() */

static uint64_t
bulk(uint64_t seed, const struct shunt_link_faults *f, uint64_t bytes, const char *cc, uint64_t max_virtual_s)
{
	static struct testnet tn;
	static struct pair p;
	struct shunt_stack_config c;
	struct shunt_link_stats st[2];
	uint64_t took;

	shunt_stack_config_init(&c);
	if (cc != NULL)
		c.tcp_cc = cc;
	testnet_init(&tn, &c, seed);
	if (f != NULL) {
		struct shunt_link_faults g = *f;

		g.seed = f->seed + seed * 7919;
		shunt_link_set_faults(tn.link, 0, &g);
		g.seed += 1;
		shunt_link_set_faults(tn.link, 1, &g);
	}
	pair_open(&tn, &p, bytes, bytes);
	took = run_events(&tn, max_virtual_s * 1000000000ull, pair_done, &p);
	shunt_link_get_stats(tn.link, 0, &st[0]);
	shunt_link_get_stats(tn.link, 1, &st[1]);
	shunt_stack_stats(tn.s[0], &bulk_stats[0]);
	shunt_stack_stats(tn.s[1], &bulk_stats[1]);
	if (took == UINT64_MAX) {
		struct tapp *ap[2] = { &p.cli, &p.srv };

		for (int k = 0; k < 2; k++) {
			struct shunt_tcp_info i;

			if (ap[k]->pcb == NULL) {
				fprintf(stderr, "    %s: no pcb, err %d\n", k ? "srv" : "cli", ap[k]->err);
				continue;
			}
			shunt_tcp_get_info(ap[k]->pcb, &i);
			fprintf(stderr, "    %s: state %u ca %u rto %u retr %u probes %u cwnd %u ssthresh %u "
			    "snd_wnd %u rcv_wnd %u unacked %u sacked %u lost %u outq %u queued %llu\n",
			    k ? "srv" : "cli", i.state, i.ca_state, i.rto_us, i.retransmits, i.probes, i.snd_cwnd, i.snd_ssthresh, i.snd_wnd,
			    i.rcv_wnd, i.unacked, i.sacked, i.lost, shunt_tcp_outq(ap[k]->pcb),
			    (unsigned long long)ap[k]->tx_queued);
			fprintf(stderr, "    %s: rexmt timer %s, %lld ms to go\n", k ? "srv" : "cli",
			    timer_pending(&ap[k]->pcb->t_rexmt) ? "armed" : "idle",
			    (long long)(ap[k]->pcb->t_rexmt.expires - tn.clock.now) / 1000000);
		}
	}
	CHECKF(took != UINT64_MAX, "seed %llu %s: transfer stalled past %llu s: up %llu/%llu acked %llu, down "
	    "%llu/%llu acked %llu (link: sent %llu lost %llu)", (unsigned long long)seed, cc ? cc : "default",
	    (unsigned long long)max_virtual_s, (unsigned long long)p.srv.rx_got, (unsigned long long)bytes,
	    (unsigned long long)p.cli.tx_acked, (unsigned long long)p.cli.rx_got, (unsigned long long)bytes,
	    (unsigned long long)p.srv.tx_acked, (unsigned long long)(st[0].sent + st[1].sent),
	    (unsigned long long)(st[0].lost + st[1].lost));
	CHECK_EQ(p.cli.rx_got, bytes);
	CHECK_EQ(p.srv.rx_got, bytes);
	CHECK_EQ(p.cli.rx_bad, 0);
	CHECK_EQ(p.srv.rx_bad, 0);
	CHECK_EQ(p.cli.err, 0);
	CHECK_EQ(p.srv.err, 0);
	if (f != NULL && f->corrupt_ppm != 0)
		CHECK(st[0].corrupted + st[1].corrupted > 0);
	p.cli.close_when_done = p.srv.close_when_done = 1;
	tapp_pump(&p.cli);
	tapp_pump(&p.srv);
	shunt_tcp_close(p.cli.pcb);
	p.cli.pcb = NULL;
	p.cli.closed = 1;
	CHECKF(run_events(&tn, 600ull * 1000000000ull, pair_closed, &p) != UINT64_MAX,
	    "seed %llu: close did not finish", (unsigned long long)seed);
	shunt_tcp_close(p.lpcb);
	testnet_fini(&tn);
	return took;
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

/*
 * The matrix: 10 MB each way at once, for 50 seeds per class, half of them
 * with CUBIC and half with NewReno, over a link with 1 ms of delay each way
 * (so 2 ms RTT; the windows allow ~256 KiB in flight).  Under the sanitizers
 * a reduced matrix runs (3 seeds, 1 MB).  Bounds are in virtual seconds and
 * generous against what each class needs (see the printed worst case).
 */
#if defined(__SANITIZE_ADDRESS__)
#define MATRIX_SEEDS	3
#define MATRIX_BYTES	(1u << 20)
#else
#define MATRIX_SEEDS	50
#define MATRIX_BYTES	(10u << 20)
#endif

static void
matrix(const char *name, const struct shunt_link_faults *f, uint64_t bound_s)
{
	uint64_t worst = 0, sum = 0, seed;

	for (seed = 1; seed <= MATRIX_SEEDS; seed++) {
		uint64_t took = bulk(seed, f, MATRIX_BYTES, (seed & 1) ? "cubic" : "newreno", bound_s);

		sum += took;
		if (took > worst)
			worst = took;
	}
	printf("    %s: %d seeds x %u bytes each way: mean %.3f s, worst %.3f s virtual (bound %llu s)\n", name,
	    MATRIX_SEEDS, MATRIX_BYTES, (double)sum / MATRIX_SEEDS / 1e9, (double)worst / 1e9,
	    (unsigned long long)bound_s);
}

static struct shunt_link_faults
faults(uint32_t loss, uint32_t reorder, uint32_t dup, uint32_t corrupt)
{
	struct shunt_link_faults f;

	memset(&f, 0, sizeof(f));
	f.delay_ns = 1000000;
	f.loss_ppm = loss;
	f.reorder_ppm = reorder;
	f.reorder_delay_ns = 3000000;
	f.dup_ppm = dup;
	f.corrupt_ppm = corrupt;
	f.seed = 101;
	return f;
}

TEST(tcp_link_matrix_clean)
{
	struct shunt_link_faults f = faults(0, 0, 0, 0);

	matrix("clean", &f, 5);
}

TEST(tcp_link_matrix_loss_1pct)
{
	struct shunt_link_faults f = faults(10000, 0, 0, 0);

	matrix("loss 1%", &f, 30);
}

TEST(tcp_link_matrix_loss_5pct)
{
	struct shunt_link_faults f = faults(50000, 0, 0, 0);

	matrix("loss 5%", &f, 60);
}

TEST(tcp_link_matrix_loss_20pct)
{
	struct shunt_link_faults f = faults(200000, 0, 0, 0);

	matrix("loss 20%", &f, 600);
}

TEST(tcp_link_matrix_reorder)
{
	struct shunt_link_faults f = faults(0, 50000, 0, 0);

	matrix("reorder 5%", &f, 30);
}

TEST(tcp_link_matrix_duplicate)
{
	struct shunt_link_faults f = faults(0, 0, 50000, 0);

	matrix("duplicate 5%", &f, 10);
}

TEST(tcp_link_matrix_corrupt)
{
	struct shunt_link_faults f = faults(0, 0, 0, 20000);

	matrix("corrupt 2%", &f, 30);
}

TEST(tcp_link_matrix_all_together)
{
	struct shunt_link_faults f = faults(20000, 20000, 20000, 10000);

	f.jitter_ns = 500000;
	matrix("all (loss 2%, reorder 2%, dup 2%, corrupt 1%, jitter)", &f, 60);
}

/*
 * The same 4-tuple again and again, the server closing first (so the server
 * holds it in TIME_WAIT): every new SYN must be taken at once as newer
 * (RFC 6191), never left to retransmit.  Our timestamps to one peer must
 * therefore rise across connections, not start from a random offset each.
 */
TEST(tcp_link_same_tuple_over_server_time_wait)
{
	static struct testnet tn;
	static struct pair p;
	struct shunt_stats st;
	int round;

	testnet_init(&tn, NULL, 5);
	for (round = 0; round < 24; round++) {
		struct shunt_tcp_pcb *lpcb = round == 0 ? NULL : p.lpcb;
		struct shunt_tcp_pcb *c;
		uint64_t t0;

		if (round == 0) {
			pair_open(&tn, &p, 100, 100);
			lpcb = p.lpcb;
			/* pair_open connected from an ephemeral port: start over from a fixed one. */
			shunt_tcp_abort(p.cli.pcb);
			testnet_settle(&tn, 1000000);
			if (p.srv.pcb != NULL && !p.srv.closed)
				shunt_tcp_abort(p.srv.pcb);
		}
		memset(&p, 0, sizeof(p));
		p.lpcb = lpcb;
		p.lst.accept_into = &p.srv;
		tapp_listen(&p.lst, p.lpcb);
		p.cli.tx_seed = 11, p.cli.tx_total = 100, p.cli.rx_seed = 22, p.cli.rx_expect = 100;
		p.srv.tx_seed = 22, p.srv.tx_total = 100, p.srv.rx_seed = 11, p.srv.rx_expect = 100;
		c = shunt_tcp_new(tn.s[0]);
		CHECK_EQ(shunt_tcp_bind(c, 0, htons(45000)), 0);
		t0 = tn.clock.now;
		CHECK_EQ(tapp_connect(&p.cli, c, tn.ip[1], htons(80)), 0);
		CHECK(testnet_run(&tn, 100000, 20000, pair_done, &p) >= 0);
		/* No SYN went twice: connected long before the 1 s initial RTO. */
		CHECK(tn.clock.now - t0 < 100000000ull);
		CHECK_EQ(p.cli.rx_bad + p.srv.rx_bad, 0);
		p.srv.close_when_done = p.cli.close_when_done = 1;
		shunt_tcp_close(p.srv.pcb);
		p.srv.pcb = NULL;
		p.srv.closed = 1;
		CHECK(testnet_run(&tn, 100000, 10000, pair_closed, &p) >= 0);
		testnet_settle(&tn, 1000000);
		CHECK_EQ(shunt_tcp_count(tn.s[1], SHUNT_TCP_TIME_WAIT), 1);
		testnet_run(&tn, 1000000, 10, NULL, NULL);
	}
	shunt_stack_stats(tn.s[1], &st);
	CHECK_EQ(st.tcp_time_wait_reuse, 23);
	shunt_tcp_close(p.lpcb);
	testnet_fini(&tn);
}

/*
 * Ephemeral ports to one destination run through the whole range in a cycle
 * (RFC 6056 algorithm 3) -- also past 65,536 connections, where a 16-bit
 * counter would wrap and bring back a port used only 9,072 connections ago.
 */
TEST(tcp_ephemeral_ports_cycle_the_range)
{
	static struct testnet tn;
	static uint16_t first[28232];
	int i, n = 28232, same = 0, repeats = 0;
	static uint8_t seen[65536];

	testnet_init(&tn, NULL, 6);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 3 * n; i++) {
		struct shunt_tcp_pcb *c = shunt_tcp_new(tn.s[0]);
		uint16_t port;
		uint32_t ip;

		CHECK(c != NULL);
		CHECK_EQ(shunt_tcp_connect(c, tn.ip[1], htons(9), NULL), 0);
		shunt_tcp_local(c, &ip, &port);
		port = ntohs(port);
		CHECK(port >= 32768 && port <= 60999);
		if (i < n) {
			repeats += seen[port]++ != 0;
			first[i] = port;
		} else {
			same += first[i % n] == port;
		}
		shunt_tcp_abort(c);
		if (i % 512 == 511)
			testnet_settle(&tn, 1000000);
	}
	CHECK_EQ(repeats, 0);
	CHECK_EQ(same, 2 * n);
	testnet_settle(&tn, 1000000);
	testnet_fini(&tn);
}

/*
 * Heavy reordering and nothing lost: 25% of the frames overtaken by up to
 * 3 ms on a 2 ms path, 4 MB each way.  Without undo and a learnt reordering
 * degree every reordering event halved the window -- 189 spurious fast
 * retransmits, 1.4 MB/s.  Now the first few are undone by D-SACK and
 * timestamps, the reordering is learnt, and the rest go by without a
 * reduction.
 */
TEST(tcp_link_heavy_reordering_learnt)
{
	struct shunt_link_faults f = faults(0, 250000, 0, 0);
	uint64_t took = bulk(1, &f, 4u << 20, NULL, 60);
	uint64_t frtx = bulk_stats[0].tcp_fast_retransmit + bulk_stats[1].tcp_fast_retransmit;

	printf("    4 MB each way in %.3f s virtual; fast retransmits %llu, undone %llu, reordering seen %llu\n",
	    (double)took / 1e9, (unsigned long long)frtx,
	    (unsigned long long)(bulk_stats[0].tcp_undo + bulk_stats[1].tcp_undo),
	    (unsigned long long)(bulk_stats[0].tcp_reorder_seen + bulk_stats[1].tcp_reorder_seen));
	CHECK(bulk_stats[0].tcp_undo + bulk_stats[1].tcp_undo >= 1);
	CHECK(bulk_stats[0].tcp_dsack_rx + bulk_stats[1].tcp_dsack_rx >= 1);
	CHECK(bulk_stats[0].tcp_reorder_seen + bulk_stats[1].tcp_reorder_seen >= 1);
	CHECKF(frtx <= 30, "%llu fast retransmits for reordering alone", (unsigned long long)frtx);
	CHECK_EQ(bulk_stats[0].tcp_rto + bulk_stats[1].tcp_rto, 0);
}

static int
cli_connected(void *arg)
{
	struct pair *p = arg;

	return p->cli.connected && p->srv.pcb != NULL;
}

/*
 * Back-pressure (shunt_netif_tx_pressure): while the sender's netif says its
 * queue is full, TCP sends no new data -- it waits in the send buffer, not
 * in frames the driver would drop -- and the connection is counted as held
 * back; when the pressure ends, the next poll round sends it, and it all
 * arrives intact.  A connection aborted while held back is forgotten safely.
 */
TEST(tcp_link_tx_pressure_holds_and_resumes)
{
	static struct testnet tn;
	static struct pair p;
	struct shunt_stats st;
	int i;

	testnet_init(&tn, NULL, 5);
	pair_open(&tn, &p, 1u << 20, 0);
	p.cli.tx_total = 0;		/* connect first, send under pressure */
	CHECK(run_events(&tn, 5000000000ull, cli_connected, &p) != UINT64_MAX);
	shunt_netif_tx_pressure(tn.nif[0], 1);
	p.cli.tx_total = 1u << 20;
	tapp_pump(&p.cli);
	for (i = 0; i < 100; i++) {
		shunt_stack_poll(tn.s[0]);
		shunt_stack_poll(tn.s[1]);
		tn.clock.now += 1000000;
	}
	shunt_stack_stats(tn.s[0], &st);
	CHECK(st.tcp_txq_defer >= 1);
	CHECKF(p.srv.rx_got == 0, "%llu bytes went out under back-pressure", (unsigned long long)p.srv.rx_got);
	CHECK_EQ(st.tcp_rto, 0);	/* nothing was in flight: no timer to fire */
	shunt_netif_tx_pressure(tn.nif[0], 0);
	CHECK(run_events(&tn, 30000000000ull, pair_done, &p) != UINT64_MAX);
	CHECK_EQ(p.srv.rx_got, 1u << 20);
	CHECK_EQ(p.srv.rx_bad, 0);
	shunt_stack_stats(tn.s[0], &st);
	CHECK_EQ(st.tcp_retransmit, 0);

	/* Held back, then aborted: the held-back list must let go of it. */
	shunt_netif_tx_pressure(tn.nif[0], 1);
	p.cli.tx_total += 65536;
	tapp_pump(&p.cli);
	shunt_stack_poll(tn.s[0]);
	shunt_tcp_abort(p.cli.pcb);
	p.cli.pcb = NULL;
	shunt_netif_tx_pressure(tn.nif[0], 0);
	for (i = 0; i < 10; i++) {
		shunt_stack_poll(tn.s[0]);
		shunt_stack_poll(tn.s[1]);
		tn.clock.now += 1000000;
	}
	shunt_tcp_close(p.lpcb);
	testnet_fini(&tn);
}
