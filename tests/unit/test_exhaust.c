/*
 * Exhausted resources: every case must give the caller a clear error, count
 * it, recover when the pressure goes away, and leak nothing (the fixtures
 * check the pools at teardown).  Two stacks over the in-memory link on the
 * virtual clock (198.18.0.1 and 198.18.0.2); the socket-layer cases use
 * sysnet (real clock, poller threads).
 *   - the pbuf pool empty: UDP send and TCP write say ENOBUFS, receive drops
 *     are counted, and traffic resumes;
 *   - the PCB table full: shunt_tcp_new fails, SYNs beyond it are dropped and
 *     counted, and connections work again once PCBs are freed;
 *   - 100,000 connections opened and closed in a loop;
 *   - a peer that never reads: the sender is held at its buffer size,
 *     probes the zero window, and completes once the peer reads;
 *   - a peer that vanishes mid-transfer (and one that vanishes behind a zero
 *     window): ETIMEDOUT within the retry bound, counted;
 *   - the descriptor table full: socket() and accept() say EMFILE, and the
 *     queued connection is accepted once a descriptor is free.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include "testnet.h"
#include "tcpapp.h"
#include "sysnet.h"

static uint64_t
xstat(struct shunt_stack *s, size_t off)
{
	struct shunt_stats st;

	shunt_stack_stats(s, &st);
	return *(uint64_t *)((char *)&st + off);
}
#define XSTAT(s, name) xstat((s), offsetof(struct shunt_stats, name))

/* Takes every data buffer of s's pool; returns them chained by qnext. */
static struct shunt_pbuf *
drain_pool(struct shunt_stack *s)
{
	struct shunt_pbuf *held = NULL, *p;

	while ((p = shunt_pbuf_alloc(s, 0, 1)) != NULL) {
		p->qnext = held;
		held = p;
	}
	return held;
}

static void
release(struct shunt_pbuf *held)
{
	while (held != NULL) {
		struct shunt_pbuf *n = held->qnext;

		held->qnext = NULL;
		shunt_pbuf_free(held);
		held = n;
	}
}

static int udp_got;

static void
udp_count(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	(void)arg;
	(void)pcb;
	(void)ip;
	(void)port;
	udp_got++;
	shunt_pbuf_free(p);
}

TEST(exhaust_pbuf_pool_udp)
{
	struct shunt_stack_config c;
	struct shunt_udp_pcb *a, *b;
	struct shunt_pbuf *held;
	struct testnet tn;
	int i;

	shunt_stack_config_init(&c);
	c.pbuf_count = 64;
	c.pbuf_hdr_count = 64;
	testnet_init(&tn, &c, 1);
	a = shunt_udp_new(tn.s[0]);
	b = shunt_udp_new(tn.s[1]);
	CHECK_EQ(shunt_udp_bind(a, 0, htons(1000)), 0);
	CHECK_EQ(shunt_udp_bind(b, 0, htons(2000)), 0);
	shunt_udp_recv(b, udp_count, NULL);
	udp_got = 0;
	/* Resolve ARP first, so that what follows is about the pool only. */
	CHECK_EQ(shunt_udp_sendto_buf(a, "x", 1, tn.ip[1], htons(2000)), 0);
	testnet_run(&tn, 1000000, 50, NULL, NULL);
	CHECK_EQ(udp_got, 1);

	/*
	 * Sender's pool empty: a clear error, counted.  (A datagram whose
	 * payload could not even be copied in is refused before it exists:
	 * the error alone says so.)
	 */
	{
		struct shunt_pbuf *d = shunt_pbuf_alloc(tn.s[0], 0, 1);	/* no headroom: needs a header buffer */

		CHECK(d != NULL);
		d->payload[0] = 'x';
		held = drain_pool(tn.s[0]);
		CHECK_EQ(shunt_udp_sendto(a, d, tn.ip[1], htons(2000)), -ENOBUFS);
		CHECK_EQ(XSTAT(tn.s[0], udp_drop_nobuf), 1);
		CHECK_EQ(shunt_udp_sendto_buf(a, "x", 1, tn.ip[1], htons(2000)), -ENOBUFS);
		release(held);
		shunt_pbuf_free(d);
	}
	CHECK_EQ(shunt_udp_sendto_buf(a, "x", 1, tn.ip[1], htons(2000)), 0);
	testnet_run(&tn, 1000000, 10, NULL, NULL);
	CHECK_EQ(udp_got, 2);

	/* Receiver's pool empty: frames it cannot take are dropped and counted. */
	held = drain_pool(tn.s[1]);
	for (i = 0; i < 10; i++)
		CHECK_EQ(shunt_udp_sendto_buf(a, "y", 1, tn.ip[1], htons(2000)), 0);
	testnet_run(&tn, 1000000, 10, NULL, NULL);
	CHECK_EQ(udp_got, 2);
	{
		struct shunt_link_stats ls;

		/* As a NIC counts rx_nombuf: the link's driver counted what it could not hand over. */
		shunt_link_get_stats(tn.link, 0, &ls);
		CHECK(ls.queue_drops >= 10);
	}
	release(held);
	for (i = 0; i < 10; i++)
		CHECK_EQ(shunt_udp_sendto_buf(a, "z", 1, tn.ip[1], htons(2000)), 0);
	testnet_run(&tn, 1000000, 10, NULL, NULL);
	CHECK_EQ(udp_got, 12);
	shunt_udp_remove(a);
	shunt_udp_remove(b);
	testnet_fini(&tn);
}

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

/* 100 Mbit/s with 1 ms each way: a transfer that lasts long enough to be interrupted. */
static void
slow_link(struct testnet *tn)
{
	struct shunt_link_faults f;

	memset(&f, 0, sizeof(f));
	f.rate_bps = 100000000ull;
	f.delay_ns = 1000000;
	shunt_link_set_faults(tn->link, 0, &f);
	shunt_link_set_faults(tn->link, 1, &f);
}

static void
pair_close(struct testnet *tn, struct pair *p)
{
	if (p->cli.pcb != NULL)
		shunt_tcp_close(p->cli.pcb);
	if (p->srv.pcb != NULL)
		shunt_tcp_close(p->srv.pcb);
	shunt_tcp_close(p->lpcb);
	testnet_settle(tn, 200ull * 1000000000ull);
}

TEST(exhaust_pbuf_pool_tcp_write)
{
	struct shunt_pbuf *held;
	struct testnet tn;
	struct pair p;
	uint8_t buf[1000];
	int r;

	testnet_init(&tn, NULL, 2);
	pair_open(&tn, &p, 0, 0);
	testnet_run(&tn, 1000000, 100, NULL, NULL);
	CHECK(p.cli.connected && p.srv.accepted);
	held = drain_pool(tn.s[0]);
	memset(buf, 7, sizeof(buf));
	r = shunt_tcp_write(p.cli.pcb, buf, sizeof(buf), 0);
	CHECK_EQ(r, -ENOBUFS);
	release(held);
	/* Pressure gone: a 2 MB transfer each way completes intact. */
	p.cli.tx_total = 2 << 20;
	p.srv.rx_expect = 2 << 20;
	p.srv.tx_total = 2 << 20;
	p.cli.rx_expect = 2 << 20;
	tapp_pump(&p.cli);
	tapp_pump(&p.srv);
	CHECK(testnet_run(&tn, 100000, 200000, pair_done, &p) >= 0);
	CHECK_EQ(p.cli.rx_bad + p.srv.rx_bad, 0);
	pair_close(&tn, &p);
	testnet_fini(&tn);
}

TEST(exhaust_pbuf_pool_mid_transfer)
{
	struct shunt_pbuf *held;
	struct testnet tn;
	struct pair p;

	/* Both pools run dry for 2 s of a transfer each way: TCP rides it out and loses nothing. */
	testnet_init(&tn, NULL, 3);
	slow_link(&tn);
	pair_open(&tn, &p, 8 << 20, 8 << 20);
	testnet_run(&tn, 100000, 300, NULL, NULL);
	CHECK(!pair_done(&p));
	held = drain_pool(tn.s[1]);
	{
		struct shunt_pbuf *h0 = drain_pool(tn.s[0]);

		testnet_run(&tn, 1000000, 2000, NULL, NULL);
		release(h0);
	}
	release(held);
	{
		struct shunt_link_stats l0, l1;

		shunt_link_get_stats(tn.link, 0, &l0);
		shunt_link_get_stats(tn.link, 1, &l1);
		CHECK(l0.queue_drops + l1.queue_drops > 0);
	}
	CHECK(testnet_run(&tn, 100000, 2000000, pair_done, &p) >= 0);
	CHECK_EQ(p.cli.rx_bad + p.srv.rx_bad, 0);
	CHECK(p.cli.err == 0 && p.srv.err == 0);
	pair_close(&tn, &p);
	testnet_fini(&tn);
}

struct churn {
	struct tapp lst, srv[4], cli[4];
	int srv_next;
};

static int
accept_close(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	int *n = arg;

	(void)err;
	(*n)++;
	/* The server closes at once: it ends up in LAST_ACK or TIME_WAIT, freed by the stack. */
	shunt_tcp_close(newpcb);
	return 0;
}

static int churn_connected;

static int
churn_on_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	(void)arg;
	churn_connected += err == 0;
	shunt_tcp_close(pcb);
	return 0;
}

static void
churn_err(void *arg, int err)
{
	int *n = arg;

	(void)err;
	(*n)++;
}

TEST(exhaust_churn_100k_connections)
{
	struct shunt_stack_config c;
	struct shunt_tcp_pcb *l;
	struct testnet tn;
	int accepted = 0, errs = 0, i, total = 100000, batch = 64;
	const char *env = getenv("SHUNT_CHURN_CONNS");
	struct shunt_pool_usage u;

	if (env != NULL)
		total = atoi(env);
	shunt_stack_config_init(&c);
	/* A bounded TIME_WAIT table: the oldest give way (as Linux's tcp_max_tw_buckets). */
	c.tcp_max_time_wait = 2048;
	testnet_init(&tn, &c, 4);
	l = shunt_tcp_new(tn.s[1]);
	CHECK_EQ(shunt_tcp_bind(l, 0, htons(80)), 0);
	CHECK_EQ(shunt_tcp_listen(l, 1024), 0);
	shunt_tcp_arg(l, &accepted);
	shunt_tcp_accept(l, accept_close);
	churn_connected = 0;
	for (i = 0; i < total; i += batch) {
		int k;

		for (k = 0; k < batch && i + k < total; k++) {
			struct shunt_tcp_pcb *pcb = shunt_tcp_new(tn.s[0]);

			CHECKF(pcb != NULL, "shunt_tcp_new failed at %d", i + k);
			shunt_tcp_arg(pcb, &errs);
			shunt_tcp_err(pcb, churn_err);
			CHECKF(shunt_tcp_connect(pcb, tn.ip[1], htons(80), churn_on_connected) == 0,
			    "connect failed at %d", i + k);
		}
		testnet_run(&tn, 200000, 20, NULL, NULL);
	}
	testnet_settle(&tn, 1000000000ull);
	CHECK_EQ(churn_connected, total);
	CHECK_EQ(accepted, total);
	CHECK_EQ(errs, 0);
	CHECK_EQ(XSTAT(tn.s[0], tcp_active_open), (uint64_t)total);
	/* Nothing but TIME_WAIT (bounded) and the listener is left. */
	CHECK(shunt_tcp_count(tn.s[0], SHUNT_TCP_TIME_WAIT) <= 2048);
	CHECK(shunt_tcp_count(tn.s[1], SHUNT_TCP_TIME_WAIT) <= 2048);
	CHECK_EQ(shunt_tcp_count(tn.s[0], SHUNT_TCP_ESTABLISHED) + shunt_tcp_count(tn.s[1], SHUNT_TCP_ESTABLISHED), 0);
	CHECK_EQ(shunt_tcp_count(tn.s[1], SHUNT_TCP_LAST_ACK) + shunt_tcp_count(tn.s[0], SHUNT_TCP_FIN_WAIT_2), 0);
	shunt_stack_pool_usage(tn.s[0], &u);
	CHECKF(u.pbuf_in_use == 0, "%u pbufs held after the churn", u.pbuf_in_use);
	printf("    %d connections opened and closed; TIME_WAIT now %u + %u, overflowed %llu\n", total,
	    shunt_tcp_count(tn.s[0], SHUNT_TCP_TIME_WAIT), shunt_tcp_count(tn.s[1], SHUNT_TCP_TIME_WAIT),
	    (unsigned long long)(XSTAT(tn.s[0], tcp_time_wait_overflow) + XSTAT(tn.s[1], tcp_time_wait_overflow)));
	shunt_tcp_close(l);
	/* 2 MSL later everything is gone. */
	testnet_settle(&tn, 200ull * 1000000000ull);
	CHECK_EQ(shunt_tcp_count(tn.s[0], SHUNT_TCP_TIME_WAIT) + shunt_tcp_count(tn.s[1], SHUNT_TCP_TIME_WAIT), 0);
	testnet_fini(&tn);
}

TEST(exhaust_pcb_table_full)
{
	struct shunt_stack_config c;
	struct shunt_tcp_pcb *extra[8];
	struct testnet tn;
	struct pair p;
	int i, n = 0;

	shunt_stack_config_init(&c);
	c.tcp_max_pcbs = 4;
	testnet_init(&tn, &c, 5);
	pair_open(&tn, &p, 1000, 1000);		/* client 1 PCB; server: listener + child */
	CHECK(testnet_run(&tn, 1000000, 2000, pair_done, &p) >= 0);
	/* Fill the client's table: shunt_tcp_new says no. */
	for (i = 0; i < 8; i++) {
		extra[i] = shunt_tcp_new(tn.s[0]);
		if (extra[i] == NULL)
			break;
		n++;
	}
	CHECK_EQ(n, 3);
	for (i = 0; i < n; i++)
		shunt_tcp_abort(extra[i]);
	/* Two clients connect; the server (4 PCBs: listener, 1 child, 2 more) has room for two only. */
	{
		struct tapp c2[3];
		int ok = 0;

		memset(c2, 0, sizeof(c2));
		for (i = 0; i < 3; i++) {
			struct shunt_tcp_pcb *pcb = shunt_tcp_new(tn.s[0]);

			CHECK(pcb != NULL);
			CHECK_EQ(tapp_connect(&c2[i], pcb, tn.ip[1], htons(80)), 0);
		}
		p.lst.accept_into = NULL;	/* the listener refuses: its children stay in SYN_RECEIVED */
		testnet_run(&tn, 1000000, 500, NULL, NULL);
		CHECK(XSTAT(tn.s[1], tcp_drop_nobuf) >= 1);
		for (i = 0; i < 3; i++)
			ok += c2[i].connected;
		CHECK(ok < 3);
		for (i = 0; i < 3; i++)
			if (c2[i].pcb != NULL)
				shunt_tcp_abort(c2[i].pcb);
	}
	pair_close(&tn, &p);
	/* Pressure gone: a new connection works. */
	pair_open(&tn, &p, 50000, 50000);
	CHECK(testnet_run(&tn, 1000000, 20000, pair_done, &p) >= 0);
	CHECK_EQ(p.cli.rx_bad + p.srv.rx_bad, 0);
	pair_close(&tn, &p);
	testnet_fini(&tn);
}

/*
 * Watches the wire for the invariant the peer-never-reads case broke: the
 * sender never sends a byte past the right edge the receiver announced
 * (SEG.ACK + SEG.WND << scale of the receiver's latest ACK).
 */
struct edge_watch {
	int active;
	uint8_t ws;			/* the receiver's window scale */
	int have;
	uint32_t edge;
	uint32_t violations, worst;
};

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int
edge_hook(void *arg, int side, uint8_t *f, uint32_t *len, uint32_t cap)
{
	struct edge_watch *w = arg;
	const uint8_t *ip = f + 14, *t;
	uint32_t seq, ack, end;
	int hl, dl;

	(void)cap;
	if (!w->active || *len < 54 || ip[9] != 6)
		return 0;
	hl = (ip[0] & 15) * 4;
	t = ip + hl;
	seq = be32(t + 4);
	ack = be32(t + 8);
	dl = (int)((ip[2] << 8 | ip[3]) - hl - (t[12] >> 4) * 4);
	if (side == 1 && (t[13] & 0x10)) {
		end = ack + ((uint32_t)(t[14] << 8 | t[15]) << w->ws);
		if (!w->have || (int32_t)(end - w->edge) > 0)
			w->edge = end;
		w->have = 1;
	} else if (side == 0 && dl > 0 && w->have) {
		end = seq + (uint32_t)dl;
		if ((int32_t)(end - w->edge) > 0) {
			w->violations++;
			if (end - w->edge > w->worst)
				w->worst = end - w->edge;
		}
	}
	return 0;
}

TEST(exhaust_peer_never_reads)
{
	static struct edge_watch watch;
	struct shunt_pool_usage u0, u1;
	struct testnet tn;
	struct pair p;
	uint64_t got;

	testnet_init(&tn, NULL, 6);
	pair_open(&tn, &p, 16 << 20, 0);
	p.srv.manual_recved = 1;	/* the server application never gives the window back */
	testnet_run(&tn, 1000000, 20, NULL, NULL);
	CHECK(p.srv.pcb != NULL);
	{
		struct shunt_tcp_info ri;

		shunt_tcp_get_info(p.srv.pcb, &ri);
		watch.ws = ri.rcv_wscale;
		watch.active = 1;
		shunt_link_set_hook(tn.link, edge_hook, &watch);
	}
	testnet_run(&tn, 1000000, 2000, NULL, NULL);
	got = p.srv.rx_got;
	shunt_stack_pool_usage(tn.s[0], &u0);
	/* An hour of a stalled peer: nothing moves, nothing grows, probes go out, no error. */
	testnet_run(&tn, 100000000, 36000, NULL, NULL);
	shunt_stack_pool_usage(tn.s[0], &u1);
	/* Before the fix: segments past the edge, dropped, retransmitted by RTO until ETIMEDOUT. */
	CHECKF(watch.violations == 0, "%u segments past the announced window (worst by %u bytes)", watch.violations,
	    watch.worst);
	CHECK_EQ(XSTAT(tn.s[1], tcp_drop_window), 0);
	CHECK_EQ(p.srv.rx_got, got);
	CHECK(got < (16 << 20));
	CHECK(u1.pbuf_in_use <= u0.pbuf_in_use);
	CHECK(XSTAT(tn.s[0], tcp_persist_tx) > 0);
	CHECK_EQ(p.cli.err, 0);
	CHECK_EQ(shunt_tcp_sndbuf(p.cli.pcb), 0);
	CHECK_EQ(shunt_tcp_write(p.cli.pcb, "x", 1, 0), -EAGAIN);
	/* The peer reads: everything arrives, intact. */
	p.srv.manual_recved = 0;
	shunt_tcp_recved(p.srv.pcb, (uint32_t)p.srv.unread);
	CHECK(testnet_run(&tn, 1000000, 200000, pair_done, &p) >= 0);
	CHECK_EQ(p.srv.rx_bad, 0);
	pair_close(&tn, &p);
	testnet_fini(&tn);
}

static void
vanish(struct testnet *tn)
{
	struct shunt_link_faults f;

	memset(&f, 0, sizeof(f));
	f.loss_ppm = 1000000;
	shunt_link_set_faults(tn->link, 0, &f);
	shunt_link_set_faults(tn->link, 1, &f);
}

static int
both_dead(void *arg)
{
	struct pair *p = arg;

	return p->cli.err != 0 && p->srv.err != 0;
}

TEST(exhaust_peer_vanishes_mid_transfer)
{
	struct shunt_stack_config c;
	struct testnet tn;
	struct pair p;

	shunt_stack_config_init(&c);
	c.tcp_retries = 6;
	testnet_init(&tn, &c, 7);
	slow_link(&tn);
	pair_open(&tn, &p, 64 << 20, 64 << 20);
	testnet_run(&tn, 100000, 3000, NULL, NULL);
	CHECK(!pair_done(&p) && p.cli.rx_got > 0);
	vanish(&tn);
	/* RTOs back off 0.2, 0.4 ... 12.8 s: both ends give up within minutes, with ETIMEDOUT. */
	CHECK(testnet_run(&tn, 10000000, 60000, both_dead, &p) >= 0);
	CHECK_EQ(p.cli.err, -ETIMEDOUT);
	CHECK_EQ(p.srv.err, -ETIMEDOUT);
	CHECK_EQ(XSTAT(tn.s[0], tcp_conn_timeout), 1);
	CHECK_EQ(XSTAT(tn.s[1], tcp_conn_timeout), 1);
	CHECK_EQ(shunt_tcp_count(tn.s[0], SHUNT_TCP_ESTABLISHED), 0);
	shunt_tcp_close(p.lpcb);
	testnet_settle(&tn, 1000000000ull);
	check_no_leaks(tn.s[0]);
	check_no_leaks(tn.s[1]);
	testnet_fini(&tn);
}

TEST(exhaust_peer_vanishes_behind_zero_window)
{
	struct shunt_stack_config c;
	struct testnet tn;
	struct pair p;
	int r;

	shunt_stack_config_init(&c);
	c.tcp_retries = 6;
	testnet_init(&tn, &c, 8);
	pair_open(&tn, &p, 16 << 20, 0);
	p.srv.manual_recved = 1;
	testnet_run(&tn, 1000000, 3000, NULL, NULL);
	CHECK(p.srv.rx_got > 0 && p.srv.rx_got < (16 << 20));
	vanish(&tn);
	/* Unanswered zero-window probes count like retransmissions (Linux's tcp_probe_timer). */
	r = testnet_run(&tn, 100000000, 60000, NULL, NULL);
	(void)r;
	CHECK_EQ(p.cli.err, -ETIMEDOUT);
	CHECK_EQ(XSTAT(tn.s[0], tcp_conn_timeout), 1);
	if (p.srv.pcb != NULL)
		shunt_tcp_abort(p.srv.pcb);
	shunt_tcp_close(p.lpcb);
	testnet_settle(&tn, 1000000000ull);
	testnet_fini(&tn);
}

/* ---- socket layer ---- */

TEST(exhaust_descriptors_emfile)
{
	static struct sysnet n;
	struct sockaddr_in sa;
	struct rlimit rl, old;
	int lfd, cfd, afd, fds[64], nfds = 0, fd, one = 1;

	sysnet_init(&n, NULL);
	/* Non-blocking, so that a lost connection shows as EAGAIN rather than a hang. */
	lfd = shunt_socket(n.sys[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(lfd >= 0);
	CHECK_EQ(shunt_setsockopt(n.sys[1], lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sa = sysnet_addr(&n, 1, 7000);
	CHECK_EQ(shunt_bind(n.sys[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(shunt_listen(n.sys[1], lfd, 8), 0);
	cfd = shunt_socket(n.sys[0], AF_INET, SOCK_STREAM, 0);
	CHECK(cfd >= 0);
	/* Descriptors are real kernel fds: a low RLIMIT_NOFILE fills the table. */
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)(cfd + 8);
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (nfds < 64 && (fd = dup(0)) >= 0)
		fds[nfds++] = fd;
	CHECK(nfds < 64);
	CHECK_EQ(shunt_socket(n.sys[0], AF_INET, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EMFILE);
	/* A connection arrives while the server has no descriptor for it. */
	CHECK_EQ(shunt_connect(n.sys[0], cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	{
		struct pollfd pf = { .fd = lfd, .events = POLLIN };

		CHECK_EQ(shunt_poll(n.sys[1], &pf, 1, 5000), 1);
	}
	afd = shunt_accept(n.sys[1], lfd, NULL, NULL);
	CHECK_EQ(afd, -1);
	CHECK_EQ(errno, EMFILE);
	/*
	 * Pressure gone: the connection is still queued (as on Linux, whose
	 * accept takes a descriptor before it dequeues), accepted now, and works.
	 */
	close(fds[--nfds]);
	afd = shunt_accept(n.sys[1], lfd, NULL, NULL);
	CHECKF(afd >= 0, "accept after a descriptor was freed: errno %d (the EMFILE accept lost the connection)", errno);
	CHECK_EQ(shunt_write(n.sys[0], cfd, "ping", 4), 4);
	{
		char b[8];

		CHECK_EQ(shunt_read(n.sys[1], afd, b, sizeof(b)), 4);
		CHECK_MEM(b, "ping", 4);
	}
	while (nfds > 0)
		close(fds[--nfds]);
	setrlimit(RLIMIT_NOFILE, &old);
	CHECK_EQ(shunt_close(n.sys[1], afd), 0);
	CHECK_EQ(shunt_close(n.sys[0], cfd), 0);
	CHECK_EQ(shunt_close(n.sys[1], lfd), 0);
	sysnet_fini(&n);
}
