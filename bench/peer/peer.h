/*
 * shunt-peer: one end of a multi-process benchmark.  The bench harness
 * (bench/topo.c) starts two of them -- a server and a client, each pinned to
 * one core, in network namespaces it made -- and reads what the client
 * measured from its standard output.  The same test code runs on three ways
 * of reaching a network:
 *
 *	kernel   libc sockets (over a veth pair or loopback)
 *	socket   shunt's socket API, a struct shunt_sys over a DPDK port
 *	         (poll mode thread or inline)
 *	raw      shunt's raw API, one thread polling the stack itself
 *
 * Tests (client side measures):
 *	rr       ping-pong: write size bytes, read them back; latency per round trip
 *	stream   the server writes size-byte messages as fast as it can; the
 *	         client reads and counts bytes (small messages or bulk)
 *	cps      connect, size-byte request, size-byte reply, the server closes,
 *	         the client sees the end and closes; connections per second
 *	idle     connect and do nothing: the harness reads the CPU time we use
 *	mem      both ends in one process: memory of --conns idle connections
 *	         (peer_mem.c; no DPDK, the shunt stacks meet on the in-memory link)
 *
 * Protocol with the harness, one line each on stdout:
 *	ready cpu=N pid=P           the server listens / the client is connected (idle)
 *	result key=value ...        the client's figures
 *	stats key=value ...         socket API: the poller's counters
 *	                            between two SIGUSR2 (peer.c)
 * Everything else goes to stderr.  Exit status 0 on success.
 */
#ifndef SHUNT_BENCH_PEER_H
#define SHUNT_BENCH_PEER_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

enum peer_api { API_KERNEL, API_SOCKET, API_RAW };
enum peer_test { TEST_RR, TEST_STREAM, TEST_CPS, TEST_IDLE, TEST_MEM };

struct peer_opts {
	int server;			/* role */
	enum peer_api api;
	enum peer_test test;
	uint32_t addr;			/* server: address to listen on; client: server's address (network order) */
	uint16_t port;
	uint32_t size;			/* message size */
	int busy;			/* kernel: wait by spinning on MSG_DONTWAIT instead of blocking */
	int inline_poll;		/* socket API: SHUNT_POLL_INLINE */
	int spin_us;			/* socket API: SHUNT_SPIN_US; -1: the default */
	int cpu;			/* pin the whole process here; -1: leave it */
	uint32_t warmup_ms, ms;		/* client: unmeasured and measured phases */
	uint32_t timeout_s;		/* the process ends itself after this, whatever happens */
	const char *dpdk;		/* EAL arguments (socket, raw) */
	const char *ip;			/* our address on the DPDK port, A.B.C.D/len */
	uint64_t conns;			/* mem: connections */
};

/* A network the socket tests run on: libc, or shunt's socket API on a sys. */
struct net {
	void *sys;			/* struct shunt_sys * for shunt, NULL for the kernel */
	int (*socket)(struct net *n, int domain, int type, int proto);
	int (*bind)(struct net *n, int fd, const struct sockaddr *a, socklen_t l);
	int (*listen)(struct net *n, int fd, int backlog);
	int (*accept)(struct net *n, int fd);
	int (*connect)(struct net *n, int fd, const struct sockaddr *a, socklen_t l);
	int (*setsockopt)(struct net *n, int fd, int level, int name, const void *v, socklen_t l);
	ssize_t (*send)(struct net *n, int fd, const void *b, size_t len, int flags);
	ssize_t (*recv)(struct net *n, int fd, void *b, size_t len, int flags);
	int (*close)(struct net *n, int fd);
};

/* Figures of one client run, printed as the result line. */
struct peer_result {
	uint64_t items;			/* round trips, messages, connections */
	uint64_t bytes;
	uint64_t ns;			/* length of the measured phase */
	uint32_t *lat;			/* rr and cps: one latency (ns) per item, up to lat_cap */
	uint64_t nlat, lat_cap;
};

/* peer.c */
void peer_ready(const struct peer_opts *o);
void peer_report(const struct peer_opts *o, struct peer_result *r);
uint64_t peer_now(void);
void peer_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int peer_lat_init(struct peer_result *r, uint64_t cap);
static inline void
peer_lat_add(struct peer_result *r, uint64_t ns)
{
	if (r->nlat < r->lat_cap)
		r->lat[r->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/*
 * The timing of a client that measures items one after another (round
 * trips, connections): items that end before the warm-up is over are not
 * counted; the measured phase starts where the first counted item began and
 * lasts o->ms.  peer_phase_item() counts one item (begun at t0, ended at t)
 * with its latency and returns 1 when the phase is over; res->ns is then set.
 */
struct peer_phase {
	uint64_t warm_end, start, end;
};
void peer_phase_init(struct peer_phase *ph, const struct peer_opts *o, uint64_t now);
int peer_phase_item(struct peer_phase *ph, const struct peer_opts *o, struct peer_result *res, uint64_t t0,
    uint64_t t);

/* peer_sock.c: the tests on a struct net */
void net_kernel(struct net *n);
void net_shunt(struct net *n, void *sys);
int sock_server(const struct peer_opts *o, struct net *n);
int sock_client(const struct peer_opts *o, struct net *n);

/* peer_stack.c: a shunt stack on the DPDK port of --dpdk with the address of --ip */
struct shunt_stack;
struct shunt_netif;
struct shunt_stack *peer_stack_up(const struct peer_opts *o, struct shunt_netif **nif);
/* The stack's counters and connections per state, and the DPDK port's counters, to stderr. */
void peer_dump_stats(struct shunt_stack *s);
extern struct shunt_netif *peer_nif;	/* the DPDK port of peer_stack_up, for peer_dump_stats */
void peer_stack_down(struct shunt_stack *s, struct shunt_netif *nif);

/* peer_mem.c */
int mem_test(const struct peer_opts *o);

/* peer_raw.c: the tests on the raw API */
int raw_server(const struct peer_opts *o, struct shunt_stack *s);
int raw_client(const struct peer_opts *o, struct shunt_stack *s);

#endif
