/*
 * socket(), close(), descriptor flags (fcntl, FIONBIO), bind() and listen():
 * the calls that make a socket and give it an address.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "sockapi.h"

SOCKTEST(socket_types_and_identity)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0);
	int t2 = SO(o, socket, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	int u2 = SO(o, socket, AF_INET, SOCK_DGRAM, IPPROTO_UDP);

	CHECK_OK(t);
	CHECK_OK(u);
	CHECK_OK(t2);
	CHECK_OK(u2);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_DOMAIN), AF_INET);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_ACCEPTCONN), 0);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	CHECK_EQ(so_int(o, u2, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	CHECK_EQ(so_int(o, t2, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	/* Descriptors are real and distinct. */
	CHECK(t != u && t != t2 && u != u2);
	CHECK_EQ(SO(o, close, t), 0);
	CHECK_EQ(SO(o, close, u), 0);
	CHECK_EQ(SO(o, close, t2), 0);
	CHECK_EQ(SO(o, close, u2), 0);
}

SOCKTEST(socket_bad_arguments)
{
	struct sockops *o = e->cli;

	CHECK_ERR(SO(o, socket, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(SO(o, socket, AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERR(SO(o, socket, AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	/* Unknown type flags and out-of-range types are EINVAL, checked before the family. */
	CHECK_ERR(SO(o, socket, AF_INET, SOCK_STREAM | 0x100, 0), EINVAL);
	CHECK_ERR(SO(o, socket, AF_INET, 11, 0), EINVAL);
	CHECK_ERR(SO(o, socket, 12345, 11, 0), EAFNOSUPPORT);
	CHECK_ERR(SO(o, socket, 12345, SOCK_STREAM, 0), EAFNOSUPPORT);
	if (e->is_shunt) {
		/* Deliberate: shunt has no IPv6; under the preload shim AF_INET6 sockets stay in the kernel. */
		CHECK_ERR(SO(o, socket, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
	}
}

SOCKTEST(socket_nonblock_cloexec_flags)
{
	struct sockops *o = e->cli;
	int a = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int b = SO(o, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int c = SO(o, socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	char buf[4];

	CHECK_OK(a);
	CHECK_OK(b);
	CHECK_OK(c);
	CHECK_EQ(SO(o, fcntl, a, F_GETFL, 0), O_RDWR);
	CHECK_EQ(SO(o, fcntl, b, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	CHECK_EQ(SO(o, fcntl, c, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	CHECK_EQ(SO(o, fcntl, a, F_GETFD, 0), 0);
	CHECK_EQ(SO(o, fcntl, b, F_GETFD, 0), FD_CLOEXEC);
	CHECK_EQ(SO(o, fcntl, a, F_SETFD, FD_CLOEXEC), 0);
	CHECK_EQ(SO(o, fcntl, a, F_GETFD, 0), FD_CLOEXEC);
	/* A non-blocking UDP socket with nothing queued. */
	CHECK_ERR(SO(o, recv, c, buf, sizeof(buf), 0), EAGAIN);
	/* F_SETFL takes O_NONBLOCK and ignores the access mode. */
	CHECK_EQ(SO(o, fcntl, c, F_SETFL, 0), 0);
	CHECK_EQ(SO(o, fcntl, c, F_GETFL, 0), O_RDWR);
	CHECK_EQ(SO(o, fcntl, c, F_SETFL, O_NONBLOCK | O_WRONLY), 0);
	CHECK_EQ(SO(o, fcntl, c, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	CHECK_ERR(SO(o, recv, c, buf, sizeof(buf), 0), EAGAIN);
	SO(o, close, a);
	SO(o, close, b);
	SO(o, close, c);
}

SOCKTEST(ioctl_fionbio)
{
	struct sockops *o = e->cli;
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0), on = 1, off = 0;
	char buf[4];

	CHECK_EQ(SO(o, ioctl, u, FIONBIO, &on), 0);
	CHECK_EQ(SO(o, fcntl, u, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	CHECK_ERR(SO(o, recv, u, buf, sizeof(buf), 0), EAGAIN);
	CHECK_EQ(SO(o, ioctl, u, FIONBIO, &off), 0);
	CHECK_EQ(SO(o, fcntl, u, F_GETFL, 0), O_RDWR);
	CHECK_ERR(SO(o, ioctl, u, TCGETS, &on), ENOTTY);
	SO(o, close, u);
}

SOCKTEST(close_and_ebadf)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0), v;
	socklen_t l = sizeof(v);
	char buf[4];

	CHECK_EQ(SO(o, close, t), 0);
	CHECK_ERR(SO(o, close, t), EBADF);
	CHECK_ERR(SO(o, recv, t, buf, sizeof(buf), 0), EBADF);
	CHECK_ERR(SO(o, send, t, buf, sizeof(buf), 0), EBADF);
	CHECK_ERR(SO(o, getsockopt, t, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
	CHECK_ERR(SO(o, listen, t, 1), EBADF);
	CHECK_ERR(SO(o, shutdown, t, SHUT_RDWR), EBADF);
	CHECK_ERR(SO(o, close, -1), EBADF);
	CHECK_ERR(SO(o, recv, -1, buf, sizeof(buf), 0), EBADF);
	CHECK_ERR(SO(o, fcntl, -1, F_GETFL, 0), EBADF);
}

SOCKTEST(socket_call_on_non_socket)
{
	struct sockops *o = e->cli;
	int p[2];
	char buf[4];

	CHECK_EQ(pipe(p), 0);
	if (e->is_shunt) {
		/*
		 * Deliberate: shunt's API knows only its own descriptors, so any other
		 * descriptor is EBADF to it.  Under the preload shim a non-shunt
		 * descriptor goes to libc, which gives ENOTSOCK as below.
		 */
		CHECK_ERR(SO(o, recv, p[0], buf, sizeof(buf), 0), EBADF);
	} else {
		CHECK_ERR(SO(o, recv, p[0], buf, sizeof(buf), 0), ENOTSOCK);
		CHECK_ERR(SO(o, listen, p[0], 1), ENOTSOCK);
	}
	close(p[0]);
	close(p[1]);
}

SOCKTEST(bind_ephemeral_and_getsockname)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a, got;
	socklen_t l = sizeof(got);
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0);
	uint16_t p;

	/* Unbound: the wildcard address and port 0. */
	memset(&got, 0xaa, sizeof(got));
	CHECK_EQ(SO(o, getsockname, t, (struct sockaddr *)&got, &l), 0);
	CHECK_EQ(l, sizeof(got));
	CHECK_EQ(got.sin_family, AF_INET);
	CHECK_EQ(got.sin_addr.s_addr, 0);
	CHECK_EQ(got.sin_port, 0);
	a = side_addr(o, 0);
	CHECK_EQ(SO(o, bind, t, (struct sockaddr *)&a, sizeof(a)), 0);
	p = sock_port(o, t);
	CHECK(p >= 32768 && p <= 60999);	/* ip_local_port_range */
	l = sizeof(got);
	CHECK_EQ(SO(o, getsockname, t, (struct sockaddr *)&got, &l), 0);
	CHECK_EQ(got.sin_addr.s_addr, a.sin_addr.s_addr);
	/* A short buffer gets what fits; the length says how long the address is. */
	l = 4;
	memset(&got, 0, sizeof(got));
	CHECK_EQ(SO(o, getsockname, t, (struct sockaddr *)&got, &l), 0);
	CHECK_EQ(l, sizeof(got));
	CHECK_EQ(got.sin_family, AF_INET);
	CHECK_EQ(got.sin_addr.s_addr, 0);
	/* The wildcard address. */
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	CHECK_EQ(SO(o, bind, u, (struct sockaddr *)&a, sizeof(a)), 0);
	l = sizeof(got);
	CHECK_EQ(SO(o, getsockname, u, (struct sockaddr *)&got, &l), 0);
	CHECK_EQ(got.sin_addr.s_addr, 0);
	CHECK(ntohs(got.sin_port) >= 32768 && ntohs(got.sin_port) <= 60999);
	SO(o, close, t);
	SO(o, close, u);
}

SOCKTEST(bind_errors)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a = side_addr(o, 0), other;
	struct sockaddr_in6 a6;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int t2 = SO(o, socket, AF_INET, SOCK_STREAM, 0);

	CHECK_ERR(SO(o, bind, t, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	CHECK_ERR(SO(o, bind, t, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT);
	/* An address this host does not have (no packet leaves: bind is local). */
	other = a;
	other.sin_addr.s_addr = htonl(0x0a0b0c0d);
	CHECK_ERR(SO(o, bind, t, (struct sockaddr *)&other, sizeof(other)), EADDRNOTAVAIL);
	CHECK_EQ(SO(o, bind, t, (struct sockaddr *)&a, sizeof(a)), 0);
	/* Bound once: a second bind is EINVAL. */
	CHECK_ERR(SO(o, bind, t, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	a.sin_port = htons(sock_port(o, t));
	CHECK_ERR(SO(o, bind, t2, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	SO(o, close, t);
	/* The port is free again once its only holder closed without connecting. */
	CHECK_EQ(SO(o, bind, t2, (struct sockaddr *)&a, sizeof(a)), 0);
	SO(o, close, t2);
}

SOCKTEST(bind_af_unspec_any_is_af_inet)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int t2 = SO(o, socket, AF_INET, SOCK_STREAM, 0);

	/* Linux takes AF_UNSPEC with INADDR_ANY as AF_INET (old programs do that); other addresses not. */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_UNSPEC;
	CHECK_EQ(SO(o, bind, t, (struct sockaddr *)&a, sizeof(a)), 0);
	a = side_addr(o, 0);
	a.sin_family = AF_UNSPEC;
	CHECK_ERR(SO(o, bind, t2, (struct sockaddr *)&a, sizeof(a)), EAFNOSUPPORT);
	SO(o, close, t);
	SO(o, close, t2);
}

SOCKTEST(bind_reuseaddr_not_listening)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a = side_addr(o, 0);
	int t1 = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int t2 = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int t3 = SO(o, socket, AF_INET, SOCK_STREAM, 0);

	set_int(o, t1, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(o, t2, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(o, t3, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_EQ(SO(o, bind, t1, (struct sockaddr *)&a, sizeof(a)), 0);
	a.sin_port = htons(sock_port(o, t1));
	/* Both with SO_REUSEADDR, neither listening: they may share the port. */
	CHECK_EQ(SO(o, bind, t2, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(SO(o, listen, t1, 4), 0);
	/* A listener holds the port even against SO_REUSEADDR ... */
	CHECK_ERR(SO(o, bind, t3, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	/* ... and the other bound socket cannot listen beside it. */
	CHECK_ERR(SO(o, listen, t2, 4), EADDRINUSE);
	SO(o, close, t1);
	SO(o, close, t2);
	SO(o, close, t3);
}

/* The server closes first, so its end of the connection waits in TIME_WAIT holding the port. */
static struct sockaddr_in
leave_time_wait(struct sockenv *e, int reuse)
{
	struct sockaddr_in sa = side_addr(e->srv, 0);
	socklen_t sl = sizeof(sa);
	int l, c, s;
	char b;

	l = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	if (reuse)
		set_int(e->srv, l, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_EQ(SO(e->srv, bind, l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->srv, listen, l, 4), 0);
	CHECK_EQ(SO(e->srv, getsockname, l, (struct sockaddr *)&sa, &sl), 0);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	SO(e->srv, close, l);
	CHECK_EQ(SO(e->srv, close, s), 0);
	CHECK_EQ(SO(e->cli, recv, c, &b, 1, 0), 0);
	CHECK_EQ(SO(e->cli, close, c), 0);
	sleep_ms(50);
	return sa;
}

SOCKTEST(bind_reuseaddr_after_time_wait)
{
	struct sockaddr_in sa = leave_time_wait(e, 1);
	int l2, l3;

	/* SO_REUSEADDR on both the old (now TIME_WAIT) socket and the new one: the port is free. */
	l2 = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(SO(e->srv, bind, l2, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	l3 = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	set_int(e->srv, l3, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_EQ(SO(e->srv, bind, l3, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->srv, listen, l3, 4), 0);
	SO(e->srv, close, l2);
	SO(e->srv, close, l3);
}

SOCKTEST(bind_time_wait_without_reuseaddr_on_old)
{
	struct sockaddr_in sa = leave_time_wait(e, 0);
	int l3;

	/*
	 * Linux needs SO_REUSEADDR on both sides of the conflict: a TIME_WAIT
	 * socket whose listener did not set it keeps the port even from a new
	 * socket that does (inet_bind_conflict: sk->sk_reuse && sk2->sk_reuse).
	 */
	l3 = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	set_int(e->srv, l3, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_ERR(SO(e->srv, bind, l3, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	SO(e->srv, close, l3);
}

SOCKTEST(bind_reuseport_two_listeners)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a = side_addr(o, 0);
	int l1 = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int l2 = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int l3 = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int c, s, i, got = 0;

	set_int(o, l1, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(o, l2, SOL_SOCKET, SO_REUSEPORT, 1);
	CHECK_EQ(so_int(o, l1, SOL_SOCKET, SO_REUSEPORT), 1);
	CHECK_EQ(SO(o, bind, l1, (struct sockaddr *)&a, sizeof(a)), 0);
	a.sin_port = htons(sock_port(o, l1));
	CHECK_EQ(SO(o, bind, l2, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_ERR(SO(o, bind, l3, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	CHECK_EQ(SO(o, listen, l1, 8), 0);
	CHECK_EQ(SO(o, listen, l2, 8), 0);
	/* Every connection lands on one of the two. */
	for (i = 0; i < 4; i++) {
		c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&a, sizeof(a)), 0);
		SO(e->cli, close, c);
	}
	sleep_ms(50);
	for (i = 0; i < 2; i++) {
		int l = i == 0 ? l1 : l2;

		CHECK_EQ(SO(o, fcntl, l, F_SETFL, O_NONBLOCK), 0);
		while ((s = SO(o, accept, l, NULL, NULL)) >= 0) {
			got++;
			SO(o, close, s);
		}
		CHECK_EQ(errno, EAGAIN);
	}
	CHECK_EQ(got, 4);
	SO(o, close, l1);
	SO(o, close, l2);
	SO(o, close, l3);
}

SOCKTEST(listen_semantics)
{
	struct sockops *o = e->srv;
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0);
	int c, s;

	/* listen() without bind() picks an ephemeral port on the wildcard address. */
	CHECK_EQ(SO(o, listen, t, 4), 0);
	CHECK_EQ(SO(o, getsockname, t, (struct sockaddr *)&a, &l), 0);
	CHECK_EQ(a.sin_addr.s_addr, 0);
	CHECK(ntohs(a.sin_port) >= 32768);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_ACCEPTCONN), 1);
	/* Again: only the backlog changes. */
	CHECK_EQ(SO(o, listen, t, 8), 0);
	CHECK_EQ(SO(o, listen, t, -1), 0);
	CHECK_ERR(SO(o, listen, u, 4), EOPNOTSUPP);
	/* A connected socket cannot listen. */
	tcp_pair(e, NULL, &c, &s);
	CHECK_ERR(SO(e->cli, listen, c, 4), EINVAL);
	CHECK_ERR(SO(o, listen, s, 4), EINVAL);
	SO(e->cli, close, c);
	SO(o, close, s);
	SO(o, close, t);
	SO(o, close, u);
}
