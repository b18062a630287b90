/*
 * TCP state machine against a scripted peer (RFC 9293 §3.5, §3.6, §3.10):
 * active, passive and simultaneous open and close, half-close, CLOSING,
 * LAST_ACK, TIME_WAIT, RST generation and processing, abort, MSS in both
 * directions, window scale and timestamp negotiation, listen backlog.
 */
#include <arpa/inet.h>
#include "tcpscript.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"

static struct tcps T;

TEST(tcp_active_open_options_and_first_data)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct tcps_seg *s;
	struct shunt_tcp_info info;
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_SYN_SENT);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
		CHECK(t->lport >= 32768 && t->lport <= 60999);
		CHECK_EQ(ip, t->me);
	}
	s = OUT(t, "S", 0, ANY, 0);
	/* SYN: MSS of the route, SACK, timestamps, window scale for a 256 KiB buffer (at least 7, as Linux). */
	OUT_OPTS(t, "mss 1460,sackOK,ts,wscale 7");
	CHECK_EQ(s->win, 65535);
	CHECK_EQ(s->tsecr, 0);
	CHECK(s->df);
	CHECK_EQ(s->ttl, 64);
	IN(t, "S.", 0, 1, 65535, "mss 1000,sackOK,ts,wscale 2", 0);
	CHECK(a.connected);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_ESTABLISHED);
	s = OUT(t, ".", 1, 1, 0);
	OUT_OPTS(t, "ts");
	CHECK_EQ(s->tsecr, tcps_peer_ts(t));
	/* 256 KiB >> 7 */
	CHECK_EQ(s->win, 2048);
	shunt_tcp_get_info(pcb, &info);
	CHECK_EQ(info.options, 7);
	CHECK_EQ(info.snd_wscale, 2);
	CHECK_EQ(info.rcv_wscale, 7);
	/* The peer's MSS of 1000 less 12 bytes of timestamp option. */
	CHECK_EQ(info.snd_mss, 988);
	/* Data goes in segments of 988. */
	CHECK_EQ(shunt_tcp_write(pcb, "x", 1, 0) , 1);
	OUT(t, "P.", 1, 1, 1);
	/* Full segments go at once; the 36-byte tail waits while data is unacknowledged (Nagle). */
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 3000, 0), 3000);
	OUT(t, ".", 2, 1, 988);
	OUT(t, ".", 990, 1, 988);
	OUT(t, ".", 1978, 1, 988);
	NONE(t);
	IN(t, ".", 1, 1978, 1000, "ts", 0);
	NONE(t);
	IN(t, ".", 1, 2966, 1000, "ts", 0);
	OUT(t, "P.", 2966, 1, 36);
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 3002, 1, 0);
	CHECK_EQ(a.err, -ECONNABORTED);
	tcps_fini(t);
}

TEST(tcp_passive_open_syn_ack_options)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;
	struct tcps_seg *s;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = &a;
	IN(t, "S", 0, 0, 29200, "mss 1460,sackOK,ts 777 0,nop,wscale 7", 0);
	s = OUT(t, "S.", 0, 1, 0);
	OUT_OPTS(t, "mss 1460,sackOK,ts,wscale 7");
	CHECK_EQ(s->tsecr, 777);
	CHECK_EQ(s->win, 65535);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 1);
	CHECK(!a.accepted);
	IN(t, ".", 1, 1, 229, "ts", 0);
	CHECK(a.accepted);
	CHECK_EQ(shunt_tcp_state(a.pcb), SHUNT_TCP_ESTABLISHED);
	NONE(t);
	/* The peer's scaled window: 229 << 7. */
	{
		struct shunt_tcp_info i;

		shunt_tcp_get_info(a.pcb, &i);
		CHECK_EQ(i.snd_wnd, 229 << 7);
		CHECK_EQ(i.snd_mss, 1448);
	}
	shunt_tcp_abort(a.pcb);
	OUT(t, "R.", 1, 1, 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

TEST(tcp_window_scale_not_offered_by_peer)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;
	struct tcps_seg *s;
	struct shunt_tcp_info i;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = &a;
	/* No wscale, no timestamps: neither goes into the SYN-ACK, windows stay unscaled. */
	IN(t, "S", 0, 0, 8192, "mss 1460,sackOK", 0);
	s = OUT(t, "S.", 0, 1, 0);
	OUT_OPTS(t, "mss 1460,sackOK");
	CHECK_EQ(s->win, 65535);
	IN(t, ".", 1, 1, 8192, "", 0);
	CHECK(a.accepted);
	shunt_tcp_get_info(a.pcb, &i);
	CHECK_EQ(i.options, 2);
	CHECK_EQ(i.snd_wscale, 0);
	CHECK_EQ(i.rcv_wscale, 0);
	CHECK_EQ(i.snd_wnd, 8192);
	CHECK_EQ(i.snd_mss, 1460);
	/* 1000 bytes in: the ACK announces 65535 - 1000 unscaled (the app has not read yet? it has: tapp reads). */
	IN(t, "P.", 1, 1, 8192, "", 1000);
	s = OUT(t, ".", 1, 1001, 0);
	OUT_OPTS(t, "");
	CHECK_EQ(s->win, 65535);
	CHECK_EQ(a.rx_got, 1000);
	/* Send more than the peer's 8192-byte window: it stops at the window. */
	CHECK_EQ(shunt_tcp_write(a.pcb, t->build, 20000, 0), 20000);
	OUT(t, ".", 1, 1001, 1460);
	OUT(t, ".", 1461, 1001, 1460);
	OUT(t, ".", 2921, 1001, 1460);
	OUT(t, ".", 4381, 1001, 1460);
	OUT(t, ".", 5841, 1001, 1460);
	/* 892 bytes are left in the window: less than an MSS and less than half the window, so SWS holds it. */
	NONE(t);
	shunt_tcp_abort(a.pcb);
	OUT(t, "R.", 7301, 1001, 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

TEST(tcp_we_do_not_offer_wscale_ts_sack)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct tcps_seg *s;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_WSCALE, 0), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_TIMESTAMPS, 0), 0);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_SACK, 0), 0);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	s = OUT(t, "S", 0, ANY, 0);
	OUT_OPTS(t, "mss 1460");
	/* The peer offers everything; we must use none of it (RFC 7323 §1.3, RFC 2018 §2). */
	IN(t, "S.", 0, 1, 65535, LINUX_SYN, 0);
	s = OUT(t, ".", 1, 1, 0);
	OUT_OPTS(t, "");
	CHECK_EQ(s->win, 65535);
	IN(t, "P.", 1, 1, 100, "", 2000);
	OUT(t, ".", 1, 2001, 0);
	/*
	 * The window the peer sent is not scaled: 100 bytes, less than half the
	 * largest window seen, so sender SWS avoidance holds the data until the
	 * override timer (the persist timer, one RTO) sends what fits.
	 */
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 500, 0), 500);
	NONE(t);
	CHECK_EQ(tcps_wait(t, SEC(2)), MS(200));
	OUT(t, ".", 1, 2001, 100);
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 101, 2001, 0);
	tcps_fini(t);
}

TEST(tcp_mss_clamp_and_tiny_peer_mss)
{
	struct tcps *t = &T;
	struct tapp a = { 0 }, b = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	int v;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_MAXSEG, 50), -EINVAL);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_MAXSEG, 536), 0);
	CHECK_EQ(shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_MAXSEG, &v), 0);
	CHECK_EQ(v, 536);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	OUT_OPTS(t, "mss 536,sackOK,ts,wscale 7");
	IN(t, "S.", 0, 1, 65535, LINUX_SYN, 0);
	OUT(t, ".", 1, 1, 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.snd_mss, 524);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 1000, 0), 1000);
	OUT(t, ".", 1, 1, 524);
	NONE(t);
	IN(t, ".", 1, 525, 500, "ts", 0);
	OUT(t, "P.", 525, 1, 476);
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 1001, 1, 0);

	/* A peer announcing MSS 1 (or 0) gets segments of the floor size, never of nothing. */
	t->rport++;
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&b, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	IN(t, "S.", 0, 1, 65535, "mss 1,wscale 7", 0);
	OUT(t, ".", 1, 1, 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.snd_mss, 64);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 200, 0), 200);
	OUT(t, ".", 1, 1, 64);
	OUT(t, ".", 65, 1, 64);
	OUT(t, ".", 129, 1, 64);
	NONE(t);	/* the 8-byte tail waits for Nagle */
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 193, 1, 0);

	t->rport++;
	pcb = shunt_tcp_new(t->s);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(tapp_connect(&b, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	IN(t, "S.", 0, 1, 65535, "mss 0,sackOK,ts,wscale 7", 0);
	OUT(t, ".", 1, 1, 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.snd_mss, 52);	/* 64 less the timestamp option */
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 1, 1, 0);
	tcps_fini(t);
}

TEST(tcp_no_mss_option_means_536)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;
	struct shunt_tcp_info i;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	tcps_accept(t, &l, &a, "");
	shunt_tcp_get_info(a.pcb, &i);
	CHECK_EQ(i.snd_mss, 536);	/* RFC 9293 §3.7.1 default */
	shunt_tcp_abort(a.pcb);
	OUT(t, "R.", 1, 1, 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Active close: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT → gone after 2 MSL. */
TEST(tcp_active_close_time_wait)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	uint64_t dt;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, "hello", 5, 0), 5);
	OUT(t, "P.", 1, 1, 5);
	shunt_tcp_close(pcb);
	/* The FIN waits for nothing: data in flight is before it in sequence space. */
	OUT(t, "F.", 6, 1, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_1), 1);
	IN(t, ".", 1, 7, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 1);
	NONE(t);
	IN(t, "F.", 1, 7, 500, "ts", 0);
	OUT(t, ".", 7, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	/* A retransmitted FIN is ACKed again and restarts the 2 MSL. */
	tcps_run(t, SEC(30));
	IN(t, "F.", 1, 7, 500, "ts", 0);
	OUT(t, ".", 7, 2, 0);
	tcps_run(t, SEC(59));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	/* Data in TIME_WAIT gets an ACK; RST is ignored (RFC 1337). */
	IN(t, "R", 2, 0, 0, "", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	dt = tcps_wait(t, SEC(2));
	(void)dt;
	tcps_run(t, SEC(2));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_CLOSED), 0);
	NONE(t);
	/* The 4-tuple is free: a stray segment gets a RST. */
	IN(t, ".", 2, 7, 500, "", 0);
	OUT(t, "R", 7, ANY, 0);
	tcps_fini(t);
}

TEST(tcp_time_wait_lasts_exactly_2msl)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;

	shunt_stack_config_init(&c);
	c.tcp_msl_ms = 1000;
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 1, 1, 0);
	IN(t, "F.", 1, 2, 500, "ts", 0);
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	tcps_run(t, MS(1999));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	tcps_run(t, MS(1));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 0);
	tcps_fini(t);
}

/* Passive close: CLOSE_WAIT → LAST_ACK → CLOSED. */
TEST(tcp_passive_close_last_ack)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp, *pcb;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	pcb = tcps_accept(t, &l, &a, LINUX_SYN);
	IN(t, "FP.", 1, 1, 500, "ts", 10);
	OUT(t, ".", 1, 12, 0);
	CHECK(a.got_fin);
	CHECK_EQ(a.rx_got, 10);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_CLOSE_WAIT);
	/* Half-closed: we may still send. */
	CHECK_EQ(shunt_tcp_write(pcb, "abc", 3, 0), 3);
	OUT(t, "P.", 1, 12, 3);
	IN(t, ".", 12, 4, 500, "ts", 0);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 4, 12, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_LAST_ACK), 1);
	/* The FIN is retransmitted after the RTO when its ACK is lost. */
	CHECK(tcps_wait(t, SEC(2)) != UINT64_MAX);
	OUT(t, "F.", 4, 12, 0);
	IN(t, ".", 12, 5, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_LAST_ACK), 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_CLOSED), 0);
	CHECK_EQ(a.err, 0);
	NONE(t);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Simultaneous close: FIN_WAIT_1 → CLOSING → TIME_WAIT. */
TEST(tcp_simultaneous_close_closing)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 1, 1, 0);
	/* The peer's FIN crosses ours: it does not ACK our FIN yet. */
	IN(t, "F.", 1, 1, 500, "ts", 0);
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_CLOSING), 1);
	IN(t, ".", 2, 2, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	NONE(t);
	tcps_fini(t);
}

/* FIN_WAIT_1 straight to TIME_WAIT on a FIN that also ACKs ours. */
TEST(tcp_fin_ack_in_fin_wait_1)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 1, 1, 0);
	IN(t, "F.", 1, 2, 500, "ts", 0);
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	tcps_fini(t);
}

/* Half-close from our side: shutdown(SHUT_WR), then keep receiving. */
TEST(tcp_half_close_we_shutdown_write)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, "abc", 3, 0), 3);
	OUT(t, "P.", 1, 1, 3);
	CHECK_EQ(shunt_tcp_shutdown(pcb, 0, 1), 0);
	OUT(t, "F.", 4, 1, 0);
	CHECK_EQ(shunt_tcp_write(pcb, "x", 1, 0), -EPIPE);
	IN(t, ".", 1, 5, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_FIN_WAIT_2);
	/* The peer keeps sending for a long time: FIN_WAIT_2 of a live socket has no timeout. */
	IN(t, "P.", 1, 5, 500, "ts", 1000);
	OUT(t, ".", 5, 1001, 0);
	tcps_run(t, SEC(200));
	IN(t, "P.", 1001, 5, 500, "ts", 1000);
	CHECK_EQ(a.rx_got, 2000);
	CHECK_EQ(a.rx_bad, 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_FIN_WAIT_2);
	OUT(t, ".", 5, 2001, 0);	/* still in quick-ACK mode: at once */
	IN(t, "F.", 2001, 5, 500, "ts", 0);
	OUT(t, ".", 5, 2002, 0);
	CHECK(a.got_fin);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_TIME_WAIT);
	shunt_tcp_close(pcb);
	tcps_fini(t);
}

/* An orphaned FIN_WAIT_2 (the app closed) ends after tcp_fin_timeout. */
TEST(tcp_orphan_fin_wait_2_timeout)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;

	shunt_stack_config_init(&c);
	c.tcp_fin_timeout_ms = 5000;
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 1, 1, 0);
	IN(t, ".", 1, 2, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 1);
	tcps_run(t, MS(4999));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 1);
	tcps_run(t, MS(1));
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2), 0);
	NONE(t);
	tcps_fini(t);
}

/* Data for an application that closed gets a RST (as Linux: nobody will read it). */
TEST(tcp_data_after_close_resets)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_tcp_close(pcb);
	OUT(t, "F.", 1, 1, 0);
	IN(t, "P.", 1, 2, 500, "ts", 100);
	OUT(t, "R.", 2, 1, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_2) + shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_1), 0);
	CHECK_EQ(a.err, 0);	/* closed: no callback */
	tcps_fini(t);
}

/* Simultaneous open (RFC 9293 §3.5 figure 7). */
TEST(tcp_simultaneous_open)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct tcps_seg *s;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(pcb, 0, htons(t->lport)), 0);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	OUT(t, "S", 0, ANY, 0);
	/* Their SYN crosses ours. */
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	s = OUT(t, "S.", 0, 1, 0);
	OUT_OPTS(t, "mss 1460,sackOK,ts,wscale 7");
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_SYN_RECEIVED);
	CHECK(!a.connected);
	/* Their SYN-ACK (the answer to our SYN) completes it, as the ACK would. */
	IN(t, "S.", 0, 1, 65535, LINUX_SYN, 0);
	CHECK(a.connected);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_ESTABLISHED);
	/* Nothing more to say: our SYN-ACK, already sent, completes the peer's side (figure 8, line 7). */
	NONE(t);
	(void)s;
	CHECK_EQ(shunt_tcp_write(pcb, "hi", 2, 0), 2);
	OUT(t, "P.", 1, 1, 2);
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 3, 1, 0);
	tcps_fini(t);
}

/* Simultaneous open where the plain ACK completes it. */
TEST(tcp_simultaneous_open_by_ack)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(pcb, 0, htons(t->lport)), 0);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	OUT(t, "S", 0, ANY, 0);
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, ".", 1, 1, 500, "ts", 0);
	CHECK(a.connected);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_ESTABLISHED);
	NONE(t);
	shunt_tcp_abort(pcb);
	OUT(t, "R.", 1, 1, 0);
	tcps_fini(t);
}

TEST(tcp_connect_refused_by_rst)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	/* A RST whose ACK does not acknowledge our SYN is ignored (RFC 9293 §3.10.7.3). */
	IN(t, "R.", 0, 0, 0, "", 0);
	NONE(t);
	CHECK_EQ(a.err, 0);
	/* A RST without ACK is ignored too. */
	IN(t, "R", 0, 0, 0, "", 0);
	CHECK_EQ(a.err, 0);
	/* A SYN-ACK acking something else gets a RST with its ack as our seq. */
	IN(t, "S.", 0, 5, 65535, LINUX_SYN, 0);
	OUT(t, "R", 5, ANY, 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_SYN_SENT);
	IN(t, "R.", 0, 1, 0, "", 0);
	CHECK_EQ(a.err, -ECONNREFUSED);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_SENT), 0);
	tcps_fini(t);
}

TEST(tcp_rst_for_closed_port)
{
	struct tcps *t = &T;

	tcps_init(t, NULL, 0);
	/* RFC 9293 §3.10.7.1: no ACK → RST.ACK acking the segment; ACK → RST from its ack. */
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "R.", 0, 1, 0);
	IN(t, "P.", 1, 1234, 65535, "", 100);
	OUT(t, "R", 1234, ANY, 0);
	IN(t, "F", 1, 0, 65535, "", 10);
	OUT(t, "R.", 0, 12, 0);
	/* Never a RST for a RST. */
	IN(t, "R", 1, 0, 0, "", 0);
	IN(t, "R.", 1, 1, 0, "", 0);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_drop_noport), 5);
	tcps_fini(t);
}

TEST(tcp_established_rst_resets)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };

	tcps_init(t, NULL, 0);
	tcps_connect(t, &a, LINUX_SYN);
	IN(t, "R", 1, 0, 0, "", 0);
	CHECK_EQ(a.err, -ECONNRESET);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED), 0);
	NONE(t);
	tcps_fini(t);
}

TEST(tcp_rst_in_syn_received_returns_to_listen)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = &a;
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, "R", 1, 0, 0, "", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_LISTEN), 1);
	CHECK(!a.accepted);
	/* And the listener still works. */
	tcps_accept(t, &l, &a, LINUX_SYN);
	shunt_tcp_abort(a.pcb);
	OUT(t, "R.", 1, 1, 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* An ACK in SYN_RECEIVED that acknowledges the wrong thing gets a RST; the half-open connection lives on. */
TEST(tcp_syn_received_bad_ack)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = &a;
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, ".", 1, 100, 500, "ts", 0);
	OUT(t, "R", 100, ANY, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 1);
	/* A retransmitted SYN repeats the SYN-ACK. */
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, ".", 1, 1, 500, "ts", 0);
	CHECK(a.accepted);
	shunt_tcp_abort(a.pcb);
	OUT(t, "R.", 1, 1, 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Data and FIN riding on the handshake's ACK. */
TEST(tcp_data_on_third_ack)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = &a;
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, "FP.", 1, 1, 500, "ts", 300);
	CHECK(a.accepted);
	CHECK_EQ(a.rx_got, 300);
	CHECK(a.got_fin);
	OUT(t, ".", 1, 302, 0);
	CHECK_EQ(shunt_tcp_state(a.pcb), SHUNT_TCP_CLOSE_WAIT);
	shunt_tcp_close(a.pcb);
	OUT(t, "F.", 1, 302, 0);
	IN(t, ".", 302, 2, 500, "ts", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_LAST_ACK), 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Closing with unread (refused) data resets, as RFC 2525 §2.17 asks. */
TEST(tcp_close_with_unread_data_resets)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	a.refuse_next = 1;
	IN(t, "P.", 1, 1, 500, "ts", 100);
	CHECK_EQ(a.rx_got, 0);
	OUT(t, ".", 1, 101, 0);
	shunt_tcp_close(pcb);
	OUT(t, "R.", 1, 101, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED) + shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_1), 0);
	tcps_fini(t);
}

/* Refused data is offered again, in order, before newer data. */
TEST(tcp_refused_data_offered_again)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	a.refuse_next = 1;
	IN(t, "P.", 1, 1, 500, "ts", 100);
	CHECK_EQ(a.rx_got, 0);
	OUT(t, ".", 1, 101, 0);
	IN(t, "P.", 101, 1, 500, "ts", 100);
	CHECK_EQ(a.rx_got, 200);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_abort_sends_rst_and_reports)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	shunt_tcp_abort(pcb);
	/* RST at snd_nxt, queued data discarded. */
	OUT(t, "R.", 101, 1, 0);
	NONE(t);
	CHECK_EQ(a.err, -ECONNABORTED);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED), 0);
	/* Abort while connecting: nothing on the wire. */
	memset(&a, 0, sizeof(a));
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	CHECK(tcps_take(t) != NULL);
	shunt_tcp_abort(pcb);
	NONE(t);
	CHECK_EQ(a.err, -ECONNABORTED);
	tcps_fini(t);
}

/* SO_LINGER with a zero timeout turns close into an abortive close. */
TEST(tcp_linger_zero_close_is_abortive)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	int v;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_LINGER, &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_LINGER, 0), 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	shunt_tcp_close(pcb);
	OUT(t, "R.", 101, 1, 0);
	NONE(t);
	CHECK_EQ(a.err, 0);	/* close: the application let go, no callback */
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT) + shunt_tcp_count(t->s, SHUNT_TCP_FIN_WAIT_1), 0);
	tcps_fini(t);
}

static int
accept_hold(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	int *n = arg;

	(void)err;
	shunt_tcp_backlog_delayed(newpcb);
	(*n)++;
	return 0;
}

/* The accept queue is bounded by the backlog: SYNs beyond it are dropped, not answered. */
TEST(tcp_listen_backlog_overflow)
{
	struct tcps *t = &T;
	struct shunt_tcp_pcb *lp;
	int n = 0;

	tcps_init(t, NULL, 0);
	lp = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(lp, 0, htons(t->lport)), 0);
	CHECK_EQ(shunt_tcp_listen(lp, 2), 0);
	shunt_tcp_arg(lp, &n);
	shunt_tcp_accept(lp, accept_hold);
	for (int i = 0; i < 2; i++) {
		t->rport = (uint16_t)(40000 + i);
		IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
		OUT(t, "S.", 0, 1, 0);
		IN(t, ".", 1, 1, 500, "ts", 0);
		NONE(t);
	}
	CHECK_EQ(n, 2);
	t->rport = 40002;
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_drop_listen_overflow), 1);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 0);
	/* Closing the listener leaves accepted-but-held children to their owner (netconn): here, us. */
	shunt_tcp_close(lp);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED), 2);
	tcps_fini(t);
}

/* A listener whose application refuses a connection resets it. */
TEST(tcp_accept_refused_resets)
{
	struct tcps *t = &T;
	struct tapp l = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	l.accept_into = NULL;	/* tapp's accept refuses */
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	IN(t, ".", 1, 1, 500, "ts", 0);
	OUT(t, "R.", 1, 1, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED), 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Closing a listener resets its half-open children. */
TEST(tcp_listener_close_resets_half_open)
{
	struct tcps *t = &T;
	struct tapp l = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	shunt_tcp_close(lp);
	OUT(t, "R.", 1, 1, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 0);
	IN(t, ".", 1, 1, 500, "ts", 0);
	OUT(t, "R", 1, ANY, 0);
	tcps_fini(t);
}

/* SYN+FIN and other nonsense to a listener are dropped; a bare ACK is reset. */
TEST(tcp_listener_oddities)
{
	struct tcps *t = &T;
	struct tapp l = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	IN(t, "SF", 0, 0, 65535, LINUX_SYN, 0);
	IN(t, "F", 0, 0, 65535, "", 0);
	IN(t, "R", 0, 0, 65535, "", 0);
	IN(t, "", 0, 0, 65535, "", 10);
	NONE(t);
	IN(t, "S.", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "R", 0, ANY, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 0);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

TEST(tcp_isn_rfc6528)
{
	struct tcps *t = &T;
	struct tapp a = { 0 }, b = { 0 }, c = { 0 };
	struct shunt_tcp_pcb *p1, *p2, *p3;
	uint32_t i1, i2, i3;

	tcps_init(t, NULL, 0);
	p1 = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(p1, 0, htons(5000)), 0);
	CHECK_EQ(tapp_connect(&a, p1, t->peer, htons(80)), 0);
	i1 = tcps_take(t)->seq;
	shunt_tcp_abort(p1);
	/* The same 4-tuple 1 s later: the ISN moved on by the 4 µs clock (250000 ticks). */
	tcps_advance(t, SEC(1));
	p2 = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(p2, 0, htons(5000)), 0);
	CHECK_EQ(tapp_connect(&b, p2, t->peer, htons(80)), 0);
	i2 = tcps_take(t)->seq;
	CHECK_EQ(i2 - i1, 250000);
	/* Another 4-tuple: an unrelated offset. */
	p3 = shunt_tcp_new(t->s);
	CHECK_EQ(shunt_tcp_bind(p3, 0, htons(5001)), 0);
	CHECK_EQ(tapp_connect(&c, p3, t->peer, htons(80)), 0);
	i3 = tcps_take(t)->seq;
	CHECK(i3 - i2 > 1000000 && i2 - i3 > 1000000);
	shunt_tcp_abort(p2);
	shunt_tcp_abort(p3);
	tcps_fini(t);
}

/* A SYN_RECEIVED child gives up after tcp_synack_retries with exponential backoff. */
TEST(tcp_synack_retries)
{
	struct tcps *t = &T;
	struct tapp l = { 0 };
	struct shunt_tcp_pcb *lp;
	struct shunt_stack_config c;
	uint64_t expect[] = { SEC(1), SEC(2), SEC(4) };

	shunt_stack_config_init(&c);
	c.tcp_synack_retries = 3;
	tcps_init(t, &c, 0);
	lp = tcps_listen(t, &l, 16);
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	OUT(t, "S.", 0, 1, 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(tcps_wait(t, SEC(100)), expect[i]);
		OUT(t, "S.", 0, 1, 0);
	}
	tcps_run(t, SEC(8) - 1);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 1);
	tcps_run(t, 1);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 0);
	NONE(t);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* SYN retransmissions: 1, 2, 4, 8 ... s, then ETIMEDOUT (Linux tcp_syn_retries). */
TEST(tcp_syn_retries_timeout)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;

	shunt_stack_config_init(&c);
	c.tcp_syn_retries = 4;
	tcps_init(t, &c, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(tcps_wait(t, SEC(100)), SEC(1) << i);
		OUT(t, "S", 0, ANY, 0);
		OUT_OPTS(t, "mss 1460,sackOK,ts,wscale 7");
	}
	CHECK_EQ(a.err, 0);
	tcps_run(t, SEC(16) - 1);
	CHECK_EQ(a.err, 0);
	tcps_run(t, 1);
	CHECK_EQ(a.err, -ETIMEDOUT);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_conn_timeout), 1);
	tcps_fini(t);
}

/* After a lost SYN the initial window is one segment (RFC 5681 §3.1, RFC 6928 §2). */
TEST(tcp_lost_syn_initial_window_one)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = shunt_tcp_new(t->s);
	CHECK_EQ(tapp_connect(&a, pcb, t->peer, htons(t->rport)), 0);
	{
		uint32_t ip;
		uint16_t p;

		shunt_tcp_local(pcb, &ip, &p);
		t->lport = ntohs(p);
	}
	OUT(t, "S", 0, ANY, 0);
	CHECK_EQ(tcps_wait(t, SEC(2)), SEC(1));
	OUT(t, "S", 0, ANY, 0);
	IN(t, "S.", 0, 1, 65535, LINUX_SYN, 0);
	OUT(t, ".", 1, 1, 0);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 10000, 0), 10000);
	OUT(t, ".", 1, 1, 1448);
	NONE(t);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* IW10 (RFC 6928): ten full segments before the first ACK. */
TEST(tcp_initial_window_ten_segments)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	static uint8_t big[100000];

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, big, sizeof(big), 0), (int)sizeof(big));
	for (int i = 0; i < 10; i++)
		OUT(t, ".", 1 + 1448 * i, 1, 1448);
	NONE(t);
	/* One ACK for two segments: slow start grows cwnd by two segments (RFC 3465, L = 2), so four go out. */
	IN(t, ".", 1, 1 + 2 * 1448, 2000, "ts", 0);
	for (int i = 10; i < 14; i++)
		OUT(t, ".", 1 + 1448 * i, 1, 1448);
	NONE(t);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_per_connection_info_counters)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 3000, 0), 3000);
	OUT(t, ".", 1, 1, 1448);
	OUT(t, ".", 1449, 1, 1448);
	NONE(t);
	IN(t, ".", 1, 2897, 500, "ts", 0);
	OUT(t, "P.", 2897, 1, 104);
	IN(t, ".", 1, 3001, 500, "ts", 0);
	IN(t, "P.", 1, 3001, 500, "ts", 700);
	OUT(t, ".", 3001, 701, 0);
	shunt_tcp_get_info(pcb, &i);
	CHECK_EQ(i.state, SHUNT_TCP_ESTABLISHED);
	CHECK_EQ(i.bytes_acked, 3000);
	CHECK_EQ(i.bytes_sent, 3000);
	CHECK_EQ(i.bytes_received, 700);
	CHECK_EQ(i.data_segs_out, 3);
	CHECK_EQ(i.data_segs_in, 1);
	CHECK_EQ(i.segs_out, 6);	/* SYN, ACK, 3 data, ACK */
	CHECK_EQ(i.segs_in, 4);		/* SYN-ACK, 2 ACKs, data */
	CHECK_EQ(i.unacked, 0);
	CHECK_EQ(i.total_retrans, 0);
	CHECK_EQ(shunt_tcp_outq(pcb), 0);
	CHECK_EQ(shunt_tcp_sndbuf(pcb), 256 * 1024);
	CHECK_EQ(STAT(t, tcp_active_open), 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}
