/*
 * The socket-level tests of shunt-peer, written once against struct net:
 * libc sockets for the kernel figures, shunt's socket API (on a struct
 * shunt_sys) for shunt's.  Both sides make the same calls in the same order,
 * so a difference in the figures is a difference of the stacks below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <shunt/socket.h>
#include "peer.h"

#define STREAM_BUF	(256 * 1024)
#define LAT_CAP		(8u << 20)	/* latency samples kept (32 MiB) */

/* ---- the two networks ---- */

static int
k_socket(struct net *n, int d, int t, int p)
{
	return socket(d, t, p);
}

static int
k_bind(struct net *n, int fd, const struct sockaddr *a, socklen_t l)
{
	return bind(fd, a, l);
}

static int
k_listen(struct net *n, int fd, int b)
{
	return listen(fd, b);
}

static int
k_accept(struct net *n, int fd)
{
	return accept(fd, NULL, NULL);
}

static int
k_connect(struct net *n, int fd, const struct sockaddr *a, socklen_t l)
{
	return connect(fd, a, l);
}

static int
k_setsockopt(struct net *n, int fd, int lv, int nm, const void *v, socklen_t l)
{
	return setsockopt(fd, lv, nm, v, l);
}

static ssize_t
k_send(struct net *n, int fd, const void *b, size_t len, int f)
{
	return send(fd, b, len, f);
}

static ssize_t
k_recv(struct net *n, int fd, void *b, size_t len, int f)
{
	return recv(fd, b, len, f);
}

static int
k_close(struct net *n, int fd)
{
	return close(fd);
}

void
net_kernel(struct net *n)
{
	memset(n, 0, sizeof(*n));
	n->socket = k_socket;
	n->bind = k_bind;
	n->listen = k_listen;
	n->accept = k_accept;
	n->connect = k_connect;
	n->setsockopt = k_setsockopt;
	n->send = k_send;
	n->recv = k_recv;
	n->close = k_close;
}

static int
s_socket(struct net *n, int d, int t, int p)
{
	return shunt_socket(n->sys, d, t, p);
}

static int
s_bind(struct net *n, int fd, const struct sockaddr *a, socklen_t l)
{
	return shunt_bind(n->sys, fd, a, l);
}

static int
s_listen(struct net *n, int fd, int b)
{
	return shunt_listen(n->sys, fd, b);
}

static int
s_accept(struct net *n, int fd)
{
	return shunt_accept(n->sys, fd, NULL, NULL);
}

static int
s_connect(struct net *n, int fd, const struct sockaddr *a, socklen_t l)
{
	return shunt_connect(n->sys, fd, a, l);
}

static int
s_setsockopt(struct net *n, int fd, int lv, int nm, const void *v, socklen_t l)
{
	return shunt_setsockopt(n->sys, fd, lv, nm, v, l);
}

static ssize_t
s_send(struct net *n, int fd, const void *b, size_t len, int f)
{
	return shunt_send(n->sys, fd, b, len, f);
}

static ssize_t
s_recv(struct net *n, int fd, void *b, size_t len, int f)
{
	return shunt_recv(n->sys, fd, b, len, f);
}

static int
s_close(struct net *n, int fd)
{
	return shunt_close(n->sys, fd);
}

void
net_shunt(struct net *n, void *sys)
{
	memset(n, 0, sizeof(*n));
	n->sys = sys;
	n->socket = s_socket;
	n->bind = s_bind;
	n->listen = s_listen;
	n->accept = s_accept;
	n->connect = s_connect;
	n->setsockopt = s_setsockopt;
	n->send = s_send;
	n->recv = s_recv;
	n->close = s_close;
}

/* ---- helpers ---- */

/* busy: spin on MSG_DONTWAIT rather than sleep in the call (the kernel's "polling" wait). */
static int
send_all(struct net *n, int fd, const void *b, size_t len, int busy)
{
	const char *p = b;

	while (len > 0) {
		ssize_t r = n->send(n, fd, p, len, MSG_NOSIGNAL | (busy ? MSG_DONTWAIT : 0));

		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Reads exactly len bytes; 0, or -1 at the end of the stream or on an error. */
static int
recv_all(struct net *n, int fd, void *b, size_t len, int busy)
{
	char *p = b;

	while (len > 0) {
		ssize_t r = n->recv(n, fd, p, len, busy ? MSG_DONTWAIT : 0);

		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		} else {
			return -1;
		}
	}
	return 0;
}

static void
nodelay(struct net *n, int fd)
{
	int one = 1;

	if (n->setsockopt(n, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		peer_die("TCP_NODELAY: %s", strerror(errno));
}

static struct sockaddr_in
server_addr(const struct peer_opts *o)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = o->addr;
	sa.sin_port = o->port;
	return sa;
}

static int
dial(const struct peer_opts *o, struct net *n)
{
	struct sockaddr_in sa = server_addr(o);
	int fd = n->socket(n, AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		peer_die("socket: %s", strerror(errno));
	if (n->connect(n, fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		peer_die("connect: %s", strerror(errno));
	nodelay(n, fd);
	return fd;
}

/* ---- server ---- */

static void
serve(const struct peer_opts *o, struct net *n, int fd, char *buf)
{
	ssize_t r;

	switch (o->test) {
	case TEST_RR:
		/* Echo whatever arrives, as it arrives. */
		for (;;) {
			r = n->recv(n, fd, buf, o->size, o->busy ? MSG_DONTWAIT : 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0 || send_all(n, fd, buf, (size_t)r, o->busy) != 0)
				return;
		}
	case TEST_STREAM:
		/* Messages of size bytes, one call each, until the client goes away. */
		while (send_all(n, fd, buf, o->size, 0) == 0)
			;
		return;
	case TEST_CPS:
		/* Request, reply, and we close first (the TIME_WAIT is ours, as at an HTTP/1.0 server). */
		if (recv_all(n, fd, buf, o->size, 0) == 0)
			send_all(n, fd, buf, o->size, 0);
		return;
	case TEST_IDLE:
	case TEST_MEM:
		while ((r = n->recv(n, fd, buf, STREAM_BUF, 0)) > 0 || (r < 0 && errno == EINTR))
			;
		return;
	}
}

int
sock_server(const struct peer_opts *o, struct net *n)
{
	struct sockaddr_in sa = server_addr(o);
	char *buf = calloc(1, STREAM_BUF > o->size ? STREAM_BUF : o->size);
	int lfd, fd, one = 1;

	if (buf == NULL)
		peer_die("out of memory");
	lfd = n->socket(n, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		peer_die("socket: %s", strerror(errno));
	n->setsockopt(n, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (n->bind(n, lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || n->listen(n, lfd, 128) != 0)
		peer_die("listen on port %u: %s", ntohs(o->port), strerror(errno));
	peer_ready(o);
	for (;;) {
		fd = n->accept(n, lfd);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			peer_die("accept: %s", strerror(errno));
		}
		nodelay(n, fd);
		serve(o, n, fd, buf);
		n->close(n, fd);
	}
}

/* ---- client ---- */

static int
client_rr(const struct peer_opts *o, struct net *n, struct peer_result *res, char *buf)
{
	int fd = dial(o, n);
	struct peer_phase ph;
	uint64_t t = peer_now(), prev = t;

	peer_phase_init(&ph, o, t);
	if (peer_lat_init(res, LAT_CAP) != 0)
		peer_die("out of memory");
	memset(buf, 'x', o->size);
	for (;;) {
		if (send_all(n, fd, buf, o->size, o->busy) != 0 || recv_all(n, fd, buf, o->size, o->busy) != 0)
			peer_die("round trip: %s", strerror(errno));
		t = peer_now();
		if (peer_phase_item(&ph, o, res, prev, t))
			break;
		prev = t;
	}
	res->bytes = res->items * o->size * 2;
	n->close(n, fd);
	return 0;
}

static int
client_stream(const struct peer_opts *o, struct net *n, struct peer_result *res, char *buf)
{
	int fd = dial(o, n);
	uint64_t t = peer_now(), start = t + o->warmup_ms * 1000000ull, end = start + o->ms * 1000000ull;
	uint64_t got = 0, got0 = 0;
	int measuring = 0;

	for (;;) {
		ssize_t r = n->recv(n, fd, buf, STREAM_BUF, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			peer_die("stream ended early: %s", r == 0 ? "end of stream" : strerror(errno));
		got += (uint64_t)r;
		t = peer_now();
		if (!measuring && t >= start) {
			measuring = 1;
			start = t;
			end = start + o->ms * 1000000ull;
			got0 = got;
		} else if (measuring && t >= end) {
			break;
		}
	}
	res->ns = t - start;
	res->bytes = got - got0;
	res->items = res->bytes / o->size;
	n->close(n, fd);
	return 0;
}

static int
client_cps(const struct peer_opts *o, struct net *n, struct peer_result *res, char *buf)
{
	struct sockaddr_in sa = server_addr(o);
	struct peer_phase ph;
	uint64_t t = peer_now(), t0;

	peer_phase_init(&ph, o, t);
	if (peer_lat_init(res, LAT_CAP) != 0)
		peer_die("out of memory");
	memset(buf, 'q', o->size);
	for (;;) {
		int fd;
		ssize_t r;

		t0 = t;
		fd = n->socket(n, AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			peer_die("socket: %s", strerror(errno));
		if (n->connect(n, fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			peer_die("connect #%llu: %s", (unsigned long long)res->items, strerror(errno));
		if (send_all(n, fd, buf, o->size, 0) != 0 || recv_all(n, fd, buf, o->size, 0) != 0)
			peer_die("request/reply: %s", strerror(errno));
		/* The server closes first: wait for its FIN, so that the TIME_WAIT is never ours. */
		while ((r = n->recv(n, fd, buf, o->size, 0)) < 0 && errno == EINTR)
			;
		if (r != 0)
			peer_die("no end of stream after the reply (%zd, %s)", r, strerror(errno));
		n->close(n, fd);
		t = peer_now();
		if (peer_phase_item(&ph, o, res, t0, t))
			break;
	}
	res->bytes = res->items * o->size * 2;
	return 0;
}

int
sock_client(const struct peer_opts *o, struct net *n)
{
	struct peer_result res;
	char *buf = calloc(1, STREAM_BUF > o->size ? STREAM_BUF : o->size);
	int rc = 0, fd;

	if (buf == NULL)
		peer_die("out of memory");
	memset(&res, 0, sizeof(res));
	switch (o->test) {
	case TEST_RR:
		rc = client_rr(o, n, &res, buf);
		break;
	case TEST_STREAM:
		rc = client_stream(o, n, &res, buf);
		break;
	case TEST_CPS:
		rc = client_cps(o, n, &res, buf);
		break;
	case TEST_IDLE:
		fd = dial(o, n);
		peer_ready(o);
		/* Idle until the harness ends us (or the server goes away). */
		while (n->recv(n, fd, buf, STREAM_BUF, 0) < 0 && errno == EINTR)
			;
		return 0;
	case TEST_MEM:
		return 1;	/* not a client-server test: peer_mem.c */
	}
	if (rc == 0)
		peer_report(o, &res);
	free(res.lat);
	free(buf);
	return rc;
}
