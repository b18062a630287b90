/*
 * The shunt backend: the same calls through shunt's socket API, on two
 * stacks joined by the in-memory link (tests/unit/sysnet.c).  Servers live on
 * stack 1 (198.18.0.2), clients on stack 0 (198.18.0.1); each has its own sys
 * and poller thread.  Teardown destroys both and fails the test if any
 * buffer was leaked.
 */
#include <arpa/inet.h>
#include "sockapi.h"
#include "../unit/sysnet.h"

#define SYS(o)	((struct shunt_sys *)(o)->ctx)

static int
s_socket(struct sockops *o, int d, int t, int p)
{
	return shunt_socket(SYS(o), d, t, p);
}

static int
s_bind(struct sockops *o, int fd, const struct sockaddr *a, socklen_t l)
{
	return shunt_bind(SYS(o), fd, a, l);
}

static int
s_listen(struct sockops *o, int fd, int b)
{
	return shunt_listen(SYS(o), fd, b);
}

static int
s_accept(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return shunt_accept(SYS(o), fd, a, l);
}

static int
s_accept4(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l, int f)
{
	return shunt_accept4(SYS(o), fd, a, l, f);
}

static int
s_connect(struct sockops *o, int fd, const struct sockaddr *a, socklen_t l)
{
	return shunt_connect(SYS(o), fd, a, l);
}

static ssize_t
s_read(struct sockops *o, int fd, void *b, size_t n)
{
	return shunt_read(SYS(o), fd, b, n);
}

static ssize_t
s_write(struct sockops *o, int fd, const void *b, size_t n)
{
	return shunt_write(SYS(o), fd, b, n);
}

static ssize_t
s_readv(struct sockops *o, int fd, const struct iovec *v, int n)
{
	return shunt_readv(SYS(o), fd, v, n);
}

static ssize_t
s_writev(struct sockops *o, int fd, const struct iovec *v, int n)
{
	return shunt_writev(SYS(o), fd, v, n);
}

static ssize_t
s_send(struct sockops *o, int fd, const void *b, size_t n, int f)
{
	return shunt_send(SYS(o), fd, b, n, f);
}

static ssize_t
s_recv(struct sockops *o, int fd, void *b, size_t n, int f)
{
	return shunt_recv(SYS(o), fd, b, n, f);
}

static ssize_t
s_sendto(struct sockops *o, int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
	return shunt_sendto(SYS(o), fd, b, n, f, a, l);
}

static ssize_t
s_recvfrom(struct sockops *o, int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	return shunt_recvfrom(SYS(o), fd, b, n, f, a, l);
}

static ssize_t
s_sendmsg(struct sockops *o, int fd, const struct msghdr *m, int f)
{
	return shunt_sendmsg(SYS(o), fd, m, f);
}

static ssize_t
s_recvmsg(struct sockops *o, int fd, struct msghdr *m, int f)
{
	return shunt_recvmsg(SYS(o), fd, m, f);
}

static int
s_sendmmsg(struct sockops *o, int fd, struct mmsghdr *v, unsigned int n, int f)
{
	return shunt_sendmmsg(SYS(o), fd, v, n, f);
}

static int
s_recvmmsg(struct sockops *o, int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
	return shunt_recvmmsg(SYS(o), fd, v, n, f, t);
}

static int
s_close(struct sockops *o, int fd)
{
	return shunt_close(SYS(o), fd);
}

static int
s_shutdown(struct sockops *o, int fd, int how)
{
	return shunt_shutdown(SYS(o), fd, how);
}

static int
s_getsockname(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return shunt_getsockname(SYS(o), fd, a, l);
}

static int
s_getpeername(struct sockops *o, int fd, struct sockaddr *a, socklen_t *l)
{
	return shunt_getpeername(SYS(o), fd, a, l);
}

static int
s_getsockopt(struct sockops *o, int fd, int lv, int n, void *v, socklen_t *l)
{
	return shunt_getsockopt(SYS(o), fd, lv, n, v, l);
}

static int
s_setsockopt(struct sockops *o, int fd, int lv, int n, const void *v, socklen_t l)
{
	return shunt_setsockopt(SYS(o), fd, lv, n, v, l);
}

static int
s_fcntl(struct sockops *o, int fd, int cmd, long arg)
{
	return shunt_fcntl(SYS(o), fd, cmd, arg);
}

static int
s_ioctl(struct sockops *o, int fd, unsigned long req, void *arg)
{
	return shunt_ioctl(SYS(o), fd, req, arg);
}

static int
s_poll(struct sockops *o, struct pollfd *p, nfds_t n, int t)
{
	return shunt_poll(SYS(o), p, n, t);
}

static int
s_select(struct sockops *o, int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	return shunt_select(SYS(o), n, r, w, x, tv);
}

static int
s_epoll_create1(struct sockops *o, int f)
{
	return shunt_epoll_create1(SYS(o), f);
}

static int
s_epoll_ctl(struct sockops *o, int ep, int op, int fd, struct epoll_event *ev)
{
	return shunt_epoll_ctl(SYS(o), ep, op, fd, ev);
}

static int
s_epoll_wait(struct sockops *o, int ep, struct epoll_event *ev, int max, int t)
{
	return shunt_epoll_wait(SYS(o), ep, ev, max, t);
}

#define SHUNT_OPS { \
	.name = "shunt", .is_shunt = 1, \
	.socket = s_socket, .bind = s_bind, .listen = s_listen, .accept = s_accept, .accept4 = s_accept4, \
	.connect = s_connect, .read = s_read, .write = s_write, .readv = s_readv, .writev = s_writev, \
	.send = s_send, .recv = s_recv, .sendto = s_sendto, .recvfrom = s_recvfrom, .sendmsg = s_sendmsg, \
	.recvmsg = s_recvmsg, .sendmmsg = s_sendmmsg, .recvmmsg = s_recvmmsg, .close = s_close, \
	.shutdown = s_shutdown, .getsockname = s_getsockname, .getpeername = s_getpeername, \
	.getsockopt = s_getsockopt, .setsockopt = s_setsockopt, .fcntl = s_fcntl, .ioctl = s_ioctl, \
	.poll = s_poll, .select = s_select, .epoll_create1 = s_epoll_create1, .epoll_ctl = s_epoll_ctl, \
	.epoll_wait = s_epoll_wait, \
}

static struct sockops shunt_srv = SHUNT_OPS, shunt_cli = SHUNT_OPS;
static struct sysnet net;

static void
shunt_setup(struct sockenv *e)
{
	sysnet_init(&net, NULL);
	shunt_srv.ctx = net.sys[1];
	shunt_srv.addr = sysnet_addr(&net, 1, 0);
	shunt_cli.ctx = net.sys[0];
	shunt_cli.addr = sysnet_addr(&net, 0, 0);
	e->backend = "shunt";
	e->is_shunt = 1;
	e->srv = &shunt_srv;
	e->cli = &shunt_cli;
}

static void
shunt_teardown(struct sockenv *e)
{
	(void)e;
	sysnet_fini(&net);
}

const struct sockbackend sockbackend_shunt = { "shunt", shunt_setup, shunt_teardown };
