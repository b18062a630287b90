/*
 * One process, one stack, two APIs at once over a DPDK port: a UDP echo on
 * the raw (callback) API and a TCP echo on the socket API, side by side on
 * the same address.  The socket API needs the netconn layer's poller thread
 * (struct shunt_sys), which then owns the stack: the raw-API code takes the
 * stack's lock (shunt_sys_lock/unlock) for its own calls, and its callbacks
 * run on the poller thread, which holds the lock while it polls.
 * Uses: the raw UDP API (<shunt/udp.h>), the socket API with shunt_poll
 * (<shunt/socket.h>, <shunt/netconn.h>) and the DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/two_apis --dpdk @EAL@ --ip 198.18.0.2/24 -- \
 *       sh -c 'echo tcp | nc -q 1 198.18.0.2 7; echo udp | nc -u -w 1 198.18.0.2 7'
 *
 *   two_apis --dpdk 'EAL ARGS' --ip A.B.C.D/len [--port 7] [--udp-port P] [--gw G] [--pcap FILE]
 *            [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] [--dev NAME] [--mtu N] ...
 *
 * The TCP side is one thread serving every connection with non-blocking
 * sockets and shunt_poll (it wakes every STOP_POLL_MS to look at the stop
 * flag).  On SIGINT or SIGTERM both services stop, the program prints what
 * each did and the stack's nonzero counters, and exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/udp.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/dpdk.h>
#include "example_util.h"

#define STOP_POLL_MS	200
#define MAX_CONNS	64
#define BUF_SIZE	(64 * 1024)

/* The raw side: its counters are written by the poller thread under the stack's lock. */
struct udp_echo {
	struct shunt_udp_pcb *pcb;
	uint64_t echoed, failed;
};

static void
udp_echo_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src_ip, uint16_t src_port)
{
	struct udp_echo *u = arg;

	/* Runs on the poller thread, inside shunt_stack_poll: the lock is held already. */
	if (shunt_udp_sendto(pcb, p, src_ip, src_port) == 0)
		u->echoed++;
	else
		u->failed++;
	shunt_pbuf_free(p);
}

/* The socket side: a connection and the bytes read but not yet written back. */
struct tconn {
	int fd;
	char *buf;
	size_t len, off;
};

/* --udp-port N */
static int
udp_port_option(void *arg, int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], "--udp-port") != 0 || *i + 1 >= argc || ex_parse_port(argv[*i + 1], arg) != 0)
		return 0;
	++*i;
	return 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--udp-port P] %s\n", prog, EX_COMMON_USAGE);
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[1 + MAX_CONNS];
	struct tconn conns[MAX_CONNS];
	struct sockaddr_in sa;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct shunt_sys *sys;
	struct udp_echo u;
	struct ex_opts o;
	uint64_t tcp_conns = 0, tcp_bytes = 0;
	uint16_t udp_port = 0;
	int i, r, err, one = 1, lfd = -1, nconns = 0, rc = 0;
	char what[96];

	ex_opts_init(&o, "two_apis", 7);
	r = ex_parse_args(&o, argc, argv, udp_port_option, &udp_port, usage);
	if (r >= 0)
		return r;
	if (udp_port == 0)
		udp_port = o.port;
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	sys = ex_sys_start(&o, s, nif);
	if (sys == NULL)
		return 1;

	/* The raw API, now that the poller owns the stack: under its lock. */
	memset(&u, 0, sizeof(u));
	shunt_sys_lock(sys);
	u.pcb = shunt_udp_new(s);
	err = u.pcb == NULL ? -ENOMEM : shunt_udp_bind(u.pcb, 0, htons(udp_port));
	if (err == 0)
		shunt_udp_recv(u.pcb, udp_echo_recv, &u);
	shunt_sys_unlock(sys);
	if (err != 0) {
		fprintf(stderr, "%s: UDP port %u: %s\n", o.prog, udp_port, strerror(-err));
		rc = 1;
		goto out;
	}

	/* The socket API: no lock to take, the calls do it. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(o.port);
	lfd = shunt_socket(sys, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || shunt_setsockopt(sys, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    shunt_bind(sys, lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || shunt_listen(sys, lfd, 64) != 0) {
		fprintf(stderr, "%s: TCP port %u: %s\n", o.prog, o.port, strerror(errno));
		rc = 1;
		goto out;
	}
	ex_catch_signals();
	snprintf(what, sizeof(what), "echoing UDP port %u (raw API) and TCP (sockets)", udp_port);
	ex_announce(&o, nif, what);
	while (!ex_stopped()) {
		pfd[0].fd = lfd;
		pfd[0].events = nconns < MAX_CONNS ? POLLIN : 0;
		for (i = 0; i < nconns; i++) {
			pfd[1 + i].fd = conns[i].fd;
			/* Read only when what was read last is written back: the client's window does the rest. */
			pfd[1 + i].events = conns[i].len > conns[i].off ? POLLOUT : POLLIN;
		}
		r = shunt_poll(sys, pfd, (nfds_t)(1 + nconns), STOP_POLL_MS);
		if (r <= 0)
			continue;
		for (i = nconns - 1; i >= 0; i--) {
			struct tconn *c = &conns[i];
			ssize_t n;
			int done = 0;

			if (pfd[1 + i].revents == 0)
				continue;
			if (c->len == c->off) {
				n = shunt_read(sys, c->fd, c->buf, BUF_SIZE);
				if (n > 0) {
					c->len = (size_t)n;
					c->off = 0;
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
					done = 1;
				}
			}
			while (!done && c->off < c->len) {
				n = shunt_write(sys, c->fd, c->buf + c->off, c->len - c->off);
				if (n > 0) {
					c->off += (size_t)n;
					tcp_bytes += (uint64_t)n;
				} else {
					if (errno != EAGAIN && errno != EINTR)
						done = 1;
					break;
				}
			}
			if (done) {
				shunt_close(sys, c->fd);
				free(c->buf);
				conns[i] = conns[--nconns];
			}
		}
		if (pfd[0].revents & POLLIN) {
			int fd;

			while (nconns < MAX_CONNS && (fd = shunt_accept4(sys, lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				conns[nconns].fd = fd;
				conns[nconns].len = conns[nconns].off = 0;
				conns[nconns].buf = malloc(BUF_SIZE);
				if (conns[nconns].buf == NULL) {
					shunt_close(sys, fd);
					continue;
				}
				nconns++;
				tcp_conns++;
			}
		}
	}
	shunt_sys_lock(sys);
	printf("%s: stopping: UDP (raw API): %llu datagrams echoed, %llu could not be sent; "
	    "TCP (sockets): %llu connections, %llu bytes echoed\n", o.prog, (unsigned long long)u.echoed,
	    (unsigned long long)u.failed, (unsigned long long)tcp_conns, (unsigned long long)tcp_bytes);
	shunt_sys_unlock(sys);
out:
	for (i = 0; i < nconns; i++) {
		shunt_close(sys, conns[i].fd);
		free(conns[i].buf);
	}
	if (lfd >= 0)
		shunt_close(sys, lfd);
	if (u.pcb != NULL) {
		shunt_sys_lock(sys);
		shunt_udp_remove(u.pcb);
		shunt_sys_unlock(sys);
	}
	shunt_sys_destroy(sys);
	ex_finish(&o, s, nif);
	return rc;
}
