/*
 * inproc_rr: the cost of the stack alone, without a NIC, a wire or a second
 * core -- a 64-byte ping-pong between two TCP endpoints driven by one thread
 * on one core.
 *
 *	kernel  a TCP pair over loopback in this process (TCP_NODELAY,
 *	        non-blocking): send, recv on the other end, send back, recv;
 *	        loopback runs the receiver's input inside send()
 *	shunt   two shunt stacks on the in-memory link (stack/netif/link.c: it
 *	        copies each frame, as a wire would), real clock, raw API; the
 *	        server echoes from its recv callback; one thread polls both
 *	shunt-socket  the same, but the client sends and receives through the
 *	        socket API (shunt_send / shunt_recv with MSG_DONTWAIT on a
 *	        struct shunt_sys without a poller thread, polled by this one):
 *	        its difference from `shunt` is the price of one send() and one
 *	        recv() through the netconn and socket layers
 * A round trip is two data segments and whatever ACKs the stacks send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/tcp.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include "bench.h"
#include "kernsock.h"

#define WARMUP_NS	100000000ull
#define LAT_CAP		(4u << 20)
#define PORT		5001

struct ipfix {
	struct shunt_stack *s[2];
	struct shunt_link *link;
	struct shunt_tcp_pcb *cli, *lst;
	uint64_t got;
	int connected, err;
	struct shunt_sys *sys;	/* shunt-socket: the client's socket layer on s[0] */
	int fd;
};

static uint8_t buf[2048];

static int
echo_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	uint32_t n;

	if (p == NULL)
		return 0;
	n = p->tot_len;
	shunt_pbuf_copy_out(p, 0, buf, n);
	shunt_pbuf_free(p);
	shunt_tcp_recved(pcb, n);
	return shunt_tcp_write(pcb, buf, n, 0) == (int)n ? 0 : -ENOBUFS;
}

static int
cli_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct ipfix *fx = arg;
	uint32_t n;

	if (p == NULL)
		return 0;
	n = p->tot_len;
	fx->got += n;
	shunt_pbuf_free(p);
	shunt_tcp_recved(pcb, n);
	return 0;
}

static int
srv_accept(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	shunt_tcp_recv(pcb, echo_recv);
	shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1);
	return 0;
}

static int
cli_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct ipfix *fx = arg;

	fx->connected = err == 0;
	return 0;
}

static void
on_err(void *arg, int err)
{
	struct ipfix *fx = arg;

	fx->err = err;
	fx->cli = NULL;
}

static int
ipfix_init(struct ipfix *fx, int sock)
{
	static const uint8_t mac[2][6] = { { 2, 0, 0xc6, 0x12, 5, 1 }, { 2, 0, 0xc6, 0x12, 5, 2 } };
	struct shunt_stack_config c;
	uint32_t ip[2], mask;
	int i, err;

	memset(fx, 0, sizeof(*fx));
	shunt_ip4_parse("198.18.5.1", &ip[0]);
	shunt_ip4_parse("198.18.5.2", &ip[1]);
	shunt_ip4_parse("255.255.255.0", &mask);
	for (i = 0; i < 2; i++) {
		shunt_stack_config_init(&c);
		c.seed = 7 + (uint64_t)i;
		fx->s[i] = shunt_stack_create(&c, &err);
		if (fx->s[i] == NULL)
			return err;
	}
	fx->link = shunt_link_create(fx->s[0], fx->s[1], mac[0], mac[1], 1500, &err);
	if (fx->link == NULL)
		return err;
	for (i = 0; i < 2; i++) {
		err = shunt_netif_set_ip4(shunt_link_netif(fx->link, i), ip[i], mask, 0);
		if (err == 0)
			err = shunt_netif_up(shunt_link_netif(fx->link, i));
		if (err != 0)
			return err;
		shunt_arp_add_static(fx->s[1 - i], ip[i], mac[i]);
	}
	fx->fd = -1;
	fx->lst = shunt_tcp_new(fx->s[1]);
	if (fx->lst == NULL)
		return -ENOMEM;
	shunt_tcp_accept(fx->lst, srv_accept);
	err = shunt_tcp_bind(fx->lst, ip[1], htons(PORT));
	if (err == 0)
		err = shunt_tcp_listen(fx->lst, 4);
	if (err != 0)
		return err;
	if (sock) {
		struct shunt_sys_config sc;
		struct sockaddr_in sa;
		int one = 1;

		shunt_sys_config_init(&sc);
		sc.no_poller = 1;
		fx->sys = shunt_sys_create(fx->s[0], &sc, &err);
		if (fx->sys == NULL)
			return err;
		fx->fd = shunt_socket(fx->sys, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fx->fd < 0)
			return -errno;
		shunt_setsockopt(fx->sys, fx->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = ip[1];
		sa.sin_port = htons(PORT);
		if (shunt_connect(fx->sys, fx->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
			return -errno;
		for (i = 0; i < 100000; i++) {
			shunt_sys_poll(fx->sys);
			shunt_stack_poll(fx->s[1]);
			if (shunt_connect(fx->sys, fx->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EISCONN)
				return 0;
		}
		return -ETIMEDOUT;
	}
	fx->cli = shunt_tcp_new(fx->s[0]);
	if (fx->cli == NULL)
		return -ENOMEM;
	shunt_tcp_arg(fx->cli, fx);
	shunt_tcp_recv(fx->cli, cli_recv);
	shunt_tcp_err(fx->cli, on_err);
	shunt_tcp_setopt(fx->cli, SHUNT_TCP_OPT_NODELAY, 1);
	err = shunt_tcp_connect(fx->cli, ip[1], htons(PORT), cli_connected);
	if (err != 0)
		return err;
	for (i = 0; i < 100000 && !fx->connected; i++) {
		shunt_stack_poll(fx->s[0]);
		shunt_stack_poll(fx->s[1]);
	}
	return fx->connected ? 0 : -ETIMEDOUT;
}

static void
ipfix_fini(struct ipfix *fx)
{
	int i;

	if (fx->cli != NULL)
		shunt_tcp_abort(fx->cli);
	if (fx->sys != NULL)
		shunt_sys_destroy(fx->sys);	/* closes the socket */
	if (fx->lst != NULL)
		shunt_tcp_close(fx->lst);
	for (i = 0; i < 1000; i++) {
		shunt_stack_poll(fx->s[0]);
		shunt_stack_poll(fx->s[1]);
	}
	if (fx->link != NULL)
		shunt_link_destroy(fx->link);
	for (i = 0; i < 2; i++)
		if (fx->s[i] != NULL)
			shunt_stack_destroy(fx->s[i]);
}

/* One shunt round trip; 0 or -errno. */
static int
rt_shunt(struct ipfix *fx, uint32_t size, uint64_t *want)
{
	uint64_t spins = 0;

	if (shunt_tcp_write(fx->cli, buf, size, 0) != (int)size)
		return -ENOBUFS;
	*want += size;
	while (fx->got < *want) {
		shunt_stack_poll(fx->s[1]);
		shunt_stack_poll(fx->s[0]);
		if (fx->err != 0 || ++spins > 1000000)
			return fx->err != 0 ? fx->err : -ETIMEDOUT;
	}
	return 0;
}

/* One round trip with the client on the socket API; 0 or -errno. */
static int
rt_socket(struct ipfix *fx, uint32_t size)
{
	char b[2048];
	uint64_t spins = 0;
	size_t got = 0;

	if (shunt_send(fx->sys, fx->fd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)size)
		return -errno;
	while (got < size) {
		ssize_t r;

		shunt_stack_poll(fx->s[1]);
		shunt_sys_poll(fx->sys);
		r = shunt_recv(fx->sys, fx->fd, b, size - got, MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || errno != EAGAIN)
			return r == 0 ? -ECONNRESET : -errno;
		if (++spins > 1000000)
			return -ETIMEDOUT;
	}
	return 0;
}

/* One kernel round trip over loopback; 0 or -errno. */
static int
rt_kernel(int c, int s, uint32_t size)
{
	char b[2048];
	int i, fd[2] = { s, c };

	if (send(c, buf, size, MSG_NOSIGNAL) != (ssize_t)size)
		return -errno;
	for (i = 0; i < 2; i++) {
		size_t got = 0;

		while (got < size) {
			ssize_t r = recv(fd[i], b, size - got, MSG_DONTWAIT);

			if (r > 0)
				got += (size_t)r;
			else if (r < 0 && errno == EAGAIN)
				kern_wait_readable(fd[i], 1000);
			else
				return r == 0 ? -ECONNRESET : -errno;
		}
		if (i == 0 && send(s, b, size, MSG_NOSIGNAL) != (ssize_t)size)
			return -errno;
	}
	return 0;
}

static void
bm_inproc(struct bench_state *st)
{
	const char *mode = bench_udata(st);
	int kernel = mode != NULL && strcmp(mode, "kernel") == 0, sock = mode != NULL && strcmp(mode, "socket") == 0;
	uint32_t size = (uint32_t)bench_arg(st, 0);
	struct bench_lat lat;
	struct ipfix fx;
	uint64_t t, prev, start, end, n = 0, want = 0;
	int c = -1, s = -1, err = 0;

	if (bench_lat_init(&lat, LAT_CAP) != 0) {
		bench_error(st, "out of memory");
		return;
	}
	if (kernel)
		err = kern_tcp_pair(&c, &s);
	else
		err = ipfix_init(&fx, sock);
	if (err != 0) {
		bench_error(st, "setup: %s", strerror(-err));
		goto out;
	}
	while (bench_keep_running(st)) {
		t = prev = bench_now_ns();
		start = t + (bench_smoke() ? WARMUP_NS / 10 : WARMUP_NS);
		end = start + (uint64_t)bench_macro_ms() * 1000000ull;
		for (;;) {
			err = kernel ? rt_kernel(c, s, size) : sock ? rt_socket(&fx, size) : rt_shunt(&fx, size, &want);
			if (err != 0) {
				bench_error(st, "round trip: %s", strerror(-err));
				goto out;
			}
			t = bench_now_ns();
			if (t >= start) {
				if (n == 0)
					start = prev;
				n++;
				bench_lat_add(&lat, t - prev);
				if (t >= end)
					break;
			}
			prev = t;
		}
		bench_set_iteration_time(st, (double)(t - start) / 1e9);
	}
	bench_set_items(st, n);
	bench_lat_report(st, &lat, "");
	bench_counter(st, "cpu_srv", bench_cpu(), BENCH_C_PLAIN);
	bench_counter(st, "cpu_cli", bench_cpu(), BENCH_C_PLAIN);
out:
	if (kernel) {
		if (c >= 0)
			close(c);
		if (s >= 0)
			close(s);
	} else {
		ipfix_fini(&fx);
	}
	bench_lat_fini(&lat);
}

static const char NOTE_IP[] = "inproc_rr: one thread, one core, both ends in the harness: kernel over "
    "loopback (send/recv, 4 system calls per round trip), shunt two stacks on the in-memory link (copies each "
    "frame), raw API; the cost of the stacks without a NIC or a second core; shunt-socket: the client through "
    "the socket API (send/recv, MSG_DONTWAIT, a sys without poller thread): less shunt = one send() and one recv() "
    "through the socket and netconn layers";

#define IPF		(BENCH_F_MACRO | BENCH_F_MANUAL_TIME | BENCH_F_SMOKE)
#define IPFIGS		.figs = { { "p50", "us", 1000, 0, 0 }, { "p99", "us", 1000, 0, 0.35 }, \
			    { "p99.9", "us", 1000, 0, 0.5 } }, .nfigs = 3

static const struct bench_def defs[] = {
	{ .family = "inproc_rr", .variant = "kernel", .fn = bm_inproc, .udata = "kernel", .flags = IPF, .nargs = 1,
	  .nargsets = 1, .args = { { 64 } }, IPFIGS, .note = NOTE_IP },
	{ .family = "inproc_rr", .variant = "shunt", .fn = bm_inproc, .flags = IPF, .nargs = 1, .nargsets = 1,
	  .args = { { 64 } }, IPFIGS },
	{ .family = "inproc_rr", .variant = "shunt-socket", .fn = bm_inproc, .udata = "socket", .flags = IPF,
	  .nargs = 1, .nargsets = 1, .args = { { 64 } }, IPFIGS },
};

static void __attribute__((constructor))
inproc_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
