/*
 * shunt public API: TCP, raw (callback) flavour.
 *
 * Runs in the stack's execution context only: callbacks fire from inside
 * shunt_stack_poll() or from the raw call that caused them, and every function
 * below must be called by whoever holds the stack.  Addresses and ports are in
 * network byte order.
 *
 * Lifetime: a PCB lives from shunt_tcp_new() (or the accept callback) until
 * the application closes or aborts it, or the stack reports a fatal error
 * through the err callback.  After shunt_tcp_close() the application must not
 * touch the PCB again (the stack finishes the close and frees it).  After the
 * err callback the PCB is already gone.  A callback that aborts its own PCB
 * must return SHUNT_TCP_ABORTED so that the stack stops touching it.
 */
#ifndef SHUNT_TCP_H
#define SHUNT_TCP_H

#include <shunt/stack.h>
#include <shunt/pbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shunt_tcp_pcb;

/* A callback that called shunt_tcp_abort() on its own PCB returns this. */
#define SHUNT_TCP_ABORTED	(-103)	/* -ECONNABORTED */

/* RFC 9293 states. */
enum shunt_tcp_state {
	SHUNT_TCP_CLOSED = 0,
	SHUNT_TCP_LISTEN,
	SHUNT_TCP_SYN_SENT,
	SHUNT_TCP_SYN_RECEIVED,
	SHUNT_TCP_ESTABLISHED,
	SHUNT_TCP_FIN_WAIT_1,
	SHUNT_TCP_FIN_WAIT_2,
	SHUNT_TCP_CLOSE_WAIT,
	SHUNT_TCP_CLOSING,
	SHUNT_TCP_LAST_ACK,
	SHUNT_TCP_TIME_WAIT,
};

/*
 * A new connection on a listener.  Return 0 to take it (set its callbacks
 * here), or a negative errno to refuse it (the stack resets it).
 */
typedef int (*shunt_tcp_accept_fn)(void *arg, struct shunt_tcp_pcb *newpcb, int err);
/*
 * In-order data arrived; p is the callee's (free it with shunt_pbuf_free and
 * call shunt_tcp_recved() once consumed, to reopen the window).  p == NULL:
 * the peer closed its direction (FIN).  Returning a negative errno other than
 * SHUNT_TCP_ABORTED refuses p: the stack keeps it and offers it again later.
 */
typedef int (*shunt_tcp_recv_fn)(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err);
/* len bytes of sent data were acknowledged (send buffer space freed). */
typedef int (*shunt_tcp_sent_fn)(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len);
/* An active open completed (err 0). */
typedef int (*shunt_tcp_connected_fn)(void *arg, struct shunt_tcp_pcb *pcb, int err);
/*
 * The connection died: err is -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT,
 * -ECONNABORTED ...  The PCB is already freed when this runs.
 */
typedef void (*shunt_tcp_err_fn)(void *arg, int err);
/* Called every poll interval while the PCB lives (retry work, timeouts). */
typedef int (*shunt_tcp_poll_fn)(void *arg, struct shunt_tcp_pcb *pcb);

SHUNT_API struct shunt_tcp_pcb *shunt_tcp_new(struct shunt_stack *s);
/* port 0 picks an ephemeral port.  -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL. */
SHUNT_API int shunt_tcp_bind(struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port);
/* Starts listening; backlog bounds connections not yet accepted. */
SHUNT_API int shunt_tcp_listen(struct shunt_tcp_pcb *pcb, int backlog);
/* Active open; connected(arg, pcb, 0) runs when established.  -EISCONN, -EALREADY, -ENETUNREACH ... */
SHUNT_API int shunt_tcp_connect(struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port, shunt_tcp_connected_fn connected);

/* write flags */
#define SHUNT_TCP_WRITE_MORE	0x01	/* more data follows: do not push a partial segment (MSG_MORE) */

/*
 * Queues data for sending: copies it (shunt_tcp_write) or takes the caller's
 * reference to a pbuf chain (shunt_tcp_write_pbuf, zero-copy).  Returns bytes
 * queued (may be fewer than len when the send buffer is nearly full), or
 * -EAGAIN when it is full, -ENOTCONN, -EPIPE after shutdown.  Data leaves at
 * the end of the current poll round or API call.
 */
SHUNT_API int shunt_tcp_write(struct shunt_tcp_pcb *pcb, const void *data, uint32_t len, int flags);
SHUNT_API int shunt_tcp_write_pbuf(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int flags);
/* Sends what the windows allow now. */
SHUNT_API int shunt_tcp_output(struct shunt_tcp_pcb *pcb);
/* The application consumed len bytes: reopen the receive window. */
SHUNT_API void shunt_tcp_recved(struct shunt_tcp_pcb *pcb, uint32_t len);
/* Graceful close: FIN after queued data.  The PCB belongs to the stack afterwards. */
SHUNT_API int shunt_tcp_close(struct shunt_tcp_pcb *pcb);
/* Half close. */
SHUNT_API int shunt_tcp_shutdown(struct shunt_tcp_pcb *pcb, int shut_rx, int shut_tx);
/* Abortive close: RST, PCB freed at once, err callback with -ECONNABORTED. */
SHUNT_API void shunt_tcp_abort(struct shunt_tcp_pcb *pcb);

SHUNT_API void shunt_tcp_arg(struct shunt_tcp_pcb *pcb, void *arg);
SHUNT_API void shunt_tcp_accept(struct shunt_tcp_pcb *pcb, shunt_tcp_accept_fn fn);
SHUNT_API void shunt_tcp_recv(struct shunt_tcp_pcb *pcb, shunt_tcp_recv_fn fn);
SHUNT_API void shunt_tcp_sent(struct shunt_tcp_pcb *pcb, shunt_tcp_sent_fn fn);
SHUNT_API void shunt_tcp_err(struct shunt_tcp_pcb *pcb, shunt_tcp_err_fn fn);
SHUNT_API void shunt_tcp_poll(struct shunt_tcp_pcb *pcb, shunt_tcp_poll_fn fn, uint32_t interval_ms);

/*
 * Backlog accounting for users that accept later than the accept callback
 * (netconn): delayed in the callback, accepted when the user takes it.
 */
SHUNT_API void shunt_tcp_backlog_delayed(struct shunt_tcp_pcb *pcb);
SHUNT_API void shunt_tcp_backlog_accepted(struct shunt_tcp_pcb *pcb);

/* Options */
#define SHUNT_TCP_OPT_NODELAY		1	/* disable Nagle */
#define SHUNT_TCP_OPT_CORK		2	/* send only full segments until uncorked */
#define SHUNT_TCP_OPT_KEEPALIVE		3	/* on/off */
#define SHUNT_TCP_OPT_KEEPIDLE		4	/* seconds */
#define SHUNT_TCP_OPT_KEEPINTVL		5	/* seconds */
#define SHUNT_TCP_OPT_KEEPCNT		6
#define SHUNT_TCP_OPT_SNDBUF		7	/* bytes */
#define SHUNT_TCP_OPT_RCVBUF		8	/* bytes (before the connection opens) */
#define SHUNT_TCP_OPT_MAXSEG		9	/* MSS clamp */
#define SHUNT_TCP_OPT_REUSEADDR		10
#define SHUNT_TCP_OPT_REUSEPORT		11
#define SHUNT_TCP_OPT_TTL		12
#define SHUNT_TCP_OPT_TOS		13
#define SHUNT_TCP_OPT_USER_TIMEOUT	14	/* ms; 0 = retry limit */
#define SHUNT_TCP_OPT_SACK		15	/* offer SACK (default on) */
#define SHUNT_TCP_OPT_TIMESTAMPS	16	/* offer timestamps (default on) */
#define SHUNT_TCP_OPT_WSCALE		17	/* offer window scaling (default on) */
#define SHUNT_TCP_OPT_QUICKACK		18
#define SHUNT_TCP_OPT_LINGER		19	/* seconds, -1 off (default); 0: close resets (abortive) */

SHUNT_API int shunt_tcp_setopt(struct shunt_tcp_pcb *pcb, int opt, int value);
SHUNT_API int shunt_tcp_getopt(struct shunt_tcp_pcb *pcb, int opt, int *value);
/* "newreno" or "cubic"; -ENOENT for others. */
SHUNT_API int shunt_tcp_set_cc(struct shunt_tcp_pcb *pcb, const char *name);
SHUNT_API const char *shunt_tcp_get_cc(struct shunt_tcp_pcb *pcb);

SHUNT_API enum shunt_tcp_state shunt_tcp_state(struct shunt_tcp_pcb *pcb);
SHUNT_API const char *shunt_tcp_state_name(enum shunt_tcp_state st);
/* Free space in the send buffer, in bytes. */
SHUNT_API uint32_t shunt_tcp_sndbuf(struct shunt_tcp_pcb *pcb);
/* Bytes queued and not yet acknowledged (SIOCOUTQ). */
SHUNT_API uint32_t shunt_tcp_outq(struct shunt_tcp_pcb *pcb);
SHUNT_API void shunt_tcp_local(struct shunt_tcp_pcb *pcb, uint32_t *ip, uint16_t *port);
SHUNT_API void shunt_tcp_remote(struct shunt_tcp_pcb *pcb, uint32_t *ip, uint16_t *port);

/* Per-connection information and counters (the common fields of Linux's struct tcp_info). */
struct shunt_tcp_info {
	uint8_t state;
	uint8_t ca_state;		/* 0 open, 1 disorder, 3 recovery, 4 loss */
	uint8_t retransmits;		/* consecutive RTOs of the current segment */
	uint8_t probes;			/* unanswered keepalive / zero-window probes */
	uint8_t backoff;
	uint8_t options;		/* 1 timestamps, 2 sack, 4 wscale */
	uint8_t snd_wscale, rcv_wscale;
	uint32_t rto_us, ato_us, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans;	/* bytes */
	uint32_t rtt_us, rttvar_us;
	uint32_t snd_ssthresh, snd_cwnd;		/* bytes */
	uint32_t rcv_space, snd_wnd, rcv_wnd;
	uint64_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint64_t total_retrans, ooo_segs_in, dup_segs_in, sack_blocks_in;
};
SHUNT_API void shunt_tcp_get_info(struct shunt_tcp_pcb *pcb, struct shunt_tcp_info *info);

/* Connections in each state, for tests and monitoring. */
SHUNT_API uint32_t shunt_tcp_count(struct shunt_stack *s, enum shunt_tcp_state st);

#ifdef __cplusplus
}
#endif
#endif
