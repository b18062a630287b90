/*
 * TCP timers against a scripted peer, with exact virtual times: RTO (RFC
 * 6298) with Karn, exponential backoff, the bounds and the retry limit; the
 * delayed ACK (RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3) and quick ACKs;
 * keepalive (RFC 1122 §4.2.3.6); zero-window probing with the persist timer
 * (RFC 9293 §3.8.6.1); window updates when the application reads, and
 * receiver SWS avoidance (§3.8.6.2.2).
 */
#include <arpa/inet.h>
#include "tcpscript.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"

static struct tcps T;

/* RTO 200 ms (the floor: the handshake RTT was 0.5 ms), doubling at each expiry, ETIMEDOUT after tcp_retries. */
TEST(tcp_rto_backoff_and_retry_limit)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;
	struct shunt_tcp_info i;

	shunt_stack_config_init(&c);
	c.tcp_retries = 4;
	c.tcp_tlp = 0;	/* this test follows the timeline of the RTO alone: no tail loss probes */
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.rto_us, 200000);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 3000, 0), 3000);
	OUT(t, ".", 1, 1, 1448);
	OUT(t, ".", 1449, 1, 1448);
	NONE(t);	/* the tail waits (Nagle) */
	/* Only the first segment is resent (the loss window is one segment), at 200, 400, 800, 1600 ms. */
	for (int k = 0; k < 4; k++) {
		CHECK_EQ(tcps_wait(t, SEC(10)), MS(200) << k);
		OUT(t, ".", 1, 1, 1448);
		NONE(t);
		shunt_tcp_get_info(pcb, &i);
		CHECK_EQ(i.retransmits, k + 1);
		CHECK_EQ(i.rto_us, 400000u << k);
		CHECK_EQ(i.snd_cwnd, 1448);
		CHECK_EQ(i.ca_state, 4);
	}
	CHECK_EQ(a.err, 0);
	tcps_run(t, MS(3200) - 1);
	CHECK_EQ(a.err, 0);
	tcps_run(t, 1);
	CHECK_EQ(a.err, -ETIMEDOUT);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_rto), 4);
	CHECK_EQ(STAT(t, tcp_conn_timeout), 1);
	tcps_fini(t);
}

/* The RTO never exceeds tcp_rto_max_ms; the connection survives as long as retries allow. */
TEST(tcp_rto_max_bound)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;
	uint64_t expect[] = { MS(200), MS(400), MS(800), MS(1000), MS(1000), MS(1000) };

	shunt_stack_config_init(&c);
	c.tcp_rto_max_ms = 1000;
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	for (int k = 0; k < 6; k++) {
		CHECK_EQ(tcps_wait(t, SEC(10)), expect[k]);
		OUT(t, "P.", 1, 1, 100);
	}
	/* An ACK ends the run: the next loss starts from the measured RTO again. */
	IN(t, ".", 1, 101, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 101, 1, 100);
	CHECK(tcps_wait(t, SEC(10)) <= MS(1000));
	OUT(t, "P.", 101, 1, 100);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Karn's algorithm: without timestamps an ACK for a retransmitted segment is no RTT sample. */
TEST(tcp_rto_karn_no_sample_from_retransmission)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;
	struct shunt_tcp_info i;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	tcps_accept(t, &l, &a, "mss 1460");
	shunt_tcp_get_info(a.pcb, &i);
	CHECK_EQ(i.rto_us, 200000);
	CHECK_EQ(shunt_tcp_write(a.pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	CHECK_EQ(tcps_wait(t, SEC(10)), MS(200));
	OUT(t, "P.", 1, 1, 100);
	/*
	 * The ACK comes 350 ms after the first send: were it a sample, the RTO
	 * would rise to about 1 s.  It is not: the backed-off 400 ms stays.
	 */
	tcps_advance(t, MS(150));
	IN(t, ".", 1, 101, 500, "", 0);
	shunt_tcp_get_info(a.pcb, &i);
	CHECK(i.rtt_us < 1000);
	CHECK_EQ(i.rto_us, 400000);
	/* RFC 6298 §5.7: the backed-off RTO may stay until a valid sample; a new sample resets it. */
	CHECK_EQ(shunt_tcp_write(a.pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 101, 1, 100);
	tcps_advance(t, MS(10));
	IN(t, ".", 1, 201, 500, "", 0);
	shunt_tcp_get_info(a.pcb, &i);
	CHECK_EQ(i.rto_us, 200000);
	CHECK(i.rtt_us > 1000);
	shunt_tcp_abort(a.pcb);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* A lost FIN is retransmitted by the RTO like data. */
TEST(tcp_fin_retransmission)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 101, 1, 0);
	/* The data arrived, the FIN did not. */
	IN(t, ".", 1, 101, 500, "ts", 0);
	CHECK_EQ(tcps_wait(t, SEC(10)), MS(200));
	OUT(t, "F.", 101, 1, 0);
	CHECK_EQ(tcps_wait(t, SEC(10)), MS(400));
	OUT(t, "F.", 101, 1, 0);
	IN(t, ".", 1, 102, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 1);
	CHECK(tcps_wait(t, SEC(10)) == UINT64_MAX);
	tcps_fini(t);
}

/* Data and FIN lost together: the retransmission carries both. */
TEST(tcp_fin_retransmitted_with_data)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	shunt_tcp_close(pcb);
	OUT(t, "P.", 1, 1, 100);
	OUT(t, "F.", 101, 1, 0);
	CHECK_EQ(tcps_wait(t, SEC(10)), MS(200));
	OUT(t, "FP.", 1, 1, 100);
	IN(t, ".", 1, 102, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 1);
	tcps_fini(t);
}

/* User timeout (TCP_USER_TIMEOUT) bounds the retransmission run in time instead of count. */
TEST(tcp_user_timeout)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint64_t start;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_USER_TIMEOUT, 1000), 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	start = t->clock.now;
	/* RTOs at 200, 600 ms (from the first send); the run began at 200: the third at 1400 is past 1 s. */
	while (a.err == 0 && t->clock.now - start < SEC(10)) {
		if (tcps_wait(t, SEC(10)) == UINT64_MAX)
			break;
		while (tcps_take(t) != NULL)
			;
	}
	CHECK_EQ(a.err, -ETIMEDOUT);
	CHECK_EQ(t->clock.now - start, MS(1400));
	tcps_fini(t);
}

/* Quick ACKs at the start (16 segments), then delayed ACKs: every second full segment, or 40 ms. */
TEST(tcp_quickack_then_delayed_ack)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint32_t seq = 1;
	int k;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	for (k = 0; k < 16; k++) {
		IN(t, ".", seq, 1, 500, "ts", 1448);
		seq += 1448;
		OUT(t, ".", 1, seq, 0);
	}
	/* Out of quick-ACK mode: one full segment waits 40 ms. */
	IN(t, ".", seq, 1, 500, "ts", 1448);
	seq += 1448;
	NONE(t);
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(40));
	OUT(t, ".", 1, seq, 0);
	/* Two full segments: ACK at once. */
	IN(t, ".", seq, 1, 500, "ts", 1448);
	seq += 1448;
	tcps_advance(t, MS(10));
	NONE(t);
	IN(t, ".", seq, 1, 500, "ts", 1448);
	seq += 1448;
	OUT(t, ".", 1, seq, 0);
	/* A small segment: delayed too, from its arrival. */
	IN(t, "P.", seq, 1, 500, "ts", 10);
	seq += 10;
	tcps_advance(t, MS(39));
	NONE(t);
	tcps_advance(t, MS(1));
	OUT(t, ".", 1, seq, 0);
	/* Data we send carries the owed ACK and cancels the timer. */
	IN(t, "P.", seq, 1, 500, "ts", 10);
	seq += 10;
	CHECK_EQ(shunt_tcp_write(pcb, "x", 1, 0), 1);
	OUT(t, "P.", 1, seq, 1);
	CHECK(tcps_wait(t, SEC(1)) == MS(200));	/* no delayed ACK: only the RTO of that byte is left */
	OUT(t, "P.", 1, seq, 1);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* TCP_QUICKACK off delays at once; on again ACKs the next segments at once. */
TEST(tcp_quickack_option)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_QUICKACK, 0), 0);
	IN(t, "P.", 1, 1, 500, "ts", 100);
	NONE(t);
	CHECK_EQ(tcps_wait(t, SEC(1)), MS(40));
	OUT(t, ".", 1, 101, 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_QUICKACK, 1), 0);
	IN(t, "P.", 101, 1, 500, "ts", 100);
	OUT(t, ".", 1, 201, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* An out-of-order segment is ACKed at once (RFC 5681 §4.2), and so is the one that fills the hole. */
TEST(tcp_immediate_ack_out_of_order)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_QUICKACK, 0), 0);
	IN(t, ".", 1449, 1, 500, "ts", 1448);
	OUT(t, ".", 1, 1, 0);
	OUT_OPTS(t, "ts,sack 1449:2897");
	IN(t, ".", 1, 1, 500, "ts", 1448);
	OUT(t, ".", 1, 2897, 0);
	OUT_OPTS(t, "ts");
	CHECK_EQ(a.rx_got, 2896);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Keepalive: probes after the idle time, every interval, the connection dies after count unanswered. */
TEST(tcp_keepalive_probes_and_timeout)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPIDLE, 10), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPINTVL, 2), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPCNT, 3), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPALIVE, 1), 0);
	/* The probe: an ACK one below SND.UNA, no data (as Linux). */
	CHECK_EQ(tcps_wait(t, SEC(100)), SEC(10));
	OUT(t, ".", 0, 1, 0);
	/* Answered: the count starts over and the next probe is an idle time away. */
	IN(t, ".", 1, 1, 500, "ts", 0);
	CHECK_EQ(tcps_wait(t, SEC(100)), SEC(10));
	OUT(t, ".", 0, 1, 0);
	CHECK_EQ(tcps_wait(t, SEC(100)), SEC(2));
	OUT(t, ".", 0, 1, 0);
	CHECK_EQ(tcps_wait(t, SEC(100)), SEC(2));
	OUT(t, ".", 0, 1, 0);
	CHECK_EQ(a.err, 0);
	tcps_run(t, SEC(2) - 1);
	CHECK_EQ(a.err, 0);
	tcps_run(t, 1);
	CHECK_EQ(a.err, -ETIMEDOUT);
	CHECK_EQ(STAT(t, tcp_keepalive_tx), 4);
	NONE(t);
	tcps_fini(t);
}

/* Traffic keeps keepalive quiet. */
TEST(tcp_keepalive_idle_restarts_on_traffic)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPIDLE, 10), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_KEEPALIVE, 1), 0);
	tcps_run(t, SEC(8));
	IN(t, "P.", 1, 1, 500, "ts", 10);
	OUT(t, ".", 1, 11, 0);
	CHECK_EQ(tcps_wait(t, SEC(100)), SEC(10));
	OUT(t, ".", 0, 11, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Zero window: persist probes with backoff; answered probes never time the connection out. */
TEST(tcp_zero_window_persist)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;
	int k;

	shunt_stack_config_init(&c);
	c.tcp_retries = 3;
	c.tcp_tlp = 0;	/* this test follows the timeline of the RTO alone: no tail loss probes */
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 2896, 0), 2896);
	OUT(t, ".", 1, 1, 1448);
	OUT(t, "P.", 1449, 1, 1448);
	/* The peer takes the data and shuts its window. */
	IN(t, ".", 1, 2897, 0, "ts", 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 5000, 0), 5000);
	NONE(t);
	/* Probes at 200, 400, 800, 1600 ... ms; each answered with a zero window.  More than tcp_retries of them. */
	for (k = 0; k < 6; k++) {
		CHECK_EQ(tcps_wait(t, SEC(100)), MS(200) << k);
		OUT(t, ".", 2896, 1, 0);
		IN(t, ".", 1, 2897, 0, "ts", 0);
		NONE(t);
	}
	CHECK_EQ(a.err, 0);
	CHECK_EQ(STAT(t, tcp_persist_tx), 6);
	/* The window opens: data flows at once and the timer is an RTO again. */
	IN(t, ".", 1, 2897, 100, "ts", 0);
	OUT(t, ".", 2897, 1, 1448);
	OUT(t, ".", 4345, 1, 1448);
	OUT(t, ".", 5793, 1, 1448);
	NONE(t);	/* the 656-byte tail: Nagle */
	CHECK_EQ(tcps_wait(t, SEC(100)), MS(200));
	OUT(t, ".", 2897, 1, 1448);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Unanswered zero-window probes end the connection after tcp_retries. */
TEST(tcp_zero_window_probes_unanswered_timeout)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;
	int k;

	shunt_stack_config_init(&c);
	c.tcp_retries = 3;
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, ".", 1, 1, 0, "ts", 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	NONE(t);
	for (k = 0; k < 3; k++) {
		CHECK_EQ(tcps_wait(t, SEC(100)), MS(200) << k);
		OUT(t, ".", 0, 1, 0);
	}
	tcps_run(t, MS(1600) - 1);
	CHECK_EQ(a.err, 0);
	tcps_run(t, 1);
	CHECK_EQ(a.err, -ETIMEDOUT);
	tcps_fini(t);
}

/* A lost window update: the persist probe finds the opened window. */
TEST(tcp_zero_window_lost_update)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, ".", 1, 1, 0, "ts", 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	CHECK_EQ(tcps_wait(t, SEC(100)), MS(200));
	OUT(t, ".", 0, 1, 0);
	IN(t, ".", 1, 1, 500, "ts", 0);
	OUT(t, "P.", 1, 1, 100);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* Our receive window: it closes as data waits unread, and reopens with an update when the app reads. */
TEST(tcp_receive_window_update_on_read)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct tcps_seg *s;
	uint32_t seq = 1;
	int k;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_RCVBUF, 8000), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_WSCALE, 0), 0);
	a.manual_recved = 1;
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	s = OUT(t, "S", 0, ANY, 0);
	CHECK_EQ(s->win, 8000);
	OUT_OPTS(t, "mss 1460,sackOK,ts");
	IN(t, "S.", 0, 1, 65535, LINUX_SYN, 0);
	s = OUT(t, ".", 1, 1, 0);
	CHECK_EQ(s->win, 8000);
	for (k = 0; k < 5; k++) {
		IN(t, ".", seq, 1, 500, "ts", 1448);
		seq += 1448;
		s = OUT(t, ".", 1, seq, 0);
		CHECK_EQ(s->win, 8000 - (seq - 1));
	}
	/* 760 bytes of window left; the peer fills them.  Zero window. */
	IN(t, "P.", seq, 1, 500, "ts", 760);
	seq += 760;
	s = OUT(t, ".", 1, seq, 0);
	CHECK_EQ(s->win, 0);
	/* Beyond the window: not taken, ACKed with the zero window. */
	IN(t, "P.", seq, 1, 500, "ts", 100);
	s = OUT(t, ".", 1, seq, 0);
	CHECK_EQ(s->win, 0);
	CHECK_EQ(a.rx_got, 8000);
	/* The app reads 1000 bytes: less than an MSS opens nothing (receiver SWS avoidance). */
	shunt_tcp_recved(pcb, 1000);
	NONE(t);
	/* Another 1000: now the opening is worth announcing. */
	shunt_tcp_recved(pcb, 1000);
	s = OUT(t, ".", 1, seq, 0);
	CHECK_EQ(s->win, 2000);
	/* A zero-window probe from the peer learns the window too. */
	IN(t, ".", seq - 1, 1, 500, "ts", 0);
	s = OUT(t, ".", 1, seq, 0);
	CHECK_EQ(s->win, 2000);
	shunt_tcp_recved(pcb, 6000);
	s = OUT(t, ".", 1, seq, 0);
	CHECK_EQ(s->win, 8000);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* The announced right edge never moves left, even when the app's buffer shrinks. */
TEST(tcp_receive_window_never_shrinks)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct tcps_seg *s;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	a.manual_recved = 1;
	IN(t, "P.", 1, 1, 500, "ts", 1000);
	s = OUT(t, ".", 1, 1001, 0);
	CHECK_EQ(((uint32_t)s->win << 7), (256 * 1024 - 1000 + 127) & ~127u);	/* the promised edge, rounded up */
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_RCVBUF, 4096), 0);
	IN(t, "P.", 1001, 1, 500, "ts", 1000);
	s = OUT(t, ".", 1, 2001, 0);
	/* right edge = 2001 + win << 7 must not fall below 1001 + the previous window */
	CHECK(2001 + ((uint32_t)s->win << 7) >= 1001 + ((256 * 1024 - 1000 + 127) & ~127u));
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
