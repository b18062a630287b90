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
nc_event(struct shunt_netconn *nc)
{
	waitq_wake(&nc->wq);
	if (nc->on_event != NULL)
		nc->on_event(nc);
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
	if (p == NULL) {
		nc->flags |= NC_EOF;
	} else if (nc->flags & NC_RD_SHUT) {
		/* shutdown(SHUT_RD): what still arrives is acknowledged and dropped. */
		shunt_tcp_recved(pcb, p->tot_len);
		shunt_pbuf_free(p);
		return 0;
	} else {
		rq_append(nc, p);
	}
	nc_event(nc);
	return 0;
}

static int
tcp_sent_cb(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	(void)pcb;
	(void)len;
	nc_event(arg);
	return 0;
}

static void
tcp_err_cb(void *arg, int err)
{
	struct shunt_netconn *nc = arg;

	nc->pcb.tcp = NULL;
	nc->flags |= NC_DEAD;
	nc->flags &= (uint16_t)~NC_CONNECTING;
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
	nc->flags &= (uint16_t)~NC_CONNECTING;
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
	c->flags = NC_CONNECTED | NC_EVER_CONNECTED | NC_BOUND;
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
	nc_event(lnc);
	return 0;
}

static void
udp_recv_cb(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	struct shunt_netconn *nc = arg;

	(void)pcb;
	if ((nc->flags & NC_RD_SHUT) || nc->rq_bytes + p->tot_len > nc->rcvbuf) {
		nc->rq_drops++;		/* a full socket buffer drops, as on Linux */
		shunt_pbuf_free(p);
		return;
	}
	p->cb[0] = ip;
	p->cb[1] = port;
	rq_append(nc, p);
	nc_event(nc);
}

static void
udp_err_cb(void *arg, struct shunt_udp_pcb *pcb, int err)
{
	struct shunt_netconn *nc = arg;

	(void)pcb;
	nc->err = -err;
	nc_event(nc);
}

/* ---- readiness (Linux's tcp_poll / udp_poll rules) ---- */

uint32_t
nc_poll_events(struct shunt_netconn *nc)
{
	uint32_t ev = 0;

	if (nc->err != 0)
		ev |= EPOLLERR;
	if (nc->type == SHUNT_NETCONN_UDP) {
		if (nc->rq_count > 0)
			ev |= EPOLLIN | EPOLLRDNORM;
		ev |= EPOLLOUT | EPOLLWRNORM;
		return ev;
	}
	if (nc->flags & NC_LISTENING)
		return ev | (nc->aq_len > 0 ? EPOLLIN | EPOLLRDNORM : 0);
	if ((nc->flags & (NC_DEAD | NC_CONNECTED | NC_CONNECTING)) == 0) {
		/* A socket that never connected: Linux reports it writable and hung up. */
		return ev | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	}
	if ((nc->flags & NC_DEAD) || ((nc->flags & (NC_EOF | NC_RD_SHUT)) && (nc->flags & NC_WR_SHUT)))
		ev |= EPOLLHUP;
	if (nc->flags & (NC_EOF | NC_RD_SHUT))
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (nc->rq_bytes > 0 && nc->rq_bytes - nc->rq_off >= (nc->lowat ? nc->lowat : 1))
		ev |= EPOLLIN | EPOLLRDNORM;
	if (nc->flags & NC_DEAD) {
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
	} else if ((nc->flags & NC_CONNECTED) && !(nc->flags & NC_WR_SHUT)) {
		/* Writable once the free space is at least half what is queued (sk_stream_is_writeable). */
		uint32_t freebytes = nc->pcb.tcp != NULL ? shunt_tcp_sndbuf(nc->pcb.tcp) : 0;
		uint32_t queued = nc->pcb.tcp != NULL ? shunt_tcp_outq(nc->pcb.tcp) : 0;

		if (freebytes > 0 && freebytes >= queued / 2)
			ev |= EPOLLOUT | EPOLLWRNORM;
	} else if (nc->flags & NC_WR_SHUT) {
		ev |= EPOLLOUT | EPOLLWRNORM;
	}
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

/* Copies out of the receive queue from its read offset; consumes unless peek. */
static uint32_t
rq_take(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, uint32_t max, int peek)
{
	struct shunt_pbuf *p = nc->rq_head;
	uint32_t off = nc->rq_off, done = 0;
	int vi = 0;
	size_t vo = 0;

	while (p != NULL && done < max && vi < iovcnt) {
		uint32_t avail = p->tot_len - off, room = (uint32_t)(iov[vi].iov_len - vo), n;

		if (room == 0) {
			vi++;
			vo = 0;
			continue;
		}
		n = avail < room ? avail : room;
		if (n > max - done)
			n = max - done;
		shunt_pbuf_copy_out(p, off, (uint8_t *)iov[vi].iov_base + vo, n);
		done += n;
		vo += n;
		off += n;
		if (off == p->tot_len) {
			struct shunt_pbuf *next = p->qnext;

			if (!peek) {
				nc->rq_head = next;
				if (next == NULL)
					nc->rq_tail = NULL;
				nc->rq_bytes -= p->tot_len;
				nc->rq_count--;
				p->qnext = NULL;
				shunt_pbuf_free(p);
			}
			p = next;
			off = 0;
		}
	}
	if (!peek)
		nc->rq_off = nc->rq_head != NULL ? off : 0;
	return done;
}

int
nc_recv_iov_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags, uint32_t *ip,
    uint16_t *port, uint32_t *dgram_len)
{
	uint64_t deadline = sys_deadline(nc->rcv_timeout_ms);
	uint32_t want = 0, got = 0;
	int i, r, nonblock = (nc->flags & NC_NONBLOCK) || (flags & SHUNT_NC_DONTWAIT);

	for (i = 0; i < iovcnt; i++)
		want += (uint32_t)iov[i].iov_len;
	if (nc->type == SHUNT_NETCONN_UDP) {
		for (;;) {
			struct shunt_pbuf *p = nc->rq_head;

			if (p != NULL) {
				uint32_t n;

				if (ip != NULL)
					*ip = p->cb[0];
				if (port != NULL)
					*port = (uint16_t)p->cb[1];
				if (dgram_len != NULL)
					*dgram_len = p->tot_len;
				n = rq_take(nc, iov, iovcnt, want, 1);
				if (!(flags & SHUNT_NC_PEEK)) {
					nc->rq_head = p->qnext;
					if (nc->rq_head == NULL)
						nc->rq_tail = NULL;
					nc->rq_bytes -= p->tot_len;
					nc->rq_count--;
					nc->rq_off = 0;
					p->qnext = NULL;
					shunt_pbuf_free(p);
				}
				return (int)n;
			}
			if (nc->err != 0) {
				r = -nc->err;
				nc->err = 0;
				return r;
			}
			if (nc->flags & NC_RD_SHUT)
				return 0;
			if (nonblock)
				return -EAGAIN;
			r = wait_for(nc, deadline);
			if (r == -ETIMEDOUT)
				return -EAGAIN;
			if (r != 0)
				return r;
		}
	}
	if (nc->flags & NC_LISTENING)
		return -ENOTCONN;
	for (;;) {
		uint32_t ready = nc->rq_bytes - nc->rq_off;

		if (ready > 0 && (ready >= (nc->lowat ? nc->lowat : 1) || (nc->flags & (NC_EOF | NC_DEAD)) ||
		    (flags & SHUNT_NC_PEEK))) {
			uint32_t n;
			struct iovec sub[64];
			int k, cnt = 0;
			size_t skip = got;

			/* Continue filling the caller's buffers where the last pass stopped (MSG_WAITALL). */
			for (k = 0; k < iovcnt && cnt < 64; k++) {
				if (skip >= iov[k].iov_len) {
					skip -= iov[k].iov_len;
					continue;
				}
				sub[cnt].iov_base = (uint8_t *)iov[k].iov_base + skip;
				sub[cnt].iov_len = iov[k].iov_len - skip;
				skip = 0;
				cnt++;
			}
			n = rq_take(nc, sub, cnt, want - got, flags & SHUNT_NC_PEEK);
			got += n;
			if (!(flags & SHUNT_NC_PEEK) && nc->pcb.tcp != NULL)
				shunt_tcp_recved(nc->pcb.tcp, n);
			if (got == want || !(flags & SHUNT_NC_WAITALL) || (flags & SHUNT_NC_PEEK))
				return (int)got;
			continue;
		}
		if (got > 0 && (nc->flags & (NC_EOF | NC_DEAD | NC_RD_SHUT)))
			return (int)got;
		if (nc->err != 0) {
			if (got > 0)
				return (int)got;
			r = -nc->err;
			nc->err = 0;
			return r;
		}
		if (nc->flags & (NC_EOF | NC_DEAD | NC_RD_SHUT))
			return (int)got;
		if (!(nc->flags & (NC_CONNECTED | NC_CONNECTING)))
			return -ENOTCONN;
		if (want == 0)
			return 0;
		if (nonblock)
			return got > 0 ? (int)got : -EAGAIN;
		r = wait_for(nc, deadline);
		if (r == -ETIMEDOUT)
			return got > 0 ? (int)got : -EAGAIN;
		if (r != 0)
			return got > 0 ? (int)got : r;
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
	if (nc->err != 0) {
		r = -nc->err;
		nc->err = 0;
		return r;
	}
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

int
nc_connect_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port)
{
	uint64_t deadline;
	int r;

	if (nc->type == SHUNT_NETCONN_UDP) {
		r = shunt_udp_connect(nc->pcb.udp, ip, port);
		if (r == 0)
			nc->flags |= NC_BOUND | (ip != 0 ? NC_CONNECTED : 0);
		if (ip == 0)
			nc->flags &= (uint16_t)~NC_CONNECTED;
		return r;
	}
	if (nc->flags & NC_LISTENING)
		return -EISCONN;
	if (nc->flags & NC_CONNECTED)
		return -EISCONN;
	if (nc->flags & NC_CONNECTING) {
		if (nc->flags & NC_NONBLOCK)
			return -EALREADY;
	} else {
		if (nc->pcb.tcp == NULL || (nc->flags & NC_DEAD)) {
			if (nc->flags & NC_EVER_CONNECTED)
				return -EISCONN;
			/* A failed attempt left no PCB: start afresh, as Linux reuses the socket. */
			nc->pcb.tcp = shunt_tcp_new(nc->sys->stack);
			if (nc->pcb.tcp == NULL)
				return -ENOBUFS;
			tcp_hook(nc, nc->pcb.tcp);
			nc->flags &= (uint16_t)~NC_DEAD;
			if (nc->owner != NULL)
				sock_apply_opts(nc->owner);
		}
		nc->err = 0;
		r = shunt_tcp_connect(nc->pcb.tcp, ip, port, tcp_connected_cb);
		if (r != 0)
			return r;
		nc->flags |= NC_CONNECTING | NC_BOUND;
		nc_event(nc);
		if (nc->flags & NC_NONBLOCK)
			return -EINPROGRESS;
	}
	deadline = sys_deadline(nc->snd_timeout_ms);
	while (nc->flags & NC_CONNECTING) {
		r = wait_for(nc, deadline);
		if (r == -ETIMEDOUT)
			return -EINPROGRESS;
		if (r != 0)
			return r;
	}
	if (nc->flags & NC_CONNECTED)
		return 0;
	r = nc->err != 0 ? -nc->err : -ECONNREFUSED;
	nc->err = 0;
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

int
nc_shutdown_locked(struct shunt_netconn *nc, int rd, int wr)
{
	int r = 0;

	if (nc->type == SHUNT_NETCONN_UDP) {
		if (rd)
			nc->flags |= NC_RD_SHUT;
		if (wr)
			nc->flags |= NC_WR_SHUT;
		nc_event(nc);
		return 0;
	}
	if (nc->flags & NC_LISTENING) {
		/* Linux: shutdown on a listener stops it; blocked accept()s return EINVAL. */
		if (rd && nc->pcb.tcp != NULL) {
			nc->flags &= (uint16_t)~NC_LISTENING;
			nc->flags |= NC_RD_SHUT;
			nc_event(nc);
		}
		return 0;
	}
	if (!(nc->flags & (NC_CONNECTED | NC_CONNECTING)) && !(nc->flags & NC_DEAD))
		return -ENOTCONN;
	if (rd) {
		nc->flags |= NC_RD_SHUT;
		if (nc->pcb.tcp != NULL && nc->rq_bytes > nc->rq_off)
			shunt_tcp_recved(nc->pcb.tcp, nc->rq_bytes - nc->rq_off);
		rq_free(nc);
	}
	if (wr && !(nc->flags & NC_WR_SHUT)) {
		nc->flags |= NC_WR_SHUT;
		if (nc->pcb.tcp != NULL)
			r = shunt_tcp_shutdown(nc->pcb.tcp, 0, 1);
	}
	nc_event(nc);
	return r == -ENOTCONN ? 0 : r;
}

int
nc_close_locked(struct shunt_netconn *nc)
{
	struct shunt_netconn *c;

	if (nc->flags & NC_CLOSED)
		return -EBADF;
	nc->flags |= NC_CLOSED;
	nc->on_event = NULL;
	nc->owner = NULL;
	if (nc->type == SHUNT_NETCONN_UDP) {
		shunt_udp_remove(nc->pcb.udp);
		nc->pcb.udp = NULL;
	} else {
		/* Connections nobody accepted go with their listener. */
		while ((c = nc->aq_head) != NULL) {
			nc->aq_head = c->aq_next;
			c->aq_next = NULL;
			c->refs = 1;
			if (c->pcb.tcp != NULL) {
				struct shunt_tcp_pcb *pcb = c->pcb.tcp;

				c->pcb.tcp = NULL;
				shunt_tcp_err(pcb, NULL);
				shunt_tcp_abort(pcb);
			}
			c->flags |= NC_CLOSED;
			nc_unref(c);
		}
		nc->aq_tail = NULL;
		nc->aq_len = 0;
		if (nc->pcb.tcp != NULL) {
			struct shunt_tcp_pcb *pcb = nc->pcb.tcp;
			int abortive = (nc->rq_bytes > nc->rq_off) || (nc->linger_on && nc->linger_s == 0);

			if (!abortive && nc->linger_on && !(nc->flags & NC_NONBLOCK) && (nc->flags & NC_CONNECTED)) {
				/* SO_LINGER: wait (bounded) until what we sent is acknowledged. */
				uint64_t deadline = sys_deadline((uint32_t)nc->linger_s * 1000u);

				nc->flags &= (uint16_t)~NC_CLOSED;
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
	if (nc->flags & NC_CLOSED)
		r = -EBADF;
	else if (nc->type == SHUNT_NETCONN_TCP)
		r = nc->pcb.tcp != NULL ? shunt_tcp_bind(nc->pcb.tcp, ip, port) : -EINVAL;
	else
		r = shunt_udp_bind(nc->pcb.udp, ip, port);
	if (r == 0)
		nc->flags |= NC_BOUND;
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
	if (nc->pcb.tcp == NULL || (nc->flags & (NC_CONNECTED | NC_CONNECTING | NC_DEAD)))
		return -EINVAL;
	/* Linux admits one connection more than the backlog (sk_acceptq_is_full uses >). */
	r = shunt_tcp_listen(nc->pcb.tcp, backlog + 1);
	if (r == 0) {
		shunt_tcp_accept(nc->pcb.tcp, tcp_accept_cb);
		nc->flags |= NC_LISTENING | NC_BOUND;
		nc->flags &= (uint16_t)~NC_RD_SHUT;
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
		nc->flags &= (uint16_t)~NC_NONBLOCK;
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
