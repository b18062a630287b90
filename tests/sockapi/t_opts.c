/*
 * getsockopt/setsockopt: defaults, round trips, Linux's conventions (buffer
 * sizes doubled and clamped, timeouts as timevals, ECN bits of IP_TOS),
 * sizes and errno, TCP_INFO's common fields, and the options' effects where
 * a test can see them (SO_RCVLOWAT, SO_RCVTIMEO, SO_SNDTIMEO).
 */
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include "sockapi.h"

SOCKTEST(opt_defaults_tcp)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	struct timeval tv;
	struct linger lg;
	socklen_t l;

	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_REUSEADDR), 0);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_REUSEPORT), 0);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_KEEPALIVE), 0);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_RCVLOWAT), 1);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDLOWAT), 1);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_NODELAY), 0);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_CORK), 0);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPCNT), 9);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_MAXSEG), 536);
	CHECK_EQ(so_int(o, t, IPPROTO_IP, IP_TTL), 64);
	CHECK_EQ(so_int(o, t, IPPROTO_IP, IP_TOS), 0);
	l = sizeof(tv);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &tv, &l), 0);
	CHECK_EQ(l, sizeof(tv));
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
	l = sizeof(lg);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_LINGER, &lg, &l), 0);
	CHECK_EQ(l, sizeof(lg));
	CHECK(lg.l_onoff == 0 && lg.l_linger == 0);
	if (e->is_shunt) {
		/* Deliberate: shunt's buffers are sized by its stack config (256 KiB each by default). */
		CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDBUF), 256 * 1024);
		CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_RCVBUF), 256 * 1024);
	} else {
		/* tcp_wmem[1], tcp_rmem[1] */
		CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDBUF), 16384);
		CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_RCVBUF), 131072);
	}
	SO(o, close, t);
}

SOCKTEST(opt_defaults_udp)
{
	struct sockops *o = e->cli;
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0);
	int v = 1;
	socklen_t l = sizeof(v);

	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_BROADCAST), 0);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_RCVBUF), 212992);	/* rmem_default */
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_SNDBUF), 212992);	/* wmem_default */
	CHECK_EQ(so_int(o, u, IPPROTO_IP, IP_TTL), 64);
	/* TCP's level means nothing to UDP (ip_getsockopt and ip_setsockopt disagree on the errno). */
	CHECK_ERR(SO(o, getsockopt, u, IPPROTO_TCP, TCP_NODELAY, &v, &l), EOPNOTSUPP);
	CHECK_ERR(SO(o, setsockopt, u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), ENOPROTOOPT);
	SO(o, close, u);
}

SOCKTEST(opt_bool_round_trips)
{
	static const struct { int level, name; } opts[] = {
		{ SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT }, { SOL_SOCKET, SO_KEEPALIVE },
		{ IPPROTO_TCP, TCP_NODELAY }, { IPPROTO_TCP, TCP_CORK },
	};
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		set_int(o, t, opts[i].level, opts[i].name, 1);
		CHECKF(so_int(o, t, opts[i].level, opts[i].name) == 1, "option %zu", i);
		/* Any non-zero value is on, read back as 1. */
		set_int(o, t, opts[i].level, opts[i].name, 42);
		CHECKF(so_int(o, t, opts[i].level, opts[i].name) == 1, "option %zu", i);
		set_int(o, t, opts[i].level, opts[i].name, 0);
		CHECKF(so_int(o, t, opts[i].level, opts[i].name) == 0, "option %zu", i);
	}
	SO(o, close, t);
}

SOCKTEST(opt_sizes_and_errno)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0), v = 1;
	char c = 1;
	long long big = 0;
	socklen_t l;

	/* Too short for an int: EINVAL. */
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_KEEPALIVE, &c, 1), EINVAL);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_NODELAY, &c, 1), EINVAL);
	/* Longer is fine: the first int counts. */
	big = 1;
	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_KEEPALIVE, &big, sizeof(big)), 0);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_KEEPALIVE), 1);
	/* Unknown names and levels. */
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	l = sizeof(v);
	CHECK_ERR(SO(o, getsockopt, t, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_IP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	/* Read-only options. */
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_ERROR, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_ACCEPTCONN, &v, sizeof(v)), ENOPROTOOPT);
	/* A negative length is EINVAL; a short buffer gets a short answer. */
	l = (socklen_t)-1;
	CHECK_ERR(SO(o, getsockopt, t, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	l = 1;
	c = 0;
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_KEEPALIVE, &c, &l), 0);
	CHECK_EQ(l, 1);
	CHECK_EQ(c, 1);
	SO(o, close, t);
}

SOCKTEST(opt_buffer_sizes)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0);
	long wmax, rmax;

	/* Linux doubles the request (for its bookkeeping) and reports the doubled value. */
	set_int(o, t, SOL_SOCKET, SO_SNDBUF, 65536);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDBUF), 131072);
	set_int(o, t, SOL_SOCKET, SO_RCVBUF, 65536);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_RCVBUF), 131072);
	/* Clamped below ... */
	set_int(o, t, SOL_SOCKET, SO_SNDBUF, 1);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDBUF), 4608);
	set_int(o, t, SOL_SOCKET, SO_RCVBUF, 1);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_RCVBUF), 2304);
	set_int(o, u, SOL_SOCKET, SO_RCVBUF, 0);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_RCVBUF), 2304);
	/* ... and above, by wmem_max / rmem_max. */
	if (e->is_shunt) {
		/* Deliberate: shunt applies Linux's default limits (212992); it does not read the host's sysctls. */
		wmax = rmax = 212992;
	} else {
		wmax = sysctl_long("/proc/sys/net/core/wmem_max", 212992);
		rmax = sysctl_long("/proc/sys/net/core/rmem_max", 212992);
	}
	set_int(o, t, SOL_SOCKET, SO_SNDBUF, 1 << 30);
	CHECK_EQ(so_int(o, t, SOL_SOCKET, SO_SNDBUF), 2 * wmax);
	set_int(o, u, SOL_SOCKET, SO_RCVBUF, 1 << 30);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_RCVBUF), 2 * rmax);
	set_int(o, u, SOL_SOCKET, SO_SNDBUF, 10000);
	CHECK_EQ(so_int(o, u, SOL_SOCKET, SO_SNDBUF), 20000);
	SO(o, close, t);
	SO(o, close, u);
}

SOCKTEST(opt_timeouts_linger)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 1, 500000 }, got;
	struct linger lg = { 1, 30 }, lgot;
	socklen_t l = sizeof(got);

	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &got, &l), 0);
	CHECK(got.tv_sec == 1 && got.tv_usec == 500000);
	/* Linux keeps timeouts in jiffies: 200 ms survives the round trip at HZ 100, 250 and 1000. */
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	l = sizeof(got);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_SNDTIMEO, &got, &l), 0);
	CHECK(got.tv_sec == 0 && got.tv_usec == 200000);
	/* A microsecond count of a second or more is out of the domain. */
	tv.tv_usec = 1000000;
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv) - 1), EINVAL);
	/* Zero: wait forever again. */
	tv.tv_sec = tv.tv_usec = 0;
	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	l = sizeof(got);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_RCVTIMEO, &got, &l), 0);
	CHECK(got.tv_sec == 0 && got.tv_usec == 0);
	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	l = sizeof(lgot);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_LINGER, &lgot, &l), 0);
	CHECK(lgot.l_onoff == 1 && lgot.l_linger == 30);
	CHECK_ERR(SO(o, setsockopt, t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg) - 1), EINVAL);
	lg.l_onoff = 0;
	CHECK_EQ(SO(o, setsockopt, t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	l = sizeof(lgot);
	CHECK_EQ(SO(o, getsockopt, t, SOL_SOCKET, SO_LINGER, &lgot, &l), 0);
	CHECK(lgot.l_onoff == 0 && lgot.l_linger == 30);
	SO(o, close, t);
}

SOCKTEST(opt_tcp_keepalive_knobs)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0), v;

	set_int(o, t, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	set_int(o, t, IPPROTO_TCP, TCP_KEEPINTVL, 3);
	set_int(o, t, IPPROTO_TCP, TCP_KEEPCNT, 4);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPIDLE), 10);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPINTVL), 3);
	CHECK_EQ(so_int(o, t, IPPROTO_TCP, TCP_KEEPCNT), 4);
	v = 0;
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)), EINVAL);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), EINVAL);
	v = 32768;
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL);
	v = 128;
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), EINVAL);
	SO(o, close, t);
}

SOCKTEST(opt_tcp_maxseg)
{
	int t = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0), v, cfd, sfd, mss;

	set_int(e->cli, t, IPPROTO_TCP, TCP_MAXSEG, 1000);
	CHECK_EQ(so_int(e->cli, t, IPPROTO_TCP, TCP_MAXSEG), 1000);
	v = 10;
	CHECK_ERR(SO(e->cli, setsockopt, t, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), EINVAL);
	v = 65536;
	CHECK_ERR(SO(e->cli, setsockopt, t, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), EINVAL);
	SO(e->cli, close, t);
	tcp_pair(e, NULL, &cfd, &sfd);
	mss = so_int(e->cli, cfd, IPPROTO_TCP, TCP_MAXSEG);
	if (e->is_shunt || e->via_shim) {
		/* The link's MTU (1500) less headers and the timestamp option: 1448. */
		CHECK_EQ(mss, 1448);
	} else {
		/* Loopback's MTU (65536) less headers, bounded by half the peer's largest window. */
		CHECK(mss > 1448 && mss <= 65483);
	}
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(opt_tcp_congestion)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	char name[16];
	socklen_t l = sizeof(name);

	memset(name, 'x', sizeof(name));
	CHECK_EQ(SO(o, getsockopt, t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	CHECK_EQ(l, 16);
	if (e->is_shunt) {
		/* Deliberate: shunt's default comes from its stack config (cubic), not the host's sysctl. */
		CHECK(strcmp(name, "cubic") == 0);
	} else {
		char want[32] = "";
		FILE *f = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "r");

		if (f != NULL) {
			if (fscanf(f, "%31s", want) != 1)
				want[0] = 0;
			fclose(f);
		}
		CHECKF(strcmp(name, want) == 0, "%s != %s", name, want);
	}
	CHECK_EQ(SO(o, setsockopt, t, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	l = sizeof(name);
	CHECK_EQ(SO(o, getsockopt, t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	CHECK(strcmp(name, "reno") == 0);
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 8), ENOENT);
	l = 3;
	CHECK_EQ(SO(o, getsockopt, t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	CHECK_EQ(l, 3);
	CHECK_MEM(name, "ren", 3);
	SO(o, close, t);
}

SOCKTEST(opt_ip_ttl_tos)
{
	struct sockops *o = e->cli;
	int t = SO(o, socket, AF_INET, SOCK_STREAM, 0);
	int u = SO(o, socket, AF_INET, SOCK_DGRAM, 0), v;
	unsigned char byte;

	set_int(o, t, IPPROTO_IP, IP_TTL, 7);
	CHECK_EQ(so_int(o, t, IPPROTO_IP, IP_TTL), 7);
	set_int(o, t, IPPROTO_IP, IP_TTL, -1);	/* back to the default */
	CHECK_EQ(so_int(o, t, IPPROTO_IP, IP_TTL), 64);
	v = 0;
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	CHECK_ERR(SO(o, setsockopt, t, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	/* TCP keeps the ECN bits of the TOS byte for itself; UDP takes them as given. */
	set_int(o, t, IPPROTO_IP, IP_TOS, 0x13);
	CHECK_EQ(so_int(o, t, IPPROTO_IP, IP_TOS), 0x10);
	set_int(o, u, IPPROTO_IP, IP_TOS, 0x13);
	CHECK_EQ(so_int(o, u, IPPROTO_IP, IP_TOS), 0x13);
	/* One byte is enough for these two. */
	byte = 0x20;
	CHECK_EQ(SO(o, setsockopt, u, IPPROTO_IP, IP_TOS, &byte, 1), 0);
	CHECK_EQ(so_int(o, u, IPPROTO_IP, IP_TOS), 0x20);
	SO(o, close, t);
	SO(o, close, u);
}

SOCKTEST(opt_tcp_info)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	char buf[100];
	int t = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0), lfd, cfd, sfd, i;

	memset(&ti, 0xff, sizeof(ti));
	CHECK_EQ(SO(e->cli, getsockopt, t, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
	CHECK_EQ(ti.tcpi_state, 7);		/* TCP_CLOSE */
	SO(e->cli, close, t);
	tcp_pair(e, &lfd, &cfd, &sfd);
	l = sizeof(ti);
	CHECK_EQ(SO(e->srv, getsockopt, lfd, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
	CHECK_EQ(ti.tcpi_state, 10);		/* TCP_LISTEN */
	memset(buf, 'i', sizeof(buf));
	for (i = 0; i < 10; i++) {
		send_all(e->cli, cfd, buf, sizeof(buf));
		recv_exact(e->srv, sfd, buf, sizeof(buf));
		send_all(e->srv, sfd, buf, sizeof(buf));
		recv_exact(e->cli, cfd, buf, sizeof(buf));
	}
	sleep_ms(50);
	l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	CHECK_EQ(SO(e->cli, getsockopt, cfd, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
	CHECK(l >= 104);
	CHECK_EQ(ti.tcpi_state, 1);		/* TCP_ESTABLISHED */
	CHECK_EQ(ti.tcpi_ca_state, 0);
	CHECK_EQ(ti.tcpi_retransmits, 0);
	CHECK_EQ(ti.tcpi_unacked, 0);
	CHECK_EQ(ti.tcpi_total_retrans, 0);
	CHECK(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	CHECK(ti.tcpi_options & TCPI_OPT_SACK);
	CHECK(ti.tcpi_options & TCPI_OPT_WSCALE);
	CHECK(ti.tcpi_snd_mss > 500);
	CHECK(ti.tcpi_rcv_mss > 0);
	CHECK(ti.tcpi_rtt > 0);
	CHECK(ti.tcpi_rto >= 200000);		/* at least the 200 ms floor */
	CHECK(ti.tcpi_snd_cwnd >= 10);
	CHECK(ti.tcpi_rcv_space > 0);
	/* A short buffer gets the leading fields. */
	l = 8;
	memset(&ti, 0, sizeof(ti));
	CHECK_EQ(SO(e->cli, getsockopt, cfd, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
	CHECK_EQ(l, 8);
	CHECK_EQ(ti.tcpi_state, 1);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
	SO(e->srv, close, lfd);
}

SOCKTEST(opt_rcvlowat_gates_readiness)
{
	char buf[16];
	int cfd, sfd;

	tcp_pair(e, NULL, &cfd, &sfd);
	set_int(e->srv, sfd, SOL_SOCKET, SO_RCVLOWAT, 10);
	CHECK_EQ(so_int(e->srv, sfd, SOL_SOCKET, SO_RCVLOWAT), 10);
	send_all(e->cli, cfd, "12345", 5);
	sleep_ms(50);
	CHECK_EV(poll1(e->srv, sfd, POLLIN, 0), 0);
	send_all(e->cli, cfd, "67890", 5);
	CHECK_EV(wait_ev(e->srv, sfd, POLLIN, POLLIN, 2000), POLLIN);
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 10);
	/* 0 means 1. */
	set_int(e->srv, sfd, SOL_SOCKET, SO_RCVLOWAT, 0);
	CHECK_EQ(so_int(e->srv, sfd, SOL_SOCKET, SO_RCVLOWAT), 1);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(opt_rcvtimeo_expires)
{
	struct timeval tv = { 0, 200000 };
	char b;
	int cfd, sfd, u;
	uint64_t t0;

	tcp_pair(e, NULL, &cfd, &sfd);
	CHECK_EQ(SO(e->srv, setsockopt, sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	t0 = now_ms();
	CHECK_ERR(SO(e->srv, recv, sfd, &b, 1, 0), EAGAIN);
	CHECK(now_ms() - t0 >= 180);
	CHECK(now_ms() - t0 < 2000);
	u = SO(e->cli, socket, AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(SO(e->cli, setsockopt, u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	t0 = now_ms();
	CHECK_ERR(SO(e->cli, recv, u, &b, 1, 0), EAGAIN);
	CHECK(now_ms() - t0 >= 180);
	SO(e->cli, close, u);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(opt_sndtimeo_expires)
{
	struct timeval tv = { 0, 200000 };
	static char big[65536];
	int cfd, sfd;
	ssize_t r;
	uint64_t t0;

	tcp_pair(e, NULL, &cfd, &sfd);
	fill_send(e->cli, cfd);
	CHECK_EQ(SO(e->cli, setsockopt, cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	t0 = now_ms();
	r = SO(e->cli, send, cfd, big, sizeof(big), MSG_NOSIGNAL);
	/* Either nothing fit (EAGAIN) or a part did; the wait was bounded by the timeout. */
	CHECKF(r > 0 || (r == -1 && errno == EAGAIN), "send: %zd/%s", r, sockapi_errname(errno));
	CHECK(now_ms() - t0 >= 180);
	CHECK(now_ms() - t0 < 2000);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}

SOCKTEST(opt_rcvlowat_recv_target)
{
	struct timeval tv = { 0, 200000 };
	char buf[16];
	int cfd, sfd;
	uint64_t t0;

	tcp_pair(e, NULL, &cfd, &sfd);
	set_int(e->srv, sfd, SOL_SOCKET, SO_RCVLOWAT, 10);
	CHECK_EQ(SO(e->srv, setsockopt, sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	send_all(e->cli, cfd, "12345", 5);
	sleep_ms(50);
	/* A buffer smaller than the low-water mark is the target: no wait. */
	t0 = now_ms();
	CHECK_EQ(SO(e->srv, recv, sfd, buf, 2, 0), 2);
	CHECK(now_ms() - t0 < 150);
	/* Otherwise the call waits for the mark, then settles for what came (the timeout). */
	t0 = now_ms();
	CHECK_EQ(SO(e->srv, recv, sfd, buf, sizeof(buf), 0), 3);
	CHECK(now_ms() - t0 >= 180);
	CHECK_MEM(buf, "345", 3);
	SO(e->cli, close, cfd);
	SO(e->srv, close, sfd);
}
