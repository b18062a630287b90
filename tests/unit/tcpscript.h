/*
 * A packetdrill-like scripted TCP peer for unit tests, on the scripted netif.
 *
 * The stack under test lives at 198.18.0.2 (port lport); the test plays the
 * peer at 198.18.0.1 (port rport).  A test injects segments with IN(), takes
 * what the stack sent with OUT() and asserts on it, and moves virtual time
 * with tcps_advance() / tcps_wait().  Sequence numbers in IN/OUT are relative,
 * as in packetdrill: what the peer sends is counted from its ISN (riss), what
 * the stack sends from the stack's ISN (liss, learnt from the first SYN it
 * sends).  So a trace reads:
 *
 *	IN(t, "S", 0, 0, 65535, "mss 1460,sackOK,ts,wscale 7", 0);
 *	OUT(t, "S.", 0, 1, 0);
 *	IN(t, ".", 1, 1, 502, "ts", 0);
 *	IN(t, "P.", 1, 1, 502, "ts", 1000);
 *	OUT(t, ".", 1, 1001, 0);
 *
 * Flags are tcpdump's letters: S F R P U E W and "." for ACK.  PSH is only
 * compared when the expectation names it.  Options are a comma list:
 *   mss N, wscale N, sackOK, ts [VAL ECR], sack A:B [A:B ...], nop, eol
 * On IN, "ts" alone sends the peer's clock (1 ms ticks of virtual time) and
 * echoes the last TSval the stack sent; SACK blocks count from liss.  On OUT
 * the list must match exactly the options present; a value given is checked;
 * SACK blocks count from riss.  Payload of IN is generated: byte i of the
 * peer's stream is tapp_byte(t->rx_seed, i), so a tapp on the stack side
 * checks it byte by byte.
 */
#ifndef SHUNT_TEST_TCPSCRIPT_H
#define SHUNT_TEST_TCPSCRIPT_H

#include <shunt/tcp.h>
#include "testnet.h"
#include "tcpapp.h"

#define TCPS_FIN 0x01
#define TCPS_SYN 0x02
#define TCPS_RST 0x04
#define TCPS_PSH 0x08
#define TCPS_ACK 0x10

/* A segment the stack sent, parsed. */
struct tcps_seg {
	uint8_t flags;
	uint32_t seq, ack;		/* absolute */
	uint16_t win;			/* as on the wire (unscaled) */
	uint16_t sport, dport;		/* host order */
	uint32_t src, dst;
	uint8_t ttl, tos;
	int df;
	int has_mss, has_ws, has_sackok, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int nsack;
	uint32_t sack[4][2];		/* absolute */
	uint32_t len;			/* payload bytes */
	const uint8_t *data;
	uint8_t ol_flags;		/* SHUNT_PBUF_TX_* the stack set */
	uint16_t tso_mss;
	uint64_t when;			/* virtual time it was taken */
};

struct tcps {
	struct shunt_vclock clock;
	struct shunt_stack *s;
	struct shunt_netif *nif;
	uint32_t me, peer;		/* network order */
	uint16_t lport, rport;		/* host order */
	uint32_t liss, riss;
	uint32_t ts_recent;		/* last TSval the stack sent */
	uint32_t ts_base;		/* the peer's TS clock offset */
	uint32_t rx_seed;		/* pattern of the peer's stream */
	struct tcps_seg seg;		/* the last segment taken */
	uint8_t frame[70000];
	uint8_t build[70000];
};

/* cfg may be NULL; caps are the scripted netif's offloads. */
void tcps_init(struct tcps *t, const struct shunt_stack_config *cfg, uint32_t caps);
/* The defaults without tail loss probes: for a test that follows the timeline of the RTO alone. */
void tcps_init_rto_only(struct tcps *t, uint32_t caps);
/* Drops untaken frames, destroys the stack, fails on leaks. */
void tcps_fini(struct tcps *t);

/* Inject a segment (absolute numbers; data NULL: the pattern at seq). */
void tcps_inject(struct tcps *t, const char *file, int line, const char *flags, uint32_t seq, uint32_t ack,
    uint16_t win, const char *opts, const void *data, uint32_t len);
/* Same, with seq counted from riss and ack from liss; then polls. */
#define IN(t, fl, seq, ack, win, opts, len) \
	tcps_inject((t), __FILE__, __LINE__, (fl), (t)->riss + (uint32_t)(seq), (t)->liss + (uint32_t)(ack), \
	    (uint16_t)(win), (opts), NULL, (uint32_t)(len))
/* Raw form: absolute seq and ack, explicit payload. */
#define IN_RAW(t, fl, seq, ack, win, opts, data, len) \
	tcps_inject((t), __FILE__, __LINE__, (fl), (seq), (ack), (uint16_t)(win), (opts), (data), (uint32_t)(len))

#define ANY	(-1LL)
/*
 * Take the next frame and check it: flags exactly (PSH only if named),
 * seq relative to liss, ack to riss, payload length; ANY skips a check.
 */
struct tcps_seg *tcps_expect(struct tcps *t, const char *file, int line, const char *flags, long long seq,
    long long ack, long long len);
#define OUT(t, fl, seq, ack, len) tcps_expect((t), __FILE__, __LINE__, (fl), (seq), (ack), (len))
/* Check the options of the last segment taken. */
void tcps_expect_opts(struct tcps *t, const char *file, int line, const char *opts);
#define OUT_OPTS(t, opts) tcps_expect_opts((t), __FILE__, __LINE__, (opts))
/* No frame is waiting. */
void tcps_expect_none(struct tcps *t, const char *file, int line);
#define NONE(t) tcps_expect_none((t), __FILE__, __LINE__)
/* Take a frame without checks; NULL if none. */
struct tcps_seg *tcps_take(struct tcps *t);

/* Advance the clock by ns and poll. */
void tcps_advance(struct tcps *t, uint64_t ns);
#define MS(x)	((uint64_t)(x) * 1000000ull)
#define SEC(x)	((uint64_t)(x) * 1000000000ull)
/*
 * Move time from deadline to deadline (polling at each) until the stack has
 * sent a frame or max_ns passed; returns the time waited, or UINT64_MAX.
 */
uint64_t tcps_wait(struct tcps *t, uint64_t max_ns);
/* Moves time to exactly now + ns by deadlines, polling at each. */
void tcps_run(struct tcps *t, uint64_t ns);

/* Handshakes.  The app side uses struct tapp (tcpapp.h). */
/* The stack connects to the peer; the peer answers with a SYN-ACK carrying opts. */
struct shunt_tcp_pcb *tcps_connect(struct tcps *t, struct tapp *a, const char *synack_opts);
/* The stack listens on lport; the peer connects with a SYN carrying opts. */
struct shunt_tcp_pcb *tcps_listen(struct tcps *t, struct tapp *lst, int backlog);
struct shunt_tcp_pcb *tcps_accept(struct tcps *t, struct tapp *lst, struct tapp *a, const char *syn_opts);

uint64_t tcps_stat_at(struct tcps *t, size_t off);
#define STAT(t, name) tcps_stat_at((t), offsetof(struct shunt_stats, name))
void tcps_dump_stats(struct tcps *t);

/* The peer's TS clock now (what "ts" sends). */
uint32_t tcps_peer_ts(struct tcps *t);

#endif
