/*
 * Reordering against a scripted peer: D-SACK blocks we send for data that
 * came twice (RFC 2883), and the sender undoing a window reduction that
 * proves needless -- all its retransmissions reported as duplicates, or an
 * acknowledgement that echoes a timestamp from before the first of them
 * (RFC 3522) -- then waiting for as much reordering as it saw before calling
 * data lost again.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include "tcpscript.h"
#include "priv/stack.h"
#include "priv/tcp.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"
#define M		1448

static struct tcps T;
static uint8_t big[1 << 20];

/* Ten segments in flight after the handshake (IW10), more queued. */
static struct shunt_tcp_pcb *
ten_in_flight(struct tcps *t, struct tapp *a)
{
	struct shunt_tcp_pcb *pcb = tcps_connect(t, a, LINUX_SYN);

	CHECK_EQ(shunt_tcp_write(pcb, big, 40 * M, 0), (int)(40 * M));
	for (int i = 0; i < 10; i++)
		OUT(t, ".", 1 + M * i, 1, M);
	NONE(t);
	return pcb;
}

static void
drain(struct tcps *t)
{
	while (tcps_take(t) != NULL)
		;
}

/* Segment 1 is late: segments 2, 3, 4 are SACKed; the third such ACK resends it. */
static void
spurious_fast_retransmit(struct tcps *t, struct shunt_tcp_pcb *pcb)
{
	struct shunt_tcp_info i;
	char sk[64];

	IN(t, ".", 1, 1 + M, 2000, "ts", 0);
	drain(t);
	for (int k = 3; k <= 5; k++) {
		snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + k * M);
		IN(t, ".", 1, 1 + M, 2000, sk, 0);
		if (k < 5)
			drain(t);
	}
	OUT(t, ".", 1 + M, 1, M);
	drain(t);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	CHECK_EQ(STAT(t, tcp_fast_retransmit), 1);
}

/* The highest sequence the stack has sent (relative), for a full ACK. */
static uint32_t
sent_edge(struct tcps *t, struct shunt_tcp_pcb *pcb)
{
	return pcb->snd_nxt - t->liss;
}

TEST(tcp_dsack_reports_data_received_twice)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, "P.", 1, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts");
	/* The same segment again: the ACK reports it as a duplicate. */
	IN(t, "P.", 1, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 1:1001");
	CHECK_EQ(STAT(t, tcp_dsack_tx), 1);
	/* With data held out of order, the D-SACK block goes first, the SACK after it. */
	IN(t, "P.", 2001, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 2001:3001");
	IN(t, "P.", 501, 1, 500, "ts", 500);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 501:1001 2001:3001");
	/* Once only: the next ACK has the plain SACK block. */
	IN(t, "P.", 3001, 1, 500, "ts", 500);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 2001:3501");
	/* An old duplicate that PAWS turns away is reported as well. */
	IN(t, "P.", 1, 1, 500, "ts 1 0", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 1:1001 2001:3501");
	CHECK_EQ(STAT(t, tcp_dsack_tx), 3);
	CHECK_EQ(a.rx_got, 1000);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/*
 * The typical reordering: the late original fills the hole, recovery ends,
 * then our retransmission arrives and the peer reports it as a duplicate.
 * The window goes back to what it was, and the path is known to reorder.
 */
TEST(tcp_undo_by_dsack_after_recovery)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	uint32_t prior, hi;
	char sk[64];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a);
	spurious_fast_retransmit(t, pcb);
	prior = pcb->prior_cwnd;
	CHECK(pcb->cwnd < prior);
	CHECK_EQ(pcb->reordering, 3);
	/* The original arrives: everything is acknowledged, recovery ends with the reduced window. */
	hi = sent_edge(t, pcb);
	IN(t, ".", 1, hi, 2000, "ts", 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 0);
	CHECK(pcb->cwnd < prior);
	CHECK_EQ(STAT(t, tcp_undo), 0);
	drain(t);
	/* Then the retransmission: a D-SACK for it. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + M, 1 + 2 * M);
	IN(t, ".", 1, hi, 2000, sk, 0);
	CHECK_EQ(STAT(t, tcp_dsack_rx), 1);
	CHECK_EQ(STAT(t, tcp_undo), 1);
	CHECK(pcb->cwnd >= prior);
	/* Four segments were SACKed above the hole: from now on that much reordering is not loss. */
	CHECK(pcb->reordering >= 4);
	/* A D-SACK for data never retransmitted (a duplicate made by the network) undoes nothing more. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 3 * M, 1 + 4 * M);
	IN(t, ".", 1, hi, 2000, sk, 0);
	CHECK_EQ(STAT(t, tcp_dsack_rx), 2);
	CHECK_EQ(STAT(t, tcp_undo), 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* A retransmission that was needed (no D-SACK, the ACK echoes its timestamp): the reduction stands. */
TEST(tcp_no_undo_for_a_real_loss)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint32_t prior, hi;

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a);
	tcps_advance(t, MS(5));
	spurious_fast_retransmit(t, pcb);
	prior = pcb->prior_cwnd;
	tcps_advance(t, MS(5));
	hi = sent_edge(t, pcb);
	IN(t, ".", 1, hi, 2000, "ts", 0);	/* echoes the retransmission's timestamp */
	CHECK_EQ(STAT(t, tcp_undo), 0);
	CHECK(pcb->cwnd < prior);
	CHECK_EQ(pcb->reordering, 3);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* The ACK that ends recovery echoes the timestamp of the original: it was only late (RFC 3522). */
TEST(tcp_undo_by_timestamp)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	uint32_t prior, hi, orig_ts;
	char ts[64];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a);
	orig_ts = t->ts_recent;		/* the TSval the ten originals carried */
	tcps_advance(t, MS(5));
	spurious_fast_retransmit(t, pcb);
	CHECK(pcb->undo_ts > orig_ts);
	prior = pcb->prior_cwnd;
	hi = sent_edge(t, pcb);
	snprintf(ts, sizeof(ts), "ts %u %u", tcps_peer_ts(t), orig_ts);
	IN(t, ".", 1, hi, 2000, ts, 0);
	CHECK_EQ(STAT(t, tcp_undo), 1);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 0);
	CHECK(pcb->cwnd >= prior);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/*
 * A spurious timeout (the path stalled, nothing was lost): the first ACK
 * after it echoes the originals' timestamp.  The window comes back and
 * nothing else is resent -- not the go-back-N of a real timeout.
 */
TEST(tcp_undo_spurious_rto)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	struct tcps_seg *s;
	uint32_t prior, orig_ts;
	char ts[64];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a);
	orig_ts = t->ts_recent;
	prior = pcb->cwnd;
	/* First the tail loss probe (new data), then the timeout's retransmission. */
	CHECK(tcps_wait(t, SEC(3)) != UINT64_MAX);
	OUT(t, ".", 1 + 10 * M, 1, M);
	NONE(t);
	CHECK(tcps_wait(t, SEC(3)) != UINT64_MAX);
	OUT(t, ".", 1, 1, M);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_rto), 1);
	CHECK_EQ(pcb->cwnd, M);
	/* All ten originals arrive; the ACK echoes their timestamp. */
	snprintf(ts, sizeof(ts), "ts %u %u", tcps_peer_ts(t), orig_ts);
	IN(t, ".", 1, 1 + 10 * M, 2000, ts, 0);
	CHECK_EQ(STAT(t, tcp_tlp), 1);
	CHECK_EQ(STAT(t, tcp_undo), 1);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 0);
	CHECK(pcb->cwnd >= prior);
	/* What goes out next is new data, with the restored window. */
	while ((s = tcps_take(t)) != NULL)
		CHECK(s->seq - t->liss >= 1 + 11 * M);
	CHECK_EQ(STAT(t, tcp_retransmit), 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
