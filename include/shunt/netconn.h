/*
 * shunt public API: the sequential (netconn) layer and the threading model.
 *
 * A struct shunt_sys wraps one stack for use from many threads: it owns the
 * stack's lock and the poller that drives shunt_stack_poll().  Application
 * threads enter the core under the lock and call the raw API directly (no
 * message hop per call); a caller that must wait spins briefly, then sleeps on
 * its connection's wait word until the core says that what it waits for has
 * changed.  Timers, ARP and retransmissions progress even when the
 * application does not call in, because the poller keeps polling.
 *
 * netconn calls are blocking (with timeouts) unless the netconn is
 * non-blocking, thread-safe, and return 0 / a byte count or a negative errno.
 */
#ifndef SHUNT_NETCONN_H
#define SHUNT_NETCONN_H

#include <shunt/stack.h>
#include <shunt/pbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shunt_sys;
struct shunt_netconn;

enum shunt_poll_mode {
	SHUNT_POLL_THREAD = 0,	/* a poller thread spins while there is traffic, sleeps when idle */
	SHUNT_POLL_INLINE = 1,	/* waiting callers poll the NIC themselves; the poller only keeps time */
};

struct shunt_sys_config {
	enum shunt_poll_mode mode;
	/*
	 * The poller and the application share one CPU (default: the affinity
	 * has one): waiters poll the NIC themselves for spin_us instead of
	 * watching for the poller's wake-up, and the poller yields the CPU on
	 * each round of its poller_spin_us.
	 */
	int shared_cpu;
	uint32_t spin_us;		/* waiters spin this long before sleeping (SHUNT_SPIN_US) */
	uint32_t poller_spin_us;	/* the poller keeps spinning this long after the last packet */
	uint32_t inline_poll_us;	/* inline mode: a waiter polls the NIC this long, then sleeps */
	uint32_t poller_max_sleep_us;	/* longest idle sleep of the poller */
	int poller_cpu;			/* pin the poller to this CPU; -1 = no pinning */
	int no_poller;			/* the application drives shunt_sys_poll() itself */
	int no_rx_intr;			/* idle poller: never sleep on receive interrupts, only by the clock */
};

SHUNT_API void shunt_sys_config_init(struct shunt_sys_config *cfg);
/* Takes over the stack (netifs configured); starts the poller.  NULL and *err on failure. */
SHUNT_API struct shunt_sys *shunt_sys_create(struct shunt_stack *s, const struct shunt_sys_config *cfg, int *err);
/* Stops the poller, closes every socket and netconn, destroys nothing else: the stack is the caller's again. */
SHUNT_API void shunt_sys_destroy(struct shunt_sys *sys);
SHUNT_API struct shunt_stack *shunt_sys_stack(struct shunt_sys *sys);
/* The poller thread's id (0 without one): where signals meant for the NIC should go. */
SHUNT_API int shunt_sys_poller_tid(struct shunt_sys *sys);
/* For raw-API code sharing the stack with threads: hold the lock around raw calls. */
SHUNT_API void shunt_sys_lock(struct shunt_sys *sys);
SHUNT_API void shunt_sys_unlock(struct shunt_sys *sys);
/* One poll round under the lock (for no_poller setups and tests); returns frames received. */
SHUNT_API int shunt_sys_poll(struct shunt_sys *sys);

struct shunt_sys_stats {
	uint64_t poll_rounds, poll_busy, poller_sleeps, waits, wakeups, spin_hits;
	uint64_t poller_intr_sleeps;	/* of the sleeps: until a frame, a timer or a kick, on interrupts */
};
SHUNT_API void shunt_sys_get_stats(struct shunt_sys *sys, struct shunt_sys_stats *st);

enum shunt_netconn_type {
	SHUNT_NETCONN_TCP = 1,
	SHUNT_NETCONN_UDP = 2,
};

/* Flags for write/recv. */
#define SHUNT_NC_DONTWAIT	0x01	/* this call does not block (MSG_DONTWAIT) */
#define SHUNT_NC_MORE		0x02	/* more data follows (MSG_MORE) */
#define SHUNT_NC_PEEK		0x04	/* leave the data queued (MSG_PEEK) */
#define SHUNT_NC_WAITALL	0x08	/* wait for the full length (MSG_WAITALL) */
#define SHUNT_NC_TRUNC		0x10	/* UDP: return the datagram's real length (MSG_TRUNC) */

SHUNT_API struct shunt_netconn *shunt_netconn_new(struct shunt_sys *sys, enum shunt_netconn_type type, int *err);
/* Closes (gracefully for TCP, honouring linger) and frees. */
SHUNT_API int shunt_netconn_delete(struct shunt_netconn *nc);
SHUNT_API int shunt_netconn_bind(struct shunt_netconn *nc, uint32_t ip, uint16_t port);
/* TCP: blocking connect (or -EINPROGRESS when non-blocking).  UDP: sets the default peer. */
SHUNT_API int shunt_netconn_connect(struct shunt_netconn *nc, uint32_t ip, uint16_t port);
SHUNT_API int shunt_netconn_listen(struct shunt_netconn *nc, int backlog);
SHUNT_API int shunt_netconn_accept(struct shunt_netconn *nc, struct shunt_netconn **newconn);
/*
 * Copying receive: up to len bytes (TCP) or one datagram (UDP; *ip and *port get
 * the sender).  Returns bytes, 0 at end of stream, or -errno.
 */
SHUNT_API int shunt_netconn_recv(struct shunt_netconn *nc, void *buf, uint32_t len, int flags,
    uint32_t *ip, uint16_t *port);
/*
 * Zero-copy receive: the next queued buffer chain (TCP: whatever is queued, up
 * to max bytes; UDP: one datagram).  Free it with shunt_netconn_free_pbuf.
 */
SHUNT_API int shunt_netconn_recv_pbuf(struct shunt_netconn *nc, struct shunt_pbuf **p, uint32_t max, int flags,
    uint32_t *ip, uint16_t *port);
SHUNT_API void shunt_netconn_free_pbuf(struct shunt_netconn *nc, struct shunt_pbuf *p);
/* Copying send.  TCP: returns bytes queued (blocking until all are, unless non-blocking). */
SHUNT_API int shunt_netconn_write(struct shunt_netconn *nc, const void *data, uint32_t len, int flags);
/* Send by reference (TCP): the data lives in p until acknowledged; p's reference passes to the stack. */
SHUNT_API int shunt_netconn_write_pbuf(struct shunt_netconn *nc, struct shunt_pbuf *p, int flags);
SHUNT_API int shunt_netconn_sendto(struct shunt_netconn *nc, const void *data, uint32_t len, uint32_t ip,
    uint16_t port, int flags);
SHUNT_API int shunt_netconn_shutdown(struct shunt_netconn *nc, int rd, int wr);
SHUNT_API int shunt_netconn_getaddr(struct shunt_netconn *nc, int local, uint32_t *ip, uint16_t *port);
SHUNT_API void shunt_netconn_set_nonblocking(struct shunt_netconn *nc, int on);
SHUNT_API int shunt_netconn_is_nonblocking(struct shunt_netconn *nc);
/* Timeouts in ms, 0 = forever. */
SHUNT_API void shunt_netconn_set_recv_timeout(struct shunt_netconn *nc, uint32_t ms);
SHUNT_API void shunt_netconn_set_send_timeout(struct shunt_netconn *nc, uint32_t ms);
/* Pending error (SO_ERROR): returns and clears it. */
SHUNT_API int shunt_netconn_err(struct shunt_netconn *nc);
/* Bytes ready to read (FIONREAD). */
SHUNT_API uint32_t shunt_netconn_pending(struct shunt_netconn *nc);
/* The raw PCB (struct shunt_tcp_pcb * or struct shunt_udp_pcb *) for options; use under the lock. */
SHUNT_API void *shunt_netconn_pcb(struct shunt_netconn *nc);
SHUNT_API struct shunt_sys *shunt_netconn_sys(struct shunt_netconn *nc);

#ifdef __cplusplus
}
#endif
#endif
