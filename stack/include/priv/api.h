/*
 * Internals of the upper two API layers (stack/api/): the sys wrapper (lock,
 * poller, wait queues), netconns, sockets and epoll instances.
 *
 * Locking: one mutex per sys guards the stack and every object here, except
 * the wait words, which are atomics so that a waiter can sleep without the
 * lock (futex) and a waker can signal without knowing who waits.
 */
#ifndef SHUNT_PRIV_API_H
#define SHUNT_PRIV_API_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/tcp.h>
#include <shunt/udp.h>

/* A wait word: waiters sleep until it changes; wakers bump it (and futex-wake if anyone sleeps). */
struct waitq {
	_Atomic uint32_t seq;
	_Atomic uint32_t sleepers;
};

#define FDTAB_CHUNK	1024
#define FDTAB_CHUNKS	4096		/* descriptors up to 4M */

struct shunt_sock;

struct shunt_sys {
	struct shunt_stack *stack;
	pthread_mutex_t lock;
	struct shunt_sys_config cfg;
	pthread_t poller;
	_Atomic int poller_tid;		/* the poller's thread id, for signals meant for it */
	int poller_running;
	_Atomic int stop;
	struct waitq poller_wq;		/* bumped to cut the poller's sleep short */
	int wake_fd;			/* eventfd: cuts the poller's sleep on interrupts short (-1: none) */
	_Atomic int intr_sleeping;	/* the poller sleeps on interrupts (set under the lock) */
	struct shunt_sys_stats st;
	struct shunt_netconn *all;	/* every netconn, for destroy */
	_Atomic(struct shunt_sock **) fdtab[FDTAB_CHUNKS];
	uint64_t udp_rcvbuf_default;
};

/* sys.c */
void waitq_init(struct waitq *w);
void waitq_wake(struct waitq *w);
/*
 * Called with the lock held: sleeps until w changes, the deadline (absolute
 * CLOCK_MONOTONIC ns, 0 = none) passes, or a signal arrives.  always_eintr:
 * report any signal as -EINTR (epoll/poll/select, timed socket calls);
 * otherwise SA_RESTART handlers restart the wait as they restart a kernel
 * recv.  Returns 0, -ETIMEDOUT or -EINTR, with the lock held again.
 */
int sys_wait(struct shunt_sys *sys, struct waitq *w, uint64_t deadline, int always_eintr);
uint64_t sys_now(void);
uint64_t sys_deadline(uint32_t timeout_ms);

/* netconn flags */
#define NC_NONBLOCK	0x0001
#define NC_CONNECTING	0x0002
#define NC_CONNECTED	0x0004
#define NC_LISTENING	0x0008
#define NC_EOF		0x0010	/* the peer's FIN arrived */
#define NC_RD_SHUT	0x0020	/* shutdown(SHUT_RD) */
#define NC_WR_SHUT	0x0040	/* shutdown(SHUT_WR) */
#define NC_DEAD		0x0080	/* the PCB is gone (reset, timeout, refused) */
#define NC_CLOSED	0x0100	/* the application closed it */
#define NC_BOUND	0x0200
#define NC_EVER_CONNECTED 0x0400
/*
 * What connect() has told the application, apart from where TCP is (Linux's
 * sock->state beside sk->sk_state): a connect() that returned EINPROGRESS,
 * EINTR or a timeout leaves SS_CONNECTING, and the next connect() reports the
 * outcome (0, or the error) before the socket counts as SS_CONNECTED.
 */
#define NC_SS_CONNECTING 0x0800
#define NC_SS_CONNECTED	0x1000
#define NC_PORT_LOCKED	0x2000	/* bound by the user to a port number (SOCK_BINDPORT_LOCK) */
#define NC_ADDR_LOCKED	0x4000	/* bound by the user to an address (SOCK_BINDADDR_LOCK) */
#define NC_NOSPACE	0x8000	/* a writer found no room: tell it when there is (SOCK_NOSPACE) */

struct shunt_netconn {
	struct shunt_sys *sys;
	struct shunt_netconn *anext, **apprev;	/* sys->all */
	uint32_t flags;
	int refs;
	union {
		struct shunt_tcp_pcb *tcp;
		struct shunt_udp_pcb *udp;
		void *any;
	} pcb;
	/* receive queue: chains (TCP) or datagrams (UDP, sender in cb[0..1]) linked by qnext */
	struct shunt_pbuf *rq_head, *rq_tail;
	uint32_t rq_bytes, rq_count, rq_off;
	uint32_t rcvbuf;			/* UDP queue bound (SO_RCVBUF) */
	uint64_t rq_drops;
	/* accept queue */
	struct shunt_netconn *aq_head, *aq_tail, *aq_next;
	uint32_t aq_len;
	int err;				/* pending error, positive errno (SO_ERROR) */
	uint32_t rcv_timeout_ms, snd_timeout_ms;
	uint32_t lowat;
	int linger_s;
	uint32_t bind_ip;			/* what the user bound (kept across a new PCB) */
	uint16_t bind_port;
	uint8_t type;
	uint8_t linger_on;
	struct waitq wq;
	/*
	 * The socket layer's hook: readiness may have changed.  key says what
	 * happened (EPOLLIN: data, EPOLLOUT: room to write, 0: anything, a state
	 * change), as the key of Linux's wake-ups: edge-triggered epoll reports
	 * an item only for the kinds of event it asked for.
	 */
	void (*on_event)(struct shunt_netconn *nc, uint32_t key);
	void *owner;
};

/* netconn.c */
void nc_event(struct shunt_netconn *nc);		/* a state change: key 0 */
void nc_event_key(struct shunt_netconn *nc, uint32_t key);
void nc_ref(struct shunt_netconn *nc);
void nc_unref(struct shunt_netconn *nc);	/* with the lock held */
/* The *_locked variants run with the lock held (the socket layer's entry points). */
int nc_recv_locked(struct shunt_netconn *nc, void *buf, uint32_t len, int flags, uint32_t *ip, uint16_t *port,
    uint32_t *dgram_len);
int nc_recv_iov_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags, uint32_t *ip,
    uint16_t *port, uint32_t *dgram_len);
int nc_write_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, int flags);
int nc_sendto_locked(struct shunt_netconn *nc, const struct iovec *iov, int iovcnt, uint32_t ip, uint16_t port,
    int flags);
int nc_connect_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port);
/* connect() with the address's own verdict, reported only if the socket is in a state to use it. */
int nc_connect_addr_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port, int addr_err);
/* connect(AF_UNSPEC): TCP aborts and returns to CLOSE; UDP dissolves its association. */
int nc_disconnect_locked(struct shunt_netconn *nc);
int nc_bind_locked(struct shunt_netconn *nc, uint32_t ip, uint16_t port);
int nc_accept_locked(struct shunt_netconn *nc, struct shunt_netconn **out);
int nc_listen_locked(struct shunt_netconn *nc, int backlog);
int nc_close_locked(struct shunt_netconn *nc);
int nc_shutdown_locked(struct shunt_netconn *nc, int rd, int wr);
struct shunt_netconn *nc_new_locked(struct shunt_sys *sys, int type, int *err);
uint32_t nc_poll_events(struct shunt_netconn *nc);

/* sockets */
enum sock_kind {
	SOCK_KIND_NET = 1,
	SOCK_KIND_EPOLL = 2,
};

struct epitem;
struct shunt_epoll;

struct shunt_sock {
	int fd;
	int type;
	int fl;				/* O_NONBLOCK */
	int refs;
	struct shunt_netconn *nc;	/* SOCK_KIND_NET */
	struct shunt_epoll *ep;		/* SOCK_KIND_EPOLL */
	struct epitem *items;		/* epoll entries watching this socket */
	/* options kept until the PCB exists or for getsockopt (packed: one per connection) */
	int keepidle, keepintvl, maxseg;
	int sndbuf, rcvbuf;
	int16_t ttl;			/* -1: the stack's default */
	uint8_t tos, keepcnt;
	uint8_t kind;
	uint8_t own_fd;			/* we opened the kernel descriptor standing in for it */
	uint8_t closed;
	uint8_t domain, protocol;
	uint8_t reuseaddr : 1, reuseport : 1, keepalive : 1, nodelay : 1, cork : 1, broadcast : 1;
	uint8_t cc;			/* TCP_CONGESTION asked for: SOCK_CC_*, 0 = the stack's default */
};

#define SOCK_CC_CUBIC	1
#define SOCK_CC_NEWRENO	2

struct epitem {
	struct shunt_epoll *ep;
	struct shunt_sock *sk;
	int fd;
	uint32_t events;		/* requested, with EPOLLET / EPOLLONESHOT / EPOLLEXCLUSIVE */
	epoll_data_t data;
	uint8_t ready, disabled;
	struct epitem *sk_next;		/* the socket's watchers */
	struct epitem *rd_next, **rd_pprev;	/* the instance's ready list */
	struct epitem *ep_next;		/* the instance's entries */
};

struct shunt_epoll {
	struct shunt_sock *self;
	int efd;			/* the eventfd behind the descriptor: readable while ready */
	int efd_armed;			/* we wrote it and have not drained it */
	struct epitem *ready, **ready_tail;
	struct epitem *items;
	uint32_t nitems;
	uint32_t nwaiters;		/* threads in epoll_wait on it (EPOLLEXCLUSIVE wakes one of these) */
	struct waitq wq;
	int refs;			/* the descriptor, and each epoll_wait in progress */
	int closed;
};

struct shunt_sock *sock_lookup(struct shunt_sys *sys, int fd);
int sock_install(struct shunt_sys *sys, struct shunt_sock *sk);
void sock_uninstall(struct shunt_sys *sys, struct shunt_sock *sk);
void sock_event(struct shunt_sock *sk, uint32_t key);
uint32_t sock_poll_events(struct shunt_sock *sk);
void epoll_sock_gone(struct shunt_sock *sk);
void epoll_destroy(struct shunt_sys *sys, struct shunt_epoll *ep);
int sock_setopt(struct shunt_sock *sk, int level, int name, const void *val, socklen_t len);
int sock_getopt(struct shunt_sock *sk, int level, int name, void *val, socklen_t *len);
void sock_apply_opts(struct shunt_sock *sk);
/* An accepted socket starts as a copy of its listener's options (sk_clone). */
void sock_inherit_opts(struct shunt_sock *child, const struct shunt_sock *listener);

/* errno at the POSIX boundary: internal code returns -errno. */
static inline int
set_errno_ret(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

#endif
