/*
 * Bulk TCP transfer tool on shunt's socket API over a DPDK port, for the
 * interop tests: as a client or a server, it sends N bytes (a file, or a
 * deterministic pattern) and writes what it receives to a file, so that a
 * test can compare sha256sums with what the kernel peer sent or got.
 * Sending runs in a thread of its own, receiving in the main thread, so both
 * directions can run at once; each ends with a FIN (shutdown SHUT_WR), and the
 * transfer is over when both are done.
 * Uses: the socket API (<shunt/socket.h>) with its poller thread
 * (<shunt/netconn.h>) and the DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/tools/tcp_xfer --dpdk @EAL@ --ip 198.18.0.2/24 --listen --port 5001 \
 *       --recv-file /tmp/got -- sh -c 'head -c 10M /dev/urandom | nc -q 1 198.18.0.2 5001'
 *
 *   tcp_xfer --dpdk 'EAL ARGS' --ip A.B.C.D/len (--listen [--port N] | --connect A.B.C.D:PORT)
 *       [--send-file F | --send-bytes N [--seed S]] [--recv-file F] [--expect-refused]
 *       [--wait-for FILE] [--timeout SECS] [--faults SPEC] [--pcap FILE] [--stats] ...
 *   tcp_xfer --gen N [--seed S]      writes the pattern --send-bytes N would send to stdout
 *
 * --wait-for delays the connect until FILE exists (a test starts a capture on
 * the tap, which exists only once this program has created it, and then
 * says go).  The last lines are the transfer's figures (bytes, seconds, MB/s each way),
 * the connection's TCP_INFO (options negotiated, retransmissions) and the
 * stack's nonzero counters.  Exit 0 if the transfer completed (or, with
 * --expect-refused, if connect failed with ECONNREFUSED); 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/dpdk.h>
#include "../../examples/example_util.h"

#define CHUNK		(256 * 1024)
#define POLL_MS		200	/* blocking calls wake this often to look at the stop flag and the clock */

struct xfer {
	struct shunt_sys *sys;
	int fd;
	const char *send_file;
	uint64_t send_bytes;		/* pattern length (no --send-file) */
	uint64_t seed;
	int sending;
	uint64_t deadline_ns;
	/* results */
	uint64_t sent, t_send_end;
	int send_err;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bytes [off, off + len) of the pattern: a splitmix64 stream keyed by seed, 8 bytes per step. */
static void
pattern_fill(uint64_t seed, uint64_t off, uint8_t *buf, uint32_t len)
{
	uint32_t k = 0;

	while (k < len) {
		uint64_t i = (off + k) / 8, z = seed * 0x9e3779b97f4a7c15ull + (i + 1) * 0x9e3779b97f4a7c15ull;
		uint32_t skip = (uint32_t)((off + k) % 8), n = 8 - skip;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		if (n > len - k)
			n = len - k;
		memcpy(buf + k, (uint8_t *)&z + skip, n);
		k += n;
	}
}

static int
timed_out(const struct xfer *x)
{
	return x->deadline_ns != 0 && mono_ns() >= x->deadline_ns;
}

/* Writes all of buf; blocking with a send timeout so that the stop flag is seen. */
static int
write_all(struct xfer *x, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = shunt_write(x->sys, x->fd, buf + off, len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (ex_stopped())
				return -EINTR;
			if (timed_out(x))
				return -ETIMEDOUT;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

static void *
sender(void *arg)
{
	struct xfer *x = arg;
	uint8_t *buf = malloc(CHUNK);
	int file = -1, err = 0;

	if (buf == NULL) {
		err = -ENOMEM;
		goto out;
	}
	if (x->send_file != NULL) {
		file = open(x->send_file, O_RDONLY);
		if (file < 0) {
			err = -errno;
			goto out;
		}
		for (;;) {
			ssize_t n = read(file, buf, CHUNK);

			if (n < 0) {
				err = -errno;
				break;
			}
			if (n == 0)
				break;
			err = write_all(x, buf, (size_t)n);
			if (err != 0)
				break;
			x->sent += (uint64_t)n;
		}
	} else {
		while (x->sent < x->send_bytes) {
			uint32_t n = x->send_bytes - x->sent < CHUNK ? (uint32_t)(x->send_bytes - x->sent) : CHUNK;

			pattern_fill(x->seed, x->sent, buf, n);
			err = write_all(x, buf, n);
			if (err != 0)
				break;
			x->sent += n;
		}
	}
	if (err == 0 && shunt_shutdown(x->sys, x->fd, SHUT_WR) != 0)
		err = -errno;
out:
	x->t_send_end = mono_ns();
	x->send_err = err;
	if (file >= 0)
		close(file);
	free(buf);
	return NULL;
}

/* Waits for fd to become readable, a POLL_MS at a time; 0 when it is, -ETIMEDOUT/-EINTR else. */
static int
wait_readable(struct xfer *x, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		int r = shunt_poll(x->sys, &pfd, 1, POLL_MS);

		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (ex_stopped())
			return -EINTR;
		if (timed_out(x))
			return -ETIMEDOUT;
	}
}

static const char *
info_options(uint8_t o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", o == 0 ? "none" : "", (o & TCPI_OPT_TIMESTAMPS) ? "timestamps " : "",
	    (o & TCPI_OPT_SACK) ? "sack " : "", (o & TCPI_OPT_WSCALE) ? "wscale" : "");
	return buf;
}

static void
print_tcp_info(struct xfer *x)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	char ob[64];

	memset(&ti, 0, sizeof(ti));
	if (shunt_getsockopt(x->sys, x->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
		printf("tcp_xfer: TCP_INFO: %s\n", strerror(errno));
		return;
	}
	printf("tcp_xfer: tcp_info: options %s, snd_wscale %u, rcv_wscale %u, rtt %u us, rttvar %u us, "
	    "snd_mss %u, cwnd %u, ssthresh %u, total_retrans %u, unacked %u\n",
	    info_options(ti.tcpi_options, ob, sizeof(ob)),
	    (ti.tcpi_options & TCPI_OPT_WSCALE) ? ti.tcpi_snd_wscale : 0,
	    (ti.tcpi_options & TCPI_OPT_WSCALE) ? ti.tcpi_rcv_wscale : 0, ti.tcpi_rtt, ti.tcpi_rttvar,
	    ti.tcpi_snd_mss, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_total_retrans, ti.tcpi_unacked);
}

/* Until nothing we sent is unacknowledged, our FIN included, or the deadline passes. */
static void
linger_until_acked(struct xfer *x)
{
	for (;;) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int outq = 0;

		memset(&ti, 0, sizeof(ti));
		if (shunt_ioctl(x->sys, x->fd, SIOCOUTQ, &outq) != 0 ||
		    shunt_getsockopt(x->sys, x->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
			return;
		if (outq == 0 && ti.tcpi_state != TCP_FIN_WAIT1 && ti.tcpi_state != TCP_CLOSING &&
		    ti.tcpi_state != TCP_LAST_ACK)
			return;
		if (ex_stopped() || timed_out(x)) {
			printf("tcp_xfer: gave up waiting for the peer to acknowledge %d bytes (state %u)\n", outq,
			    ti.tcpi_state);
			return;
		}
		usleep(10000);
	}
}

static double
mbps(uint64_t bytes, uint64_t ns)
{
	return ns == 0 ? 0.0 : (double)bytes / ((double)ns / 1e9) / 1e6;
}

static int
parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[32];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (shunt_ip4_parse(buf, ip) != 0 || ex_parse_port(colon + 1, port) != 0)
		return -EINVAL;
	*port = htons(*port);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tcp_xfer %s\n"
	    "       (--listen | --connect A.B.C.D:PORT) [--send-file F | --send-bytes N [--seed S]]\n"
	    "       [--recv-file F] [--expect-refused] [--wait-for FILE] [--timeout SECS]\n"
	    "       tcp_xfer --gen N [--seed S]\n", EX_COMMON_USAGE);
}

/* --gen: the pattern to stdout, for the test to have the bytes it expects. */
static int
gen(uint64_t n, uint64_t seed)
{
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0;

	if (buf == NULL)
		return 1;
	while (off < n) {
		uint32_t k = n - off < CHUNK ? (uint32_t)(n - off) : CHUNK;

		pattern_fill(seed, off, buf, k);
		if (fwrite(buf, 1, k, stdout) != k) {
			free(buf);
			return 1;
		}
		off += k;
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *recv_file = NULL, *connect_to = NULL, *wait_for = NULL;
	struct shunt_sys_config ycfg;
	struct sockaddr_in sa;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct shunt_sys *sys;
	struct ex_opts o;
	struct xfer x;
	pthread_t th;
	uint64_t timeout_s = 300, gen_n = 0, t0, t_recv_end, received = 0;
	int i, r, err, listening = 0, expect_refused = 0, do_gen = 0, lfd = -1, out = -1, rc = 1;
	int recv_err = 0, have_thread = 0;
	uint32_t ip = 0;
	uint16_t port = 0;
	uint8_t *buf = NULL;
	char ab[16];

	ex_opts_init(&o, "tcp_xfer", 5001);
	memset(&x, 0, sizeof(x));
	x.seed = 1;
	x.fd = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		r = ex_option(&o, argc, argv, &i);
		if (r > 0)
			continue;
		if (r < 0) {
			usage();
			return 2;
		}
		if (strcmp(a, "--listen") == 0) {
			listening = 1;
			continue;
		}
		if (strcmp(a, "--expect-refused") == 0) {
			expect_refused = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
			return 0;
		}
		if (v == NULL) {
			fprintf(stderr, "tcp_xfer: unknown or incomplete argument %s\n", a);
			usage();
			return 2;
		}
		i++;
		if (strcmp(a, "--connect") == 0)
			connect_to = v;
		else if (strcmp(a, "--send-file") == 0)
			x.send_file = v;
		else if (strcmp(a, "--recv-file") == 0)
			recv_file = v;
		else if (strcmp(a, "--wait-for") == 0)
			wait_for = v;
		else if (strcmp(a, "--send-bytes") == 0 && ex_parse_size(v, &x.send_bytes) == 0)
			x.sending = 1;
		else if (strcmp(a, "--gen") == 0 && ex_parse_size(v, &gen_n) == 0)
			do_gen = 1;
		else if (strcmp(a, "--seed") == 0 && ex_parse_size(v, &x.seed) == 0)
			;
		else if (strcmp(a, "--timeout") == 0 && ex_parse_size(v, &timeout_s) == 0 && timeout_s > 0)
			;
		else {
			fprintf(stderr, "tcp_xfer: bad argument %s %s\n", a, v);
			usage();
			return 2;
		}
	}
	if (do_gen)
		return gen(gen_n, x.seed);
	if (x.send_file != NULL)
		x.sending = 1;
	if (!ex_opts_complete(&o) || listening == (connect_to != NULL) ||
	    (connect_to != NULL && parse_hostport(connect_to, &ip, &port) != 0)) {
		usage();
		return 2;
	}
	if (recv_file != NULL) {
		out = open(recv_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0) {
			fprintf(stderr, "tcp_xfer: %s: %s\n", recv_file, strerror(errno));
			return 1;
		}
	}
	buf = malloc(CHUNK);
	if (buf == NULL)
		return 1;
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	shunt_sys_config_init(&ycfg);
	sys = shunt_sys_create(s, &ycfg, &err);
	if (sys == NULL) {
		fprintf(stderr, "tcp_xfer: shunt_sys_create: %s\n", strerror(-err));
		ex_finish(&o, s, nif);
		return 1;
	}
	x.sys = sys;
	x.deadline_ns = mono_ns() + timeout_s * 1000000000ull;
	ex_catch_signals();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (listening) {
		int one = 1;

		lfd = shunt_socket(sys, AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons(o.port);
		if (lfd < 0 || shunt_setsockopt(sys, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    shunt_bind(sys, lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || shunt_listen(sys, lfd, 4) != 0) {
			fprintf(stderr, "tcp_xfer: listen on port %u: %s\n", o.port, strerror(errno));
			goto out;
		}
		ex_announce(&o, nif, "listening");
		if ((err = wait_readable(&x, lfd)) != 0) {
			fprintf(stderr, "tcp_xfer: no connection: %s\n", strerror(-err));
			goto out;
		}
		x.fd = shunt_accept(sys, lfd, NULL, NULL);
		if (x.fd < 0) {
			fprintf(stderr, "tcp_xfer: accept: %s\n", strerror(errno));
			goto out;
		}
	} else {
		o.port = 0;
		ex_announce(&o, nif, "connecting");
		while (wait_for != NULL && access(wait_for, F_OK) != 0) {
			struct timespec ts = { 0, 20 * 1000000 };

			if (ex_stopped() || timed_out(&x)) {
				fprintf(stderr, "tcp_xfer: %s never appeared\n", wait_for);
				goto out;
			}
			nanosleep(&ts, NULL);
		}
		x.fd = shunt_socket(sys, AF_INET, SOCK_STREAM, 0);
		sa.sin_addr.s_addr = ip;
		sa.sin_port = port;
		if (x.fd < 0) {
			fprintf(stderr, "tcp_xfer: socket: %s\n", strerror(errno));
			goto out;
		}
		r = shunt_connect(sys, x.fd, (struct sockaddr *)&sa, sizeof(sa));
		if (expect_refused) {
			if (r != 0 && errno == ECONNREFUSED) {
				printf("tcp_xfer: connect to %s:%u: ECONNREFUSED, as expected\n", shunt_ip4_str(ip, ab),
				    ntohs(port));
				rc = 0;
			} else {
				printf("tcp_xfer: connect to %s:%u: %s (want ECONNREFUSED)\n", shunt_ip4_str(ip, ab),
				    ntohs(port), r == 0 ? "connected" : strerror(errno));
			}
			goto out;
		}
		if (r != 0) {
			fprintf(stderr, "tcp_xfer: connect to %s:%u: %s\n", shunt_ip4_str(ip, ab), ntohs(port),
			    strerror(errno));
			goto out;
		}
	}
	{
		/* Blocking calls time out now and then, so that SIGINT and --timeout are noticed. */
		struct timeval tv = { 0, POLL_MS * 1000 };

		shunt_setsockopt(sys, x.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		shunt_setsockopt(sys, x.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	printf("tcp_xfer: connected; sending %s, receiving into %s\n",
	    x.send_file != NULL ? x.send_file : x.sending ? "a pattern" : "nothing",
	    recv_file != NULL ? recv_file : "nothing (discarded)");
	fflush(stdout);
	t0 = mono_ns();
	if (x.sending) {
		if (pthread_create(&th, NULL, sender, &x) != 0) {
			fprintf(stderr, "tcp_xfer: cannot start the sender thread\n");
			goto out;
		}
		have_thread = 1;
	} else if (shunt_shutdown(sys, x.fd, SHUT_WR) != 0) {
		fprintf(stderr, "tcp_xfer: shutdown: %s\n", strerror(errno));
	}
	/* Receive until the peer's FIN. */
	for (;;) {
		ssize_t n = shunt_read(sys, x.fd, buf, CHUNK);

		if (n > 0) {
			if (out >= 0 && write(out, buf, (size_t)n) != n) {
				recv_err = -errno;
				break;
			}
			received += (uint64_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EAGAIN || errno == EINTR) {
			if (ex_stopped() || timed_out(&x)) {
				recv_err = ex_stopped() ? -EINTR : -ETIMEDOUT;
				break;
			}
			continue;
		}
		recv_err = -errno;
		break;
	}
	t_recv_end = mono_ns();
	if (have_thread)
		pthread_join(th, NULL);
	if (x.sending)
		printf("tcp_xfer: sent %llu bytes in %.3f s, %.1f MB/s%s%s\n", (unsigned long long)x.sent,
		    (double)(x.t_send_end - t0) / 1e9, mbps(x.sent, x.t_send_end - t0),
		    x.send_err ? ", error: " : "", x.send_err ? strerror(-x.send_err) : "");
	printf("tcp_xfer: received %llu bytes in %.3f s, %.1f MB/s%s%s\n", (unsigned long long)received,
	    (double)(t_recv_end - t0) / 1e9, mbps(received, t_recv_end - t0), recv_err ? ", error: " : "",
	    recv_err ? strerror(-recv_err) : "");
	print_tcp_info(&x);
	rc = recv_err == 0 && x.send_err == 0 && (!x.sending || x.send_file != NULL || x.sent == x.send_bytes) ? 0 : 1;
	/*
	 * Linger before the stack goes: the peer's FIN may come long before it
	 * has all we sent (a peer that sends little, or finishes first), and
	 * destroying the stack with data or our FIN unacknowledged would cut
	 * its stream short.  Wait (within --timeout) until all is acknowledged.
	 */
	if (rc == 0)
		linger_until_acked(&x);
out:
	if (x.fd >= 0)
		shunt_close(sys, x.fd);
	if (lfd >= 0)
		shunt_close(sys, lfd);
	if (out >= 0 && close(out) != 0)
		rc = 1;
	/* The stack is ours again once sys is gone: its counters can be read without the lock. */
	shunt_sys_destroy(sys);
	ex_finish(&o, s, nif);
	free(buf);
	return rc;
}
