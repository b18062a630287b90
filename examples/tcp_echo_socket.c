/*
 * TCP echo server on shunt's socket API over a DPDK port: BSD calls with
 * Linux semantics (shunt_socket, shunt_bind, shunt_accept, shunt_read ...),
 * blocking, a thread per connection -- the classic forking server, written
 * the way one would write it for the kernel.  A poller thread (struct
 * shunt_sys) drives the stack underneath.
 * Uses: the socket API (<shunt/socket.h>), the netconn layer's threading
 * (<shunt/netconn.h>) and the DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/tcp_echo_socket --dpdk @EAL@ --ip 198.18.0.2/24 -- \
 *       sh -c 'echo hello | nc -q 1 198.18.0.2 7'
 *
 *   tcp_echo_socket --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port 7] [--max-conns 64]
 *                   [--pcap FILE] [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] ...
 *
 * Sockets carry SO_RCVTIMEO/SO_SNDTIMEO of STOP_POLL_MS and the listener is
 * waited on with shunt_poll, so every thread sees the stop flag soon after
 * SIGINT or SIGTERM; the program then waits for its threads, prints what it
 * echoed and the stack's nonzero counters, and exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/dpdk.h>
#include "example_util.h"

#define STOP_POLL_MS	200
#define BUF_SIZE	(64 * 1024)

struct server {
	struct shunt_sys *sys;
	pthread_mutex_t lock;
	pthread_cond_t done;
	uint32_t live, max_conns;
	uint64_t accepted, refused, closed, failed, bytes;
};

struct worker {
	struct server *srv;
	int fd;
};

/* Writes all of buf; 0, or -errno. */
static int
write_all(struct shunt_sys *sys, int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = shunt_write(sys, fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !ex_stopped())
			continue;
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

static void *
echo_thread(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct shunt_sys *sys = srv->sys;
	struct timeval tv = { 0, STOP_POLL_MS * 1000 };
	char *buf = malloc(BUF_SIZE);
	int fd = w->fd, ok = buf != NULL;

	shunt_setsockopt(sys, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	shunt_setsockopt(sys, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (ok && !ex_stopped()) {
		ssize_t n = shunt_read(sys, fd, buf, BUF_SIZE);

		if (n == 0)
			break;	/* the client's FIN: all it sent was echoed */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ok = 0;
			break;
		}
		if (write_all(sys, fd, buf, (size_t)n) != 0) {
			ok = 0;
			break;
		}
		__atomic_fetch_add(&srv->bytes, (uint64_t)n, __ATOMIC_RELAXED);
	}
	shunt_close(sys, fd);
	free(buf);
	pthread_mutex_lock(&srv->lock);
	if (ok)
		srv->closed++;
	else
		srv->failed++;
	srv->live--;
	pthread_cond_signal(&srv->done);
	pthread_mutex_unlock(&srv->lock);
	free(w);
	return NULL;
}

/* A detached thread for fd, its signals blocked so that the main thread is the one they interrupt. */
static int
spawn(struct server *srv, int fd)
{
	struct worker *w = malloc(sizeof(*w));
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;
	int e;

	if (w == NULL)
		return -ENOMEM;
	w->srv = srv;
	w->fd = fd;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&th, &attr, echo_thread, w);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		free(w);
		return -e;
	}
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--max-conns N] %s\n", prog, EX_COMMON_USAGE);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct shunt_sys *sys;
	struct server srv;
	struct ex_opts o;
	uint64_t maxc = 64;
	int r, one = 1, lfd, rc = 0;

	ex_opts_init(&o, "tcp_echo_socket", 7);
	r = ex_parse_args(&o, argc, argv, ex_max_conns_option, &maxc, usage);
	if (r >= 0)
		return r;
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	sys = ex_sys_start(&o, s, nif);
	if (sys == NULL)
		return 1;
	memset(&srv, 0, sizeof(srv));
	srv.sys = sys;
	srv.max_conns = (uint32_t)maxc;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.done, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(o.port);
	lfd = shunt_socket(sys, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || shunt_setsockopt(sys, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    shunt_bind(sys, lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || shunt_listen(sys, lfd, 128) != 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", o.prog, o.port, strerror(errno));
		rc = 1;
		goto out;
	}
	ex_catch_signals();
	ex_announce(&o, nif, "echoing TCP (sockets, a thread per connection)");
	while (!ex_stopped()) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int fd;

		r = shunt_poll(sys, &pfd, 1, STOP_POLL_MS);
		if (r <= 0)
			continue;	/* timeout, or EINTR from the signal that stops us */
		fd = shunt_accept(sys, lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "%s: accept: %s\n", o.prog, strerror(errno));
			break;
		}
		pthread_mutex_lock(&srv.lock);
		if (srv.live >= srv.max_conns) {
			pthread_mutex_unlock(&srv.lock);
			srv.refused++;
			shunt_close(sys, fd);
			continue;
		}
		srv.live++;
		srv.accepted++;
		pthread_mutex_unlock(&srv.lock);
		if (spawn(&srv, fd) != 0) {
			pthread_mutex_lock(&srv.lock);
			srv.live--;
			srv.failed++;
			pthread_mutex_unlock(&srv.lock);
			shunt_close(sys, fd);
		}
	}
	pthread_mutex_lock(&srv.lock);
	while (srv.live > 0)
		pthread_cond_wait(&srv.done, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	printf("%s: stopping: %llu connections (%llu closed, %llu failed, %llu refused over --max-conns), "
	    "%llu bytes echoed\n", o.prog, (unsigned long long)srv.accepted, (unsigned long long)srv.closed,
	    (unsigned long long)srv.failed, (unsigned long long)srv.refused, (unsigned long long)srv.bytes);
out:
	if (lfd >= 0)
		shunt_close(sys, lfd);
	shunt_sys_destroy(sys);
	ex_finish(&o, s, nif);
	pthread_cond_destroy(&srv.done);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
