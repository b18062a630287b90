/*
 * libFuzzer harness: two stacks over the in-memory link, with a hook that
 * mutates frames in flight as the input says, API calls from the input, and
 * the protocol's invariants checked after every step (abort() on a
 * violation, so libFuzzer keeps the input).
 *
 * Stack A is 198.18.0.1, stack B 198.18.0.2; B listens on TCP ports 80 and
 * 81 and echoes UDP on port 7.  Both ends of every connection run the same
 * small application: it writes a seeded pattern and checks, byte by byte,
 * that what it receives is a prefix of the peer's pattern.
 *
 * Input: one byte of link faults (loss, duplication, reordering, jitter, each
 * off or light), then records, an op byte and its arguments (missing bytes
 * read as zero):
 *   0 time      advance arg * 2 ms (255: 3 minutes), polling both stacks
 *   1 connect   from A to B port 80 + (arg & 1)
 *   2 write     slot, length (2), side
 *   3 close     slot, side     4 shutdown (slot, side, how)   5 abort (slot, side)
 *   6 mutate    skip (1), kind (1), offset (1), value (4), fix (1): the frame that
 *               many frames from now gets one change; checksums are fixed up
 *               unless fix's low bits are zero (most inputs keep frames valid)
 *   7 reading   slot, side, on/off: stop giving the window back, or resume
 *   8 udp       length (2): a datagram from A to B's echo (fragmented if large)
 *   9 setopt    slot, side, option, value
 * Mutation kinds: xor a byte anywhere, set TCP flags, move TCP seq or ack,
 * set the window, truncate the frame, drop it, change IP total length or
 * fragment field.  A mutation with fixed checksums that touches a TCP
 * segment's sequence number, data offset or payload makes that direction's
 * bytes untrustworthy (indistinguishable from a peer that sends other data):
 * the byte-for-byte check is then off for it; everything else still holds.
 *
 * Invariants: per PCB (send buffer accounting, in-flight bounded by what is
 * buffered, out-of-order queue sorted and charged right, SACK scoreboard
 * inside [snd_una, snd_nxt], receive window within the buffer, our right edge
 * never moving left); per stack (out-of-order and reassembly memory within
 * their bounds); on the wire, a sender never sends past the right edge its
 * peer announced; every byte delivered is the peer's byte at that offset
 * unless the stream is tainted.  At the end the mutations stop, everything
 * is closed, time runs out, and both pools must be whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/tcp.h>
#include <shunt/udp.h>
#include "priv/stack.h"
#include "priv/tcp.h"
#include "wire/csum.h"

#define NSLOT	4
#define NMUT	16
#define NWATCH	16

#define FAIL(...) do { fprintf(stderr, "invariant: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

struct end {
	struct shunt_tcp_pcb *pcb;
	uint32_t tx_seed, rx_seed;
	uint64_t tx, rx;		/* bytes written / received */
	uint32_t unread;
	int noread, dead, fin;
	uint16_t lport, rport;		/* host order, to find its wire direction */
};

struct conn {
	struct end e[2];		/* 0: A's side, 1: B's side */
	int used;
};

struct mut {
	int armed;
	uint32_t skip;
	uint8_t kind, off, fix;
	uint32_t val;
};

/* What a receiver announced on the wire, per direction of a 4-tuple. */
struct watch {
	int used, bad;
	uint32_t src;			/* sender of the data this window governs */
	uint16_t sport, dport;		/* data direction, host order */
	uint8_t ws;			/* the receiver's scale (from its SYN) */
	int ws_known, have;
	uint32_t edge;
	int tainted;			/* bytes of this direction altered with valid checksums */
};

struct fz {
	struct shunt_vclock vc;
	struct shunt_stack *s[2];
	struct shunt_link *link;
	struct shunt_tcp_pcb *lpcb[2];
	struct shunt_udp_pcb *echo, *usend;
	struct conn c[NSLOT];
	struct mut mut[NMUT];
	struct watch w[NWATCH];
	uint32_t ip[2];
	const uint8_t *d;
	size_t n, pos;
	int mutating;
	uint8_t wbuf[65536];
};

static struct fz *cur;

static uint8_t
rd8(struct fz *f)
{
	return f->pos < f->n ? f->d[f->pos++] : 0;
}

static uint16_t
rd16(struct fz *f)
{
	uint16_t v = rd8(f);

	return (uint16_t)(v | rd8(f) << 8);
}

static uint32_t
rd32(struct fz *f)
{
	uint32_t v = rd16(f);

	return v | (uint32_t)rd16(f) << 16;
}

static uint8_t
pat(uint32_t seed, uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull + seed;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i & 7)));
}

/* ---- the wire: watches and mutations ---- */

static uint16_t
be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static struct watch *
watch_of(struct fz *f, uint32_t src, uint16_t sport, uint16_t dport, int create)
{
	int i, fr = -1;

	for (i = 0; i < NWATCH; i++) {
		if (f->w[i].used && f->w[i].src == src && f->w[i].sport == sport && f->w[i].dport == dport)
			return &f->w[i];
		if (!f->w[i].used && fr < 0)
			fr = i;
	}
	if (!create || fr < 0)
		return NULL;
	memset(&f->w[fr], 0, sizeof(f->w[fr]));
	f->w[fr].used = 1;
	f->w[fr].src = src;
	f->w[fr].sport = sport;
	f->w[fr].dport = dport;
	return &f->w[fr];
}

/* Recomputes the IPv4 header checksum and the TCP/UDP one of a frame, where its lengths make sense. */
static void
fix_csums(uint8_t *fr, uint32_t len)
{
	uint8_t *ip = fr + 14;
	uint32_t hl, tot, l4len, src, dst;
	uint16_t c;

	if (len < 34 || be16(fr + 12) != 0x0800)
		return;
	hl = (ip[0] & 15) * 4u;
	if (hl < 20 || 14 + hl > len)
		return;
	ip[10] = ip[11] = 0;
	c = csum_fold(csum_add(0, ip, hl));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tot = be16(ip + 2);
	if (tot < hl || 14 + tot > len || (be16(ip + 6) & 0x3fff) != 0)
		return;
	l4len = tot - hl;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if (ip[9] == 6 && l4len >= 20) {
		ip[hl + 16] = ip[hl + 17] = 0;
		c = csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint16_t)l4len), ip + hl, l4len));
		ip[hl + 16] = (uint8_t)(c >> 8);
		ip[hl + 17] = (uint8_t)c;
	} else if (ip[9] == 17 && l4len >= 8) {
		ip[hl + 6] = ip[hl + 7] = 0;
		c = csum_fold(csum_add(csum_pseudo(src, dst, 17, (uint16_t)l4len), ip + hl, l4len));
		if (c == 0)
			c = 0xffff;
		ip[hl + 6] = (uint8_t)(c >> 8);
		ip[hl + 7] = (uint8_t)c;
	}
}

/* Applies m to the frame; returns 1 to drop it.  Marks the direction tainted where bytes may now lie. */
static int
apply_mut(struct fz *f, struct mut *m, uint8_t *fr, uint32_t *len)
{
	uint8_t *ip = fr + 14, *t = NULL;
	uint32_t hl = 0, off;
	int tcp = 0, semantic = 0;

	if (*len >= 34 && be16(fr + 12) == 0x0800) {
		hl = (ip[0] & 15) * 4u;
		if (ip[9] == 6 && 14 + hl + 20 <= *len) {
			t = ip + hl;
			tcp = 1;
		}
	}
	switch (m->kind % 8) {
	case 0:		/* xor one byte */
		off = m->off % *len;
		fr[off] ^= (uint8_t)(m->val | 1);
		if (tcp && off >= 14 + hl + 4) {
			uint32_t toff = off - 14 - hl;

			semantic = toff < 8 || toff == 12 || toff >= (uint32_t)(t[12] >> 4) * 4;
		}
		break;
	case 1:		/* TCP flags */
		if (t != NULL)
			t[13] = (uint8_t)m->val;
		break;
	case 2:		/* TCP seq */
		if (t != NULL) {
			uint32_t v = be32(t + 4) + (uint32_t)(int8_t)m->val * (m->val & 0x100 ? 1000u : 1u);

			t[4] = (uint8_t)(v >> 24);
			t[5] = (uint8_t)(v >> 16);
			t[6] = (uint8_t)(v >> 8);
			t[7] = (uint8_t)v;
			semantic = 1;
		}
		break;
	case 3:		/* TCP ack */
		if (t != NULL) {
			uint32_t v = be32(t + 8) + (uint32_t)(int16_t)m->val;

			t[8] = (uint8_t)(v >> 24);
			t[9] = (uint8_t)(v >> 16);
			t[10] = (uint8_t)(v >> 8);
			t[11] = (uint8_t)v;
		}
		break;
	case 4:		/* window */
		if (t != NULL) {
			t[14] = (uint8_t)(m->val >> 8);
			t[15] = (uint8_t)m->val;
		}
		break;
	case 5:		/* truncate */
		if (*len > 14 + (m->val % 80))
			*len = 14 + (m->val % 80) + (m->off % 2 ? 0 : (m->val >> 8) % (*len - 14 - (m->val % 80)));
		break;
	case 6:
		return 1;
	case 7:		/* IP total length or fragment field */
		if (hl != 0) {
			if (m->val & 1) {
				ip[2] = (uint8_t)(m->val >> 16);
				ip[3] = (uint8_t)(m->val >> 8);
			} else {
				ip[6] = (uint8_t)(m->val >> 16);
				ip[7] = (uint8_t)(m->val >> 8);
			}
		}
		break;
	}
	if (m->fix & 3) {
		fix_csums(fr, *len);
		if (semantic && tcp) {
			struct watch *w;
			uint32_t src;

			memcpy(&src, ip + 12, 4);
			w = watch_of(f, src, be16(t), be16(t + 2), 1);
			if (w != NULL)
				w->tainted = 1;
			else
				f->mutating = 2;	/* no room to say which: trust nothing */
		}
	}
	return 0;
}

/* Reads what a frame announces and checks what it sends. */
static void
observe(struct fz *f, const uint8_t *fr, uint32_t len)
{
	const uint8_t *ip = fr + 14, *t;
	uint32_t hl, tot, src, dst, seq, ack, end, dl, thl;
	struct watch *w;

	if (len < 34 || be16(fr + 12) != 0x0800 || ip[9] != 6)
		return;
	hl = (ip[0] & 15) * 4u;
	tot = be16(ip + 2);
	if (hl < 20 || tot < hl + 20 || 14 + tot > len || (be16(ip + 6) & 0x3fff) != 0)
		return;
	if (csum_fold(csum_add(0, ip, hl)) != 0)
		return;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	t = ip + hl;
	if (csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint16_t)(tot - hl)), t, tot - hl)) != 0)
		return;		/* the receiver drops it: it announces and carries nothing */
	thl = (uint32_t)(t[12] >> 4) * 4;
	if (thl < 20 || thl > tot - hl)
		return;
	seq = be32(t + 4);
	ack = be32(t + 8);
	dl = tot - hl - thl;
	/* The window this segment announces governs data flowing the other way. */
	w = watch_of(f, dst, be16(t + 2), be16(t), 1);
	if (w != NULL) {
		if (t[13] & 0x02) {
			/* A SYN: the window scale it offers (taken whatever the peer does: we only need an upper bound). */
			const uint8_t *o = t + 20, *oe = t + thl;

			w->ws = 0;
			while (o < oe && *o != 0) {
				if (*o == 1) {
					o++;
					continue;
				}
				if (oe - o < 2 || o[1] < 2 || o[1] > oe - o)
					break;
				if (o[0] == 3 && o[1] == 3)
					w->ws = o[2] > 14 ? 14 : o[2];
				o += o[1];
			}
			w->ws_known = 1;
			w->have = 0;
		} else if ((t[13] & 0x10) && w->ws_known && !(t[13] & 0x04)) {
			end = ack + ((uint32_t)be16(t + 14) << w->ws);
			if (!w->have || seq_gt(end, w->edge))
				w->edge = end;
			w->have = 1;
		}
	}
	/* Data: never past the edge the receiver announced (unless an altered frame made the picture wrong). */
	if (dl > 0 && !(t[13] & 0x02)) {
		w = watch_of(f, src, be16(t), be16(t + 2), 0);
		if (w != NULL && w->have && !w->bad && f->mutating == 0 && seq_gt(seq + dl, w->edge))
			FAIL("data [%u, %u) sent past the announced right edge %u", seq, seq + dl, w->edge);
	}
}

static int
hook(void *arg, int side, uint8_t *frame, uint32_t *len, uint32_t cap)
{
	struct fz *f = arg;
	int i, drop = 0;

	(void)side;
	(void)cap;
	for (i = 0; i < NMUT; i++) {
		struct mut *m = &f->mut[i];

		if (!m->armed)
			continue;
		if (m->skip > 0) {
			m->skip--;
			continue;
		}
		m->armed = 0;
		/*
		 * Any change to a frame (valid checksums or not) may make the
		 * window picture wrong: an altered window or ack is what the
		 * sender then believes.  The edge check rests from here on.
		 */
		f->mutating = f->mutating ? f->mutating : 1;
		drop |= apply_mut(f, m, frame, len);
	}
	if (!drop)
		observe(f, frame, *len);
	return drop;
}

/* ---- the application: each PCB's arg is its struct end ---- */

/* The bytes e receives flow from its peer's port to its own. */
static int
dir_tainted(struct fz *f, const struct end *e)
{
	int k;

	if (f->mutating == 2)
		return 1;
	for (k = 0; k < NWATCH; k++)
		if (f->w[k].used && f->w[k].tainted && f->w[k].sport == e->rport && f->w[k].dport == e->lport)
			return 1;
	return 0;
}

static int
on_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct end *e = arg;
	struct shunt_pbuf *q;
	uint32_t n;

	(void)err;
	if (e == NULL || e->pcb != pcb)
		FAIL("recv callback for a PCB nobody owns");
	if (p == NULL) {
		e->fin = 1;
		return 0;
	}
	if (p->tot_len == 0)
		FAIL("empty delivery");
	n = p->tot_len;
	if (!dir_tainted(cur, e)) {
		for (q = p; q != NULL; q = q->next) {
			uint32_t k;

			for (k = 0; k < q->len; k++)
				if (q->payload[k] != pat(e->rx_seed, e->rx + k))
					FAIL("byte %llu of the stream differs", (unsigned long long)(e->rx + k));
			e->rx += q->len;
		}
	} else {
		e->rx += n;
	}
	shunt_pbuf_free(p);
	if (e->noread)
		e->unread += n;
	else
		shunt_tcp_recved(pcb, n);
	return 0;
}

static int
on_sent(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	struct end *e = arg;

	if (e == NULL || e->pcb != pcb)
		FAIL("sent callback for a PCB nobody owns");
	if (len == 0)
		FAIL("sent 0");
	return 0;
}

static void
on_err(void *arg, int err)
{
	struct end *e = arg;

	(void)err;
	if (e == NULL)
		FAIL("err callback without an owner");
	e->pcb = NULL;
	e->dead = 1;
}

static void
attach(struct end *e, struct shunt_tcp_pcb *pcb)
{
	e->pcb = pcb;
	shunt_tcp_arg(pcb, e);
	shunt_tcp_recv(pcb, on_recv);
	shunt_tcp_sent(pcb, on_sent);
	shunt_tcp_err(pcb, on_err);
}

static int
on_accept(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct fz *f = arg;
	uint32_t rip;
	uint16_t lport, rport;
	int i;

	(void)err;
	shunt_tcp_remote(newpcb, &rip, &rport);
	shunt_tcp_local(newpcb, &rip, &lport);
	for (i = 0; i < NSLOT; i++) {
		struct conn *c = &f->c[i];

		if (c->used && c->e[0].lport == ntohs(rport) && c->e[0].rport == ntohs(lport) &&
		    c->e[1].pcb == NULL && !c->e[1].dead) {
			attach(&c->e[1], newpcb);
			return 0;
		}
	}
	return -111;	/* a connection nobody asked for (a mutated SYN): refuse it */
}

/* ---- invariants ---- */

#define SEG_SEQ(p)	((p)->cb[0])
#define SEG_LEN(p)	((p)->cb[1])

static void
check_pcb(const struct shunt_tcp_pcb *pcb)
{
	const struct shunt_pbuf *p, *last = NULL;
	uint32_t sb = 0, ooo = 0, flight, extra;
	int i;

	if (pcb->state == SHUNT_TCP_LISTEN || pcb->state == SHUNT_TCP_CLOSED)
		return;
	if (seq_gt(pcb->snd_una, pcb->snd_nxt))
		FAIL("snd_una %u > snd_nxt %u", pcb->snd_una, pcb->snd_nxt);
	for (p = pcb->sb_head; p != NULL; p = p->qnext) {
		sb += p->len;
		last = p;
	}
	if (sb != pcb->sb_len)
		FAIL("sb_len %u, buffers hold %u", pcb->sb_len, sb);
	if (last != pcb->sb_tail)
		FAIL("sb_tail is not the last buffer");
	if (pcb->state != SHUNT_TCP_TIME_WAIT) {
		flight = pcb->snd_nxt - pcb->snd_una;
		extra = (pcb->state <= SHUNT_TCP_SYN_RECEIVED && pcb->snd_una == pcb->iss) ? 1 : 0;
		extra += (pcb->flags & TF_FIN_SENT) ? 1 : 0;
		if (flight > pcb->sb_len + extra)
			FAIL("in flight %u > buffered %u + %u", flight, pcb->sb_len, extra);
	}
	for (p = pcb->ooo; p != NULL; p = p->qnext) {
		if (p->qnext != NULL && seq_gt(SEG_SEQ(p) + SEG_LEN(p), SEG_SEQ(p->qnext)))
			FAIL("ooo segments overlap or unsorted");
		ooo += p->cb[3];
	}
	if (ooo != pcb->ooo_bytes)
		FAIL("ooo_bytes %u, queue charges %u", pcb->ooo_bytes, ooo);
	for (i = 0; i < pcb->nsacked; i++) {
		if (!seq_lt(pcb->sacked[i].start, pcb->sacked[i].end))
			FAIL("empty SACK range");
		if (seq_lt(pcb->sacked[i].start, pcb->snd_una) || seq_gt(pcb->sacked[i].end, pcb->snd_nxt))
			FAIL("SACK range outside [snd_una, snd_nxt]");
	}
	if (pcb->rcv_wnd > pcb->rcv_buf)
		FAIL("rcv_wnd %u > rcv_buf %u", pcb->rcv_wnd, pcb->rcv_buf);
	if (pcb->state >= SHUNT_TCP_ESTABLISHED && pcb->mss == 0)
		FAIL("mss 0");
}

static void
check_stack(struct shunt_stack *s)
{
	const struct shunt_tcp_pcb *pcb;
	uint32_t ooo = 0;

	for (pcb = s->tcp->all; pcb != NULL; pcb = pcb->anext) {
		check_pcb(pcb);
		ooo += pcb->ooo_bytes;
	}
	if (ooo != s->tcp->ooo_bytes)
		FAIL("stack ooo_bytes %u, connections hold %u", s->tcp->ooo_bytes, ooo);
	if (s->tcp->ooo_bytes > s->cfg.tcp_ooo_max_bytes + 65536)
		FAIL("out-of-order memory %u over its bound", s->tcp->ooo_bytes);
	if (s->reass.bytes > s->cfg.reass_max_bytes + 4096)
		FAIL("reassembly memory %u over its bound", s->reass.bytes);
}

static void
step(struct fz *f, uint64_t ns)
{
	shunt_stack_poll(f->s[0]);
	shunt_stack_poll(f->s[1]);
	shunt_vclock_advance(&f->vc, ns);
	check_stack(f->s[0]);
	check_stack(f->s[1]);
}

/*
 * Moves time on by total_ns, polling both stacks: in steps of at most 1 ms
 * while something is due soon, in one jump to the next deadline otherwise.
 * Bounded in rounds, so an input cannot make one run endless.
 */
static void
run(struct fz *f, uint64_t total_ns, int max_rounds)
{
	uint64_t end = f->vc.now + total_ns;
	int rounds = 0;

	while (f->vc.now < end && rounds++ < max_rounds) {
		uint64_t now = f->vc.now, next = shunt_link_next_due(f->link), d, st;

		d = shunt_stack_next_deadline(f->s[0]);
		if (d < next)
			next = d;
		d = shunt_stack_next_deadline(f->s[1]);
		if (d < next)
			next = d;
		st = 1000000;
		if (next > now + st)
			st = next == UINT64_MAX || next > end ? end - now : next - now;
		if (st > end - now)
			st = end - now;
		step(f, st);
	}
}

/* The application lets go: no more callbacks for it (the PCB is the stack's now). */
static void
let_go(struct end *e, int abortive)
{
	struct shunt_tcp_pcb *pcb = e->pcb;

	e->pcb = NULL;
	shunt_tcp_recv(pcb, NULL);
	shunt_tcp_sent(pcb, NULL);
	shunt_tcp_err(pcb, NULL);
	if (abortive) {
		e->dead = 1;
		shunt_tcp_abort(pcb);
	} else {
		e->fin = 1;
		shunt_tcp_close(pcb);
	}
}

static struct end *
pick(struct fz *f)
{
	uint8_t slot = rd8(f), side = rd8(f);
	struct conn *c = &f->c[slot % NSLOT];

	if (!c->used)
		return NULL;
	return &c->e[side & 1];
}

static void
do_write(struct fz *f)
{
	struct end *e = pick(f);
	uint32_t len = rd16(f) % sizeof(f->wbuf), k;
	int r;

	if (e == NULL || e->pcb == NULL)
		return;
	for (k = 0; k < len; k++)
		f->wbuf[k] = pat(e->tx_seed, e->tx + k);
	r = shunt_tcp_write(e->pcb, f->wbuf, len, 0);
	if (r > 0)
		e->tx += (uint64_t)r;
}

static void
do_connect(struct fz *f)
{
	uint8_t a = rd8(f);
	struct shunt_tcp_pcb *pcb;
	struct conn *c = NULL;
	uint32_t lip;
	uint16_t lport;
	int i;

	for (i = 0; i < NSLOT; i++) {
		if (!f->c[i].used) {
			c = &f->c[i];
			break;
		}
	}
	if (c == NULL)
		return;
	pcb = shunt_tcp_new(f->s[0]);
	if (pcb == NULL)
		return;
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->e[0].tx_seed = 0x1000u + (uint32_t)i * 2;
	c->e[0].rx_seed = 0x1000u + (uint32_t)i * 2 + 1;
	c->e[1].tx_seed = c->e[0].rx_seed;
	c->e[1].rx_seed = c->e[0].tx_seed;
	if (shunt_tcp_bind(pcb, 0, 0) != 0) {
		shunt_tcp_abort(pcb);
		memset(c, 0, sizeof(*c));
		return;
	}
	attach(&c->e[0], pcb);
	shunt_tcp_local(pcb, &lip, &lport);
	c->e[0].lport = ntohs(lport);
	c->e[0].rport = (uint16_t)(80 + (a & 1));
	c->e[1].lport = c->e[0].rport;
	c->e[1].rport = c->e[0].lport;
	if (shunt_tcp_connect(pcb, f->ip[1], htons(c->e[0].rport), NULL) != 0) {
		let_go(&c->e[0], 1);
		memset(c, 0, sizeof(*c));
	}
}

/* A conn slot is free again once both its ends are gone. */
static void
reap(struct fz *f)
{
	int i;

	for (i = 0; i < NSLOT; i++) {
		struct conn *c = &f->c[i];

		/* A late child for a reaped slot finds no match and is refused. */
		if (c->used && c->e[0].pcb == NULL && c->e[1].pcb == NULL && (c->e[0].dead || c->e[0].fin))
			c->used = 0;
	}
}

static void
echo_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	(void)arg;
	shunt_udp_sendto(pcb, p, ip, port);
	shunt_pbuf_free(p);
}

static void
sink_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	(void)arg;
	(void)pcb;
	(void)ip;
	(void)port;
	shunt_pbuf_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz fzs;
	struct fz *f = &fzs;
	struct shunt_stack_config c;
	struct shunt_link_faults lf;
	uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
	uint32_t steps = 0;
	uint8_t fb;
	int i, k;

	memset(f, 0, sizeof(*f));
	cur = f;
	f->d = data;
	f->n = size;
	shunt_vclock_init(&f->vc, 1000000000ull);
	shunt_stack_config_init(&c);
	c.clock = &f->vc.clock;
	c.pbuf_count = 2048;
	c.pbuf_hdr_count = 4096;
	c.tcp_sndbuf = 32768;
	c.tcp_rcvbuf = 16384;
	c.tcp_ooo_max_bytes = 65536;
	c.reass_max_bytes = 65536;
	c.tcp_max_pcbs = 32;
	c.tcp_syn_backlog = 4;
	c.tcp_max_time_wait = 4;
	c.tcp_retries = 5;
	c.tcp_syn_retries = 3;
	c.tcp_synack_retries = 3;
	for (i = 0; i < 2; i++) {
		c.seed = (uint64_t)i + 1;
		f->s[i] = shunt_stack_create(&c, NULL);
		if (f->s[i] == NULL)
			abort();
	}
	f->link = shunt_link_create(f->s[0], f->s[1], mac[0], mac[1], 1500, NULL);
	if (f->link == NULL)
		abort();
	f->ip[0] = htonl(0xc6120001);
	f->ip[1] = htonl(0xc6120002);
	for (i = 0; i < 2; i++) {
		struct shunt_netif *nif = shunt_link_netif(f->link, i);

		shunt_netif_set_ip4(nif, f->ip[i], htonl(0xffffff00), 0);
		shunt_netif_up(nif);
		shunt_arp_add_static(f->s[i], f->ip[!i], mac[!i]);
	}
	fb = rd8(f);
	memset(&lf, 0, sizeof(lf));
	lf.seed = fb;
	lf.loss_ppm = (fb & 1) ? 20000 : 0;
	lf.dup_ppm = (fb & 2) ? 20000 : 0;
	lf.reorder_ppm = (fb & 4) ? 100000 : 0;
	lf.jitter_ns = (fb & 8) ? 2000000 : 0;
	lf.delay_ns = 500000;
	lf.reorder_delay_ns = 1000000;
	shunt_link_set_faults(f->link, 0, &lf);
	lf.seed++;
	shunt_link_set_faults(f->link, 1, &lf);
	shunt_link_set_hook(f->link, hook, f);
	for (i = 0; i < 2; i++) {
		f->lpcb[i] = shunt_tcp_new(f->s[1]);
		shunt_tcp_bind(f->lpcb[i], 0, htons((uint16_t)(80 + i)));
		shunt_tcp_listen(f->lpcb[i], 4);
		shunt_tcp_arg(f->lpcb[i], f);
		shunt_tcp_accept(f->lpcb[i], on_accept);
	}
	f->echo = shunt_udp_new(f->s[1]);
	shunt_udp_bind(f->echo, 0, htons(7));
	shunt_udp_recv(f->echo, echo_recv, NULL);
	f->usend = shunt_udp_new(f->s[0]);
	shunt_udp_bind(f->usend, 0, htons(5000));
	shunt_udp_recv(f->usend, sink_recv, NULL);

	while (f->pos < f->n && steps++ < 300) {
		uint8_t op = rd8(f);
		struct end *e;

		switch (op % 11) {
		case 0: {
			uint8_t a = rd8(f);

			run(f, a == 255 ? 180000000000ull : (uint64_t)a * 2000000ull, 600);
			break;
		}
		case 1:
			do_connect(f);
			break;
		case 2:
			do_write(f);
			break;
		case 3:
			e = pick(f);
			if (e != NULL && e->pcb != NULL)
				let_go(e, 0);
			break;
		case 4: {
			uint8_t how;

			e = pick(f);
			how = rd8(f);
			if (e != NULL && e->pcb != NULL)
				shunt_tcp_shutdown(e->pcb, how & 1, (how >> 1) & 1);
			break;
		}
		case 5:
			e = pick(f);
			if (e != NULL && e->pcb != NULL)
				let_go(e, 1);
			break;
		case 6: {
			struct mut *m = NULL;

			for (i = 0; i < NMUT; i++)
				if (!f->mut[i].armed)
					m = &f->mut[i];
			if (m == NULL) {
				f->pos += 8;
				break;
			}
			m->skip = rd8(f);
			m->kind = rd8(f);
			m->off = rd8(f);
			m->val = rd32(f);
			m->fix = rd8(f);
			m->armed = 1;
			break;
		}
		case 7: {
			uint8_t on;

			e = pick(f);
			on = rd8(f);
			if (e == NULL || e->pcb == NULL)
				break;
			e->noread = on & 1;
			if (!e->noread && e->unread > 0) {
				shunt_tcp_recved(e->pcb, e->unread);
				e->unread = 0;
			}
			break;
		}
		case 8: {
			uint16_t len = rd16(f) % 9000;

			memset(f->wbuf, 'u', len);
			shunt_udp_sendto_buf(f->usend, f->wbuf, len, f->ip[1], htons(7));
			break;
		}
		case 9: {
			uint8_t opt, val;

			e = pick(f);
			opt = rd8(f);
			val = rd8(f);
			if (e != NULL && e->pcb != NULL) {
				static const int opts[] = { SHUNT_TCP_OPT_NODELAY, SHUNT_TCP_OPT_CORK, SHUNT_TCP_OPT_SNDBUF,
					SHUNT_TCP_OPT_MAXSEG, SHUNT_TCP_OPT_KEEPALIVE, SHUNT_TCP_OPT_QUICKACK };
				int o = opts[opt % 6], v = val;

				if (o == SHUNT_TCP_OPT_SNDBUF)
					v = 4096 + val * 256;
				if (o == SHUNT_TCP_OPT_MAXSEG)
					v = 64 + val * 8;
				shunt_tcp_setopt(e->pcb, o, v);
			}
			break;
		}
		case 10: {
			/* A driver's back-pressure on either side, on or off (TCP holds new data meanwhile). */
			uint8_t b = rd8(f);

			shunt_netif_tx_pressure(shunt_link_netif(f->link, b & 1), (b >> 1) & 1);
			break;
		}
		}
		reap(f);
	}
	if (getenv("FUZZ_LINK_TRACE") != NULL)
		for (i = 0; i < NSLOT; i++)
			if (f->c[i].used)
				fprintf(stderr, "conn %d: A wrote %llu got %llu, B wrote %llu got %llu%s\n", i,
				    (unsigned long long)f->c[i].e[0].tx, (unsigned long long)f->c[i].e[0].rx,
				    (unsigned long long)f->c[i].e[1].tx, (unsigned long long)f->c[i].e[1].rx,
				    dir_tainted(f, &f->c[i].e[0]) || dir_tainted(f, &f->c[i].e[1]) ? " (tainted)" : "");
	/* The end: no more mutations, faults or back-pressure; everyone reads, closes; time runs out. */
	for (i = 0; i < NMUT; i++)
		f->mut[i].armed = 0;
	shunt_netif_tx_pressure(shunt_link_netif(f->link, 0), 0);
	shunt_netif_tx_pressure(shunt_link_netif(f->link, 1), 0);
	memset(&lf, 0, sizeof(lf));
	shunt_link_set_faults(f->link, 0, &lf);
	shunt_link_set_faults(f->link, 1, &lf);
	for (i = 0; i < NSLOT; i++) {
		for (k = 0; k < 2; k++) {
			struct end *e = &f->c[i].e[k];

			if (!f->c[i].used || e->pcb == NULL)
				continue;
			if (e->unread > 0)
				shunt_tcp_recved(e->pcb, e->unread);
			e->noread = 0;
			e->unread = 0;
			let_go(e, 0);
		}
	}
	for (i = 0; i < 2; i++)
		shunt_tcp_close(f->lpcb[i]);
	shunt_udp_remove(f->echo);
	shunt_udp_remove(f->usend);
	run(f, 1200000000000ull, 200000);
	for (i = 0; i < 2; i++) {
		uint32_t left = 0;

		for (k = 0; k <= SHUNT_TCP_TIME_WAIT; k++)
			left += shunt_tcp_count(f->s[i], (enum shunt_tcp_state)k);
		if (left != 0) {
			const struct shunt_tcp_pcb *q;

			for (q = f->s[i]->tcp->all; q != NULL; q = q->anext)
				fprintf(stderr, "  pcb state %d una %u nxt %u sb %u rcv_nxt %u wnd %u flags %#x arg %p rexmt %d misc %d nrtx %u\n",
				    q->state, q->snd_una - q->iss, q->snd_nxt - q->iss, q->sb_len, q->rcv_nxt - q->irs,
				    q->snd_wnd, q->flags, q->arg, timer_pending(&q->t_rexmt), timer_pending(&q->t_misc), q->nrtx);
			FAIL("stack %d: %u PCBs left 20 minutes after everything closed", i, left);
		}
	}
	shunt_link_set_hook(f->link, NULL, NULL);
	shunt_link_destroy(f->link);
	for (i = 0; i < 2; i++) {
		struct shunt_pool_usage u;

		if (shunt_stack_destroy_checked(f->s[i], &u) != 0)
			FAIL("stack %d leaked %u pbufs, %u headers", i, u.pbuf_in_use, u.pbuf_hdr_in_use);
	}
	return 0;
}
