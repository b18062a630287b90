/*
 * The threading model under load (issue 4): eight threads share one stack
 * (stack 1's sys), each serving or driving many connections at once, through
 * blocking calls, non-blocking calls with epoll (edge- and level-triggered)
 * and poll.  Their peers run on stack 0, over the in-memory link.  Every
 * connection carries a seeded pattern that the server checks and echoes and
 * the client checks again, so all data must arrive intact, in order, once.
 * Built twice: plain (tests/mt) and under ThreadSanitizer (tests/mt-tsan,
 * where any report fails the run).
 *
 * The protocol: the client sends {seed, len} and len pattern bytes; the
 * server echoes the bytes as they come, then shuts its side down; the client
 * reads the echo and the end of stream, then closes; the server sees the
 * close and closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "../unit/sysnet.h"

#define CHUNK		16384
#define NB_CONCURRENT	8

struct hdr {
	uint32_t seed, len;
};

struct mt {
	struct sysnet n;
	struct sockaddr_in l_blk, l_et, l_lt, l_peer;
	int fd_blk, fd_et, fd_lt, fd_peer;
	atomic_int stop[2];		/* servers on stack i may end when idle */
	atomic_uint seed_next;
	atomic_ullong bytes_srv, bytes_cli;
	atomic_uint conns_srv, conns_cli;
	atomic_ullong expect_bytes;
	atomic_uint expect_conns;
};

static uint8_t
pat(uint32_t seed, uint32_t i)
{
	uint32_t x = seed ^ (i * 0x9e3779b1u);

	x ^= x >> 15;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return (uint8_t)x;
}

static void
verify(const uint8_t *b, size_t n, uint32_t seed, uint32_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != pat(seed, off + (uint32_t)i))
			test_fail(__FILE__, __LINE__, "seed %u: byte %u is %u, want %u", seed, off + (uint32_t)i, b[i],
			    pat(seed, off + (uint32_t)i));
}

static uint32_t
conn_len(uint32_t seed)
{
	uint32_t x = seed * 2654435761u;

	return (x % 8 == 0) ? 262144 : 1 + (x >> 8) % 65536;
}

/* ---- blocking ---- */

static void
send_full(struct shunt_sys *sys, int fd, const void *b, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = shunt_send(sys, fd, (const uint8_t *)b + off, n - off, MSG_NOSIGNAL);

		CHECKF(r > 0, "send: %zd errno %d", r, errno);
		off += (size_t)r;
	}
}

static void
recv_full(struct shunt_sys *sys, int fd, void *b, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = shunt_recv(sys, fd, (uint8_t *)b + off, n - off, 0);

		CHECKF(r > 0, "recv: %zd errno %d", r, errno);
		off += (size_t)r;
	}
}

static void
serve_blocking(struct mt *m, struct shunt_sys *sys, int fd)
{
	static _Thread_local uint8_t buf[CHUNK];
	struct hdr h;
	uint32_t got = 0;
	ssize_t r;

	recv_full(sys, fd, &h, sizeof(h));
	while (got < h.len) {
		size_t want = h.len - got < sizeof(buf) ? h.len - got : sizeof(buf);

		r = shunt_recv(sys, fd, buf, want, 0);
		CHECKF(r > 0, "server recv: %zd errno %d", r, errno);
		verify(buf, (size_t)r, h.seed, got);
		send_full(sys, fd, buf, (size_t)r);
		got += (uint32_t)r;
	}
	CHECK_EQ(shunt_shutdown(sys, fd, SHUT_WR), 0);
	CHECK_EQ(shunt_recv(sys, fd, buf, 1, 0), 0);
	CHECK_EQ(shunt_close(sys, fd), 0);
	atomic_fetch_add(&m->bytes_srv, h.len);
	atomic_fetch_add(&m->conns_srv, 1);
}

static void
client_blocking(struct mt *m, struct shunt_sys *sys, const struct sockaddr_in *to)
{
	static _Thread_local uint8_t out[CHUNK], in[CHUNK];
	struct hdr h;
	uint32_t sent = 0, rcvd = 0, i;
	ssize_t r = 0;
	int fd = shunt_socket(sys, AF_INET, SOCK_STREAM, 0);

	CHECK(fd >= 0);
	CHECKF(shunt_connect(sys, fd, (const struct sockaddr *)to, sizeof(*to)) == 0, "connect: %d", errno);
	h.seed = atomic_fetch_add(&m->seed_next, 1);
	h.len = conn_len(h.seed);
	send_full(sys, fd, &h, sizeof(h));
	while (sent < h.len) {
		uint32_t n = h.len - sent < CHUNK ? h.len - sent : CHUNK;

		for (i = 0; i < n; i++)
			out[i] = pat(h.seed, sent + i);
		send_full(sys, fd, out, n);
		sent += n;
		/* Take what came back so far without waiting: the echo never backs up. */
		while (rcvd < h.len && (r = shunt_recv(sys, fd, in, sizeof(in), MSG_DONTWAIT)) > 0) {
			verify(in, (size_t)r, h.seed, rcvd);
			rcvd += (uint32_t)r;
		}
		CHECKF(rcvd == h.len || (r < 0 && errno == EAGAIN), "client recv: %zd errno %d", r, errno);
	}
	while (rcvd < h.len) {
		r = shunt_recv(sys, fd, in, sizeof(in), 0);
		CHECKF(r > 0, "client recv: %zd errno %d", r, errno);
		verify(in, (size_t)r, h.seed, rcvd);
		rcvd += (uint32_t)r;
	}
	CHECK_EQ(shunt_recv(sys, fd, in, 1, 0), 0);
	CHECK_EQ(shunt_close(sys, fd), 0);
	atomic_fetch_add(&m->bytes_cli, h.len);
	atomic_fetch_add(&m->conns_cli, 1);
}

/* ---- non-blocking: one connection's state machine ---- */

struct nbconn {
	int fd;
	int client;
	struct hdr h;
	uint32_t hdr_done;		/* header bytes sent (client) or received (server) */
	uint32_t sent;			/* client: payload sent; server: echo sent */
	uint32_t rcvd;			/* client: echo received; server: payload received */
	uint8_t buf[CHUNK];		/* server: received, not yet echoed */
	uint32_t buf_len, buf_off;
	int connecting, shut, eof;
	uint32_t mask;			/* epoll events registered (level-triggered servers adjust it) */
};

/* Runs the connection as far as it goes without blocking; returns 1 when it is finished (closed). */
static int
nb_step(struct mt *m, struct shunt_sys *sys, struct nbconn *c)
{
	static _Thread_local uint8_t tmp[CHUNK];
	int progress;
	ssize_t r;

	if (c->connecting) {
		int err = -1;
		socklen_t l = sizeof(err);

		CHECK_EQ(shunt_getsockopt(sys, c->fd, SOL_SOCKET, SO_ERROR, &err, &l), 0);
		CHECKF(err == 0, "non-blocking connect: error %d", err);
		if (!(shunt_socket_events(sys, c->fd) & EPOLLOUT))
			return 0;
		c->connecting = 0;
	}
	do {
		progress = 0;
		if (c->client) {
			r = 0;
			while (c->hdr_done < sizeof(c->h)) {
				r = shunt_send(sys, c->fd, (uint8_t *)&c->h + c->hdr_done, sizeof(c->h) - c->hdr_done,
				    MSG_NOSIGNAL);
				if (r < 0)
					break;
				c->hdr_done += (uint32_t)r;
				progress = 1;
			}
			while (c->hdr_done == sizeof(c->h) && c->sent < c->h.len) {
				uint32_t n = c->h.len - c->sent < CHUNK ? c->h.len - c->sent : CHUNK, i;

				for (i = 0; i < n; i++)
					tmp[i] = pat(c->h.seed, c->sent + i);
				r = shunt_send(sys, c->fd, tmp, n, MSG_NOSIGNAL);
				if (r < 0)
					break;
				c->sent += (uint32_t)r;
				progress = 1;
			}
			CHECKF(r >= 0 || errno == EAGAIN || c->sent == c->h.len, "client send: errno %d", errno);
			for (;;) {
				r = shunt_recv(sys, c->fd, tmp, sizeof(tmp), 0);
				if (r > 0) {
					verify(tmp, (size_t)r, c->h.seed, c->rcvd);
					c->rcvd += (uint32_t)r;
					progress = 1;
					continue;
				}
				if (r == 0) {
					CHECK_EQ(c->rcvd, c->h.len);
					CHECK_EQ(shunt_close(sys, c->fd), 0);
					atomic_fetch_add(&m->bytes_cli, c->h.len);
					atomic_fetch_add(&m->conns_cli, 1);
					return 1;
				}
				CHECKF(errno == EAGAIN, "client recv: errno %d", errno);
				break;
			}
			continue;
		}
		/* Server: read into the echo buffer while it has room, echo, end. */
		while (!c->eof) {
			if (c->hdr_done < sizeof(c->h))
				r = shunt_recv(sys, c->fd, (uint8_t *)&c->h + c->hdr_done, sizeof(c->h) - c->hdr_done, 0);
			else if (c->buf_len < sizeof(c->buf) && c->rcvd < c->h.len)
				r = shunt_recv(sys, c->fd, c->buf + c->buf_len, sizeof(c->buf) - c->buf_len, 0);
			else if (c->rcvd == c->h.len && c->shut)
				r = shunt_recv(sys, c->fd, tmp, 1, 0);
			else
				break;
			if (r < 0) {
				CHECKF(errno == EAGAIN, "server recv: errno %d", errno);
				break;
			}
			progress = 1;
			if (r == 0) {
				CHECKF(c->rcvd == c->h.len && c->shut, "server: early end at %u of %u", c->rcvd, c->h.len);
				c->eof = 1;
			} else if (c->hdr_done < sizeof(c->h)) {
				c->hdr_done += (uint32_t)r;
			} else if (c->rcvd < c->h.len) {
				verify(c->buf + c->buf_len, (size_t)r, c->h.seed, c->rcvd);
				c->rcvd += (uint32_t)r;
				c->buf_len += (uint32_t)r;
			} else {
				test_fail(__FILE__, __LINE__, "server: bytes after the end");
			}
		}
		while (c->buf_off < c->buf_len) {
			r = shunt_send(sys, c->fd, c->buf + c->buf_off, c->buf_len - c->buf_off, MSG_NOSIGNAL);
			if (r < 0) {
				CHECKF(errno == EAGAIN, "server send: errno %d", errno);
				break;
			}
			c->buf_off += (uint32_t)r;
			c->sent += (uint32_t)r;
			progress = 1;
		}
		if (c->buf_off == c->buf_len)
			c->buf_off = c->buf_len = 0;
		if (c->hdr_done == sizeof(c->h) && c->rcvd == c->h.len && c->sent == c->h.len && !c->shut) {
			CHECK_EQ(shunt_shutdown(sys, c->fd, SHUT_WR), 0);
			c->shut = 1;
			progress = 1;
		}
		if (c->eof) {
			CHECK_EQ(shunt_close(sys, c->fd), 0);
			atomic_fetch_add(&m->bytes_srv, c->h.len);
			atomic_fetch_add(&m->conns_srv, 1);
			return 1;
		}
	} while (progress);
	return 0;
}

/* The events a level-triggered watcher wants now (it must not ask for what it will not take). */
static uint32_t
nb_want(const struct nbconn *c)
{
	if (c->connecting)
		return EPOLLOUT;
	if (c->client)
		return EPOLLIN | (c->sent < c->h.len ? EPOLLOUT : 0);
	return (c->buf_len < sizeof(c->buf) ? EPOLLIN | EPOLLRDHUP : 0) | (c->buf_off < c->buf_len ? EPOLLOUT : 0);
}

static struct nbconn *
nb_connect(struct mt *m, struct shunt_sys *sys, const struct sockaddr_in *to)
{
	struct nbconn *c = calloc(1, sizeof(*c));
	int r;

	CHECK(c != NULL);
	c->client = 1;
	c->fd = shunt_socket(sys, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(c->fd >= 0);
	c->h.seed = atomic_fetch_add(&m->seed_next, 1);
	c->h.len = conn_len(c->h.seed);
	r = shunt_connect(sys, c->fd, (const struct sockaddr *)to, sizeof(*to));
	CHECKF(r == -1 && errno == EINPROGRESS, "connect: %d errno %d", r, errno);
	c->connecting = 1;
	return c;
}

/* ---- threads ---- */

struct role {
	struct mt *m;
	int side;			/* which stack's sys it uses */
	const struct sockaddr_in *to;	/* clients: where to */
	int lfd;			/* servers: the listener */
	int conns;			/* clients: how many */
	int et;				/* epoll: edge-triggered */
	int exclusive;			/* epoll servers: EPOLLEXCLUSIVE on the listener */
	pthread_t th;
};

static void *
srv_blocking_main(void *p)
{
	struct role *ro = p;
	struct shunt_sys *sys = ro->m->n.sys[ro->side];

	for (;;) {
		int fd = shunt_accept(sys, ro->lfd, NULL, NULL);

		if (fd < 0) {
			/* The listener was shut down: the run is over. */
			CHECKF(errno == EINVAL, "accept: errno %d", errno);
			return NULL;
		}
		serve_blocking(ro->m, sys, fd);
	}
}

static void *
cli_blocking_main(void *p)
{
	struct role *ro = p;
	int i;

	for (i = 0; i < ro->conns; i++)
		client_blocking(ro->m, ro->m->n.sys[ro->side], ro->to);
	return NULL;
}

static void *
srv_epoll_main(void *p)
{
	struct role *ro = p;
	struct shunt_sys *sys = ro->m->n.sys[ro->side];
	struct epoll_event ev, evs[32];
	int ep = shunt_epoll_create1(sys, EPOLL_CLOEXEC), live = 0, i, n;

	CHECK(ep >= 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (ro->exclusive ? EPOLLEXCLUSIVE : 0);
	ev.data.ptr = NULL;
	CHECK_EQ(shunt_epoll_ctl(sys, ep, EPOLL_CTL_ADD, ro->lfd, &ev), 0);
	while (!atomic_load(&ro->m->stop[ro->side]) || live > 0) {
		n = shunt_epoll_wait(sys, ep, evs, 32, 50);
		CHECKF(n >= 0, "epoll_wait: errno %d", errno);
		for (i = 0; i < n; i++) {
			struct nbconn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = shunt_accept4(sys, ro->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					CHECK(c != NULL);
					c->fd = fd;
					c->mask = ro->et ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET : EPOLLIN | EPOLLRDHUP;
					ev.events = c->mask;
					ev.data.ptr = c;
					CHECK_EQ(shunt_epoll_ctl(sys, ep, EPOLL_CTL_ADD, fd, &ev), 0);
					live++;
				}
				CHECKF(errno == EAGAIN, "accept4: errno %d", errno);
				continue;
			}
			if (nb_step(ro->m, sys, c)) {
				free(c);
				live--;
				continue;
			}
			if (!ro->et && nb_want(c) != c->mask) {
				c->mask = nb_want(c);
				ev.events = c->mask;
				ev.data.ptr = c;
				CHECK_EQ(shunt_epoll_ctl(sys, ep, EPOLL_CTL_MOD, c->fd, &ev), 0);
			}
		}
	}
	CHECK_EQ(shunt_close(sys, ep), 0);
	return NULL;
}

static void *
cli_epoll_main(void *p)
{
	struct role *ro = p;
	struct shunt_sys *sys = ro->m->n.sys[ro->side];
	struct epoll_event ev, evs[NB_CONCURRENT];
	int ep = shunt_epoll_create1(sys, 0), started = 0, live = 0, i, n;

	CHECK(ep >= 0);
	while (started < ro->conns || live > 0) {
		while (live < NB_CONCURRENT && started < ro->conns) {
			struct nbconn *c = nb_connect(ro->m, sys, ro->to);

			c->mask = EPOLLIN | EPOLLOUT | EPOLLET;
			ev.events = c->mask;
			ev.data.ptr = c;
			CHECK_EQ(shunt_epoll_ctl(sys, ep, EPOLL_CTL_ADD, c->fd, &ev), 0);
			started++;
			live++;
		}
		n = shunt_epoll_wait(sys, ep, evs, NB_CONCURRENT, 5000);
		CHECKF(n > 0, "client epoll_wait: %d errno %d (%d live)", n, errno, live);
		for (i = 0; i < n; i++) {
			struct nbconn *c = evs[i].data.ptr;

			if (nb_step(ro->m, sys, c)) {
				free(c);
				live--;
			}
		}
	}
	CHECK_EQ(shunt_close(sys, ep), 0);
	return NULL;
}

static void *
cli_poll_main(void *p)
{
	struct role *ro = p;
	struct shunt_sys *sys = ro->m->n.sys[ro->side];
	struct nbconn *cs[NB_CONCURRENT] = { 0 };
	struct pollfd pf[NB_CONCURRENT];
	int started = 0, live = 0, i, n;

	while (started < ro->conns || live > 0) {
		for (i = 0; i < NB_CONCURRENT; i++) {
			if (cs[i] == NULL && started < ro->conns) {
				cs[i] = nb_connect(ro->m, sys, ro->to);
				started++;
				live++;
			}
			pf[i].fd = cs[i] != NULL ? cs[i]->fd : -1;
			pf[i].events = cs[i] != NULL ? (short)nb_want(cs[i]) : 0;
			pf[i].revents = 0;
		}
		n = shunt_poll(sys, pf, NB_CONCURRENT, 5000);
		CHECKF(n > 0, "poll: %d errno %d (%d live)", n, errno, live);
		for (i = 0; i < NB_CONCURRENT; i++) {
			if (cs[i] == NULL || pf[i].revents == 0)
				continue;
			CHECKF(!(pf[i].revents & (POLLERR | POLLNVAL)), "poll: revents 0x%x", pf[i].revents);
			if (nb_step(ro->m, sys, cs[i])) {
				free(cs[i]);
				cs[i] = NULL;
				live--;
			}
		}
	}
	return NULL;
}

static int
listener(struct mt *m, int side, int backlog, struct sockaddr_in *sa)
{
	struct shunt_sys *sys = m->n.sys[side];
	socklen_t l = sizeof(*sa);
	int fd = shunt_socket(sys, AF_INET, SOCK_STREAM, 0);

	*sa = sysnet_addr(&m->n, side, 0);
	CHECK(fd >= 0);
	CHECK_EQ(shunt_bind(sys, fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	CHECK_EQ(shunt_listen(sys, fd, backlog), 0);
	CHECK_EQ(shunt_getsockname(sys, fd, (struct sockaddr *)sa, &l), 0);
	return fd;
}

static void
start(struct role *ro, void *(*fn)(void *))
{
	CHECK_EQ(pthread_create(&ro->th, NULL, fn, ro), 0);
}

static void
stress(const struct shunt_sys_config *cfg, int blk_conns, int nb_conns)
{
	static struct mt m;
	struct role r1[8], r0[6];
	struct timespec t0, t1;
	int i;

	memset(&m, 0, sizeof(m));
	sysnet_init(&m.n, cfg);
	m.fd_blk = listener(&m, 1, 64, &m.l_blk);
	m.fd_et = listener(&m, 1, 64, &m.l_et);
	m.fd_lt = listener(&m, 1, 64, &m.l_lt);
	m.fd_peer = listener(&m, 0, 64, &m.l_peer);
	CHECK_EQ(shunt_fcntl(m.n.sys[1], m.fd_et, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(shunt_fcntl(m.n.sys[1], m.fd_lt, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(shunt_fcntl(m.n.sys[0], m.fd_peer, F_SETFL, O_NONBLOCK), 0);
	memset(r1, 0, sizeof(r1));
	memset(r0, 0, sizeof(r0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The eight threads on stack 1: four serve, four drive. */
	for (i = 0; i < 8; i++) {
		r1[i].m = &m;
		r1[i].side = 1;
	}
	r1[0].lfd = r1[1].lfd = m.fd_blk;
	start(&r1[0], srv_blocking_main);
	start(&r1[1], srv_blocking_main);
	r1[2].lfd = m.fd_et;
	r1[2].et = 1;
	start(&r1[2], srv_epoll_main);
	r1[3].lfd = m.fd_lt;
	start(&r1[3], srv_epoll_main);
	r1[4].to = r1[5].to = r1[6].to = r1[7].to = &m.l_peer;
	r1[4].conns = r1[5].conns = blk_conns;
	start(&r1[4], cli_blocking_main);
	start(&r1[5], cli_blocking_main);
	r1[6].conns = r1[7].conns = nb_conns;
	start(&r1[6], cli_epoll_main);
	start(&r1[7], cli_poll_main);
	/* Their peers on stack 0: two epoll servers sharing the listener (EPOLLEXCLUSIVE), four clients. */
	for (i = 0; i < 6; i++) {
		r0[i].m = &m;
		r0[i].side = 0;
	}
	r0[0].lfd = r0[1].lfd = m.fd_peer;
	r0[0].et = 1;
	r0[0].exclusive = r0[1].exclusive = 1;
	start(&r0[0], srv_epoll_main);
	start(&r0[1], srv_epoll_main);
	r0[2].to = r0[3].to = &m.l_blk;
	r0[2].conns = r0[3].conns = blk_conns;
	start(&r0[2], cli_blocking_main);
	start(&r0[3], cli_blocking_main);
	r0[4].to = &m.l_et;
	r0[4].conns = nb_conns;
	start(&r0[4], cli_epoll_main);
	r0[5].to = &m.l_lt;
	r0[5].conns = nb_conns;
	start(&r0[5], cli_poll_main);
	/* Clients first; then the servers are told to finish. */
	for (i = 4; i < 8; i++)
		pthread_join(r1[i].th, NULL);
	for (i = 2; i < 6; i++)
		pthread_join(r0[i].th, NULL);
	atomic_store(&m.stop[0], 1);
	atomic_store(&m.stop[1], 1);
	CHECK_EQ(shunt_shutdown(m.n.sys[1], m.fd_blk, SHUT_RD), 0);
	for (i = 0; i < 4; i++)
		pthread_join(r1[i].th, NULL);
	pthread_join(r0[0].th, NULL);
	pthread_join(r0[1].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Every connection was served and checked on both ends. */
	CHECK_EQ(atomic_load(&m.conns_cli), 4 * blk_conns + 4 * nb_conns);
	CHECK_EQ(atomic_load(&m.conns_srv), atomic_load(&m.conns_cli));
	CHECK_EQ(atomic_load(&m.bytes_srv), atomic_load(&m.bytes_cli));
	printf("    %u connections, %llu bytes each way checked, %.1f s\n", atomic_load(&m.conns_cli),
	    (unsigned long long)atomic_load(&m.bytes_cli),
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < 4; i++)
		CHECK_EQ(shunt_close(m.n.sys[i == 3 ? 0 : 1], i == 0 ? m.fd_blk : i == 1 ? m.fd_et :
		    i == 2 ? m.fd_lt : m.fd_peer), 0);
	sysnet_fini(&m.n);
}

TEST(mt_eight_threads_share_one_stack)
{
	stress(NULL, 64, 200);
}

TEST(mt_eight_threads_inline_polling)
{
	struct shunt_sys_config cfg;

	/* Waiting callers poll the link themselves (SHUNT_POLL_INLINE): more threads in the core's lock. */
	shunt_sys_config_init(&cfg);
	cfg.mode = SHUNT_POLL_INLINE;
	stress(&cfg, 16, 50);
}

TEST(mt_eight_threads_waiters_poll_for_their_spin)
{
	struct shunt_sys_config cfg;

	/* Thread mode as on a one-CPU affinity: waiters poll the link themselves for spin_us, then sleep. */
	shunt_sys_config_init(&cfg);
	cfg.shared_cpu = 1;
	cfg.spin_us = 50;
	stress(&cfg, 16, 50);
}
