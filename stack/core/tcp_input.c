/*
 * TCP input: segment arrival (RFC 9293 §3.10.7).  Below: ip4.c.  Above: the
 * application through tcp.c's callbacks; replies go out through tcp_output.c.
 *
 * Order of checks for a synchronized connection, as RFC 9293 §3.10.7.4 with
 * the amendments that matter on the open Internet:
 *   PAWS (RFC 7323 §5) → sequence acceptability → RST (RFC 5961 §3: exact
 *   match resets, in-window gets a challenge ACK) → SYN (RFC 5961 §4:
 *   challenge ACK) → ACK (RFC 5961 §5 acceptable range; SACK scoreboard,
 *   RTT, congestion control, loss recovery per RFC 5681/6582/6675) → window
 *   update → data (in order, or into the reassembly queue) → FIN.
 * Challenge ACKs share one rate limit per stack (RFC 5961 §7).
 *
 * Reordering: a reduction shown needless -- every retransmission D-SACKed
 * (RFC 2883 §4), or an ACK echoing a timestamp older than the first of them
 * (RFC 3522, also after a timeout) -- is undone, and the degree of
 * reordering seen (SACKed segments above a hole that an original filled)
 * becomes the duplicate threshold, as Linux does without RACK.  We send
 * D-SACKs for what arrives twice, so a Linux sender can do the same.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "priv/stack.h"
#include "priv/tcp.h"
#include "wire/csum.h"
#include "wire/ip4.h"

#define PAWS_IDLE_NS	(24ull * 24 * 3600 * 1000000000ull)	/* RFC 7323 §5.5: 24 days */
#define MIN_PEER_MSS	64

/* ---- helpers ---- */

static void
challenge_ack(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;
	struct tcp_stack *t = s->tcp;
	uint64_t cost = 1000000000ull / s->cfg.tcp_challenge_ack_per_sec;
	uint64_t cap = 1000000000ull;	/* one second's worth */

	t->ca_tokens += t->ca_last == 0 ? cap : s->now - t->ca_last;
	t->ca_last = s->now;
	if (t->ca_tokens > cap)
		t->ca_tokens = cap;
	if (t->ca_tokens < cost) {
		STAT_INC(s, tcp_challenge_ack_limited);
		return;
	}
	t->ca_tokens -= cost;
	STAT_INC(s, tcp_challenge_ack);
	tcp_send_ack(pcb);
}

static uint32_t
syn_fin_len(const struct tcp_seg *seg)
{
	return seg->len + !!(seg->h.flags & TCP_SYN) + !!(seg->h.flags & TCP_FIN);
}

/* The window we promised: the larger of what we announced and what we have. */
static uint32_t
rcv_window_promised(const struct shunt_tcp_pcb *pcb)
{
	uint32_t adv = seq_gt(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;

	return adv > pcb->rcv_wnd ? adv : pcb->rcv_wnd;
}

/* RFC 9293 §3.10.7.4, first check: is any of the segment inside the window? */
static int
seq_acceptable(const struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg)
{
	uint32_t w = rcv_window_promised(pcb), len = syn_fin_len(seg);

	if (len == 0) {
		if (w == 0)
			return seg->seq == pcb->rcv_nxt;
		return seq_in(seg->seq, pcb->rcv_nxt, pcb->rcv_nxt + w);
	}
	if (w == 0)
		return 0;
	return seq_in(seg->seq, pcb->rcv_nxt, pcb->rcv_nxt + w) ||
	    seq_in(seg->seq + len - 1, pcb->rcv_nxt, pcb->rcv_nxt + w);
}

/* Reports data we already had as a D-SACK in the next ACK (RFC 2883): the part below RCV.NXT. */
static void
dsack_note(struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t len)
{
	if (len == 0 || !(pcb->flags & TF_SACK_OK) || !seq_lt(seq, pcb->rcv_nxt))
		return;
	pcb->dsack_out.start = seq;
	pcb->dsack_out.end = seq_lt(seq + len, pcb->rcv_nxt) ? seq + len : pcb->rcv_nxt;
	pcb->dsack_pending = 1;
}

/* Options of a SYN or SYN-ACK decide what the connection uses. */
static void
negotiate(struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg)
{
	uint16_t peer_mss = (seg->o.present & TCPO_MSS) ? seg->o.mss : 536;

	if (peer_mss < MIN_PEER_MSS)
		peer_mss = MIN_PEER_MSS;	/* MSS 0 or 1 would make segments of nothing */
	pcb->peer_mss = peer_mss;
	if ((seg->o.present & TCPO_WSCALE) && (pcb->flags & TF_OFFER_WS)) {
		pcb->flags |= TF_WS_OK;
		pcb->snd_wscale = seg->o.wscale;
		if (pcb->rcv_wscale == 0)
			pcb->rcv_wscale = (uint8_t)tcp_choose_wscale(pcb->rcv_buf);
	} else {
		pcb->flags &= ~TF_WS_OK;
		pcb->snd_wscale = 0;
		pcb->rcv_wscale = 0;
		if (pcb->rcv_buf > 65535)
			pcb->rcv_buf = 65535;
		if (pcb->rcv_wnd > pcb->rcv_buf)
			pcb->rcv_wnd = pcb->rcv_buf;
	}
	if ((seg->o.present & TCPO_SACK_PERM) && (pcb->flags & TF_OFFER_SACK))
		pcb->flags |= TF_SACK_OK;
	else
		pcb->flags &= ~TF_SACK_OK;
	if ((seg->o.present & TCPO_TS) && (pcb->flags & TF_OFFER_TS)) {
		pcb->flags |= TF_TS_OK;
		pcb->ts_recent = seg->o.tsval;
		pcb->ts_recent_age = pcb->stack->now;
	} else {
		pcb->flags &= ~TF_TS_OK;
	}
	if (peer_mss < pcb->mss)
		pcb->mss = peer_mss;
	/* The segment payload we send leaves room for the options every segment carries. */
	if ((pcb->flags & TF_TS_OK) && pcb->mss > 12 + 32)
		pcb->mss = (uint16_t)(pcb->mss - 12);
	{
		uint32_t a = 10u * pcb->mss, b = 2u * pcb->mss > 14600 ? 2u * pcb->mss : 14600;

		pcb->cwnd = a < b ? a : b;	/* RFC 6928 */
	}
	/* RFC 5681 §3.1: a lost SYN or SYN-ACK leaves a window of one segment. */
	if (pcb->syn_rtx > 0)
		pcb->cwnd = pcb->mss;
	pcb->ssthresh = UINT32_MAX;
	pcb->cc->init(pcb);
}

static void
update_ts_recent(struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg)
{
	/* RFC 7323 §4.3: only a segment covering the last ACK point may update TS.Recent. */
	if ((pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS) && seq_leq(seg->seq, pcb->last_ack_sent) &&
	    (seq_lt(pcb->last_ack_sent, seg->seq + syn_fin_len(seg)) || seg->seq == pcb->last_ack_sent) &&
	    seq_geq(seg->o.tsval, pcb->ts_recent)) {
		pcb->ts_recent = seg->o.tsval;
		pcb->ts_recent_age = pcb->stack->now;
	}
}

static void
take_rtt(struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg, uint32_t ack)
{
	uint64_t now = pcb->stack->now;

	if ((pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS) && seg->o.tsecr != 0) {
		/*
		 * RFC 7323 §4.1 RTTM on ACKs that move snd_una -- with Karn's rule
		 * kept: an ACK covering retransmitted data that echoes a TSval from
		 * before the retransmission is ambiguous.  A receiver answers a
		 * duplicate with its old TS.Recent (§4.3), so under heavy loss such
		 * echoes are seconds old and would blow the RTO up for no reason.
		 */
		uint32_t ms = tcp_ts_now(pcb) - seg->o.tsecr;

		if (seq_gt(pcb->high_rxt, pcb->snd_una) && seq_lt(seg->o.tsecr, pcb->rtx_ts))
			return;
		if (ms < 60000)
			tcp_rtt_sample(pcb, ms == 0 ? 500 : ms * 1000);
	} else if ((pcb->flags & TF_RTT_TIMING) && seq_gt(ack, pcb->rtt_seq)) {
		pcb->flags &= ~TF_RTT_TIMING;
		tcp_rtt_sample(pcb, (uint32_t)((now - pcb->rtt_start) / 1000));
	}
}

static void tcp_process(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg);

/* ---- listeners ---- */

static struct shunt_tcp_pcb *
child_from_cookie(struct shunt_tcp_pcb *lpcb, const struct tcp_seg *seg)
{
	struct shunt_stack *s = lpcb->stack;
	struct shunt_tcp_pcb *c;
	struct tcp_seg syn;
	uint16_t mss;

	if (!tcp_cookie_check(s, seg, &mss)) {
		STAT_INC(s, tcp_syncookie_bad);
		return NULL;
	}
	c = tcp_pcb_alloc(s);
	if (c == NULL)
		return NULL;
	STAT_INC(s, tcp_syncookie_ok);
	/* Rebuild the SYN's options from what the cookie and the echoed timestamp carry. */
	syn = *seg;
	syn.seq = seg->seq - 1;
	syn.o.present = TCPO_MSS;
	syn.o.mss = mss;
	if (seg->o.present & TCPO_TS) {
		uint32_t bits = seg->o.tsecr & 0x1f;

		syn.o.present |= TCPO_TS;
		syn.o.tsval = seg->o.tsval;
		if ((bits & 0xf) != 0xf) {
			syn.o.present |= TCPO_WSCALE;
			syn.o.wscale = (uint8_t)(bits & 0xf);
		}
		if (bits & 0x10)
			syn.o.present |= TCPO_SACK_PERM;
	}
	tcp_init_child(c, lpcb, &syn);
	c->flags |= TF_SYNCOOKIE;
	c->ts_offset = tcp_ts_offset(s, c->local_ip, c->remote_ip);	/* the cookie timestamp's clock */
	c->iss = seg->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->high_rxt = c->iss;
	c->rcv_wscale = (syn.o.present & TCPO_WSCALE) ? (uint8_t)tcp_choose_wscale(c->rcv_buf) : 0;
	negotiate(c, &syn);
	/* The SYN-ACK announced an unscaled window: it is what the peer holds us to. */
	c->rcv_adv = c->rcv_nxt + (c->rcv_buf > 65535 ? 65535 : c->rcv_buf);
	c->last_ack_sent = c->rcv_nxt;
	tcp_set_state(c, SHUNT_TCP_SYN_RECEIVED);
	tcp_conn_hash_insert(c);
	tcp_bind_hash_insert(c);
	return c;
}

/*
 * A SYN for a listener.  isn_floor: nonzero when the SYN takes over a
 * TIME_WAIT 4-tuple; the new ISN must then lie beyond the old connection's
 * sequence space, or its old duplicates could be taken as new data.
 */
static void
listen_input_isn(struct shunt_tcp_pcb *lpcb, struct tcp_seg *seg, uint32_t isn_floor);

static void
listen_input(struct shunt_tcp_pcb *lpcb, struct tcp_seg *seg)
{
	listen_input_isn(lpcb, seg, 0);
}

static void
listen_input_isn(struct shunt_tcp_pcb *lpcb, struct tcp_seg *seg, uint32_t isn_floor)
{
	struct shunt_stack *s = lpcb->stack;
	struct tcp_stack *t = s->tcp;
	struct shunt_tcp_pcb *c;
	uint32_t limit;

	if (seg->h.flags & TCP_RST)
		return;
	if ((seg->h.flags & (TCP_ACK | TCP_SYN)) == TCP_ACK) {
		/*
		 * Perhaps the answer to a cookie SYN-ACK -- but only while cookies
		 * are being sent (their lifetime, three minutes): at other times a
		 * blind ACK must not get to try its luck against the 24-bit hash.
		 */
		if (lpcb->cookie_sent == 0 || s->now - lpcb->cookie_sent > 180000000000ull) {
			tcp_reply_rst(s, seg);
			return;
		}
		c = child_from_cookie(lpcb, seg);
		if (c == NULL) {
			tcp_reply_rst(s, seg);
			return;
		}
		tcp_process(c, seg);
		return;
	}
	if (!(seg->h.flags & TCP_SYN) || (seg->h.flags & (TCP_ACK | TCP_FIN))) {
		if (seg->h.flags & TCP_ACK)
			tcp_reply_rst(s, seg);
		return;	/* SYN+FIN and other oddities are dropped, as Linux does */
	}
	if (lpcb->accept_pending >= lpcb->backlog) {
		STAT_INC(s, tcp_drop_listen_overflow);
		return;
	}
	limit = s->cfg.tcp_syn_backlog;
	if (lpcb->syn_pending >= limit || t->syn_pending >= limit) {
		/* Half-open queue full: answer without keeping state (RFC 4987 §3.6). */
		uint16_t mss;
		uint32_t iss = tcp_cookie_make(s, seg, &mss), tsval = 0;
		int ws_ok = (seg->o.present & TCPO_WSCALE) && (lpcb->flags & TF_OFFER_WS);
		int sack_ok = (seg->o.present & TCPO_SACK_PERM) && (lpcb->flags & TF_OFFER_SACK);
		uint16_t our = tcp_route_mss(s, seg->ip->src);

		if (seg->o.present & TCPO_TS) {
			/* Option bits below a clock that never runs ahead of tcp_ts_now(). */
			uint32_t now_ms = (uint32_t)(s->now / 1000000ull) + tcp_ts_offset(s, seg->ip->dst, seg->ip->src);

			tsval = ((now_ms - 32) & ~0x1fu) | (ws_ok ? seg->o.wscale : 0xf) | (sack_ok ? 0x10 : 0);
		} else {
			ws_ok = sack_ok = 0;
		}
		tcp_send_synack_cookie(s, seg, iss, mss < our ? mss : our, tsval, ws_ok, sack_ok,
		    (uint8_t)tcp_choose_wscale(lpcb->rcv_buf));
		lpcb->cookie_sent = s->now;
		return;
	}
	c = tcp_pcb_alloc(s);
	if (c == NULL) {
		STAT_INC(s, tcp_drop_nobuf);
		return;
	}
	tcp_init_child(c, lpcb, seg);
	c->rcv_wscale = (lpcb->flags & TF_OFFER_WS) ? (uint8_t)tcp_choose_wscale(c->rcv_buf) : 0;
	negotiate(c, seg);
	c->snd_wnd = seg->h.win;	/* never scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->iss = tcp_new_isn(s, c->local_ip, c->local_port, c->remote_ip, c->remote_port);
	if (isn_floor != 0 && seq_lt(c->iss, isn_floor))
		c->iss = isn_floor;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->high_rxt = c->iss;
	tcp_set_state(c, SHUNT_TCP_SYN_RECEIVED);
	tcp_conn_hash_insert(c);
	tcp_bind_hash_insert(c);
	STAT_INC(s, tcp_passive_open);
	tcp_send_syn(c);
	c->rcv_adv = c->rcv_nxt + (c->rcv_buf > 65535 ? 65535 : c->rcv_buf);
}

/* The listener's application takes a connection that completed its handshake. */
static int
hand_to_listener(struct shunt_tcp_pcb *pcb)
{
	struct shunt_tcp_pcb *lpcb = pcb->listener;
	int r;

	tcp_established(pcb);
	if (lpcb == NULL || lpcb->accept_fn == NULL) {
		tcp_send_rst(pcb);
		tcp_drop(pcb, 0);
		return SHUNT_TCP_ABORTED;
	}
	/* The callback may close the listener: this child must outlive that. */
	pcb->flags |= TF_ACCEPTING;
	r = lpcb->accept_fn(lpcb->arg, pcb, 0);
	if (r == SHUNT_TCP_ABORTED)
		return r;
	pcb->flags &= ~TF_ACCEPTING;
	if (r != 0) {
		tcp_send_rst(pcb);
		pcb->flags |= TF_CLOSED;
		tcp_drop(pcb, 0);
		return SHUNT_TCP_ABORTED;
	}
	/* Unless the application holds it for a later accept, it is no longer the listener's. */
	if (!(pcb->flags & TF_BACKLOG_HELD))
		shunt_tcp_backlog_accepted(pcb);
	return 0;
}

/* ---- SYN_SENT (RFC 9293 §3.10.7.3) ---- */

static void
syn_sent_input(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg)
{
	struct shunt_stack *s = pcb->stack;
	int ack_ok = 0;

	if (seg->h.flags & TCP_ACK) {
		if (seq_leq(seg->ack, pcb->iss) || seq_gt(seg->ack, pcb->snd_nxt)) {
			if (!(seg->h.flags & TCP_RST))
				tcp_reply_rst(s, seg);
			return;
		}
		ack_ok = 1;
	}
	if (seg->h.flags & TCP_RST) {
		if (ack_ok) {
			STAT_INC(s, tcp_rst_rx);
			tcp_drop(pcb, -ECONNREFUSED);
		}
		return;
	}
	if (!(seg->h.flags & TCP_SYN))
		return;
	pcb->irs = seg->seq;
	pcb->rcv_nxt = seg->seq + 1;
	negotiate(pcb, seg);
	if (!ack_ok) {
		/* Simultaneous open: answer with a SYN-ACK and wait for its ACK. */
		pcb->snd_wnd = seg->h.win;
		pcb->max_snd_wnd = pcb->snd_wnd;
		pcb->snd_wl1 = seg->seq;
		tcp_set_state(pcb, SHUNT_TCP_SYN_RECEIVED);
		tcp_send_syn(pcb);
		pcb->rcv_adv = pcb->rcv_nxt + (pcb->rcv_buf > 65535 ? 65535 : pcb->rcv_buf);
		return;
	}
	pcb->snd_una = seg->ack;
	pcb->snd_wnd = seg->h.win;	/* a SYN-ACK's window is not scaled */
	pcb->max_snd_wnd = pcb->snd_wnd;
	pcb->snd_wl1 = seg->seq;
	pcb->snd_wl2 = seg->ack;
	if (pcb->syn_rtx == 0) {
		if ((pcb->flags & TF_TS_OK) && seg->o.tsecr != 0)
			take_rtt(pcb, seg, seg->ack);
		else
			tcp_rtt_sample(pcb, (uint32_t)((s->now - pcb->last_send) / 1000));
	} else {
		pcb->rto_us = tcp_rto_initial_us(s);
	}
	pcb->nrtx = 0;
	timer_cancel(s, &pcb->t_rexmt);
	tcp_established(pcb);
	pcb->flags |= TF_ACK_NOW;
	if (pcb->connected_fn != NULL && pcb->connected_fn(pcb->arg, pcb, 0) == SHUNT_TCP_ABORTED)
		return;
	tcp_output(pcb);
}

/* ---- TIME_WAIT (RFC 9293 §3.10.7.4 with RFC 1337 and RFC 6191) ---- */

static void
time_wait_input(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg)
{
	struct shunt_stack *s = pcb->stack;

	/* RFC 1337: a RST must not cut TIME_WAIT short (TIME-WAIT assassination). */
	if (seg->h.flags & TCP_RST)
		return;
	if ((seg->h.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		/* A new incarnation may take over if it is unmistakably newer (RFC 6191). */
		int newer = ((pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS)) ?
		    seq_gt(seg->o.tsval, pcb->ts_recent) : seq_gt(seg->seq, pcb->rcv_nxt);
		struct shunt_tcp_pcb *lpcb = tcp_listen_lookup(s, seg->ip->dst, htons(seg->h.dport));

		if (newer && lpcb != NULL) {
			/* As Linux: the old sequence space plus a maximum window lies behind the new ISN. */
			uint32_t floor = pcb->snd_nxt + 65535 + 2;

			STAT_INC(s, tcp_time_wait_reuse);
			tcp_finished(pcb);
			listen_input_isn(lpcb, seg, floor == 0 ? 1 : floor);
			return;
		}
		challenge_ack(pcb);
		return;
	}
	if ((seg->h.flags & TCP_FIN) && seg->seq + seg->len + 1 == pcb->rcv_nxt) {
		/* The peer missed our last ACK: say it again and wait the full 2 MSL anew. */
		tcp_send_ack(pcb);
		timer_arm(s, &pcb->t_misc, 2 * TCP_MSL_NS(s));
		return;
	}
	if (seg->len > 0 || (seg->h.flags & TCP_SYN))
		tcp_send_ack(pcb);
}

/* ---- ACK processing ---- */

static int
is_dupack(const struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg, uint32_t wnd)
{
	/* RFC 5681 §2 "duplicate acknowledgment" (SACK information also counts, RFC 6675 §2). */
	return seg->ack == pcb->snd_una && seg->len == 0 && !(seg->h.flags & (TCP_SYN | TCP_FIN)) &&
	    pcb->snd_nxt != pcb->snd_una && (wnd == pcb->snd_wnd || (seg->o.present & TCPO_SACK));
}

/* A window reduction begins: remember what to go back to should it prove needless. */
static void
undo_begin(struct shunt_tcp_pcb *pcb)
{
	pcb->prior_cwnd = pcb->cwnd;
	pcb->prior_ssthresh = pcb->ssthresh;
	pcb->undo_marker = pcb->snd_una;
	pcb->undo_hi = pcb->snd_una;
	pcb->undo_ts = 0;
	pcb->undo_retrans = 0;
	pcb->undo_ok = 1;
	if (pcb->nsacked > 0) {
		uint32_t d = (tcp_sack_highest(pcb) - pcb->snd_una + pcb->mss - 1) / pcb->mss;

		pcb->undo_degree = (uint16_t)(d > 0xffff ? 0xffff : d);
	} else {
		pcb->undo_degree = pcb->dupacks;
	}
}

/*
 * The reduction was needless: the path reordered (or delayed) what we took
 * for lost.  Back to the window from before, out of recovery, and from now
 * on wait for as much reordering as was seen before calling data lost.
 */
static void
undo(struct shunt_tcp_pcb *pcb)
{
	uint32_t deg = (uint32_t)pcb->undo_degree + 1;

	if (pcb->cwnd < pcb->prior_cwnd)
		pcb->cwnd = pcb->prior_cwnd;
	if (pcb->ssthresh < pcb->prior_ssthresh)
		pcb->ssthresh = pcb->prior_ssthresh;
	pcb->cubic.epoch_start = 0;
	pcb->ca_state = pcb->nsacked ? CA_DISORDER : CA_OPEN;
	pcb->dupacks = 0;
	pcb->lost_to = pcb->snd_una;
	pcb->high_rxt = seq_max(pcb->high_rxt, pcb->snd_una);
	/* No reduction stands for this window any more: a real loss in it may start recovery. */
	pcb->recover = pcb->snd_una;
	pcb->undo_ok = 0;
	if (deg > pcb->reordering)
		pcb->reordering = (uint8_t)(deg < TCP_REORDER_MAX ? deg : TCP_REORDER_MAX);
	STAT_INC(pcb->stack, tcp_undo);
}

/* The ACK shows the episode's retransmissions needless (all D-SACKed, or the ACK echoes an older timestamp). */
static int
undo_possible(const struct shunt_tcp_pcb *pcb, const struct tcp_seg *seg)
{
	if (!pcb->undo_ok || pcb->undo_ts == 0)
		return 0;
	if (pcb->undo_retrans == 0)
		return 1;
	return (pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS) && seg->o.tsecr != 0 &&
	    seq_lt(seg->o.tsecr, pcb->undo_ts);
}

static void
enter_recovery(struct shunt_tcp_pcb *pcb)
{
	uint32_t len = pcb->sb_len < pcb->mss ? pcb->sb_len : pcb->mss;
	int r;

	undo_begin(pcb);
	tcp_cc_enter_recovery(pcb, pcb->stack->now);
	pcb->lost_to = pcb->snd_una + pcb->mss;
	if (pcb->flags & TF_SACK_OK)
		pcb->lost_to = seq_max(pcb->lost_to, tcp_sack_lost_boundary(pcb));
	pcb->flags &= ~TF_RTT_TIMING;
	/*
	 * Fast retransmit: the first lost segment goes now, whatever the pipe
	 * (RFC 5681 §3.2 step 2, RFC 6675 §5 step 4.3); the rest of recovery
	 * sends as the pipe drains.
	 */
	if (len > 0) {
		r = tcp_send_data_at(pcb, pcb->snd_una, len, 1);
		if (r > 0) {
			pcb->high_rxt = pcb->snd_una + (uint32_t)r;
			pcb->rtx_mark = pcb->snd_nxt;
		}
	}
}

/* Returns SHUNT_TCP_ABORTED if the PCB is gone, 1 if the segment is finished with, 0 to go on. */
static int
ack_input(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg)
{
	struct shunt_stack *s = pcb->stack;
	uint32_t wnd = (uint32_t)seg->h.win << pcb->snd_wscale;
	uint32_t ack = seg->ack;

	if (seq_gt(ack, pcb->snd_nxt)) {
		/* Acknowledges what was never sent (RFC 5961 §5.2, RFC 9293). */
		challenge_ack(pcb);
		return 1;
	}
	if (seq_lt(ack, pcb->snd_una - pcb->max_snd_wnd)) {
		challenge_ack(pcb);
		return 1;
	}
	/* The peer answers: whatever probes (keepalive, zero window) were out did their job. */
	pcb->nprobes = 0;
	if ((pcb->flags & TF_SACK_OK) && (seg->o.present & TCPO_SACK)) {
		STAT_INC(s, tcp_sack_rx);
		if (tcp_sack_scoreboard_add(pcb, &seg->o, ack)) {
			/*
			 * A duplicate reached the peer: if it was one of the last
			 * episode's retransmissions, that one was needless; once all
			 * were, so was the reduction -- even if recovery has ended
			 * meanwhile, as it does when the late original fills the hole
			 * before the retransmission arrives.
			 */
			STAT_INC(s, tcp_dsack_rx);
			if (pcb->undo_ok && pcb->undo_retrans > 0 && seq_geq(seg->o.sack[0].start, pcb->undo_marker) &&
			    seq_leq(seg->o.sack[0].end, pcb->undo_hi) && --pcb->undo_retrans == 0 && pcb->undo_ts != 0)
				undo(pcb);
		}
		/*
		 * The probe arrived but data sent before it did not: that data is
		 * lost (RFC 8985 §7.4, what RACK would conclude), and recovery
		 * starts now instead of at the RTO.
		 */
		if ((pcb->flags & TF_TLP_OUT) && seq_lt(ack, pcb->tlp_seq) && tcp_sack_is_sacked(pcb, pcb->tlp_seq) &&
		    (pcb->ca_state == CA_OPEN || pcb->ca_state == CA_DISORDER)) {
			pcb->flags &= ~(TF_TLP_OUT | TF_TLP_RTX);
			enter_recovery(pcb);
			pcb->lost_to = seq_max(pcb->lost_to, pcb->tlp_seq);
		}
		/*
		 * A lost retransmission (as Linux's tcp_mark_lost_retrans): data
		 * sent after it has been SACKed while its hole is still open, so
		 * it had its chance and is gone too.  Resend the holes now rather
		 * than wait for an RTO, which under heavy loss backs off to
		 * seconds.
		 */
		if (pcb->ca_state >= CA_RECOVERY && seq_gt(pcb->high_rxt, pcb->snd_una) &&
		    seq_gt(tcp_sack_highest(pcb), pcb->rtx_mark) && seq_lt(ack, pcb->high_rxt)) {
			pcb->high_rxt = seq_max(ack, pcb->snd_una);
			pcb->lost_to = seq_max(pcb->lost_to, tcp_sack_lost_boundary(pcb));
			pcb->rtx_mark = pcb->snd_nxt;
		}
	}
	if (seq_gt(ack, pcb->snd_una)) {
		uint32_t acked = ack - pcb->snd_una, data_acked = acked;
		int fin_acked = (pcb->flags & TF_FIN_SENT) && ack == pcb->snd_nxt;

		/*
		 * Data above SND.UNA was SACKed and the ACK now covers the hole
		 * without our having resent it: the path reordered, by as many
		 * segments as were SACKed beyond it (Linux's tcp_check_sack_reordering).
		 */
		if (pcb->nsacked > 0 && pcb->ca_state < CA_RECOVERY && seq_leq(pcb->high_rxt, pcb->snd_una) &&
		    seq_lt(pcb->snd_una, pcb->sacked[0].start)) {
			uint32_t deg = (tcp_sack_highest(pcb) - pcb->snd_una) / pcb->mss + 1;

			STAT_INC(s, tcp_reorder_seen);
			if (deg > pcb->reordering)
				pcb->reordering = (uint8_t)(deg < TCP_REORDER_MAX ? deg : TCP_REORDER_MAX);
		}
		if (fin_acked)
			data_acked--;
		if (data_acked > pcb->sb_len)
			data_acked = pcb->sb_len;
		take_rtt(pcb, seg, ack);
		sb_drop_acked(pcb, data_acked);
		pcb->snd_una = ack;
		pcb->nrtx = 0;
		pcb->first_rtx_time = 0;
		pcb->bytes_acked_total += data_acked;
		tcp_sack_scoreboard_trim(pcb);
		if (seq_lt(pcb->high_rxt, ack))
			pcb->high_rxt = ack;
		if ((pcb->flags & TF_TLP_OUT) && seq_geq(ack, pcb->tlp_end)) {
			/*
			 * The probe is acknowledged.  If it was a retransmission, a loss
			 * was repaired without a timeout, and the window answers for it
			 * (RFC 8985 §7.4.2; a D-SACK would have shown it spurious).
			 */
			if ((pcb->flags & TF_TLP_RTX) && (pcb->ca_state == CA_OPEN || pcb->ca_state == CA_DISORDER)) {
				pcb->ssthresh = pcb->cc->ssthresh(pcb, s->now);
				pcb->cwnd = pcb->ssthresh;
			}
			pcb->flags &= ~(TF_TLP_OUT | TF_TLP_RTX);
		}
		switch (pcb->ca_state) {
		case CA_RECOVERY:
			if (seq_geq(ack, pcb->recover) && undo_possible(pcb, seg)) {
				undo(pcb);
			} else if (seq_geq(ack, pcb->recover)) {
				/*
				 * Full acknowledgement: leave recovery with
				 * min(ssthresh, max(FlightSize, SMSS) + SMSS) (RFC 6582 §3.2
				 * step 3).  With nothing left in flight that is two segments,
				 * not one: a single segment would sit out the peer's delayed ACK.
				 */
				uint32_t flight = pcb->snd_nxt - pcb->snd_una;

				flight = (flight > pcb->mss ? flight : pcb->mss) + pcb->mss;
				pcb->cwnd = pcb->ssthresh < flight ? pcb->ssthresh : flight;
				pcb->ca_state = CA_OPEN;
				pcb->dupacks = 0;
				pcb->cc->recovered(pcb, s->now);
			} else {
				/*
				 * Partial acknowledgement.  Without SACK the next hole is
				 * taken as lost (RFC 6582 §3.2 step 4); with SACK only what
				 * the scoreboard says is lost is (RFC 6675 IsLost): data
				 * above the ACK that nothing was SACKed beyond may simply be
				 * in flight still.
				 */
				uint32_t segs = acked / pcb->mss;

				pcb->dupacks = pcb->dupacks > segs ? (uint16_t)(pcb->dupacks - segs) : 0;
				if (pcb->flags & TF_SACK_OK)
					pcb->lost_to = seq_max(pcb->lost_to, tcp_sack_lost_boundary(pcb));
				else
					pcb->lost_to = seq_max(pcb->lost_to, ack + pcb->mss);
			}
			break;
		case CA_LOSS:
			/*
			 * The first ACK after a timeout echoes a timestamp from
			 * before the retransmission: the originals got through and
			 * the timeout was spurious (RFC 3522); nothing else is lost.
			 */
			if (undo_possible(pcb, seg)) {
				undo(pcb);
				break;
			}
			tcp_cc_on_ack(pcb, data_acked, s->now);
			if (seq_geq(ack, pcb->recover)) {
				pcb->ca_state = CA_OPEN;
				pcb->cc->recovered(pcb, s->now);
			}
			break;
		default:
			tcp_cc_on_ack(pcb, data_acked, s->now);
			pcb->dupacks = 0;
			pcb->ca_state = pcb->nsacked ? CA_DISORDER : CA_OPEN;
			break;
		}
		/* RFC 6298 §5.3: restart the timer on new data acknowledged. */
		if (pcb->snd_una == pcb->snd_nxt)
			timer_cancel(s, &pcb->t_rexmt);
		else
			tcp_rexmt_arm(pcb);
		if (data_acked > 0 && tcp_notify_sent(pcb, data_acked) == SHUNT_TCP_ABORTED)
			return SHUNT_TCP_ABORTED;
	} else if (is_dupack(pcb, seg, wnd)) {
		pcb->dupacks++;
		if (pcb->ca_state == CA_OPEN)
			pcb->ca_state = CA_DISORDER;
		if (pcb->ca_state == CA_DISORDER) {
			int lost = (pcb->flags & TF_SACK_OK) && seq_gt(tcp_sack_lost_boundary(pcb), pcb->snd_una);

			/* RFC 6582 §3.2 step 1: once per window only (the recover check). */
			if ((pcb->dupacks >= pcb->reordering || lost) && (seq_gt(pcb->snd_una, pcb->recover) ||
			    pcb->recover == 0 || pcb->snd_una == pcb->recover))
				enter_recovery(pcb);
		} else if (pcb->ca_state == CA_RECOVERY && (pcb->flags & TF_SACK_OK)) {
			pcb->lost_to = seq_max(pcb->lost_to, tcp_sack_lost_boundary(pcb));
		}
	}
	/*
	 * Window update (RFC 9293 §3.10.7.4): only from an ACK that is not old
	 * (SND.UNA =< SEG.ACK), and by the SND.WL1/WL2 rule only from a newer
	 * segment, so that a reordered old segment never shrinks the window.
	 */
	if (seq_geq(ack, pcb->snd_una) &&
	    (seq_lt(pcb->snd_wl1, seg->seq) || (pcb->snd_wl1 == seg->seq && seq_leq(pcb->snd_wl2, ack)))) {
		pcb->snd_wnd = wnd;
		pcb->snd_wl1 = seg->seq;
		pcb->snd_wl2 = ack;
		if (wnd > pcb->max_snd_wnd)
			pcb->max_snd_wnd = wnd;
		if (wnd > 0)
			pcb->pbackoff = 0;
	}
	return 0;
}

/* ---- data and FIN ---- */

static int
data_input(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg)
{
	struct shunt_stack *s = pcb->stack;
	struct shunt_pbuf *p = seg->p;
	uint32_t seq = seg->seq, len = seg->len, w;
	int fin = (seg->h.flags & TCP_FIN) != 0, had_ooo;

	seg->p = NULL;
	/* Trim what we already have and what lies beyond the window. */
	if (seq_lt(seq, pcb->rcv_nxt)) {
		uint32_t dup = pcb->rcv_nxt - seq;

		if (dup >= len) {
			if (p != NULL)
				shunt_pbuf_free(p);
			p = NULL;
			if (len > 0 || (fin && seq + len + 1 != pcb->rcv_nxt + 1)) {
				pcb->dup_segs_in++;
				STAT_INC(s, tcp_dup_rx);
			}
			/* Tell the sender it sent this twice (RFC 2883): it may undo a needless reduction. */
			if (len > 0 && (pcb->flags & TF_SACK_OK)) {
				dsack_note(pcb, seq, len);
				pcb->flags |= TF_ACK_NOW;
			}
			seq = pcb->rcv_nxt;
			len = 0;
		} else {
			p = pbuf_drop_front(p, dup);
			seq = pcb->rcv_nxt;
			len -= pcb->rcv_nxt - seg->seq;
		}
	}
	w = rcv_window_promised(pcb);
	if (len > 0 && seq_gt(seq + len, pcb->rcv_nxt + w)) {
		uint32_t keep = pcb->rcv_nxt + w - seq;

		if (seq_leq(pcb->rcv_nxt + w, seq))
			keep = 0;
		STAT_INC(s, tcp_drop_window);
		fin = 0;
		len = keep;
		if (keep == 0) {
			shunt_pbuf_free(p);
			p = NULL;
		} else {
			shunt_pbuf_trim(p, keep);
		}
	}
	if (len == 0 && p != NULL) {
		shunt_pbuf_free(p);
		p = NULL;
	}
	if (seq != pcb->rcv_nxt) {
		/* Out of order: keep it, and tell the sender at once what we hold (RFC 5681 §4.2). */
		if (len > 0 || fin) {
			pcb->ooo_segs_in++;
			STAT_INC(s, tcp_ooo_rx);
			if (tcp_reass_insert(pcb, p, seq, len, fin) == 0 && len > 0)
				tcp_sack_update_out(pcb, seq, seq + len);
		}
		pcb->flags |= TF_ACK_NOW;
		return 0;
	}
	had_ooo = pcb->ooo != NULL;
	if (len > 0) {
		pcb->rcv_nxt += len;
		pcb->bytes_received += len;
		pcb->data_segs_in++;
		/* Estimate the peer's segment size from what arrives (never above what we offered). */
		if (len > pcb->rcv_mss)
			pcb->rcv_mss = (uint16_t)(len < pcb->adv_mss ? len : pcb->adv_mss);
	}
	if (had_ooo && !fin) {
		int qfin;
		struct shunt_pbuf *more = tcp_reass_pull(pcb, &qfin);

		if (more != NULL) {
			uint32_t extra = more->tot_len;

			pcb->bytes_received += extra;
			len += extra;
			if (p == NULL)
				p = more;
			else
				shunt_pbuf_cat(p, more);
		}
		fin = qfin;
		tcp_sack_trim_out(pcb);
		pcb->flags |= TF_ACK_NOW;	/* a hole filled: tell the sender now */
	}
	if (len > 0) {
		pcb->rcv_wnd = pcb->rcv_wnd > len ? pcb->rcv_wnd - len : 0;
		pcb->rcv_unacked += len;
		if (pcb->quickack > 0) {
			pcb->quickack--;
			pcb->flags |= TF_ACK_NOW;
		} else if (pcb->rcv_unacked >= 2u * pcb->rcv_mss) {
			pcb->flags |= TF_ACK_NOW;
		} else if (!(pcb->flags & TF_ACK_NOW)) {
			pcb->flags |= TF_ACK_DELAYED;
			tcp_delack_arm(pcb);
		}
		if (tcp_deliver(pcb, p) == SHUNT_TCP_ABORTED)
			return SHUNT_TCP_ABORTED;
		p = NULL;
	}
	if (fin) {
		pcb->rcv_nxt++;
		pcb->flags |= TF_ACK_NOW;
		tcp_sack_trim_out(pcb);
		tcp_reass_flush(pcb);
		switch (pcb->state) {
		case SHUNT_TCP_SYN_RECEIVED:
		case SHUNT_TCP_ESTABLISHED:
			tcp_set_state(pcb, SHUNT_TCP_CLOSE_WAIT);
			break;
		case SHUNT_TCP_FIN_WAIT_1:
			if (seq_geq(pcb->snd_una, pcb->snd_nxt) && (pcb->flags & TF_FIN_SENT)) {
				tcp_send_ack(pcb);
				tcp_time_wait_enter(pcb);
				goto fin_notify;
			}
			tcp_set_state(pcb, SHUNT_TCP_CLOSING);
			break;
		case SHUNT_TCP_FIN_WAIT_2:
			tcp_send_ack(pcb);
			tcp_time_wait_enter(pcb);
			goto fin_notify;
		default:
			break;
		}
fin_notify:
		if (!(pcb->flags & TF_CLOSED) && tcp_deliver(pcb, NULL) == SHUNT_TCP_ABORTED)
			return SHUNT_TCP_ABORTED;
	}
	return 0;
}

/* ---- a segment for a synchronized connection ---- */

static void
tcp_process(struct shunt_tcp_pcb *pcb, struct tcp_seg *seg)
{
	struct shunt_stack *s = pcb->stack;
	uint8_t fl = seg->h.flags;

	pcb->segs_in++;
	if (pcb->state == SHUNT_TCP_SYN_SENT) {
		syn_sent_input(pcb, seg);
		return;
	}
	if (pcb->state == SHUNT_TCP_TIME_WAIT) {
		time_wait_input(pcb, seg);
		return;
	}
	pcb->last_recv = s->now;
	/*
	 * Simultaneous open (RFC 9293 §3.5): the peer's SYN-ACK answers our SYN
	 * and crossed our SYN-ACK.  Its SYN is the one we hold already; its ACK
	 * completes the handshake as the plain ACK would (Linux does the same
	 * rather than waiting for the ACK that the sequence check would send).
	 */
	if (pcb->state == SHUNT_TCP_SYN_RECEIVED && pcb->listener == NULL && !(pcb->flags & TF_SYNCOOKIE) &&
	    (fl & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK) && seg->seq == pcb->irs &&
	    seg->ack == pcb->snd_nxt) {
		seg->h.flags &= (uint8_t)~TCP_SYN;
		fl = seg->h.flags;
		seg->seq++;
	}
	/* A retransmitted SYN for a half-open connection: repeat the SYN-ACK. */
	if (pcb->state == SHUNT_TCP_SYN_RECEIVED && (fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    seg->seq == pcb->irs) {
		tcp_send_syn(pcb);
		return;
	}
	/* PAWS (RFC 7323 §5.3): an old timestamp marks an old duplicate. */
	if ((pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS) && !(fl & TCP_RST) &&
	    seq_lt(seg->o.tsval, pcb->ts_recent) && s->now - pcb->ts_recent_age < PAWS_IDLE_NS) {
		STAT_INC(s, tcp_drop_paws);
		dsack_note(pcb, seg->seq, seg->len);
		tcp_send_ack(pcb);
		return;
	}
	if (!seq_acceptable(pcb, seg)) {
		if (fl & TCP_RST)
			return;		/* RFC 5961 §3.2: out-of-window RSTs vanish */
		if (seq_lt(seg->seq, pcb->rcv_nxt)) {
			pcb->dup_segs_in++;
			STAT_INC(s, tcp_dup_rx);
			dsack_note(pcb, seg->seq, seg->len);
		} else {
			STAT_INC(s, tcp_drop_window);
		}
		if (fl & TCP_SYN)
			challenge_ack(pcb);
		else
			tcp_send_ack(pcb);
		return;
	}
	if (fl & TCP_RST) {
		/* RFC 5961 §3.2: only an exact hit resets; anything else in the window is challenged. */
		if (seg->seq != pcb->rcv_nxt) {
			challenge_ack(pcb);
			return;
		}
		STAT_INC(s, tcp_rst_rx);
		if (pcb->state == SHUNT_TCP_SYN_RECEIVED && pcb->listener != NULL) {
			tcp_drop(pcb, 0);	/* passive open: back to listening, nobody to tell */
			return;
		}
		/* As Linux: refused while opening, reset otherwise -- also in CLOSING and LAST_ACK. */
		tcp_drop(pcb, pcb->state == SHUNT_TCP_SYN_RECEIVED ? -ECONNREFUSED : -ECONNRESET);
		return;
	}
	if (fl & TCP_SYN) {
		/* RFC 5961 §4: a SYN on a synchronized connection is answered, never obeyed. */
		challenge_ack(pcb);
		return;
	}
	if (!(fl & TCP_ACK))
		return;
	update_ts_recent(pcb, seg);
	if (pcb->state == SHUNT_TCP_SYN_RECEIVED) {
		if (!seq_gt(seg->ack, pcb->snd_una) || seq_gt(seg->ack, pcb->snd_nxt)) {
			tcp_reply_rst(s, seg);
			return;
		}
		if (pcb->listener != NULL && pcb->listener->accept_pending >= pcb->listener->backlog) {
			/* No room to accept: ignore the ACK; the peer retransmits, we repeat the SYN-ACK. */
			STAT_INC(s, tcp_drop_listen_overflow);
			if (pcb->flags & TF_SYNCOOKIE)
				tcp_drop(pcb, 0);	/* no SYN-ACK timer runs for it: the cookie stays valid */
			return;
		}
		/* The handshake times the path (Karn: not after a retransmitted SYN-ACK). */
		if (pcb->syn_rtx == 0 && !(pcb->flags & TF_SYNCOOKIE)) {
			if ((pcb->flags & TF_TS_OK) && (seg->o.present & TCPO_TS) && seg->o.tsecr != 0)
				take_rtt(pcb, seg, seg->ack);
			else
				tcp_rtt_sample(pcb, (uint32_t)((s->now - pcb->last_send) / 1000));
		}
		pcb->snd_una = seg->ack;
		pcb->snd_wnd = (uint32_t)seg->h.win << pcb->snd_wscale;
		pcb->max_snd_wnd = pcb->snd_wnd;
		pcb->snd_wl1 = seg->seq;
		pcb->snd_wl2 = seg->ack;
		/* RFC 5681 §3.1, RFC 6928 §2: after a lost SYN-ACK the initial window is one segment. */
		if (pcb->syn_rtx > 0)
			pcb->cwnd = pcb->mss;
		pcb->syn_rtx = 0;
		pcb->nrtx = 0;
		timer_cancel(s, &pcb->t_rexmt);
		if (pcb->listener != NULL || (pcb->flags & TF_SYNCOOKIE)) {
			if (hand_to_listener(pcb) == SHUNT_TCP_ABORTED)
				return;
		} else {
			/* Simultaneous open completes. */
			tcp_established(pcb);
			if (pcb->connected_fn != NULL && pcb->connected_fn(pcb->arg, pcb, 0) == SHUNT_TCP_ABORTED)
				return;
		}
	} else {
		int r = ack_input(pcb, seg);

		if (r == SHUNT_TCP_ABORTED)
			return;
		if (r == 1)
			goto out;
		switch (pcb->state) {
		case SHUNT_TCP_FIN_WAIT_1:
			if ((pcb->flags & TF_FIN_SENT) && pcb->snd_una == pcb->snd_nxt) {
				tcp_set_state(pcb, SHUNT_TCP_FIN_WAIT_2);
				tcp_misc_update(pcb);
			}
			break;
		case SHUNT_TCP_CLOSING:
			if ((pcb->flags & TF_FIN_SENT) && pcb->snd_una == pcb->snd_nxt) {
				tcp_time_wait_enter(pcb);
				return;
			}
			break;
		case SHUNT_TCP_LAST_ACK:
			if ((pcb->flags & TF_FIN_SENT) && pcb->snd_una == pcb->snd_nxt) {
				tcp_finished(pcb);
				return;
			}
			break;
		default:
			break;
		}
	}
	/* Data after the application closed has nowhere to go: reset (as Linux does). */
	if ((pcb->flags & TF_CLOSED) && seg->len > 0 && seq_gt(seg->seq + seg->len, pcb->rcv_nxt) &&
	    (pcb->state == SHUNT_TCP_FIN_WAIT_1 || pcb->state == SHUNT_TCP_FIN_WAIT_2)) {
		tcp_send_rst(pcb);
		tcp_drop(pcb, 0);
		return;
	}
	if ((pcb->refused != NULL || (pcb->flags & TF_FIN_HELD)) && tcp_retry_refused(pcb) == SHUNT_TCP_ABORTED)
		return;
	switch (pcb->state) {
	case SHUNT_TCP_ESTABLISHED:
	case SHUNT_TCP_FIN_WAIT_1:
	case SHUNT_TCP_FIN_WAIT_2:
		if (seg->len > 0 || (fl & TCP_FIN)) {
			if (data_input(pcb, seg) == SHUNT_TCP_ABORTED)
				return;
			if (pcb->state == SHUNT_TCP_TIME_WAIT)
				return;
		}
		break;
	default:
		/* FIN already received: a retransmitted FIN or data gets an ACK. */
		if (seg->len > 0 || (fl & TCP_FIN))
			pcb->flags |= TF_ACK_NOW;
		break;
	}
out:
	tcp_output(pcb);
}

/* ---- entry from IPv4 ---- */

void
tcp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip)
{
	struct shunt_tcp_pcb *pcb;
	struct tcp_seg seg;
	int hl;

	STAT_INC(s, tcp_rx);
	if (ip->bcast) {
		STAT_INC(s, tcp_drop_malformed);
		goto drop;
	}
	if (p->len < TCP_HDR_LEN && shunt_pbuf_pullup(p, TCP_HDR_LEN) != 0) {
		STAT_INC(s, tcp_drop_malformed);
		goto drop;
	}
	hl = (p->payload[12] >> 4) * 4;
	if (hl > p->len && hl <= (int)p->tot_len && shunt_pbuf_pullup(p, (uint32_t)hl) != 0) {
		STAT_INC(s, tcp_drop_malformed);
		goto drop;
	}
	hl = tcp_parse(p->payload, p->tot_len < p->len ? p->tot_len : p->len, &seg.h);
	if (hl < 0 || seg.h.sport == 0 || seg.h.dport == 0) {
		STAT_INC(s, tcp_drop_malformed);
		goto drop;
	}
	if (!(p->ol_flags & SHUNT_PBUF_RX_L4_OK) &&
	    csum_fold(csum_pbuf(csum_pseudo(ip->src, ip->dst, IP4_PROTO_TCP, p->tot_len), p, 0, p->tot_len)) != 0) {
		STAT_INC(s, tcp_drop_csum);
		goto drop;
	}
	memset(&seg.o, 0, sizeof(seg.o));
	if (hl > TCP_HDR_LEN)
		tcp_parse_opts(p->payload, (uint8_t)hl, (seg.h.flags & TCP_SYN) != 0, &seg.o);
	seg.seq = seg.h.seq;
	seg.ack = seg.h.ack;
	seg.ip = ip;
	shunt_pbuf_header(p, -hl);
	seg.len = p->tot_len;
	if (seg.len == 0) {
		shunt_pbuf_free(p);
		p = NULL;
	}
	seg.p = p;
	pcb = tcp_conn_lookup(s, ip->dst, htons(seg.h.dport), ip->src, htons(seg.h.sport));
	if (likely(pcb != NULL)) {
		s->tcp->input_pcb = pcb;
		tcp_process(pcb, &seg);
		s->tcp->input_pcb = NULL;
	} else {
		pcb = tcp_listen_lookup(s, ip->dst, htons(seg.h.dport));
		if (pcb != NULL) {
			listen_input(pcb, &seg);
		} else {
			/* RFC 9293 §3.10.7.1: no such connection. */
			STAT_INC(s, tcp_drop_noport);
			tcp_reply_rst(s, &seg);
		}
	}
	if (seg.p != NULL)
		shunt_pbuf_free(seg.p);
	return;
drop:
	shunt_pbuf_free(p);
}

/* ---- ICMP errors about our segments (RFC 5927, RFC 1122 §4.2.3.9) ---- */

void
tcp_icmp_error(struct shunt_stack *s, uint32_t src, uint32_t dst, const uint8_t *l4, uint32_t len, int err,
    uint32_t mtu)
{
	struct shunt_tcp_pcb *pcb;
	uint16_t sport, dport;
	uint32_t seq;

	if (len < 8)
		return;
	sport = htons(wire_get16(l4));
	dport = htons(wire_get16(l4 + 2));
	seq = wire_get32(l4 + 4);
	pcb = tcp_conn_lookup(s, src, sport, dst, dport);
	if (pcb == NULL)
		return;
	/* Only an error quoting data in flight is believable (RFC 5927 §4.1). */
	if (!seq_in(seq, pcb->snd_una, pcb->snd_nxt) && !(pcb->state == SHUNT_TCP_SYN_SENT && seq == pcb->iss))
		return;
	if (err == EMSGSIZE) {
		/* Path MTU discovery (RFC 1191): shrink the segment size and resend. */
		if (mtu >= 576 && mtu - IP4_HDR_LEN - TCP_HDR_LEN < pcb->mss + ((pcb->flags & TF_TS_OK) ? 12u : 0u)) {
			pcb->mss = (uint16_t)(mtu - IP4_HDR_LEN - TCP_HDR_LEN - ((pcb->flags & TF_TS_OK) ? 12 : 0));
			pcb->high_rxt = pcb->snd_una;
			pcb->lost_to = pcb->snd_nxt;
			if (pcb->ca_state < CA_RECOVERY)
				pcb->ca_state = CA_LOSS;
			tcp_output(pcb);
		}
		return;
	}
	/* Hard errors end a connection still opening; an established one treats them as soft. */
	if (pcb->state == SHUNT_TCP_SYN_SENT &&
	    (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == ENOPROTOOPT))
		tcp_drop(pcb, -err);
}
