/*
 * shunt public API: the stack instance.
 *
 * A struct shunt_stack holds every piece of mutable state of one TCP/IP stack:
 * netifs, ARP cache, PCB tables, timers, buffer pools and counters.  Nothing in
 * the core is global, so several stacks can live in one process (tests wire two
 * together over an in-memory link).  The stack is single-threaded: whoever
 * calls into it must hold it exclusively (the netconn layer provides a lock).
 */
#ifndef SHUNT_STACK_H
#define SHUNT_STACK_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHUNT_API __attribute__((visibility("default")))

struct shunt_stack;
struct shunt_netif;

/*
 * The stack never reads the time itself: it asks the clock it was given.
 * A NULL clock in the config means CLOCK_MONOTONIC.
 */
struct shunt_clock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

/* A virtual clock for tests: time moves only when the test says so. */
struct shunt_vclock {
	struct shunt_clock clock;
	uint64_t now;
};
SHUNT_API void shunt_vclock_init(struct shunt_vclock *vc, uint64_t start_ns);
SHUNT_API void shunt_vclock_advance(struct shunt_vclock *vc, uint64_t ns);

/* The real monotonic clock, shareable by any number of stacks. */
SHUNT_API const struct shunt_clock *shunt_clock_monotonic(void);

struct shunt_stack_config {
	const struct shunt_clock *clock;	/* NULL: monotonic */
	uint64_t seed;			/* keys ISNs, ephemeral ports; 0: random */
	uint32_t pbuf_count;		/* data buffers in the pool */
	uint32_t pbuf_hdr_count;	/* buffer-less pbuf headers (refs, wrappers) */
	uint32_t pbuf_data_size;	/* bytes of data room per pool buffer */
	uint32_t arp_timeout_ms;	/* lifetime of a resolved entry */
	uint32_t arp_retry_ms;		/* interval between ARP requests */
	uint32_t arp_max_retries;	/* requests before giving up on a next hop */
	uint32_t arp_queue_len;		/* packets held per unresolved next hop */
	uint32_t arp_queue_bytes;	/* and their bytes (Linux unres_qlen_bytes) */
	uint32_t reass_timeout_ms;	/* RFC 791: give up on a datagram after this */
	uint32_t reass_max_bytes;	/* memory bound of all partial datagrams */
	uint32_t icmp_rate_per_sec;	/* token bucket refill for ICMP errors */
	uint32_t icmp_burst;		/* token bucket depth */
	uint8_t  ip_ttl;		/* default TTL of sent datagrams */
	uint32_t tcp_msl_ms;		/* TIME_WAIT lasts 2 * MSL */
	uint32_t tcp_max_time_wait;	/* bound on TIME_WAIT entries */
	uint32_t tcp_syn_backlog;	/* half-open bound before SYN cookies */
	uint32_t tcp_sndbuf;		/* default send buffer bytes */
	uint32_t tcp_rcvbuf;		/* default receive buffer bytes */
	uint32_t tcp_ooo_max_bytes;	/* out-of-order data bound per stack (buffer memory it pins) */
	const char *tcp_cc;		/* "newreno" or "cubic" */
	uint32_t tcp_max_pcbs;		/* bound on TCP control blocks */
	uint32_t tcp_rto_initial_ms;	/* RFC 6298: 1 s */
	uint32_t tcp_rto_min_ms;	/* Linux: 200 ms */
	uint32_t tcp_rto_max_ms;	/* Linux: 120 s */
	uint32_t tcp_retries;		/* RTOs before ETIMEDOUT (Linux tcp_retries2) */
	uint32_t tcp_syn_retries;	/* SYN retransmissions before ETIMEDOUT */
	uint32_t tcp_synack_retries;	/* SYN-ACK retransmissions before giving up */
	uint32_t tcp_delack_ms;		/* delayed ACK bound */
	uint32_t tcp_fin_timeout_ms;	/* orphaned FIN_WAIT_2 lifetime */
	uint32_t tcp_keepidle_s, tcp_keepintvl_s, tcp_keepcnt;
	uint32_t tcp_challenge_ack_per_sec; /* RFC 5961 §7 rate limit */
	uint32_t tcp_conn_hash;		/* buckets of the connection table (power of 2) */
	uint32_t tcp_tlp;		/* tail loss probes (RFC 8985 §7), 1 = on (as Linux) */
};

/* Fill a config with the defaults; then change what you need. */
SHUNT_API void shunt_stack_config_init(struct shunt_stack_config *cfg);

/* Returns NULL and sets *err (negative errno) on failure. */
SHUNT_API struct shunt_stack *shunt_stack_create(const struct shunt_stack_config *cfg, int *err);
/* Closes all PCBs, frees netifs' queued packets; netifs must be removed first or are destroyed with it. */
SHUNT_API void shunt_stack_destroy(struct shunt_stack *s);

/*
 * One round of work: receive a burst from every netif and process it, run due
 * timers, flush transmit batches.  Returns the number of frames received.
 */
SHUNT_API int shunt_stack_poll(struct shunt_stack *s);

/*
 * A function the stack calls when it has work for the next poll round that
 * did not come from a NIC (a datagram to one of its own addresses): the
 * poller's owner uses it to cut a sleep short.
 */
SHUNT_API void shunt_stack_set_kick(struct shunt_stack *s, void (*fn)(void *arg), void *arg);

/* Absolute time (clock ns) at which the stack next needs a poll; UINT64_MAX if never. */
SHUNT_API uint64_t shunt_stack_next_deadline(struct shunt_stack *s);

/*
 * Sleeping on receive interrupts, for whoever polls the stack (the sys
 * poller does).  shunt_stack_sleep_prepare arms the interrupt of every netif,
 * polls once more (a frame that came before the arming raises none) and, if
 * that found nothing, fills fds with one descriptor per netif to poll(2) for
 * POLLIN (at most max), sets *until to the next deadline (UINT64_MAX: none)
 * and returns their count; until shunt_stack_sleep_end, arming a timer
 * earlier than *until calls the kick function.  Otherwise, with every
 * interrupt disarmed again, it returns -EAGAIN if the extra poll found work
 * (poll on), or another negative errno if some netif cannot be woken by an
 * interrupt now (-ENOTSUP, -EBUSY: sleep by the clock).  Both run under
 * whatever serialises calls into the stack.
 */
SHUNT_API int shunt_stack_sleep_prepare(struct shunt_stack *s, int *fds, int max, uint64_t *until);
SHUNT_API void shunt_stack_sleep_end(struct shunt_stack *s);

/* The stack's notion of now, refreshed at every poll and every API entry. */
SHUNT_API uint64_t shunt_stack_now(struct shunt_stack *s);

/* Objects still allocated from the stack's pools (leak checks in tests). */
struct shunt_pool_usage {
	uint32_t pbuf_in_use;
	uint32_t pbuf_hdr_in_use;
	uint32_t pbuf_free;
	uint32_t pbuf_hdr_free;
};
SHUNT_API void shunt_stack_pool_usage(struct shunt_stack *s, struct shunt_pool_usage *u);
/*
 * Destroys the stack and reports the pool objects still in use after it let
 * go of everything it held (queues, PCBs, netifs): anything left is a leak,
 * a buffer the application never freed.  Returns the number left.
 */
SHUNT_API uint32_t shunt_stack_destroy_checked(struct shunt_stack *s, struct shunt_pool_usage *left);

/*
 * Counters.  One X-macro list so that names and fields never disagree.
 * Every dropped packet bumps exactly one *_drop_* counter naming the reason.
 */
#define SHUNT_STATS_LIST(X) \
	X(eth_rx) X(eth_tx) X(eth_drop_short) X(eth_drop_type) X(eth_drop_dst) \
	X(eth_tx_drop) X(eth_drop_nobuf) \
	X(arp_rx) X(arp_tx_request) X(arp_tx_reply) X(arp_drop_malformed) \
	X(arp_drop_queue_full) X(arp_drop_unresolved) X(arp_drop_conflict) \
	X(ip_rx) X(ip_tx) X(ip_drop_short) X(ip_drop_version) X(ip_drop_hlen) \
	X(ip_drop_len) X(ip_drop_csum) X(ip_drop_not_ours) X(ip_drop_proto) \
	X(ip_drop_no_route) X(ip_drop_src) X(ip_drop_nobuf) X(ip_drop_ttl) X(ip_drop_options) \
	X(ip_frag_rx) X(ip_frag_reassembled) X(ip_frag_drop_overlap) \
	X(ip_frag_drop_oversize) X(ip_frag_drop_timeout) X(ip_frag_drop_memory) \
	X(ip_frag_drop_bad) X(ip_frag_tx) X(ip_drop_df) \
	X(icmp_rx) X(icmp_tx) X(icmp_echo_reply) X(icmp_unreach_tx) \
	X(icmp_drop_malformed) X(icmp_drop_csum) X(icmp_drop_ratelimit) \
	X(icmp_err_rx) \
	X(udp_rx) X(udp_tx) X(udp_drop_malformed) X(udp_drop_csum) \
	X(udp_drop_noport) X(udp_drop_nobuf) \
	X(tcp_rx) X(tcp_tx) X(tcp_drop_malformed) X(tcp_drop_csum) \
	X(tcp_drop_noport) X(tcp_drop_state) X(tcp_drop_paws) X(tcp_drop_window) \
	X(tcp_drop_nobuf) X(tcp_drop_ooo_memory) X(tcp_drop_listen_overflow) \
	X(tcp_rst_tx) X(tcp_rst_rx) X(tcp_challenge_ack) \
	X(tcp_challenge_ack_limited) X(tcp_retransmit) X(tcp_fast_retransmit) \
	X(tcp_rto) X(tcp_ooo_rx) X(tcp_dup_rx) X(tcp_syncookie_tx) \
	X(tcp_syncookie_ok) X(tcp_syncookie_bad) X(tcp_active_open) \
	X(tcp_passive_open) X(tcp_conn_reset) X(tcp_conn_timeout) \
	X(tcp_keepalive_tx) X(tcp_persist_tx) X(tcp_sack_rx) X(tcp_sack_tx) \
	X(tcp_time_wait_reuse) X(tcp_time_wait_overflow) X(tcp_tso_tx) X(tcp_tlp) \
	X(tcp_dsack_tx) X(tcp_dsack_rx) X(tcp_undo) X(tcp_reorder_seen) X(tcp_txq_defer)

struct shunt_stats {
#define SHUNT_STATS_FIELD(n) uint64_t n;
	SHUNT_STATS_LIST(SHUNT_STATS_FIELD)
#undef SHUNT_STATS_FIELD
};

SHUNT_API void shunt_stack_stats(struct shunt_stack *s, struct shunt_stats *out);
SHUNT_API void shunt_stack_stats_reset(struct shunt_stack *s);
/* Calls fn for every counter, in list order; skips zero counters if nonzero_only. */
SHUNT_API void shunt_stats_foreach(const struct shunt_stats *st, int nonzero_only,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg);

/* IPv4 addresses in the API are in network byte order, as in struct in_addr. */
SHUNT_API int shunt_ip4_parse(const char *str, uint32_t *addr_be);
SHUNT_API const char *shunt_ip4_str(uint32_t addr_be, char buf[16]);

SHUNT_API const char *shunt_version(void);

#ifdef __cplusplus
}
#endif
#endif
