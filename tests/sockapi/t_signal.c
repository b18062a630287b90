/*
 * Signals and blocking calls (signal(7)): a handler without SA_RESTART
 * interrupts a blocking socket call with EINTR; with SA_RESTART, recv, send,
 * accept and connect restart, unless a timeout (SO_RCVTIMEO / SO_SNDTIMEO)
 * bounds them; epoll_wait, poll and select never restart.
 */
#include <netinet/tcp.h>
#include <fcntl.h>
#include <unistd.h>
#include "sockapi.h"

SOCKTEST(eintr_recv_without_restart)
{
	struct kill_later *k;
	char b;
	int c, s;

	count_signal(SIGUSR1, 0);
	tcp_pair(e, NULL, &c, &s);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, recv, s, &b, 1, 0), EINTR);
	kill_later_join(k);
	CHECK_EQ(signal_count(SIGUSR1), 1);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

struct send_after {
	struct sockops *o;
	int fd;
};

static void
send_x(void *p)
{
	struct send_after *a = p;

	send_all(a->o, a->fd, "x", 1);
}

SOCKTEST(eintr_recv_restarts_with_sa_restart)
{
	struct kill_later *k;
	struct send_after sa;
	struct later *lt;
	char b;
	int c, s;

	count_signal(SIGUSR1, 1);
	tcp_pair(e, NULL, &c, &s);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	sa = (struct send_after){ e->cli, c };
	lt = later(send_x, &sa, 300);
	/* The handler runs, the call goes on waiting and gets the byte. */
	CHECK_EQ(SO(e->srv, recv, s, &b, 1, 0), 1);
	CHECK_EQ(signal_count(SIGUSR1), 1);
	kill_later_join(k);
	later_join(lt);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(eintr_recv_with_timeout_despite_restart)
{
	struct timeval tv = { 5, 0 };
	struct kill_later *k;
	char b;
	int c, s;

	count_signal(SIGUSR1, 1);
	tcp_pair(e, NULL, &c, &s);
	CHECK_EQ(SO(e->srv, setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	/* A timed socket wait is not restarted (sock_intr_errno). */
	CHECK_ERR(SO(e->srv, recv, s, &b, 1, 0), EINTR);
	kill_later_join(k);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(eintr_udp_recvfrom)
{
	struct kill_later *k;
	char b;
	int u = udp_bound(e->srv, NULL);

	count_signal(SIGUSR1, 0);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, recvfrom, u, &b, 1, 0, NULL, NULL), EINTR);
	kill_later_join(k);
	SO(e->srv, close, u);
}

SOCKTEST(eintr_accept)
{
	struct kill_later *k;
	int l = tcp_listener(e->srv, 4, NULL);

	count_signal(SIGUSR1, 0);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, accept, l, NULL, NULL), EINTR);
	kill_later_join(k);
	SO(e->srv, close, l);
}

struct connect_after {
	struct sockops *o;
	struct sockaddr_in sa;
	int fd;
};

static void
connect_x(void *p)
{
	struct connect_after *a = p;

	a->fd = SO(a->o, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(a->o, connect, a->fd, (struct sockaddr *)&a->sa, sizeof(a->sa)), 0);
}

SOCKTEST(eintr_accept_restarts_with_sa_restart)
{
	struct kill_later *k;
	struct connect_after ca;
	struct later *lt;
	int l, s;

	count_signal(SIGUSR1, 1);
	l = tcp_listener(e->srv, 4, &ca.sa);
	ca.o = e->cli;
	k = kill_later(pthread_self(), SIGUSR1, 100);
	lt = later(connect_x, &ca, 300);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	CHECK_EQ(signal_count(SIGUSR1), 1);
	kill_later_join(k);
	later_join(lt);
	SO(e->srv, close, s);
	SO(e->cli, close, ca.fd);
	SO(e->srv, close, l);
}

SOCKTEST(eintr_connect_then_ealready)
{
	struct sockaddr_in sa;
	struct kill_later *k;
	int l = tcp_listener(e->srv, 1, &sa), held[2], c, i;

	/* A full accept queue keeps the third connect in SYN_SENT. */
	for (i = 0; i < 2; i++) {
		held[i] = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(SO(e->cli, connect, held[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	sleep_ms(20);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	count_signal(SIGUSR1, 0);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINTR);
	kill_later_join(k);
	/* The interrupted open goes on: a non-blocking connect() now says it is already under way. */
	CHECK_EQ(SO(e->cli, fcntl, c, F_SETFL, O_NONBLOCK), 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EALREADY);
	SO(e->cli, close, c);
	SO(e->cli, close, held[0]);
	SO(e->cli, close, held[1]);
	SO(e->srv, close, l);
}

SOCKTEST(eintr_send_full_buffer)
{
	static char big[1 << 20];
	struct kill_later *k;
	ssize_t r;
	int c, s;

	count_signal(SIGUSR1, 0);
	tcp_pair(e, NULL, &c, &s);
	fill_send(e->cli, c);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	/* Nothing fits: interrupted before any byte went, so EINTR (with progress it would be a count). */
	r = SO(e->cli, send, c, big, sizeof(big), MSG_NOSIGNAL);
	CHECKF(r == -1 && errno == EINTR, "send: %zd/%s", r, sockapi_errname(errno));
	kill_later_join(k);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(eintr_epoll_poll_select_always)
{
	struct epoll_event ev;
	struct kill_later *k;
	struct pollfd p;
	fd_set r;
	int c, s, ep;

	/* SA_RESTART does not restart these (signal(7)). */
	count_signal(SIGUSR1, 1);
	tcp_pair(e, NULL, &c, &s);
	ep = SO(e->srv, epoll_create1, 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	CHECK_EQ(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, s, &ev), 0);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, epoll_wait, ep, &ev, 1, -1), EINTR);
	kill_later_join(k);
	p.fd = s;
	p.events = POLLIN;
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, poll, &p, 1, -1), EINTR);
	kill_later_join(k);
	FD_ZERO(&r);
	FD_SET(s, &r);
	k = kill_later(pthread_self(), SIGUSR1, 100);
	CHECK_ERR(SO(e->srv, select, s + 1, &r, NULL, NULL, NULL), EINTR);
	kill_later_join(k);
	CHECK_EQ(signal_count(SIGUSR1), 3);
	SO(e->srv, close, ep);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}
