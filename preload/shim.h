/*
 * Internals of the preload shim (libshunt-preload.so).  Unlike the rest of
 * shunt, this library holds process-wide state: the process has one set of
 * descriptors and one libc, and the shim stands between them.
 *
 * Every wrapper has the same five steps: make sure the real functions are
 * known, look the descriptor up, call the shunt socket layer or the real libc
 * function, keep errno right, return.
 */
#ifndef SHUNT_PRELOAD_SHIM_H
#define SHUNT_PRELOAD_SHIM_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <shunt/socket.h>
#include "calls.h"

/* The fortified entry points glibc emits (declared only under _FORTIFY_SOURCE). */
ssize_t __read_chk(int fd, void *b, size_t n, size_t bl);
ssize_t __recv_chk(int fd, void *b, size_t n, size_t bl, int f);
ssize_t __recvfrom_chk(int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a, socklen_t *l);
int __poll_chk(struct pollfd *p, nfds_t n, int t, size_t pl);
int __ppoll_chk(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s, size_t pl);

#define EXPORT __attribute__((visibility("default")))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* ---- the real functions ---- */

struct real_fns {
#define REAL_FIELD(name, ret, params, args) ret (*name) params;
	SHUNT_CALLS(REAL_FIELD)
#undef REAL_FIELD
};

extern struct real_fns shim_real;
void shim_resolve_all(void);
void *shim_resolve(const char *name);

/* The real function, resolved on first use (also before our constructor ran). */
#define REAL_GETTER(name, ret, params, args) \
static inline ret (*real_get_##name(void)) params \
{ \
	ret (*f) params = shim_real.name; \
	if (unlikely(f == NULL)) { \
		f = (ret (*) params)shim_resolve(#name); \
		shim_real.name = f; \
	} \
	return f; \
}
SHUNT_CALLS(REAL_GETTER)
#undef REAL_GETTER
#define REAL(name) (real_get_##name())

/* ---- descriptors ---- */

enum fd_kind {
	FD_KERNEL = 0,		/* not ours (the common case): straight to libc */
	FD_PENDING,		/* an AF_INET socket whose way is not decided yet */
	FD_SHUNT,		/* a shunt socket; the kernel socket only holds the number */
	FD_DUAL,		/* a listener on INADDR_ANY: kernel socket here, shunt socket beside it */
	FD_KEPOLL,		/* a user's epoll (kernel) that also watches shunt sockets */
	FD_ORPHAN,		/* a shunt socket inherited across fork: unusable in this process */
};

struct optrec {
	int level, name;
	socklen_t len;
	unsigned char val[64];
};

/* What we know about a descriptor that is not plain kernel. */
struct fdinfo {
	int refs;		/* descriptors sharing it (dup) */
	int domain, type, protocol;
	int sfd;		/* the descriptor in the shunt socket layer */
	int sep;		/* FD_KEPOLL: the shunt epoll instance inside it (-1 until needed) */
	int nonblock;
	int bound_port;		/* FD_PENDING: a port given to bind() before the way was known */
	struct optrec opts[16];	/* FD_PENDING: options to replay on the chosen side */
	int nopts;
	int relay_fd;		/* FD_SHUNT: our end of a pair shared with a forked child, or -1 */
	/* FD_PENDING: epolls watching it, to move to the shunt side if it goes there */
	struct {
		int ep;
		struct epoll_event ev;
	} eps[4];
	int neps;
};

extern _Atomic(uint8_t) *shim_fdk;	/* kind per descriptor */
extern struct fdinfo **shim_fdi;	/* info per non-kernel descriptor */
extern int shim_maxfd;

static inline enum fd_kind
fd_kind(int fd)
{
	if ((unsigned)fd >= (unsigned)shim_maxfd || shim_fdk == NULL)
		return FD_KERNEL;
	return (enum fd_kind)atomic_load_explicit(&shim_fdk[fd], memory_order_acquire);
}

void fd_set_kind(int fd, enum fd_kind k, struct fdinfo *fi);
struct fdinfo *fd_info(int fd);
struct fdinfo *fdinfo_new(int domain, int type, int protocol);
void fdinfo_put(struct fdinfo *fi);

/* ---- configuration and state ---- */

struct rule {
	uint32_t net, mask;	/* network order */
	uint16_t port;		/* network order, 0 = any */
	uint8_t to_shunt;
};

struct shim_config {
	int enabled;
	uint32_t ip, mask, gw;
	uint8_t mac[6];
	int have_mac;
	char dpdk[1024];
	char port[64];		/* ethdev name; default: the first port */
	int poll_inline;
	int spin_us;
	int sndbuf, rcvbuf;
	char cc[16];
	char pcap[256];
	int loglevel;		/* 0 error, 1 warn, 2 info, 3 debug */
	struct rule rules[32];
	int nrules;
	int stats_at_exit;
	int exit_drain_ms;	/* at exit, how long closed connections may take to deliver */
	int trust_csum;		/* the DPDK wire goes to another shunt through memory: no checksums */
};

struct shim {
	pthread_mutex_t lock;	/* guards init and the descriptor infos */
	struct shim_config cfg;
	int config_read;
	int init_state;		/* 0 not yet, 1 running, -1 failed or disabled */
	struct shunt_stack *stack;
	struct shunt_sys *sys;
	struct shunt_netif *nif;
	pid_t pid;		/* the process that owns the stack */
	int in_child;		/* a fork's child: never touch the stack */
};

extern struct shim shim;

/* Thread-local: inside shunt's own initialisation, every call goes to libc. */
extern __thread int shim_busy;

void shim_read_config(void);
/* At exit: closes the process's shunt sockets and lets them deliver what they hold (bounded). */
void shim_exit_drain(void);
/* Brings the stack up on first need; 1 if shunt is usable now. */
int shim_ready(void);
/* Where a destination goes: 1 shunt, 0 kernel. */
int shim_route(uint32_t ip, uint16_t port);
int shim_is_local(uint32_t ip);

/* ---- logging ---- */

void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_ERR		0
#define LOG_WARN	1
#define LOG_INFO	2
#define LOG_DEBUG	3

/* ---- helpers shared by the wrappers ---- */

/* Starts relaying shunt socket sfd to a forked child through ufd (relay.c). */
int shim_relay_start(int sfd, int ufd);
/* Connected shunt sockets shared with a child at fork: at most this many get a relay. */
#define RELAY_MAX 64

/* epoll_ctl for a pending socket: the kernel's, remembered for a later move (wait.c). */
int shim_epoll_pending(int ep, int op, int fd, struct epoll_event *e);
/* Moves a committed socket's remembered epoll registrations to the shunt side. */
void shim_epoll_move(int fd, struct fdinfo *fi);

/* Decides the way of a pending socket: to shunt (1) or the kernel (0). */
int shim_commit(int fd, struct fdinfo *fi, int to_shunt);
/* The shunt-layer descriptor for fd, or -1. */
static inline int
shim_sfd(int fd)
{
	struct fdinfo *fi = fd_info(fd);

	return fi != NULL ? fi->sfd : -1;
}

static inline int
shim_ret(int r)
{
	return r;
}

#endif
