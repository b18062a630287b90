/*
 * TCP echo server on shunt's raw (callback) API over a DPDK port: one thread,
 * one poll loop, every byte a client sends comes back on the same
 * connection.  The receive window reopens only as received bytes fit into the
 * send buffer, so a client that sends without reading is slowed down by TCP
 * flow control instead of filling the server's memory.
 *
 * By default the bytes are copied into the send buffer and the received
 * buffer goes back to the NIC at once.  --zero-copy puts the received pbufs
 * themselves into the send buffer (shunt_tcp_write_pbuf): no copy, but each
 * one pins its DPDK mbuf until the client acknowledges the echo -- up to
 * send buffer + receive window per connection -- and a port whose pool runs
 * dry cannot even receive the ACKs that would free it: size --mbufs for it.
 * Uses: the raw TCP API (<shunt/tcp.h>) and the DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/tcp_echo_raw --dpdk @EAL@ --ip 198.18.0.2/24 -- \
 *       sh -c 'echo hello | nc -q 1 198.18.0.2 7'
 *
 *   tcp_echo_raw [--zero-copy] --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port 7] [--pcap FILE]
 *                [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] [--dev NAME] [--mtu N] ...
 *
 * Runs until SIGINT or SIGTERM, then prints what it echoed and the stack's
 * nonzero counters (and the driver's with --stats) and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/tcp.h>
#include <shunt/dpdk.h>
#include "example_util.h"

struct conn;

struct server {
	struct shunt_stack *s;
	int zero_copy;
	struct conn *conns;		/* open connections, for the abort at exit */
	uint64_t accepted, closed, reset, bytes;
	uint32_t live;
};

/* One client connection. */
struct conn {
	struct server *srv;
	struct conn *next, **prevp;
	struct shunt_tcp_pcb *pcb;
	struct shunt_pbuf *pending;	/* received, not yet in the send buffer */
	uint32_t off;			/* bytes of pending's head already copied out */
	int eof;			/* the client sent its FIN */
};

static void
conn_free(struct conn *c)
{
	if (c->pending != NULL)
		shunt_pbuf_free(c->pending);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	c->srv->live--;
	free(c);
}

/* Drops the head pbuf of the pending chain; the rest of the chain stays. */
static void
pending_pop(struct conn *c)
{
	struct shunt_pbuf *q = c->pending;

	c->pending = q->next;
	q->next = NULL;
	q->tot_len = q->len;
	shunt_pbuf_free(q);
	c->off = 0;
}

/*
 * Moves pending bytes into the send buffer and gives the window back for
 * each: what the client may send next is what we can echo.  After the
 * client's FIN, once everything is queued, our FIN follows.  Returns
 * SHUNT_TCP_ABORTED if the connection is gone (and c with it), else 0.
 */
static int
conn_flush(struct conn *c)
{
	struct shunt_pbuf *q, *rest;
	uint32_t n;
	int r;

	while ((q = c->pending) != NULL) {
		if (c->off == q->len) {
			pending_pop(c);
			continue;
		}
		if (c->srv->zero_copy && c->off == 0) {
			/* The received pbuf itself joins the send buffer: split it off the chain. */
			if (q->len > shunt_tcp_sndbuf(c->pcb))
				break;	/* the sent callback brings us back when ACKs free room */
			rest = q->next;
			q->next = NULL;
			q->tot_len = q->len;
			r = shunt_tcp_write_pbuf(c->pcb, q, rest != NULL ? SHUNT_TCP_WRITE_MORE : 0);
			if (r != 0) {
				/* Not taken: still ours, back in front of the chain. */
				q->next = rest;
				if (rest != NULL)
					q->tot_len += rest->tot_len;
				if (r == -EAGAIN)
					break;
				goto fail;
			}
			c->pending = rest;
			n = q->len;
		} else {
			int more = q->next != NULL ? SHUNT_TCP_WRITE_MORE : 0;

			r = shunt_tcp_write(c->pcb, q->payload + c->off, q->len - c->off, more);
			if (r == -EAGAIN || r == -ENOBUFS)
				break;
			if (r < 0)
				goto fail;
			n = (uint32_t)r;
			c->off += n;
		}
		c->srv->bytes += n;
		shunt_tcp_recved(c->pcb, n);
	}
	if (c->pending == NULL && c->eof) {
		/* The PCB is the stack's from here on; none of our callbacks runs for it again. */
		shunt_tcp_close(c->pcb);
		c->srv->closed++;
		conn_free(c);
	}
	return 0;
fail:
	/* The connection cannot send any more: end it (the err callback frees c). */
	shunt_tcp_abort(c->pcb);
	return SHUNT_TCP_ABORTED;
}

static int
conn_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct conn *c = arg;

	(void)pcb;
	(void)err;
	if (p == NULL)
		c->eof = 1;
	else if (c->pending == NULL)
		c->pending = p;
	else
		shunt_pbuf_cat(c->pending, p);
	return conn_flush(c);
}

static int
conn_sent(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	(void)pcb;
	(void)len;
	return conn_flush(arg);
}

static void
conn_err(void *arg, int err)
{
	struct conn *c = arg;

	/* The PCB is already gone; only our state is left. */
	if (err == -ECONNRESET)
		c->srv->reset++;
	conn_free(c);
}

static int
srv_accept(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct server *srv = arg;
	struct conn *c;

	if (err != 0)
		return err;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;	/* the stack resets the connection */
	c->srv = srv;
	c->pcb = newpcb;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &srv->conns;
	srv->conns = c;
	srv->accepted++;
	srv->live++;
	shunt_tcp_arg(newpcb, c);
	shunt_tcp_recv(newpcb, conn_recv);
	shunt_tcp_sent(newpcb, conn_sent);
	shunt_tcp_err(newpcb, conn_err);
	return 0;
}

/* --zero-copy */
static int
zero_copy_option(void *arg, int argc, char **argv, int *i)
{
	(void)argc;
	if (strcmp(argv[*i], "--zero-copy") != 0)
		return 0;
	*(int *)arg = 1;
	return 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--zero-copy] %s\n", prog, EX_COMMON_USAGE);
}

int
main(int argc, char **argv)
{
	struct shunt_tcp_pcb *lpcb;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct ex_poller pl;
	struct server srv;
	struct ex_opts o;
	int r, err, zero_copy = 0;

	ex_opts_init(&o, "tcp_echo_raw", 7);
	r = ex_parse_args(&o, argc, argv, zero_copy_option, &zero_copy, usage);
	if (r >= 0)
		return r;
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	memset(&srv, 0, sizeof(srv));
	srv.s = s;
	srv.zero_copy = zero_copy;
	lpcb = shunt_tcp_new(s);
	if (lpcb == NULL) {
		fprintf(stderr, "%s: shunt_tcp_new: out of memory\n", o.prog);
		ex_finish(&o, s, nif);
		return 1;
	}
	shunt_tcp_setopt(lpcb, SHUNT_TCP_OPT_REUSEADDR, 1);
	err = shunt_tcp_bind(lpcb, 0, htons(o.port));
	if (err == 0)
		err = shunt_tcp_listen(lpcb, 128);
	if (err != 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", o.prog, o.port, strerror(-err));
		shunt_tcp_close(lpcb);
		ex_finish(&o, s, nif);
		return 1;
	}
	shunt_tcp_arg(lpcb, &srv);
	shunt_tcp_accept(lpcb, srv_accept);
	ex_catch_signals();
	ex_announce(&o, nif, "echoing TCP");
	ex_poller_init(&pl, s);
	while (!ex_stopped())
		ex_poll(&pl);
	printf("%s: stopping: %llu connections (%llu closed, %llu reset by the client, %u open), "
	    "%llu bytes echoed\n", o.prog, (unsigned long long)srv.accepted, (unsigned long long)srv.closed,
	    (unsigned long long)srv.reset, srv.live, (unsigned long long)srv.bytes);
	shunt_tcp_close(lpcb);
	/* Connections still open are reset; their err callbacks free what they held. */
	while (srv.conns != NULL)
		shunt_tcp_abort(srv.conns->pcb);
	ex_finish(&o, s, nif);
	return 0;
}
