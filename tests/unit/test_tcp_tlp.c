/*
 * Tail loss probes (RFC 8985 §7) against a scripted peer: after two round
 * trips of silence the sender probes instead of waiting for the RTO; the
 * probe's SACK reveals the losses below it and recovery starts at once; an
 * ACK covering a retransmitted probe reduces the window; without SACK there
 * is no probe.
 */
#include <arpa/inet.h>
#include "tcpscript.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"
#define M		1448

static struct tcps T;
static uint8_t data[1 << 16];

/* Four segments out, the peer acknowledges the first two. */
static struct shunt_tcp_pcb *
four_out_two_acked(struct tcps *t, struct tapp *a, const char *synack)
{
	struct shunt_tcp_pcb *pcb = tcps_connect(t, a, synack);
	int i;

	shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1);
	CHECK_EQ(shunt_tcp_write(pcb, data, 4 * M, 0), 4 * M);
	for (i = 0; i < 4; i++)
		OUT(t, i == 3 ? "P." : ".", 1 + M * i, 1, M);
	NONE(t);
	IN(t, ".", 1, 1 + 2 * M, 1000, strstr(synack, "ts") ? "ts" : "", 0);
	NONE(t);
	return pcb;
}

TEST(tcp_tlp_probe_then_recovery_from_its_sack)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint64_t waited;

	tcps_init(t, NULL, 0);
	pcb = four_out_two_acked(t, &a, LINUX_SYN);
	/* The handshake measured a tiny RTT: the probe goes at the 10 ms floor, long before the 200 ms RTO. */
	waited = tcps_wait(t, SEC(1));
	CHECK_EQ(waited, MS(10));
	OUT(t, "P.", 1 + 3 * M, 1, M);		/* nothing new to send: the last segment again */
	CHECK_EQ(STAT(t, tcp_tlp), 1);
	NONE(t);
	/* The probe arrives, the segment before it does not: the peer SACKs the probe. */
	IN(t, ".", 1, 1 + 2 * M, 1000, "ts,sack 4345:5793", 0);
	/* Recovery starts at once: the hole (third segment) goes out without waiting for the RTO. */
	OUT(t, ".", 1 + 2 * M, 1, M);
	CHECK_EQ(STAT(t, tcp_rto), 0);
	CHECK_EQ(STAT(t, tcp_fast_retransmit), 1);
	IN(t, ".", 1, 1 + 4 * M, 1000, "ts", 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_tlp_repairs_a_lost_tail_and_reduces_cwnd)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info before, after;

	tcps_init(t, NULL, 0);
	pcb = four_out_two_acked(t, &a, LINUX_SYN);
	shunt_tcp_get_info(pcb, &before);
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(10));
	OUT(t, "P.", 1 + 3 * M, 1, M);
	/* The peer had the third segment after all and lacked only the tail: one ACK covers all. */
	IN(t, ".", 1, 1 + 4 * M, 1000, "ts", 0);
	shunt_tcp_get_info(pcb, &after);
	/* A retransmitted probe that repaired the tail counts as a loss for the window. */
	CHECK(after.snd_cwnd < before.snd_cwnd);
	CHECK_EQ(STAT(t, tcp_rto), 0);
	NONE(t);
	/* Nothing in flight: no more probes, no RTO. */
	CHECK_EQ(tcps_wait(t, SEC(5)), UINT64_MAX);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_tlp_needs_sack)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = four_out_two_acked(t, &a, "mss 1460,ts,wscale 7");
	/* No SACK: the probe could not tell what it found, so the RTO it is (200 ms). */
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(200));
	OUT(t, ".", 1 + 2 * M, 1, M);
	CHECK_EQ(STAT(t, tcp_tlp), 0);
	CHECK_EQ(STAT(t, tcp_rto), 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_tlp_off_by_config)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init_rto_only(t, 0);
	pcb = four_out_two_acked(t, &a, LINUX_SYN);
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(200));
	OUT(t, ".", 1 + 2 * M, 1, M);
	CHECK_EQ(STAT(t, tcp_tlp), 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
