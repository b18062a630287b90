/*
 * Out-of-order segments (RFC 9293 §3.10.7.4, "seventh, process the segment
 * text"), kept until the hole before them fills.  Called by tcp_input.c.
 *
 * Segments are kept sorted and non-overlapping: a new segment is trimmed to
 * the bytes nobody holds yet (the first copy of a byte wins; a later, different
 * copy of the same bytes changes nothing).  Memory is bounded per connection
 * (by the receive window, which input enforces) and per stack
 * (tcp_ooo_max_bytes); past the bound new out-of-order data is dropped and
 * counted, and the sender retransmits it later.
 */
#include <errno.h>
#include "priv/stack.h"
#include "priv/tcp.h"

#define SEG_SEQ(p)	((p)->cb[0])
#define SEG_LEN(p)	((p)->cb[1])
#define SEG_FIN(p)	((p)->cb[2])
#define SEG_MEM(p)	((p)->cb[3])	/* memory charged for it */

/* What a queued segment costs: the buffers it pins, whatever part of them it uses. */
static uint32_t
truesize(const struct shunt_pbuf *p)
{
	uint32_t n = 0;

	for (; p != NULL; p = p->next)
		n += p->kind == SHUNT_PBUF_REF ? p->len : p->buf_len;
	return n;
}

static void
seg_free(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *q)
{
	pcb->ooo_bytes -= SEG_MEM(q);
	pcb->stack->tcp->ooo_bytes -= SEG_MEM(q);
	q->qnext = NULL;
	shunt_pbuf_free(q);
}

int
tcp_reass_insert(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, uint32_t seq, uint32_t len, int fin)
{
	struct shunt_stack *s = pcb->stack;
	struct shunt_pbuf **pp, *q;
	uint32_t end = seq + len, mem;

	/* Skip segments wholly before us; trim our front against the one that overlaps it. */
	for (pp = &pcb->ooo; (q = *pp) != NULL && seq_leq(SEG_SEQ(q) + SEG_LEN(q), seq); pp = &q->qnext)
		;
	if (q != NULL && seq_lt(SEG_SEQ(q), seq)) {
		uint32_t qend = SEG_SEQ(q) + SEG_LEN(q);

		if (seq_geq(qend, end) && !(fin && !SEG_FIN(q) && qend == end)) {
			pcb->dup_segs_in++;
			STAT_INC(s, tcp_dup_rx);
			shunt_pbuf_free(p);
			return 0;	/* nothing new */
		}
		p = pbuf_drop_front(p, qend - seq);
		len -= qend - seq;
		seq = qend;
		pp = &q->qnext;
	}
	/* Segments we cover entirely go; a later one that we overlap trims our tail. */
	while ((q = *pp) != NULL && seq_leq(SEG_SEQ(q), end)) {
		uint32_t qend = SEG_SEQ(q) + SEG_LEN(q);

		if (seq_leq(qend, end) && !(SEG_FIN(q) && qend == end && !fin)) {
			*pp = q->qnext;
			seg_free(pcb, q);
			continue;
		}
		if (seq_lt(SEG_SEQ(q), end)) {
			len = SEG_SEQ(q) - seq;
			end = SEG_SEQ(q);
			fin = 0;
		}
		break;
	}
	if (len == 0 && !fin) {
		if (p != NULL)
			shunt_pbuf_free(p);
		return 0;
	}
	if (p != NULL && p->tot_len > len)
		shunt_pbuf_trim(p, len);
	if (p == NULL) {
		/* A bare FIN out of order. */
		p = shunt_pbuf_alloc(s, 0, 0);
		if (p == NULL)
			return -ENOMEM;
	}
	/*
	 * The per-connection bound is twice the receive buffer: room for a full
	 * window of MSS-sized segments in pool buffers (Linux sizes rcvbuf the
	 * same way against truesize).
	 */
	mem = truesize(p);
	if (s->tcp->ooo_bytes + mem > s->cfg.tcp_ooo_max_bytes || pcb->ooo_bytes + mem > 2 * pcb->rcv_buf) {
		STAT_INC(s, tcp_drop_ooo_memory);
		shunt_pbuf_free(p);
		return -ENOMEM;
	}
	SEG_SEQ(p) = seq;
	SEG_LEN(p) = len;
	SEG_FIN(p) = (uint32_t)fin;
	SEG_MEM(p) = mem;
	p->qnext = *pp;
	*pp = p;
	pcb->ooo_bytes += mem;
	s->tcp->ooo_bytes += mem;
	return 0;
}

struct shunt_pbuf *
tcp_reass_pull(struct shunt_tcp_pcb *pcb, int *fin)
{
	struct shunt_pbuf *out = NULL, *q;

	*fin = 0;
	while ((q = pcb->ooo) != NULL && seq_leq(SEG_SEQ(q), pcb->rcv_nxt)) {
		uint32_t qend = SEG_SEQ(q) + SEG_LEN(q);
		int qfin = (int)SEG_FIN(q);

		pcb->ooo = q->qnext;
		if (seq_lt(qend, pcb->rcv_nxt) || (qend == pcb->rcv_nxt && !qfin)) {
			seg_free(pcb, q);	/* already delivered */
			continue;
		}
		pcb->ooo_bytes -= SEG_MEM(q);
		pcb->stack->tcp->ooo_bytes -= SEG_MEM(q);
		q->qnext = NULL;
		q = pbuf_drop_front(q, pcb->rcv_nxt - SEG_SEQ(q));
		pcb->rcv_nxt = qend;
		if (q != NULL && q->tot_len > 0) {
			if (out == NULL)
				out = q;
			else
				shunt_pbuf_cat(out, q);
		} else if (q != NULL) {
			shunt_pbuf_free(q);
		}
		if (qfin) {
			*fin = 1;
			break;
		}
	}
	return out;
}

void
tcp_reass_flush(struct shunt_tcp_pcb *pcb)
{
	struct shunt_pbuf *q;

	while ((q = pcb->ooo) != NULL) {
		pcb->ooo = q->qnext;
		seg_free(pcb, q);
	}
}
