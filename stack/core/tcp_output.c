/*
 * TCP output: everything a connection puts on the wire.  Below: ip4.c.
 * Above: tcp.c (API calls), tcp_input.c (ACKs, replies), tcp_timer.c.
 *
 * Implements the sender side of RFC 9293 §3.8.6 (Nagle, sender SWS
 * avoidance), RFC 5681 / 6582 / 6675 transmission during loss recovery
 * (retransmit lost holes first, then new data, while pipe < cwnd), limited
 * transmit (RFC 3042), window scaling and timestamps (RFC 7323), SACK blocks
 * (RFC 2018), and TSO / checksum offload where the netif has them.
 *
 * Data segments never copy payload: a header pbuf is chained to REF slices of
 * the send buffer, which stays intact until acknowledged.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "priv/stack.h"
#include "priv/tcp.h"
#include "wire/csum.h"
#include "wire/ip4.h"

#define TCP_HDR_ROOM	(SHUNT_PBUF_HEADROOM)
#define MAX_PIECES	48	/* send buffer pbufs in one (TSO) segment */
#define TSO_MAX		(65535 - IP4_HDR_LEN - TCP_MAX_HDR_LEN)

/* Everything one segment needs, independent of a PCB (RSTs for strangers, cookie SYN-ACKs). */
struct tcp_tx {
	uint32_t src, dst;
	uint16_t sport, dport;		/* network order */
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t ttl, tos;
	uint32_t win;			/* already scaled for the header */
	struct tcp_opts o;
	struct shunt_pbuf *data;	/* consumed */
	uint32_t len;
	uint16_t tso_mss;		/* nonzero: one TSO super-segment */
};

static int
emit(struct shunt_stack *s, struct tcp_tx *tx)
{
	struct ip4_route rt;
	struct ip4_tx itx;
	struct tcp_hdr h;
	struct shunt_pbuf *hp;
	int olen = tcp_opts_len(&tx->o), err;
	uint32_t l4len;

	err = ip4_route_lookup(s, tx->dst, &rt);
	if (err != 0) {
		if (tx->data != NULL)
			shunt_pbuf_free(tx->data);
		return err;
	}
	hp = shunt_pbuf_alloc(s, TCP_HDR_ROOM - (uint32_t)(TCP_HDR_LEN + olen), (uint32_t)(TCP_HDR_LEN + olen));
	if (hp == NULL) {
		STAT_INC(s, tcp_drop_nobuf);
		if (tx->data != NULL)
			shunt_pbuf_free(tx->data);
		return -ENOBUFS;
	}
	h.sport = ntohs(tx->sport);
	h.dport = ntohs(tx->dport);
	h.seq = tx->seq;
	h.ack = (tx->flags & TCP_ACK) ? tx->ack : 0;
	h.hlen = (uint8_t)(TCP_HDR_LEN + olen);
	h.flags = tx->flags;
	h.win = (uint16_t)(tx->win > 65535 ? 65535 : tx->win);
	h.csum = 0;
	h.urg = 0;
	tcp_emit(&h, hp->payload);
	tcp_emit_opts(&tx->o, hp->payload + TCP_HDR_LEN);
	if (tx->data != NULL)
		shunt_pbuf_cat(hp, tx->data);
	l4len = h.hlen + tx->len;
	itx.src = tx->src;
	itx.dst = tx->dst;
	itx.proto = IP4_PROTO_TCP;
	itx.ttl = tx->ttl;
	itx.tos = tx->tos;
	itx.df = 1;
	if (rt.nif->caps & SHUNT_NETIF_CAP_TX_TCP_CSUM) {
		/* The NIC completes the sum over the pseudo-header sum we leave in the field. */
		uint16_t ph = (uint16_t)~csum_fold(csum_pseudo(tx->src, tx->dst, IP4_PROTO_TCP,
		    tx->tso_mss ? 0 : l4len));

		wire_put16(hp->payload + 16, ph);
		hp->ol_flags |= SHUNT_PBUF_TX_L4_CSUM;
		hp->l4_len = h.hlen;
		if (tx->tso_mss) {
			hp->ol_flags |= SHUNT_PBUF_TX_TSO;
			hp->tso_mss = tx->tso_mss;
			STAT_INC(s, tcp_tso_tx);
		}
	} else {
		uint16_t c = csum_fold(csum_pbuf(csum_pseudo(tx->src, tx->dst, IP4_PROTO_TCP, l4len), hp, 0, l4len));

		wire_put16(hp->payload + 16, c);
	}
	STAT_INC(s, tcp_tx);
	return ip4_output(s, hp, &itx, &rt);
}

uint32_t
tcp_rcv_window(struct shunt_tcp_pcb *pcb)
{
	uint32_t win = pcb->rcv_wnd, max = 65535u << pcb->rcv_wscale, unit = (1u << pcb->rcv_wscale) - 1;

	if (win > max)
		win = max;
	win &= ~unit;
	/*
	 * Never move the right edge we announced to the left (RFC 9293
	 * §3.8.6): what was promised stays, rounded up to the scale's unit.
	 */
	if (seq_gt(pcb->rcv_adv, pcb->rcv_nxt) && pcb->rcv_adv - pcb->rcv_nxt > win) {
		win = pcb->rcv_adv - pcb->rcv_nxt;
		win = win > max - unit ? max : (win + unit) & ~unit;
	}
	return win;
}

/* Fills the parts of a segment every PCB-owned one shares; returns the window announced. */
static uint32_t
tx_from_pcb(struct shunt_tcp_pcb *pcb, struct tcp_tx *tx, uint32_t seq, uint8_t flags)
{
	uint32_t win = tcp_rcv_window(pcb);

	memset(tx, 0, sizeof(*tx));
	tx->src = pcb->local_ip;
	tx->dst = pcb->remote_ip;
	tx->sport = pcb->local_port;
	tx->dport = pcb->remote_port;
	tx->seq = seq;
	tx->ack = pcb->rcv_nxt;
	tx->flags = flags;
	tx->ttl = pcb->ttl;
	tx->tos = pcb->tos;
	tx->win = win >> pcb->rcv_wscale;
	if (pcb->flags & TF_TS_OK) {
		tx->o.present |= TCPO_TS;
		tx->o.tsval = tcp_ts_now(pcb);
		tx->o.tsecr = pcb->ts_recent;
	}
	if ((pcb->flags & TF_SACK_OK) && pcb->dsack_pending && !(flags & TCP_SYN)) {
		/* The D-SACK block first, then what room is left for the others (RFC 2883 §4). */
		tx->o.present |= TCPO_SACK;
		tx->o.sack[0] = pcb->dsack_out;
		tx->o.nsack = (uint8_t)(1 + (pcb->nsack_out < TCP_MAX_SACK_BLOCKS - 1 ? pcb->nsack_out :
		    TCP_MAX_SACK_BLOCKS - 1));
		memcpy(&tx->o.sack[1], pcb->sack_out, sizeof(tx->o.sack[0]) * (size_t)(tx->o.nsack - 1));
		pcb->dsack_pending = 0;
		STAT_INC(pcb->stack, tcp_dsack_tx);
	} else if ((pcb->flags & TF_SACK_OK) && pcb->nsack_out > 0 && !(flags & TCP_SYN)) {
		tx->o.present |= TCPO_SACK;
		tx->o.nsack = pcb->nsack_out;
		memcpy(tx->o.sack, pcb->sack_out, sizeof(tx->o.sack));
		STAT_INC(pcb->stack, tcp_sack_tx);
	}
	return win;
}

/* Bookkeeping after any segment that carried an ACK. */
static void
acked_sent(struct shunt_tcp_pcb *pcb, uint32_t win)
{
	pcb->last_ack_sent = pcb->rcv_nxt;
	if (seq_gt(pcb->rcv_nxt + win, pcb->rcv_adv))
		pcb->rcv_adv = pcb->rcv_nxt + win;
	pcb->rcv_unacked = 0;
	pcb->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_WND_UPDATE);
	timer_cancel(pcb->stack, &pcb->t_delack);
}

static int
pcb_emit(struct shunt_tcp_pcb *pcb, struct tcp_tx *tx, uint32_t win)
{
	int err;

	pcb->segs_out++;
	if (tx->len > 0)
		pcb->data_segs_out++;
	pcb->last_send = pcb->stack->now;
	if (tx->flags & TCP_ACK)
		acked_sent(pcb, win);
	err = emit(pcb->stack, tx);
	return err;
}

void
tcp_send_ack(struct shunt_tcp_pcb *pcb)
{
	struct tcp_tx tx;
	uint32_t win = tx_from_pcb(pcb, &tx, pcb->snd_nxt, TCP_ACK);

	pcb_emit(pcb, &tx, win);
}

void
tcp_send_rst(struct shunt_tcp_pcb *pcb)
{
	struct tcp_tx tx;
	uint32_t win = tx_from_pcb(pcb, &tx, pcb->snd_nxt, TCP_RST | TCP_ACK);

	tx.o.present &= (uint8_t)~TCPO_SACK;
	STAT_INC(pcb->stack, tcp_rst_tx);
	pcb_emit(pcb, &tx, win);
}

void
tcp_reply_rst(struct shunt_stack *s, const struct tcp_seg *seg)
{
	struct tcp_tx tx;

	if (seg->h.flags & TCP_RST)
		return;
	memset(&tx, 0, sizeof(tx));
	tx.src = seg->ip->dst;
	tx.dst = seg->ip->src;
	tx.sport = htons(seg->h.dport);
	tx.dport = htons(seg->h.sport);
	tx.ttl = s->cfg.ip_ttl;
	/* RFC 9293 §3.10.7.1 */
	if (seg->h.flags & TCP_ACK) {
		tx.seq = seg->ack;
		tx.flags = TCP_RST;
	} else {
		tx.seq = 0;
		tx.ack = seg->seq + seg->len + !!(seg->h.flags & TCP_SYN) + !!(seg->h.flags & TCP_FIN);
		tx.flags = TCP_RST | TCP_ACK;
	}
	STAT_INC(s, tcp_rst_tx);
	emit(s, &tx);
}

int
tcp_send_syn(struct shunt_tcp_pcb *pcb)
{
	struct tcp_tx tx;
	int synack = pcb->state == SHUNT_TCP_SYN_RECEIVED;

	memset(&tx, 0, sizeof(tx));
	tx.src = pcb->local_ip;
	tx.dst = pcb->remote_ip;
	tx.sport = pcb->local_port;
	tx.dport = pcb->remote_port;
	tx.seq = pcb->iss;
	tx.ack = pcb->rcv_nxt;
	tx.flags = synack ? (TCP_SYN | TCP_ACK) : TCP_SYN;
	tx.ttl = pcb->ttl;
	tx.tos = pcb->tos;
	/* The window of a SYN is never scaled (RFC 7323 §2.2). */
	tx.win = pcb->rcv_buf > 65535 ? 65535 : pcb->rcv_buf;
	tx.o.present = TCPO_MSS;
	tx.o.mss = pcb->adv_mss;
	if (synack ? (pcb->flags & TF_WS_OK) : (pcb->flags & TF_OFFER_WS)) {
		tx.o.present |= TCPO_WSCALE;
		tx.o.wscale = pcb->rcv_wscale;
	}
	if (synack ? (pcb->flags & TF_SACK_OK) : (pcb->flags & TF_OFFER_SACK))
		tx.o.present |= TCPO_SACK_PERM;
	if (synack ? (pcb->flags & TF_TS_OK) : (pcb->flags & TF_OFFER_TS)) {
		tx.o.present |= TCPO_TS;
		tx.o.tsval = tcp_ts_now(pcb);
		tx.o.tsecr = synack ? pcb->ts_recent : 0;
	}
	pcb->snd_nxt = pcb->iss + 1;
	pcb->last_send = pcb->stack->now;
	pcb->segs_out++;
	if (synack)
		pcb->last_ack_sent = pcb->rcv_nxt;
	tcp_rexmt_arm(pcb);
	return emit(pcb->stack, &tx);
}

void
tcp_send_synack_cookie(struct shunt_stack *s, const struct tcp_seg *seg, uint32_t iss, uint16_t mss,
    uint32_t tsval, int wscale_ok, int sack_ok, uint8_t rcv_wscale)
{
	struct tcp_tx tx;

	memset(&tx, 0, sizeof(tx));
	tx.src = seg->ip->dst;
	tx.dst = seg->ip->src;
	tx.sport = htons(seg->h.dport);
	tx.dport = htons(seg->h.sport);
	tx.seq = iss;
	tx.ack = seg->seq + 1;
	tx.flags = TCP_SYN | TCP_ACK;
	tx.ttl = s->cfg.ip_ttl;
	tx.win = s->cfg.tcp_rcvbuf > 65535 ? 65535 : s->cfg.tcp_rcvbuf;
	tx.o.present = TCPO_MSS;
	tx.o.mss = mss;
	if (wscale_ok) {
		tx.o.present |= TCPO_WSCALE;
		tx.o.wscale = rcv_wscale;
	}
	if (sack_ok)
		tx.o.present |= TCPO_SACK_PERM;
	if (seg->o.present & TCPO_TS) {
		tx.o.present |= TCPO_TS;
		tx.o.tsval = tsval;
		tx.o.tsecr = seg->o.tsval;
	}
	STAT_INC(s, tcp_syncookie_tx);
	emit(s, &tx);
}

void
tcp_send_probe(struct shunt_tcp_pcb *pcb)
{
	/* An old sequence number with no data makes any live peer answer with an ACK (as Linux does). */
	struct tcp_tx tx;
	uint32_t win = tx_from_pcb(pcb, &tx, pcb->snd_una - 1, TCP_ACK);

	tx.o.present &= (uint8_t)~TCPO_SACK;
	pcb_emit(pcb, &tx, win);
}

/* ---- the send buffer ---- */

void
sb_drop_acked(struct shunt_tcp_pcb *pcb, uint32_t n)
{
	if (n > pcb->sb_len)
		n = pcb->sb_len;
	pcb->sb_len -= n;
	while (n > 0) {
		struct shunt_pbuf *p = pcb->sb_head;

		if (p->len <= n) {
			n -= p->len;
			pcb->sb_head = p->qnext;
			if (pcb->sb_head == NULL)
				pcb->sb_tail = NULL;
			if (pcb->sb_cur == p)
				pcb->sb_cur = NULL;
			else if (pcb->sb_cur != NULL)
				pcb->sb_cur_off -= p->len;
			p->qnext = NULL;
			shunt_pbuf_free(p);
		} else {
			/* In-flight slices keep their own view of these bytes. */
			p->payload += n;
			p->len = (uint16_t)(p->len - n);
			p->tot_len = p->len;
			if (pcb->sb_cur != NULL && pcb->sb_cur != p)
				pcb->sb_cur_off -= n;
			n = 0;
		}
	}
}

/* A chain of REF slices showing send-buffer bytes [off, off + len) (offsets from snd_una). */
static struct shunt_pbuf *
sb_slice(struct shunt_tcp_pcb *pcb, uint32_t off, uint32_t len, uint32_t *got)
{
	struct shunt_pbuf *p, *pieces[MAX_PIECES];
	uint32_t at, take = 0, tot;
	int n = 0, i;

	if (pcb->sb_cur != NULL && pcb->sb_cur_off <= off) {
		p = pcb->sb_cur;
		at = pcb->sb_cur_off;
	} else {
		p = pcb->sb_head;
		at = 0;
	}
	while (p != NULL && at + p->len <= off) {
		at += p->len;
		p = p->qnext;
	}
	while (p != NULL && take < len && n < MAX_PIECES) {
		uint32_t o = off + take - at;
		uint32_t k = p->len - o;
		struct shunt_pbuf *r;

		if (k > len - take)
			k = len - take;
		r = shunt_pbuf_slice(pcb->stack, p, o, k);
		if (r == NULL)
			break;
		pieces[n++] = r;
		take += k;
		pcb->sb_cur = p;
		pcb->sb_cur_off = at;
		if (o + k == p->len) {
			at += p->len;
			p = p->qnext;
		}
	}
	if (n == 0) {
		*got = 0;
		return NULL;
	}
	tot = take;
	for (i = 0; i < n; i++) {
		pieces[i]->tot_len = tot;
		tot -= pieces[i]->len;
		pieces[i]->next = i + 1 < n ? pieces[i + 1] : NULL;
	}
	*got = take;
	return pieces[0];
}

static int
fin_ready(const struct shunt_tcp_pcb *pcb)
{
	return (pcb->flags & TF_FIN_QUEUED) && (pcb->state == SHUNT_TCP_FIN_WAIT_1 ||
	    pcb->state == SHUNT_TCP_LAST_ACK || pcb->state == SHUNT_TCP_CLOSING);
}

/* Sends len bytes of data starting at seq (new or retransmitted). */
int
tcp_send_data_at(struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t len, int rtx)
{
	struct shunt_stack *s = pcb->stack;
	uint32_t off = seq - pcb->snd_una, got, win;
	struct ip4_route rt;
	struct tcp_tx tx;
	uint8_t flags = TCP_ACK;
	uint32_t maxseg;
	int tso = 0, err;

	win = tx_from_pcb(pcb, &tx, seq, 0);
	/* pcb->mss already leaves room for timestamps; SACK blocks take theirs from the payload. */
	maxseg = pcb->mss + ((pcb->flags & TF_TS_OK) ? 12u : 0u) - (uint32_t)tcp_opts_len(&tx.o);
	if (len > maxseg) {
		if (ip4_route_lookup(s, pcb->remote_ip, &rt) != 0 ||
		    (rt.nif->caps & (SHUNT_NETIF_CAP_TSO | SHUNT_NETIF_CAP_TX_TCP_CSUM)) !=
		    (SHUNT_NETIF_CAP_TSO | SHUNT_NETIF_CAP_TX_TCP_CSUM))
			len = maxseg;
		else
			tso = 1;
	}
	tx.data = sb_slice(pcb, off, len, &got);
	if (tx.data == NULL)
		return -ENOBUFS;
	tx.len = got;
	if (tso && got > maxseg)
		tx.tso_mss = (uint16_t)maxseg;
	if (off + got == pcb->sb_len) {
		flags |= TCP_PSH;
		/* The FIN rides on the last data segment. */
		if (fin_ready(pcb) && (!(pcb->flags & TF_FIN_SENT) || rtx))
			flags |= TCP_FIN;
	}
	tx.flags = flags;
	if (rtx) {
		pcb->bytes_retrans += got;
		pcb->total_retrans++;
		pcb->rtx_ts = tcp_ts_now(pcb);
		if (pcb->undo_ok) {
			if (pcb->undo_ts == 0)
				pcb->undo_ts = pcb->rtx_ts ? pcb->rtx_ts : 1;
			if (pcb->undo_retrans < 0xffff)
				pcb->undo_retrans++;
			if (seq_gt(seq + got, pcb->undo_hi))
				pcb->undo_hi = seq + got;
		}
		STAT_INC(s, tcp_retransmit);
		/* Karn: a retransmitted segment cannot time the path. */
		if ((pcb->flags & TF_RTT_TIMING) && seq_leq(seq, pcb->rtt_seq))
			pcb->flags &= ~TF_RTT_TIMING;
	} else {
		pcb->bytes_sent += got;
		if (!(pcb->flags & (TF_TS_OK | TF_RTT_TIMING))) {
			pcb->flags |= TF_RTT_TIMING;
			pcb->rtt_seq = seq;
			pcb->rtt_start = s->now;
		}
		pcb->snd_nxt = seq + got;
		if (flags & TCP_FIN) {
			pcb->snd_nxt++;
			pcb->flags |= TF_FIN_SENT;
		}
	}
	err = pcb_emit(pcb, &tx, win);
	return err == 0 ? (int)got : err;
}

uint32_t
tcp_flight(const struct shunt_tcp_pcb *pcb)
{
	uint32_t flight = pcb->snd_nxt - pcb->snd_una;
	uint32_t out = tcp_sacked_bytes(pcb);

	/*
	 * Without SACK every duplicate ACK says a segment left the network
	 * (RFC 5681 §3.2 inflates cwnd by one segment per dupack; counting them
	 * out of the pipe is the same, as Linux's "Reno SACKs" do).
	 */
	if (!(pcb->flags & TF_SACK_OK) && pcb->ca_state == CA_RECOVERY)
		out += (uint32_t)pcb->dupacks * pcb->mss;
	/* RFC 6675 pipe: lost segments not yet retransmitted are not in the network. */
	if (pcb->ca_state >= CA_RECOVERY) {
		uint32_t from = seq_max(pcb->high_rxt, pcb->snd_una);
		uint32_t to = seq_min(pcb->lost_to, pcb->snd_nxt);

		if (seq_lt(from, to))
			out += tcp_sack_unsacked_between(pcb, from, to);
	}
	return flight > out ? flight - out : 0;
}

/* Retransmits lost holes while the pipe has room; returns bytes sent. */
static uint32_t
send_lost(struct shunt_tcp_pcb *pcb, uint32_t *pipe)
{
	uint32_t sent = 0, data_end = pcb->snd_una + pcb->sb_len;
	uint32_t lim = seq_min(pcb->lost_to, data_end);
	int fin_out = (pcb->flags & TF_FIN_SENT) != 0;

	while (*pipe < pcb->cwnd) {
		uint32_t from = seq_max(pcb->high_rxt, pcb->snd_una), start, end, len;
		int r;

		if (!seq_lt(from, lim) || !tcp_sack_next_hole(pcb, from, lim, &start, &end))
			break;
		len = end - start;
		if (len > pcb->mss)
			len = pcb->mss;
		r = tcp_send_data_at(pcb, start, len, 1);
		if (r <= 0)
			break;
		pcb->high_rxt = start + (uint32_t)r;
		pcb->rtx_mark = pcb->snd_nxt;
		/* The last data segment carried the FIN again. */
		if (fin_out && pcb->high_rxt == data_end)
			pcb->high_rxt = pcb->snd_nxt;
		*pipe += (uint32_t)r;
		sent += (uint32_t)r;
	}
	/* A lost FIN with no data left in front of it. */
	if (fin_out && *pipe < pcb->cwnd && pcb->high_rxt == data_end && seq_lt(pcb->snd_una, pcb->snd_nxt) &&
	    seq_geq(pcb->lost_to, pcb->snd_nxt)) {
		struct tcp_tx tx;
		uint32_t win = tx_from_pcb(pcb, &tx, data_end, TCP_ACK | TCP_FIN);

		pcb->high_rxt = pcb->snd_nxt;
		STAT_INC(pcb->stack, tcp_retransmit);
		pcb->total_retrans++;
		pcb_emit(pcb, &tx, win);
		sent++;
	}
	return sent;
}

/*
 * Back-pressure (TCP small queues, in frames): while a netif's transmit
 * queue is nearly full, new data stays in the send buffer, which is where
 * it can wait without being dropped and retransmitted.  The connection is
 * noted here and resumed by tcp_resume_deferred() when the pressure ends.
 * The test is per stack (s->tx_pressure counts the netifs under pressure),
 * not per route: with one port per stack, as shunt runs, that is the same;
 * a stack with several ports would hold every connection while one is full.
 */
static void
tcp_defer(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;

	if (pcb->txq_deferred)
		return;
	pcb->txq_deferred = 1;
	STAT_INC(pcb->stack, tcp_txq_defer);
	if (t->ndeferred < TCP_DEFER_MAX)
		t->deferred[t->ndeferred++] = pcb;
	else
		t->defer_overflow = 1;
}

void
tcp_defer_forget(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;
	uint32_t i;

	if (!pcb->txq_deferred)
		return;
	pcb->txq_deferred = 0;
	for (i = 0; i < t->ndeferred; i++)
		if (t->deferred[i] == pcb) {
			t->deferred[i] = t->deferred[--t->ndeferred];
			break;
		}
}

void
tcp_resume_deferred(struct shunt_stack *s)
{
	struct tcp_stack *t = s->tcp;
	struct shunt_tcp_pcb *list[TCP_DEFER_MAX], *pcb;
	uint32_t i, n = t->ndeferred;
	int overflow = t->defer_overflow;

	/* tcp_output may defer again (the pressure can come back at once): work on a copy. */
	memcpy(list, t->deferred, n * sizeof(list[0]));
	t->ndeferred = 0;
	t->defer_overflow = 0;
	for (i = 0; i < n; i++) {
		list[i]->txq_deferred = 0;
		tcp_output(list[i]);
	}
	if (overflow) {
		for (pcb = t->all; pcb != NULL; pcb = pcb->anext)
			if (pcb->txq_deferred) {
				pcb->txq_deferred = 0;
				tcp_output(pcb);
			}
	}
}

int
tcp_output(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;
	uint32_t pipe, unsent, sent_any = 0, limit;
	int recovering;

	switch (pcb->state) {
	case SHUNT_TCP_CLOSED:
	case SHUNT_TCP_LISTEN:
	case SHUNT_TCP_TIME_WAIT:
		return 0;
	case SHUNT_TCP_SYN_SENT:
	case SHUNT_TCP_SYN_RECEIVED:
		if (pcb->flags & TF_ACK_NOW)
			tcp_send_syn(pcb);
		pcb->flags &= ~TF_ACK_NOW;
		return 0;
	default:
		break;
	}
	/* RFC 5681 §4.1: after an idle period longer than the RTO, restart from the initial window. */
	if (pcb->snd_nxt == pcb->snd_una && pcb->last_send != 0 &&
	    s->now - pcb->last_send > (uint64_t)pcb->rto_us * 1000ull && pcb->cc->idle_restart != NULL)
		pcb->cc->idle_restart(pcb);

	pipe = tcp_flight(pcb);
	recovering = pcb->ca_state >= CA_RECOVERY;
	if (recovering)
		sent_any += send_lost(pcb, &pipe);

	/* New data. */
	/*
	 * Limited transmit (RFC 3042): one new segment for each of the first
	 * two dupacks.  With SACK the pipe already counts the SACKed segments
	 * out, which has the same effect (RFC 6675 §5).
	 */
	limit = pcb->cwnd;
	if (pcb->ca_state == CA_DISORDER && pcb->dupacks > 0 && pcb->dupacks < 3 && !(pcb->flags & TF_SACK_OK))
		limit += (uint32_t)pcb->dupacks * pcb->mss;
	unsent = (pcb->flags & TF_FIN_SENT) || pcb->snd_nxt - pcb->snd_una > pcb->sb_len ? 0 :
	    pcb->sb_len - (pcb->snd_nxt - pcb->snd_una);
	while (unsent > 0) {
		uint32_t seq = pcb->snd_nxt;
		uint32_t edge = tcp_snd_edge(pcb);
		uint32_t rwnd_left = seq_lt(seq, edge) ? edge - seq : 0;
		uint32_t cwnd_left = limit > pipe ? limit - pipe : 0;
		uint32_t len = unsent, maxseg = pcb->mss;
		int r;

		if (len > rwnd_left)
			len = rwnd_left;
		if (len > cwnd_left)
			len = cwnd_left;
		/* Let TSO netifs take several segments at once. */
		if (len > maxseg) {
			uint32_t big = len > TSO_MAX ? TSO_MAX : len;

			len = big - big % maxseg;
			if (len == 0)
				len = maxseg;
		}
		if (len == 0)
			break;
		if (len < maxseg && len < unsent) {
			/* Sender SWS avoidance: a window-limited runt only if it is half the biggest window. */
			if (len < pcb->max_snd_wnd / 2)
				break;
		} else if (len < maxseg) {
			/* The tail of the queued data: cork, MSG_MORE and Nagle may hold it back. */
			if (((pcb->flags & TF_CORK) || (pcb->flags & TF_PUSH_MORE)) && !fin_ready(pcb))
				break;
			if (!(pcb->flags & TF_NODELAY) && pipe > 0 && !fin_ready(pcb))
				break;
		}
		if (unlikely(s->tx_pressure != 0)) {
			tcp_defer(pcb);
			break;
		}
		r = tcp_send_data_at(pcb, seq, len, 0);
		if (r <= 0)
			break;
		unsent -= (uint32_t)r;
		pipe += (uint32_t)r;
		sent_any += (uint32_t)r;
	}
	/* A FIN with nothing in front of it still to send. */
	if (fin_ready(pcb) && !(pcb->flags & TF_FIN_SENT) && unsent == 0) {
		struct tcp_tx tx;
		uint32_t win = tx_from_pcb(pcb, &tx, pcb->snd_nxt, TCP_ACK | TCP_FIN);

		pcb->snd_nxt++;
		pcb->flags |= TF_FIN_SENT;
		pcb_emit(pcb, &tx, win);
		sent_any++;
	}
	if (sent_any == 0 && (pcb->flags & (TF_ACK_NOW | TF_WND_UPDATE)))
		tcp_send_ack(pcb);
	tcp_rexmt_update(pcb);
	return 0;
}

void
tcp_send_wakeup(struct shunt_tcp_pcb *pcb)
{
	uint32_t unsent = pcb->sb_len - (pcb->snd_nxt - pcb->snd_una);
	uint32_t edge = tcp_snd_edge(pcb);
	uint32_t wnd_left = seq_lt(pcb->snd_nxt, edge) ? edge - pcb->snd_nxt : 0;
	uint32_t len = unsent;

	if (len > wnd_left)
		len = wnd_left;
	if (len > pcb->mss)
		len = pcb->mss;
	if (len > 0 && !(pcb->flags & TF_FIN_SENT))
		tcp_send_data_at(pcb, pcb->snd_nxt, len, 0);
	tcp_rexmt_update(pcb);
}

int
tcp_retransmit_head(struct shunt_tcp_pcb *pcb)
{
	uint32_t len = pcb->sb_len < pcb->mss ? pcb->sb_len : pcb->mss;

	if (len == 0)
		return 0;
	return tcp_send_data_at(pcb, pcb->snd_una, len, 1);
}
