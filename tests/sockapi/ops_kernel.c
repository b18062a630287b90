/*
 * The kernel backend: the calls are libc's, nothing else.  Under the preload
 * shim (sockapi-plain) these are the very calls the shim intercepts, so this
 * file must stay plain libc.  Server and client tables are the same calls;
 * only their addresses may differ (SOCKAPI_SERVER_IP, SOCKAPI_CLIENT_IP).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "sockapi.h"

static int
k_socket(struct sockops *o, int d, int t, int p)
{
	return socket(d, t, p);
}

static int
k_bind(struct sockops *o, int fd, const struct sockaddr *a, socklen_t l)
{
	return bind(fd, a, l);
}

static int
k_listen(struct sockops *o, int fd, int b)
{
	return listen(fd, b);
}

static int
k_accept(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return accept(fd, a, l);
}

static int
k_accept4(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l, int f)
{
	return accept4(fd, a, l, f);
}

static int
k_connect(struct sockops *o, int fd, const struct sockaddr *a, socklen_t l)
{
	return connect(fd, a, l);
}

static ssize_t
k_read(struct sockops *o, int fd, void *b, size_t n)
{
	return read(fd, b, n);
}

static ssize_t
k_write(struct sockops *o, int fd, const void *b, size_t n)
{
	return write(fd, b, n);
}

static ssize_t
k_readv(struct sockops *o, int fd, const struct iovec *v, int n)
{
	return readv(fd, v, n);
}

static ssize_t
k_writev(struct sockops *o, int fd, const struct iovec *v, int n)
{
	return writev(fd, v, n);
}

static ssize_t
k_send(struct sockops *o, int fd, const void *b, size_t n, int f)
{
	return send(fd, b, n, f);
}

static ssize_t
k_recv(struct sockops *o, int fd, void *b, size_t n, int f)
{
	return recv(fd, b, n, f);
}

static ssize_t
k_sendto(struct sockops *o, int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
	return sendto(fd, b, n, f, a, l);
}

static ssize_t
k_recvfrom(struct sockops *o, int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	return recvfrom(fd, b, n, f, a, l);
}

static ssize_t
k_sendmsg(struct sockops *o, int fd, const struct msghdr *m, int f)
{
	return sendmsg(fd, m, f);
}

static ssize_t
k_recvmsg(struct sockops *o, int fd, struct msghdr *m, int f)
{
	return recvmsg(fd, m, f);
}

static int
k_sendmmsg(struct sockops *o, int fd, struct mmsghdr *v, unsigned int n, int f)
{
	return sendmmsg(fd, v, n, f);
}

static int
k_recvmmsg(struct sockops *o, int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
	return recvmmsg(fd, v, n, f, t);
}

static int
k_close(struct sockops *o, int fd)
{
	return close(fd);
}

static int
k_shutdown(struct sockops *o, int fd, int how)
{
	return shutdown(fd, how);
}

static int
k_getsockname(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return getsockname(fd, a, l);
}

static int
k_getpeername(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return getpeername(fd, a, l);
}

static int
k_getsockopt(struct sockops *o, int fd, int lv, int n, void *v, socklen_t *l)
{
	return getsockopt(fd, lv, n, v, l);
}

static int
k_setsockopt(struct sockops *o, int fd, int lv, int n, const void *v, socklen_t l)
{
	return setsockopt(fd, lv, n, v, l);
}

static int
k_fcntl(struct sockops *o, int fd, int cmd, long arg)
{
	return fcntl(fd, cmd, arg);
}

static int
k_ioctl(struct sockops *o, int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static int
k_poll(struct sockops *o, struct pollfd *p, nfds_t n, int t)
{
	return poll(p, n, t);
}

static int
k_select(struct sockops *o, int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	return select(n, r, w, x, tv);
}

static int
k_epoll_create1(struct sockops *o, int f)
{
	return epoll_create1(f);
}

static int
k_epoll_ctl(struct sockops *o, int ep, int op, int fd, struct epoll_event *ev)
{
	return epoll_ctl(ep, op, fd, ev);
}

static int
k_epoll_wait(struct sockops *o, int ep, struct epoll_event *ev, int max, int t)
{
	return epoll_wait(ep, ev, max, t);
}

#define KERNEL_OPS { \
	.name = "kernel", .is_shunt = 0, \
	.socket = k_socket, .bind = k_bind, .listen = k_listen, .accept = k_accept, .accept4 = k_accept4, \
	.connect = k_connect, .read = k_read, .write = k_write, .readv = k_readv, .writev = k_writev, \
	.send = k_send, .recv = k_recv, .sendto = k_sendto, .recvfrom = k_recvfrom, .sendmsg = k_sendmsg, \
	.recvmsg = k_recvmsg, .sendmmsg = k_sendmmsg, .recvmmsg = k_recvmmsg, .close = k_close, \
	.shutdown = k_shutdown, .getsockname = k_getsockname, .getpeername = k_getpeername, \
	.getsockopt = k_getsockopt, .setsockopt = k_setsockopt, .fcntl = k_fcntl, .ioctl = k_ioctl, \
	.poll = k_poll, .select = k_select, .epoll_create1 = k_epoll_create1, .epoll_ctl = k_epoll_ctl, \
	.epoll_wait = k_epoll_wait, \
}

static struct sockops kernel_srv = KERNEL_OPS, kernel_cli = KERNEL_OPS;

static struct sockaddr_in
env_addr(const char *var)
{
	struct sockaddr_in a;
	const char *v = getenv(var);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	if (v == NULL || *v == '\0')
		v = "127.0.0.1";
	if (inet_pton(AF_INET, v, &a.sin_addr) != 1)
		test_fail(__FILE__, __LINE__, "%s: bad address %s", var, v);
	return a;
}

static void
kernel_setup(struct sockenv *e)
{
	kernel_srv.addr = env_addr("SOCKAPI_SERVER_IP");
	kernel_cli.addr = env_addr("SOCKAPI_CLIENT_IP");
	e->backend = "kernel";
	e->is_shunt = 0;
	{
		/* Under the preload shim the "kernel" calls reach shunt's sockets. */
		const char *pl = getenv("LD_PRELOAD");

		e->via_shim = pl != NULL && strstr(pl, "libshunt-preload") != NULL;
	}
	e->srv = &kernel_srv;
	e->cli = &kernel_cli;
}

static void
kernel_teardown(struct sockenv *e)
{
	(void)e;
}

const struct sockbackend sockbackend_kernel = { "kernel", kernel_setup, kernel_teardown };
