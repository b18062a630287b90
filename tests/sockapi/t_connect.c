/*
 * connect() and accept(): blocking and non-blocking opens, their errno cases
 * (ECONNREFUSED, EINPROGRESS, EALREADY, EISCONN, ETIMEDOUT), SO_ERROR, the
 * addresses each end reports, and what an accepted socket inherits.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include "sockapi.h"

SOCKTEST(connect_blocking_addresses)
{
	struct sockaddr_in sa, peer, me, acc, speer;
	socklen_t l = sizeof(peer), al = sizeof(acc);
	int lfd, c, s;

	lfd = tcp_listener(e->srv, 4, &sa);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = SO(e->srv, accept, lfd, (struct sockaddr *)&acc, &al);
	CHECK_OK(s);
	CHECK_EQ(al, sizeof(acc));
	CHECK_EQ(SO(e->cli, getpeername, c, (struct sockaddr *)&peer, &l), 0);
	CHECK_EQ(l, sizeof(peer));
	CHECK_EQ(peer.sin_family, AF_INET);
	CHECK_EQ(peer.sin_addr.s_addr, sa.sin_addr.s_addr);
	CHECK_EQ(peer.sin_port, sa.sin_port);
	l = sizeof(me);
	CHECK_EQ(SO(e->cli, getsockname, c, (struct sockaddr *)&me, &l), 0);
	/* The client got the address of its route and an ephemeral port. */
	CHECK_EQ(me.sin_addr.s_addr, e->cli->addr.sin_addr.s_addr);
	CHECK(ntohs(me.sin_port) >= 32768 && ntohs(me.sin_port) <= 60999);
	/* accept() and getpeername() on the server name the client. */
	CHECK_EQ(acc.sin_family, AF_INET);
	CHECK_EQ(acc.sin_addr.s_addr, me.sin_addr.s_addr);
	CHECK_EQ(acc.sin_port, me.sin_port);
	l = sizeof(speer);
	CHECK_EQ(SO(e->srv, getpeername, s, (struct sockaddr *)&speer, &l), 0);
	CHECK_EQ(speer.sin_port, me.sin_port);
	l = sizeof(speer);
	CHECK_EQ(SO(e->srv, getsockname, s, (struct sockaddr *)&speer, &l), 0);
	CHECK_EQ(speer.sin_port, sa.sin_port);
	CHECK_EQ(speer.sin_addr.s_addr, sa.sin_addr.s_addr);
	/* Connected: a second connect is EISCONN. */
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EISCONN);
	/* A listener is not connectable itself (it is not in the CLOSE state). */
	CHECK_ERR(SO(e->srv, connect, lfd, (struct sockaddr *)&sa, sizeof(sa)), EISCONN);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
	SO(e->srv, close, lfd);
}

SOCKTEST(connect_bad_arguments)
{
	struct sockaddr_in sa = side_addr(e->srv, 9);
	struct sockaddr_in6 a6;
	int c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);

	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa) - 1), EINVAL);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT);
	SO(e->cli, close, c);
}

SOCKTEST(connect_refused_blocking)
{
	struct sockaddr_in dead = closed_port(e), sa;
	int c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0), l, s;

	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&dead, sizeof(dead)), ECONNREFUSED);
	/* The error was reported by connect(): nothing is pending. */
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	/* The socket may try again, elsewhere. */
	l = tcp_listener(e->srv, 4, &sa);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	SO(e->srv, close, s);
	SO(e->srv, close, l);
	SO(e->cli, close, c);
}

SOCKTEST(connect_refused_nonblocking)
{
	struct sockaddr_in dead = closed_port(e);
	int c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	short rev;

	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&dead, sizeof(dead)), EINPROGRESS);
	rev = wait_ev(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, POLLERR, 2000);
	CHECK_EV(rev, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	/* SO_ERROR read and cleared the error. */
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	SO(e->cli, close, c);
}

SOCKTEST(connect_refused_reported_by_second_connect)
{
	struct sockaddr_in dead = closed_port(e);
	int c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&dead, sizeof(dead)), EINPROGRESS);
	wait_ev(e->cli, c, POLLOUT, POLLERR, 2000);
	/* connect() again reports the outcome of the first attempt. */
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&dead, sizeof(dead)), ECONNREFUSED);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	SO(e->cli, close, c);
}

SOCKTEST(connect_nonblocking_completes)
{
	struct sockaddr_in sa;
	int l = tcp_listener(e->srv, 4, &sa), s;
	int c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	CHECK_EV(wait_ev(e->cli, c, POLLIN | POLLOUT, POLLOUT, 2000), POLLOUT);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	/* The first connect() after completion says 0; after that the socket is simply connected. */
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EISCONN);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
	SO(e->srv, close, l);
}

/*
 * A listener whose accept queue is full drops SYNs (Linux and shunt both):
 * backlog 1 admits two connections, the third waits in SYN_SENT.
 */
static int
full_listener(struct sockenv *e, struct sockaddr_in *sa, int held[2])
{
	int l = tcp_listener(e->srv, 1, sa), i;

	for (i = 0; i < 2; i++) {
		held[i] = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(SO(e->cli, connect, held[i], (struct sockaddr *)sa, sizeof(*sa)), 0);
	}
	sleep_ms(20);
	return l;
}

SOCKTEST(connect_ealready_then_completes)
{
	struct sockaddr_in sa;
	int held[2], l = full_listener(e, &sa, held), c, s, i;

	c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EALREADY);
	/* Connecting: neither readable nor writable. */
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT, 100), 0);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	CHECK_ERR(SO(e->cli, send, c, "x", 1, MSG_NOSIGNAL), EAGAIN);
	/* Room in the queue: the retransmitted SYN (after 1 s) gets through. */
	for (i = 0; i < 2; i++) {
		s = SO(e->srv, accept, l, NULL, NULL);
		CHECK_OK(s);
		SO(e->srv, close, s);
	}
	CHECK_EV(wait_ev(e->cli, c, POLLOUT, POLLOUT, 4000), POLLOUT);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	SO(e->srv, close, s);
	SO(e->cli, close, c);
	SO(e->cli, close, held[0]);
	SO(e->cli, close, held[1]);
	SO(e->srv, close, l);
}

SOCKTEST(connect_sndtimeo_einprogress_then_ealready)
{
	struct sockaddr_in sa;
	struct timeval tv = { 0, 200000 };
	int held[2], l = full_listener(e, &sa, held), c;
	uint64_t t0;

	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, setsockopt, c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	/* A blocking connect bounded by SO_SNDTIMEO gives up with EINPROGRESS ... */
	t0 = now_ms();
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	CHECK(now_ms() - t0 >= 180);
	/* ... and a second one, still in progress, with EALREADY. */
	t0 = now_ms();
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EALREADY);
	CHECK(now_ms() - t0 >= 180);
	SO(e->cli, close, c);
	SO(e->cli, close, held[0]);
	SO(e->cli, close, held[1]);
	SO(e->srv, close, l);
}

SOCKTEST(connect_etimedout_user_timeout)
{
	struct sockaddr_in sa;
	int held[2], l, c, ms = 500;
	uint64_t t0;

	l = full_listener(e, &sa, held);
	/* SYNs go unanswered; TCP_USER_TIMEOUT bounds how long the open keeps trying. */
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, setsockopt, c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)), 0);
	t0 = now_ms();
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), ETIMEDOUT);
	CHECKF(now_ms() - t0 >= 400 && now_ms() - t0 < 3000, "took %llu ms", (unsigned long long)(now_ms() - t0));
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	SO(e->cli, close, c);
	SO(e->cli, close, held[0]);
	SO(e->cli, close, held[1]);
	SO(e->srv, close, l);
}

SOCKTEST(accept_nonblocking_and_flags)
{
	struct sockaddr_in sa, a;
	socklen_t al;
	int l = tcp_listener(e->srv, 4, &sa), c, s;

	CHECK_EQ(SO(e->srv, fcntl, l, F_SETFL, O_NONBLOCK), 0);
	CHECK_ERR(SO(e->srv, accept, l, NULL, NULL), EAGAIN);
	CHECK_ERR(SO(e->srv, accept4, l, NULL, NULL, 0x40), EINVAL);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EV(wait_ev(e->srv, l, POLLIN, POLLIN, 2000), POLLIN);
	/* A short address buffer gets a truncated address and the full length. */
	al = 4;
	memset(&a, 0, sizeof(a));
	s = SO(e->srv, accept4, l, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK_OK(s);
	CHECK_EQ(al, sizeof(a));
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_addr.s_addr, 0);
	CHECK_EQ(SO(e->srv, fcntl, s, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	CHECK_EQ(SO(e->srv, fcntl, s, F_GETFD, 0), FD_CLOEXEC);
	SO(e->srv, close, s);
	SO(e->cli, close, c);
	/* O_NONBLOCK of the listener is not inherited by accept(), unlike BSD. */
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	wait_ev(e->srv, l, POLLIN, POLLIN, 2000);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	CHECK_EQ(SO(e->srv, fcntl, s, F_GETFL, 0), O_RDWR);
	CHECK_EQ(SO(e->srv, fcntl, s, F_GETFD, 0), 0);
	SO(e->srv, close, s);
	SO(e->cli, close, c);
	SO(e->srv, close, l);
}

SOCKTEST(accept_errors)
{
	int t = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);

	CHECK_ERR(SO(e->srv, accept, t, NULL, NULL), EINVAL);
	CHECK_ERR(SO(e->srv, accept, u, NULL, NULL), EOPNOTSUPP);
	SO(e->srv, close, t);
	SO(e->srv, close, u);
}

struct connect_later {
	struct sockenv *e;
	struct sockaddr_in sa;
	int fd;
};

static void
do_connect(void *p)
{
	struct connect_later *a = p;

	a->fd = SO(a->e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(a->e->cli, connect, a->fd, (struct sockaddr *)&a->sa, sizeof(a->sa)), 0);
}

SOCKTEST(accept_blocks_until_connection)
{
	struct connect_later a;
	struct later *lt;
	int l, s;
	uint64_t t0;

	a.e = e;
	l = tcp_listener(e->srv, 4, &a.sa);
	lt = later(do_connect, &a, 150);
	t0 = now_ms();
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	CHECK(now_ms() - t0 >= 100);
	later_join(lt);
	SO(e->srv, close, s);
	SO(e->cli, close, a.fd);
	SO(e->srv, close, l);
}

SOCKTEST(accept_inherits_options)
{
	struct sockaddr_in sa;
	struct timeval tv = { 2, 500000 }, got;
	struct linger lg = { 1, 7 }, lgot;
	socklen_t gl = sizeof(got);
	int l, c, s;

	l = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	set_int(e->srv, l, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int(e->srv, l, SOL_SOCKET, SO_KEEPALIVE, 1);
	set_int(e->srv, l, IPPROTO_TCP, TCP_KEEPIDLE, 33);
	set_int(e->srv, l, SOL_SOCKET, SO_RCVLOWAT, 5);
	CHECK_EQ(SO(e->srv, setsockopt, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(SO(e->srv, setsockopt, l, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	sa = side_addr(e->srv, 0);
	CHECK_EQ(SO(e->srv, bind, l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->srv, listen, l, 4), 0);
	sa.sin_port = htons(sock_port(e->srv, l));
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	/* The accepted socket is a copy of the listener's socket state. */
	CHECK_EQ(so_int(e->srv, s, IPPROTO_TCP, TCP_NODELAY), 1);
	CHECK_EQ(so_int(e->srv, s, SOL_SOCKET, SO_KEEPALIVE), 1);
	CHECK_EQ(so_int(e->srv, s, IPPROTO_TCP, TCP_KEEPIDLE), 33);
	CHECK_EQ(so_int(e->srv, s, SOL_SOCKET, SO_RCVLOWAT), 5);
	CHECK_EQ(SO(e->srv, getsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &got, &gl), 0);
	CHECK_EQ(got.tv_sec, 2);
	CHECK_EQ(got.tv_usec, 500000);
	gl = sizeof(lgot);
	CHECK_EQ(SO(e->srv, getsockopt, s, SOL_SOCKET, SO_LINGER, &lgot, &gl), 0);
	CHECK_EQ(lgot.l_onoff, 1);
	CHECK_EQ(lgot.l_linger, 7);
	/* The accepted socket is not listening. */
	CHECK_EQ(so_int(e->srv, s, SOL_SOCKET, SO_ACCEPTCONN), 0);
	SO(e->srv, close, s);
	SO(e->cli, close, c);
	SO(e->srv, close, l);
}

SOCKTEST(listener_close_resets_pending)
{
	struct sockaddr_in sa;
	int l = tcp_listener(e->srv, 4, &sa), c;
	char b;

	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sleep_ms(20);
	/* Never accepted: closing the listener resets it. */
	SO(e->srv, close, l);
	CHECK_EV(wait_ev(e->cli, c, POLLIN, POLLIN, 2000) & POLLERR, POLLERR);
	CHECK_ERR(SO(e->cli, recv, c, &b, 1, 0), ECONNRESET);
	CHECK_EQ(SO(e->cli, recv, c, &b, 1, 0), 0);
	SO(e->cli, close, c);
}

SOCKTEST(listener_shutdown_stops_it)
{
	struct sockaddr_in sa;
	int l = tcp_listener(e->srv, 4, &sa), c;

	/* SHUT_WR means nothing to a listener; SHUT_RD stops it. */
	CHECK_EQ(SO(e->srv, shutdown, l, SHUT_WR), 0);
	CHECK_EQ(so_int(e->srv, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	CHECK_EQ(SO(e->srv, shutdown, l, SHUT_RD), 0);
	CHECK_EQ(so_int(e->srv, l, SOL_SOCKET, SO_ACCEPTCONN), 0);
	CHECK_ERR(SO(e->srv, accept, l, NULL, NULL), EINVAL);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), ECONNREFUSED);
	SO(e->cli, close, c);
	SO(e->srv, close, l);
}
