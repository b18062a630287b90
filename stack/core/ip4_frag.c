/*
 * IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2; the overlap policy of
 * RFC 5722, written for IPv6, applied to IPv4 as Linux does since 2018).
 * Called by ip4_input() for every fragment.
 *
 * Fragments of one datagram are kept sorted by offset.  Any overlap that is
 * not an exact duplicate discards the whole datagram: conflicting overlaps are
 * an attack (teardrop, policy evasion), never a feature.  Memory is charged per
 * fragment by the buffers it pins (a whole NIC buffer for 8 bytes of data) plus
 * a fixed overhead, so that floods of tiny fragments hit the bound as surely as
 * large ones and can never drain the receive pool; when the bound is exceeded
 * the oldest datagrams go first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"
#include "wire/ip4.h"
#include "wire/icmp4.h"

#define FRAG_OVERHEAD	256	/* charge per fragment on top of its bytes */
#define ENTRY_CHARGE	128

/* Per-fragment scratch in pbuf->cb */
#define F_OFF(p)	((p)->cb[0])
#define F_END(p)	((p)->cb[1])
#define F_HLEN(p)	((p)->cb[2])

struct reass_entry {
	struct reass_entry *older, *newer;
	struct reass_entry *hnext;
	struct shunt_stack *stack;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	struct shunt_pbuf *frags;	/* sorted by offset, linked by qnext */
	uint32_t total;			/* datagram payload length, 0 until the last fragment */
	uint32_t have;			/* payload bytes held */
	uint32_t charge;
	struct shunt_timer timer;
};

static void reass_timeout(struct shunt_stack *s, struct shunt_timer *t);

static inline unsigned
reass_hash(uint32_t src, uint32_t dst, uint16_t id)
{
	return (unsigned)(((src ^ dst ^ id) * 2654435761u) >> 24) & (REASS_HASH - 1);
}

int
ip4_reass_init(struct shunt_stack *s)
{
	memset(&s->reass, 0, sizeof(s->reass));
	return 0;
}

static void
entry_free(struct shunt_stack *s, struct reass_entry *e)
{
	struct ip4_reass *r = &s->reass;
	struct reass_entry **pp = &r->hash[reass_hash(e->src, e->dst, e->id)];
	struct shunt_pbuf *p, *n;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		r->head = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		r->tail = e->older;
	for (p = e->frags; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		shunt_pbuf_free(p);
	}
	timer_cancel(s, &e->timer);
	r->bytes -= e->charge;
	r->count--;
	free(e);
}

void
ip4_reass_fini(struct shunt_stack *s)
{
	while (s->reass.head != NULL)
		entry_free(s, s->reass.head);
}

static struct reass_entry *
entry_find(struct shunt_stack *s, const struct ip4_hdr *h)
{
	struct reass_entry *e;

	for (e = s->reass.hash[reass_hash(h->src, h->dst, h->id)]; e != NULL; e = e->hnext)
		if (e->id == h->id && e->src == h->src && e->dst == h->dst && e->proto == h->proto)
			return e;
	return NULL;
}

static struct reass_entry *
entry_new(struct shunt_stack *s, const struct ip4_hdr *h)
{
	struct ip4_reass *r = &s->reass;
	struct reass_entry *e = calloc(1, sizeof(*e));
	unsigned hv = reass_hash(h->src, h->dst, h->id);

	if (e == NULL)
		return NULL;
	e->hnext = r->hash[hv];
	r->hash[hv] = e;
	e->stack = s;
	e->src = h->src;
	e->dst = h->dst;
	e->id = h->id;
	e->proto = h->proto;
	e->charge = ENTRY_CHARGE;
	timer_init(&e->timer, reass_timeout);
	timer_arm(s, &e->timer, (uint64_t)s->cfg.reass_timeout_ms * 1000000ull);
	e->older = r->tail;
	if (r->tail != NULL)
		r->tail->newer = e;
	else
		r->head = e;
	r->tail = e;
	r->bytes += e->charge;
	r->count++;
	return e;
}

static void
reass_timeout(struct shunt_stack *s, struct shunt_timer *t)
{
	struct reass_entry *e = (struct reass_entry *)((char *)t - offsetof(struct reass_entry, timer));
	struct shunt_pbuf *first = e->frags;

	STAT_INC(s, ip_frag_drop_timeout);
	/* RFC 1122 §3.3.2: with the first fragment in hand, tell the sender. */
	if (first != NULL && F_OFF(first) == 0) {
		struct ip4_rx rx;

		memset(&rx, 0, sizeof(rx));
		rx.src = e->src;
		rx.dst = e->dst;
		rx.proto = e->proto;
		rx.hlen = (uint8_t)F_HLEN(first);
		rx.len = (uint16_t)(first->tot_len - F_HLEN(first));
		if (shunt_pbuf_header(first, -(int)F_HLEN(first)) == 0) {
			icmp_send_error(s, first, &rx, ICMP4_TIME_EXCEEDED, 1);
			shunt_pbuf_header(first, (int)F_HLEN(first));
		}
	}
	entry_free(s, e);
}

/* Joins the fragments into one packet whose head is the first fragment, IP header and all. */
static struct shunt_pbuf *
entry_complete(struct shunt_stack *s, struct reass_entry *e, struct ip4_hdr *h)
{
	struct shunt_pbuf *first = e->frags, *p, *n;
	uint32_t hlen = F_HLEN(first);

	e->frags = NULL;
	for (p = first->qnext; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		shunt_pbuf_header(p, -(int)F_HLEN(p));
		shunt_pbuf_cat(first, p);
	}
	first->qnext = NULL;
	h->hlen = (uint8_t)hlen;
	h->tot_len = (uint16_t)(hlen + e->total);
	h->frag = 0;
	/* The header bytes must agree with the struct for anyone who reads them (ICMP quoting). */
	first->payload[6] = 0;
	first->payload[7] = 0;
	first->payload[2] = (uint8_t)(h->tot_len >> 8);
	first->payload[3] = (uint8_t)h->tot_len;
	STAT_INC(s, ip_frag_reassembled);
	entry_free(s, e);
	return first;
}

struct shunt_pbuf *
ip4_reass(struct shunt_stack *s, struct shunt_pbuf *p, struct ip4_hdr *h)
{
	struct ip4_reass *r = &s->reass;
	uint32_t off = ip4_frag_off(h);
	uint32_t len = (uint32_t)h->tot_len - h->hlen;
	uint32_t end = off + len;
	int more = (h->frag & IP4_FLAG_MF) != 0;
	struct shunt_pbuf **pp, *prev = NULL;
	struct reass_entry *e;
	uint32_t mem;

	if (len == 0 || (more && (len & 7) != 0)) {
		STAT_INC(s, ip_frag_drop_bad);
		goto drop;
	}
	e = entry_find(s, h);
	if (end + h->hlen > 65535) {
		/* Ping of death: the pieces add up to more than a datagram can hold. */
		STAT_INC(s, ip_frag_drop_oversize);
		if (e != NULL)
			entry_free(s, e);
		goto drop;
	}
	if (e == NULL) {
		e = entry_new(s, h);
		if (e == NULL) {
			STAT_INC(s, ip_frag_drop_memory);
			goto drop;
		}
	}
	if (!more) {
		if (e->total != 0 && e->total != end) {
			STAT_INC(s, ip_frag_drop_bad);
			goto kill;
		}
		/* No fragment may lie past the end the last one declares. */
		for (prev = e->frags; prev != NULL; prev = prev->qnext)
			if (F_END(prev) > end)
				break;
		if (prev != NULL) {
			STAT_INC(s, ip_frag_drop_bad);
			goto kill;
		}
		e->total = end;
	} else if (e->total != 0 && end > e->total) {
		STAT_INC(s, ip_frag_drop_bad);
		goto kill;
	}
	/* Find the place by offset; refuse overlaps. */
	prev = NULL;
	for (pp = &e->frags; *pp != NULL && F_OFF(*pp) < off; pp = &(*pp)->qnext)
		prev = *pp;
	if ((*pp != NULL && F_OFF(*pp) == off && F_END(*pp) == end)) {
		/* An exact duplicate (a retransmission or a duplicating link): harmless. */
		goto drop;
	}
	if ((prev != NULL && F_END(prev) > off) || (*pp != NULL && F_OFF(*pp) < end)) {
		STAT_INC(s, ip_frag_drop_overlap);
		goto kill;
	}
	F_OFF(p) = off;
	F_END(p) = end;
	F_HLEN(p) = h->hlen;
	p->qnext = *pp;
	*pp = p;
	e->have += len;
	mem = pbuf_truesize(p) + FRAG_OVERHEAD;
	e->charge += mem;
	r->bytes += mem;
	if (e->total != 0 && e->have == e->total)
		return entry_complete(s, e, h);
	/* Over the memory bound: the oldest datagrams give way (possibly this one). */
	while (r->bytes > s->cfg.reass_max_bytes && r->head != NULL) {
		STAT_INC(s, ip_frag_drop_memory);
		entry_free(s, r->head);
	}
	return NULL;
kill:
	entry_free(s, e);
drop:
	shunt_pbuf_free(p);
	return NULL;
}
