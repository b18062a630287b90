/*
 * TCP under attack, against a scripted peer: RFC 5961 blind RST, SYN and
 * data injection with challenge ACKs and their rate limit, PAWS (RFC 7323
 * §5), SYN cookies (RFC 4987), TIME_WAIT assassination (RFC 1337), TIME_WAIT
 * reuse by a newer SYN and the bound on TIME_WAIT entries, out-of-order
 * memory bounds.
 */
#include <arpa/inet.h>
#include "tcpscript.h"

#define LINUX_SYN	"mss 1460,sackOK,ts,wscale 7"

static struct tcps T;

TEST(tcp_5961_rst_in_window_challenged)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };

	tcps_init(t, NULL, 0);
	tcps_connect(t, &a, LINUX_SYN);
	IN(t, "P.", 1, 1, 500, "ts", 100);
	OUT(t, ".", 1, 101, 0);
	/* In the window, not exact: a challenge ACK, the connection lives (§3.2). */
	IN(t, "R", 5000, 0, 0, "", 0);
	OUT(t, ".", 1, 101, 0);
	CHECK_EQ(a.err, 0);
	CHECK_EQ(STAT(t, tcp_challenge_ack), 1);
	/* Out of the window: silently dropped. */
	IN(t, "R", 100 + (1u << 30), 0, 0, "", 0);
	IN(t, "R", 50, 0, 0, "", 0);
	NONE(t);
	CHECK_EQ(a.err, 0);
	/* The real peer answers the challenge with an exact RST. */
	IN(t, "R", 101, 0, 0, "", 0);
	CHECK_EQ(a.err, -ECONNRESET);
	CHECK_EQ(STAT(t, tcp_rst_rx), 1);
	tcps_fini(t);
}

TEST(tcp_5961_syn_in_established_challenged)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	/* In window or not, a SYN is answered with an ACK, never obeyed (§4.2). */
	IN(t, "S", 1, 0, 65535, LINUX_SYN, 0);
	OUT(t, ".", 1, 1, 0);
	IN(t, "S", 1u << 31, 0, 65535, LINUX_SYN, 0);
	OUT(t, ".", 1, 1, 0);
	IN(t, "S.", 10, 1, 65535, LINUX_SYN, 0);
	OUT(t, ".", 1, 1, 0);
	CHECK_EQ(shunt_tcp_state(pcb), SHUNT_TCP_ESTABLISHED);
	CHECK_EQ(a.err, 0);
	CHECK_EQ(STAT(t, tcp_challenge_ack), 3);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_5961_ack_out_of_range_discards_data)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	/* Acknowledges data never sent (§5.2): challenge ACK, the data is not taken. */
	IN(t, "P.", 1, 5000, 500, "ts", 200);
	OUT(t, ".", 101, 1, 0);
	CHECK_EQ(a.rx_got, 0);
	/* Acknowledges data far below SND.UNA - MAX.SND.WND: the same. */
	IN(t, "P.", 1, 1 - (1u << 30), 500, "ts", 200);
	OUT(t, ".", 101, 1, 0);
	CHECK_EQ(a.rx_got, 0);
	CHECK_EQ(STAT(t, tcp_challenge_ack), 2);
	/* An old but acceptable ACK with data: the data is taken. */
	IN(t, "P.", 1, 1, 500, "ts", 200);
	OUT(t, ".", 101, 201, 0);
	CHECK_EQ(a.rx_got, 200);
	CHECK_EQ(a.rx_bad, 0);
	CHECK_EQ(shunt_tcp_outq(pcb), 100);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_5961_challenge_ack_rate_limit)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_stack_config c;
	int i;

	shunt_stack_config_init(&c);
	c.tcp_challenge_ack_per_sec = 5;
	tcps_init(t, &c, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	for (i = 0; i < 10; i++)
		IN(t, "R", 1000 + i, 0, 0, "", 0);
	for (i = 0; i < 5; i++)
		OUT(t, ".", 1, 1, 0);
	NONE(t);
	CHECK_EQ(STAT(t, tcp_challenge_ack), 5);
	CHECK_EQ(STAT(t, tcp_challenge_ack_limited), 5);
	/* The bucket refills at 5 a second: 200 ms buys one more. */
	tcps_advance(t, MS(199));
	IN(t, "R", 2000, 0, 0, "", 0);
	NONE(t);
	tcps_advance(t, MS(1));
	IN(t, "R", 2001, 0, 0, "", 0);
	OUT(t, ".", 1, 1, 0);
	CHECK_EQ(a.err, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* A segment outside the window is answered with an ACK (RFC 9293 §3.10.7.4), not taken. */
TEST(tcp_out_of_window_data_acked_not_taken)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	IN(t, "P.", 1u << 30, 1, 500, "ts", 100);
	OUT(t, ".", 1, 1, 0);
	IN(t, "P.", 1 - 1000, 1, 500, "ts", 100);
	OUT(t, ".", 1, 1, 0);
	CHECK_EQ(a.rx_got, 0);
	CHECK_EQ(STAT(t, tcp_dup_rx), 1);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

TEST(tcp_paws_rejects_old_timestamp)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	char opt[64];
	uint32_t now;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	tcps_advance(t, MS(100));
	now = tcps_peer_ts(t);
	snprintf(opt, sizeof(opt), "ts %u %u", now, t->ts_recent);
	IN(t, "P.", 1, 1, 500, opt, 100);
	OUT(t, ".", 1, 101, 0);
	OUT_OPTS(t, "ts");
	CHECK_EQ(t->seg.tsecr, now);
	/* An old duplicate: TSval below TS.Recent.  Dropped, answered with an ACK (RFC 7323 §5.3 R1). */
	snprintf(opt, sizeof(opt), "ts %u %u", now - 50, t->ts_recent);
	IN(t, "P.", 101, 1, 500, opt, 100);
	OUT(t, ".", 1, 101, 0);
	CHECK_EQ(t->seg.tsecr, now);
	CHECK_EQ(a.rx_got, 100);
	CHECK_EQ(STAT(t, tcp_drop_paws), 1);
	/* TSval wrapped far "ahead" by more than 2^31 is old too. */
	snprintf(opt, sizeof(opt), "ts %u %u", now + 0x80000001u, t->ts_recent);
	IN(t, "P.", 101, 1, 500, opt, 100);
	OUT(t, ".", 1, 101, 0);
	CHECK_EQ(STAT(t, tcp_drop_paws), 2);
	/* A RST is not subject to PAWS (it has its own checks). */
	snprintf(opt, sizeof(opt), "ts %u %u", now - 50, t->ts_recent);
	IN(t, "R", 101, 0, 0, opt, 0);
	CHECK_EQ(a.err, -ECONNRESET);
	(void)pcb;
	tcps_fini(t);
}

TEST(tcp_timestamps_echo_and_rtt)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_tcp_info i;
	uint32_t ts1;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 100, 0), 100);
	OUT(t, "P.", 1, 1, 100);
	ts1 = t->seg.tsval;
	/* The ACK comes 30 ms later and echoes the segment's TSval: RTTM gives 30 ms (RFC 7323 §4). */
	tcps_advance(t, MS(30));
	{
		char opt[64];

		snprintf(opt, sizeof(opt), "ts %u %u", tcps_peer_ts(t), ts1);
		IN(t, ".", 1, 101, 500, opt, 0);
	}
	shunt_tcp_get_info(pcb, &i);
	CHECK(i.rtt_us < 30000);	/* smoothed with the 0.5 ms handshake sample */
	CHECK(i.rtt_us > 3000);
	/* Our clock ticks in ms: 30 ms later our TSval is 30 more. */
	CHECK_EQ(shunt_tcp_write(pcb, t->build, 10, 0), 10);
	OUT(t, "P.", 101, 1, 10);
	CHECK_EQ(t->seg.tsval - ts1, 30);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* SYN flood past tcp_syn_backlog: SYN cookies, a legitimate client completes, a forged ACK gets a RST. */
TEST(tcp_syn_cookies)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 };
	struct shunt_tcp_pcb *lp;
	struct shunt_stack_config c;
	struct tcps_seg *s;
	struct shunt_tcp_info i;
	uint32_t cookie, tsval;
	char opt[64];

	shunt_stack_config_init(&c);
	c.tcp_syn_backlog = 4;
	tcps_init(t, &c, 0);
	lp = tcps_listen(t, &l, 64);
	for (int k = 0; k < 4; k++) {
		t->rport = (uint16_t)(50000 + k);
		IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
		OUT(t, "S.", 0, 1, 0);
	}
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 4);
	/* The queue is full: the next SYN gets a cookie and leaves no state. */
	t->rport = 40000;
	IN(t, "S", 0, 0, 65535, "mss 1400,sackOK,ts,wscale 9", 0);
	s = OUT(t, "S.", 0, 1, 0);
	OUT_OPTS(t, "mss 1400,sackOK,ts,wscale 7");
	cookie = s->seq;
	tsval = s->tsval;
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 4);
	CHECK_EQ(STAT(t, tcp_syncookie_tx), 1);
	/* A forged ACK (wrong cookie) gets a RST and makes nothing. */
	snprintf(opt, sizeof(opt), "ts %u %u", tcps_peer_ts(t), tsval);
	IN(t, ".", 1, 2, 600, opt, 0);
	OUT(t, "R", 2, ANY, 0);
	CHECK_EQ(STAT(t, tcp_syncookie_bad), 1);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_ESTABLISHED), 0);
	/* The real client completes 2 s later; what its SYN said comes back from the cookie. */
	tcps_advance(t, SEC(2));
	shunt_script_clear(t->nif);	/* the half-open ones' SYN-ACK retransmissions */
	l.accept_into = &a;
	snprintf(opt, sizeof(opt), "ts %u %u", tcps_peer_ts(t), tsval);
	IN(t, "P.", 1, 1, 600, opt, 100);
	CHECK(a.accepted);
	CHECK_EQ(a.rx_got, 100);
	CHECK_EQ(STAT(t, tcp_syncookie_ok), 1);
	OUT(t, ".", 1, 101, 0);
	shunt_tcp_get_info(a.pcb, &i);
	CHECK_EQ(i.options, 7);
	CHECK_EQ(i.snd_wscale, 9);
	CHECK_EQ(i.snd_mss, 1400 - 12);
	CHECK_EQ(i.snd_wnd, 600u << 9);
	(void)cookie;
	/* A cookie older than its lifetime (3 minutes) is refused (and by then none is even checked). */
	t->rport = 40001;
	IN(t, "S", 0, 0, 65535, "mss 1460", 0);
	s = OUT(t, "S.", 0, 1, 0);
	OUT_OPTS(t, "mss 1460");
	tcps_advance(t, SEC(200));
	shunt_script_clear(t->nif);
	IN(t, ".", 1, 1, 600, "", 0);
	OUT(t, "R", 1, ANY, 0);
	CHECK_EQ(STAT(t, tcp_syncookie_ok), 1);
	shunt_tcp_abort(a.pcb);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/*
 * Without a recent overflow a listener checks no cookie at all (as Linux):
 * a blind ACK cannot try its way through the 24-bit hash.
 */
TEST(tcp_syn_cookie_only_after_overflow)
{
	struct tcps *t = &T;
	struct tapp l = { 0 };
	struct shunt_tcp_pcb *lp;
	struct shunt_stack_config c;
	struct tcps_seg *s;
	uint32_t cookie;

	shunt_stack_config_init(&c);
	c.tcp_syn_backlog = 1;
	tcps_init(t, &c, 0);
	lp = tcps_listen(t, &l, 64);
	IN(t, ".", 1, 1, 600, "", 0);
	OUT(t, "R", 1, ANY, 0);
	CHECK_EQ(STAT(t, tcp_syncookie_bad), 0);
	t->rport = 50000;
	IN(t, "S", 0, 0, 65535, "mss 1460", 0);
	OUT(t, "S.", 0, 1, 0);
	t->rport = 40000;
	IN(t, "S", 0, 0, 65535, "mss 1460", 0);
	s = OUT(t, "S.", 0, 1, 0);
	cookie = s->seq;
	CHECK_EQ(STAT(t, tcp_syncookie_tx), 1);
	/* Now ACKs are checked: a wrong one is counted. */
	t->rport = 40001;
	IN(t, ".", 1, 1, 600, "", 0);
	OUT(t, "R", 1, ANY, 0);
	CHECK_EQ(STAT(t, tcp_syncookie_bad), 1);
	/* Three minutes on, the flood is over: no cookie is checked again. */
	tcps_run(t, SEC(181));
	shunt_script_clear(t->nif);
	IN(t, ".", 1, 1, 600, "", 0);
	OUT(t, "R", 1, ANY, 0);
	CHECK_EQ(STAT(t, tcp_syncookie_bad), 1);
	(void)cookie;
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* RFC 1337: a RST does not end TIME_WAIT early. */
TEST(tcp_time_wait_assassination)
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
	IN(t, "R", 2, 0, 0, "", 0);
	IN(t, "R.", 2, 2, 0, "", 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	/* An old SYN (neither a newer timestamp nor a higher sequence): only an ACK. */
	IN(t, "S", 1, 0, 65535, "mss 1460,ts 1 0", 0);
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	tcps_fini(t);
}

/* A new SYN on a TIME_WAIT 4-tuple takes it over if unmistakably newer (RFC 6191), with a higher ISN. */
TEST(tcp_time_wait_reuse_by_newer_syn)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 }, b = { 0 };
	struct shunt_tcp_pcb *lp;
	struct tcps_seg *s;
	static uint8_t big[200000];
	uint32_t old_snd_nxt;
	int i;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	tcps_accept(t, &l, &a, LINUX_SYN);
	/* Move 200 kB out so that the old sequence space runs ahead of the ISN clock. */
	CHECK_EQ(shunt_tcp_write(a.pcb, big, sizeof(big), 0), (int)sizeof(big));
	for (i = 0; shunt_tcp_outq(a.pcb) > 0 && i < 1000; i++) {
		struct tcps_seg *q;
		uint32_t hi = 1;

		while ((q = tcps_take(t)) != NULL)
			if (q->seq + q->len - t->liss > hi)
				hi = q->seq + q->len - t->liss;
		IN(t, ".", 1, hi, 2000, "ts", 0);
	}
	CHECK_EQ(shunt_tcp_outq(a.pcb), 0);
	while (tcps_take(t) != NULL)
		;
	shunt_tcp_close(a.pcb);
	OUT(t, "F.", 1 + sizeof(big), 1, 0);
	IN(t, "F.", 1, 2 + sizeof(big), 2000, "ts", 0);
	OUT(t, ".", 2 + sizeof(big), 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	old_snd_nxt = t->liss + 2 + sizeof(big);
	tcps_advance(t, MS(10));
	/* A newer timestamp: the listener takes the SYN. */
	l.accept_into = &b;
	t->riss += 1000;
	IN(t, "S", 0, 0, 65535, LINUX_SYN, 0);
	s = OUT(t, "S.", 0, 1, 0);
	CHECK_EQ(STAT(t, tcp_time_wait_reuse), 1);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 0);
	/* Old segments still in the network cannot fall into the new sequence space. */
	CHECK(s->seq - old_snd_nxt < (1u << 31) && s->seq - old_snd_nxt >= 65535);
	IN(t, ".", 1, 1, 500, "ts", 0);
	CHECK(b.accepted);
	shunt_tcp_abort(b.pcb);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* Without timestamps, a SYN with a higher sequence number reuses TIME_WAIT; a lower one does not. */
TEST(tcp_time_wait_reuse_by_sequence)
{
	struct tcps *t = &T;
	struct tapp l = { 0 }, a = { 0 }, b = { 0 };
	struct shunt_tcp_pcb *lp;

	tcps_init(t, NULL, 0);
	lp = tcps_listen(t, &l, 16);
	tcps_accept(t, &l, &a, "mss 1460");
	shunt_tcp_close(a.pcb);
	OUT(t, "F.", 1, 1, 0);
	IN(t, "F.", 1, 2, 500, "", 0);
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	IN(t, "S", 1, 0, 65535, "mss 1460", 0);	/* not above RCV.NXT (2) */
	OUT(t, ".", 2, 2, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 1);
	l.accept_into = &b;
	IN(t, "S", 100000, 0, 65535, "mss 1460", 0);
	OUT(t, "S.", ANY, 100001, 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 0);
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_SYN_RECEIVED), 1);
	shunt_tcp_close(lp);
	tcps_fini(t);
}

/* At most tcp_max_time_wait TIME_WAIT entries: the oldest is recycled. */
TEST(tcp_time_wait_bounded)
{
	struct tcps *t = &T;
	struct tapp a[3];
	struct shunt_stack_config c;

	shunt_stack_config_init(&c);
	c.tcp_max_time_wait = 2;
	tcps_init(t, &c, 0);
	memset(a, 0, sizeof(a));
	for (int i = 0; i < 3; i++) {
		struct shunt_tcp_pcb *pcb;

		t->rport = (uint16_t)(40000 + i);
		pcb = tcps_connect(t, &a[i], LINUX_SYN);
		shunt_tcp_close(pcb);
		OUT(t, "F.", 1, 1, 0);
		IN(t, "F.", 1, 2, 500, "ts", 0);
		OUT(t, ".", 2, 2, 0);
	}
	CHECK_EQ(shunt_tcp_count(t->s, SHUNT_TCP_TIME_WAIT), 2);
	CHECK_EQ(STAT(t, tcp_time_wait_overflow), 1);
	/* The recycled one (the first) is gone: its 4-tuple answers with RST. */
	t->rport = 40000;
	IN(t, "F.", 1, 2, 500, "", 0);
	OUT(t, "R", 2, ANY, 0);
	t->rport = 40002;
	IN(t, "F.", 1, 2, 500, "ts", 0);
	OUT(t, ".", 2, 2, 0);
	tcps_fini(t);
}

/* Out-of-order data is bounded per connection, in buffer memory, not only in payload bytes. */
TEST(tcp_ooo_memory_bounded_per_connection)
{
	struct tcps *t = &T;
	struct tapp a = { 0 };
	struct shunt_tcp_pcb *pcb;
	struct shunt_pool_usage u0, u1;
	int i;

	tcps_init(t, NULL, 0);
	pcb = tcps_connect(t, &a, LINUX_SYN);
	shunt_stack_pool_usage(t->s, &u0);
	/* One-byte segments, each leaving a hole: every one would pin a whole buffer. */
	for (i = 0; i < 4000; i++) {
		IN(t, "P.", 2 + 2 * i, 1, 500, "ts", 1);
		while (tcps_take(t) != NULL)
			;
	}
	shunt_stack_pool_usage(t->s, &u1);
	CHECKF(u1.pbuf_in_use - u0.pbuf_in_use <= 2 * 256 * 1024 / 2048 + 8, "%u buffers pinned by 1-byte holes",
	    u1.pbuf_in_use - u0.pbuf_in_use);
	CHECK(STAT(t, tcp_drop_ooo_memory) > 0);
	/* The in-order byte still gets through, and what was kept is delivered. */
	IN(t, "P.", 1, 1, 500, "ts", 1);
	CHECK(a.rx_got >= 2);
	CHECK_EQ(a.rx_bad, 0);
	shunt_tcp_abort(pcb);
	tcps_fini(t);
}

/* ... and per stack. */
TEST(tcp_ooo_memory_bounded_per_stack)
{
	struct tcps *t = &T;
	struct tapp a[4];
	struct shunt_stack_config c;
	int i, k;

	shunt_stack_config_init(&c);
	c.tcp_ooo_max_bytes = 64 * 1024;
	tcps_init(t, &c, 0);
	memset(a, 0, sizeof(a));
	for (k = 0; k < 4; k++) {
		t->rport = (uint16_t)(40000 + k);
		tcps_connect(t, &a[k], LINUX_SYN);
		for (i = 0; i < 30; i++) {
			IN(t, "P.", 1 + 1448 * (2 * i + 1), 1, 500, "ts", 1448);
			while (tcps_take(t) != NULL)
				;
		}
	}
	CHECK(STAT(t, tcp_drop_ooo_memory) > 0);
	{
		struct shunt_pool_usage u;

		shunt_stack_pool_usage(t->s, &u);
		CHECKF(u.pbuf_in_use <= 64 * 1024 / 1448 + 8, "%u buffers held", u.pbuf_in_use);
	}
	for (k = 0; k < 4; k++)
		shunt_tcp_abort(a[k].pcb);
	tcps_fini(t);
}
