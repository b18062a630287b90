/*
 * A plain program (no shunt in it) for the preload tests: under the shim,
 * kernel descriptors of every kind and shunt sockets must work side by side.
 *
 *   mixed epoll SHUNT_IP PORT LOOP_PORT   one epoll holding a TCP connection over
 *       shunt (to SHUNT_IP:PORT, which sends "hello" and waits), a TCP connection
 *       on loopback (127.0.0.1:LOOP_PORT, the same), a pipe, an eventfd, a timerfd,
 *       a signalfd and an AF_UNIX socketpair; every one must report, each once.
 *       Also resolves "localhost".
 *   mixed select SHUNT_IP PORT            a connection over shunt on a low
 *       descriptor, then 2,000 more descriptors opened; select() on the low ones
 *       must still see the connection become readable.
 * Prints "ok: ..." lines and exits 0 when all is well.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
tcp_to(const char *ip, int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die(ip);
	return fd;
}

static int
do_epoll(const char *sip, int port, int lport)
{
	enum { NET, LOOP, PIPE, EVFD, TIMER, SIG, UNIX, N };
	static const char *const names[N] = { "shunt tcp", "loopback tcp", "pipe", "eventfd", "timerfd",
	    "signalfd", "unix socket" };
	int fds[N], seen[N] = { 0 }, p[2], sv[2], ep, i, left = N;
	struct itimerspec its = { { 0, 0 }, { 0, 50000000 } };
	struct addrinfo *ai = NULL, hints;
	sigset_t set;
	uint64_t one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	if (getaddrinfo("localhost", NULL, &hints, &ai) != 0 || ai == NULL)
		die("getaddrinfo localhost");
	freeaddrinfo(ai);
	printf("ok: resolved localhost\n");

	fds[NET] = tcp_to(sip, port);
	fds[LOOP] = tcp_to("127.0.0.1", lport);
	if (pipe(p) != 0)
		die("pipe");
	fds[PIPE] = p[0];
	fds[EVFD] = eventfd(0, 0);
	fds[TIMER] = timerfd_create(CLOCK_MONOTONIC, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fds[SIG] = signalfd(-1, &set, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	fds[UNIX] = sv[0];
	ep = epoll_create1(0);
	for (i = 0; i < N; i++) {
		struct epoll_event ev = { EPOLLIN, { .u32 = (uint32_t)i } };

		if (fds[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0)
			die(names[i]);
	}
	/* Make each one ready. */
	if (write(p[1], "x", 1) != 1 || write(fds[EVFD], &one, 8) != 8 || write(sv[1], "u", 1) != 1)
		die("write");
	if (timerfd_settime(fds[TIMER], 0, &its, NULL) != 0)
		die("timerfd_settime");
	kill(getpid(), SIGUSR1);
	if (send(fds[NET], "go", 2, 0) != 2 || send(fds[LOOP], "go", 2, 0) != 2)
		die("send");
	while (left > 0) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, 5000), k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			for (i = 0; i < N; i++)
				if (!seen[i])
					fprintf(stderr, "FAIL: %s never became ready\n", names[i]);
			return 1;
		}
		for (k = 0; k < n; k++) {
			char buf[256];	/* a signalfd read takes at least one 128-byte record */
			int w = (int)ev[k].data.u32;

			if (seen[w])
				continue;
			/* Consume it so that level-triggered epoll does not report it again. */
			if (read(fds[w], buf, sizeof(buf)) <= 0)
				die(names[w]);
			if ((w == NET || w == LOOP) && strncmp(buf, "hello", 5) != 0) {
				fprintf(stderr, "FAIL: %s read '%.5s'\n", names[w], buf);
				return 1;
			}
			seen[w] = 1;
			left--;
			printf("ok: %s ready in the shared epoll\n", names[w]);
		}
	}
	return 0;
}

static int
do_select(const char *sip, int port)
{
	int s = tcp_to(sip, port), p[2], i, opened = 0;
	fd_set rs;
	struct timeval tv = { 5, 0 };

	if (pipe(p) != 0)
		die("pipe");
	for (i = 0; i < 2000; i++) {
		if (open("/dev/null", O_RDONLY) < 0)
			break;
		opened++;
	}
	if (opened < 2000)
		die("opening 2,000 descriptors");
	printf("ok: connection on fd %d, pipe on fd %d, then %d more descriptors open\n", s, p[0], opened);
	if (s >= FD_SETSIZE || p[0] >= FD_SETSIZE) {
		fprintf(stderr, "FAIL: low descriptors were not low\n");
		return 1;
	}
	if (send(s, "go", 2, 0) != 2)
		die("send");
	FD_ZERO(&rs);
	FD_SET(s, &rs);
	FD_SET(p[0], &rs);
	i = select((s > p[0] ? s : p[0]) + 1, &rs, NULL, NULL, &tv);
	if (i != 1 || !FD_ISSET(s, &rs) || FD_ISSET(p[0], &rs)) {
		fprintf(stderr, "FAIL: select returned %d (conn %d, pipe %d)\n", i, FD_ISSET(s, &rs), FD_ISSET(p[0], &rs));
		return 1;
	}
	printf("ok: select() saw the connection readable and the pipe not\n");
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && strcmp(argv[1], "epoll") == 0)
		return do_epoll(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 4 && strcmp(argv[1], "select") == 0)
		return do_select(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: mixed epoll SHUNT_IP PORT LOOP_PORT | mixed select SHUNT_IP PORT\n");
	return 2;
}
