/*
 * Socket lifecycle wrappers: socket, bind, listen, accept, connect, close,
 * shutdown, names, options, fcntl, ioctl, dup.  Below: shunt's socket layer
 * or the real libc.  Above: the unmodified program.
 *
 * A new AF_INET socket is a real kernel socket, "pending" until its address
 * is known.  Then it goes one way:
 *   bind to shunt's address, or connect/sendto towards shunt's routes → shunt
 *     (the kernel socket stays open only to hold the descriptor number);
 *   bind to INADDR_ANY → both ("dual"): the kernel socket keeps the number and
 *     listens on the kernel's interfaces, a shunt socket beside it on shunt's,
 *     and accept()/recvfrom() take from whichever has something;
 *   anything else (loopback, DNS, other routes, the rules' "kernel:") → kernel.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include "shim.h"

/* A descriptor that holds a number and does nothing else. */
static int
eventfd_placeholder(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static const char *
ip_str(uint32_t ip, uint16_t port, char buf[24])
{
	char a[16];

	snprintf(buf, 24, "%s:%u", shunt_ip4_str(ip, a), ntohs(port));
	return buf;
}

static int
sin_of(const struct sockaddr *a, socklen_t l, uint32_t *ip, uint16_t *port)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)a;

	if (a == NULL || l < (socklen_t)sizeof(*s) || a->sa_family != AF_INET)
		return -1;
	*ip = s->sin_addr.s_addr;
	*port = s->sin_port;
	return 0;
}

static void
replay_opts(int sfd, struct fdinfo *fi)
{
	int i;

	for (i = 0; i < fi->nopts; i++)
		shunt_setsockopt(shim.sys, sfd, fi->opts[i].level, fi->opts[i].name, fi->opts[i].val, fi->opts[i].len);
}

int
shim_commit(int fd, struct fdinfo *fi, int to_shunt)
{
	int r;

	if (to_shunt && shim_ready()) {
		r = shunt_socket_on_fd(shim.sys, fd, fi->domain, fi->type | (fi->nonblock ? SOCK_NONBLOCK : 0),
		    fi->protocol);
		if (r >= 0) {
			fi->sfd = fd;
			replay_opts(fd, fi);
			fd_set_kind(fd, FD_SHUNT, fi);
			shim_epoll_move(fd, fi);
			return 1;
		}
		shim_log(LOG_WARN, "fd %d: cannot make a shunt socket (%s); kernel", fd, strerror(errno));
	}
	fd_set_kind(fd, FD_KERNEL, NULL);
	fdinfo_put(fi);
	return 0;
}

/* A listener on INADDR_ANY: a shunt socket beside the kernel one, on the same port. */
static int
make_dual(int fd, struct fdinfo *fi)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int sfd, fl;

	if (!shim_ready() || REAL(getsockname)(fd, (struct sockaddr *)&sin, &sl) != 0)
		return 0;
	sfd = shunt_socket(shim.sys, AF_INET, fi->type | SOCK_NONBLOCK | SOCK_CLOEXEC, fi->protocol);
	if (sfd < 0)
		return 0;
	replay_opts(sfd, fi);
	sin.sin_addr.s_addr = 0;
	if (shunt_bind(shim.sys, sfd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		shim_log(LOG_WARN, "fd %d: port %u taken on shunt (%s); kernel only", fd, ntohs(sin.sin_port),
		    strerror(errno));
		shunt_close(shim.sys, sfd);
		return 0;
	}
	fi->sfd = sfd;
	/* We multiplex both sides, so the kernel side never blocks; the program's view is fi->nonblock. */
	fl = REAL(fcntl)(fd, F_GETFL, 0);
	if (fl >= 0) {
		fi->nonblock = (fl & O_NONBLOCK) != 0;
		REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK);
	}
	fd_set_kind(fd, FD_DUAL, fi);
	shim_log(LOG_INFO, "fd %d: kernel and shunt (port %u on every address)", fd, ntohs(sin.sin_port));
	return 1;
}

/* A dual socket that turns out to talk to one side only: let go of the other. */
static void
dual_to_shunt(int fd, struct fdinfo *fi)
{
	int ph = eventfd_placeholder();

	/* The kernel socket gives its number to a placeholder, so its port is free again. */
	if (ph >= 0) {
		REAL(dup2)(ph, fd);
		REAL(close)(ph);
	}
	fd_set_kind(fd, FD_SHUNT, fi);
}

static void
dual_to_kernel(int fd, struct fdinfo *fi)
{
	if (!fi->nonblock) {
		int fl = REAL(fcntl)(fd, F_GETFL, 0);

		if (fl >= 0)
			REAL(fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	shunt_close(shim.sys, fi->sfd);
	fd_set_kind(fd, FD_KERNEL, NULL);
	fdinfo_put(fi);
}

EXPORT int
socket(int domain, int type, int protocol)
{
	int fd = REAL(socket)(domain, type, protocol), base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct fdinfo *fi;

	if (fd < 0 || shim_busy || domain != AF_INET || (base != SOCK_STREAM && base != SOCK_DGRAM) ||
	    shim.init_state < 0 || shim.in_child)
		return fd;
	fi = fdinfo_new(domain, base, protocol);
	if (fi == NULL)
		return fd;
	fi->nonblock = (type & SOCK_NONBLOCK) != 0;
	fd_set_kind(fd, FD_PENDING, fi);
	return fd;
}

EXPORT int
socketpair(int d, int t, int p, int sv[2])
{
	return REAL(socketpair)(d, t, p, sv);
}

EXPORT int
bind(int fd, const struct sockaddr *a, socklen_t l)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	uint32_t ip;
	uint16_t port;
	char buf[24];
	int r;

	if (likely(k == FD_KERNEL))
		return REAL(bind)(fd, a, l);
	fi = fd_info(fd);
	if (k == FD_PENDING) {
		if (sin_of(a, l, &ip, &port) != 0) {
			/* Not an IPv4 address: the kernel answers; only a bind that worked decides the way. */
			int r2 = REAL(bind)(fd, a, l);

			if (r2 == 0) {
				pthread_mutex_lock(&shim.lock);
				shim_commit(fd, fi, 0);
				pthread_mutex_unlock(&shim.lock);
			}
			return r2;
		}
		/* Bring the stack up before taking our lock: starting it takes the lock too. */
		shim_ready();
		pthread_mutex_lock(&shim.lock);
		if (ip == 0) {
			r = REAL(bind)(fd, a, l);
			if (r == 0 && !make_dual(fd, fi))
				shim_commit(fd, fi, 0);
			pthread_mutex_unlock(&shim.lock);
			return r;
		}
		if (shim_is_local(ip) && shim_ready()) {
			/* Try the bind on a shunt socket of our own first: a failed bind decides nothing. */
			int probe = shunt_socket(shim.sys, AF_INET, fi->type | SOCK_CLOEXEC, fi->protocol), e;

			if (probe >= 0)
				replay_opts(probe, fi);	/* SO_REUSEADDR and friends decide binds */
			r = probe < 0 ? -1 : shunt_bind(shim.sys, probe, a, l);
			e = errno;
			if (probe >= 0)
				shunt_close(shim.sys, probe);
			if (r == 0 && shim_commit(fd, fi, 1)) {
				pthread_mutex_unlock(&shim.lock);
				shim_log(LOG_INFO, "fd %d: shunt (bind %s)", fd, ip_str(ip, port, buf));
				return shunt_bind(shim.sys, fd, a, l);
			}
			pthread_mutex_unlock(&shim.lock);
			errno = e;
			return -1;
		}
		/* Not shunt's address: the kernel decides; only a bind that worked commits the socket. */
		r = REAL(bind)(fd, a, l);
		if (r == 0) {
			shim_commit(fd, fi, 0);
			shim_log(LOG_INFO, "fd %d: kernel (bind %s is not shunt's)", fd, ip_str(ip, port, buf));
		}
		pthread_mutex_unlock(&shim.lock);
		return r;
	}
	if (k == FD_SHUNT)
		return shunt_bind(shim.sys, fi->sfd, a, l);
	if (k == FD_ORPHAN) {
		errno = EBADF;
		return -1;
	}
	return REAL(bind)(fd, a, l);
}

EXPORT int
listen(int fd, int backlog)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	int r;

	if (likely(k == FD_KERNEL))
		return REAL(listen)(fd, backlog);
	fi = fd_info(fd);
	if (k == FD_PENDING) {
		/* listen() without bind(): the kernel picks a port on every address, so both sides listen. */
		r = REAL(listen)(fd, backlog);
		shim_ready();
		pthread_mutex_lock(&shim.lock);
		if (r == 0 && make_dual(fd, fi)) {
			pthread_mutex_unlock(&shim.lock);
			return shunt_listen(shim.sys, fi->sfd, backlog);
		}
		if (fd_kind(fd) == FD_PENDING)
			shim_commit(fd, fi, 0);
		pthread_mutex_unlock(&shim.lock);
		return r;
	}
	if (k == FD_SHUNT)
		return shunt_listen(shim.sys, fi->sfd, backlog);
	if (k == FD_DUAL) {
		r = REAL(listen)(fd, backlog);
		if (r != 0)
			return r;
		if (shunt_listen(shim.sys, fi->sfd, backlog) != 0) {
			shim_log(LOG_WARN, "fd %d: shunt listen failed (%s); kernel only", fd, strerror(errno));
			pthread_mutex_lock(&shim.lock);
			dual_to_kernel(fd, fi);
			pthread_mutex_unlock(&shim.lock);
		}
		return 0;
	}
	errno = k == FD_ORPHAN ? EBADF : errno;
	return k == FD_ORPHAN ? -1 : REAL(listen)(fd, backlog);
}

static int
adopt_accepted(int nfd, int flags)
{
	struct fdinfo *fi = fdinfo_new(AF_INET, SOCK_STREAM, IPPROTO_TCP);

	if (fi == NULL) {
		shunt_close(shim.sys, nfd);
		errno = ENOMEM;
		return -1;
	}
	fi->sfd = nfd;
	fi->nonblock = (flags & SOCK_NONBLOCK) != 0;
	fd_set_kind(nfd, FD_SHUNT, fi);
	return nfd;
}

EXPORT int
accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	int r;

	if (likely(k == FD_KERNEL || k == FD_PENDING))
		return REAL(accept4)(fd, a, l, flags);
	fi = fd_info(fd);
	if (k == FD_SHUNT) {
		r = shunt_accept4(shim.sys, fi->sfd, a, l, flags);
		return r < 0 ? r : adopt_accepted(r, flags);
	}
	if (k == FD_DUAL) {
		for (;;) {
			struct pollfd p[2];

			r = shunt_accept4(shim.sys, fi->sfd, a, l, flags);
			if (r >= 0)
				return adopt_accepted(r, flags);
			if (errno != EAGAIN)
				return -1;
			r = REAL(accept4)(fd, a, l, flags);
			if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return r;
			if (fi->nonblock) {
				errno = EAGAIN;
				return -1;
			}
			p[0].fd = fi->sfd;
			p[0].events = POLLIN;
			p[1].fd = fd;
			p[1].events = POLLIN;
			if (shunt_poll(shim.sys, p, 2, -1) < 0)
				return -1;
		}
	}
	errno = EBADF;
	return -1;
}

EXPORT int
accept(int fd, struct sockaddr *a, socklen_t *l)
{
	return accept4(fd, a, l, 0);
}

EXPORT int
connect(int fd, const struct sockaddr *a, socklen_t l)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	uint32_t ip;
	uint16_t port;
	char buf[24];

	if (likely(k == FD_KERNEL))
		return REAL(connect)(fd, a, l);
	fi = fd_info(fd);
	if (k == FD_PENDING || k == FD_DUAL) {
		int to_shunt = sin_of(a, l, &ip, &port) == 0 && shim_route(ip, port) && shim_ready();

		pthread_mutex_lock(&shim.lock);
		if (k == FD_DUAL) {
			if (to_shunt)
				dual_to_shunt(fd, fi);
			else
				dual_to_kernel(fd, fi);
		} else {
			to_shunt = shim_commit(fd, fi, to_shunt);
		}
		pthread_mutex_unlock(&shim.lock);
		if (sin_of(a, l, &ip, &port) == 0)
			shim_log(LOG_INFO, "fd %d: %s (connect %s)", fd, to_shunt ? "shunt" : "kernel",
			    ip_str(ip, port, buf));
		if (!to_shunt)
			return REAL(connect)(fd, a, l);
		return shunt_connect(shim.sys, fi->sfd, a, l);
	}
	if (k == FD_SHUNT)
		return shunt_connect(shim.sys, fi->sfd, a, l);
	errno = EBADF;
	return -1;
}

EXPORT int
close(int fd)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	int r = 0;

	if (likely(k == FD_KERNEL))
		return REAL(close)(fd);
	pthread_mutex_lock(&shim.lock);
	fi = fd_info(fd);
	fd_set_kind(fd, FD_KERNEL, NULL);
	switch (k) {
	case FD_SHUNT:
		if (fi->refs > 1) {
			/* Another descriptor (dup) still refers to the socket. */
			if (fd != fi->sfd)
				r = REAL(close)(fd);
			fi->refs--;
		} else if (fi->relay_fd >= 0 && !shim.in_child && shim_relay_start(fi->sfd, fi->relay_fd) == 0) {
			/* A forked child shares the connection: the relay owns it from now on. */
			fi->relay_fd = -1;
			if (fd != fi->sfd)
				REAL(close)(fd);
			fdinfo_put(fi);
		} else {
			r = shunt_close(shim.sys, fi->sfd);
			if (fd != fi->sfd)
				REAL(close)(fd);
			fdinfo_put(fi);
		}
		break;
	case FD_DUAL:
		if (--fi->refs == 0) {
			shunt_close(shim.sys, fi->sfd);
			free(fi);
		}
		r = REAL(close)(fd);
		break;
	case FD_KEPOLL:
		if (fi->sep >= 0 && shim.sys != NULL && !shim.in_child)
			shunt_close(shim.sys, fi->sep);
		fdinfo_put(fi);
		r = REAL(close)(fd);
		break;
	default:		/* pending, orphan */
		fdinfo_put(fi);
		r = REAL(close)(fd);
		break;
	}
	pthread_mutex_unlock(&shim.lock);
	return r;
}

EXPORT int
shutdown(int fd, int how)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k == FD_KERNEL || k == FD_PENDING))
		return REAL(shutdown)(fd, how);
	if (k == FD_SHUNT)
		return shunt_shutdown(shim.sys, fd_info(fd)->sfd, how);
	if (k == FD_DUAL) {
		shunt_shutdown(shim.sys, fd_info(fd)->sfd, how);
		return REAL(shutdown)(fd, how);
	}
	errno = EBADF;
	return -1;
}

EXPORT int
getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
	enum fd_kind k = fd_kind(fd);

	if (k == FD_SHUNT)
		return shunt_getsockname(shim.sys, fd_info(fd)->sfd, a, l);
	if (k == FD_ORPHAN) {
		errno = EBADF;
		return -1;
	}
	return REAL(getsockname)(fd, a, l);
}

EXPORT int
getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
	enum fd_kind k = fd_kind(fd);

	if (k == FD_SHUNT)
		return shunt_getpeername(shim.sys, fd_info(fd)->sfd, a, l);
	if (k == FD_ORPHAN) {
		errno = EBADF;
		return -1;
	}
	return REAL(getpeername)(fd, a, l);
}

EXPORT int
getsockopt(int fd, int lv, int nm, void *v, socklen_t *l)
{
	enum fd_kind k = fd_kind(fd);

	if (k == FD_SHUNT)
		return shunt_getsockopt(shim.sys, fd_info(fd)->sfd, lv, nm, v, l);
	if (k == FD_ORPHAN) {
		errno = EBADF;
		return -1;
	}
	return REAL(getsockopt)(fd, lv, nm, v, l);
}

EXPORT int
setsockopt(int fd, int lv, int nm, const void *v, socklen_t l)
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	int r;

	if (likely(k == FD_KERNEL))
		return REAL(setsockopt)(fd, lv, nm, v, l);
	fi = fd_info(fd);
	switch (k) {
	case FD_SHUNT:
		return shunt_setsockopt(shim.sys, fi->sfd, lv, nm, v, l);
	case FD_PENDING:
		/* Set it on the kernel socket now (errors come from there) and keep it for the shunt side. */
		r = REAL(setsockopt)(fd, lv, nm, v, l);
		if (r == 0 && fi->nopts < (int)(sizeof(fi->opts) / sizeof(fi->opts[0])) && l <= sizeof(fi->opts[0].val)) {
			fi->opts[fi->nopts].level = lv;
			fi->opts[fi->nopts].name = nm;
			fi->opts[fi->nopts].len = l;
			memcpy(fi->opts[fi->nopts].val, v, l);
			fi->nopts++;
		}
		return r;
	case FD_DUAL:
		r = REAL(setsockopt)(fd, lv, nm, v, l);
		if (r == 0)
			shunt_setsockopt(shim.sys, fi->sfd, lv, nm, v, l);
		return r;
	case FD_ORPHAN:
		errno = EBADF;
		return -1;
	default:
		return REAL(setsockopt)(fd, lv, nm, v, l);
	}
}

static int
do_fcntl(int fd, int cmd, long arg, int (*real)(int, int, long))
{
	enum fd_kind k = fd_kind(fd);
	struct fdinfo *fi;
	int r;

	if (likely(k == FD_KERNEL))
		return real(fd, cmd, arg);
	fi = fd_info(fd);
	switch (cmd) {
	case F_GETFL:
		if (k == FD_SHUNT)
			return shunt_fcntl(shim.sys, fi->sfd, F_GETFL, 0);
		r = real(fd, cmd, arg);
		if (r >= 0 && k == FD_DUAL)
			r = (r & ~O_NONBLOCK) | (fi->nonblock ? O_NONBLOCK : 0);
		return r;
	case F_SETFL:
		if (k == FD_SHUNT)
			return shunt_fcntl(shim.sys, fi->sfd, F_SETFL, arg);
		if (k == FD_DUAL) {
			fi->nonblock = (arg & O_NONBLOCK) != 0;
			return real(fd, cmd, arg | O_NONBLOCK);
		}
		if (k == FD_PENDING)
			fi->nonblock = (arg & O_NONBLOCK) != 0;
		return real(fd, cmd, arg);
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (k == FD_SHUNT || k == FD_DUAL) {
			r = real(fd, cmd, arg);
			if (r >= 0) {
				pthread_mutex_lock(&shim.lock);
				fi->refs++;
				fd_set_kind(r, k, fi);
				pthread_mutex_unlock(&shim.lock);
			}
			return r;
		}
		return real(fd, cmd, arg);
	default:
		if (k == FD_ORPHAN && cmd != F_GETFD && cmd != F_SETFD) {
			errno = EBADF;
			return -1;
		}
		/* F_GETFD/F_SETFD, F_SETOWN ...: the descriptor itself is the kernel's. */
		return real(fd, cmd, arg);
	}
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg, REAL(fcntl));
}

EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg, REAL(fcntl64) != NULL ? REAL(fcntl64) : REAL(fcntl));
}

EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	enum fd_kind k = fd_kind(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (likely(k != FD_SHUNT && k != FD_DUAL))
		return REAL(ioctl)(fd, req, arg);
	if (req == FIONBIO && k == FD_DUAL) {
		fd_info(fd)->nonblock = arg != NULL && *(int *)arg != 0;
		return 0;
	}
	if (k == FD_SHUNT && (req == FIONBIO || req == FIONREAD || req == TIOCOUTQ))
		return shunt_ioctl(shim.sys, fd_info(fd)->sfd, req, arg);
	return REAL(ioctl)(fd, req, arg);
}

static int
dup_to(int fd, int nfd, int r)
{
	enum fd_kind k = fd_kind(fd);

	if (r < 0 || r == fd || (k != FD_SHUNT && k != FD_DUAL && k != FD_KEPOLL))
		return r;
	pthread_mutex_lock(&shim.lock);
	fd_info(fd)->refs++;
	fd_set_kind(r, k, fd_info(fd));
	pthread_mutex_unlock(&shim.lock);
	(void)nfd;
	return r;
}

EXPORT int
dup(int fd)
{
	return dup_to(fd, -1, REAL(dup)(fd));
}

EXPORT int
dup2(int fd, int nfd)
{
	if (fd != nfd && fd_kind(nfd) != FD_KERNEL)
		close(nfd);	/* what dup2 replaces is closed, shunt state included */
	return dup_to(fd, nfd, REAL(dup2)(fd, nfd));
}

EXPORT int
dup3(int fd, int nfd, int f)
{
	if (fd != nfd && fd_kind(nfd) != FD_KERNEL)
		close(nfd);
	return dup_to(fd, nfd, REAL(dup3)(fd, nfd, f));
}
