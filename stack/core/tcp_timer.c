/*
 * TCP timers.  Three per connection, on the stack's timer wheel:
 *   t_rexmt  the retransmission timer (RFC 6298), or (TF_PERSIST) the
 *            persist timer when data waits with nothing in flight: it probes
 *            a zero window (RFC 9293 §3.8.6.1) and is the override timeout of
 *            sender SWS avoidance and of a cork (§3.8.6.2.1);
 *   t_delack the delayed-ACK bound (RFC 1122 §4.2.3.2; 40 ms like Linux);
 *   t_misc   keepalive (RFC 1122 §4.2.3.6), orphaned FIN_WAIT_2, TIME_WAIT
 *            (2 MSL), and the application's poll callback.
 * Called from tcp_input.c / tcp_output.c to (re)arm; fire from the wheel.
 */
#include <errno.h>
#include "priv/stack.h"
#include "priv/tcp.h"

#define NS_PER_US	1000ull
#define NS_PER_MS	1000000ull
#define NS_PER_S	1000000000ull

static void rexmt_fire(struct shunt_stack *s, struct shunt_timer *t);
static void delack_fire(struct shunt_stack *s, struct shunt_timer *t);
static void misc_fire(struct shunt_stack *s, struct shunt_timer *t);

#define PCB_OF(t, field) ((struct shunt_tcp_pcb *)((char *)(t) - offsetof(struct shunt_tcp_pcb, field)))

uint32_t
tcp_rto_initial_us(struct shunt_stack *s)
{
	return s->cfg.tcp_rto_initial_ms * 1000u;
}

void
tcp_timers_init(struct shunt_tcp_pcb *pcb)
{
	timer_init(&pcb->t_rexmt, rexmt_fire);
	timer_init(&pcb->t_delack, delack_fire);
	timer_init(&pcb->t_misc, misc_fire);
}

void
tcp_timers_stop(struct shunt_tcp_pcb *pcb)
{
	timer_cancel(pcb->stack, &pcb->t_rexmt);
	timer_cancel(pcb->stack, &pcb->t_delack);
	timer_cancel(pcb->stack, &pcb->t_misc);
}

static uint32_t
rto_clamp(struct shunt_stack *s, uint64_t us)
{
	uint64_t lo = (uint64_t)s->cfg.tcp_rto_min_ms * 1000, hi = (uint64_t)s->cfg.tcp_rto_max_ms * 1000;

	return (uint32_t)(us < lo ? lo : us > hi ? hi : us);
}

void
tcp_rtt_sample(struct shunt_tcp_pcb *pcb, uint32_t rtt_us)
{
	/* RFC 6298 §2, in microseconds, with the clock granularity G of 1 µs. */
	if (rtt_us == 0)
		rtt_us = 1;
	if (pcb->srtt_us == 0) {
		pcb->srtt_us = rtt_us;
		pcb->rttvar_us = rtt_us / 2;
	} else {
		uint32_t delta = pcb->srtt_us > rtt_us ? pcb->srtt_us - rtt_us : rtt_us - pcb->srtt_us;

		pcb->rttvar_us = (3 * pcb->rttvar_us + delta) / 4;
		pcb->srtt_us = (7 * pcb->srtt_us + rtt_us) / 8;
	}
	/* A valid sample ends any backoff (Karn's algorithm keeps it only until then). */
	pcb->rto_us = rto_clamp(pcb->stack, (uint64_t)pcb->srtt_us + 4ull * pcb->rttvar_us);
}

/*
 * The tail loss probe (RFC 8985 §7): with SACK, outside recovery, a probe
 * goes out after two round trips of silence instead of waiting for the RTO,
 * so that a lost last segment (or a lost last ACK) is repaired by fast
 * recovery rather than by a timeout.
 */
static uint64_t
tlp_pto_us(struct shunt_tcp_pcb *pcb)
{
	uint64_t pto;

	if (!pcb->stack->cfg.tcp_tlp || !(pcb->flags & TF_SACK_OK) || pcb->srtt_us == 0 || (pcb->flags & TF_TLP_OUT) ||
	    (pcb->ca_state != CA_OPEN && pcb->ca_state != CA_DISORDER) || pcb->nrtx != 0 ||
	    pcb->state < SHUNT_TCP_ESTABLISHED)
		return 0;
	pto = 2ull * pcb->srtt_us;
	/* One segment in flight: the peer may be holding its delayed ACK (WCDelAckT, 200 ms). */
	if (pcb->snd_nxt - pcb->snd_una <= pcb->mss)
		pto += 200000;
	if (pto < 10000)
		pto = 10000;
	return pto < pcb->rto_us ? pto : 0;
}

void
tcp_rexmt_arm(struct shunt_tcp_pcb *pcb)
{
	uint64_t pto = tlp_pto_us(pcb);

	pcb->flags &= ~(TF_PERSIST | TF_TLP);
	if (pto != 0) {
		pcb->flags |= TF_TLP;
		timer_arm(pcb->stack, &pcb->t_rexmt, pto * NS_PER_US);
		return;
	}
	timer_arm(pcb->stack, &pcb->t_rexmt, (uint64_t)pcb->rto_us * NS_PER_US);
}

/* Sends the probe: one new segment if the windows allow, else the last one again. */
static void
tlp_send(struct shunt_tcp_pcb *pcb)
{
	uint32_t data_end = pcb->snd_una + pcb->sb_len;
	uint32_t sent_data_end = pcb->snd_nxt - ((pcb->flags & TF_FIN_SENT) ? 1 : 0);
	uint32_t unsent = seq_gt(data_end, sent_data_end) ? data_end - sent_data_end : 0;
	uint32_t edge = tcp_snd_edge(pcb);
	uint32_t rwnd_left = seq_lt(pcb->snd_nxt, edge) ? edge - pcb->snd_nxt : 0;
	uint32_t seq, len;
	int rtx;

	if (unsent > 0 && rwnd_left > 0 && !(pcb->flags & TF_FIN_SENT)) {
		seq = pcb->snd_nxt;
		len = unsent < pcb->mss ? unsent : pcb->mss;
		if (len > rwnd_left)
			len = rwnd_left;
		rtx = 0;
	} else if (seq_gt(sent_data_end, pcb->snd_una)) {
		len = sent_data_end - pcb->snd_una < pcb->mss ? sent_data_end - pcb->snd_una : pcb->mss;
		seq = sent_data_end - len;
		rtx = 1;
	} else {
		return;
	}
	STAT_INC(pcb->stack, tcp_tlp);
	if (tcp_send_data_at(pcb, seq, len, rtx) <= 0)
		return;
	pcb->flags |= TF_TLP_OUT | (rtx ? TF_TLP_RTX : 0);
	pcb->tlp_seq = seq;
	pcb->tlp_end = seq + len;
}

void
tcp_rexmt_update(struct shunt_tcp_pcb *pcb)
{
	if (pcb->snd_nxt != pcb->snd_una) {
		/* RFC 6298 §5.1: keep a running timer; start one if none runs. */
		if (pcb->flags & TF_PERSIST) {
			pcb->flags &= ~TF_PERSIST;
			tcp_rexmt_arm(pcb);
		} else if (!timer_pending(&pcb->t_rexmt)) {
			tcp_rexmt_arm(pcb);
		}
		return;
	}
	if (pcb->sb_len > 0 && pcb->state >= SHUNT_TCP_ESTABLISHED) {
		/*
		 * Data waits and nothing is in flight: a shut window, or one too
		 * small for sender SWS avoidance, or a cork.  The persist timer
		 * probes a shut window with backoff (RFC 9293 §3.8.6.1) and is the
		 * override timeout of SWS avoidance otherwise (§3.8.6.2.1) -- as
		 * Linux's probe timer, which also bounds a cork.
		 */
		if (!(pcb->flags & TF_PERSIST) || !timer_pending(&pcb->t_rexmt)) {
			uint64_t d = (uint64_t)pcb->rto_us << (pcb->pbackoff < 10 ? pcb->pbackoff : 10);

			pcb->flags |= TF_PERSIST;
			timer_arm(pcb->stack, &pcb->t_rexmt, rto_clamp(pcb->stack, d) * NS_PER_US);
		}
		return;
	}
	pcb->flags &= ~TF_PERSIST;
	timer_cancel(pcb->stack, &pcb->t_rexmt);
}

void
tcp_delack_arm(struct shunt_tcp_pcb *pcb)
{
	if (!timer_pending(&pcb->t_delack))
		timer_arm(pcb->stack, &pcb->t_delack, (uint64_t)pcb->stack->cfg.tcp_delack_ms * NS_PER_MS);
}

static int
retries_exhausted(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;

	if (pcb->user_timeout_ms != 0)
		return pcb->first_rtx_time != 0 &&
		    s->now - pcb->first_rtx_time >= (uint64_t)pcb->user_timeout_ms * NS_PER_MS;
	return pcb->nrtx > s->cfg.tcp_retries;
}

static void
rexmt_fire(struct shunt_stack *s, struct shunt_timer *t)
{
	struct shunt_tcp_pcb *pcb = PCB_OF(t, t_rexmt);

	if (pcb->state == SHUNT_TCP_SYN_SENT || pcb->state == SHUNT_TCP_SYN_RECEIVED) {
		uint32_t limit = pcb->state == SHUNT_TCP_SYN_SENT ? s->cfg.tcp_syn_retries : s->cfg.tcp_synack_retries;

		/* The retry limit, or TCP_USER_TIMEOUT counted from the first SYN (as Linux's retrans_stamp). */
		if (++pcb->syn_rtx > limit || (pcb->user_timeout_ms != 0 &&
		    s->now - pcb->first_rtx_time >= (uint64_t)pcb->user_timeout_ms * NS_PER_MS)) {
			tcp_drop(pcb, -ETIMEDOUT);
			return;
		}
		STAT_INC(s, tcp_retransmit);
		pcb->total_retrans++;
		pcb->rto_us = rto_clamp(s, (uint64_t)pcb->rto_us * 2);
		tcp_send_syn(pcb);
		return;
	}
	if (pcb->flags & TF_PERSIST) {
		pcb->flags &= ~TF_PERSIST;
		if (pcb->snd_nxt != pcb->snd_una || pcb->sb_len == 0)
			return;
		if (seq_lt(pcb->snd_nxt, tcp_snd_edge(pcb))) {
			tcp_send_wakeup(pcb);
			return;
		}
		/* Probes only time out while unanswered: a peer that ACKs them may keep its window shut. */
		if (++pcb->nprobes > s->cfg.tcp_retries) {
			tcp_drop(pcb, -ETIMEDOUT);
			return;
		}
		if (pcb->pbackoff < 255)
			pcb->pbackoff++;
		STAT_INC(s, tcp_persist_tx);
		tcp_send_probe(pcb);
		tcp_rexmt_update(pcb);
		return;
	}
	if (pcb->snd_nxt == pcb->snd_una)
		return;
	if (pcb->flags & TF_TLP) {
		/* Two round trips of silence with data out: probe, then wait the RTO proper. */
		pcb->flags &= ~TF_TLP;
		tlp_send(pcb);
		timer_arm(s, &pcb->t_rexmt, (uint64_t)pcb->rto_us * NS_PER_US);
		return;
	}
	/* Retransmission timeout (RFC 6298 §5.4-5.7, RFC 5681 §3.1). */
	if (pcb->nrtx == 0)
		pcb->first_rtx_time = s->now;
	pcb->nrtx++;
	if (retries_exhausted(pcb)) {
		tcp_drop(pcb, -ETIMEDOUT);
		return;
	}
	STAT_INC(s, tcp_rto);
	pcb->rto_us = rto_clamp(s, (uint64_t)pcb->rto_us * 2);
	pcb->flags &= ~TF_RTT_TIMING;
	tcp_cc_rto(pcb, s->now);
	tcp_rexmt_arm(pcb);
	tcp_output(pcb);
}

static void
delack_fire(struct shunt_stack *s, struct shunt_timer *t)
{
	struct shunt_tcp_pcb *pcb = PCB_OF(t, t_delack);

	(void)s;
	if ((pcb->flags & TF_ACK_DELAYED) && pcb->state >= SHUNT_TCP_ESTABLISHED &&
	    pcb->state != SHUNT_TCP_TIME_WAIT) {
		pcb->flags |= TF_ACK_NOW;
		tcp_output(pcb);
	}
}

void
tcp_misc_update(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;
	uint64_t when = UINT64_MAX;

	if (pcb->state == SHUNT_TCP_TIME_WAIT || pcb->state == SHUNT_TCP_CLOSED || pcb->state == SHUNT_TCP_LISTEN)
		return;
	if ((pcb->flags & TF_KEEPALIVE) &&
	    (pcb->state == SHUNT_TCP_ESTABLISHED || pcb->state == SHUNT_TCP_CLOSE_WAIT)) {
		uint64_t base = pcb->nprobes ? s->now + (uint64_t)pcb->keepintvl_s * NS_PER_S :
		    pcb->last_recv + (uint64_t)pcb->keepidle_s * NS_PER_S;

		if (base < when)
			when = base;
	}
	if ((pcb->flags & TF_CLOSED) && pcb->state == SHUNT_TCP_FIN_WAIT_2) {
		uint64_t d = pcb->last_recv + (uint64_t)s->cfg.tcp_fin_timeout_ms * NS_PER_MS;

		if (d < when)
			when = d;
	}
	if (pcb->poll_fn != NULL && pcb->poll_next < when)
		when = pcb->poll_next;
	/* Data the application refused is offered again shortly (as lwIP's fast timer does). */
	if ((pcb->refused != NULL || (pcb->flags & TF_FIN_HELD)) && s->now + 10 * NS_PER_MS < when)
		when = s->now + 10 * NS_PER_MS;
	if (when == UINT64_MAX)
		timer_cancel(s, &pcb->t_misc);
	else
		timer_arm_at(s, &pcb->t_misc, when);
}

static void
misc_fire(struct shunt_stack *s, struct shunt_timer *t)
{
	struct shunt_tcp_pcb *pcb = PCB_OF(t, t_misc);

	if (pcb->state == SHUNT_TCP_CLOSED) {
		/* Reset by close(): freed here, outside any callback of its own. */
		if (pcb->flags & TF_CLOSED)
			tcp_pcb_free(pcb);
		return;
	}
	if (pcb->state == SHUNT_TCP_TIME_WAIT) {
		/* 2 MSL are over. */
		tcp_finished(pcb);
		return;
	}
	if ((pcb->flags & TF_CLOSED) && pcb->state == SHUNT_TCP_FIN_WAIT_2 &&
	    s->now >= pcb->last_recv + (uint64_t)s->cfg.tcp_fin_timeout_ms * NS_PER_MS) {
		tcp_drop(pcb, 0);
		return;
	}
	if ((pcb->flags & TF_KEEPALIVE) &&
	    (pcb->state == SHUNT_TCP_ESTABLISHED || pcb->state == SHUNT_TCP_CLOSE_WAIT) &&
	    s->now >= pcb->last_recv + (uint64_t)pcb->keepidle_s * NS_PER_S +
	    (uint64_t)pcb->nprobes * pcb->keepintvl_s * NS_PER_S) {
		if (pcb->nprobes >= pcb->keepcnt) {
			tcp_drop(pcb, -ETIMEDOUT);
			return;
		}
		pcb->nprobes++;
		STAT_INC(s, tcp_keepalive_tx);
		tcp_send_probe(pcb);
	}
	if ((pcb->refused != NULL || (pcb->flags & TF_FIN_HELD)) && tcp_retry_refused(pcb) == SHUNT_TCP_ABORTED)
		return;
	if (pcb->poll_fn != NULL && s->now >= pcb->poll_next) {
		pcb->poll_next = s->now + (uint64_t)pcb->poll_ms * NS_PER_MS;
		if (pcb->poll_fn(pcb->arg, pcb) == SHUNT_TCP_ABORTED)
			return;
	}
	tcp_misc_update(pcb);
}
