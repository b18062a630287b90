/*
 * Congestion control behind a small ops table, selectable per stack and per
 * connection.  Called by tcp_input.c on ACKs and loss, tcp_timer.c on RTO.
 *   newreno  slow start and congestion avoidance with byte counting
 *            (RFC 5681, RFC 3465 with L = 2 SMSS), NewReno recovery (RFC 6582)
 *   cubic    RFC 9438: W_cubic(t) = C (t - K)^3 + W_max, beta 0.7, C 0.4,
 *            with the Reno-friendly region and fast convergence
 * Loss recovery itself (which bytes to resend) is the same for both and lives
 * in tcp_input.c / tcp_output.c; these only size cwnd and ssthresh.
 */
#include <string.h>
#include "priv/stack.h"
#include "priv/tcp.h"

#define CUBIC_C		0.4
#define CUBIC_BETA	0.7

static uint32_t
iw(const struct shunt_tcp_pcb *pcb)
{
	/* RFC 6928: min(10 MSS, max(2 MSS, 14600)) */
	uint32_t a = 10u * pcb->mss, b = 2u * pcb->mss > 14600 ? 2u * pcb->mss : 14600;

	return a < b ? a : b;
}

static void
slow_start(struct shunt_tcp_pcb *pcb, uint32_t acked)
{
	uint32_t inc = acked < 2u * pcb->mss ? acked : 2u * pcb->mss;

	pcb->cwnd += inc;
	if (pcb->cwnd > pcb->ssthresh && pcb->ssthresh != UINT32_MAX)
		pcb->cwnd = pcb->ssthresh + pcb->mss;
}

static uint32_t
half_flight(struct shunt_tcp_pcb *pcb)
{
	/* RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 SMSS) */
	uint32_t f = (pcb->snd_nxt - pcb->snd_una) / 2;

	return f > 2u * pcb->mss ? f : 2u * pcb->mss;
}

/* ---- NewReno ---- */

static void
reno_init(struct shunt_tcp_pcb *pcb)
{
	pcb->bytes_acked = 0;
}

static void
reno_on_ack(struct shunt_tcp_pcb *pcb, uint32_t acked, uint64_t now)
{
	(void)now;
	if (pcb->cwnd < pcb->ssthresh) {
		slow_start(pcb, acked);
		return;
	}
	pcb->bytes_acked += acked;
	if (pcb->bytes_acked >= pcb->cwnd) {
		pcb->bytes_acked -= pcb->cwnd;
		pcb->cwnd += pcb->mss;
	}
}

static uint32_t
reno_ssthresh(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	(void)now;
	return half_flight(pcb);
}

static void
reno_recovered(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	(void)now;
	pcb->bytes_acked = 0;
}

static void
restart_window(struct shunt_tcp_pcb *pcb)
{
	uint32_t w = iw(pcb);

	if (pcb->cwnd > w)
		pcb->cwnd = w;
	pcb->cubic.epoch_start = 0;
}

static const struct tcp_cc_ops newreno_ops = {
	.name = "newreno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.ssthresh = reno_ssthresh,
	.recovered = reno_recovered,
	.idle_restart = restart_window,
};

/* ---- CUBIC ---- */

static double
cbrt_pos(double x)
{
	/* Newton's method; x >= 0.  Avoids a libm dependency in the core. */
	double y = x > 1.0 ? x / 3.0 : 1.0;
	int i;

	if (x <= 0.0)
		return 0.0;
	for (i = 0; i < 60; i++) {
		double n = y - (y * y * y - x) / (3.0 * y * y);

		if (n == y)
			break;
		y = n;
	}
	return y;
}

static void
cubic_init(struct shunt_tcp_pcb *pcb)
{
	memset(&pcb->cubic, 0, sizeof(pcb->cubic));
	pcb->bytes_acked = 0;
}

static void
cubic_on_ack(struct shunt_tcp_pcb *pcb, uint32_t acked, uint64_t now)
{
	struct cubic_state *c = &pcb->cubic;
	double t, mss = pcb->mss, target, seg_k, d;
	uint32_t tgt;

	if (pcb->cwnd < pcb->ssthresh) {
		slow_start(pcb, acked);
		return;
	}
	if (c->epoch_start == 0) {
		c->epoch_start = now;
		if (pcb->cwnd < c->w_max) {
			/* K = cbrt(W_max (1 - beta) / C), in segments and seconds (RFC 9438 eq. 2). */
			seg_k = cbrt_pos(((double)c->w_max - pcb->cwnd) / mss / CUBIC_C);
			c->k_ms = (uint32_t)(seg_k * 1000.0);
			c->origin = c->w_max;
		} else {
			c->k_ms = 0;
			c->origin = pcb->cwnd;
		}
		c->w_est = pcb->cwnd;
		c->ack_cnt = 0;
	}
	/* t plus one RTT: where the window should be when this flight is acknowledged. */
	t = (double)(now - c->epoch_start) / 1e9 + (double)pcb->srtt_us / 1e6;
	d = t - (double)c->k_ms / 1000.0;
	target = (double)c->origin + CUBIC_C * d * d * d * mss;
	/* Reno-friendly estimate (RFC 9438 §4.3): alpha = 3 (1 - beta) / (1 + beta). */
	c->ack_cnt += acked;
	if (c->ack_cnt >= pcb->cwnd / 1) {
		double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);

		c->w_est += (uint32_t)(alpha * mss * (double)c->ack_cnt / (double)pcb->cwnd);
		c->ack_cnt = 0;
	}
	if (target < c->w_est)
		target = c->w_est;
	/* Never more than 1.5 cwnd ahead in one RTT (eq. 5 bound). */
	if (target > 1.5 * pcb->cwnd)
		target = 1.5 * pcb->cwnd;
	tgt = target < 0 ? 0 : (uint32_t)target;
	if (tgt > pcb->cwnd) {
		/* Spread the growth over the window: (target - cwnd) / cwnd per byte acknowledged. */
		pcb->bytes_acked += (uint32_t)((double)(tgt - pcb->cwnd) * acked / pcb->cwnd);
		if (pcb->bytes_acked >= pcb->mss) {
			pcb->cwnd += pcb->bytes_acked - pcb->bytes_acked % pcb->mss;
			pcb->bytes_acked %= pcb->mss;
		}
	}
}

static uint32_t
cubic_ssthresh(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	struct cubic_state *c = &pcb->cubic;
	uint32_t th;

	(void)now;
	c->epoch_start = 0;
	/* Fast convergence (RFC 9438 §4.7): give way when the window shrank since the last loss. */
	if (pcb->cwnd < c->w_max)
		c->w_max = (uint32_t)((double)pcb->cwnd * (1.0 + CUBIC_BETA) / 2.0);
	else
		c->w_max = pcb->cwnd;
	th = (uint32_t)((double)pcb->cwnd * CUBIC_BETA);
	return th > 2u * pcb->mss ? th : 2u * pcb->mss;
}

static void
cubic_recovered(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	(void)now;
	pcb->cubic.epoch_start = 0;
	pcb->bytes_acked = 0;
}

static const struct tcp_cc_ops cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.ssthresh = cubic_ssthresh,
	.recovered = cubic_recovered,
	.idle_restart = restart_window,
};

#define CWND_MAX	(1u << 30)

void
tcp_cc_on_ack(struct shunt_tcp_pcb *pcb, uint32_t acked, uint64_t now)
{
	uint32_t flight_before = pcb->snd_nxt - pcb->snd_una + acked;
	int limited;

	/*
	 * RFC 7661: a window the sender does not fill says nothing about the
	 * path, so it grows only while it limits the sender (in slow start,
	 * while it is below twice the flight, as Linux counts it).  Without
	 * this an application-limited flow inflates cwnd without bound.
	 */
	if (pcb->cwnd < pcb->ssthresh)
		limited = pcb->cwnd < 2 * flight_before;
	else
		limited = flight_before + pcb->mss >= pcb->cwnd;
	if (!limited)
		return;
	pcb->cc->on_ack(pcb, acked, now);
	if (pcb->cwnd > CWND_MAX)
		pcb->cwnd = CWND_MAX;
}

const struct tcp_cc_ops *
tcp_cc_find(const char *name)
{
	if (name == NULL)
		return NULL;
	if (strcmp(name, "cubic") == 0)
		return &cubic_ops;
	if (strcmp(name, "newreno") == 0 || strcmp(name, "reno") == 0)
		return &newreno_ops;
	return NULL;
}

void
tcp_cc_enter_recovery(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	pcb->ssthresh = pcb->cc->ssthresh(pcb, now);
	pcb->cwnd = pcb->ssthresh;
	pcb->recover = pcb->snd_nxt;
	pcb->high_rxt = pcb->snd_una;
	pcb->ca_state = CA_RECOVERY;
	STAT_INC(pcb->stack, tcp_fast_retransmit);
}

void
tcp_cc_rto(struct shunt_tcp_pcb *pcb, uint64_t now)
{
	/*
	 * A timeout while merely disordered, with DupThresh segments SACKed:
	 * the reordering seen before was overestimated (Linux's tcp_enter_loss).
	 */
	if (pcb->ca_state <= CA_DISORDER && pcb->nsacked > 0 && pcb->reordering > TCP_REORDER_INIT &&
	    tcp_sacked_bytes(pcb) >= TCP_REORDER_INIT * pcb->mss)
		pcb->reordering = TCP_REORDER_INIT;
	/* A new episode, unless recovery was under way: undo goes back to before it. */
	if (pcb->ca_state < CA_RECOVERY) {
		pcb->prior_cwnd = pcb->cwnd;
		pcb->prior_ssthresh = pcb->ssthresh;
		pcb->undo_marker = pcb->snd_una;
		pcb->undo_hi = pcb->snd_una;
		pcb->undo_ts = 0;
		pcb->undo_retrans = 0;
		pcb->undo_ok = 1;
		pcb->undo_degree = 0;
	}
	/*
	 * RFC 5681 §3.1: ssthresh from the flight, cwnd to the loss window (1
	 * SMSS) -- unless this window of data was already answered with a
	 * reduction: a timeout in fast recovery, before its recovery point,
	 * or a repeated timeout.  Reducing again there (as Linux does not,
	 * tcp_enter_loss) takes ssthresh from a cwnd that recovery already
	 * shrank: under steady loss it ratchets down to 2 segments.
	 */
	if (pcb->ca_state <= CA_DISORDER || (pcb->ca_state == CA_RECOVERY && !seq_gt(pcb->recover, pcb->snd_una)))
		pcb->ssthresh = pcb->cc->ssthresh(pcb, now);
	pcb->cwnd = pcb->mss;
	pcb->bytes_acked = 0;
	pcb->ca_state = CA_LOSS;
	pcb->recover = pcb->snd_nxt;
	pcb->high_rxt = pcb->snd_una;
	pcb->lost_to = pcb->snd_nxt;
	pcb->dupacks = 0;
	/*
	 * RFC 2018 §8 would forget every SACK here, in case the receiver
	 * reneged; that resends all it holds, which under heavy loss costs many
	 * round trips.  RFC 6675 §5.1 allows keeping the scoreboard where
	 * reneging is detected, as Linux does: a SACKed range starting at
	 * SND.UNA is data the receiver took back (it would have ACKed it
	 * otherwise), and a second timeout in a row starts from nothing anyway.
	 */
	if (pcb->nrtx > 1 || (pcb->nsacked > 0 && pcb->sacked[0].start == pcb->snd_una))
		tcp_sack_scoreboard_clear(pcb);
}
