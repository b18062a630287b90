/*
 * Loss recovery against a scripted peer: fast retransmit after three
 * duplicate ACKs and NewReno partial ACKs (RFC 5681, 6582), limited transmit
 * (RFC 3042), SACK blocks we generate (RFC 2018) and SACK-based recovery that
 * resends only the holes (RFC 6675), the scoreboard across an RTO, and
 * reassembly of out-of-order data.
 */
#include <arpa/inet.h>
#include "tcpscript.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"
#define M		1448

static struct tcps T;
static uint8_t big[1 << 20];

/* Ten segments in flight after the handshake (IW10), more queued. */
static struct shunt_tcp_pcb *
ten_in_flight(struct tcps *t, struct tapp *a, const char *opts, uint32_t mss)
{
	struct shunt_tcp_pcb *pcb = tcps_connect(t, a, opts);

	CHECK_EQ(shunt_tcp_write(pcb, big, 40 * mss, 0), (int)(40 * mss));
	for (int i = 0; i < 10; i++)
		OUT(t, ".", 1 + mss * i, 1, mss);
	NONE(t);
	return pcb;
}

/* The receiver side: SACK blocks for out-of-order data, newest first (RFC 2018 §4). */
TEST(tcp_sack_blocks_generated)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, "P.", 1, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts");
	IN(t, "P.", 2001, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 2001:3001");
	IN(t, "P.", 4001, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 4001:5001 2001:3001");
	IN(t, "P.", 6001, 1, 500, "ts", 500);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 6001:6501 4001:5001 2001:3001");
	/* A block that grows stays one block, and moves to the front. */
	IN(t, "P.", 3001, 1, 500, "ts", 500);
	OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "ts,sack 2001:3501 6001:6501 4001:5001");
	/* The hole at the front fills: the cumulative ACK jumps, the block goes. */
	IN(t, "P.", 1001, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 3501, 0);
	OUT_OPTS(t, "ts,sack 6001:6501 4001:5001");
	CHECK_EQ(a.rx_got, 3500);
	IN(t, "P.", 3501, 1, 500, "ts", 500);
	OUT(t, ".", 1, 5001, 0);
	OUT_OPTS(t, "ts,sack 6001:6501");
	IN(t, "P.", 5001, 1, 500, "ts", 1000);
	OUT(t, ".", 1, 6501, 0);
	OUT_OPTS(t, "ts");
	CHECK_EQ(a.rx_got, 6500);
	CHECK_EQ(a.rx_bad, 0);
	/* Without timestamps there is room for four blocks. */
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_sack_four_blocks_without_timestamps)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, "mss 1460,sackOK,wscale 7");
	for (int k = 0; k < 5; k++) {
		IN(t, "P.", 1001 + 2000 * k, 1, 500, "", 1000);
		OUT(t, ".", 1, 1, 0);
	}
	OUT_OPTS(t, "sack 9001:10001 7001:8001 5001:6001 3001:4001");
	CHECK_EQ(t->seg.nsack, 4);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* The sender side: three dupacks with SACK, only the hole is resent. */
TEST(tcp_sack_recovery_resends_only_hole)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	char sk[64];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a, LINUX_SYN, M);
	/* Segment 2 (1449..2897) is lost; 3, 4, 5 arrive and are SACKed. */
	IN(t, ".", 1, 1 + M, 2000, "ts", 0);
	OUT(t, ".", 1 + 10 * M, 1, M);	/* cwnd grew: new data */
	OUT(t, ".", 1 + 11 * M, 1, M);
	NONE(t);
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + 3 * M);
	IN(t, ".", 1, 1 + M, 2000, sk, 0);
	/* First dupack: limited transmit, one new segment. */
	OUT(t, ".", 1 + 12 * M, 1, M);
	NONE(t);
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + 4 * M);
	IN(t, ".", 1, 1 + M, 2000, sk, 0);
	OUT(t, ".", 1 + 13 * M, 1, M);
	NONE(t);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 1);
	/* Third dupack: fast retransmit of the hole, and nothing SACKed is resent. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + 5 * M);
	IN(t, ".", 1, 1 + M, 2000, sk, 0);
	OUT(t, ".", 1 + M, 1, M);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	CHECK_EQ(i.total_retrans, 1);
	CHECK_EQ(STAT(t, tcp_fast_retransmit), 1);
	while (tcps_take(t) != NULL)
		CHECK(t->seg.seq - t->liss >= 1 + 14 * M);	/* only new data after the hole */
	/* More SACKs: no more retransmissions of the SACKed segments. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + 8 * M);
	IN(t, ".", 1, 1 + M, 2000, sk, 0);
	while (tcps_take(t) != NULL)
		CHECK(t->seg.seq - t->liss >= 1 + 14 * M);
	/* The retransmission arrives: everything up to the SACKed edge is ACKed, recovery continues. */
	IN(t, ".", 1, 1 + 8 * M, 2000, "ts", 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.total_retrans, 1);
	CHECK_EQ(i.ca_state, 3);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Two holes: after the first is resent and SACKs show the second is lost too, it goes out without an RTO. */
TEST(tcp_sack_recovery_two_holes)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	char sk[96];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a, LINUX_SYN, M);
	/* Segments 1 and 4 are lost. */
	for (int k = 2; k <= 5; k++) {
		if (k == 4)
			continue;
		if (k == 2)
			snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + M, 1 + 2 * M);
		else
			snprintf(sk, sizeof(sk), "ts,sack %u:%u %u:%u", 1 + 4 * M, 1 + (k + 1) * M, 1 + M, 1 + 3 * M);
		IN(t, ".", 1, 1, 2000, sk, 0);
	}
	snprintf(sk, sizeof(sk), "ts,sack %u:%u %u:%u", 1 + 4 * M, 1 + 7 * M, 1 + M, 1 + 3 * M);
	IN(t, ".", 1, 1, 2000, sk, 0);
	/* Both holes are lost by RFC 6675's rule (three segments SACKed above each): both are resent. */
	{
		int seen1 = 0, seen4 = 0;

		while (tcps_take(t) != NULL) {
			uint32_t rs = t->seg.seq - t->liss;

			if (rs == 1)
				seen1++;
			else if (rs == 1 + 3 * M)
				seen4++;
			else
				CHECK(rs >= 1 + 10 * M);
		}
		CHECK_EQ(seen1, 1);
		CHECK_EQ(seen4, 1);
	}
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* NewReno without SACK: three dupacks, fast retransmit; a partial ACK resends the next hole at once. */
TEST(tcp_newreno_fast_retransmit_partial_ack)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp, *pcb;
	struct shunt_tcp_info i;
	int k;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	pcb = tcps_accept(t, &l, &a, "mss 1460");
	CHECK_EQ(shunt_tcp_set_cc(pcb, "newreno"), 0);
	CHECK_EQ(shunt_tcp_write(pcb, big, 40 * 1460, 0), 40 * 1460);
	for (k = 0; k < 10; k++)
		OUT(t, ".", 1 + 1460 * k, 1, 1460);
	/* Segments 1 and 3 lost.  Dupacks 1 and 2: limited transmit. */
	IN(t, ".", 1, 1, 65535, "", 0);
	OUT(t, ".", 1 + 10 * 1460, 1, 1460);
	IN(t, ".", 1, 1, 65535, "", 0);
	OUT(t, ".", 1 + 11 * 1460, 1, 1460);
	NONE(t);
	/* Dupack 3: the head is resent at once; cwnd halves (ssthresh = flight / 2 = 6 segments). */
	IN(t, ".", 1, 1, 65535, "", 0);
	OUT(t, ".", 1, 1, 1460);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	CHECK_EQ(i.snd_ssthresh, 6 * 1460);
	NONE(t);
	/* More dupacks: each one lets one segment leave once the pipe drains below cwnd. */
	for (k = 0; k < 8; k++)
		IN(t, ".", 1, 1, 65535, "", 0);
	{
		int n = 0;

		while (tcps_take(t) != NULL) {
			CHECK_EQ(t->seg.seq - t->liss, 1 + (12 + n) * 1460);
			n++;
		}
		/* pipe = 12 out - 11 dupacks - the resent one's hole... new segments = 5 */
		CHECK(n >= 4 && n <= 6);
	}
	/* Partial ACK up to the second hole: it is resent at once (RFC 6582 §3.2 step 4). */
	IN(t, ".", 1, 1 + 2 * 1460, 65535, "", 0);
	OUT(t, ".", 1 + 2 * 1460, 1, 1460);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	CHECK_EQ(i.total_retrans, 2);
	/* The full ACK ends recovery; cwnd = ssthresh (or less). */
	while (tcps_take(t) != NULL)
		;
	IN(t, ".", 1, 1 + 12 * 1460, 65535, "", 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK(i.ca_state <= 1);
	CHECK(i.snd_cwnd <= 6 * 1460 + 1460);
	shunt_tcp_abort(pcb);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Fewer than three dupacks never trigger a retransmission (reordering tolerance). */
TEST(tcp_two_dupacks_no_retransmit)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	char sk[64];

	tcps_init(t, NULL, 0);
	pcb = ten_in_flight(t, &a, LINUX_SYN, M);
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + M, 1 + 2 * M);
	IN(t, ".", 1, 1, 2000, sk, 0);
	OUT(t, ".", 1 + 10 * M, 1, M);
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + M, 1 + 3 * M);
	IN(t, ".", 1, 1, 2000, sk, 0);
	OUT(t, ".", 1 + 11 * M, 1, M);
	/* The "lost" segment was only late. */
	IN(t, ".", 1, 1 + 3 * M, 2000, "ts", 0);
	while (tcps_take(t) != NULL)
		CHECK(t->seg.seq - t->liss >= 1 + 12 * M);
	CHECK_EQ(STAT(t, tcp_retransmit), 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* After an RTO the SACK scoreboard is kept: SACKed data is not resent (RFC 6675 §5.1). */
TEST(tcp_rto_keeps_sack_scoreboard)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	char sk[64];

	tcps_init_rto_only(t, 0);
	pcb = ten_in_flight(t, &a, LINUX_SYN, M);
	/* The peer holds segments 3..10, SACKed once; then silence. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + 2 * M, 1 + 10 * M);
	IN(t, ".", 1, 1, 2000, sk, 0);
	while (tcps_take(t) != NULL)
		;
	CHECK(tcps_wait(t, SEC(5)) != UINT64_MAX);
	/* The RTO resends the head ... */
	OUT(t, ".", 1, 1, M);
	NONE(t);
	IN(t, ".", 1, 1 + M, 2000, sk, 0);
	/* ... then the second hole, and never the SACKed 3..10. */
	while (tcps_take(t) != NULL) {
		uint32_t rs = t->seg.seq - t->liss;

		CHECK(rs == 1 + M || rs >= 1 + 10 * M);
	}
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Reassembly: overlapping, duplicate and out-of-order pieces give the stream exactly once, in order. */
TEST(tcp_reassembly_overlaps)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, "P.", 3001, 1, 500, "ts", 1000);	/* 3001..4000 */
	IN(t, "P.", 2501, 1, 500, "ts", 1000);	/* 2501..3500 overlaps the front */
	IN(t, "P.", 3801, 1, 500, "ts", 500);	/* 3801..4300 overlaps the back */
	IN(t, "P.", 3101, 1, 500, "ts", 100);	/* inside: nothing new */
	IN(t, "P.", 1001, 1, 500, "ts", 3500);	/* covers 1001..4500: swallows all */
	IN(t, "FP.", 4501, 1, 500, "ts", 100);	/* FIN out of order */
	CHECK_EQ(a.rx_got, 0);
	while (tcps_take(t) != NULL)
		;
	IN(t, "P.", 1, 1, 500, "ts", 1000);
	CHECK_EQ(a.rx_got, 4600);
	CHECK_EQ(a.rx_bad, 0);
	CHECK(a.got_fin);
	OUT(t, ".", 1, 4602, 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_CLOSE_WAIT);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/*
 * A timeout during fast recovery, before its recovery point, does not cut
 * ssthresh a second time (Linux's tcp_enter_loss): recovery already answered
 * this window's loss, and a second cut taken from the cwnd recovery shrank
 * would ratchet ssthresh down to 2 segments under steady loss.
 */
TEST(tcp_rto_in_recovery_keeps_ssthresh)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	uint32_t th;
	char sk[64];

	tcps_init_rto_only(t, 0);
	pcb = ten_in_flight(t, &a, LINUX_SYN, M);
	/* Segment 1 lost, 2..5 SACKed: recovery, ssthresh = 0.7 x 10 segments. */
	snprintf(sk, sizeof(sk), "ts,sack %u:%u", 1 + M, 1 + 5 * M);
	IN(t, ".", 1, 1, 2000, sk, 0);
	while (tcps_take(t) != NULL)
		;
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 3);
	th = i.snd_ssthresh;
	CHECK_EQ(th, 7 * M);
	/* The retransmission is lost too; the RTO fires inside the same recovery. */
	CHECK(tcps_wait(t, SEC(5)) != UINT64_MAX);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.ca_state, 4);
	CHECK_EQ(i.snd_cwnd, M);
	CHECKF(i.snd_ssthresh == th, "ssthresh cut again by the RTO: %u, was %u", i.snd_ssthresh, th);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
