/*
 * Data wrappers: read/write and friends, send/recv and friends, sendfile,
 * the fortified _chk variants.  A kernel descriptor costs one byte load and a
 * branch before the real call; a shunt socket goes to the socket layer.
 * A dual UDP socket (bound to INADDR_ANY) receives from both sides and sends
 * each datagram the way its destination goes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shim.h"

extern void __chk_fail(void) __attribute__((noreturn));

static ssize_t
bad_fd(void)
{
	errno = EBADF;
	return -1;
}

/* A pending UDP socket's first datagram decides its way. */
static int
commit_for_dest(int fd, const struct sockaddr *a, socklen_t l)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)a;
	int to_shunt = a != NULL && l >= (socklen_t)sizeof(*s) && a->sa_family == AF_INET &&
	    shim_route(s->sin_addr.s_addr, s->sin_port) && shim_ready();
	struct fdinfo *fi;

	pthread_mutex_lock(&shim.lock);
	fi = fd_info(fd);
	if (fd_kind(fd) == FD_PENDING && fi != NULL)
		shim_commit(fd, fi, to_shunt);
	pthread_mutex_unlock(&shim.lock);
	return fd_kind(fd) == FD_SHUNT;
}

/* Receive on a dual UDP socket: whichever side has a datagram, waiting on both when neither has. */
static ssize_t
dual_recvmsg(int fd, struct fdinfo *fi, struct msghdr *m, int flags)
{
	for (;;) {
		struct pollfd p[2];
		ssize_t r = shunt_recvmsg(shim.sys, fi->sfd, m, flags | MSG_DONTWAIT);

		if (r >= 0 || errno != EAGAIN)
			return r;
		r = REAL(recvmsg)(fd, m, flags | MSG_DONTWAIT);
		if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return r;
		if (fi->nonblock || (flags & MSG_DONTWAIT)) {
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

static ssize_t
dual_sendmsg(int fd, struct fdinfo *fi, const struct msghdr *m, int flags)
{
	const struct sockaddr_in *s = m->msg_name;

	if (s != NULL && m->msg_namelen >= sizeof(*s) && s->sin_family == AF_INET &&
	    shim_route(s->sin_addr.s_addr, s->sin_port))
		return shunt_sendmsg(shim.sys, fi->sfd, m, flags);
	return REAL(sendmsg)(fd, m, flags);
}

EXPORT ssize_t
read(int fd, void *b, size_t n)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(read)(fd, b, n);
	if (k == FD_SHUNT)
		return shunt_read(shim.sys, fd_info(fd)->sfd, b, n);
	if (k == FD_DUAL) {
		struct iovec v = { b, n };
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };

		return dual_recvmsg(fd, fd_info(fd), &m, 0);
	}
	return k == FD_ORPHAN ? bad_fd() : REAL(read)(fd, b, n);
}

EXPORT ssize_t
__read_chk(int fd, void *b, size_t n, size_t bl)
{
	if (n > bl)
		__chk_fail();
	return read(fd, b, n);
}

EXPORT ssize_t
write(int fd, const void *b, size_t n)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(write)(fd, b, n);
	if (k == FD_SHUNT)
		return shunt_write(shim.sys, fd_info(fd)->sfd, b, n);
	return k == FD_ORPHAN ? bad_fd() : REAL(write)(fd, b, n);
}

EXPORT ssize_t
readv(int fd, const struct iovec *v, int c)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(readv)(fd, v, c);
	if (k == FD_SHUNT)
		return shunt_readv(shim.sys, fd_info(fd)->sfd, v, c);
	if (k == FD_DUAL) {
		struct msghdr m = { .msg_iov = (struct iovec *)(uintptr_t)v, .msg_iovlen = (size_t)c };

		return dual_recvmsg(fd, fd_info(fd), &m, 0);
	}
	return k == FD_ORPHAN ? bad_fd() : REAL(readv)(fd, v, c);
}

EXPORT ssize_t
writev(int fd, const struct iovec *v, int c)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(writev)(fd, v, c);
	if (k == FD_SHUNT)
		return shunt_writev(shim.sys, fd_info(fd)->sfd, v, c);
	return k == FD_ORPHAN ? bad_fd() : REAL(writev)(fd, v, c);
}

static ssize_t
spipe(void)
{
	errno = ESPIPE;
	return -1;
}

EXPORT ssize_t
pread(int fd, void *b, size_t n, off_t o)
{
	enum fd_kind k = fd_kind(fd);

	return likely(k == FD_KERNEL) ? REAL(pread)(fd, b, n, o) : (k == FD_ORPHAN ? bad_fd() : spipe());
}

EXPORT ssize_t
pread64(int fd, void *b, size_t n, off_t o)
{
	enum fd_kind k = fd_kind(fd);

	return likely(k == FD_KERNEL) ? REAL(pread64)(fd, b, n, o) : (k == FD_ORPHAN ? bad_fd() : spipe());
}

EXPORT ssize_t
pwrite(int fd, const void *b, size_t n, off_t o)
{
	enum fd_kind k = fd_kind(fd);

	return likely(k == FD_KERNEL) ? REAL(pwrite)(fd, b, n, o) : (k == FD_ORPHAN ? bad_fd() : spipe());
}

EXPORT ssize_t
pwrite64(int fd, const void *b, size_t n, off_t o)
{
	enum fd_kind k = fd_kind(fd);

	return likely(k == FD_KERNEL) ? REAL(pwrite64)(fd, b, n, o) : (k == FD_ORPHAN ? bad_fd() : spipe());
}

EXPORT ssize_t
send(int fd, const void *b, size_t n, int f)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(send)(fd, b, n, f);
	if (k == FD_SHUNT)
		return shunt_send(shim.sys, fd_info(fd)->sfd, b, n, f);
	return k == FD_ORPHAN ? bad_fd() : REAL(send)(fd, b, n, f);
}

EXPORT ssize_t
recv(int fd, void *b, size_t n, int f)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(recv)(fd, b, n, f);
	if (k == FD_SHUNT)
		return shunt_recv(shim.sys, fd_info(fd)->sfd, b, n, f);
	if (k == FD_DUAL) {
		struct iovec v = { b, n };
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };

		return dual_recvmsg(fd, fd_info(fd), &m, f);
	}
	return k == FD_ORPHAN ? bad_fd() : REAL(recv)(fd, b, n, f);
}

EXPORT ssize_t
__recv_chk(int fd, void *b, size_t n, size_t bl, int f)
{
	if (n > bl)
		__chk_fail();
	return recv(fd, b, n, f);
}

EXPORT ssize_t
sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k == FD_KERNEL))
		return REAL(sendto)(fd, b, n, f, a, l);
	if (k == FD_PENDING && a != NULL && !commit_for_dest(fd, a, l))
		return REAL(sendto)(fd, b, n, f, a, l);
	k = fd_kind(fd);
	if (k == FD_SHUNT)
		return shunt_sendto(shim.sys, fd_info(fd)->sfd, b, n, f, a, l);
	if (k == FD_DUAL) {
		struct iovec v = { (void *)(uintptr_t)b, n };
		struct msghdr m = { .msg_name = (void *)(uintptr_t)a, .msg_namelen = l, .msg_iov = &v, .msg_iovlen = 1 };

		return dual_sendmsg(fd, fd_info(fd), &m, f);
	}
	return k == FD_ORPHAN ? bad_fd() : REAL(sendto)(fd, b, n, f, a, l);
}

EXPORT ssize_t
recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(recvfrom)(fd, b, n, f, a, l);
	if (k == FD_SHUNT)
		return shunt_recvfrom(shim.sys, fd_info(fd)->sfd, b, n, f, a, l);
	if (k == FD_DUAL) {
		struct iovec v = { b, n };
		struct msghdr m = { .msg_name = a, .msg_namelen = l != NULL ? *l : 0, .msg_iov = &v, .msg_iovlen = 1 };
		ssize_t r = dual_recvmsg(fd, fd_info(fd), &m, f);

		if (r >= 0 && l != NULL)
			*l = m.msg_namelen;
		return r;
	}
	return k == FD_ORPHAN ? bad_fd() : REAL(recvfrom)(fd, b, n, f, a, l);
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a, socklen_t *l)
{
	if (n > bl)
		__chk_fail();
	return recvfrom(fd, b, n, f, a, l);
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *m, int f)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k == FD_KERNEL))
		return REAL(sendmsg)(fd, m, f);
	if (k == FD_PENDING && m->msg_name != NULL && !commit_for_dest(fd, m->msg_name, m->msg_namelen))
		return REAL(sendmsg)(fd, m, f);
	k = fd_kind(fd);
	if (k == FD_SHUNT)
		return shunt_sendmsg(shim.sys, fd_info(fd)->sfd, m, f);
	if (k == FD_DUAL)
		return dual_sendmsg(fd, fd_info(fd), m, f);
	return k == FD_ORPHAN ? bad_fd() : REAL(sendmsg)(fd, m, f);
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *m, int f)
{
	enum fd_kind k = fd_kind(fd);

	if (likely(k <= FD_PENDING))
		return REAL(recvmsg)(fd, m, f);
	if (k == FD_SHUNT)
		return shunt_recvmsg(shim.sys, fd_info(fd)->sfd, m, f);
	if (k == FD_DUAL)
		return dual_recvmsg(fd, fd_info(fd), m, f);
	return k == FD_ORPHAN ? bad_fd() : REAL(recvmsg)(fd, m, f);
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int f)
{
	enum fd_kind k = fd_kind(fd);
	unsigned int i;

	if (likely(k == FD_KERNEL))
		return REAL(sendmmsg)(fd, v, n, f);
	if (k == FD_SHUNT)
		return shunt_sendmmsg(shim.sys, fd_info(fd)->sfd, v, n, f);
	if (k == FD_ORPHAN)
		return (int)bad_fd();
	/* Pending or dual: one datagram at a time, each its own way. */
	for (i = 0; i < n; i++) {
		ssize_t r = sendmsg(fd, &v[i].msg_hdr, f);

		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
	enum fd_kind k = fd_kind(fd);
	unsigned int i;

	if (likely(k <= FD_PENDING))
		return REAL(recvmmsg)(fd, v, n, f, t);
	if (k == FD_SHUNT)
		return shunt_recvmmsg(shim.sys, fd_info(fd)->sfd, v, n, f, t);
	if (k == FD_ORPHAN)
		return (int)bad_fd();
	for (i = 0; i < n; i++) {
		ssize_t r = recvmsg(fd, &v[i].msg_hdr, i == 0 ? f : (f | MSG_DONTWAIT));

		if (r < 0) {
			if (i > 0)
				break;
			return -1;
		}
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

/* sendfile to a shunt socket: read the file in chunks and send them. */
static ssize_t
shunt_sendfile(int out, int in, off_t *off, size_t n)
{
	char buf[65536];
	size_t done = 0;
	off_t pos = off != NULL ? *off : 0;

	while (done < n) {
		size_t want = n - done < sizeof(buf) ? n - done : sizeof(buf);
		ssize_t r = off != NULL ? REAL(pread)(in, buf, want, pos) : REAL(read)(in, buf, want);
		ssize_t w, sent = 0;

		if (r < 0)
			return done > 0 ? (ssize_t)done : -1;
		if (r == 0)
			break;
		while (sent < r) {
			w = shunt_send(shim.sys, fd_info(out)->sfd, buf + sent, (size_t)(r - sent), MSG_NOSIGNAL);
			if (w < 0) {
				/* What was read but not sent must not count as consumed. */
				if (off == NULL && sent < r)
					lseek(in, -(off_t)(r - sent), SEEK_CUR);
				if (off != NULL)
					*off = pos + sent;
				return done + (size_t)sent > 0 ? (ssize_t)(done + (size_t)sent) : -1;
			}
			sent += w;
		}
		done += (size_t)r;
		pos += r;
		if ((size_t)r < want)
			break;
	}
	if (off != NULL)
		*off = pos;
	return (ssize_t)done;
}

EXPORT ssize_t
sendfile(int o, int i, off_t *off, size_t n)
{
	enum fd_kind k = fd_kind(o);

	if (likely(k != FD_SHUNT))
		return k == FD_ORPHAN ? bad_fd() : REAL(sendfile)(o, i, off, n);
	return shunt_sendfile(o, i, off, n);
}

EXPORT ssize_t
sendfile64(int o, int i, off_t *off, size_t n)
{
	enum fd_kind k = fd_kind(o);

	if (likely(k != FD_SHUNT))
		return k == FD_ORPHAN ? bad_fd() : REAL(sendfile64)(o, i, off, n);
	return shunt_sendfile(o, i, off, n);
}
