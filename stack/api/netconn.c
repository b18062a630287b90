/*
 * The sequential (netconn) API: blocking, thread-safe connections built on
 * the raw API.  Below: tcp.c / udp.c callbacks, sys.c waits.  Above: the
 * application, or the socket layer (socket.c), which calls the *_locked
 * functions with the lock already held.
 *
 * The raw callbacks (run under the lock, from the poller or an API call)
 * only queue and flag: received data goes to the netconn's queue, and the
 * TCP window reopens when the application reads it, so the receive buffer is
 * the window.  Every change that could satisfy a waiter bumps the netconn's
 * wait word and tells the socket layer (readiness for epoll).
 *
 * Lifetime: a netconn is counted: the owner holds one reference, every call in
 * progress another, so closing it while another thread waits in recv() wakes
 * that thread (EBADF) instead of freeing memory under it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv/api.h"
#include "priv/stack.h"
#include "priv/tcp.h"

static int tcp_recv_cb(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err);
static int tcp_sent_cb(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len);
static void tcp_err_cb(void *arg, int err);
static int tcp_accept_cb(void *arg, struct shunt_tcp_pcb *newpcb, int err);
static void udp_recv_cb(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port);
static void udp_err_cb(void *arg, struct shunt_udp_pcb *pcb, int err);

void
nc_event_key(struct shunt_netconn *nc, uint32_t key)
{
	waitq_wake(&nc->wq);
	if (nc->on_event != NULL)
		nc->on_event(nc, key);
}

void
nc_event(struct shunt_netconn *nc)
{
	nc_event_key(nc, 0);
}

/* Linux's sk_stream_is_writeable: room, and at least half as much room as is queued. */
static int
nc_writable(struct shunt_netconn *nc)
{
	uint32_t freebytes, queued;

	if (nc->pcb.tcp == NULL)
		return 1;
	freebytes = shunt_tcp_sndbuf(nc->pcb.tcp);
	queued = shunt_tcp_outq(nc->pcb.tcp);
	return freebytes > 0 && freebytes >= queued / 2;
}

void
nc_ref(struct shunt_netconn *nc)
{
	nc->refs++;
}

static void
rq_free(struct shunt_netconn *nc)
{
	struct shunt_pbuf *p, *n;

	for (p = nc->rq_head; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		shunt_pbuf_free(p);
	}
	nc->rq_head = nc->rq_tail = NULL;
	nc->rq_bytes = nc->rq_count = nc->rq_off = 0;
}

void
nc_unref(struct shunt_netconn *nc)
{
	if (--nc->refs > 0)
		return;
	rq_free(nc);
	if (nc->anext != NULL)
		nc->anext->apprev = nc->apprev;
	if (nc->apprev != NULL)
		*nc->apprev = nc->anext;
	free(nc);
}

static void
tcp_hook(struct shunt_netconn *nc, struct shunt_tcp_pcb *pcb)
{
	shunt_tcp_arg(pcb, nc);
	shunt_tcp_recv(pcb, tcp_recv_cb);
	shunt_tcp_sent(pcb, tcp_sent_cb);
	shunt_tcp_err(pcb, tcp_err_cb);
}

static struct shunt_netconn *
nc_alloc(struct shunt_sys *sys, int type)
{
	struct shunt_netconn *nc = calloc(1, sizeof(*nc));

	if (nc == NULL)
		return NULL;
	nc->sys = sys;
	nc->type = (uint8_t)type;
	nc->refs = 1;
	nc->rcvbuf = (uint32_t)sys->udp_rcvbuf_default;
	waitq_init(&nc->wq);
	nc->anext = sys->all;
	if (sys->all != NULL)
		sys->all->apprev = &nc->anext;
	nc->apprev = &sys->all;
	sys->all = nc;
	return nc;
}

struct shunt_netconn *
nc_new_locked(struct shunt_sys *sys, int type, int *err)
{
	struct shunt_netconn *nc;

	if (type != SHUNT_NETCONN_TCP && type != SHUNT_NETCONN_UDP) {
		*err = -EPROTONOSUPPORT;
		return NULL;
	}
	nc = nc_alloc(sys, type);
	if (nc == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (type == SHUNT_NETCONN_TCP) {
		nc->pcb.tcp = shunt_tcp_new(sys->stack);
		if (nc->pcb.tcp != NULL)
			tcp_hook(nc, nc->pcb.tcp);
	} else {
		nc->pcb.udp = shunt_udp_new(sys->stack);
		if (nc->pcb.udp != NULL) {
			shunt_udp_recv(nc->pcb.udp, udp_recv_cb, nc);
			shunt_udp_err(nc->pcb.udp, udp_err_cb);
		}
	}
	if (nc->pcb.any == NULL) {
		nc_unref(nc);
		*err = -ENOBUFS;
		return NULL;
	}
	return nc;
}

/* ---- callbacks from the core (lock held) ---- */

static void
rq_append(struct shunt_netconn *nc, struct shunt_pbuf *p)
{
	p->qnext = NULL;
	if (nc->rq_tail != NULL)
		nc->rq_tail->qnext = p;
	else
		nc->rq_head = p;
	nc->rq_tail = p;
	nc->rq_bytes += p->tot_len;
	nc->rq_count++;
}

static int
tcp_recv_cb(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct shunt_netconn *nc = arg;

	(void)err;
	(void)pcb;
	if (p == NULL) {
		nc->flags |= NC_EOF;
		nc_event(nc);
		return 0;
	}
	if (p->tot_len == 0) {
		shunt_pbuf_free(p);	/* nothing to read: the queue holds only bytes */
		return 0;
	}
	/* Even after shutdown(SHUT_RD) data queues and stays readable, as on Linux. */
	rq_append(nc, p);
	nc_event_key(nc, EPOLLIN | EPOLLRDNORM);
	return 0;
}

static int
tcp_sent_cb(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	struct shunt_netconn *nc = arg;

	int room = nc_writable(nc);

	(void)pcb;
	(void)len;
	/*
	 * Lingering closes wait on the word for every ACK.  A writer that found
	 * the buffer full (NC_NOSPACE) is woken only once there is room worth
	 * waking for, as Linux's sk_stream_write_space: on every ACK it would
	 * wake to copy two segments' worth and sleep again (on a shared CPU,
	 * two context switches per ACK: bulk at 16 Gbit/s).
	 */
	if (!(nc->flags & NC_NOSPACE) || room)
		waitq_wake(&nc->wq);
	/* epoll hears of room only when a writer found none (sk_stream_write_space and SOCK_NOSPACE). */
	if ((nc->flags & NC_NOSPACE) && room) {
		nc->flags &= ~(uint32_t)NC_NOSPACE;
		if (nc->on_event != NULL)
			nc->on_event(nc, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
	}
	return 0;
}

static void
tcp_err_cb(void *arg, int err)
{
	struct shunt_netconn *nc = arg;

	nc->pcb.tcp = NULL;
	nc->flags |= NC_DEAD;
	nc->flags &= ~(uint32_t)NC_CONNECTING;
	/* tcp_reset: a reset in CLOSE_WAIT (the peer's FIN seen, ours not sent) is EPIPE. */
	if (err == -ECONNRESET && (nc->flags & NC_EOF) && !(nc->flags & NC_WR_SHUT))
		err = -EPIPE;
	if (err != -ECONNABORTED || !(nc->flags & NC_CLOSED))
		nc->err = -err;
	nc_event(nc);
}

static int
tcp_connected_cb(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct shunt_netconn *nc = arg;

	(void)pcb;
	(void)err;
	nc->flags &= ~(uint32_t)NC_CONNECTING;
	nc->flags |= NC_CONNECTED | NC_EVER_CONNECTED;
	nc_event(nc);
	return 0;
}

static int
tcp_accept_cb(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct shunt_netconn *lnc = arg, *c;

	(void)err;
	if (lnc->flags & NC_CLOSED)
		return -ECONNREFUSED;
	c = nc_alloc(lnc->sys, SHUNT_NETCONN_TCP);
	if (c == NULL)
		return -ENOMEM;
	c->pcb.tcp = newpcb;
	c->flags = NC_CONNECTED | NC_EVER_CONNECTED | NC_BOUND | NC_SS_CONNECTED;
	c->rcv_timeout_ms = 0;
	tcp_hook(c, newpcb);
	/* It waits for accept(): it counts against the backlog until then. */
	shunt_tcp_backlog_delayed(newpcb);
	c->aq_next = NULL;
	if (lnc->aq_tail != NULL)
		lnc->aq_tail->aq_next = c;
	else
		lnc->aq_head = c;
	lnc->aq_tail = c;
	lnc->aq_len++;
	nc_event_key(lnc, EPOLLIN | EPOLLRDNORM);
	return 0;
}

static void
udp_recv_cb(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	struct shunt_netconn *nc = arg;

	(void)pcb;
	if (nc->rq_bytes + p->tot_len > nc->rcvbuf) {
		nc->rq_drops++;		/* a full socket buffer drops, as on Linux */
		shunt_pbuf_free(p);
		return;
	}
	p->cb[0] = ip;
	p->cb[1] = port;
	rq_append(nc, p);
	nc_event_key(nc, EPOLLIN | EPOLLRDNORM);
}

static void
udp_err_cb(void *arg, struct shunt_udp_pcb *pcb, int err)
{
	struct shunt_netconn *nc = arg;

	(void)pcb;
	nc->err = -err;
	nc_event(nc);
}

/* ---- readiness (Linux's tcp_poll / datagram_poll rules) ---- */

uint32_t
nc_poll_events(struct shunt_netconn *nc)
{
	uint32_t ev = 0, f = nc->flags;
	int rd_shut, wr_shut;

	if (nc->type == SHUNT_NETCONN_UDP) {
		if (nc->err != 0)
			ev |= EPOLLERR;
		if (f & NC_RD_SHUT)
			ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
		if ((f & (NC_RD_SHUT | NC_WR_SHUT)) == (NC_RD_SHUT | NC_WR_SHUT))
			ev |= EPOLLHUP;
		if (nc->rq_count > 0)
			ev |= EPOLLIN | EPOLLRDNORM;
		return ev | EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	}
	if (f & NC_LISTENING)
		return nc->aq_len > 0 ? EPOLLIN | EPOLLRDNORM : 0;
	/* A dead connection is Linux's CLOSE after tcp_done(): both directions shut down. */
	rd_shut = (f & (NC_EOF | NC_RD_SHUT | NC_DEAD)) != 0;
	wr_shut = (f & (NC_WR_SHUT | NC_DEAD)) != 0;
	if ((rd_shut && wr_shut) || (f & NC_DEAD) || !(f & (NC_CONNECTED | NC_CONNECTING)))
		ev |= EPOLLHUP;
	if (rd_shut)
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (!(f & NC_CONNECTING)) {
		uint32_t ready = nc->rq_bytes - nc->rq_off;

		if (ready > 0 && ready >= (nc->lowat ? nc->lowat : 1))
			ev |= EPOLLIN | EPOLLRDNORM;
		if (wr_shut || nc_writable(nc))
			ev |= EPOLLOUT | EPOLLWRNORM;
		else
			nc->flags |= NC_NOSPACE;	/* so that the room, when it comes, is announced */
	}
	if (nc->err != 0)
		ev |= EPOLLERR;
	return ev;
}

/* ---- operations, lock held ---- */

static int
wait_for(struct shunt_netconn *nc, uint64_t deadline)
{
	int r = sys_wait(nc->sys, &nc->wq, deadline, deadline != 0);

	stack_refresh_now(nc->sys->stack);
	if (nc->flags & NC_CLOSED)
		return -EBADF;
	return r;
}

/* Where the next byte of a caller's iovec goes. */
struct iovcur {
	const struct iovec *iov;
	int cnt, i;
	size_t off;
};

static void
iovcur_init(struct iovcur *c, const struct iovec *iov, int cnt)
{
	c->iov = iov;
	c->cnt = cnt;
	c->i = 0;
	c->off = 0;
}

/* Copies n bytes of p from off into the cursor; returns what fitted. */
static uint32_t
iovcur_fill(struct iovcur *c, struct shunt_pbuf *p, uint32_t off, uint32_t n)
{
	uint32_t done = 0;

	while (done < n && c->i < c->cnt) {
		size_t room = c->iov[c->i].iov_len - c->off;
		uint32_t k;

		if (room == 0) {
			c->i++;
			c->off = 0;
			continue;
		}
		k = room < n - done ? (uint32_t)room : n - done;
		shunt_pbuf_copy_out(p, off + done, (uint8_t *)c->iov[c->i].iov_base + c->off, k);
		done += k;
		c->off += k;
	}
	return done;
}

static void
rq_pop(struct shunt_netconn *nc)
{
	struct shunt_pbuf *p = nc->rq_head;

	nc->rq_head = p->qnext;
	if (nc->rq_head == NULL)
		nc->rq_tail = NULL;
	nc->rq_bytes -= p->tot_len;
	nc->rq_count--;
	nc->rq_off = 0;
	p->qnext = NULL;
	shunt_pbuf_free(p);
}

/*
 * Takes up to max bytes of the stream from its read point, skipping skip
 * bytes first (a peek continuing where the last pass stopped): copies them
 * into the cursor (or drops them, cur == NULL: MSG_TRUNC), and consumes them
 * unless peek.
 */
static uint32_t
rq_take(struct shunt_netconn *nc, struct iovcur *cur, uint32_t skip, uint32_t max, int peek)
{
	struct shunt_pbuf *p = nc->rq_head;
	uint32_t off = nc->rq_off + skip, done = 0;

	while (p != NULL && off >= p->tot_len) {
		off -= p->tot_len;
		p = p->qnext;
	}
	while (p != NULL && done < max) {
		uint32_t n = p->tot_len - off;

		if (n > max - done)
			n = max - done;
		if (cur != NULL)
			n = iovcur_fill(cur, p, off, n);
		if (n == 0)
			break;
		done += n;
		off += n;
		if (off < p->tot_len)
			break;
		p = p->qnext;
		off = 0;
		if (!peek)
			rq_pop(nc);
	}
	if (!peek && nc->rq_head != NULL)
		nc->rq_off = off;
	return done;
}

static int
nc_recv_udp(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags, uint32_t *ip,
    uint16_t *port, uint32_t *dgram_len)
{
	uint64_t deadline = sys_deadline(nc->rcv_timeout_ms);
	int r, nonblock = (nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT);

	for (;;) {
		struct shunt_pbuf *p = nc->rq_head;

		/* __skb_recv_udp: a pending error comes before queued datagrams. */
		if (nc->err != 0) {
			r = -nc->err;
			nc->err = 0;
			return r;
		}
		if (p != NULL) {
			struct iovcur cur;
			uint32_t n;

			if (ip != NULL)
				*ip = p->cb[0];
			if (port != NULL)
				*port = (uint16_t)p->cb[1];
			if (dgram_len != NULL)
				*dgram_len = p->tot_len;
			/* One datagram per call: what does not fit is lost (unless peeking). */
			iovcur_init(&cur, iov, iovcnt);
			n = iovcur_fill(&cur, p, 0, p->tot_len);
			if (!(flags & SHUNT_NC_PEEK))
				rq_pop(nc);
			return (int)n;
		}
		/* RCV_SHUTDOWN ends only a wait (__skb_wait_for_more_packets): non-blocking still says EAGAIN. */
		if (nonblock)
			return -EAGAIN;
		if (nc->flags & NC_RD_SHUT)
			return 0;
		r = wait_for(nc, deadline);
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r != 0)
			return r;
	}
}

/*
 * A stream receive, in the shape of Linux's tcp_recvmsg: take what is there,
 * and wait while less than the target (SO_RCVLOWAT, the whole length with
 * MSG_WAITALL) has been taken and nothing ends the wait.
 */
int
nc_recv_iov_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags, uint32_t *ip,
    uint16_t *port, uint32_t *dgram_len)
{
	uint64_t deadline = sys_deadline(nc->rcv_timeout_ms);
	uint32_t want = 0, got = 0, target;
	int i, r, nonblock = (nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT);
	int peek = (flags & SHUNT_NC_PEEK) != 0;
	struct iovcur cur;

	if (nc->type == SHUNT_NETCONN_UDP)
		return nc_recv_udp(nc, iov, iovcnt, flags, ip, port, dgram_len);
	for (i = 0; i < iovcnt; i++) {
		uint64_t w = (uint64_t)want + iov[i].iov_len;

		want = w > 0x7ffff000u ? 0x7ffff000u : (uint32_t)w;	/* Linux's MAX_RW_COUNT */
	}
	if (nc->flags & NC_LISTENING)
		return -ENOTCONN;
	target = (flags & SHUNT_NC_WAITALL) ? want : (nc->lowat ? nc->lowat : 1);
	if (target > want)
		target = want;
	if (target == 0)
		target = 1;
	iovcur_init(&cur, iov, iovcnt);
	for (;;) {
		uint32_t avail = nc->rq_bytes - nc->rq_off, skip = peek ? got : 0;
		uint32_t ready = avail > skip ? avail - skip : 0;

		if (ready > 0 && want == 0)
			return 0;
		if (ready > 0 && got < want) {
			/* MSG_TRUNC on a stream: the bytes are dropped instead of copied (tcp(7)). */
			uint32_t n = rq_take(nc, (flags & SHUNT_NC_TRUNC) ? NULL : &cur, peek ? got : 0,
			    want - got, peek);

			got += n;
			if (!peek && nc->pcb.tcp != NULL)
				shunt_tcp_recved(nc->pcb.tcp, n);
			continue;
		}
		if (got >= target)
			return (int)got;
		if (got > 0) {
			if (nonblock || nc->err != 0 || (nc->flags & (NC_EOF | NC_RD_SHUT | NC_DEAD)))
				return (int)got;
		} else {
			/* Linux's order: end of stream, then a pending error, then shut or closed. */
			if (nc->flags & NC_EOF)
				return 0;
			if (nc->err != 0) {
				r = -nc->err;
				nc->err = 0;
				return r;
			}
			if (nc->flags & (NC_RD_SHUT | NC_DEAD))
				return 0;
			if (!(nc->flags & (NC_CONNECTED | NC_CONNECTING)))
				return -ENOTCONN;
			if (nonblock)
				return -EAGAIN;
		}
		r = wait_for(nc, deadline);
		if (r == -ETIMEDOUT)
			return got > 0 ? (int)got : -EAGAIN;
		if (r != 0)
			return got > 0 ? (int)got : r;
		if (want == 0)
			return 0;
	}
}

int
nc_recv_locked(struct shunt_netconn *nc, void *buf, uint32_t len, int flags, uint32_t *ip, uint16_t *port,
    uint32_t *dgram_len)
{
	struct iovec v = { buf, len };

	return nc_recv_iov_locked(nc, &v, 1, flags, ip, port, dgram_len);
}

static int
tcp_write_error(struct shunt_netconn *nc)
{
	int r;

	if (nc->err != 0) {
		r = -nc->err;
		nc->err = 0;
		return r;
	}
	return -EPIPE;
}

int
nc_write_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags)
{
	uint64_t deadline = sys_deadline(nc->snd_timeout_ms);
	uint32_t done = 0;
	int i, r, nonblock = (nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT);

	if (nc->type != SHUNT_NETCONN_TCP)
		return -EOPNOTSUPP;
	for (;;) {
		if (nc->flags & (NC_DEAD | NC_WR_SHUT))
			return tcp_write_error(nc);
		if (nc->flags & NC_CONNECTED)
			break;
		if (!(nc->flags & NC_CONNECTING))
			return -EPIPE;	/* Linux: sending on an unconnected stream socket */
		if (nonblock)
			return -EAGAIN;
		r = wait_for(nc, deadline);
		if (r != 0)
			return r == -ETIMEDOUT ? -EAGAIN : r;
	}
	for (i = 0; i < iovcnt; i++) {
		const uint8_t *d = iov[i].iov_base;
		size_t off = 0;

		while (off < iov[i].iov_len) {
			int last = i == iovcnt - 1;
			size_t left = iov[i].iov_len - off;
			uint32_t n = left > 0x40000000u ? 0x40000000u : (uint32_t)left;
			int wf = (!last || (flags & SHUNT_NC_MORE)) ? SHUNT_TCP_WRITE_MORE : 0;

			if (nc->pcb.tcp == NULL || (nc->flags & NC_DEAD))
				return done > 0 ? (int)done : tcp_write_error(nc);
			r = shunt_tcp_write(nc->pcb.tcp, d + off, n, off + n < iov[i].iov_len ? SHUNT_TCP_WRITE_MORE : wf);
			if (r > 0) {
				off += (size_t)r;
				done += (uint32_t)r;
				continue;
			}
			if (r != -EAGAIN && r != -ENOBUFS)
				return done > 0 ? (int)done : r;
			/* Partial progress before the buffer filled: send it now rather than hold it. */
			shunt_tcp_output(nc->pcb.tcp);
			nc->flags |= NC_NOSPACE;
			if (nonblock)
				return done > 0 ? (int)done : -EAGAIN;
			r = wait_for(nc, deadline);
			if (r == -ETIMEDOUT)
				return done > 0 ? (int)done : -EAGAIN;
			if (r != 0)
				return done > 0 ? (int)done : r;
		}
	}
	return (int)done;
}

int
nc_sendto_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, uint32_t ip, uint16_t port, int flags)
{
	struct shunt_stack *s = nc->sys->stack;
	struct shunt_pbuf *p;
	uint32_t len = 0, off = 0;
	int i, r;

	(void)flags;
	if (nc->type == SHUNT_NETCONN_TCP) {
		if (ip != 0 && !(nc->flags & NC_CONNECTED))
			return -EPIPE;
		return nc_write_locked(nc, iov, iovcnt, flags);
	}
	for (i = 0; i < iovcnt; i++)
		len += (uint32_t)iov[i].iov_len;
	/* sock_alloc_send_skb: a pending error first, then a shut write side. */
	if (nc->err != 0) {
		r = -nc->err;
		nc->err = 0;
		return r;
	}
	if (nc->flags & NC_WR_SHUT)
		return -EPIPE;
	if (ip == 0) {
		uint32_t rip;
		uint16_t rport;

		shunt_udp_remote(nc->pcb.udp, &rip, &rport);
		if (rip == 0)
			return -EDESTADDRREQ;
		ip = rip;
		port = rport;
	}
	if (len > 65507)
		return -EMSGSIZE;
	p = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM, len);
	if (p == NULL)
		return -ENOBUFS;
	for (i = 0; i < iovcnt; i++) {
		shunt_pbuf_copy_in(p, off, iov[i].iov_base, (uint32_t)iov[i].iov_len);
		off += (uint32_t)iov[i].iov_len;
	}
	r = shunt_udp_sendto(nc->pcb.udp, p, ip, port);
	shunt_pbuf_free(p);
	if (r == 0) {
		nc->flags |= NC_BOUND;
		return (int)len;
	}
	return r;
}

/*
 * A TCP netconn whose PCB is gone (a failed open, a disconnect) gets a new
 * one in CLOSE, with the socket's options, bound again where the user bound it
 * (Linux keeps a port or address the user chose, SOCK_BIND*_LOCK).
 */
static int
nc_tcp_fresh(struct shunt_netconn *nc)
{
	struct shunt_tcp_pcb *pcb = shunt_tcp_new(nc->sys->stack);
	int r;

	if (pcb == NULL)
		return -ENOBUFS;
	nc->pcb.tcp = pcb;
	tcp_hook(nc, pcb);
	nc->flags &= ~(uint32_t)(NC_DEAD | NC_CONNECTED | NC_CONNECTING | NC_LISTENING | NC_EOF | NC_RD_SHUT |
	    NC_WR_SHUT | NC_BOUND | NC_NOSPACE);
	rq_free(nc);
	if (nc->owner != NULL)
		sock_apply_opts(nc->owner);
	if (nc->flags & (NC_PORT_LOCKED | NC_ADDR_LOCKED)) {
		r = shunt_tcp_bind(pcb, (nc->flags & NC_ADDR_LOCKED) ? nc->bind_ip : 0,
		    (nc->flags & NC_PORT_LOCKED) ? nc->bind_port : 0);
		if (r != 0)
			return r;
		nc->flags |= NC_BOUND;
	}
	return 0;
}

/* Drops the PCB without telling anyone (the callbacks go first), resetting the peer if connected. */
static void
nc_tcp_drop_pcb(struct shunt_netconn *nc, int graceful)
{
	struct shunt_tcp_pcb *pcb = nc->pcb.tcp;

	nc->pcb.tcp = NULL;
	if (pcb == NULL)
		return;
	shunt_tcp_arg(pcb, NULL);
	shunt_tcp_err(pcb, NULL);
	shunt_tcp_recv(pcb, NULL);
	shunt_tcp_sent(pcb, NULL);
	shunt_tcp_accept(pcb, NULL);
	if (graceful)
		shunt_tcp_close(pcb);
	else
		shunt_tcp_abort(pcb);
}

/* Connections nobody accepted go with their listener: reset. */
static void
aq_abort(struct shunt_netconn *nc)
{
	struct shunt_netconn *c;

	while ((c = nc->aq_head) != NULL) {
		nc->aq_head = c->aq_next;
		c->aq_next = NULL;
		c->refs = 1;
		nc_tcp_drop_pcb(c, 0);
		c->flags |= NC_CLOSED;
		nc_unref(c);
	}
	nc->aq_tail = NULL;
	nc->aq_len = 0;
}

/* A listener stops (shutdown(SHUT_RD), connect(AF_UNSPEC)): its queue is reset, it is a fresh socket. */
static int
nc_listen_stop(struct shunt_netconn *nc)
{
	aq_abort(nc);
	nc_tcp_drop_pcb(nc, 1);
	nc->flags &= ~(uint32_t)NC_LISTENING;
	nc_event(nc);
	return nc_tcp_fresh(nc);
}

int
nc_bind_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port)
{
	int r;

	if (nc->flags & NC_BOUND)
		return -EINVAL;
	if (nc->type == SHUNT_NETCONN_UDP) {
		r = shunt_udp_bind(nc->pcb.udp, ip, port);
	} else {
		if (nc->flags & (NC_SS_CONNECTED | NC_SS_CONNECTING | NC_LISTENING | NC_CONNECTED | NC_CONNECTING))
			return -EINVAL;
		if ((nc->pcb.tcp == NULL || (nc->flags & NC_DEAD)) && (r = nc_tcp_fresh(nc)) != 0)
			return r;
		r = shunt_tcp_bind(nc->pcb.tcp, ip, port);
	}
	if (r != 0)
		return r;
	nc->flags |= NC_BOUND | (port != 0 ? NC_PORT_LOCKED : 0) | (ip != 0 ? NC_ADDR_LOCKED : 0);
	nc->bind_ip = ip;
	nc->bind_port = port;
	return 0;
}

/*
 * connect() as Linux's __inet_stream_connect does it: the socket-level state
 * (NC_SS_*) decides between EISCONN, EALREADY and a new open; a blocking call
 * waits for the open (bounded by SO_SNDTIMEO, ended by signals); an open that
 * failed is reported, once, by the connect() that finds it failed.  addr_err
 * is the address's own verdict, which counts only when a new open starts.
 */
int
nc_connect_addr_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port, int addr_err)
{
	uint64_t deadline;
	int r, w;

	if (nc->type == SHUNT_NETCONN_UDP) {
		if (addr_err != 0)
			return addr_err;
		r = shunt_udp_connect(nc->pcb.udp, ip, port);
		if (r == 0)
			nc->flags |= NC_BOUND | NC_CONNECTED;
		return r;
	}
	if (nc->flags & NC_SS_CONNECTED)
		return -EISCONN;
	if (nc->flags & NC_SS_CONNECTING) {
		r = -EALREADY;
	} else {
		if (nc->flags & (NC_LISTENING | NC_CONNECTED | NC_CONNECTING))
			return -EISCONN;	/* not in CLOSE */
		if (addr_err != 0)
			return addr_err;
		if ((nc->pcb.tcp == NULL || (nc->flags & NC_DEAD)) && (r = nc_tcp_fresh(nc)) != 0)
			return r;
		nc->err = 0;
		r = shunt_tcp_connect(nc->pcb.tcp, ip, port, tcp_connected_cb);
		if (r != 0)
			return r;
		nc->flags |= NC_CONNECTING | NC_BOUND | NC_SS_CONNECTING;
		nc_event(nc);
		r = -EINPROGRESS;
	}
	if (nc->flags & NC_CONNECTING) {
		if (nc->flags & NC_NONBLOCK)
			return r;
		deadline = sys_deadline(nc->snd_timeout_ms);
		while (nc->flags & NC_CONNECTING) {
			w = wait_for(nc, deadline);
			if (w == -ETIMEDOUT)
				return r;	/* EINPROGRESS the first time, EALREADY after */
			if (w != 0)
				return w;
		}
	}
	nc->flags &= ~(uint32_t)NC_SS_CONNECTING;
	if (nc->flags & NC_DEAD) {
		r = nc->err != 0 ? -nc->err : -ECONNABORTED;
		nc->err = 0;
		return r;
	}
	nc->flags |= NC_SS_CONNECTED;
	return 0;
}

int
nc_connect_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port)
{
	return nc_connect_addr_locked(nc, ip, port, 0);
}

int
nc_disconnect_locked(struct shunt_netconn *nc)
{
	int err = 0, r;

	if (nc->type == SHUNT_NETCONN_UDP) {
		shunt_udp_disconnect(nc->pcb.udp);
		nc->flags &= ~(uint32_t)NC_CONNECTED;
		if (!(nc->flags & NC_PORT_LOCKED))
			nc->flags &= ~(uint32_t)NC_BOUND;
		return 0;
	}
	/*
	 * tcp_disconnect: abort whatever there is (a RST if connected) and start
	 * again in CLOSE; the connection it dropped (or the open it abandoned)
	 * stays behind as the socket's error.
	 */
	if (nc->flags & NC_LISTENING) {
		aq_abort(nc);
		nc->flags &= ~(uint32_t)NC_LISTENING;
	}
	if ((nc->flags & NC_CONNECTING) && !(nc->flags & NC_DEAD)) {
		err = ECONNRESET;
	} else if ((nc->flags & NC_CONNECTED) && !(nc->flags & NC_DEAD) && nc->pcb.tcp != NULL) {
		enum shunt_tcp_state st = shunt_tcp_state(nc->pcb.tcp);

		if (st == SHUNT_TCP_ESTABLISHED || st == SHUNT_TCP_CLOSE_WAIT || st == SHUNT_TCP_FIN_WAIT_1 ||
		    st == SHUNT_TCP_FIN_WAIT_2 || st == SHUNT_TCP_SYN_RECEIVED)
			err = ECONNRESET;
	}
	nc_tcp_drop_pcb(nc, 0);
	nc->flags &= ~(uint32_t)(NC_SS_CONNECTING | NC_SS_CONNECTED | NC_EVER_CONNECTED);
	r = nc_tcp_fresh(nc);
	nc->err = err;
	nc_event(nc);
	return r;
}

int
nc_accept_locked(struct shunt_netconn *nc, struct shunt_netconn **out)
{
	uint64_t deadline = sys_deadline(nc->rcv_timeout_ms);
	int r;

	if (nc->type != SHUNT_NETCONN_TCP)
		return -EOPNOTSUPP;
	for (;;) {
		struct shunt_netconn *c;

		if (!(nc->flags & NC_LISTENING))
			return -EINVAL;
		c = nc->aq_head;
		if (c != NULL) {
			nc->aq_head = c->aq_next;
			if (nc->aq_head == NULL)
				nc->aq_tail = NULL;
			nc->aq_len--;
			c->aq_next = NULL;
			if (c->pcb.tcp != NULL)
				shunt_tcp_backlog_accepted(c->pcb.tcp);
			*out = c;
			return 0;
		}
		if (nc->flags & NC_NONBLOCK)
			return -EAGAIN;
		r = wait_for(nc, deadline);
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r != 0)
			return r;
	}
}

/* Linux's view of the TCP state: CLOSE (never opened, dead, or finished in TIME_WAIT). */
static int
nc_tcp_closed(struct shunt_netconn *nc)
{
	enum shunt_tcp_state st;

	if ((nc->flags & NC_DEAD) || nc->pcb.tcp == NULL || !(nc->flags & (NC_CONNECTED | NC_CONNECTING)))
		return 1;
	st = shunt_tcp_state(nc->pcb.tcp);
	return st == SHUNT_TCP_CLOSED || st == SHUNT_TCP_TIME_WAIT;
}

/* shutdown() as inet_shutdown does it. */
int
nc_shutdown_locked(struct shunt_netconn *nc, int rd, int wr)
{
	uint32_t how = (rd ? NC_RD_SHUT : 0) | (wr ? NC_WR_SHUT : 0);
	int r = 0;

	if (nc->type == SHUNT_NETCONN_UDP) {
		/* An unconnected socket says ENOTCONN but is shut all the same (it wakes its pollers). */
		nc->flags |= how;
		nc_event(nc);
		return (nc->flags & NC_CONNECTED) ? 0 : -ENOTCONN;
	}
	if ((nc->flags & NC_SS_CONNECTING) && (nc->flags & NC_CONNECTED) && !(nc->flags & NC_DEAD)) {
		nc->flags &= ~(uint32_t)NC_SS_CONNECTING;
		nc->flags |= NC_SS_CONNECTED;
	}
	if (nc->flags & NC_LISTENING)
		return rd ? nc_listen_stop(nc) : 0;
	if ((nc->flags & NC_CONNECTING) && !(nc->flags & NC_DEAD))
		return nc_disconnect_locked(nc);	/* SYN_SENT: the open is abandoned */
	if (nc_tcp_closed(nc)) {
		nc->flags |= how;
		nc_event(nc);
		return -ENOTCONN;
	}
	nc->flags |= how & NC_RD_SHUT;
	if (wr && !(nc->flags & NC_WR_SHUT)) {
		nc->flags |= NC_WR_SHUT;
		r = shunt_tcp_shutdown(nc->pcb.tcp, 0, 1);
	}
	nc_event(nc);
	return r == -ENOTCONN ? 0 : r;
}

int
nc_close_locked(struct shunt_netconn *nc)
{
	if (nc->flags & NC_CLOSED)
		return -EBADF;
	nc->flags |= NC_CLOSED;
	nc->on_event = NULL;
	nc->owner = NULL;
	if (nc->type == SHUNT_NETCONN_UDP) {
		shunt_udp_remove(nc->pcb.udp);
		nc->pcb.udp = NULL;
	} else {
		aq_abort(nc);
		if (nc->pcb.tcp != NULL) {
			struct shunt_tcp_pcb *pcb = nc->pcb.tcp;
			int abortive = (nc->rq_bytes > nc->rq_off) || (nc->linger_on && nc->linger_s == 0);

			if (!abortive && nc->linger_on && !(nc->flags & NC_NONBLOCK) && (nc->flags & NC_CONNECTED)) {
				/* SO_LINGER: wait (bounded) until what we sent is acknowledged. */
				uint64_t deadline = sys_deadline((uint32_t)nc->linger_s * 1000u);

				nc->flags &= ~(uint32_t)NC_CLOSED;
				nc_shutdown_locked(nc, 0, 1);
				nc->flags |= NC_CLOSED;
				while (nc->pcb.tcp != NULL && shunt_tcp_outq(nc->pcb.tcp) > 0 &&
				    sys_wait(nc->sys, &nc->wq, deadline, 1) == 0)
					stack_refresh_now(nc->sys->stack);
				pcb = nc->pcb.tcp;
			}
			nc->pcb.tcp = NULL;
			if (pcb != NULL) {
				shunt_tcp_arg(pcb, NULL);
				shunt_tcp_err(pcb, NULL);
				shunt_tcp_recv(pcb, NULL);
				shunt_tcp_sent(pcb, NULL);
				if (abortive)
					shunt_tcp_abort(pcb);
				else
					shunt_tcp_close(pcb);
			}
		}
	}
	rq_free(nc);
	/* Anyone still waiting on it wakes up and sees it closed. */
	waitq_wake(&nc->wq);
	nc_unref(nc);
	return 0;
}

/* ---- the public netconn API: lock, reference, call, release ---- */

#define NC_ENTER(nc) do { \
	pthread_mutex_lock(&(nc)->sys->lock); \
	stack_refresh_now((nc)->sys->stack); \
	nc_ref(nc); \
} while (0)

#define NC_LEAVE(nc) do { \
	struct shunt_sys *sys_ = (nc)->sys; \
	nc_unref(nc); \
	netif_flush_all(sys_->stack); \
	pthread_mutex_unlock(&sys_->lock); \
} while (0)

struct shunt_netconn *
shunt_netconn_new(struct shunt_sys *sys, enum shunt_netconn_type type, int *err)
{
	struct shunt_netconn *nc;
	int e = 0;

	pthread_mutex_lock(&sys->lock);
	nc = nc_new_locked(sys, type, &e);
	pthread_mutex_unlock(&sys->lock);
	if (nc == NULL && err != NULL)
		*err = e;
	return nc;
}

int
shunt_netconn_delete(struct shunt_netconn *nc)
{
	struct shunt_sys *sys = nc->sys;
	int r;

	pthread_mutex_lock(&sys->lock);
	stack_refresh_now(sys->stack);
	r = nc_close_locked(nc);
	netif_flush_all(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	return r;
}

int
shunt_netconn_bind(struct shunt_netconn *nc, uint32_t ip, uint16_t port)
{
	int r;

	NC_ENTER(nc);
	r = nc->flags & NC_CLOSED ? -EBADF : nc_bind_locked(nc, ip, port);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_connect(struct shunt_netconn *nc, uint32_t ip, uint16_t port)
{
	int r;

	NC_ENTER(nc);
	r = nc_connect_locked(nc, ip, port);
	NC_LEAVE(nc);
	return r;
}

int
nc_listen_locked(struct shunt_netconn *nc, int backlog)
{
	int r;

	if (nc->type != SHUNT_NETCONN_TCP)
		return -EOPNOTSUPP;
	/* somaxconn bounds it; a negative backlog is a huge one. */
	if (backlog < 0 || backlog > 4096)
		backlog = 4096;
	if (nc->flags & (NC_SS_CONNECTING | NC_SS_CONNECTED))
		return -EINVAL;
	if (nc->flags & NC_LISTENING)
		return shunt_tcp_listen(nc->pcb.tcp, backlog + 1);	/* again: only the backlog changes */
	if (nc->flags & (NC_CONNECTED | NC_CONNECTING))
		return -EINVAL;
	if ((nc->pcb.tcp == NULL || (nc->flags & NC_DEAD)) && (r = nc_tcp_fresh(nc)) != 0)
		return r;
	/* Linux admits one connection more than the backlog (sk_acceptq_is_full uses >). */
	r = shunt_tcp_listen(nc->pcb.tcp, backlog + 1);
	if (r == 0) {
		shunt_tcp_accept(nc->pcb.tcp, tcp_accept_cb);
		nc->flags |= NC_LISTENING | NC_BOUND;
		nc->flags &= ~(uint32_t)NC_RD_SHUT;
	}
	return r;
}

int
shunt_netconn_listen(struct shunt_netconn *nc, int backlog)
{
	int r;

	NC_ENTER(nc);
	r = nc_listen_locked(nc, backlog);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_accept(struct shunt_netconn *nc, struct shunt_netconn **newconn)
{
	int r;

	NC_ENTER(nc);
	r = nc_accept_locked(nc, newconn);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_recv(struct shunt_netconn *nc, void *buf, uint32_t len, int flags, uint32_t *ip, uint16_t *port)
{
	uint32_t dlen = 0;
	int r;

	NC_ENTER(nc);
	r = nc_recv_locked(nc, buf, len, flags, ip, port, &dlen);
	NC_LEAVE(nc);
	if (r >= 0 && (flags & SHUNT_NC_TRUNC) && nc->type == SHUNT_NETCONN_UDP)
		r = (int)dlen;
	return r;
}

int
shunt_netconn_recv_pbuf(struct shunt_netconn *nc, struct shunt_pbuf **pp, uint32_t max, int flags, uint32_t *ip,
    uint16_t *port)
{
	uint64_t deadline;
	int r;

	NC_ENTER(nc);
	deadline = sys_deadline(nc->rcv_timeout_ms);
	for (;;) {
		struct shunt_pbuf *p = nc->rq_head;

		if (p != NULL) {
			uint32_t n = p->tot_len - nc->rq_off;

			if (nc->type == SHUNT_NETCONN_TCP && (nc->rq_off > 0 || n > max)) {
				/* Hand out a slice: the queue keeps the rest. */
				struct shunt_pbuf *sl;

				if (n > max)
					n = max;
				sl = shunt_pbuf_slice(nc->sys->stack, p, nc->rq_off, n);
				if (sl == NULL) {
					r = -ENOBUFS;
					break;
				}
				nc->rq_off += n;
				if (nc->rq_off == p->tot_len) {
					nc->rq_head = p->qnext;
					if (nc->rq_head == NULL)
						nc->rq_tail = NULL;
					nc->rq_bytes -= p->tot_len;
					nc->rq_count--;
					nc->rq_off = 0;
					p->qnext = NULL;
					shunt_pbuf_free(p);
				}
				*pp = sl;
			} else {
				nc->rq_head = p->qnext;
				if (nc->rq_head == NULL)
					nc->rq_tail = NULL;
				nc->rq_bytes -= p->tot_len;
				nc->rq_count--;
				p->qnext = NULL;
				if (ip != NULL)
					*ip = p->cb[0];
				if (port != NULL)
					*port = (uint16_t)p->cb[1];
				*pp = p;
			}
			if (nc->type == SHUNT_NETCONN_TCP && nc->pcb.tcp != NULL)
				shunt_tcp_recved(nc->pcb.tcp, n);
			r = (int)n;
			break;
		}
		if (nc->err != 0) {
			r = -nc->err;
			nc->err = 0;
			break;
		}
		if (nc->flags & (NC_EOF | NC_DEAD | NC_RD_SHUT)) {
			r = 0;
			*pp = NULL;
			break;
		}
		if ((nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT)) {
			r = -EAGAIN;
			break;
		}
		r = wait_for(nc, deadline);
		if (r != 0) {
			if (r == -ETIMEDOUT)
				r = -EAGAIN;
			break;
		}
	}
	NC_LEAVE(nc);
	return r;
}

void
shunt_netconn_free_pbuf(struct shunt_netconn *nc, struct shunt_pbuf *p)
{
	pthread_mutex_lock(&nc->sys->lock);
	shunt_pbuf_free(p);
	pthread_mutex_unlock(&nc->sys->lock);
}

int
shunt_netconn_write(struct shunt_netconn *nc, const void *data, uint32_t len, int flags)
{
	struct iovec v = { (void *)(uintptr_t)data, len };
	int r;

	NC_ENTER(nc);
	r = nc->flags & NC_CLOSED ? -EBADF : nc_write_locked(nc, &v, 1, flags);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_write_pbuf(struct shunt_netconn *nc, struct shunt_pbuf *p, int flags)
{
	uint64_t deadline;
	int r;

	NC_ENTER(nc);
	deadline = sys_deadline(nc->snd_timeout_ms);
	for (;;) {
		if (nc->flags & NC_CLOSED) {
			r = -EBADF;
			break;
		}
		if (nc->type != SHUNT_NETCONN_TCP || nc->pcb.tcp == NULL || !(nc->flags & NC_CONNECTED)) {
			r = nc->type != SHUNT_NETCONN_TCP ? -EOPNOTSUPP : tcp_write_error(nc);
			break;
		}
		r = shunt_tcp_write_pbuf(nc->pcb.tcp, p, (flags & SHUNT_NC_MORE) ? SHUNT_TCP_WRITE_MORE : 0);
		if (r != -EAGAIN)
			break;
		if ((nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT))
			break;
		r = wait_for(nc, deadline);
		if (r != 0) {
			if (r == -ETIMEDOUT)
				r = -EAGAIN;
			break;
		}
	}
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_sendto(struct shunt_netconn *nc, const void *data, uint32_t len, uint32_t ip, uint16_t port, int flags)
{
	struct iovec v = { (void *)(uintptr_t)data, len };
	int r;

	NC_ENTER(nc);
	r = nc->flags & NC_CLOSED ? -EBADF : nc_sendto_locked(nc, &v, 1, ip, port, flags);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_shutdown(struct shunt_netconn *nc, int rd, int wr)
{
	int r;

	NC_ENTER(nc);
	r = nc_shutdown_locked(nc, rd, wr);
	NC_LEAVE(nc);
	return r;
}

int
shunt_netconn_getaddr(struct shunt_netconn *nc, int local, uint32_t *ip, uint16_t *port)
{
	int r = 0;

	NC_ENTER(nc);
	*ip = 0;
	*port = 0;
	if (nc->pcb.any == NULL)
		r = local ? 0 : -ENOTCONN;
	else if (nc->type == SHUNT_NETCONN_TCP && local)
		shunt_tcp_local(nc->pcb.tcp, ip, port);
	else if (nc->type == SHUNT_NETCONN_TCP)
		shunt_tcp_remote(nc->pcb.tcp, ip, port);
	else if (local)
		shunt_udp_local(nc->pcb.udp, ip, port);
	else
		shunt_udp_remote(nc->pcb.udp, ip, port);
	if (r == 0 && !local && *port == 0)
		r = -ENOTCONN;
	if (r == 0 && !local && nc->type == SHUNT_NETCONN_TCP && !(nc->flags & NC_CONNECTED))
		r = -ENOTCONN;
	NC_LEAVE(nc);
	return r;
}

void
shunt_netconn_set_nonblocking(struct shunt_netconn *nc, int on)
{
	pthread_mutex_lock(&nc->sys->lock);
	if (on)
		nc->flags |= NC_NONBLOCK;
	else
		nc->flags &= ~(uint32_t)NC_NONBLOCK;
	pthread_mutex_unlock(&nc->sys->lock);
}

int
shunt_netconn_is_nonblocking(struct shunt_netconn *nc)
{
	return (nc->flags & NC_NONBLOCK) != 0;
}

void
shunt_netconn_set_recv_timeout(struct shunt_netconn *nc, uint32_t ms)
{
	nc->rcv_timeout_ms = ms;
}

void
shunt_netconn_set_send_timeout(struct shunt_netconn *nc, uint32_t ms)
{
	nc->snd_timeout_ms = ms;
}

int
shunt_netconn_err(struct shunt_netconn *nc)
{
	int e;

	pthread_mutex_lock(&nc->sys->lock);
	e = nc->err;
	nc->err = 0;
	pthread_mutex_unlock(&nc->sys->lock);
	return -e;
}

uint32_t
shunt_netconn_pending(struct shunt_netconn *nc)
{
	uint32_t n;

	pthread_mutex_lock(&nc->sys->lock);
	if (nc->type == SHUNT_NETCONN_UDP)
		n = nc->rq_head != NULL ? nc->rq_head->tot_len : 0;
	else
		n = nc->rq_bytes - nc->rq_off;
	pthread_mutex_unlock(&nc->sys->lock);
	return n;
}

void *
shunt_netconn_pcb(struct shunt_netconn *nc)
{
	return nc->pcb.any;
}

struct shunt_sys *
shunt_netconn_sys(struct shunt_netconn *nc)
{
	return nc->sys;
}
