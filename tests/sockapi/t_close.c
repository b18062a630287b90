/*
 * Ending connections: shutdown() and half-close, close() with and without
 * SO_LINGER, resets (ECONNRESET), EPIPE and the SIGPIPE rule, ENOTCONN.
 */
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include "sockapi.h"

SOCKTEST(half_close_write_side)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "request", 7);
	CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_WR), 0);
	/* Again: nothing more to do, no error. */
	CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_WR), 0);
	recv_exact(e->srv, sfd, buf, 7);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 0);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 0);
	/* The other direction still works. */
	send_all(e->srv, sfd, "reply", 5);
	recv_exact(e->cli, cfd, buf, 5);
	CHECK_MEM(buf, "reply", 5);
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(SO(e->srv, shutdown, sfd, SHUT_WR), 0);
	CHECK_EQ(SO(e->cli, recv, cfd, buf, sizeof(buf), 0), 0);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(half_close_read_side)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "early", 5);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(20);
	CHECK_EQ(SO(e->srv, shutdown, sfd, SHUT_RD), 0);
	/* Linux still hands out what was queued before SHUT_RD, then reports end of stream at once. */
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "early", 5);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 0);
	CHECK_EV(poll1(e->srv, sfd, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLRDHUP);
	/* Writing still works after SHUT_RD. */
	send_all(e->srv, sfd, "still", 5);
	recv_exact(e->cli, cfd, buf, 5);
	/* What the peer sends later is still queued and read (Linux does not drop it). */
	send_all(e->cli, cfd, "late", 4);
	sleep_ms(50);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 4);
	CHECK_MEM(buf, "late", 4);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(shutdown_errors)
{
	int t = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0), cfd, sfd;

	CHECK_ERR(SO(e->cli, shutdown, t, SHUT_RDWR), ENOTCONN);
	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_ERR(SO(e->cli, shutdown, cfd, 3), EINVAL);
	CHECK_ERR(SO(e->cli, shutdown, cfd, -1), EINVAL);
	CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_RDWR), 0);
	SO(e->cli, close, t);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(enotconn_unconnected_stream)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	char buf[4];
	int t = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);

	CHECK_ERR(SO(e->cli, recv, t, buf, sizeof(buf), 0), ENOTCONN);
	CHECK_ERR(SO(e->cli, read, t, buf, sizeof(buf)), ENOTCONN);
	CHECK_ERR(SO(e->cli, getpeername, t, (struct sockaddr *)&a, &l), ENOTCONN);
	/* Sending on a stream that never connected is EPIPE, not ENOTCONN. */
	CHECK_ERR(SO(e->cli, send, t, "x", 1, MSG_NOSIGNAL), EPIPE);
	SO(e->cli, close, t);
}

SOCKTEST(sigpipe_rule)
{
	int cfd, sfd, t;

	count_signal(SIGPIPE, 1);
	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_WR), 0);
	/* EPIPE raises SIGPIPE ... */
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, 0), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 1);
	CHECK_ERR(SO(e->cli, write, cfd, "x", 1), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 2);
	/* ... unless MSG_NOSIGNAL says not to. */
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 2);
	/* Also on a stream that never connected. */
	t = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(SO(e->cli, send, t, "x", 1, 0), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 3);
	SO(e->cli, close, t);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(sigpipe_default_kills)
{
	pid_t pid;
	int st;

	/* With the default disposition, EPIPE ends the process: a child must die of SIGPIPE. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int cfd, sfd;

		sockenv_refork(e);
		tcp_pair(e, NULL, &cfd, &sfd);
		CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_WR), 0);
		signal(SIGPIPE, SIG_DFL);
		SO(e->cli, send, cfd, "x", 1, 0);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "child status 0x%x", st);
}

static void
reset_by_linger0(struct sockenv *e, int *cfd)
{
	struct linger lg = { 1, 0 };
	int sfd;

	tcp_pair(e, NULL, cfd, &sfd);
	CHECK_EQ(SO(e->srv, setsockopt, sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	CHECK_EQ(SO(e->srv, close, sfd), 0);
	wait_ev(e->cli, *cfd, POLLIN, POLLERR, 2000);
}

SOCKTEST(econnreset_on_recv)
{
	char b;
	int cfd;

	reset_by_linger0(e, &cfd);
	CHECK_EV(poll1(e->cli, cfd, POLLIN | POLLOUT | POLLRDHUP, 0),
	    POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	CHECK_ERR(SO(e->cli, recv, cfd, &b, 1, 0), ECONNRESET);
	/* Reported once; then the stream is simply over. */
	CHECK_EQ(SO(e->cli, recv, cfd, &b, 1, 0), 0);
	CHECK_EQ(so_int(e->cli, cfd, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EV(poll1(e->cli, cfd, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, MSG_NOSIGNAL), EPIPE);
	SO(e->cli, close, cfd);
}

SOCKTEST(econnreset_on_send_then_epipe)
{
	int cfd;

	count_signal(SIGPIPE, 1);
	reset_by_linger0(e, &cfd);
	/* The pending reset is the send's error, without SIGPIPE; then EPIPE, with it. */
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, 0), ECONNRESET);
	CHECK_EQ(signal_count(SIGPIPE), 0);
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, 0), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 1);
	SO(e->cli, close, cfd);
}

SOCKTEST(econnreset_via_so_error)
{
	int cfd;

	reset_by_linger0(e, &cfd);
	CHECK_EQ(so_int(e->cli, cfd, SOL_SOCKET, SO_ERROR), ECONNRESET);
	CHECK_EQ(so_int(e->cli, cfd, SOL_SOCKET, SO_ERROR), 0);
	SO(e->cli, close, cfd);
}

SOCKTEST(close_with_unread_data_resets)
{
	char b;
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	send_all(e->cli, cfd, "unread", 6);
	wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000);
	sleep_ms(20);
	/* RFC 2525 §2.17: data lost on close is told with a RST. */
	CHECK_EQ(SO(e->srv, close, sfd), 0);
	wait_ev(e->cli, cfd, POLLIN, POLLERR, 2000);
	CHECK_ERR(SO(e->cli, recv, cfd, &b, 1, 0), ECONNRESET);
	SO(e->cli, close, cfd);
}

SOCKTEST(peer_close_then_write_resets)
{
	char b;
	int cfd, sfd;

	count_signal(SIGPIPE, 1);
	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->srv, close, sfd), 0);
	CHECK_EQ(SO(e->cli, recv, cfd, &b, 1, 0), 0);
	CHECK_EV(poll1(e->cli, cfd, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLRDHUP);
	/* The first write is accepted; the closed peer answers it with a RST. */
	CHECK_EQ(SO(e->cli, send, cfd, "x", 1, 0), 1);
	wait_ev(e->cli, cfd, POLLIN, POLLERR, 2000);
	CHECK_EV(poll1(e->cli, cfd, POLLIN | POLLOUT | POLLRDHUP, 0),
	    POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	/* The stream had ended (FIN): recv still says 0 and leaves the error pending ... */
	CHECK_EQ(SO(e->cli, recv, cfd, &b, 1, 0), 0);
	/* ... a reset in CLOSE_WAIT is EPIPE, not ECONNRESET (tcp_reset), so SIGPIPE comes with it. */
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, 0), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 1);
	CHECK_ERR(SO(e->cli, send, cfd, "x", 1, 0), EPIPE);
	CHECK_EQ(signal_count(SIGPIPE), 2);
	CHECK_EQ(so_int(e->cli, cfd, SOL_SOCKET, SO_ERROR), 0);
	SO(e->cli, close, cfd);
}

struct reader {
	struct sockops *o;
	int fd;
	char *buf;
	size_t len;
};

static void
read_all(void *p)
{
	struct reader *r = p;

	recv_exact(r->o, r->fd, r->buf, r->len);
}

SOCKTEST(linger_waits_for_ack)
{
	struct linger lg = { 1, 5 };
	static char out[300000], in[300000];
	struct reader r;
	struct later *lt;
	int cfd, sfd;
	uint64_t t0;

	memset(out, 'l', sizeof(out));
	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->cli, setsockopt, cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	r = (struct reader){ e->srv, sfd, in, sizeof(in) };
	lt = later(read_all, &r, 100);
	send_all(e->cli, cfd, out, sizeof(out));
	t0 = now_ms();
	/* The peer reads everything: close returns once it is acknowledged, well before 5 s. */
	CHECK_EQ(SO(e->cli, close, cfd), 0);
	CHECK(now_ms() - t0 < 4000);
	later_join(lt);
	CHECK_EQ(SO(e->srv, recv, sfd, in, 1, 0), 0);
	SO(e->srv, close, sfd);
}

SOCKTEST(shutdown_rdwr_readiness)
{
	char b;
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->cli, shutdown, cfd, SHUT_RDWR), 0);
	CHECK_EV(poll1(e->cli, cfd, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	CHECK_EQ(SO(e->srv, recv, sfd, &b, 1, 0), 0);
	CHECK_EV(poll1(e->srv, sfd, POLLIN | POLLOUT | POLLRDHUP, 0), POLLIN | POLLOUT | POLLRDHUP);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

struct blocked {
	struct sockops *o;
	int fd;
	ssize_t r;
	int err;
	uint64_t ms;
};

static void *
blocked_recv(void *p)
{
	struct blocked *b = p;
	uint64_t t0 = now_ms();
	char c;

	b->r = SO(b->o, recv, b->fd, &c, 1, 0);
	b->err = errno;
	b->ms = now_ms() - t0;
	return NULL;
}

SOCKTEST(close_while_another_thread_waits)
{
	struct timeval tv = { 0, 600000 };
	struct blocked b;
	pthread_t th;
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->srv, setsockopt, sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	b = (struct blocked){ e->srv, sfd, 0, 0, 0 };
	CHECK_EQ(pthread_create(&th, NULL, blocked_recv, &b), 0);
	sleep_ms(100);
	CHECK_EQ(SO(e->srv, close, sfd), 0);
	pthread_join(th, NULL);
	CHECK_EQ(b.r, -1);
	if (e->is_shunt || e->via_shim) {
		/*
		 * Deliberate: shunt wakes a call in progress on a descriptor that is
		 * closed, with EBADF, and closes the connection at once.  Linux keeps
		 * the call waiting on the file it holds (here until SO_RCVTIMEO) and
		 * closes the connection only when the last such call returns: shunt
		 * frees the descriptor's stand-in at close() so that its number, which
		 * the kernel may hand out again at once, never reaches the old socket.
		 */
		CHECK_EQ(b.err, EBADF);
		CHECK(b.ms < 500);
	} else {
		CHECK_EQ(b.err, EAGAIN);
		CHECK(b.ms >= 550);
	}
	SO(e->cli, close, cfd);
}

SOCKTEST(connect_unspec_disconnects_stream)
{
	struct sockaddr_in sa, un;
	socklen_t pl = sizeof(un);
	char b;
	int l, c, s, s2;

	tcp_pair(e, &l, &c, &s);
	CHECK_EQ(SO(e->cli, getsockname, c, (struct sockaddr *)&sa, &pl), 0);
	pl = sizeof(sa);
	CHECK_EQ(SO(e->srv, getsockname, l, (struct sockaddr *)&sa, &pl), 0);
	memset(&un, 0, sizeof(un));
	un.sin_family = AF_UNSPEC;
	/* tcp_disconnect: the connection is reset and the socket is new again. */
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&un, sizeof(un)), 0);
	wait_ev(e->srv, s, POLLIN, POLLERR, 2000);
	CHECK_ERR(SO(e->srv, recv, s, &b, 1, 0), ECONNRESET);
	pl = sizeof(un);
	CHECK_ERR(SO(e->cli, getpeername, c, (struct sockaddr *)&un, &pl), ENOTCONN);
	/* The connection it dropped is the socket's pending error. */
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, 0), POLLOUT | POLLHUP | POLLERR);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), ECONNRESET);
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, 0), POLLOUT | POLLHUP);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s2 = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s2);
	send_all(e->cli, c, "!", 1);
	recv_exact(e->srv, s2, &b, 1);
	SO(e->srv, close, s2);
	SO(e->srv, close, s);
	SO(e->srv, close, l);
	SO(e->cli, close, c);
}

SOCKTEST(shutdown_while_connecting_abandons)
{
	struct sockaddr_in sa;
	int l = tcp_listener(e->srv, 1, &sa), held[2], c, i;

	for (i = 0; i < 2; i++) {
		held[i] = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(SO(e->cli, connect, held[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	sleep_ms(20);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	CHECK_ERR(SO(e->cli, sendto, c, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)), EAGAIN);
	/* inet_shutdown in SYN_SENT disconnects: the socket is unconnected again and may start over. */
	CHECK_EQ(SO(e->cli, shutdown, c, SHUT_RDWR), 0);
	CHECK_EV(poll1(e->cli, c, POLLIN | POLLOUT | POLLRDHUP, 0), POLLOUT | POLLHUP | POLLERR);
	CHECK_EQ(so_int(e->cli, c, SOL_SOCKET, SO_ERROR), ECONNRESET);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	SO(e->cli, close, c);
	SO(e->cli, close, held[0]);
	SO(e->cli, close, held[1]);
	SO(e->srv, close, l);
}
