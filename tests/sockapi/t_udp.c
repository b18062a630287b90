/*
 * Datagrams: sendto/recvfrom, connected UDP (filtering, ECONNREFUSED from
 * ICMP, AF_UNSPEC), boundaries and truncation (MSG_TRUNC both ways), MSG_PEEK,
 * FIONREAD, sendmmsg/recvmmsg, and the errno cases.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "sockapi.h"

SOCKTEST(udp_sendto_recvfrom)
{
	struct sockaddr_in sa, ca, from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);
	socklen_t cl = sizeof(ca);

	CHECK_EQ(SO(e->cli, sendto, c, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)), 4);
	/* The first send bound the socket to an ephemeral port. */
	CHECK_EQ(SO(e->cli, getsockname, c, (struct sockaddr *)&ca, &cl), 0);
	CHECK(ntohs(ca.sin_port) >= 32768);
	CHECK_EQ(SO(e->srv, recvfrom, s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 4);
	CHECK_MEM(buf, "ping", 4);
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(from.sin_family, AF_INET);
	CHECK_EQ(from.sin_port, ca.sin_port);
	CHECK_EQ(from.sin_addr.s_addr, e->cli->addr.sin_addr.s_addr);
	CHECK_EQ(SO(e->srv, sendto, s, "pong!", 5, 0, (struct sockaddr *)&from, fl), 5);
	CHECK_EQ(SO(e->cli, recv, c, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "pong!", 5);
	/* An empty datagram is a datagram. */
	CHECK_EQ(SO(e->cli, sendto, c, buf, 0, 0, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->srv, recv, s, buf, sizeof(buf), 0), 0);
	CHECK_ERR(SO(e->srv, recv, s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(udp_boundaries_and_truncation)
{
	struct sockaddr_in sa;
	char buf[64];
	struct iovec v = { buf, 4 };
	struct msghdr m;
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), n = -1;

	CHECK_EQ(SO(e->cli, sendto, c, "0123456789", 10, 0, (struct sockaddr *)&sa, sizeof(sa)), 10);
	CHECK_EQ(SO(e->cli, sendto, c, "abc", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3);
	CHECK_EQ(SO(e->cli, sendto, c, "XYZ", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3);
	CHECK_EQ(SO(e->cli, sendto, c, "last", 4, 0, (struct sockaddr *)&sa, sizeof(sa)), 4);
	wait_ev(e->srv, s, POLLIN, POLLIN, 2000);
	sleep_ms(30);
	/* FIONREAD on a datagram socket: the size of the next datagram. */
	CHECK_EQ(SO(e->srv, ioctl, s, FIONREAD, &n), 0);
	CHECK_EQ(n, 10);
	/* Peek does not consume; a short buffer truncates and the rest is lost. */
	CHECK_EQ(SO(e->srv, recv, s, buf, 4, MSG_PEEK), 4);
	CHECK_MEM(buf, "0123", 4);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	CHECK_EQ(SO(e->srv, recvmsg, s, &m, 0), 4);
	CHECK_MEM(buf, "0123", 4);
	CHECK_EQ(m.msg_flags, MSG_TRUNC);
	/* MSG_TRUNC: the datagram's real length, even if longer than the buffer. */
	CHECK_EQ(SO(e->srv, recv, s, buf, 1, MSG_TRUNC), 3);
	CHECK_EQ(buf[0], 'a');
	memset(&m, 0, sizeof(m));
	v.iov_len = sizeof(buf);
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	CHECK_EQ(SO(e->srv, recvmsg, s, &m, 0), 3);
	CHECK_EQ(m.msg_flags, 0);
	CHECK_MEM(buf, "XYZ", 3);
	CHECK_EQ(SO(e->srv, ioctl, s, SIOCINQ, &n), 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(SO(e->srv, read, s, buf, sizeof(buf)), 4);
	CHECK_EQ(SO(e->srv, ioctl, s, FIONREAD, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(SO(e->cli, ioctl, c, SIOCOUTQ, &n), 0);
	CHECK_EQ(n, 0);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(udp_connected)
{
	struct sockaddr_in sa, sa2, other, peer;
	socklen_t pl = sizeof(peer);
	char buf[16];
	int s = udp_bound(e->srv, &sa), s2 = udp_bound(e->srv, &sa2);
	int c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);

	CHECK_ERR(SO(e->cli, getpeername, c, (struct sockaddr *)&peer, &pl), ENOTCONN);
	CHECK_ERR(SO(e->cli, send, c, "x", 1, 0), EDESTADDRREQ);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->cli, getpeername, c, (struct sockaddr *)&peer, &pl), 0);
	CHECK_EQ(peer.sin_port, sa.sin_port);
	/* Connect again to re-target: allowed for datagrams. */
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa2, sizeof(sa2)), 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(SO(e->cli, send, c, "one", 3, 0), 3);
	CHECK_EQ(SO(e->srv, recv, s, buf, sizeof(buf), 0), 3);
	/* sendto another address still works on a connected socket. */
	CHECK_EQ(SO(e->cli, sendto, c, "two", 3, 0, (struct sockaddr *)&sa2, sizeof(sa2)), 3);
	CHECK_EQ(SO(e->srv, recv, s2, buf, sizeof(buf), 0), 3);
	CHECK_MEM(buf, "two", 3);
	/* A connected socket hears only its peer. */
	memset(&other, 0, sizeof(other));
	pl = sizeof(other);
	CHECK_EQ(SO(e->cli, getsockname, c, (struct sockaddr *)&other, &pl), 0);
	CHECK_EQ(SO(e->srv, sendto, s2, "stranger", 8, 0, (struct sockaddr *)&other, sizeof(other)), 8);
	CHECK_EQ(SO(e->srv, sendto, s, "friend", 6, 0, (struct sockaddr *)&other, sizeof(other)), 6);
	CHECK_EQ(SO(e->cli, recv, c, buf, sizeof(buf), 0), 6);
	CHECK_MEM(buf, "friend", 6);
	CHECK_ERR(SO(e->cli, recv, c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/*
	 * AF_UNSPEC dissolves the association.  A port the socket got implicitly
	 * (by connect) goes with it; one it bound itself stays.
	 */
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_UNSPEC;
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	pl = sizeof(peer);
	CHECK_ERR(SO(e->cli, getpeername, c, (struct sockaddr *)&peer, &pl), ENOTCONN);
	pl = sizeof(peer);
	CHECK_EQ(SO(e->cli, getsockname, c, (struct sockaddr *)&peer, &pl), 0);
	CHECK_EQ(peer.sin_port, 0);
	CHECK_EQ(peer.sin_addr.s_addr, 0);
	CHECK_ERR(SO(e->cli, send, c, "x", 1, 0), EDESTADDRREQ);
	{
		/* Bound to a port by number: it stays (SOCK_BINDPORT_LOCK). */
		struct sockaddr_in fixed;
		int u = udp_bound(e->srv, &fixed);

		SO(e->srv, close, u);
		u = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);
		CHECK_EQ(SO(e->srv, bind, u, (struct sockaddr *)&fixed, sizeof(fixed)), 0);
		CHECK_EQ(SO(e->srv, connect, u, (struct sockaddr *)&other, sizeof(other)), 0);
		CHECK_EQ(SO(e->srv, connect, u, (struct sockaddr *)&peer, sizeof(peer)), 0);
		CHECK_EQ(sock_port(e->srv, u), ntohs(fixed.sin_port));
		SO(e->srv, close, u);
	}
	SO(e->cli, close, c);
	SO(e->srv, close, s);
	SO(e->srv, close, s2);
}

SOCKTEST(udp_shutdown_unconnected)
{
	struct sockaddr_in sa;
	char b[4];
	int u = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);
	uint64_t t0;

	/* inet_shutdown: ENOTCONN, but the socket is shut all the same (to wake its pollers). */
	CHECK_ERR(SO(e->srv, shutdown, u, SHUT_RD), ENOTCONN);
	CHECK_EV(poll1(e->srv, u, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLRDHUP);
	/* A blocking receive on an empty queue ends at once; a non-blocking one still says EAGAIN. */
	t0 = now_ms();
	CHECK_EQ(SO(e->srv, recv, u, b, sizeof(b), 0), 0);
	CHECK(now_ms() - t0 < 500);
	CHECK_ERR(SO(e->srv, recv, u, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	/* Datagrams still arrive and are read. */
	CHECK_EQ(SO(e->cli, sendto, c, "abc", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3);
	sleep_ms(50);
	CHECK_EQ(SO(e->srv, recv, u, b, sizeof(b), 0), 3);
	/* A shut write side: EPIPE (without SIGPIPE: that is for streams). */
	count_signal(SIGPIPE, 1);
	CHECK_ERR(SO(e->cli, shutdown, c, SHUT_WR), ENOTCONN);
	CHECK_ERR(SO(e->cli, sendto, c, "abc", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 0);
	CHECK_ERR(SO(e->cli, shutdown, c, SHUT_RD), ENOTCONN);
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	SO(e->cli, close, c);
	SO(e->srv, close, u);
}

SOCKTEST(udp_econnrefused_connected)
{
	struct sockaddr_in dead;
	char buf[8];
	int c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), u;

	u = udp_bound(e->srv, &dead);
	SO(e->srv, close, u);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&dead, sizeof(dead)), 0);
	CHECK_EQ(SO(e->cli, send, c, "x", 1, 0), 1);
	/* The ICMP port unreachable comes back as the socket's error. */
	CHECK_EV(wait_ev(e->cli, c, POLLIN, POLLERR, 2000), POLLERR);
	CHECK_ERR(SO(e->cli, recv, c, buf, sizeof(buf), 0), ECONNREFUSED);
	CHECK_ERR(SO(e->cli, recv, c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* The next send may report it too: here via SO_ERROR after another round. */
	CHECK_EQ(SO(e->cli, send, c, "y", 1, 0), 1);
	wait_ev(e->cli, c, POLLIN, POLLERR, 2000);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EQ(SO(e->cli, send, c, "z", 1, 0), 1);
	wait_ev(e->cli, c, POLLIN, POLLERR, 2000);
	CHECK_ERR(SO(e->cli, send, c, "w", 1, 0), ECONNREFUSED);
	SO(e->cli, close, c);
}

SOCKTEST(udp_errors)
{
	struct sockaddr_in sa, zero;
	static char huge[65508];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), s2;

	CHECK_ERR(SO(e->cli, sendto, c, huge, sizeof(huge), 0, (struct sockaddr *)&sa, sizeof(sa)), EMSGSIZE);
	CHECK_ERR(SO(e->cli, sendto, c, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa) - 1), EINVAL);
	CHECK_ERR(SO(e->cli, accept, c, NULL, NULL), EOPNOTSUPP);
	/* The port is taken. */
	s2 = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(SO(e->srv, bind, s2, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	SO(e->srv, close, s2);
	/* Both with SO_REUSEADDR share it. */
	zero = side_addr(e->srv, 0);
	s2 = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);
	set_int(e->srv, s2, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_EQ(SO(e->srv, bind, s2, (struct sockaddr *)&zero, sizeof(zero)), 0);
	zero.sin_port = htons(sock_port(e->srv, s2));
	{
		int s3 = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);

		set_int(e->srv, s3, SOL_SOCKET, SO_REUSEADDR, 1);
		CHECK_EQ(SO(e->srv, bind, s3, (struct sockaddr *)&zero, sizeof(zero)), 0);
		SO(e->srv, close, s3);
	}
	SO(e->srv, close, s2);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

static void
largest_datagram(struct sockenv *e, int warm)
{
	struct sockaddr_in sa;
	static char out[65507], in[65600];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	if (warm) {
		CHECK_EQ(SO(e->cli, sendto, c, "w", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1);
		CHECK_EQ(SO(e->srv, recv, s, in, sizeof(in), 0), 1);
	}
	/* 65535 less the IP and UDP headers: fragmented on the way, whole on arrival. */
	CHECK_EQ(SO(e->cli, sendto, c, out, sizeof(out), 0, (struct sockaddr *)&sa, sizeof(sa)), 65507);
	CHECK_EQ(SO(e->srv, recv, s, in, sizeof(in), 0), 65507);
	CHECK_MEM(in, out, sizeof(out));
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(udp_largest_datagram)
{
	largest_datagram(e, 1);
}

SOCKTEST(udp_largest_datagram_first)
{
	/* The first datagram to a new neighbour: its 45 fragments wait together for ARP. */
	largest_datagram(e, 0);
}

SOCKTEST(udp_sendmmsg_recvmmsg)
{
	struct sockaddr_in sa;
	char bufs[5][16], *words[3] = { "alpha", "beta", "gamma" };
	struct iovec sv[3], rv[5];
	struct mmsghdr sm[3], rm[5];
	struct sockaddr_in from[5];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), i;

	memset(sm, 0, sizeof(sm));
	for (i = 0; i < 3; i++) {
		sv[i].iov_base = words[i];
		sv[i].iov_len = strlen(words[i]);
		sm[i].msg_hdr.msg_iov = &sv[i];
		sm[i].msg_hdr.msg_iovlen = 1;
		sm[i].msg_hdr.msg_name = &sa;
		sm[i].msg_hdr.msg_namelen = sizeof(sa);
	}
	CHECK_EQ(SO(e->cli, sendmmsg, c, sm, 3, 0), 3);
	CHECK_EQ(sm[1].msg_len, 4);
	wait_ev(e->srv, s, POLLIN, POLLIN, 2000);
	sleep_ms(30);
	memset(rm, 0, sizeof(rm));
	for (i = 0; i < 5; i++) {
		rv[i].iov_base = bufs[i];
		rv[i].iov_len = sizeof(bufs[i]);
		rm[i].msg_hdr.msg_iov = &rv[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_name = &from[i];
		rm[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	/* MSG_WAITFORONE: block for the first, then take what is there. */
	CHECK_EQ(SO(e->srv, recvmmsg, s, rm, 5, MSG_WAITFORONE, NULL), 3);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(rm[i].msg_len, strlen(words[i]));
		CHECK_MEM(bufs[i], words[i], strlen(words[i]));
		CHECK_EQ(rm[i].msg_hdr.msg_namelen, sizeof(from[i]));
		CHECK_EQ(from[i].sin_addr.s_addr, e->cli->addr.sin_addr.s_addr);
	}
	/* Non-blocking, nothing there: EAGAIN. */
	CHECK_ERR(SO(e->srv, recvmmsg, s, rm, 5, MSG_DONTWAIT, NULL), EAGAIN);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

struct mm_later {
	struct sockops *o;
	int fd;
	struct sockaddr_in to;
};

static void
send_two(void *p)
{
	struct mm_later *a = p;

	CHECK_EQ(SO(a->o, sendto, a->fd, "4", 1, 0, (struct sockaddr *)&a->to, sizeof(a->to)), 1);
	CHECK_EQ(SO(a->o, sendto, a->fd, "5", 1, 0, (struct sockaddr *)&a->to, sizeof(a->to)), 1);
}

SOCKTEST(udp_recvmmsg_blocking_fills_vector)
{
	struct mm_later a;
	struct later *lt;
	char bufs[4][8];
	struct iovec rv[4];
	struct mmsghdr rm[4];
	int s, c, i;

	s = udp_bound(e->srv, &a.to);
	c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);
	a.o = e->cli;
	a.fd = c;
	CHECK_EQ(SO(e->cli, sendto, c, "1", 1, 0, (struct sockaddr *)&a.to, sizeof(a.to)), 1);
	CHECK_EQ(SO(e->cli, sendto, c, "2", 1, 0, (struct sockaddr *)&a.to, sizeof(a.to)), 1);
	memset(rm, 0, sizeof(rm));
	for (i = 0; i < 4; i++) {
		rv[i].iov_base = bufs[i];
		rv[i].iov_len = sizeof(bufs[i]);
		rm[i].msg_hdr.msg_iov = &rv[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	lt = later(send_two, &a, 150);
	/* Blocking, without MSG_WAITFORONE: it waits until the whole vector is filled. */
	CHECK_EQ(SO(e->srv, recvmmsg, s, rm, 4, 0, NULL), 4);
	later_join(lt);
	CHECK_EQ(bufs[0][0], '1');
	CHECK_EQ(bufs[3][0], '5');
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(udp_rcvbuf_drops_overflow)
{
	struct sockaddr_in sa;
	static char d[1000];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), i, got = 0;

	/* A small receive buffer: datagrams beyond it are dropped, not queued. */
	set_int(e->srv, s, SOL_SOCKET, SO_RCVBUF, 4096);
	for (i = 0; i < 200; i++)
		CHECK_EQ(SO(e->cli, sendto, c, d, sizeof(d), 0, (struct sockaddr *)&sa, sizeof(sa)), 1000);
	sleep_ms(100);
	while (SO(e->srv, recv, s, d, sizeof(d), MSG_DONTWAIT) == 1000)
		got++;
	CHECK(got > 0 && got < 50);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(udp_readiness)
{
	struct sockaddr_in sa;
	char b[4];
	int s = udp_bound(e->srv, &sa), c = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);

	CHECK_EV(poll1(e->srv, s, POLLIN | POLLOUT | POLLRDHUP, 0), POLLOUT);
	CHECK_EQ(SO(e->cli, sendto, c, "r", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1);
	CHECK_EV(wait_ev(e->srv, s, POLLIN | POLLOUT, POLLIN, 2000), POLLIN | POLLOUT);
	CHECK_EQ(SO(e->srv, recv, s, b, sizeof(b), 0), 1);
	CHECK_EV(poll1(e->srv, s, POLLIN | POLLOUT, 0), POLLOUT);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}
