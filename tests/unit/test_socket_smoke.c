/* The socket layer end to end over two threaded stacks: TCP with epoll, UDP, errors. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "sysnet.h"
#include "tcpapp.h"

struct srv_arg {
	struct sysnet *n;
	int lfd;
	uint64_t bytes;
	uint64_t got;
	int bad;
};

static void *
echo_server(void *p)
{
	struct srv_arg *a = p;
	struct shunt_sys *sys = a->n->sys[1];
	uint8_t buf[8192];
	int fd = shunt_accept(sys, a->lfd, NULL, NULL);
	ssize_t r;

	if (fd < 0)
		return NULL;
	while ((r = shunt_recv(sys, fd, buf, sizeof(buf), 0)) > 0) {
		ssize_t k;

		for (k = 0; k < r; k++)
			if (buf[k] != tapp_byte(7, a->got + (uint64_t)k))
				a->bad++;
		a->got += (uint64_t)r;
		if (shunt_send(sys, fd, buf, (size_t)r, 0) != r)
			break;
	}
	shunt_close(sys, fd);
	return NULL;
}

TEST(socket_tcp_echo_blocking_and_epoll)
{
	static struct sysnet n;
	struct srv_arg a;
	struct sockaddr_in sa;
	pthread_t th;
	uint8_t out[4096], in[8192];
	uint64_t sent = 0, recvd = 0, total = 4 << 20;
	struct epoll_event ev;
	int lfd, fd, ep, bad = 0, one = 1;

	sysnet_init(&n, NULL);
	lfd = shunt_socket(n.sys[1], AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0);
	CHECK_EQ(shunt_setsockopt(n.sys[1], lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sa = sysnet_addr(&n, 1, 8080);
	CHECK_EQ(shunt_bind(n.sys[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(shunt_listen(n.sys[1], lfd, 8), 0);
	memset(&a, 0, sizeof(a));
	a.n = &n;
	a.lfd = lfd;
	pthread_create(&th, NULL, echo_server, &a);

	fd = shunt_socket(n.sys[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(fd >= 0);
	CHECK_EQ(shunt_connect(n.sys[0], fd, (struct sockaddr *)&sa, sizeof(sa)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	ep = shunt_epoll_create1(n.sys[0], 0);
	CHECK(ep >= 0);
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.fd = fd;
	CHECK_EQ(shunt_epoll_ctl(n.sys[0], ep, EPOLL_CTL_ADD, fd, &ev), 0);
	while (recvd < total) {
		struct epoll_event got[4];
		int k, m = shunt_epoll_wait(n.sys[0], ep, got, 4, 5000);

		CHECKF(m > 0, "epoll_wait timed out at sent %llu recvd %llu", (unsigned long long)sent,
		    (unsigned long long)recvd);
		for (k = 0; k < m; k++) {
			if (got[k].events & EPOLLOUT) {
				while (sent < total) {
					size_t len = total - sent < sizeof(out) ? (size_t)(total - sent) : sizeof(out), j;
					ssize_t w;

					for (j = 0; j < len; j++)
						out[j] = tapp_byte(7, sent + j);
					w = shunt_send(n.sys[0], fd, out, len, 0);
					if (w < 0) {
						CHECK_EQ(errno, EAGAIN);
						break;
					}
					sent += (uint64_t)w;
				}
				if (sent == total) {
					ev.events = EPOLLIN;
					CHECK_EQ(shunt_epoll_ctl(n.sys[0], ep, EPOLL_CTL_MOD, fd, &ev), 0);
				}
			}
			if (got[k].events & EPOLLIN) {
				ssize_t r;

				while ((r = shunt_recv(n.sys[0], fd, in, sizeof(in), 0)) > 0) {
					ssize_t j;

					for (j = 0; j < r; j++)
						bad += in[j] != tapp_byte(7, recvd + (uint64_t)j);
					recvd += (uint64_t)r;
				}
				CHECK(r < 0 && errno == EAGAIN);
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(shunt_shutdown(n.sys[0], fd, SHUT_WR), 0);
	pthread_join(th, NULL);
	CHECK_EQ(a.got, total);
	CHECK_EQ(a.bad, 0);
	CHECK_EQ(shunt_close(n.sys[0], fd), 0);
	CHECK_EQ(shunt_close(n.sys[0], ep), 0);
	CHECK_EQ(shunt_close(n.sys[1], lfd), 0);
	CHECK_EQ(shunt_close(n.sys[1], lfd), -1);
	CHECK_EQ(errno, EBADF);
	sysnet_fini(&n);
}

TEST(socket_udp_and_errors)
{
	static struct sysnet n;
	struct sockaddr_in sa, from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int u0, u1, t;

	sysnet_init(&n, NULL);
	u1 = shunt_socket(n.sys[1], AF_INET, SOCK_DGRAM, 0);
	sa = sysnet_addr(&n, 1, 5353);
	CHECK_EQ(shunt_bind(n.sys[1], u1, (struct sockaddr *)&sa, sizeof(sa)), 0);
	u0 = shunt_socket(n.sys[0], AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(shunt_sendto(n.sys[0], u0, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)), 4);
	CHECK_EQ(shunt_recvfrom(n.sys[1], u1, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 4);
	CHECK_MEM(buf, "ping", 4);
	CHECK_EQ(from.sin_addr.s_addr, n.ip[0]);
	CHECK_EQ(shunt_sendto(n.sys[1], u1, "pong!", 5, 0, (struct sockaddr *)&from, fl), 5);
	CHECK_EQ(shunt_recv(n.sys[0], u0, buf, 2, 0), 2);	/* truncated: the rest is gone */
	CHECK_EQ(shunt_recv(n.sys[0], u0, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
	/* A connected UDP socket hears ICMP port unreachable as ECONNREFUSED. */
	sa = sysnet_addr(&n, 1, 9);
	CHECK_EQ(shunt_connect(n.sys[0], u0, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(shunt_send(n.sys[0], u0, "x", 1, 0), 1);
	{
		struct timeval tv = { 2, 0 };

		CHECK_EQ(shunt_setsockopt(n.sys[0], u0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	}
	CHECK_EQ(shunt_recv(n.sys[0], u0, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	/* TCP to a closed port: ECONNREFUSED. */
	t = shunt_socket(n.sys[0], AF_INET, SOCK_STREAM, 0);
	sa = sysnet_addr(&n, 1, 81);
	CHECK_EQ(shunt_connect(n.sys[0], t, (struct sockaddr *)&sa, sizeof(sa)), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	CHECK_EQ(shunt_close(n.sys[0], t), 0);
	CHECK_EQ(shunt_close(n.sys[0], u0), 0);
	CHECK_EQ(shunt_close(n.sys[1], u1), 0);
	CHECK_EQ(shunt_socket(n.sys[0], AF_INET6, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EAFNOSUPPORT);
	sysnet_fini(&n);
}
