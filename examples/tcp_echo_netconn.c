/*
 * TCP echo server on shunt's netconn (sequential) API over a DPDK port: a
 * poller thread drives the stack (struct shunt_sys), the main thread accepts,
 * and a thread per connection echoes with blocking calls.  The echo is
 * zero-copy: shunt_netconn_recv_pbuf hands over the received buffers and
 * shunt_netconn_write_pbuf queues those very buffers for sending.
 * Uses: the netconn API and its threading model (<shunt/netconn.h>) and the
 * DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/tcp_echo_netconn --dpdk @EAL@ --ip 198.18.0.2/24 -- \
 *       sh -c 'echo hello | nc -q 1 198.18.0.2 7'
 *
 *   tcp_echo_netconn --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port 7] [--max-conns 64]
 *                    [--pcap FILE] [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] ...
 *
 * Blocking calls carry a timeout (STOP_POLL_MS) so that every thread sees
 * the stop flag soon after SIGINT or SIGTERM; then the program waits for
 * its connection threads, prints what it echoed and the stack's nonzero
 * counters, and exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/netconn.h>
#include <shunt/dpdk.h>
#include "example_util.h"

#define STOP_POLL_MS	200
#define RECV_MAX	(64 * 1024)	/* a received chain must fit in the send buffer whole */

struct server {
	struct shunt_sys *sys;
	pthread_mutex_t lock;
	pthread_cond_t done;
	uint32_t live, max_conns;
	uint64_t accepted, refused, closed, failed, bytes;
};

struct worker {
	struct server *srv;
	struct shunt_netconn *nc;
};

static void
count_bytes(struct server *srv, uint64_t n)
{
	__atomic_fetch_add(&srv->bytes, n, __ATOMIC_RELAXED);
}

static void *
echo_thread(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct shunt_netconn *nc = w->nc;
	int r, ok = 1;

	shunt_netconn_set_recv_timeout(nc, STOP_POLL_MS);
	shunt_netconn_set_send_timeout(nc, STOP_POLL_MS);
	while (!ex_stopped()) {
		struct shunt_pbuf *p = NULL;
		uint32_t len;

		r = shunt_netconn_recv_pbuf(nc, &p, RECV_MAX, 0, NULL, NULL);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r < 0) {
			ok = 0;
			break;
		}
		if (r == 0)
			break;	/* the client's FIN: all it sent was echoed */
		len = p->tot_len;
		/* p's reference passes to the stack on success; on failure it is still ours. */
		do {
			r = shunt_netconn_write_pbuf(nc, p, 0);
		} while ((r == -EAGAIN || r == -EINTR) && !ex_stopped());
		if (r != 0) {
			shunt_netconn_free_pbuf(nc, p);
			ok = 0;
			break;
		}
		count_bytes(srv, len);
	}
	/* A graceful close: our FIN goes after the last echoed byte. */
	shunt_netconn_delete(nc);
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

/* Starts a detached thread for nc, its signals blocked so that the main thread is the one they interrupt. */
static int
spawn(struct server *srv, struct shunt_netconn *nc)
{
	struct worker *w = malloc(sizeof(*w));
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;
	int e;

	if (w == NULL)
		return -ENOMEM;
	w->srv = srv;
	w->nc = nc;
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
	struct shunt_netconn *lnc = NULL, *nc;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct shunt_sys *sys;
	struct server srv;
	struct ex_opts o;
	uint64_t maxc = 64;
	int r, err, rc = 0;

	ex_opts_init(&o, "tcp_echo_netconn", 7);
	r = ex_parse_args(&o, argc, argv, ex_max_conns_option, &maxc, usage);
	if (r >= 0)
		return r;
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	/* From here the poller thread owns the stack: touch it only through netconn calls (or under the lock). */
	sys = ex_sys_start(&o, s, nif);
	if (sys == NULL)
		return 1;
	memset(&srv, 0, sizeof(srv));
	srv.sys = sys;
	srv.max_conns = (uint32_t)maxc;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.done, NULL);
	lnc = shunt_netconn_new(sys, SHUNT_NETCONN_TCP, &err);
	if (lnc == NULL || (err = shunt_netconn_bind(lnc, 0, htons(o.port))) != 0 ||
	    (err = shunt_netconn_listen(lnc, 128)) != 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", o.prog, o.port, strerror(-err));
		rc = 1;
		goto out;
	}
	shunt_netconn_set_recv_timeout(lnc, STOP_POLL_MS);
	ex_catch_signals();
	ex_announce(&o, nif, "echoing TCP (netconn, a thread per connection)");
	while (!ex_stopped()) {
		r = shunt_netconn_accept(lnc, &nc);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r != 0) {
			fprintf(stderr, "%s: accept: %s\n", o.prog, strerror(-r));
			break;
		}
		pthread_mutex_lock(&srv.lock);
		if (srv.live >= srv.max_conns) {
			pthread_mutex_unlock(&srv.lock);
			srv.refused++;
			shunt_netconn_delete(nc);
			continue;
		}
		srv.live++;
		srv.accepted++;
		pthread_mutex_unlock(&srv.lock);
		if (spawn(&srv, nc) != 0) {
			pthread_mutex_lock(&srv.lock);
			srv.live--;
			srv.failed++;
			pthread_mutex_unlock(&srv.lock);
			shunt_netconn_delete(nc);
		}
	}
	/* Every thread notices the stop flag within one timeout. */
	pthread_mutex_lock(&srv.lock);
	while (srv.live > 0)
		pthread_cond_wait(&srv.done, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	printf("%s: stopping: %llu connections (%llu closed, %llu failed, %llu refused over --max-conns), "
	    "%llu bytes echoed\n", o.prog, (unsigned long long)srv.accepted, (unsigned long long)srv.closed,
	    (unsigned long long)srv.failed, (unsigned long long)srv.refused, (unsigned long long)srv.bytes);
out:
	if (lnc != NULL)
		shunt_netconn_delete(lnc);
	/* The poller stops; the stack is the caller's again (and its counters readable without the lock). */
	shunt_sys_destroy(sys);
	ex_finish(&o, s, nif);
	pthread_cond_destroy(&srv.done);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
