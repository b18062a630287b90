/*
 * TCP internals: the control block, the stack-wide tables, and the
 * interfaces between the TCP files (one per concern, as in FreeBSD netinet):
 *   tcp.c           PCB lifecycle, lookup tables, ports, ISNs, the raw API
 *   tcp_input.c     segment arrival (RFC 9293 §3.10.7), RFC 5961, PAWS
 *   tcp_output.c    segment building, windows, Nagle, TSO, ACK/RST
 *   tcp_timer.c     RTO (RFC 6298), delayed ACK, persist, keepalive, TIME_WAIT
 *   tcp_sack.c      SACK and D-SACK blocks, scoreboard of what the peer holds (RFC 2018, 2883, 6675)
 *   tcp_reass.c     out-of-order queue with memory bounds
 *   tcp_cc.c        congestion control behind an ops table (NewReno, CUBIC)
 *   tcp_syncookie.c SYN cookies (RFC 4987)
 */
#ifndef SHUNT_PRIV_TCP_H
#define SHUNT_PRIV_TCP_H

#include <shunt/tcp.h>
#include "priv/timer.h"
#include "priv/tcp_seq.h"
#include "wire/tcp.h"

struct shunt_stack;
struct ip4_rx;

/* pcb->flags */
#define TF_ACK_NOW	0x00000001u	/* send an ACK at the end of this input */
#define TF_ACK_DELAYED	0x00000002u	/* an ACK is owed; the delayed-ACK timer runs */
#define TF_NODELAY	0x00000004u	/* Nagle off */
#define TF_CORK		0x00000008u
#define TF_FIN_QUEUED	0x00000010u	/* the application closed its direction: FIN follows the data */
#define TF_FIN_SENT	0x00000020u
#define TF_SACK_OK	0x00000040u	/* both sides agreed */
#define TF_TS_OK	0x00000080u
#define TF_WS_OK	0x00000100u
#define TF_RX_SHUT	0x00000200u	/* no more data to the application */
#define TF_KEEPALIVE	0x00000400u
#define TF_CLOSED	0x00000800u	/* the application let go (close) */
#define TF_OFFER_SACK	0x00001000u
#define TF_OFFER_TS	0x00002000u
#define TF_OFFER_WS	0x00004000u
#define TF_REUSEADDR	0x00008000u
#define TF_REUSEPORT	0x00010000u
#define TF_IN_CONN_HASH	0x00020000u
#define TF_IN_BIND_HASH	0x00040000u
#define TF_IN_LISTEN	0x00080000u
#define TF_BACKLOG_HELD	0x00100000u	/* counted in the listener's not-yet-accepted total */
#define TF_PUSH_MORE	0x00200000u	/* the last write said more follows */
#define TF_RTT_TIMING	0x00400000u	/* timing rtt_seq (no timestamps) */
#define TF_WND_UPDATE	0x00800000u	/* the window opened enough to tell the peer */
#define TF_SYNCOOKIE	0x01000000u	/* created from a SYN cookie */
#define TF_QUICKACK_OFF	0x02000000u
#define TF_ACCEPTING	0x04000000u	/* in the listener's accept callback: survives the listener's close */
#define TF_PERSIST	0x08000000u	/* t_rexmt runs as the persist timer */
#define TF_TLP		0x10000000u	/* t_rexmt runs as the tail loss probe timer (RFC 8985 §7) */
#define TF_TLP_RTX	0x20000000u	/* the probe in flight was a retransmission */
#define TF_TLP_OUT	0x80000000u	/* a probe is in flight: [tlp_seq, tlp_end) */
#define TF_FIN_HELD	0x40000000u	/* the peer's FIN waits behind data the application refused */

/* Recovery states (Linux's names in tcp_info.ca_state). */
enum tcp_ca_state {
	CA_OPEN = 0,
	CA_DISORDER = 1,	/* dupacks or SACKs seen, not yet in recovery */
	CA_RECOVERY = 3,	/* fast recovery (RFC 6582 / RFC 6675) */
	CA_LOSS = 4,		/* after an RTO */
};

#define TCP_SACK_MAX	32		/* ranges the scoreboard keeps */
#define TCP_REORDER_INIT	3	/* DupThresh before any reordering is seen (RFC 5681) */
#define TCP_REORDER_MAX	127	/* the most a path is believed to reorder, in segments */

struct sack_range {
	uint32_t start, end;
};

struct shunt_tcp_pcb;

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct shunt_tcp_pcb *pcb);
	/* New data acknowledged outside recovery: grow cwnd. */
	void (*on_ack)(struct shunt_tcp_pcb *pcb, uint32_t acked, uint64_t now);
	/* Loss detected: return the new ssthresh. */
	uint32_t (*ssthresh)(struct shunt_tcp_pcb *pcb, uint64_t now);
	/* Recovery ended (cwnd = ssthresh is done by the caller). */
	void (*recovered)(struct shunt_tcp_pcb *pcb, uint64_t now);
	/* The connection idled past an RTO: restart window (RFC 5681 §4.1). */
	void (*idle_restart)(struct shunt_tcp_pcb *pcb);
};

struct cubic_state {
	uint32_t w_max;		/* bytes, window before the last reduction */
	uint32_t w_last_max;
	uint64_t epoch_start;	/* ns, 0 = no epoch */
	uint32_t origin;	/* bytes */
	uint32_t k_ms;		/* time to reach origin */
	uint32_t w_est;		/* Reno-friendly estimate, bytes */
	uint32_t ack_cnt;
};

struct shunt_tcp_pcb {
	struct shunt_stack *stack;
	struct shunt_tcp_pcb *anext, **apprev;	/* every PCB of the stack */
	/* lookup */
	struct shunt_tcp_pcb *cnext, **cpprev;	/* connection hash (4-tuple) */
	struct shunt_tcp_pcb *bnext, **bpprev;	/* bind hash (local port) */
	struct shunt_tcp_pcb *lnext, **lpprev;	/* listen hash (listeners) / listener's children */
	struct shunt_tcp_pcb *children;		/* listeners: SYN_RECEIVED and unaccepted children */
	struct shunt_tcp_pcb *listener;		/* SYN_RECEIVED / unaccepted child: its listener */
	struct shunt_tcp_pcb *twnext, **twpprev;	/* TIME_WAIT age list */
	uint32_t local_ip, remote_ip;		/* network order */
	uint16_t local_port, remote_port;	/* network order */
	uint8_t state;
	uint8_t ca_state;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t flags;

	/* send side (RFC 9293 §3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;			/* largest window the peer offered (RFC 5961 §5) */
	uint16_t mss;				/* payload bytes per segment we send (options excluded) */
	uint16_t mss_clamp;			/* user's TCP_MAXSEG, 0 = none */
	uint16_t peer_mss;
	uint16_t rcv_mss;			/* estimate of the peer's segment size (delayed ACKs) */
	uint16_t adv_mss;			/* the MSS we offered in our SYN */
	uint16_t dupacks;
	uint32_t cwnd, ssthresh;
	uint32_t recover;			/* RFC 6582 recover / RFC 6675 RecoveryPoint */
	uint32_t high_rxt;			/* retransmitted up to here in this recovery */
	uint32_t lost_to;			/* unSACKed bytes below this are lost */
	uint32_t rtx_mark;			/* snd_nxt when the current retransmissions went out */
	uint32_t rtx_ts;			/* our TSval of the last retransmission */
	uint32_t bytes_acked;			/* for congestion avoidance byte counting */
	uint8_t nrtx;				/* consecutive RTO expiries */
	uint8_t nprobes;			/* persist / keepalive probes unanswered */
	uint8_t pbackoff;			/* persist timer backoff (kept while the window stays shut) */
	uint8_t syn_rtx;
	const struct tcp_cc_ops *cc;
	struct cubic_state cubic;

	/* send buffer: single pbufs linked by qnext, data from snd_una on */
	struct shunt_pbuf *sb_head, *sb_tail;
	uint32_t sb_len;			/* bytes in it */
	uint32_t sb_max;			/* SO_SNDBUF */
	struct shunt_pbuf *sb_cur;		/* cursor for slicing at snd_nxt */
	uint32_t sb_cur_off;			/* offset of sb_cur's first byte from snd_una */

	/* SACK scoreboard: what the peer told us it holds above snd_una */
	uint8_t nsacked;
	uint8_t nsack_out;			/* SACK blocks to send */
	uint16_t quickack;			/* segments still ACKed at once */
	struct sack_range *sacked;		/* TCP_SACK_MAX, allocated on first use */
	struct tcp_sack_block sack_out[TCP_MAX_SACK_BLOCKS];

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_wnd, rcv_adv, last_ack_sent;
	uint32_t rcv_buf;			/* SO_RCVBUF */
	uint32_t rcv_unacked;			/* bytes received since the last ACK we sent */
	uint32_t ooo_bytes;
	struct shunt_pbuf *ooo;			/* out-of-order segments, sorted, qnext-linked */
	struct shunt_pbuf *refused;		/* data the application refused, to offer again */

	/* timestamps (RFC 7323) */
	uint32_t ts_recent;
	uint32_t ts_offset;
	uint64_t ts_recent_age;			/* ns */

	/* RTT (RFC 6298), microseconds */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint64_t last_send;			/* ns, for idle restart */
	uint64_t last_recv;			/* ns, for keepalive */

	/* timers */
	struct shunt_timer t_rexmt;		/* RTO, or persist */
	struct shunt_timer t_delack;
	struct shunt_timer t_misc;		/* keepalive, TIME_WAIT, FIN_WAIT_2, SYN_RECEIVED, poll */
	uint64_t poll_next;
	uint32_t poll_ms;
	uint32_t keepidle_s, keepintvl_s;
	uint8_t keepcnt;
	uint8_t ttl, tos;
	uint8_t dsack_pending : 1;		/* receiver: dsack_out goes first in the next ACK */
	uint8_t txq_deferred : 1;		/* new data held back by a netif's back-pressure (tcp_stack.deferred) */
	uint32_t user_timeout_ms;
	int32_t linger_s;			/* SO_LINGER: -1 off, 0 abortive close */
	union {
		uint64_t first_rtx_time;	/* connections, ns: start of the current retransmission run */
		uint64_t cookie_sent;		/* listeners: when the last SYN cookie went out (ns, 0 never) */
	};
	/*
	 * Undoing a window reduction that proves needless (as Linux does): the
	 * episode's retransmissions were all reported duplicates by D-SACK
	 * (RFC 2883 §4), or the acknowledgement echoes a timestamp older than
	 * the first of them -- the originals arrived, late (RFC 3522).
	 */
	uint32_t prior_cwnd, prior_ssthresh;
	uint32_t undo_marker;			/* SND.UNA when the episode began */
	uint32_t undo_hi;			/* end of the highest data it retransmitted */
	uint32_t undo_ts;			/* our TSval on its first retransmission; 0: none yet */
	uint16_t undo_retrans;			/* its retransmissions no D-SACK has shown needless */
	uint16_t undo_degree;			/* segments SACKed above SND.UNA when it began */
	uint8_t undo_ok;			/* the episode may still be undone */
	uint8_t reordering;			/* DupThresh: how far the path is known to reorder, in segments */
	uint16_t backlog;			/* listeners: bound on unaccepted connections */
	struct tcp_sack_block dsack_out;
	uint32_t tlp_seq, tlp_end;		/* the tail loss probe in flight (TF_TLP_OUT) */

	/* listener (and backlog above) */
	uint16_t accept_pending;		/* listeners: children not yet accepted */
	uint16_t syn_pending;			/* listeners: children in SYN_RECEIVED */

	/* application */
	void *arg;
	shunt_tcp_accept_fn accept_fn;
	shunt_tcp_recv_fn recv_fn;
	shunt_tcp_sent_fn sent_fn;
	shunt_tcp_connected_fn connected_fn;
	shunt_tcp_err_fn err_fn;
	shunt_tcp_poll_fn poll_fn;

	/* counters (struct shunt_tcp_info) */
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint64_t bytes_acked_total, bytes_received, bytes_sent, bytes_retrans;
	uint32_t total_retrans, ooo_segs_in, dup_segs_in, sack_blocks_in;
};


#define TCP_BIND_HASH	4096
#define TCP_DEFER_MAX	256
#define TCP_LISTEN_HASH	1024

struct tcp_stack {
	struct shunt_tcp_pcb *all;
	struct shunt_tcp_pcb **conn;			/* cfg.tcp_conn_hash buckets */
	uint32_t conn_mask;
	struct shunt_tcp_pcb *bind[TCP_BIND_HASH];
	struct shunt_tcp_pcb *listen[TCP_LISTEN_HASH];
	uint32_t count[SHUNT_TCP_TIME_WAIT + 1];
	uint32_t npcbs;
	uint32_t syn_pending;			/* half-open connections in all */
	/* TIME_WAIT PCBs, newest first, for the bound on their number */
	struct shunt_tcp_pcb *tw_head, *tw_tail;
	uint32_t hash_seed;
	uint64_t ca_tokens;			/* challenge ACK token bucket (RFC 5961 §7) */
	uint64_t ca_last;
	uint32_t next_ephemeral;		/* RFC 6056 alg. 3 counter, below the range's size */
	const struct tcp_cc_ops *default_cc;
	uint32_t ooo_bytes;			/* out-of-order data held by all connections */
	struct shunt_tcp_pcb *input_pcb;	/* the connection a segment is being processed for */
	/* Connections holding new data back while a netif is under back-pressure, resumed when it ends. */
	struct shunt_tcp_pcb *deferred[TCP_DEFER_MAX];
	uint32_t ndeferred;
	int defer_overflow;			/* more than fit: the rest are found by their txq_deferred bit */
};

/* Stack-wide tunables, taken from the stack config in ns/us. */
#define TCP_MSL_NS(s)		((uint64_t)(s)->cfg.tcp_msl_ms * 1000000ull)

/* Segment as input sees it. */
struct tcp_seg {
	struct tcp_hdr h;
	struct tcp_opts o;
	uint32_t seq, ack, len;		/* len: payload bytes */
	struct shunt_pbuf *p;		/* payload (p->payload at data), NULL when len == 0 */
	const struct ip4_rx *ip;
};

/*
 * The right edge of the peer's window: SND.WL2 + SND.WND, the window
 * measured from the acknowledgement that announced it (RFC 9293 §3.10.7.4),
 * not from SND.UNA.  They differ inside input processing: an ACK moves
 * SND.UNA and runs the application's sent callback, which may write and
 * send, before the window that ACK carries is taken -- SND.UNA + SND.WND
 * would then stretch the old window over the newly acknowledged bytes and
 * send past what a peer with a shrinking window (one that does not read)
 * can take.  Before the handshake completes SND.WL2 is not set yet.  The
 * persist timer probes whenever nothing fits below this edge, even with
 * SND.WND > 0 (a window announced by an ACK too old to move the edge).
 */
static inline uint32_t
tcp_snd_edge(const struct shunt_tcp_pcb *pcb)
{
	if (pcb->state < SHUNT_TCP_ESTABLISHED)
		return pcb->snd_una + pcb->snd_wnd;
	return pcb->snd_wl2 + pcb->snd_wnd;
}

/* tcp.c */
struct shunt_tcp_pcb *tcp_pcb_alloc(struct shunt_stack *s);
void tcp_pcb_free(struct shunt_tcp_pcb *pcb);
void tcp_set_state(struct shunt_tcp_pcb *pcb, uint8_t state);
void tcp_conn_hash_insert(struct shunt_tcp_pcb *pcb);
void tcp_conn_hash_remove(struct shunt_tcp_pcb *pcb);
struct shunt_tcp_pcb *tcp_conn_lookup(struct shunt_stack *s, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
struct shunt_tcp_pcb *tcp_listen_lookup(struct shunt_stack *s, uint32_t lip, uint16_t lport);
void tcp_bind_hash_insert(struct shunt_tcp_pcb *pcb);
uint32_t tcp_new_isn(struct shunt_stack *s, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
uint32_t tcp_ts_offset(struct shunt_stack *s, uint32_t lip, uint32_t rip);
uint32_t tcp_ts_now(struct shunt_tcp_pcb *pcb);
/* Tears the connection down: err callback (if err != 0 and the app still owns it), free. */
void tcp_drop(struct shunt_tcp_pcb *pcb, int err);
void tcp_time_wait_enter(struct shunt_tcp_pcb *pcb);
/* Normal end: freed, or left CLOSED for the application that still holds it. */
void tcp_finished(struct shunt_tcp_pcb *pcb);
/* close() that ends in a RST: out of the tables now, freed at the next poll (safe inside callbacks). */
void tcp_close_reset(struct shunt_tcp_pcb *pcb);
int tcp_choose_wscale(uint32_t rcvbuf);
void tcp_init_child(struct shunt_tcp_pcb *child, struct shunt_tcp_pcb *lpcb, const struct tcp_seg *seg);
void tcp_established(struct shunt_tcp_pcb *pcb);
uint16_t tcp_route_mss(struct shunt_stack *s, uint32_t dst);
/* Pass in-order data (or the FIN, p == NULL) to the application.  Returns SHUNT_TCP_ABORTED if the PCB died. */
int tcp_deliver(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p);
int tcp_notify_sent(struct shunt_tcp_pcb *pcb, uint32_t len);
/* Offers refused data (and a FIN held behind it) to the application again. */
int tcp_retry_refused(struct shunt_tcp_pcb *pcb);

/* tcp_output.c */
int tcp_output(struct shunt_tcp_pcb *pcb);
/* A netif's back-pressure ended: send what the held-back connections have (tcp_output.c). */
void tcp_resume_deferred(struct shunt_stack *s);
void tcp_defer_forget(struct shunt_tcp_pcb *pcb);
void tcp_send_ack(struct shunt_tcp_pcb *pcb);
void tcp_send_rst(struct shunt_tcp_pcb *pcb);
/* RST for a segment that matches no connection (RFC 9293 §3.10.7.1). */
void tcp_reply_rst(struct shunt_stack *s, const struct tcp_seg *seg);
int tcp_send_syn(struct shunt_tcp_pcb *pcb);		/* SYN or SYN-ACK by state */
void tcp_send_synack_cookie(struct shunt_stack *s, const struct tcp_seg *seg, uint32_t iss, uint16_t mss,
    uint32_t tsval, int wscale_ok, int sack_ok, uint8_t rcv_wscale);
void tcp_send_probe(struct shunt_tcp_pcb *pcb);	/* zero-window or keepalive probe */
int tcp_retransmit_head(struct shunt_tcp_pcb *pcb);	/* one segment from snd_una */
uint32_t tcp_rcv_window(struct shunt_tcp_pcb *pcb);	/* what we would announce, unscaled */
uint32_t tcp_flight(const struct shunt_tcp_pcb *pcb);
void sb_drop_acked(struct shunt_tcp_pcb *pcb, uint32_t n);
int tcp_send_data_at(struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t len, int rtx);
/* Persist timer with an open window: send what fits, ignoring SWS avoidance, Nagle and cork. */
void tcp_send_wakeup(struct shunt_tcp_pcb *pcb);

/* tcp_timer.c */
void tcp_timers_init(struct shunt_tcp_pcb *pcb);
void tcp_timers_stop(struct shunt_tcp_pcb *pcb);
void tcp_rexmt_arm(struct shunt_tcp_pcb *pcb);
void tcp_rexmt_update(struct shunt_tcp_pcb *pcb);	/* after output: arm/stop RTO or persist */
void tcp_delack_arm(struct shunt_tcp_pcb *pcb);
void tcp_misc_update(struct shunt_tcp_pcb *pcb);	/* keepalive / FIN_WAIT_2 / poll */
void tcp_rtt_sample(struct shunt_tcp_pcb *pcb, uint32_t rtt_us);
uint32_t tcp_rto_initial_us(struct shunt_stack *s);

/* tcp_sack.c */
void tcp_sack_update_out(struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t end);	/* receiver: new ooo data */
void tcp_sack_trim_out(struct shunt_tcp_pcb *pcb);				/* receiver: rcv_nxt moved */
/* Adds the SACK blocks of an ACK; returns 1 if its first block is a D-SACK (RFC 2883), left out. */
int tcp_sack_scoreboard_add(struct shunt_tcp_pcb *pcb, const struct tcp_opts *o, uint32_t ack);
void tcp_sack_scoreboard_trim(struct shunt_tcp_pcb *pcb);			/* snd_una moved */
void tcp_sack_scoreboard_clear(struct shunt_tcp_pcb *pcb);
uint32_t tcp_sacked_bytes(const struct shunt_tcp_pcb *pcb);
uint32_t tcp_sack_highest(const struct shunt_tcp_pcb *pcb);
int tcp_sack_is_sacked(const struct shunt_tcp_pcb *pcb, uint32_t seq);
/* Next unSACKed range at or after seq and below lim: returns 1 and sets *start,*end. */
int tcp_sack_next_hole(const struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t lim, uint32_t *start, uint32_t *end);
uint32_t tcp_sack_unsacked_between(const struct shunt_tcp_pcb *pcb, uint32_t a, uint32_t b);
/* RFC 6675 IsLost boundary: unSACKed bytes below it count as lost. */
uint32_t tcp_sack_lost_boundary(const struct shunt_tcp_pcb *pcb);

/* tcp_reass.c */
/*
 * Queues an out-of-order segment (takes p); returns 0, or -ENOMEM if it was
 * dropped.  Memory is charged by the buffers a segment pins, not by its
 * payload, so that tiny segments cannot hold the pool hostage.
 */
int tcp_reass_insert(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, uint32_t seq, uint32_t len, int fin);
/* Takes the segments that rcv_nxt now reaches (chained by qnext), trimmed; *fin set if a FIN was queued. */
struct shunt_pbuf *tcp_reass_pull(struct shunt_tcp_pcb *pcb, int *fin);
void tcp_reass_flush(struct shunt_tcp_pcb *pcb);

/* tcp_cc.c */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
void tcp_cc_enter_recovery(struct shunt_tcp_pcb *pcb, uint64_t now);
/* New data acknowledged (snd_una already moved): grow cwnd if it limited the sender. */
void tcp_cc_on_ack(struct shunt_tcp_pcb *pcb, uint32_t acked, uint64_t now);
void tcp_cc_rto(struct shunt_tcp_pcb *pcb, uint64_t now);

/* tcp_syncookie.c */
uint32_t tcp_cookie_make(struct shunt_stack *s, const struct tcp_seg *seg, uint16_t *mss);
/* 1 and the MSS if the ACK carries a valid cookie. */
int tcp_cookie_check(struct shunt_stack *s, const struct tcp_seg *seg, uint16_t *mss);
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* Stats helpers */
#define TCP_STAT(pcb, name)	STAT_INC((pcb)->stack, name)

#endif
