/*
 * The raw-API tests of shunt-peer: the same tests as peer_sock.c, written
 * the way a raw-API program is -- callbacks, and one thread that polls the
 * stack without ever sleeping (so these figures are for a busy-polling
 * program; the socket API's poll modes are measured apart).
 *
 * PEER_STATS=1 in the environment prints the stack's counters when the
 * client ends, and the server's connection state (cwnd, windows, RTT) every
 * 100 ms: what BENCHMARKS.md's small-message analysis was made with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <shunt/stack.h>
#include <shunt/pbuf.h>
#include <shunt/tcp.h>
#include "peer.h"

#define LAT_CAP		(8u << 20)
#define CONNECT_MS	5000

struct conn {
	const struct peer_opts *o;
	struct shunt_tcp_pcb *pcb;
	uint64_t got;			/* bytes received (and consumed) */
	int connected, eof, dead;
	int streaming;			/* server, stream test: keep the send buffer full */
	struct conn *next;		/* server: live connections */
};

static uint8_t buf[1 << 20];
static struct conn *live;		/* server's connections */
static int show_stats;			/* PEER_STATS, read once: never getenv() in the poll loop */

/* ---- common callbacks ---- */

static void
on_err(void *arg, int err)
{
	struct conn *c = arg;

	/* The PCB is gone already. */
	c->pcb = NULL;
	c->dead = err != 0 ? err : -ECONNRESET;
}

/* Consume everything at once, as a program that processes data where it lies would. */
static int
on_recv_count(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct conn *c = arg;
	uint32_t n;

	if (p == NULL) {
		c->eof = 1;
		return 0;
	}
	n = p->tot_len;
	c->got += n;
	shunt_pbuf_free(p);
	shunt_tcp_recved(pcb, n);
	return 0;
}

/* ---- server ---- */

static void
srv_forget(struct conn *c)
{
	struct conn **pp;

	for (pp = &live; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

/* Debugging aid (PEER_STATS): the state of a connection. */
static void
dump_info(const char *who, struct shunt_tcp_pcb *pcb)
{
	struct shunt_tcp_info ti;

	if (pcb == NULL)
		return;
	shunt_tcp_get_info(pcb, &ti);
	fprintf(stderr, "%s: cwnd %u ssthresh %u snd_wnd %u rcv_wnd %u rtt %u us rto %u us unacked %u "
	    "segs out %llu in %llu data out %llu in %llu retrans %llu\n", who, ti.snd_cwnd, ti.snd_ssthresh,
	    ti.snd_wnd, ti.rcv_wnd, ti.rtt_us, ti.rto_us, ti.unacked, (unsigned long long)ti.segs_out,
	    (unsigned long long)ti.segs_in, (unsigned long long)ti.data_segs_out, (unsigned long long)ti.data_segs_in,
	    (unsigned long long)ti.total_retrans);
}

static void
srv_close(struct conn *c)
{
	if (c->pcb != NULL)
		shunt_tcp_close(c->pcb);
	srv_forget(c);
}

static int
srv_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct conn *c = arg;
	const struct peer_opts *o = c->o;
	uint32_t n;

	if (p == NULL) {
		/* The client is done (rr, stream, idle): close our side too. */
		srv_close(c);
		return 0;
	}
	n = p->tot_len;
	switch (o->test) {
	case TEST_RR:
		/* Echo as it arrives: copy out, write back. */
		shunt_pbuf_copy_out(p, 0, buf, n);
		if (shunt_tcp_write(pcb, buf, n, 0) != (int)n)
			peer_die("echo write of %u bytes failed", n);
		break;
	case TEST_CPS:
		c->got += n;
		if (c->got >= o->size && !c->eof) {
			c->eof = 1;
			if (shunt_tcp_write(pcb, buf, o->size, 0) != (int)o->size)
				peer_die("reply write failed");
			/* We close first, as in peer_sock.c. */
			shunt_pbuf_free(p);
			shunt_tcp_recved(pcb, n);
			srv_close(c);
			return 0;
		}
		break;
	default:
		break;
	}
	shunt_pbuf_free(p);
	shunt_tcp_recved(pcb, n);
	return 0;
}

static void
srv_err(void *arg, int err)
{
	struct conn *c = arg;

	c->pcb = NULL;
	srv_forget(c);
}

static int
srv_accept(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	const struct peer_opts *o = arg;
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->o = o;
	c->pcb = pcb;
	c->streaming = o->test == TEST_STREAM;
	c->next = live;
	live = c;
	shunt_tcp_arg(pcb, c);
	shunt_tcp_recv(pcb, srv_recv);
	shunt_tcp_err(pcb, srv_err);
	shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1);
	return 0;
}

int
raw_server(const struct peer_opts *o, struct shunt_stack *s)
{
	struct shunt_tcp_pcb *l = shunt_tcp_new(s);
	int err;

	show_stats = getenv("PEER_STATS") != NULL;
	if (l == NULL)
		peer_die("shunt_tcp_new failed");
	shunt_tcp_setopt(l, SHUNT_TCP_OPT_REUSEADDR, 1);
	err = shunt_tcp_bind(l, o->addr, o->port);
	if (err == 0)
		err = shunt_tcp_listen(l, 128);
	if (err != 0)
		peer_die("listen: %s", strerror(-err));
	shunt_tcp_arg(l, (void *)o);
	shunt_tcp_accept(l, srv_accept);
	memset(buf, 'r', sizeof(buf));
	peer_ready(o);
	for (;;) {
		struct conn *c, *next;

		shunt_stack_poll(s);
		if (show_stats && live != NULL) {
			static uint64_t next_dump;
			uint64_t now = peer_now();

			if (now > next_dump) {
				dump_info("server", live->pcb);
				next_dump = now + 100000000ull;
			}
		}
		/* Stream: one message per write, as many as the send buffer takes. */
		for (c = live; c != NULL; c = next) {
			next = c->next;
			if (!c->streaming || c->pcb == NULL)
				continue;
			while (shunt_tcp_sndbuf(c->pcb) >= o->size)
				if (shunt_tcp_write(c->pcb, buf, o->size, 0) <= 0)
					break;
		}
	}
}

/* ---- client ---- */

static int
cli_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct conn *c = arg;

	c->connected = err == 0;
	if (err != 0)
		c->dead = err;
	return 0;
}

/* A connection from a fresh PCB, polled until it is established (or dies). */
static void
dial(const struct peer_opts *o, struct shunt_stack *s, struct conn *c)
{
	uint64_t t0 = peer_now();
	int err;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->pcb = shunt_tcp_new(s);
	if (c->pcb == NULL)
		peer_die("shunt_tcp_new failed");
	shunt_tcp_arg(c->pcb, c);
	shunt_tcp_recv(c->pcb, on_recv_count);
	shunt_tcp_err(c->pcb, on_err);
	shunt_tcp_setopt(c->pcb, SHUNT_TCP_OPT_NODELAY, 1);
	err = shunt_tcp_connect(c->pcb, o->addr, o->port, cli_connected);
	if (err != 0)
		peer_die("connect: %s", strerror(-err));
	while (!c->connected) {
		shunt_stack_poll(s);
		if (c->dead)
			peer_die("connect: %s", strerror(-c->dead));
		if (peer_now() - t0 > CONNECT_MS * 1000000ull) {
			peer_dump_stats(s);
			peer_die("connect: no answer within %d ms (state %s)", CONNECT_MS, shunt_tcp_state_name(shunt_tcp_state(c->pcb)));
		}
	}
}

static void
client_rr(const struct peer_opts *o, struct shunt_stack *s, struct peer_result *res)
{
	struct conn c;
	struct peer_phase ph;
	uint64_t t, prev, want = 0;

	dial(o, s, &c);
	if (peer_lat_init(res, LAT_CAP) != 0)
		peer_die("out of memory");
	t = prev = peer_now();
	peer_phase_init(&ph, o, t);
	for (;;) {
		if (shunt_tcp_write(c.pcb, buf, o->size, 0) != (int)o->size)
			peer_die("write failed");
		want += o->size;
		while (c.got < want) {
			shunt_stack_poll(s);
			if (c.dead || c.eof)
				peer_die("connection lost");
		}
		t = peer_now();
		if (peer_phase_item(&ph, o, res, prev, t))
			break;
		prev = t;
	}
	res->bytes = res->items * o->size * 2;
	shunt_tcp_close(c.pcb);
}

static void
client_stream(const struct peer_opts *o, struct shunt_stack *s, struct peer_result *res)
{
	struct conn c;
	uint64_t t, start, end, got0 = 0;
	int measuring = 0;

	dial(o, s, &c);
	t = peer_now();
	start = t + o->warmup_ms * 1000000ull;
	end = start + o->ms * 1000000ull;
	for (;;) {
		shunt_stack_poll(s);
		if (c.dead || c.eof)
			peer_die("stream ended early");
		t = peer_now();
		if (!measuring && t >= start) {
			measuring = 1;
			start = t;
			end = start + o->ms * 1000000ull;
			got0 = c.got;
		} else if (measuring && t >= end) {
			break;
		}
	}
	res->ns = t - start;
	res->bytes = c.got - got0;
	res->items = res->bytes / o->size;
	if (show_stats)
		dump_info("client", c.pcb);
	shunt_tcp_abort(c.pcb);
}

static void
client_cps(const struct peer_opts *o, struct shunt_stack *s, struct peer_result *res)
{
	struct peer_phase ph;
	uint64_t t = peer_now(), t0;

	peer_phase_init(&ph, o, t);
	if (peer_lat_init(res, LAT_CAP) != 0)
		peer_die("out of memory");
	for (;;) {
		struct conn c;

		t0 = t;
		dial(o, s, &c);
		if (shunt_tcp_write(c.pcb, buf, o->size, 0) != (int)o->size)
			peer_die("request write failed");
		/* Reply, then the server's FIN; then our close (its last ACK arrives in a later poll). */
		while (!c.eof) {
			shunt_stack_poll(s);
			if (c.dead)
				peer_die("connection #%llu lost: %s", (unsigned long long)res->items, strerror(-c.dead));
		}
		if (c.got != o->size)
			peer_die("reply of %llu bytes, want %u", (unsigned long long)c.got, o->size);
		shunt_tcp_close(c.pcb);
		t = peer_now();
		if (peer_phase_item(&ph, o, res, t0, t))
			break;
	}
	res->bytes = res->items * o->size * 2;
}

int
raw_client(const struct peer_opts *o, struct shunt_stack *s)
{
	struct peer_result res;
	int i;

	show_stats = getenv("PEER_STATS") != NULL;
	memset(&res, 0, sizeof(res));
	memset(buf, 'x', sizeof(buf));
	switch (o->test) {
	case TEST_RR:
		client_rr(o, s, &res);
		break;
	case TEST_STREAM:
		client_stream(o, s, &res);
		break;
	case TEST_CPS:
		client_cps(o, s, &res);
		break;
	case TEST_IDLE:
	case TEST_MEM:
		peer_die("the raw API has no idle test (its loop never sleeps)");
	}
	/* Let the last FINs and ACKs go out before the port goes away. */
	for (i = 0; i < 1000; i++)
		shunt_stack_poll(s);
	peer_report(o, &res);
	if (show_stats)
		peer_dump_stats(s);
	free(res.lat);
	return 0;
}
