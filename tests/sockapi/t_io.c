/*
 * Moving bytes on a stream: read/write, readv/writev, send/recv,
 * sendmsg/recvmsg, sendmmsg, the MSG_* flags (PEEK, DONTWAIT, WAITALL, TRUNC,
 * MORE), TCP_CORK, FIONREAD/SIOCINQ and SIOCOUTQ, and a large transfer
 * checked byte for byte.
 */
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "sockapi.h"

SOCKTEST(io_read_write_readv_writev)
{
	char a[] = "abc", b[] = "defgh", c[] = "ij", out[10];
	struct iovec wv[3] = { { a, 3 }, { b, 5 }, { c, 2 } };
	char r1[4], r2[6];
	struct iovec rv[2] = { { r1, 4 }, { r2, 6 } };
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->cli, write, cfd, "hello", 5), 5);
	recv_exact(e->srv, sfd, out, 5);
	CHECK_MEM(out, "hello", 5);
	CHECK_EQ(SO(e->cli, writev, cfd, wv, 3), 10);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(20);
	CHECK_EQ(SO(e->srv, readv, sfd, rv, 2), 10);
	CHECK_MEM(r1, "abcd", 4);
	CHECK_MEM(r2, "efghij", 6);
	CHECK_EQ(SO(e->srv, write, sfd, "xy", 2), 2);
	wait_ev(e->cli, cfd, POLLIN, POLLIN, 2000);
	CHECK_EQ(SO(e->cli, read, cfd, out, sizeof(out)), 2);
	CHECK_MEM(out, "xy", 2);
	/* Nothing to move: zero, at once. */
	CHECK_EQ(SO(e->cli, write, cfd, out, 0), 0);
	CHECK_EQ(SO(e->cli, writev, cfd, wv, 0), 0);
	/* read() of nothing returns at once; recv() of nothing still waits for data (tcp_recvmsg's target is 1). */
	CHECK_EQ(SO(e->srv, read, sfd, out, 0), 0);
	CHECK_ERR(SO(e->srv, recv, sfd, out, 0, MSG_DONTWAIT), EAGAIN);
	send_all(e->cli, cfd, "z", 1);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	CHECK_EQ(SO(e->srv, recv, sfd, out, 0, 0), 0);
	CHECK_EQ(SO(e->srv, recv, sfd, out, 1, 0), 1);
	CHECK_ERR(SO(e->cli, writev, cfd, wv, -1), EINVAL);
	CHECK_ERR(SO(e->cli, writev, cfd, wv, IOV_MAX + 1), EINVAL);
	CHECK_ERR(SO(e->srv, readv, sfd, rv, IOV_MAX + 1), EINVAL);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_sendmsg_recvmsg_stream)
{
	char a[] = "0123", b[] = "456789", r1[3], r2[7];
	struct iovec wv[2] = { { a, 4 }, { b, 6 } }, rv[2] = { { r1, 3 }, { r2, 7 } };
	struct sockaddr_in name;
	struct msghdr m;
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	memset(&m, 0, sizeof(m));
	m.msg_iov = wv;
	m.msg_iovlen = 2;
	CHECK_EQ(SO(e->cli, sendmsg, cfd, &m, 0), 10);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(20);
	memset(&m, 0, sizeof(m));
	memset(&name, 0x55, sizeof(name));
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_iov = rv;
	m.msg_iovlen = 2;
	m.msg_flags = MSG_EOR;	/* output only: cleared by the call */
	CHECK_EQ(SO(e->srv, recvmsg, sfd, &m, 0), 10);
	CHECK_MEM(r1, "012", 3);
	CHECK_MEM(r2, "3456789", 7);
	/* A stream has no datagram source: the name length comes back 0, the buffer untouched. */
	CHECK_EQ(m.msg_namelen, 0);
	CHECK_EQ(name.sin_family, 0x5555);
	CHECK_EQ(m.msg_flags, 0);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_recvfrom_stream_no_address)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[8];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "abc", 3);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	memset(&from, 0x55, sizeof(from));
	CHECK_EQ(SO(e->srv, recvfrom, sfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
	CHECK_EQ(fl, 0);
	CHECK_EQ(from.sin_family, 0x5555);
	/* sendto() on a connected stream ignores the address. */
	from = side_addr(e->srv, 1);
	CHECK_EQ(SO(e->cli, sendto, cfd, "de", 2, 0, (struct sockaddr *)&from, sizeof(from)), 2);
	recv_exact(e->srv, sfd, buf, 2);
	CHECK_MEM(buf, "de", 2);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_msg_peek_and_dontwait)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_ERR(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK_ERR(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK), EAGAIN);
	send_all(e->cli, cfd, "peekaboo", 8);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, 4, MSG_PEEK), 4);
	CHECK_MEM(buf, "peek", 4);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_PEEK), 8);
	CHECK_MEM(buf, "peekaboo", 8);
	{
		int n = -1;

		CHECK_EQ(SO(e->srv, ioctl, sfd, FIONREAD, &n), 0);
		CHECK_EQ(n, 8);
	}
	CHECK_EQ(SO(e->srv, recv, sfd, buf, 3, 0), 3);
	CHECK_MEM(buf, "pee", 3);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), 5);
	CHECK_MEM(buf, "kaboo", 5);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_DONTWAIT), 5);
	CHECK_MEM(buf, "kaboo", 5);
	CHECK_ERR(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

struct send_later {
	struct sockops *o;
	int fd;
	const char *data;
	size_t len;
	int shut;
};

static void
do_send_later(void *p)
{
	struct send_later *a = p;

	if (a->len > 0)
		send_all(a->o, a->fd, a->data, a->len);
	if (a->shut)
		CHECK_EQ(SO(a->o, shutdown, a->fd, SHUT_WR), 0);
}

SOCKTEST(io_msg_waitall)
{
	struct send_later sl;
	struct later *lt;
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "first", 5);
	sl = (struct send_later){ e->cli, cfd, "second", 6, 0 };
	lt = later(do_send_later, &sl, 100);
	/* Waits for all 11 bytes, across the two sends. */
	CHECK_EQ(SO(e->srv, recv, sfd, buf, 11, MSG_WAITALL), 11);
	CHECK_MEM(buf, "firstsecond", 11);
	later_join(lt);
	/* End of stream ends the wait with what there is. */
	send_all(e->cli, cfd, "abc", 3);
	sl = (struct send_later){ e->cli, cfd, "", 0, 1 };
	lt = later(do_send_later, &sl, 100);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_WAITALL), 3);
	CHECK_MEM(buf, "abc", 3);
	later_join(lt);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), MSG_WAITALL), 0);
	/* On a non-blocking call MSG_WAITALL takes what is there. */
	send_all(e->srv, sfd, "xyz", 3);
	wait_ev(e->cli, cfd, POLLIN, POLLIN, 2000);
	CHECK_EQ(SO(e->cli, recv, cfd, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT), 3);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_msg_trunc_discards_stream)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "hello world", 11);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(20);
	/* tcp(7): MSG_TRUNC on a stream discards the bytes instead of copying them. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(SO(e->srv, recv, sfd, buf, 6, MSG_TRUNC), 6);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "world", 5);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_fionread_siocoutq)
{
	char buf[1000];
	int cfd, sfd, n = -1, l;

	tcp_pair(e, &l, &cfd, &sfd);
	CHECK_EQ(SO(e->srv, ioctl, sfd, FIONREAD, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(SO(e->cli, ioctl, cfd, SIOCOUTQ, &n), 0);
	CHECK_EQ(n, 0);
	memset(buf, 'q', sizeof(buf));
	send_all(e->cli, cfd, buf, sizeof(buf));
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(50);
	CHECK_EQ(SO(e->srv, ioctl, sfd, SIOCINQ, &n), 0);
	CHECK_EQ(n, 1000);
	/* Acknowledged: nothing left in the send queue. */
	CHECK_EQ(SO(e->cli, ioctl, cfd, SIOCOUTQ, &n), 0);
	CHECK_EQ(n, 0);
	recv_exact(e->srv, sfd, buf, 400);
	CHECK_EQ(SO(e->srv, ioctl, sfd, FIONREAD, &n), 0);
	CHECK_EQ(n, 600);
	/* Listeners have no queues to measure. */
	CHECK_ERR(SO(e->srv, ioctl, l, FIONREAD, &n), EINVAL);
	CHECK_ERR(SO(e->srv, ioctl, l, SIOCOUTQ, &n), EINVAL);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
	SO(e->srv, close, l);
}

SOCKTEST(io_siocoutq_counts_unacked)
{
	int cfd, sfd, n = 0;
	size_t sent;

	tcp_pair(e, NULL, &cfd, &sfd);
	sent = fill_send(e->cli, cfd);
	CHECK(sent > 0);
	CHECK_EQ(SO(e->cli, ioctl, cfd, SIOCOUTQ, &n), 0);
	CHECK(n > 0 && (size_t)n <= sent);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_cork_holds_partial_segments)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	set_int(e->cli, cfd, IPPROTO_TCP, TCP_CORK, 1);
	CHECK_EQ(so_int(e->cli, cfd, IPPROTO_TCP, TCP_CORK), 1);
	send_all(e->cli, cfd, "corked", 6);
	/* Held back (well inside Linux's 200 ms ceiling) ... */
	CHECK_EV(poll1(e->srv, sfd, POLLIN, 50), 0);
	/* ... until uncorked. */
	set_int(e->cli, cfd, IPPROTO_TCP, TCP_CORK, 0);
	CHECK_EV(poll1(e->srv, sfd, POLLIN, 1000), POLLIN);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 6);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_msg_more_holds_until_last)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->cli, send, cfd, "more", 4, MSG_MORE), 4);
	CHECK_EV(poll1(e->srv, sfd, POLLIN, 50), 0);
	CHECK_EQ(SO(e->cli, send, cfd, "!", 1, 0), 1);
	CHECK_EV(poll1(e->srv, sfd, POLLIN, 1000), POLLIN);
	sleep_ms(10);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "more!", 5);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(io_sendmmsg_stream)
{
	char a[] = "one", b[] = "two", buf[8];
	struct iovec v1 = { a, 3 }, v2 = { b, 3 };
	struct mmsghdr mm[2];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_iov = &v1;
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &v2;
	mm[1].msg_hdr.msg_iovlen = 1;
	CHECK_EQ(SO(e->cli, sendmmsg, cfd, mm, 2, 0), 2);
	CHECK_EQ(mm[0].msg_len, 3);
	CHECK_EQ(mm[1].msg_len, 3);
	recv_exact(e->srv, sfd, buf, 6);
	CHECK_MEM(buf, "onetwo", 6);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

static uint8_t
pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

struct bulk {
	struct sockops *o;
	int fd;
	size_t total;
};

static void
bulk_send(void *p)
{
	struct bulk *b = p;
	uint8_t chunk[3][7001];
	size_t off = 0;

	while (off < b->total) {
		struct iovec v[3];
		size_t i, j, n = 0;
		ssize_t r;

		for (i = 0; i < 3 && off + n < b->total; i++) {
			size_t len = sizeof(chunk[i]) - i * 1000;

			if (len > b->total - off - n)
				len = b->total - off - n;
			for (j = 0; j < len; j++)
				chunk[i][j] = pattern(off + n + j);
			v[i].iov_base = chunk[i];
			v[i].iov_len = len;
			n += len;
		}
		r = SO(b->o, writev, b->fd, v, (int)i);
		CHECKF(r > 0, "writev: %zd/%s", r, sockapi_errname(errno));
		off += (size_t)r;	/* a blocking writev moves everything */
		CHECK_EQ((size_t)r, n);
	}
	CHECK_EQ(SO(b->o, shutdown, b->fd, SHUT_WR), 0);
}

SOCKTEST(io_bulk_transfer_exact)
{
	struct bulk b;
	struct later *lt;
	uint8_t buf[3][4099];
	size_t got = 0;
	int cfd, sfd, bad = 0;

	tcp_pair(e, NULL, &cfd, &sfd);
	b = (struct bulk){ e->cli, cfd, 8u << 20 };
	lt = later(bulk_send, &b, 0);
	for (;;) {
		struct iovec v[3] = { { buf[0], 4099 }, { buf[1], 1 }, { buf[2], 2000 } };
		size_t k = 0, i;
		ssize_t r = SO(e->srv, readv, sfd, v, 3);

		CHECKF(r >= 0, "readv: %s", sockapi_errname(errno));
		if (r == 0)
			break;
		for (i = 0; i < 3 && k < (size_t)r; i++) {
			size_t j;

			for (j = 0; j < v[i].iov_len && k < (size_t)r; j++, k++)
				bad += ((uint8_t *)v[i].iov_base)[j] != pattern(got + k);
		}
		got += (size_t)r;
	}
	later_join(lt);
	CHECK_EQ(got, b.total);
	CHECK_EQ(bad, 0);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}
