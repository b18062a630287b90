/*
 * Loopback socket pairs for the kernel baselines: see kernsock.h.
 * <linux/tcp.h> rather than <netinet/tcp.h>: only the former has the
 * tcp_info fields that count segments.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h>
#include "kernsock.h"

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int
fail_close(int err, int a, int b, int c)
{
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	return err;
}

int
kern_tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int l, c = -1, s = -1, one = 1;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) != 0)
		return fail_close(-errno, l, c, s);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail_close(-errno, l, c, s);
	s = accept(l, NULL, NULL);
	if (s < 0)
		return fail_close(-errno, l, c, s);
	close(l);
	if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    set_nonblock(c) != 0 || set_nonblock(s) != 0)
		return fail_close(-errno, -1, c, s);
	*cli = c;
	*srv = s;
	return 0;
}

int
kern_udp_pair(int *tx, int *rx)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int r, t = -1, sz = 4 << 20;

	r = socket(AF_INET, SOCK_DGRAM, 0);
	if (r < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Room for a whole batch of datagrams (capped by net.core.rmem_max). */
	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(r, (struct sockaddr *)&sa, sizeof(sa)) != 0 || getsockname(r, (struct sockaddr *)&sa, &sl) != 0)
		return fail_close(-errno, r, t, -1);
	t = socket(AF_INET, SOCK_DGRAM, 0);
	if (t < 0 || connect(t, (struct sockaddr *)&sa, sizeof(sa)) != 0 || set_nonblock(r) != 0 ||
	    set_nonblock(t) != 0)
		return fail_close(-errno, r, t, -1);
	*tx = t;
	*rx = r;
	return 0;
}

uint32_t
kern_tcp_data_segs_out(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_data_segs_out;
}

int
kern_wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);

	if (r < 0)
		return -errno;
	return r > 0;
}
