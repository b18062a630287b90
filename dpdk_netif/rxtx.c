/*
 * The DPDK driver's data path: mbufs in as pbufs, pbuf chains out as mbufs.
 * Below: rte_eth_rx_burst / rte_eth_tx_burst.  Above: shunt_stack_poll (rx)
 * and the netif transmit batch (tx), through the ops table of port.c.
 *
 * Receive does not copy: each mbuf segment becomes an EXT pbuf over the
 * mbuf's own buffer (headroom included, so that an ICMP echo reply is built
 * in the request's buffer), and freeing the pbuf frees that one segment.
 * Such a pbuf may live long -- in a socket's receive queue, or in a send
 * buffer when an application echoes it -- and while it does, its mbuf is
 * out of the port's pool.  Once three quarters of the pool are out, frames
 * are copied into the stack's own buffers and their mbufs go back at once:
 * otherwise connections that hold data could empty the pool, and the port
 * could receive nothing more -- not even the ACKs that would let them go.
 *
 * Transmit copies only small frames and the header pbuf.  Payload pbufs --
 * which the stack may keep for retransmission -- are attached to data-less
 * "shell" mbufs as external buffers, each holding a pbuf reference that the
 * shell's free callback drops.  A payload pbuf that is a received mbuf owned
 * by nobody else goes out as that very mbuf.
 *
 * Locking: every pbuf operation here (wrapping, referencing, freeing) must
 * run under the stack's lock.  It does: rx_burst and tx_burst are called from
 * shunt_stack_poll or an API call into the stack, and the PMDs free sent
 * mbufs -- which runs our callbacks -- only inside rte_eth_tx_burst or when
 * the port is stopped or closed (dpdk_destroy_op, from shunt_netif_remove),
 * all of which happen under that same lock.
 */
#include <errno.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_pause.h>
#include "dpdk_priv.h"

#define RX_BURST_MAX	64
#define TX_BURST_MAX	64
#define TX_COPY_MAX	256	/* frames up to this size are copied whole */
#define TX_ATTACH_MIN	128	/* shorter payload pieces are copied, not attached */

static void backlog_flush(struct dpdk_port *dp);

/* Free function of a received segment's pbuf. */
static void
rx_seg_free(void *a, void *b)
{
	(void)b;
	rte_pktmbuf_free_seg(a);
}

static inline uint8_t
rx_flags(const struct dpdk_port *dp, uint64_t ol)
{
	uint8_t f = 0;
	uint64_t ip = ol & RTE_MBUF_F_RX_IP_CKSUM_MASK, l4 = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (dp->trust_csum)
		return SHUNT_PBUF_RX_IP4_OK | SHUNT_PBUF_RX_L4_OK;
	if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= SHUNT_PBUF_RX_IP4_OK;
	/* NONE: the sum field is not filled in but the data is known good (a virtual link). */
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		f |= SHUNT_PBUF_RX_L4_OK;
	return f;
}

/* One received mbuf (chain) as a pbuf chain, one pbuf per segment; NULL if dropped. */
static struct shunt_pbuf *
rx_wrap(struct dpdk_port *dp, struct rte_mbuf *m)
{
	struct shunt_pbuf *head = NULL, *tail = NULL, *p;
	struct rte_mbuf *seg, *next;
	uint64_t ol = m->ol_flags;
	uint32_t left = 0;
	uint16_t n = 0;

	for (seg = m; seg != NULL && n < m->nb_segs; seg = seg->next, n++)
		left += seg->data_len;
	if (left == 0) {
		dp->st.rx_drop_empty++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (seg = m; seg != NULL && left > 0; seg = next) {
		next = seg->next;
		if (seg->data_len == 0) {
			seg->next = NULL;
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		p = shunt_pbuf_alloc_ext(dp->stack, rte_pktmbuf_mtod(seg, void *), seg->data_len,
		    rx_seg_free, seg, NULL);
		if (p == NULL) {
			dp->st.rx_drop_nopbuf++;
			if (head != NULL)
				shunt_pbuf_free(head);
			rte_pktmbuf_free(seg);	/* and the segments still linked behind it */
			return NULL;
		}
		/* Each segment now lives and dies with its own pbuf. */
		seg->next = NULL;
		seg->nb_segs = 1;
		/* The whole mbuf buffer, so headers can be prepended into its headroom. */
		p->buf = seg->buf_addr;
		p->buf_len = seg->buf_len;
		p->tot_len = left;
		left -= seg->data_len;
		if (tail == NULL)
			head = p;
		else
			tail->next = p;
		tail = p;
	}
	if (seg != NULL)
		rte_pktmbuf_free(seg);	/* segments beyond nb_segs: a PMD bug, but not our leak */
	head->ol_flags = rx_flags(dp, ol);
	return head;
}

/* One received mbuf (chain) copied into a fresh pbuf chain of the stack's pool; the mbuf is freed. */
static struct shunt_pbuf *
rx_copy(struct dpdk_port *dp, struct rte_mbuf *m)
{
	struct shunt_pbuf *p;
	struct rte_mbuf *seg;
	uint32_t off = 0;
	uint16_t n = 0;

	if (m->pkt_len == 0) {
		dp->st.rx_drop_empty++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	p = shunt_pbuf_alloc(dp->stack, SHUNT_PBUF_HEADROOM, m->pkt_len);
	if (p == NULL) {
		dp->st.rx_drop_nopbuf++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (seg = m; seg != NULL && n < m->nb_segs && off < m->pkt_len; seg = seg->next, n++)
		off += shunt_pbuf_copy_in(p, off, rte_pktmbuf_mtod(seg, void *), seg->data_len);
	if (off < p->tot_len)
		shunt_pbuf_trim(p, off);	/* segment lengths short of pkt_len: a PMD bug */
	p->ol_flags = rx_flags(dp, m->ol_flags);
	rte_pktmbuf_free(m);
	dp->st.rx_copied++;
	return p;
}

int
dpdk_rx_burst(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);
	struct rte_mbuf *mb[RX_BURST_MAX];
	uint16_t n, i;
	int k = 0, copy;

	if (unlikely(dp->bl_count > 0))
		backlog_flush(dp);
	if (max > RX_BURST_MAX)
		max = RX_BURST_MAX;
	n = rte_eth_rx_burst(dp->port_id, dp->queue, mb, (uint16_t)max);
	if (n == 0)
		return 0;
	/* Counting the free mbufs walks the per-lcore caches: once per burst, not per frame. */
	copy = rte_mempool_avail_count(dp->pool) < dp->rx_copy_below;
	for (i = 0; i < n; i++) {
		struct shunt_pbuf *p = copy ? rx_copy(dp, mb[i]) : rx_wrap(dp, mb[i]);

		if (p != NULL)
			pkts[k++] = p;
	}
	dp->st.rx_frames += (uint64_t)k;
	return k;
}

/* A chain under construction. */
struct txb {
	struct rte_mbuf *head, *tail;
	uint16_t nsegs;
	int tail_copy;		/* the tail is our own copy mbuf: more bytes may be appended */
};

static inline void
txb_link(struct txb *b, struct rte_mbuf *m, int is_copy)
{
	if (b->tail == NULL)
		b->head = m;
	else
		b->tail->next = m;
	b->tail = m;
	b->nsegs++;
	b->tail_copy = is_copy;
	if (b->head != m)
		b->head->pkt_len += m->data_len;
}

/* Copies len bytes to the end of the chain, into fresh pool mbufs as needed. */
static int
txb_copy(struct dpdk_port *dp, struct txb *b, const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		struct rte_mbuf *m;
		uint32_t room, n;

		if (b->tail_copy && rte_pktmbuf_tailroom(b->tail) > 0) {
			m = b->tail;
		} else {
			m = rte_pktmbuf_alloc(dp->pool);
			if (m == NULL)
				return -ENOBUFS;
			txb_link(b, m, 1);
		}
		room = rte_pktmbuf_tailroom(m);
		n = len < room ? len : room;
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), data, n);
		m->data_len = (uint16_t)(m->data_len + n);
		if (m == b->head)
			m->pkt_len += n;
		else
			b->head->pkt_len += n;
		data += n;
		len -= n;
	}
	return 0;
}

static int
pbuf_is_rx_seg(const struct shunt_pbuf *q)
{
	return q->kind == SHUNT_PBUF_EXT && q->u.ext.fn == rx_seg_free;
}

/*
 * A received segment's pbuf that nobody else can reach: send its mbuf as is.
 * The pbuf keeps only its header, which goes back to the pool when the chain
 * is freed; the mbuf is the NIC's to free.
 */
static struct rte_mbuf *
tx_steal(struct shunt_pbuf *q)
{
	struct rte_mbuf *m = q->u.ext.a;
	uint16_t off = (uint16_t)(q->payload - (uint8_t *)m->buf_addr);

	q->u.ext.fn = NULL;
	rte_pktmbuf_reset(m);
	m->data_off = off;
	m->data_len = q->len;
	m->pkt_len = q->len;
	return m;
}

/* The NIC is done with a pbuf's bytes that a shell mbuf carried: drop our reference. */
static void
tx_ext_free(void *addr, void *opaque)
{
	(void)addr;
	shunt_pbuf_free(opaque);
}

static struct rte_mbuf *
tx_attach(struct dpdk_port *dp, struct shunt_pbuf *q)
{
	struct rte_mbuf_ext_shared_info *shinfo;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->shells);

	if (m == NULL)
		return NULL;
	shinfo = rte_mbuf_to_priv(m);
	shinfo->free_cb = tx_ext_free;
	shinfo->fcb_opaque = q;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	shunt_pbuf_ref(q);
	/* IOVA is VA here (dp->zero_copy requires it): the address is the IO address. */
	rte_pktmbuf_attach_extbuf(m, q->payload, (rte_iova_t)(uintptr_t)q->payload, q->len, shinfo);
	m->data_len = q->len;
	m->pkt_len = q->len;
	return m;
}

/* Sets the head mbuf's offload requests from the head pbuf's; -EINVAL if the port cannot do them. */
static int
tx_offload(struct dpdk_port *dp, struct rte_mbuf *m, const struct shunt_pbuf *p)
{
	uint64_t ol = 0, need = 0;

	/* A trusted wire: the sums the stack left out stay out (the peer does not look). */
	if (dp->trust_csum && !(p->ol_flags & SHUNT_PBUF_TX_TSO))
		return 0;
	if (p->ol_flags & SHUNT_PBUF_TX_IP4_CSUM) {
		ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		need |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	}
	if (p->ol_flags & SHUNT_PBUF_TX_TSO) {
		/* TCP_SEG implies the TCP checksum; the stack left the pseudo-header sum in it. */
		ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG;
		need |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		m->tso_segsz = p->tso_mss;
	} else if (p->ol_flags & SHUNT_PBUF_TX_L4_CSUM) {
		if (p->ol_flags & SHUNT_PBUF_TX_UDP) {
			ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
			need |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		} else {
			ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
			need |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		}
	}
	if (ol == 0)
		return 0;
	/* The stack asks only for what the caps offered; anything else would leave a bad sum on the wire. */
	if ((need & dp->tx_offloads) != need)
		return -EINVAL;
	m->l2_len = p->l2_len;
	m->l3_len = p->l3_len;
	m->l4_len = p->l4_len;
	m->ol_flags |= ol;
	return 0;
}

/*
 * The ones'-complement sum of len bytes of a chain from byte off on,
 * folded to 16 bits.  Each segment's sum is folded before a segment that
 * starts at an odd offset has its bytes swapped (rte_raw_cksum_mbuf of
 * DPDK 22.11 swaps the unfolded sum and loses its carries).
 */
static uint16_t
chain_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint32_t sum = 0, done = 0;

	for (; m != NULL && done < len; m = m->next) {
		uint32_t n = m->data_len, part;

		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > len - done)
			n = len - done;
		part = __rte_raw_cksum_reduce(__rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const char *, off), n, 0));
		if (done & 1)
			part = rte_bswap16((uint16_t)part);
		sum += part;
		done += n;
		off = 0;
	}
	return __rte_raw_cksum_reduce(sum);
}

/*
 * For PMDs whose software L4 checksum goes wrong on odd-length segments
 * (net_tap, see port.c): when a segment other than the last carries an odd
 * number of L4 bytes, fill the TCP/UDP checksum here -- the field holds the
 * pseudo-header sum the stack preset -- and take the request off the mbuf.
 * Only the head mbuf, our own copy of the headers, is written.
 */
static void
tx_fix_l4_csum(struct rte_mbuf *m)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint32_t hl = (uint32_t)m->l2_len + m->l3_len, first;
	const struct rte_mbuf *seg;
	uint16_t *field, sum;
	int odd = 0;

	if ((l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM) || m->nb_segs < 2 ||
	    (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) || !RTE_MBUF_DIRECT(m) ||
	    m->data_len < hl + m->l4_len)
		return;
	/* The PMD sums the head's bytes after the L4 header, then each further segment. */
	first = m->data_len - hl - m->l4_len;
	if ((first & 1) && first != 0)
		odd = 1;
	for (seg = m->next; seg != NULL && seg->next != NULL && !odd; seg = seg->next)
		if (seg->data_len & 1)
			odd = 1;
	if (!odd)
		return;
	field = rte_pktmbuf_mtod_offset(m, uint16_t *, hl + (l4 == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6));
	sum = (uint16_t)~chain_sum(m, hl, m->pkt_len - hl);
	if (sum == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		sum = 0xffff;	/* RFC 768: zero means no checksum */
	*field = sum;
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
}

/* Upper bound on the segments a zero-copy build of p would use. */
static uint32_t
tx_seg_estimate(const struct dpdk_port *dp, const struct shunt_pbuf *p)
{
	uint32_t n = 0;

	for (; p != NULL; p = p->next)
		if (p->len > 0)
			n += 1 + p->len / dp->mbuf_room;
	return n;
}

/*
 * Builds the mbuf chain for one frame.  Consumes nothing: the caller frees p
 * afterwards, and whatever the chain still needs holds its own reference (a
 * shell's pbuf reference) or has left the pbuf (a stolen mbuf).
 */
static struct rte_mbuf *
tx_build(struct dpdk_port *dp, struct shunt_pbuf *p)
{
	struct txb b = { NULL, NULL, 0, 0 };
	struct shunt_pbuf *q;
	uint16_t max = (p->ol_flags & SHUNT_PBUF_TX_TSO) ? dp->max_segs_tso : dp->max_segs;
	int linear, exclusive = 1, err = 0;

	if (p->tot_len == 0 || (!dp->multiseg && p->tot_len > dp->mbuf_room)) {
		dp->st.tx_drop_bad++;
		return NULL;
	}
	linear = p->tot_len <= TX_COPY_MAX || !dp->multiseg || tx_seg_estimate(dp, p) > max;
	for (q = p; q != NULL && err == 0; q = q->next) {
		struct rte_mbuf *m = NULL;

		/* A pbuf is ours alone only if it and all before it have no other holder. */
		if (q->refcnt != 1)
			exclusive = 0;
		if (q->len == 0)
			continue;
		if (!linear && exclusive && pbuf_is_rx_seg(q) && RTE_MBUF_DIRECT((struct rte_mbuf *)q->u.ext.a) &&
		    rte_mbuf_refcnt_read((struct rte_mbuf *)q->u.ext.a) == 1) {
			m = tx_steal(q);
		} else if (!linear && dp->zero_copy && q != p && q->len >= TX_ATTACH_MIN) {
			m = tx_attach(dp, q);
			if (m == NULL)
				err = -ENOBUFS;
		} else {
			err = txb_copy(dp, &b, q->payload, q->len);
			continue;
		}
		if (m != NULL) {
			txb_link(&b, m, 0);
			dp->st.tx_zc_segs++;
		}
	}
	if (err == 0 && b.nsegs > max)
		err = -EMSGSIZE;
	if (err == 0 && (b.head == NULL || b.head->pkt_len != p->tot_len))
		err = -EINVAL;	/* a chain whose lengths disagree: never put it on the wire */
	if (err == 0)
		err = tx_offload(dp, b.head, p);
	if (err != 0) {
		if (b.head != NULL)
			rte_pktmbuf_free(b.head);
		if (err == -ENOBUFS)
			dp->st.tx_drop_nombuf++;
		else
			dp->st.tx_drop_bad++;
		return NULL;
	}
	b.head->nb_segs = b.nsegs;
	if (dp->l4_csum_odd_segs_broken)
		tx_fix_l4_csum(b.head);
	if (linear)
		dp->st.tx_copied++;
	return b.head;
}

/* Drops mbufs the PMD refuses to prepare (malformed offload requests); returns how many are left. */
static uint16_t
tx_prepare(struct dpdk_port *dp, struct rte_mbuf **mb, uint16_t nb)
{
	uint16_t done = 0;

	while (done < nb) {
		uint16_t k = rte_eth_tx_prepare(dp->port_id, dp->queue, mb + done, (uint16_t)(nb - done));

		done = (uint16_t)(done + k);
		if (done < nb) {
			rte_pktmbuf_free(mb[done]);
			dp->st.tx_drop_bad++;
			memmove(mb + done, mb + done + 1, (size_t)(nb - done - 1) * sizeof(*mb));
			nb--;
		}
	}
	return nb;
}

/*
 * The transmit backlog.  A ring that is full now drains as the device (or a
 * memif peer) catches up; dropping what it cannot take would turn a moment
 * of congestion into losses that TCP pays for with retransmissions, and a
 * burst of small segments into a timeout.  So what the ring refuses waits
 * here, in order, and goes first at the next transmit or receive poll.  Only
 * a full backlog drops (the new frames: the old ones are closer to done), as
 * does a dead link; a frame that stays first for TX_STALL_MS -- a PMD that
 * refuses that very packet -- is dropped so the rest can go.
 */
#define TX_STALL_MS	10

/*
 * Back-pressure: with this many frames waiting behind a full ring, TCP holds
 * new data in its send buffers (shunt_netif_tx_pressure) until the backlog
 * is down to BL_LOW: a sender faster than the wire then loses nothing here.
 */
#define BL_HIGH		256
#define BL_LOW		64

static void
backlog_pressure(struct dpdk_port *dp)
{
	int on = dp->pressured ? dp->bl_count > BL_LOW : dp->bl_count >= BL_HIGH;

	if (on != dp->pressured && dp->nif != NULL) {
		dp->pressured = on;
		shunt_netif_tx_pressure(dp->nif, on);
	}
}

static void
backlog_drop_all(struct dpdk_port *dp, uint64_t *counter)
{
	while (dp->bl_count > 0) {
		rte_pktmbuf_free(dp->backlog[dp->bl_head]);
		dp->bl_head = (uint16_t)((dp->bl_head + 1) & (DPDK_TX_BACKLOG - 1));
		dp->bl_count--;
		(*counter)++;
	}
	dp->bl_stall_since = 0;
	backlog_pressure(dp);
}

void
dpdk_tx_backlog_drop(struct dpdk_port *dp)
{
	backlog_drop_all(dp, &dp->st.tx_drop_link);
}

static void
backlog_flush(struct dpdk_port *dp)
{
	uint32_t sent = 0;
	uint64_t now;

	while (dp->bl_count > 0) {
		uint16_t n = dp->bl_count, room = (uint16_t)(DPDK_TX_BACKLOG - dp->bl_head), k;

		if (n > room)
			n = room;
		k = rte_eth_tx_burst(dp->port_id, dp->queue, &dp->backlog[dp->bl_head], n);
		dp->bl_head = (uint16_t)((dp->bl_head + k) & (DPDK_TX_BACKLOG - 1));
		dp->bl_count = (uint16_t)(dp->bl_count - k);
		sent += k;
		if (k < n)
			break;
	}
	dp->st.tx_frames += sent;
	backlog_pressure(dp);
	if (sent > 0 || dp->bl_count == 0) {
		dp->bl_stall_since = 0;
		return;
	}
	if (!dpdk_link_is_up(dp)) {
		backlog_drop_all(dp, &dp->st.tx_drop_link);
		return;
	}
	now = rte_get_timer_cycles();
	if (dp->bl_stall_since == 0) {
		dp->bl_stall_since = now;
	} else if (now - dp->bl_stall_since > rte_get_timer_hz() / 1000 * TX_STALL_MS) {
		rte_pktmbuf_free(dp->backlog[dp->bl_head]);
		dp->bl_head = (uint16_t)((dp->bl_head + 1) & (DPDK_TX_BACKLOG - 1));
		dp->bl_count--;
		dp->st.tx_drop_full++;
		dp->bl_stall_since = now;
	}
}

/* Frames the ring did not take go behind the backlog; returns how many it could hold. */
static uint16_t
backlog_add(struct dpdk_port *dp, struct rte_mbuf **mb, uint16_t n)
{
	uint16_t i, held = 0;

	for (i = 0; i < n; i++) {
		if (dp->bl_count == DPDK_TX_BACKLOG) {
			rte_pktmbuf_free(mb[i]);
			dp->st.tx_drop_full++;
			continue;
		}
		dp->backlog[(dp->bl_head + dp->bl_count) & (DPDK_TX_BACKLOG - 1)] = mb[i];
		dp->bl_count++;
		held++;
	}
	dp->st.tx_deferred += held;
	backlog_pressure(dp);
	return held;
}

static int
tx_chunk(struct dpdk_port *dp, struct shunt_pbuf **pkts, int n)
{
	struct rte_mbuf *mb[TX_BURST_MAX];
	uint16_t nb = 0, next = 0, k;
	int i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = tx_build(dp, pkts[i]);

		shunt_pbuf_free(pkts[i]);
		if (m != NULL)
			mb[nb++] = m;
	}
	if (nb > 0 && dp->need_prepare)
		nb = tx_prepare(dp, mb, nb);
	if (nb == 0)
		return 0;
	/* Nothing may overtake the backlog. */
	if (dp->bl_count > 0)
		backlog_flush(dp);
	if (dp->bl_count == 0) {
		do {
			k = rte_eth_tx_burst(dp->port_id, dp->queue, mb + next, (uint16_t)(nb - next));
			next = (uint16_t)(next + k);
		} while (k > 0 && next < nb);
		dp->st.tx_frames += next;
		if (next == 0 && !dpdk_link_is_up(dp)) {
			/* Nobody to send to (a memif peer not connected yet): no point waiting. */
			dp->st.tx_drop_link += nb;
			for (k = 0; k < nb; k++)
				rte_pktmbuf_free(mb[k]);
			return 0;
		}
	}
	if (next < nb)
		return next + backlog_add(dp, mb + next, (uint16_t)(nb - next));
	return nb;
}

int
dpdk_tx_burst(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);
	int i, sent = 0;

	for (i = 0; i < n; i += TX_BURST_MAX)
		sent += tx_chunk(dp, pkts + i, n - i < TX_BURST_MAX ? n - i : TX_BURST_MAX);
	return sent;
}
