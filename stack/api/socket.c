/*
 * The socket API: BSD calls with Linux semantics and errno, on netconn.
 * Below: netconn.c (*_locked operations), sockopt.c, epoll.c.  Above: the
 * application, or the preload shim.
 *
 * Descriptors are real kernel descriptors: an eventfd stands in for each
 * socket (or the preload shim hands us a kernel socket's number), so shunt
 * sockets share the process's descriptor space.  The table from descriptor to
 * socket lives in the sys, two levels deep so it grows without moving.
 * Every call: lock, look up, take a reference on the netconn, operate (maybe
 * waiting, which drops the lock), release, flush transmit batches, unlock,
 * and turn -errno into -1 + errno once, here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "priv/api.h"
#include "priv/stack.h"
#include "priv/tcp.h"

struct shunt_sock *
sock_lookup(struct shunt_sys *sys, int fd)
{
	struct shunt_sock **chunk;

	if (fd < 0 || fd >= FDTAB_CHUNKS * FDTAB_CHUNK)
		return NULL;
	chunk = atomic_load_explicit(&sys->fdtab[fd / FDTAB_CHUNK], memory_order_acquire);
	return chunk != NULL ? chunk[fd % FDTAB_CHUNK] : NULL;
}

int
sock_install(struct shunt_sys *sys, struct shunt_sock *sk)
{
	int fd = sk->fd;
	struct shunt_sock **chunk;

	if (fd < 0 || fd >= FDTAB_CHUNKS * FDTAB_CHUNK)
		return -EMFILE;
	chunk = atomic_load(&sys->fdtab[fd / FDTAB_CHUNK]);
	if (chunk == NULL) {
		chunk = calloc(FDTAB_CHUNK, sizeof(*chunk));
		if (chunk == NULL)
			return -ENOMEM;
		atomic_store_explicit(&sys->fdtab[fd / FDTAB_CHUNK], chunk, memory_order_release);
	}
	if (chunk[fd % FDTAB_CHUNK] != NULL)
		return -EEXIST;
	chunk[fd % FDTAB_CHUNK] = sk;
	return 0;
}

void
sock_uninstall(struct shunt_sys *sys, struct shunt_sock *sk)
{
	struct shunt_sock **chunk = atomic_load(&sys->fdtab[sk->fd / FDTAB_CHUNK]);

	if (chunk != NULL && chunk[sk->fd % FDTAB_CHUNK] == sk)
		chunk[sk->fd % FDTAB_CHUNK] = NULL;
}

static void
sock_on_event(struct shunt_netconn *nc, uint32_t key)
{
	if (nc->owner != NULL)
		sock_event(nc->owner, key);
}

uint32_t
sock_poll_events(struct shunt_sock *sk)
{
	if (sk->kind == SOCK_KIND_EPOLL)
		return sk->ep->ready != NULL ? EPOLLIN | EPOLLRDNORM : 0;
	return nc_poll_events(sk->nc);
}

int
shunt_is_socket(struct shunt_sys *sys, int fd)
{
	struct shunt_sock *sk = sock_lookup(sys, fd);

	return sk != NULL && sk->kind == SOCK_KIND_NET;
}

int
shunt_is_epoll(struct shunt_sys *sys, int fd)
{
	struct shunt_sock *sk = sock_lookup(sys, fd);

	return sk != NULL && sk->kind == SOCK_KIND_EPOLL;
}

static int
type_of(int type, int protocol, int *nctype)
{
	switch (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
	case SOCK_STREAM:
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		*nctype = SHUNT_NETCONN_TCP;
		return 0;
	case SOCK_DGRAM:
		if (protocol != 0 && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		*nctype = SHUNT_NETCONN_UDP;
		return 0;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

/* Builds a socket around kernel descriptor fd; the lock is held. */
static int
sock_create_locked(struct shunt_sys *sys, int fd, int own_fd, int domain, int type, int protocol,
    struct shunt_netconn *nc)
{
	struct shunt_sock *sk;
	int nctype = 0, r;

	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	r = type_of(type, protocol, &nctype);
	if (r != 0)
		return r;
	sk = calloc(1, sizeof(*sk));
	if (sk == NULL)
		return -ENOMEM;
	if (nc == NULL) {
		nc = nc_new_locked(sys, nctype, &r);
		if (nc == NULL) {
			free(sk);
			return r;
		}
	}
	sk->fd = fd;
	sk->own_fd = (uint8_t)own_fd;
	sk->kind = SOCK_KIND_NET;
	sk->domain = domain;
	sk->type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	sk->protocol = protocol != 0 ? protocol : (nctype == SHUNT_NETCONN_TCP ? IPPROTO_TCP : IPPROTO_UDP);
	sk->nc = nc;
	sk->ttl = -1;
	nc->owner = sk;
	nc->on_event = sock_on_event;
	if (type & SOCK_NONBLOCK) {
		sk->fl |= O_NONBLOCK;
		nc->flags |= NC_NONBLOCK;
	}
	r = sock_install(sys, sk);
	if (r != 0) {
		nc->owner = NULL;
		nc->on_event = NULL;
		free(sk);
		return r;
	}
	return fd;
}

int
shunt_socket(struct shunt_sys *sys, int domain, int type, int protocol)
{
	int fd, r, nctype;

	/* Linux's order: unknown flags, then the family, then the type's range, then the protocol. */
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
		return set_errno_ret(-EINVAL);
	if (domain != AF_INET)
		return set_errno_ret(-EAFNOSUPPORT);	/* shunt has no IPv6 (or other families) */
	if ((type & 0xf) >= 11)				/* SOCK_MAX */
		return set_errno_ret(-EINVAL);
	r = type_of(type, protocol, &nctype);
	if (r != 0)
		return set_errno_ret(r);
	fd = eventfd(0, EFD_NONBLOCK | ((type & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&sys->lock);
	r = sock_create_locked(sys, fd, 1, domain, type, protocol, NULL);
	pthread_mutex_unlock(&sys->lock);
	if (r < 0)
		close(fd);
	return set_errno_ret(r);
}

int
shunt_socket_on_fd(struct shunt_sys *sys, int fd, int domain, int type, int protocol)
{
	int r;

	pthread_mutex_lock(&sys->lock);
	r = sock_create_locked(sys, fd, 1, domain, type, protocol, NULL);
	pthread_mutex_unlock(&sys->lock);
	return set_errno_ret(r);
}

/* ---- the call frame ---- */

struct call {
	struct shunt_sys *sys;
	struct shunt_sock *sk;
	struct shunt_netconn *nc;
};

static int
enter(struct call *c, struct shunt_sys *sys, int fd)
{
	c->sys = sys;
	pthread_mutex_lock(&sys->lock);
	c->sk = sock_lookup(sys, fd);
	if (c->sk == NULL) {
		pthread_mutex_unlock(&sys->lock);
		return -EBADF;
	}
	if (c->sk->kind != SOCK_KIND_NET) {
		pthread_mutex_unlock(&sys->lock);
		return -ENOTSOCK;
	}
	stack_refresh_now(sys->stack);
	c->nc = c->sk->nc;
	nc_ref(c->nc);
	return 0;
}

static int
leave(struct call *c, int r)
{
	nc_unref(c->nc);
	netif_flush_all(c->sys->stack);
	pthread_mutex_unlock(&c->sys->lock);
	return set_errno_ret(r);
}

/* How AF_UNSPEC is taken: each call has its own old rule. */
enum unspec_rule {
	UNSPEC_NO,		/* EAFNOSUPPORT */
	UNSPEC_DISCONNECT,	/* connect(): returns 1, the caller dissolves the association */
	UNSPEC_IF_ANY,		/* bind(): AF_INET if the address is INADDR_ANY (inet_bind) */
	UNSPEC_AS_INET,		/* sendto() on UDP: AF_INET (udp_sendmsg) */
};

static int
addr_in(const struct sockaddr *a, socklen_t len, uint32_t *ip, uint16_t *port, enum unspec_rule unspec)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)a;

	if (a == NULL)
		return -EFAULT;
	if ((int)len < (int)sizeof(sa_family_t) || len > 128)
		return -EINVAL;
	if (unspec == UNSPEC_DISCONNECT && a->sa_family == AF_UNSPEC) {
		*ip = 0;
		*port = 0;
		return 1;
	}
	if (len < (socklen_t)sizeof(*sin))
		return -EINVAL;
	if (a->sa_family != AF_INET &&
	    !(a->sa_family == AF_UNSPEC && unspec == UNSPEC_IF_ANY && sin->sin_addr.s_addr == htonl(INADDR_ANY)) &&
	    !(a->sa_family == AF_UNSPEC && unspec == UNSPEC_AS_INET))
		return -EAFNOSUPPORT;
	*ip = sin->sin_addr.s_addr;
	*port = sin->sin_port;
	return 0;
}

static void
addr_out(struct sockaddr *a, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sin;
	socklen_t n;

	if (a == NULL || len == NULL)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = ip;
	sin.sin_port = port;
	n = *len < (socklen_t)sizeof(sin) ? *len : (socklen_t)sizeof(sin);
	memcpy(a, &sin, n);
	*len = sizeof(sin);
}

/* ---- calls ---- */

int
shunt_bind(struct shunt_sys *sys, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct call c;
	uint32_t ip;
	uint16_t port;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	r = addr_in(addr, len, &ip, &port, UNSPEC_IF_ANY);
	if (r == 0)
		r = nc_bind_locked(c.nc, ip, port);
	return leave(&c, r);
}

int
shunt_listen(struct shunt_sys *sys, int fd, int backlog)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	r = nc_listen_locked(c.nc, backlog);
	return leave(&c, r);
}

int
shunt_accept4(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct shunt_netconn *child = NULL;
	struct call c;
	int r = enter(&c, sys, fd), nfd;
	uint32_t ip = 0;
	uint16_t port = 0;

	if (r != 0)
		return set_errno_ret(r);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return leave(&c, -EINVAL);
	if (c.nc->type != SHUNT_NETCONN_TCP)
		return leave(&c, -EOPNOTSUPP);
	/* The descriptor first, as Linux does: without one (EMFILE) the connection stays queued. */
	nfd = eventfd(0, EFD_NONBLOCK | ((flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
	if (nfd < 0)
		return leave(&c, -errno);
	r = nc_accept_locked(c.nc, &child);
	if (r != 0) {
		close(nfd);
		return leave(&c, r);
	}
	r = sock_create_locked(sys, nfd, 1, AF_INET, SOCK_STREAM | (flags & SOCK_NONBLOCK), IPPROTO_TCP, child);
	if (r < 0) {
		close(nfd);
		nc_close_locked(child);
		return leave(&c, r);
	}
	sock_inherit_opts(child->owner, c.sk);
	if (child->pcb.tcp != NULL)
		shunt_tcp_remote(child->pcb.tcp, &ip, &port);
	addr_out(addr, len, ip, port);
	/* Readiness events queued before the socket existed must reach epoll now. */
	sock_event(child->owner, 0);
	return leave(&c, nfd);
}

int
shunt_accept(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len)
{
	return shunt_accept4(sys, fd, addr, len, 0);
}

int
shunt_connect(struct shunt_sys *sys, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct call c;
	uint32_t ip = 0;
	uint16_t port = 0;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	r = addr_in(addr, len, &ip, &port, UNSPEC_DISCONNECT);
	if (r == 1)
		return leave(&c, nc_disconnect_locked(c.nc));
	if (r == -EFAULT || (r == -EINVAL && ((int)len < (int)sizeof(sa_family_t) || len > 128)))
		return leave(&c, r);	/* copying the address in failed: before anything else */
	if (r == 0 && (ip == 0 || port == 0) && c.nc->type == SHUNT_NETCONN_TCP)
		r = -ECONNREFUSED;	/* nothing listens on port 0, and shunt has no loopback for 0.0.0.0 */
	r = nc_connect_addr_locked(c.nc, ip, port, r);
	return leave(&c, r);
}

static void
sigpipe_unless(int flags, int r)
{
	/* EPIPE on a stream socket raises SIGPIPE unless MSG_NOSIGNAL, as the kernel does. */
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
}

static int
nc_flags(const struct call *c, int flags)
{
	int f = 0;

	(void)c;
	if (flags & MSG_DONTWAIT)
		f |= SHUNT_NC_DONTWAIT;
	if (flags & MSG_MORE)
		f |= SHUNT_NC_MORE;
	if (flags & MSG_PEEK)
		f |= SHUNT_NC_PEEK;
	if (flags & MSG_WAITALL)
		f |= SHUNT_NC_WAITALL;
	if (flags & MSG_TRUNC)
		f |= SHUNT_NC_TRUNC;
	return f;
}

static ssize_t
do_send(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt, int flags, const struct sockaddr *to,
    socklen_t tolen)
{
	struct call c;
	uint32_t ip = 0;
	uint16_t port = 0;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (to != NULL && c.nc->type == SHUNT_NETCONN_UDP) {
		r = addr_in(to, tolen, &ip, &port, UNSPEC_AS_INET);
		if (r == 0 && port == 0)
			r = -EINVAL;
		if (r != 0)
			return leave(&c, r);
	} else if (to != NULL && tolen > 128) {
		return leave(&c, -EINVAL);
	}
	/* A stream socket ignores the address of a sendto() (tcp_sendmsg never looks at it). */
	if (c.nc->type == SHUNT_NETCONN_TCP)
		r = nc_write_locked(c.nc, iov, iovcnt, nc_flags(&c, flags));
	else
		r = nc_sendto_locked(c.nc, iov, iovcnt, ip, port, nc_flags(&c, flags));
	if (c.nc->type == SHUNT_NETCONN_TCP)
		sigpipe_unless(flags, r);
	return leave(&c, r);
}

static ssize_t
do_recv(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt, int flags, struct sockaddr *from,
    socklen_t *fromlen, int *msg_flags)
{
	struct call c;
	uint32_t ip = 0, dlen = 0;
	uint16_t port = 0;
	int r = enter(&c, sys, fd);
	size_t want = 0;
	int i;

	if (r != 0)
		return set_errno_ret(r);
	for (i = 0; i < iovcnt; i++)
		want += iov[i].iov_len;
	r = nc_recv_iov_locked(c.nc, iov, iovcnt, nc_flags(&c, flags), &ip, &port, &dlen);
	if (r >= 0 && c.nc->type == SHUNT_NETCONN_UDP) {
		addr_out(from, fromlen, ip, port);
		if (dlen > want && msg_flags != NULL)
			*msg_flags |= MSG_TRUNC;
		if (flags & MSG_TRUNC)
			r = (int)dlen;
	} else if (r >= 0 && from != NULL && fromlen != NULL) {
		/* A stream socket leaves the address untouched but reports no length. */
		*fromlen = 0;
	}
	return leave(&c, r);
}

ssize_t
shunt_send(struct shunt_sys *sys, int fd, const void *buf, size_t len, int flags)
{
	struct iovec v = { (void *)(uintptr_t)buf, len };

	return do_send(sys, fd, &v, 1, flags, NULL, 0);
}

ssize_t
shunt_sendto(struct shunt_sys *sys, int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
    socklen_t tolen)
{
	struct iovec v = { (void *)(uintptr_t)buf, len };

	return do_send(sys, fd, &v, 1, flags, to, tolen);
}

ssize_t
shunt_write(struct shunt_sys *sys, int fd, const void *buf, size_t len)
{
	return shunt_send(sys, fd, buf, len, 0);
}

ssize_t
shunt_writev(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return set_errno_ret(-EINVAL);
	return do_send(sys, fd, iov, iovcnt, 0, NULL, 0);
}

ssize_t
shunt_sendmsg(struct shunt_sys *sys, int fd, const struct msghdr *msg, int flags)
{
	if (msg->msg_iovlen > IOV_MAX)
		return set_errno_ret(-EMSGSIZE);
	return do_send(sys, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name, msg->msg_namelen);
}

ssize_t
shunt_recv(struct shunt_sys *sys, int fd, void *buf, size_t len, int flags)
{
	struct iovec v = { buf, len };

	return do_recv(sys, fd, &v, 1, flags, NULL, NULL, NULL);
}

ssize_t
shunt_recvfrom(struct shunt_sys *sys, int fd, void *buf, size_t len, int flags, struct sockaddr *from,
    socklen_t *fromlen)
{
	struct iovec v = { buf, len };

	return do_recv(sys, fd, &v, 1, flags, from, fromlen, NULL);
}

/* read() of nothing returns at once, before the socket is asked (sock_read_iter). */
static int
read_nothing(struct shunt_sys *sys, int fd)
{
	struct call c;
	int r = enter(&c, sys, fd);

	return r != 0 ? set_errno_ret(r) : leave(&c, 0);
}

ssize_t
shunt_read(struct shunt_sys *sys, int fd, void *buf, size_t len)
{
	if (len == 0)
		return read_nothing(sys, fd);
	return shunt_recv(sys, fd, buf, len, 0);
}

ssize_t
shunt_readv(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return set_errno_ret(-EINVAL);
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total == 0)
		return read_nothing(sys, fd);
	return do_recv(sys, fd, iov, iovcnt, 0, NULL, NULL, NULL);
}

ssize_t
shunt_recvmsg(struct shunt_sys *sys, int fd, struct msghdr *msg, int flags)
{
	socklen_t namelen = msg->msg_namelen;
	ssize_t r;

	if (msg->msg_iovlen > IOV_MAX)
		return set_errno_ret(-EMSGSIZE);
	msg->msg_flags = 0;
	r = do_recv(sys, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
	    msg->msg_name != NULL ? &namelen : NULL, &msg->msg_flags);
	if (r >= 0) {
		msg->msg_namelen = msg->msg_name != NULL ? namelen : 0;
		msg->msg_controllen = 0;
	}
	return r;
}

int
shunt_sendmmsg(struct shunt_sys *sys, int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	unsigned int i;

	for (i = 0; i < vlen; i++) {
		ssize_t r = shunt_sendmsg(sys, fd, &vec[i].msg_hdr, flags);

		if (r < 0)
			return i > 0 ? (int)i : -1;
		vec[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

/*
 * recvmmsg() as do_recvmmsg does it: a blocking call fills the whole vector
 * unless MSG_WAITFORONE (non-blocking after the first) or the timeout, which
 * is looked at only after each datagram (the documented Linux bug).  An error
 * after some datagrams is kept for the next call, except EAGAIN.
 */
int
shunt_recvmmsg(struct shunt_sys *sys, int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout)
{
	uint64_t end = 0;
	unsigned int i = 0;
	int err = 0;

	if (timeout != NULL) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)
			return set_errno_ret(-EINVAL);
		end = sys_now() + (uint64_t)timeout->tv_sec * 1000000000ull + (uint64_t)timeout->tv_nsec;
	}
	if (vlen > 1024)
		vlen = 1024;	/* UIO_MAXIOV */
	while (i < vlen) {
		ssize_t r = shunt_recvmsg(sys, fd, &vec[i].msg_hdr, flags & ~MSG_WAITFORONE);

		if (r < 0) {
			err = errno;
			break;
		}
		vec[i].msg_len = (unsigned int)r;
		i++;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout != NULL) {
			uint64_t now = sys_now(), left = end > now ? end - now : 0;

			timeout->tv_sec = (time_t)(left / 1000000000ull);
			timeout->tv_nsec = (long)(left % 1000000000ull);
			if (left == 0)
				break;
		}
	}
	if (err == 0)
		return (int)i;
	if (i == 0)
		return set_errno_ret(-err);
	if (err != EAGAIN) {
		struct call c;

		if (enter(&c, sys, fd) == 0) {
			c.nc->err = err;
			leave(&c, 0);
		}
	}
	return (int)i;
}

int
shunt_close(struct shunt_sys *sys, int fd)
{
	struct shunt_sock *sk;
	int own;

	pthread_mutex_lock(&sys->lock);
	stack_refresh_now(sys->stack);
	sk = sock_lookup(sys, fd);
	if (sk == NULL) {
		pthread_mutex_unlock(&sys->lock);
		return set_errno_ret(-EBADF);
	}
	sock_uninstall(sys, sk);
	sk->closed = 1;
	epoll_sock_gone(sk);
	if (sk->kind == SOCK_KIND_NET)
		nc_close_locked(sk->nc);
	else
		epoll_destroy(sys, sk->ep);
	own = sk->own_fd;
	free(sk);
	netif_flush_all(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	if (own)
		close(fd);
	return 0;
}

int
shunt_socket_detach(struct shunt_sys *sys, int fd)
{
	struct shunt_sock *sk;

	pthread_mutex_lock(&sys->lock);
	sk = sock_lookup(sys, fd);
	if (sk != NULL)
		sk->own_fd = 0;
	pthread_mutex_unlock(&sys->lock);
	if (sk == NULL)
		return set_errno_ret(-EBADF);
	return shunt_close(sys, fd);
}

int
shunt_shutdown(struct shunt_sys *sys, int fd, int how)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return leave(&c, -EINVAL);
	r = nc_shutdown_locked(c.nc, how != SHUT_WR, how != SHUT_RD);
	return leave(&c, r);
}

static int
sockname(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len, int local)
{
	struct call c;
	uint32_t ip = 0;
	uint16_t port = 0;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (addr == NULL || len == NULL)
		return leave(&c, -EFAULT);
	if ((int)*len < 0)
		return leave(&c, -EINVAL);
	if (c.nc->pcb.any != NULL) {
		if (c.nc->type == SHUNT_NETCONN_TCP) {
			if (local)
				shunt_tcp_local(c.nc->pcb.tcp, &ip, &port);
			else
				shunt_tcp_remote(c.nc->pcb.tcp, &ip, &port);
		} else {
			if (local)
				shunt_udp_local(c.nc->pcb.udp, &ip, &port);
			else
				shunt_udp_remote(c.nc->pcb.udp, &ip, &port);
		}
	}
	if (!local && (port == 0 || (c.nc->type == SHUNT_NETCONN_TCP && !(c.nc->flags & NC_CONNECTED))))
		return leave(&c, -ENOTCONN);
	addr_out(addr, len, ip, port);
	return leave(&c, 0);
}

int
shunt_getsockname(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len)
{
	return sockname(sys, fd, addr, len, 1);
}

int
shunt_getpeername(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len)
{
	return sockname(sys, fd, addr, len, 0);
}

int
shunt_getsockopt(struct shunt_sys *sys, int fd, int level, int name, void *val, socklen_t *len)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (val == NULL || len == NULL)
		return leave(&c, -EFAULT);
	r = sock_getopt(c.sk, level, name, val, len);
	return leave(&c, r);
}

int
shunt_setsockopt(struct shunt_sys *sys, int fd, int level, int name, const void *val, socklen_t len)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (val == NULL && len > 0)
		return leave(&c, -EFAULT);
	r = sock_setopt(c.sk, level, name, val, len);
	return leave(&c, r);
}

int
shunt_fcntl(struct shunt_sys *sys, int fd, int cmd, long arg)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	switch (cmd) {
	case F_GETFL:
		r = O_RDWR | c.sk->fl;
		break;
	case F_SETFL:
		/* Only O_NONBLOCK means anything to a socket; the access mode cannot change. */
		c.sk->fl = (int)(arg & O_NONBLOCK);
		if (arg & O_NONBLOCK)
			c.nc->flags |= NC_NONBLOCK;
		else
			c.nc->flags &= (uint16_t)~NC_NONBLOCK;
		r = 0;
		break;
	case F_GETFD:
	case F_SETFD:
		/* FD_CLOEXEC lives on the kernel descriptor. */
		r = fcntl(fd, cmd, arg);
		if (r < 0)
			r = -errno;
		break;
	default:
		r = -EINVAL;
		break;
	}
	return leave(&c, r);
}

int
shunt_ioctl(struct shunt_sys *sys, int fd, unsigned long req, void *arg)
{
	struct call c;
	int r = enter(&c, sys, fd);

	if (r != 0)
		return set_errno_ret(r);
	if (arg == NULL)
		return leave(&c, -EFAULT);
	switch (req) {
	case FIONBIO:
		if (*(int *)arg) {
			c.sk->fl |= O_NONBLOCK;
			c.nc->flags |= NC_NONBLOCK;
		} else {
			c.sk->fl &= ~O_NONBLOCK;
			c.nc->flags &= (uint16_t)~NC_NONBLOCK;
		}
		r = 0;
		break;
	case FIONREAD:
		if (c.nc->flags & NC_LISTENING) {
			r = -EINVAL;
			break;
		}
		if (c.nc->type == SHUNT_NETCONN_UDP)
			*(int *)arg = c.nc->rq_head != NULL ? (int)c.nc->rq_head->tot_len : 0;
		else
			*(int *)arg = (int)(c.nc->rq_bytes - c.nc->rq_off);
		r = 0;
		break;
	case SIOCOUTQ:
		if (c.nc->flags & NC_LISTENING) {
			r = -EINVAL;
			break;
		}
		*(int *)arg = c.nc->type == SHUNT_NETCONN_TCP && c.nc->pcb.tcp != NULL ?
		    (int)shunt_tcp_outq(c.nc->pcb.tcp) : 0;
		r = 0;
		break;
	default:
		r = -ENOTTY;
		break;
	}
	return leave(&c, r);
}

uint32_t
shunt_socket_events(struct shunt_sys *sys, int fd)
{
	struct shunt_sock *sk;
	uint32_t ev = 0;

	pthread_mutex_lock(&sys->lock);
	sk = sock_lookup(sys, fd);
	if (sk != NULL)
		ev = sock_poll_events(sk);
	pthread_mutex_unlock(&sys->lock);
	return ev;
}
