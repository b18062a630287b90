/*
 * Fault injection: the dice (shared with the in-memory link) and a wrapper
 * that puts loss, duplication, reordering, corruption and delay between the
 * stack and any netif -- a DPDK port included.  The kernel here has no netem;
 * this is how a test impairs traffic between shunt and a kernel peer.
 *
 * The wrapper replaces the netif's ops with its own and calls the driver's
 * underneath.  Received frames are judged after the driver hands them over,
 * sent frames before the driver gets them; held-back frames wait in a queue
 * sorted by due time and are released from the poll loop's receive call,
 * which runs every round.  Corrupting what we send needs the checksums to be
 * computed first, so checksum and segmentation offloads are switched off
 * while sent frames may be corrupted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"
#include "priv/faults.h"

uint64_t
fault_rand(struct fault_dice *d)
{
	uint64_t x = d->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int
chance(struct fault_dice *d, uint32_t ppm)
{
	return ppm != 0 && fault_rand(d) % 1000000 < ppm;
}

void
fault_dice_init(struct fault_dice *d, const struct shunt_link_faults *f, uint64_t salt)
{
	memset(d, 0, sizeof(*d));
	d->f = *f;
	d->rng = ((f->seed ? f->seed : 0x9e3779b97f4a7c15ull) * 2 + 1) ^ (salt * 0xbf58476d1ce4e5b9ull);
	if (d->rng == 0)
		d->rng = 1;
}

void
fault_roll(struct fault_dice *d, uint64_t now, uint32_t len, struct fault_verdict *v)
{
	uint64_t due = now;

	memset(v, 0, sizeof(*v));
	d->st.sent++;
	if (chance(d, d->f.loss_ppm)) {
		v->drop = 1;
		d->st.lost++;
		return;
	}
	if (chance(d, d->f.corrupt_ppm) && len > 0) {
		v->corrupt = 1;
		v->corrupt_off = (uint32_t)(fault_rand(d) % len);
		v->corrupt_mask = (uint8_t)(1u << (fault_rand(d) % 8));
		d->st.corrupted++;
	}
	if (d->f.rate_bps != 0) {
		uint64_t start = d->wire_free_at > now ? d->wire_free_at : now;

		d->wire_free_at = start + (uint64_t)len * 8 * 1000000000ull / d->f.rate_bps;
		due = d->wire_free_at;
	}
	due += d->f.delay_ns;
	if (d->f.jitter_ns != 0)
		due += fault_rand(d) % d->f.jitter_ns;
	if (chance(d, d->f.reorder_ppm)) {
		due += d->f.reorder_delay_ns ? d->f.reorder_delay_ns : 1000000;
		d->st.reordered++;
	}
	v->due = due;
	if (chance(d, d->f.dup_ppm)) {
		v->dup = 1;
		d->st.duplicated++;
	}
}

/* ---- the wrapper ---- */

/* A held frame's due time lives in its scratch words. */
static inline uint64_t
due_of(const struct shunt_pbuf *p)
{
	uint64_t v;

	memcpy(&v, p->cb, sizeof(v));
	return v;
}

static inline void
set_due(struct shunt_pbuf *p, uint64_t v)
{
	memcpy(p->cb, &v, sizeof(v));
}

struct held {
	struct shunt_pbuf *head;
	uint32_t n;
};

struct fault_netif {
	const struct shunt_netif_ops *inner;
	struct shunt_netif_ops ops;
	struct fault_dice dice[2];	/* 0: received frames, 1: sent frames */
	int on[2];
	struct held held[2];
	uint32_t saved_caps;
};

static struct fault_netif *
fn_of(struct shunt_netif *nif)
{
	return nif->faults;
}

static void
hold(struct held *h, struct shunt_pbuf *p, uint64_t due)
{
	struct shunt_pbuf **pp = &h->head;

	set_due(p, due);
	while (*pp != NULL && due_of(*pp) <= due)
		pp = &(*pp)->qnext;
	p->qnext = *pp;
	*pp = p;
	h->n++;
}

static struct shunt_pbuf *
take_due(struct held *h, uint64_t now)
{
	struct shunt_pbuf *p = h->head;

	if (p == NULL || due_of(p) > now)
		return NULL;
	h->head = p->qnext;
	p->qnext = NULL;
	h->n--;
	return p;
}

static void
flip(struct shunt_pbuf *p, uint32_t off, uint8_t mask)
{
	for (; p != NULL; p = p->next) {
		if (off < p->len) {
			p->payload[off] ^= mask;
			return;
		}
		off -= p->len;
	}
}

/* Judges one frame in direction dir: returns it (maybe altered) for now, or NULL if lost or held. */
static struct shunt_pbuf *
judge(struct shunt_netif *nif, int dir, struct shunt_pbuf *p, struct shunt_pbuf **dup_out)
{
	struct fault_netif *fn = fn_of(nif);
	struct shunt_stack *s = nif->stack;
	struct fault_verdict v;

	*dup_out = NULL;
	fault_roll(&fn->dice[dir], s->now, p->tot_len, &v);
	if (v.drop) {
		shunt_pbuf_free(p);
		return NULL;
	}
	if (v.corrupt) {
		/* A frame we send may share bytes with retransmission buffers: damage a copy. */
		if (dir == 1 || p->refcnt > 1 || p->kind == SHUNT_PBUF_REF) {
			struct shunt_pbuf *c = shunt_pbuf_clone(s, p, SHUNT_PBUF_HEADROOM);

			if (c != NULL) {
				shunt_pbuf_free(p);
				p = c;
			}
		}
		flip(p, v.corrupt_off, v.corrupt_mask);
		p->ol_flags &= (uint8_t)~(SHUNT_PBUF_RX_IP4_OK | SHUNT_PBUF_RX_L4_OK);
	}
	if (v.dup) {
		*dup_out = shunt_pbuf_clone(s, p, SHUNT_PBUF_HEADROOM);
		if (*dup_out != NULL)
			(*dup_out)->ol_flags = p->ol_flags;
	}
	if (v.due > s->now) {
		hold(&fn->held[dir], p, v.due);
		if (*dup_out != NULL) {
			hold(&fn->held[dir], *dup_out, v.due);
			*dup_out = NULL;
		}
		return NULL;
	}
	return p;
}

static void
release_tx(struct shunt_netif *nif)
{
	struct fault_netif *fn = fn_of(nif);
	struct shunt_pbuf *batch[NETIF_TX_BATCH], *p;
	int n = 0;

	while ((p = take_due(&fn->held[1], nif->stack->now)) != NULL) {
		batch[n++] = p;
		if (n == NETIF_TX_BATCH) {
			fn->inner->tx_burst(nif, batch, n);
			n = 0;
		}
	}
	if (n > 0)
		fn->inner->tx_burst(nif, batch, n);
}

static int
fault_rx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max)
{
	struct fault_netif *fn = fn_of(nif);
	struct shunt_pbuf *fresh[NETIF_RX_BURST], *p, *d;
	int n = 0, k, i;

	if (fn->on[1])
		release_tx(nif);
	/* What was held back and is due now goes first: it is older. */
	while (n < max && (p = take_due(&fn->held[0], nif->stack->now)) != NULL)
		pkts[n++] = p;
	if (n == max)
		return n;
	k = fn->inner->rx_burst(nif, fresh, max - n < NETIF_RX_BURST ? max - n : NETIF_RX_BURST);
	for (i = 0; i < k; i++) {
		if (!fn->on[0]) {
			pkts[n++] = fresh[i];
			continue;
		}
		p = judge(nif, 0, fresh[i], &d);
		if (p != NULL) {
			if (n < max)
				pkts[n++] = p;
			else
				hold(&fn->held[0], p, nif->stack->now);
		}
		if (d != NULL) {
			if (n < max)
				pkts[n++] = d;
			else
				hold(&fn->held[0], d, nif->stack->now);
		}
	}
	return n;
}

static int
fault_tx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n)
{
	struct fault_netif *fn = fn_of(nif);
	struct shunt_pbuf *out[NETIF_TX_BATCH * 2], *p, *d;
	int i, m = 0;

	if (!fn->on[1])
		return fn->inner->tx_burst(nif, pkts, n);
	for (i = 0; i < n; i++) {
		p = judge(nif, 1, pkts[i], &d);
		if (p != NULL)
			out[m++] = p;
		if (d != NULL)
			out[m++] = d;
		if (m >= NETIF_TX_BATCH * 2 - 1) {
			fn->inner->tx_burst(nif, out, m);
			m = 0;
		}
	}
	if (m > 0)
		fn->inner->tx_burst(nif, out, m);
	return n;
}

static int
fault_link_up(struct shunt_netif *nif)
{
	struct fault_netif *fn = fn_of(nif);

	return fn->inner->link_up != NULL ? fn->inner->link_up(nif) : 1;
}

static void
held_free(struct held *h)
{
	struct shunt_pbuf *p;

	while ((p = h->head) != NULL) {
		h->head = p->qnext;
		p->qnext = NULL;
		shunt_pbuf_free(p);
	}
	h->n = 0;
}

/* Frames held back for later announce nothing: sleep by the clock while there are any. */
static int
fault_intr_arm(struct shunt_netif *nif)
{
	struct fault_netif *fn = fn_of(nif);

	if (fn->held[0].n > 0 || fn->held[1].n > 0)
		return -EBUSY;
	return fn->inner->rx_intr_arm(nif);
}

static void
fault_detach(struct shunt_netif *nif)
{
	struct fault_netif *fn = fn_of(nif);

	held_free(&fn->held[0]);
	held_free(&fn->held[1]);
	nif->ops = fn->inner;
	nif->caps = fn->saved_caps;
	nif->faults = NULL;
	free(fn);
}

static void
fault_destroy(struct shunt_netif *nif)
{
	struct fault_netif *fn = fn_of(nif);
	void (*inner_destroy)(struct shunt_netif *) = fn->inner->destroy;

	fault_detach(nif);
	if (inner_destroy != NULL)
		inner_destroy(nif);
}

int
shunt_netif_faults(struct shunt_netif *nif, int dir, const struct shunt_link_faults *f)
{
	struct fault_netif *fn = nif->faults;

	dir = dir != 0;
	if (f == NULL) {
		if (fn != NULL) {
			fn->on[dir] = 0;
			if (!fn->on[!dir])
				fault_detach(nif);
		}
		return 0;
	}
	if (fn == NULL) {
		fn = calloc(1, sizeof(*fn));
		if (fn == NULL)
			return -ENOMEM;
		fn->inner = nif->ops;
		fn->ops = *nif->ops;
		fn->ops.rx_burst = fault_rx;
		fn->ops.tx_burst = fault_tx;
		fn->ops.link_up = fault_link_up;
		fn->ops.destroy = fault_destroy;
		if (fn->inner->rx_intr_arm != NULL)
			fn->ops.rx_intr_arm = fault_intr_arm;
		fn->saved_caps = nif->caps;
		nif->faults = fn;
		nif->ops = &fn->ops;
	}
	fault_dice_init(&fn->dice[dir], f, (uint64_t)dir + 7);
	fn->on[dir] = 1;
	if (dir == 1 && f->corrupt_ppm != 0)
		nif->caps &= ~(SHUNT_NETIF_CAP_TX_IP4_CSUM | SHUNT_NETIF_CAP_TX_UDP_CSUM |
		    SHUNT_NETIF_CAP_TX_TCP_CSUM | SHUNT_NETIF_CAP_TSO);
	return 0;
}

void
shunt_netif_fault_stats(struct shunt_netif *nif, int dir, struct shunt_link_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (nif->faults != NULL)
		*st = nif->faults->dice[dir != 0].st;
}
