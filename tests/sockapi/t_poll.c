/*
 * Readiness: poll, select and epoll (level- and edge-triggered, EPOLLONESHOT,
 * EPOLLRDHUP, EPOLLEXCLUSIVE) after each event of a connection's life, and
 * epoll's own rules (errno of epoll_ctl, close removes, nesting).
 */
#include <fcntl.h>
#include <unistd.h>
#include "sockapi.h"

#define ALL	(POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

/* epoll_wait with timeout 0 for one watched fd: its events, or 0. */
static unsigned
ep_now(struct sockops *o, int ep, int timeout_ms)
{
	struct epoll_event ev[4];
	int n = SO(o, epoll_wait, ep, ev, 4, timeout_ms);

	CHECKF(n >= 0, "epoll_wait: %s", sockapi_errname(errno));
	CHECK(n <= 1);
	return n == 0 ? 0 : ev[0].events;
}

static unsigned
select_now(struct sockops *o, int fd)
{
	fd_set r, w, x;
	struct timeval tv = { 0, 0 };
	unsigned ev = 0;
	int n;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	FD_SET(fd, &x);
	n = SO(o, select, fd + 1, &r, &w, &x, &tv);
	CHECKF(n >= 0, "select: %s", sockapi_errname(errno));
	if (FD_ISSET(fd, &r))
		ev |= POLLIN;
	if (FD_ISSET(fd, &w))
		ev |= POLLOUT;
	if (FD_ISSET(fd, &x))
		ev |= POLLPRI;
	CHECK_EQ(n, __builtin_popcount(ev));
	return ev;
}

/* poll, select and level-triggered epoll agree with each other and with want. */
#define CHECK_READY(o, fd, ep, want, sel) do { \
	CHECK_EV(poll1((o), (fd), ALL, 0), (want)); \
	CHECK_EV(ep_now((o), (ep), 0), (want) & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR | EPOLLHUP)); \
	CHECK_EV(select_now((o), (fd)), (sel)); \
} while (0)

static int
ep_watch(struct sockops *o, int fd, uint32_t events)
{
	struct epoll_event ev;
	int ep = SO(o, epoll_create1, EPOLL_CLOEXEC);

	CHECK_OK(ep);
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = 0x1234567890abcdefull;
	CHECK_EQ(SO(o, epoll_ctl, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	return ep;
}

SOCKTEST(ready_life_of_a_connection)
{
	struct sockaddr_in sa;
	char buf[16];
	int l, c, s, epc, eps, epl;

	/* A fresh stream socket: writable and hung up (it is in CLOSE). */
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	epc = ep_watch(e->cli, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	CHECK_READY(e->cli, c, epc, POLLOUT | POLLHUP, POLLIN | POLLOUT);
	/* A listener: nothing until a connection is there. */
	l = tcp_listener(e->srv, 4, &sa);
	epl = ep_watch(e->srv, l, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	CHECK_READY(e->srv, l, epl, 0, 0);
	CHECK_ERR(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	CHECK_EV(wait_ev(e->cli, c, POLLOUT, POLLOUT, 2000), POLLOUT);
	CHECK_READY(e->cli, c, epc, POLLOUT, POLLOUT);
	CHECK_EV(wait_ev(e->srv, l, POLLIN, POLLIN, 2000), POLLIN);
	CHECK_READY(e->srv, l, epl, POLLIN, POLLIN);
	s = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(s);
	CHECK_READY(e->srv, l, epl, 0, 0);
	eps = ep_watch(e->srv, s, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	CHECK_READY(e->srv, s, eps, POLLOUT, POLLOUT);
	/* Data. */
	send_all(e->cli, c, "data", 4);
	CHECK_EV(wait_ev(e->srv, s, POLLIN, POLLIN, 2000), POLLIN);
	CHECK_READY(e->srv, s, eps, POLLIN | POLLOUT, POLLIN | POLLOUT);
	CHECK_EQ(SO(e->srv, recv, s, buf, sizeof(buf), 0), 4);
	CHECK_READY(e->srv, s, eps, POLLOUT, POLLOUT);
	/* The peer's FIN: readable (end of stream) and read-hung-up. */
	CHECK_EQ(SO(e->cli, shutdown, c, SHUT_WR), 0);
	CHECK_READY(e->cli, c, epc, POLLOUT, POLLOUT);
	CHECK_EV(wait_ev(e->srv, s, POLLIN, POLLIN, 2000), POLLIN);
	CHECK_READY(e->srv, s, eps, POLLIN | POLLOUT | POLLRDHUP, POLLIN | POLLOUT);
	CHECK_EQ(SO(e->srv, recv, s, buf, sizeof(buf), 0), 0);
	CHECK_READY(e->srv, s, eps, POLLIN | POLLOUT | POLLRDHUP, POLLIN | POLLOUT);
	/* Both directions shut: hung up. */
	CHECK_EQ(SO(e->srv, shutdown, s, SHUT_WR), 0);
	CHECK_READY(e->srv, s, eps, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, POLLIN | POLLOUT);
	CHECK_EV(wait_ev(e->cli, c, POLLIN, POLLIN, 2000), POLLIN | POLLHUP);
	CHECK_READY(e->cli, c, epc, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, POLLIN | POLLOUT);
	SO(e->cli, close, epc);
	SO(e->srv, close, eps);
	SO(e->srv, close, epl);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
	SO(e->srv, close, l);
}

SOCKTEST(ready_after_reset)
{
	struct linger lg = { 1, 0 };
	int c, s, ep;
	char b;

	tcp_pair(e, NULL, &c, &s);
	ep = ep_watch(e->cli, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	CHECK_EQ(SO(e->srv, setsockopt, s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	SO(e->srv, close, s);
	wait_ev(e->cli, c, POLLIN, POLLERR, 2000);
	/* select reports an error as readable and writable; POLLPRI stays clear. */
	CHECK_READY(e->cli, c, ep, POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR, POLLIN | POLLOUT);
	CHECK_ERR(SO(e->cli, recv, c, &b, 1, 0), ECONNRESET);
	CHECK_READY(e->cli, c, ep, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, POLLIN | POLLOUT);
	SO(e->cli, close, ep);
	SO(e->cli, close, c);
}

SOCKTEST(ready_writable_again_after_full)
{
	int c, s, ep;
	short rev;

	tcp_pair(e, NULL, &c, &s);
	ep = ep_watch(e->cli, c, EPOLLOUT | EPOLLET);
	CHECK_EV(ep_now(e->cli, ep, 0), EPOLLOUT);
	CHECK_EV(ep_now(e->cli, ep, 0), 0);
	fill_send(e->cli, c);
	CHECK_EV(poll1(e->cli, c, POLLOUT, 0), 0);
	CHECK_EV(ep_now(e->cli, ep, 0), 0);
	/* The reader makes room: writable again, and the edge fires. */
	drain(e->srv, s);
	rev = wait_ev(e->cli, c, POLLOUT, POLLOUT, 2000);
	CHECK_EV(rev, POLLOUT);
	CHECK_EV(ep_now(e->cli, ep, 1000), EPOLLOUT);
	SO(e->cli, close, ep);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(epoll_level_edge_oneshot)
{
	struct epoll_event ev;
	char buf[16];
	int c, s, lt, et, os;

	tcp_pair(e, NULL, &c, &s);
	lt = ep_watch(e->srv, s, EPOLLIN);
	et = ep_watch(e->srv, s, EPOLLIN | EPOLLET);
	os = ep_watch(e->srv, s, EPOLLIN | EPOLLONESHOT);
	CHECK_EV(ep_now(e->srv, lt, 0), 0);
	CHECK_EV(ep_now(e->srv, et, 0), 0);
	send_all(e->cli, c, "ab", 2);
	CHECK_EV(ep_now(e->srv, lt, 2000), EPOLLIN);
	/* Level: again and again while readable. */
	CHECK_EV(ep_now(e->srv, lt, 0), EPOLLIN);
	/* Edge: once per arrival. */
	CHECK_EV(ep_now(e->srv, et, 0), EPOLLIN);
	CHECK_EV(ep_now(e->srv, et, 0), 0);
	/* One-shot: once, then disabled until re-armed. */
	CHECK_EV(ep_now(e->srv, os, 0), EPOLLIN);
	CHECK_EV(ep_now(e->srv, os, 0), 0);
	send_all(e->cli, c, "cd", 2);
	sleep_ms(50);
	CHECK_EV(ep_now(e->srv, et, 0), EPOLLIN);
	CHECK_EV(ep_now(e->srv, et, 0), 0);
	CHECK_EV(ep_now(e->srv, os, 0), 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK_EQ(SO(e->srv, epoll_ctl, os, EPOLL_CTL_MOD, s, &ev), 0);
	CHECK_EV(ep_now(e->srv, os, 0), EPOLLIN);
	CHECK_EV(ep_now(e->srv, os, 0), 0);
	/* Reading all: level stops; a partial read does not re-arm an edge. */
	CHECK_EQ(SO(e->srv, recv, s, buf, 1, 0), 1);
	CHECK_EV(ep_now(e->srv, et, 0), 0);
	CHECK_EV(ep_now(e->srv, lt, 0), EPOLLIN);
	CHECK_EQ(SO(e->srv, recv, s, buf, sizeof(buf), 0), 3);
	CHECK_EV(ep_now(e->srv, lt, 0), 0);
	SO(e->srv, close, lt);
	SO(e->srv, close, et);
	SO(e->srv, close, os);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(epoll_rdhup_edge)
{
	int c, s, ep;

	tcp_pair(e, NULL, &c, &s);
	ep = ep_watch(e->srv, s, EPOLLIN | EPOLLRDHUP | EPOLLET);
	CHECK_EQ(SO(e->cli, shutdown, c, SHUT_WR), 0);
	CHECK_EV(ep_now(e->srv, ep, 2000), EPOLLIN | EPOLLRDHUP);
	CHECK_EV(ep_now(e->srv, ep, 0), 0);
	SO(e->srv, close, ep);
	/* Without EPOLLRDHUP in the mask, the FIN shows as EPOLLIN alone. */
	ep = ep_watch(e->srv, s, EPOLLIN);
	CHECK_EV(ep_now(e->srv, ep, 0), EPOLLIN);
	SO(e->srv, close, ep);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(epoll_ctl_errors_and_data)
{
	struct epoll_event ev, out[2];
	int ep = SO(e->srv, epoll_create1, 0), ep2, t, u;

	CHECK_OK(ep);
	CHECK_ERR(SO(e->srv, epoll_create1, 0x1234), EINVAL);
	t = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	u = SO(e->srv, socket, AF_INET, SOCK_DGRAM, 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u64 = 77;
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_MOD, t, &ev), ENOENT);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_DEL, t, &ev), ENOENT);
	CHECK_EQ(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, t, &ev), 0);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, t, &ev), EEXIST);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, 99, u, &ev), EINVAL);
	CHECK_ERR(SO(e->srv, epoll_ctl, t, EPOLL_CTL_ADD, u, &ev), EINVAL);
	CHECK_ERR(SO(e->srv, epoll_ctl, -1, EPOLL_CTL_ADD, u, &ev), EBADF);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, u, &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_EQ(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, u, &ev), 0);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_MOD, u, &ev), EINVAL);
	CHECK_ERR(SO(e->srv, epoll_wait, ep, out, 0, 0), EINVAL);
	/* The caller's data comes back; a fresh TCP socket is writable and hung up. */
	CHECK_EQ(SO(e->srv, epoll_wait, ep, out, 2, 0), 1);
	CHECK_EQ(out[0].data.u64, 77);
	CHECK_EV(out[0].events, EPOLLOUT | EPOLLHUP);
	/* DEL takes no event (NULL is fine). */
	CHECK_EQ(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_DEL, t, NULL), 0);
	CHECK_EQ(SO(e->srv, epoll_wait, ep, out, 2, 0), 0);
	/* An epoll instance inside another, and the loop it may not make. */
	ep2 = SO(e->srv, epoll_create1, 0);
	ev.events = EPOLLIN;
	CHECK_EQ(SO(e->srv, epoll_ctl, ep2, EPOLL_CTL_ADD, ep, &ev), 0);
	CHECK_ERR(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, ep2, &ev), ELOOP);
	SO(e->srv, close, ep2);
	SO(e->srv, close, t);
	SO(e->srv, close, u);
	SO(e->srv, close, ep);
}

SOCKTEST(epoll_close_removes)
{
	struct epoll_event ev, out[2];
	int ep = SO(e->srv, epoll_create1, 0), t;

	t = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	CHECK_EQ(SO(e->srv, epoll_ctl, ep, EPOLL_CTL_ADD, t, &ev), 0);
	CHECK_EQ(SO(e->srv, epoll_wait, ep, out, 2, 0), 1);
	/* Closing the only descriptor of a socket takes it out of every epoll set. */
	SO(e->srv, close, t);
	CHECK_EQ(SO(e->srv, epoll_wait, ep, out, 2, 0), 0);
	SO(e->srv, close, ep);
}

SOCKTEST(epoll_nested_readiness)
{
	struct epoll_event ev, out[2];
	int c, s, inner, outer;

	tcp_pair(e, NULL, &c, &s);
	inner = ep_watch(e->srv, s, EPOLLIN);
	outer = SO(e->srv, epoll_create1, 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = 5;
	CHECK_EQ(SO(e->srv, epoll_ctl, outer, EPOLL_CTL_ADD, inner, &ev), 0);
	CHECK_EQ(SO(e->srv, epoll_wait, outer, out, 2, 0), 0);
	/* An epoll descriptor polls readable while its set has something ready. */
	CHECK_EV(poll1(e->srv, inner, POLLIN | POLLOUT, 0), 0);
	send_all(e->cli, c, "x", 1);
	CHECK_EQ(SO(e->srv, epoll_wait, outer, out, 2, 2000), 1);
	CHECK_EQ(out[0].data.u32, 5);
	CHECK_EV(out[0].events, EPOLLIN);
	CHECK_EV(poll1(e->srv, inner, POLLIN | POLLOUT, 0), POLLIN);
	SO(e->srv, close, outer);
	SO(e->srv, close, inner);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(epoll_exclusive_without_waiters)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	int l = tcp_listener(e->srv, 4, &sa), ep1, ep2, c;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ep1 = SO(e->srv, epoll_create1, 0);
	ep2 = SO(e->srv, epoll_create1, 0);
	CHECK_EQ(SO(e->srv, epoll_ctl, ep1, EPOLL_CTL_ADD, l, &ev), 0);
	CHECK_EQ(SO(e->srv, epoll_ctl, ep2, EPOLL_CTL_ADD, l, &ev), 0);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	wait_ev(e->srv, l, POLLIN, POLLIN, 2000);
	/* Exclusivity limits wake-ups of waiting threads; with nobody waiting both sets see the event. */
	CHECK_EV(ep_now(e->srv, ep1, 0), EPOLLIN);
	CHECK_EV(ep_now(e->srv, ep2, 0), EPOLLIN);
	SO(e->srv, close, ep1);
	SO(e->srv, close, ep2);
	SO(e->cli, close, c);
	SO(e->srv, close, l);
}

struct exwaiter {
	struct sockops *o;
	int ep, lfd;
	int woke;
	pthread_t th;
};

static void *
exwait_main(void *p)
{
	struct exwaiter *w = p;
	struct epoll_event ev;

	w->woke = SO(w->o, epoll_wait, w->ep, &ev, 1, 1500) == 1;
	return NULL;
}

SOCKTEST(epoll_exclusive_wakes_one)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	struct exwaiter w[2];
	int l = tcp_listener(e->srv, 4, &sa), c, i;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	for (i = 0; i < 2; i++) {
		w[i].o = e->srv;
		w[i].lfd = l;
		w[i].woke = 0;
		w[i].ep = SO(e->srv, epoll_create1, 0);
		CHECK_EQ(SO(e->srv, epoll_ctl, w[i].ep, EPOLL_CTL_ADD, l, &ev), 0);
		CHECK_EQ(pthread_create(&w[i].th, NULL, exwait_main, &w[i]), 0);
	}
	sleep_ms(200);
	c = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(SO(e->cli, connect, c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (i = 0; i < 2; i++)
		pthread_join(w[i].th, NULL);
	/*
	 * Both threads were asleep in epoll_wait: one connection wakes one of
	 * them -- also under the preload shim, where each epoll is a kernel epoll
	 * carrying a shunt instance and the shim counts its waiters there.
	 */
	CHECK_EQ(w[0].woke + w[1].woke, 1);
	for (i = 0; i < 2; i++)
		SO(e->srv, close, w[i].ep);
	SO(e->cli, close, c);
	SO(e->srv, close, l);
}

struct waiter {
	struct sockops *o;
	int ep;
	int n;
	uint64_t ms;
};

static void *
ep_block_main(void *p)
{
	struct waiter *w = p;
	struct epoll_event ev;
	uint64_t t0 = now_ms();

	w->n = SO(w->o, epoll_wait, w->ep, &ev, 1, -1);
	w->ms = now_ms() - t0;
	return NULL;
}

SOCKTEST(epoll_wait_blocks_until_data)
{
	struct waiter w;
	pthread_t th;
	int c, s;

	tcp_pair(e, NULL, &c, &s);
	w.o = e->srv;
	w.ep = ep_watch(e->srv, s, EPOLLIN);
	CHECK_EQ(pthread_create(&th, NULL, ep_block_main, &w), 0);
	sleep_ms(150);
	send_all(e->cli, c, "wake", 4);
	pthread_join(th, NULL);
	CHECK_EQ(w.n, 1);
	CHECK(w.ms >= 100);
	SO(e->srv, close, w.ep);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}

SOCKTEST(poll_timeout_and_invalid)
{
	struct pollfd p[2];
	int t = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0), n;
	uint64_t t0;

	p[0].fd = t;
	p[0].events = POLLIN;
	p[1].fd = -1;
	p[1].events = POLLIN;
	t0 = now_ms();
	CHECK_EQ(SO(e->cli, poll, p, 2, 100), 0);
	CHECK(now_ms() - t0 >= 90);
	CHECK_EQ(p[0].revents, 0);
	CHECK_EQ(p[1].revents, 0);
	/* A UDP socket is writable at once. */
	p[0].events = POLLIN | POLLOUT;
	CHECK_EQ(SO(e->cli, poll, p, 2, 100), 1);
	CHECK_EV(p[0].revents, POLLOUT);
	/* A closed descriptor is POLLNVAL; select refuses it with EBADF. */
	SO(e->cli, close, t);
	p[0].events = POLLIN;
	n = SO(e->cli, poll, p, 1, 0);
	CHECK_EQ(n, 1);
	CHECK_EV(p[0].revents, POLLNVAL);
	{
		fd_set r;
		struct timeval tv = { 0, 0 };

		FD_ZERO(&r);
		FD_SET(t, &r);
		CHECK_ERR(SO(e->cli, select, t + 1, &r, NULL, NULL, &tv), EBADF);
	}
}

SOCKTEST(epoll_edge_no_spurious_events)
{
	static char buf[1000];
	int c, s, ep, i;

	tcp_pair(e, NULL, &c, &s);
	ep = ep_watch(e->srv, s, EPOLLIN | EPOLLOUT | EPOLLET);
	CHECK_EV(ep_now(e->srv, ep, 0), EPOLLOUT);
	CHECK_EV(ep_now(e->srv, ep, 0), 0);
	send_all(e->cli, c, "x", 1);
	CHECK_EV(ep_now(e->srv, ep, 2000), EPOLLIN | EPOLLOUT);
	CHECK_EV(ep_now(e->srv, ep, 0), 0);
	/*
	 * Our own sends, and the ACKs that free their room, are no news to an
	 * edge-triggered watcher that never lacked room: nothing fires (Linux
	 * wakes writers only after one found the buffer full, SOCK_NOSPACE).
	 */
	for (i = 0; i < 5; i++) {
		send_all(e->srv, s, buf, sizeof(buf));
		recv_exact(e->cli, c, buf, sizeof(buf));
	}
	CHECK_EV(ep_now(e->srv, ep, 100), 0);
	/* New data is news, and the whole state is reported. */
	send_all(e->cli, c, "y", 1);
	CHECK_EV(ep_now(e->srv, ep, 2000), EPOLLIN | EPOLLOUT);
	SO(e->srv, close, ep);
	SO(e->cli, close, c);
	SO(e->srv, close, s);
}
