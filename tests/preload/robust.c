/*
 * A plain program (no shunt in it) for tests/adversarial/preload_robust.sh:
 * what a real program does to its sockets, under the preload shim, must
 * neither crash, nor hang, nor lose data.
 *
 *   robust eintr HOST ECHO_PORT      blocking recv, accept, poll and epoll_wait
 *       interrupted by a 2 ms interval timer: without SA_RESTART they return
 *       EINTR (recv, accept) and the program carries on; with SA_RESTART recv
 *       restarts and never says EINTR (poll and epoll_wait say it either way,
 *       as on Linux); every byte of a 4 MB echo exchange made meanwhile is intact.
 *   robust close HOST ECHO_PORT      a thread blocks in recv (and another in
 *       epoll_wait) while the main thread closes the socket; the peer closes its
 *       end soon after, so the blocked calls end; the descriptor number is then
 *       reused by a new connection that works.
 *   robust fork HOST ECHO_PORT N     while a thread streams 8 MB through the echo
 *       server and checks every byte, the main thread forks N children: half
 *       exec /bin/sh to check that SHUNT_* is still in the environment, half
 *       exit at once; the stream must finish intact.
 * Prints "ok: ..." lines; exits 0 when all is well, 1 (with "FAIL: ...") if not.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

static const char *host;
static int port;
static volatile sig_atomic_t ticks;

#define FAIL(...) do { printf("FAIL: " __VA_ARGS__); printf("\n"); fflush(stdout); exit(1); } while (0)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		FAIL("socket: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &a.sin_addr);
	while (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (errno == EINTR)
			continue;	/* a connect interrupted goes on in the background: wait for it */
		if (errno == EALREADY || errno == EINPROGRESS) {
			struct pollfd p = { fd, POLLOUT, 0 };

			poll(&p, 1, 1000);
			continue;
		}
		if (errno == EISCONN)
			break;
		FAIL("connect %s:%d: %s", host, port, strerror(errno));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static uint8_t
pat(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static void
on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void
timer_on(int restart)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
timer_off(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Sends and receives n bytes of the pattern through the echo, interrupted or not; returns EINTRs seen. */
static int
echo_exchange(int fd, uint64_t n)
{
	static uint8_t buf[65536];
	uint64_t sent = 0, got = 0;
	int eintr = 0;

	while (got < n) {
		struct pollfd p = { fd, POLLIN | (sent < n ? POLLOUT : 0), 0 };
		int r = poll(&p, 1, 5000);

		if (r < 0 && errno == EINTR) {
			eintr++;
			continue;
		}
		if (r <= 0)
			FAIL("echo stalled at %llu sent, %llu received", (unsigned long long)sent, (unsigned long long)got);
		if ((p.revents & POLLOUT) && sent < n) {
			size_t k, len = n - sent < 16384 ? (size_t)(n - sent) : 16384;
			ssize_t w;

			for (k = 0; k < len; k++)
				buf[k] = pat(sent + k);
			w = send(fd, buf, len, MSG_DONTWAIT);
			if (w > 0)
				sent += (uint64_t)w;
			else if (w < 0 && errno == EINTR)
				eintr++;
			else if (w < 0 && errno != EAGAIN)
				FAIL("send: %s", strerror(errno));
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r2 = recv(fd, buf, sizeof(buf), MSG_DONTWAIT), k;

			if (r2 == 0)
				FAIL("echo closed early at %llu", (unsigned long long)got);
			if (r2 < 0) {
				if (errno == EINTR)
					eintr++;
				else if (errno != EAGAIN)
					FAIL("recv: %s", strerror(errno));
				continue;
			}
			for (k = 0; k < r2; k++)
				if (buf[k] != pat(got + (uint64_t)k))
					FAIL("byte %llu of the echo differs", (unsigned long long)(got + (uint64_t)k));
			got += (uint64_t)r2;
		}
	}
	return eintr;
}

static int
do_eintr(void)
{
	int fd, lfd, ep, n, eintr;
	char b[16];
	double t0;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct epoll_event ev, evs[4];

	fd = dial();
	/* 1. recv blocked with nothing to read, no SA_RESTART: EINTR, the socket still fine. */
	timer_on(0);
	t0 = now();
	n = (int)recv(fd, b, sizeof(b), 0);
	if (n != -1 || errno != EINTR)
		FAIL("blocking recv under a timer without SA_RESTART returned %d (%s), want EINTR", n, strerror(errno));
	printf("ok: recv without SA_RESTART: EINTR after %.1f ms\n", (now() - t0) * 1e3);
	/* 2. poll and epoll_wait: EINTR. */
	{
		struct pollfd p = { fd, POLLIN, 0 };

		n = poll(&p, 1, 2000);
		if (n != -1 || errno != EINTR)
			FAIL("poll under a timer returned %d, want EINTR", n);
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	n = epoll_wait(ep, evs, 4, 2000);
	if (n != -1 || errno != EINTR)
		FAIL("epoll_wait under a timer returned %d, want EINTR", n);
	printf("ok: poll and epoll_wait: EINTR\n");
	/* 3. accept on a shunt listener: EINTR. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, getenv("ROBUST_SELF") ? getenv("ROBUST_SELF") : "198.18.0.2", &a.sin_addr);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4) != 0)
		FAIL("listener: %s", strerror(errno));
	n = accept(lfd, (struct sockaddr *)&a, &al);
	if (n != -1 || errno != EINTR)
		FAIL("accept under a timer returned %d (%s), want EINTR", n, strerror(errno));
	close(lfd);
	printf("ok: accept without SA_RESTART: EINTR\n");
	/* 4. 4 MB through the echo while the timer fires: every byte intact. */
	eintr = echo_exchange(fd, 4u << 20);
	printf("ok: 4 MB echoed intact under the timer (%d EINTRs on the way, %d ticks)\n", eintr, (int)ticks);
	/* 5. SA_RESTART: a blocking recv restarts; the peer's bytes arrive after 300 ms of ticks. */
	timer_on(1);
	if (send(fd, "delay", 5, 0) != 5)	/* the helper echoes "delay" 300 ms late */
		FAIL("send: %s", strerror(errno));
	t0 = now();
	n = (int)recv(fd, b, 5, MSG_WAITALL);
	if (n != 5 || memcmp(b, "delay", 5) != 0)
		FAIL("recv with SA_RESTART returned %d (%s), want the 5 delayed bytes", n, n < 0 ? strerror(errno) : "");
	printf("ok: recv with SA_RESTART restarted through %.0f ms of ticks and got its bytes\n", (now() - t0) * 1e3);
	timer_off();
	close(ep);
	close(fd);
	return 0;
}

struct blocked {
	int fd, ep;
	int rc, err;
	double done;
};

static void *
recv_thread(void *arg)
{
	struct blocked *b = arg;
	char c[16];

	b->rc = (int)recv(b->fd, c, sizeof(c), 0);
	b->err = errno;
	b->done = now();
	return NULL;
}

static void *
epoll_thread(void *arg)
{
	struct blocked *b = arg;
	struct epoll_event ev[4];

	b->rc = epoll_wait(b->ep, ev, 4, 300);	/* a closed descriptor leaves the set: a timeout, as on Linux */
	b->err = errno;
	b->done = now();
	return NULL;
}

static int
do_close(void)
{
	struct blocked r, e;
	pthread_t tr, te;
	struct epoll_event ev;
	double t0;
	int fd, fd2, i;

	for (i = 0; i < 20; i++) {
		fd = dial();
		memset(&r, 0, sizeof(r));
		memset(&e, 0, sizeof(e));
		r.fd = fd;
		e.ep = epoll_create1(0);
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(e.ep, EPOLL_CTL_ADD, fd, &ev);
		pthread_create(&tr, NULL, recv_thread, &r);
		pthread_create(&te, NULL, epoll_thread, &e);
		usleep(20000);
		/* The helper closes its end 200 ms after it reads "bye": the blocked recv then ends (Linux). */
		if (send(fd, "bye", 3, 0) != 3)
			FAIL("send: %s", strerror(errno));
		t0 = now();
		if (close(fd) != 0)
			FAIL("close with a thread blocked in recv: %s", strerror(errno));
		/* The number is free now: a new connection may take it, and must work. */
		fd2 = dial();
		if (echo_exchange(fd2, 100000) < 0)
			FAIL("new connection");
		pthread_join(tr, NULL);
		pthread_join(te, NULL);
		if (r.done - t0 > 5)
			FAIL("recv stayed blocked %.1f s after its socket was closed", r.done - t0);
		close(e.ep);
		close(fd2);
		if (i == 0)
			printf("ok: recv blocked on a socket closed by another thread ended after %.0f ms (rc %d, %s); "
			    "epoll_wait ended (rc %d); the number %d was reused (new descriptor %d) and works\n",
			    (r.done - t0) * 1e3, r.rc, r.rc < 0 ? strerror(r.err) : "ok", e.rc, fd, fd2);
	}
	printf("ok: 20 rounds of close-while-blocked, no crash, no hang\n");
	return 0;
}

struct streamer {
	uint64_t n;
	int done;
};

static void *
stream_thread(void *arg)
{
	struct streamer *s = arg;
	int fd = dial();

	echo_exchange(fd, s->n);
	close(fd);
	s->done = 1;
	return NULL;
}

static int
do_fork(int nkids)
{
	struct streamer s = { 8u << 20, 0 };
	pthread_t th;
	int i, bad = 0, execd = 0;
	double t0 = now();

	pthread_create(&th, NULL, stream_thread, &s);
	for (i = 0; i < nkids; i++) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			FAIL("fork: %s", strerror(errno));
		if (pid == 0) {
			if (i % 2 == 0) {
				execl("/bin/sh", "sh", "-c", "test -n \"$SHUNT_IP\" && test -n \"$LD_PRELOAD\"", (char *)NULL);
				_exit(127);
			}
			_exit(0);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
		else if (i % 2 == 0)
			execd++;
		usleep(5000);
	}
	pthread_join(th, NULL);
	if (bad)
		FAIL("%d of %d children failed (an exec'd child lost SHUNT_* from its environment?)", bad, nkids);
	printf("ok: %d forks (%d exec'd /bin/sh and found SHUNT_IP and LD_PRELOAD) while 8 MB streamed intact "
	    "in %.1f s\n", nkids, execd, now() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: robust eintr|close|fork HOST PORT [N]\n");
		return 2;
	}
	host = argv[2];
	port = atoi(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "eintr") == 0)
		return do_eintr();
	if (strcmp(argv[1], "close") == 0)
		return do_close();
	if (strcmp(argv[1], "fork") == 0)
		return do_fork(argc > 4 ? atoi(argv[4]) : 40);
	return 2;
}
