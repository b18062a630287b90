/*
 * The suite's runner glue and helpers: set up a backend, run one body,
 * tear down; small socket chores written once against the ops tables.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "sockapi.h"

void
sockenv_run(const struct sockbackend *b, sockbody_fn body)
{
	struct sockenv e;

	memset(&e, 0, sizeof(e));
	e.b = b;
	/* A test that breaks a pipe must see EPIPE, not die, unless it asks for SIGPIPE itself. */
	signal(SIGPIPE, SIG_IGN);
	b->setup(&e);
	body(&e);
	b->teardown(&e);
}

void
sockenv_refork(struct sockenv *e)
{
	const struct sockbackend *b = e->b;

	if (!e->is_shunt)
		return;
	memset(e, 0, sizeof(*e));
	e->b = b;
	b->setup(e);
}

const char *
sockapi_errname(int e)
{
	static char buf[32];

	switch (e) {
#define E(x) case x: return #x;
	E(0) E(EPERM) E(ENOENT) E(EINTR) E(EBADF) E(EAGAIN) E(ENOMEM) E(EFAULT) E(EEXIST) E(EINVAL)
	E(EMFILE) E(ENOTTY) E(EPIPE) E(EDOM) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE)
	E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE)
	E(EADDRNOTAVAIL) E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN)
	E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ELOOP) E(EACCES)
#undef E
	default:
		snprintf(buf, sizeof(buf), "errno %d", e);
		return buf;
	}
}

const char *
sockapi_evname(unsigned ev, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ EPOLLIN, "IN" }, { EPOLLPRI, "PRI" }, { EPOLLOUT, "OUT" }, { EPOLLERR, "ERR" },
		{ EPOLLHUP, "HUP" }, { EPOLLRDNORM, "RDNORM" }, { EPOLLRDBAND, "RDBAND" },
		{ EPOLLWRNORM, "WRNORM" }, { EPOLLWRBAND, "WRBAND" }, { EPOLLMSG, "MSG" },
		{ EPOLLRDHUP, "RDHUP" },
	};
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ev & names[i].bit) {
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", names[i].name);
			ev &= ~names[i].bit;
		}
	}
	if (ev != 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s0x%x", n ? "|" : "", ev);
	if (n == 0)
		snprintf(buf, len, "0");
	return buf;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct sockaddr_in
side_addr(const struct sockops *o, uint16_t port)
{
	struct sockaddr_in a = o->addr;

	a.sin_port = htons(port);
	return a;
}

uint16_t
sock_port(struct sockops *o, int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	CHECK_OK(SO(o, getsockname, fd, (struct sockaddr *)&a, &l));
	return ntohs(a.sin_port);
}

int
tcp_listener(struct sockops *o, int backlog, struct sockaddr_in *sa)
{
	struct sockaddr_in a = side_addr(o, 0);
	socklen_t l = sizeof(a);
	int fd = SO(o, socket, AF_INET, SOCK_STREAM, 0);

	CHECK_OK(fd);
	CHECK_OK(SO(o, bind, fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(SO(o, listen, fd, backlog));
	CHECK_OK(SO(o, getsockname, fd, (struct sockaddr *)&a, &l));
	if (sa != NULL)
		*sa = a;
	return fd;
}

void
tcp_pair(struct sockenv *e, int *lfd, int *cfd, int *sfd)
{
	struct sockaddr_in sa;
	int l = tcp_listener(e->srv, 16, &sa);

	*cfd = SO(e->cli, socket, AF_INET, SOCK_STREAM, 0);
	CHECK_OK(*cfd);
	CHECK_OK(SO(e->cli, connect, *cfd, (struct sockaddr *)&sa, sizeof(sa)));
	*sfd = SO(e->srv, accept, l, NULL, NULL);
	CHECK_OK(*sfd);
	if (lfd != NULL)
		*lfd = l;
	else
		CHECK_OK(SO(e->srv, close, l));
}

struct sockaddr_in
closed_port(struct sockenv *e)
{
	struct sockaddr_in a = side_addr(e->srv, 0);
	socklen_t l = sizeof(a);
	int fd = SO(e->srv, socket, AF_INET, SOCK_STREAM, 0);

	/* Bound but never listening, then closed: nothing answers on that port. */
	CHECK_OK(SO(e->srv, bind, fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(SO(e->srv, getsockname, fd, (struct sockaddr *)&a, &l));
	CHECK_OK(SO(e->srv, close, fd));
	return a;
}

int
udp_bound(struct sockops *o, struct sockaddr_in *sa)
{
	struct sockaddr_in a = side_addr(o, 0);
	socklen_t l = sizeof(a);
	int fd = SO(o, socket, AF_INET, SOCK_DGRAM, 0);

	CHECK_OK(fd);
	CHECK_OK(SO(o, bind, fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(SO(o, getsockname, fd, (struct sockaddr *)&a, &l));
	if (sa != NULL)
		*sa = a;
	return fd;
}

short
poll1(struct sockops *o, int fd, short events, int timeout_ms)
{
	struct pollfd p = { fd, events, 0 };
	int r = SO(o, poll, &p, 1, timeout_ms);

	CHECKF(r >= 0, "poll: %s", sockapi_errname(errno));
	return r == 0 ? 0 : p.revents;
}

short
wait_ev(struct sockops *o, int fd, short events, short want, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	short rev;

	for (;;) {
		rev = poll1(o, fd, events, 20);
		if ((rev & want) == want || now_ms() >= end)
			return rev;
		if (rev != 0)
			sleep_ms(5);	/* ready for something else: do not spin */
	}
}

void
send_all(struct sockops *o, int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = SO(o, send, fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);

		CHECKF(r > 0, "send: %zd/%s", r, sockapi_errname(errno));
		off += (size_t)r;
	}
}

void
recv_exact(struct sockops *o, int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = SO(o, recv, fd, (char *)buf + off, len - off, 0);

		CHECKF(r > 0, "recv: %zd/%s after %zu of %zu", r, sockapi_errname(errno), off, len);
		off += (size_t)r;
	}
}

size_t
fill_send(struct sockops *o, int fd)
{
	static char junk[65536];
	size_t total = 0;
	int idle = 0;

	/* The path drains into the peer's buffer for a while after the first EAGAIN. */
	while (idle < 5) {
		ssize_t r = SO(o, send, fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			total += (size_t)r;
			idle = 0;
			continue;
		}
		CHECKF(r < 0 && errno == EAGAIN, "fill: %zd/%s", r, sockapi_errname(errno));
		idle++;
		sleep_ms(20);
	}
	return total;
}

size_t
drain(struct sockops *o, int fd)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t r;

	while ((r = SO(o, recv, fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)r;
	return total;
}

long
sysctl_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v = dflt;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

int
so_int(struct sockops *o, int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);

	CHECK_OK(SO(o, getsockopt, fd, level, name, &v, &l));
	CHECK_EQ(l, sizeof(int));
	return v;
}

void
set_int(struct sockops *o, int fd, int level, int name, int v)
{
	CHECK_OK(SO(o, setsockopt, fd, level, name, &v, sizeof(v)));
}

static volatile sig_atomic_t sig_counts[65];

static void
count_handler(int sig)
{
	if (sig > 0 && sig < 65)
		sig_counts[sig]++;
}

void
count_signal(int sig, int restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_handler;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(sig, &sa, NULL), 0);
}

int
signal_count(int sig)
{
	return sig_counts[sig];
}

struct later {
	pthread_t th;
	void (*fn)(void *);
	void *arg;
	unsigned ms;
};

static void *
later_main(void *p)
{
	struct later *l = p;

	sleep_ms(l->ms);
	l->fn(l->arg);
	return NULL;
}

struct later *
later(void (*fn)(void *), void *arg, unsigned ms)
{
	struct later *l = calloc(1, sizeof(*l));
	sigset_t all, old;

	CHECK(l != NULL);
	l->fn = fn;
	l->arg = arg;
	l->ms = ms;
	/* Signals meant for the test thread must not land on the helper. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	CHECK_EQ(pthread_create(&l->th, NULL, later_main, l), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return l;
}

void
later_join(struct later *l)
{
	pthread_join(l->th, NULL);
	free(l);
}

struct kill_later {
	struct later *l;
	pthread_t target;
	int sig;
};

static void
do_kill(void *p)
{
	struct kill_later *k = p;

	pthread_kill(k->target, k->sig);
}

struct kill_later *
kill_later(pthread_t t, int sig, unsigned ms)
{
	struct kill_later *k = calloc(1, sizeof(*k));

	CHECK(k != NULL);
	k->target = t;
	k->sig = sig;
	k->l = later(do_kill, k, ms);
	return k;
}

void
kill_later_join(struct kill_later *k)
{
	later_join(k->l);
	free(k);
}
