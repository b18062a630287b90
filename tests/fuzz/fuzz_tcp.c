/*
 * libFuzzer harness: TCP connections and a listener driven by mutated
 * segments, time and application calls, with the stack's invariants checked
 * after every step (abort() on a violation, so libFuzzer keeps the input).
 *
 * The stack listens on 198.18.0.2:80 and talks to a scripted peer at
 * 198.18.0.1 over the scripted netif.  Input: a sequence of records, each an
 * op byte followed by its arguments (missing bytes read as zero):
 *   0 segment   slot, flags, seq mode+delta (5), ack mode+delta (5), win (2),
 *               option bytes (1 + n), payload length (2), csum-ok bit in flags2 (1)
 *               Sequence numbers are relative to what the stack expects
 *               (rcv_nxt, snd_una) so that most segments land in the window.
 *   1 time      advance the clock by arg * 3 ms (arg 255: 2 minutes)
 *   2 write     slot, length (2), flags
 *   3 app mode  slot, mode bits (refuse, close/abort from recv, no recved)
 *   4 close  5 shutdown (slot, how)  6 abort (slot)
 *   7 connect   port byte: an active open to the peer
 *   8 setopt    slot, option, value
 *   9 ICMP      slot, type/code selector, mtu (2)
 *  10 recved    slot, length (2): give window back late
 *  11 raw       length (2), bytes: a whole IP payload for TCP, checksum fixed
 * At the end everything is closed, time runs out, and the pools must be whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/tcp.h>
#include "priv/stack.h"
#include "priv/tcp.h"
#include "wire/csum.h"

#define NSLOT	4

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

struct slot {
	struct shunt_tcp_pcb *pcb;
	uint8_t mode;
	uint32_t unread;		/* delivered, not yet given back with recved */
};

struct fz {
	struct shunt_stack *s;
	struct shunt_netif *nif;
	struct shunt_vclock vc;
	struct shunt_tcp_pcb *lpcb;
	struct slot slot[NSLOT];
	uint32_t me, peer;
	const uint8_t *d;
	size_t n, pos;
	uint32_t synack_seq[8];		/* last SYN-ACK the stack sent to peer port 40000 + i */
	uint8_t frame[2048];
	uint8_t sent[2048];
	uint8_t wbuf[65536];
};

/* Each window's right edge, to check it never moves left. */
struct edge {
	const struct shunt_tcp_pcb *pcb;
	uint32_t iss, irs, rcv_adv;
	int seen;
};
static struct edge edges[64];

#define FAIL(...) do { fprintf(stderr, "invariant: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

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

static int
slot_of(struct fz *f, const struct shunt_tcp_pcb *pcb)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (f->slot[i].pcb == pcb)
			return i;
	return -1;
}

static int
free_slot(struct fz *f)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (f->slot[i].pcb == NULL)
			return i;
	return -1;
}

static int
on_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct fz *f = arg;
	int i = slot_of(f, pcb);
	uint8_t m;

	(void)err;
	if (i < 0)
		FAIL("recv callback for a PCB the app does not own");
	m = f->slot[i].mode;
	if (p != NULL && (m & 1))
		return -12;	/* refuse: offered again later */
	if (p != NULL) {
		uint32_t len = p->tot_len;

		if (len == 0 || p->tot_len != len)
			FAIL("empty delivery");
		shunt_pbuf_free(p);
		if (m & 8)
			f->slot[i].unread += len;
		else
			shunt_tcp_recved(pcb, len);
	}
	if (m & 2) {
		f->slot[i].pcb = NULL;
		shunt_tcp_close(pcb);
		return 0;
	}
	if (m & 4) {
		f->slot[i].pcb = NULL;
		shunt_tcp_abort(pcb);
		return SHUNT_TCP_ABORTED;
	}
	return 0;
}

static int
on_sent(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	struct fz *f = arg;
	int i = slot_of(f, pcb);

	if (i < 0)
		FAIL("sent callback for a PCB the app does not own");
	if (len == 0)
		FAIL("sent 0");
	if (f->slot[i].mode & 16) {
		/* Refill from the callback, as a streaming app does. */
		shunt_tcp_write(pcb, f->wbuf, 3000, 0);
	}
	return 0;
}

static void
on_err(void *arg, int err)
{
	/* arg is the slot; the PCB is already gone. */
	struct slot *sl = arg;

	if (err >= 0)
		FAIL("err callback with %d", err);
	sl->pcb = NULL;
}

static int
on_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	(void)arg;
	(void)pcb;
	if (err != 0)
		FAIL("connected with %d", err);
	return 0;
}

static void attach(struct fz *f, int i, struct shunt_tcp_pcb *pcb);

static int
on_accept(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct fz *f = arg;
	int i = free_slot(f);

	(void)err;
	if (i < 0)
		return -111;	/* refused: the stack resets it */
	attach(f, i, newpcb);
	return 0;
}

/* Callbacks get the slot as arg only through err; the others find the slot by PCB. */
static struct fz *g_fz;

static int
recv_tramp(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	(void)arg;
	return on_recv(g_fz, pcb, p, err);
}

static int
sent_tramp(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	(void)arg;
	return on_sent(g_fz, pcb, len);
}

static void
attach(struct fz *f, int i, struct shunt_tcp_pcb *pcb)
{
	f->slot[i].pcb = pcb;
	f->slot[i].mode = 0;
	f->slot[i].unread = 0;
	shunt_tcp_arg(pcb, &f->slot[i]);
	shunt_tcp_recv(pcb, recv_tramp);
	shunt_tcp_sent(pcb, sent_tramp);
	shunt_tcp_err(pcb, on_err);
}

/* ---- invariants ---- */

#define SEG_SEQ(p)	((p)->cb[0])
#define SEG_LEN(p)	((p)->cb[1])

static void
check_pcb(struct fz *f, const struct shunt_tcp_pcb *pcb)
{
	const struct shunt_pbuf *p, *last = NULL;
	uint32_t sb = 0, ooo = 0, flight, extra;
	int i;

	(void)f;
	if (pcb->state == SHUNT_TCP_LISTEN || pcb->state == SHUNT_TCP_CLOSED)
		return;
	if (seq_gt(pcb->snd_una, pcb->snd_nxt))
		FAIL("snd_una %u > snd_nxt %u", pcb->snd_una, pcb->snd_nxt);
	for (p = pcb->sb_head; p != NULL; p = p->qnext) {
		if (p->len == 0 || p->tot_len != p->len || p->next != NULL)
			FAIL("send buffer pbuf len %u tot %u", p->len, p->tot_len);
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
			FAIL("in flight %u > buffered %u + %u (state %d)", flight, pcb->sb_len, extra, pcb->state);
	}
	for (p = pcb->ooo; p != NULL; p = p->qnext) {
		if (!seq_gt(SEG_SEQ(p), pcb->rcv_nxt) && pcb->state < SHUNT_TCP_CLOSE_WAIT)
			FAIL("ooo segment at %u not above rcv_nxt %u", SEG_SEQ(p), pcb->rcv_nxt);
		if (p->qnext != NULL && seq_gt(SEG_SEQ(p) + SEG_LEN(p), SEG_SEQ(p->qnext)))
			FAIL("ooo segments overlap or unsorted");
		if (p->tot_len != SEG_LEN(p))
			FAIL("ooo segment length %u, holds %u", SEG_LEN(p), p->tot_len);
		ooo += p->cb[3];
	}
	if (ooo != pcb->ooo_bytes)
		FAIL("ooo_bytes %u, queue charges %u", pcb->ooo_bytes, ooo);
	if (pcb->nsacked > TCP_SACK_MAX)
		FAIL("nsacked %u", pcb->nsacked);
	for (i = 0; i < pcb->nsacked; i++) {
		if (!seq_lt(pcb->sacked[i].start, pcb->sacked[i].end))
			FAIL("empty SACK range");
		if (seq_lt(pcb->sacked[i].start, pcb->snd_una) || seq_gt(pcb->sacked[i].end, pcb->snd_nxt))
			FAIL("SACK range outside [snd_una, snd_nxt]");
		if (i > 0 && seq_geq(pcb->sacked[i - 1].end, pcb->sacked[i].start))
			FAIL("SACK ranges unsorted or unmerged");
	}
	if (pcb->rcv_wnd > pcb->rcv_buf)
		FAIL("rcv_wnd %u > rcv_buf %u", pcb->rcv_wnd, pcb->rcv_buf);
	if (pcb->state >= SHUNT_TCP_ESTABLISHED && pcb->state != SHUNT_TCP_TIME_WAIT && pcb->cwnd == 0)
		FAIL("cwnd 0");
	if (pcb->state >= SHUNT_TCP_ESTABLISHED && pcb->mss == 0)
		FAIL("mss 0");
}

static void
check_edges(const struct shunt_tcp_pcb *pcb)
{
	int i, free_i = -1;

	if (pcb->state < SHUNT_TCP_ESTABLISHED || pcb->state == SHUNT_TCP_TIME_WAIT)
		return;
	for (i = 0; i < 64; i++) {
		if (edges[i].pcb == pcb && edges[i].iss == pcb->iss && edges[i].irs == pcb->irs) {
			/* Our announced right edge never moves left (RFC 9293 §3.8.6). */
			if (seq_lt(pcb->rcv_adv, edges[i].rcv_adv))
				FAIL("receive window right edge moved left: %u -> %u", edges[i].rcv_adv,
				    pcb->rcv_adv);
			edges[i].rcv_adv = pcb->rcv_adv;
			edges[i].seen = 1;
			return;
		}
		if (edges[i].pcb == NULL && free_i < 0)
			free_i = i;
	}
	if (free_i >= 0) {
		edges[free_i].pcb = pcb;
		edges[free_i].iss = pcb->iss;
		edges[free_i].irs = pcb->irs;
		edges[free_i].rcv_adv = pcb->rcv_adv;
		edges[free_i].seen = 1;
	}
}

static void
check_all(struct fz *f)
{
	struct tcp_stack *t = f->s->tcp;
	const struct shunt_tcp_pcb *pcb;
	uint32_t n = 0, count[SHUNT_TCP_TIME_WAIT + 1], syn = 0, ooo = 0;
	int i;

	memset(count, 0, sizeof(count));
	for (i = 0; i < 64; i++)
		edges[i].seen = 0;
	for (pcb = t->all; pcb != NULL; pcb = pcb->anext) {
		n++;
		if (pcb->state > SHUNT_TCP_TIME_WAIT)
			FAIL("state %d", pcb->state);
		count[pcb->state]++;
		if (pcb->state == SHUNT_TCP_SYN_RECEIVED && pcb->listener != NULL)
			syn++;
		ooo += pcb->ooo_bytes;
		check_pcb(f, pcb);
		check_edges(pcb);
		if ((pcb->flags & TF_IN_CONN_HASH) &&
		    tcp_conn_lookup(f->s, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port) != pcb)
			FAIL("connection hash does not find its PCB");
	}
	for (i = 0; i < 64; i++)
		if (!edges[i].seen)
			edges[i].pcb = NULL;
	if (n != t->npcbs)
		FAIL("npcbs %u, list has %u", t->npcbs, n);
	for (i = 0; i <= SHUNT_TCP_TIME_WAIT; i++)
		if (count[i] != t->count[i])
			FAIL("count[%d] %u, list has %u", i, t->count[i], count[i]);
	if (syn != t->syn_pending)
		FAIL("syn_pending %u, list has %u", t->syn_pending, syn);
	if (ooo != t->ooo_bytes)
		FAIL("stack ooo_bytes %u, connections hold %u", t->ooo_bytes, ooo);
	for (i = 0; i < NSLOT; i++) {
		const struct shunt_tcp_pcb *q;

		if (f->slot[i].pcb == NULL)
			continue;
		for (q = t->all; q != NULL && q != f->slot[i].pcb; q = q->anext)
			;
		if (q == NULL)
			FAIL("the app holds a PCB the stack freed");
	}
}

/* ---- the peer ---- */

/* Reads what the stack sent: the peer remembers the SYN-ACKs (cookies carry no state to look at). */
static void
drain(struct fz *f)
{
	int n;

	while ((n = shunt_script_take(f->nif, f->sent, sizeof(f->sent))) >= 0) {
		const uint8_t *ip = f->sent + 14, *l4;
		uint16_t dport;

		if (n < 14 + 20 + 20 || f->sent[12] != 0x08 || ip[9] != 6)
			continue;
		l4 = ip + (ip[0] & 15) * 4;
		if ((size_t)(l4 - f->sent) + 20 > (size_t)n)
			continue;
		dport = (uint16_t)(l4[2] << 8 | l4[3]);
		if ((l4[13] & 0x12) == 0x12 && dport >= 40000 && dport < 40008)
			f->synack_seq[dport - 40000] = wire_get32(l4 + 4);
	}
}

static void
csum_tcp(uint8_t *ip, size_t l4len, int good)
{
	uint8_t *l4 = ip + 20;
	uint32_t src, dst;
	uint16_t c;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	l4[16] = l4[17] = 0;
	c = csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint32_t)l4len), l4, l4len));
	if (!good)
		c ^= 0x0101;
	l4[16] = (uint8_t)(c >> 8);
	l4[17] = (uint8_t)c;
}

static void
send_ip(struct fz *f, uint8_t *ip, size_t l4len, int good)
{
	uint16_t c;
	size_t tot = 20 + l4len;

	memcpy(f->frame, our_mac, 6);
	memcpy(f->frame + 6, peer_mac, 6);
	f->frame[12] = 0x08;
	f->frame[13] = 0x00;
	ip[0] = 0x45;
	ip[1] = 0;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[4] = ip[5] = 0;
	ip[6] = 0x40;
	ip[7] = 0;
	ip[8] = 64;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &f->peer, 4);
	memcpy(ip + 16, &f->me, 4);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	if (ip[9] == 6)
		csum_tcp(ip, l4len, good);
	shunt_script_inject(f->nif, f->frame, (uint32_t)(14 + tot));
	shunt_stack_poll(f->s);
}

static uint32_t
pick_seq(struct fz *f, uint32_t base)
{
	uint8_t mode = rd8(f);
	uint32_t v = rd32(f);

	switch (mode & 3) {
	case 0:
		return base + (uint32_t)(int32_t)(int16_t)v;
	case 1:
		return base + (v & 0xffff);
	case 2:
		return base - (v & 0xfffff);
	default:
		return v;
	}
}

static void
op_segment(struct fz *f)
{
	uint8_t *ip = f->frame + 14, *l4 = ip + 20;
	int si = rd8(f) % (NSLOT + 2);
	uint8_t flags = rd8(f), flags2;
	struct shunt_tcp_pcb *pcb = si < NSLOT ? f->slot[si].pcb : NULL;
	uint16_t sport = 40000 + (uint16_t)(si % 4), dport = 80, win;
	uint32_t seq, ack, rn = 1000, su = 5000, olen, plen, i;

	if (pcb != NULL) {
		sport = ntohs(pcb->remote_port);
		dport = ntohs(pcb->local_port);
		rn = pcb->rcv_nxt;
		su = pcb->snd_una;
	} else if (si == NSLOT + 1) {
		/* a stranger, or a half-open child of the listener */
		struct shunt_tcp_pcb *c = f->lpcb != NULL ? f->lpcb->children : NULL;

		sport = 40000 + (uint16_t)(rd8(f) & 7);
		for (; c != NULL; c = c->lnext)
			if (ntohs(c->remote_port) == sport)
				break;
		if (c != NULL) {
			rn = c->rcv_nxt;
			su = c->snd_una;
		} else {
			/* Perhaps a SYN cookie went out: answer it. */
			su = f->synack_seq[sport & 7];
		}
	}
	seq = pick_seq(f, rn);
	ack = pick_seq(f, su);
	win = rd16(f);
	olen = rd8(f) % 41;
	olen &= ~3u;
	for (i = 0; i < olen; i++)
		l4[20 + i] = rd8(f);
	plen = rd16(f) % 1500;
	flags2 = rd8(f);
	if (20 + olen + plen > sizeof(f->frame) - 14 - 20)
		plen = (uint32_t)(sizeof(f->frame) - 14 - 20 - 20 - olen);
	for (i = 0; i < plen; i++)
		l4[20 + olen + i] = (uint8_t)(seq + i);
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	wire_put32(l4 + 4, seq);
	wire_put32(l4 + 8, ack);
	l4[12] = (uint8_t)(((20 + olen) / 4) << 4);
	l4[13] = flags;
	l4[14] = (uint8_t)(win >> 8);
	l4[15] = (uint8_t)win;
	l4[18] = l4[19] = 0;
	ip[9] = 6;
	if (getenv("FUZZ_TCP_TRACE") != NULL)
		fprintf(stderr, "  seg %u>%u flags %#x seq %u ack %u win %u olen %u len %u\n", sport, dport, flags,
		    seq - rn, ack - su, win, olen, plen);
	send_ip(f, ip, 20 + olen + plen, (flags2 & 0xf0) != 0xf0);
}

static void
op_icmp(struct fz *f)
{
	uint8_t *ip = f->frame + 14, *ic = ip + 20, *q = ic + 8;
	int si = rd8(f) % NSLOT;
	uint8_t sel = rd8(f);
	uint16_t mtu = rd16(f);
	struct shunt_tcp_pcb *pcb = f->slot[si].pcb;
	static const uint8_t types[][2] = { { 3, 0 }, { 3, 1 }, { 3, 2 }, { 3, 3 }, { 3, 4 }, { 11, 0 }, { 12, 0 },
		{ 3, 13 } };
	uint32_t seq;
	uint16_t c;

	if (pcb == NULL)
		return;
	seq = (sel & 8) ? pcb->snd_una : pcb->snd_una + rd16(f);
	ic[0] = types[sel & 7][0];
	ic[1] = types[sel & 7][1];
	ic[2] = ic[3] = 0;
	ic[4] = ic[5] = 0;
	ic[6] = (uint8_t)(mtu >> 8);
	ic[7] = (uint8_t)mtu;
	/* The quote: our IP header and the first 8 bytes of our TCP header. */
	memset(q, 0, 28);
	q[0] = 0x45;
	q[9] = 6;
	memcpy(q + 12, &f->me, 4);
	memcpy(q + 16, &f->peer, 4);
	memcpy(q + 20, &pcb->local_port, 2);
	memcpy(q + 22, &pcb->remote_port, 2);
	wire_put32(q + 24, seq);
	c = csum_fold(csum_add(0, ic, 8 + 28));
	ic[2] = (uint8_t)(c >> 8);
	ic[3] = (uint8_t)c;
	ip[9] = 1;
	send_ip(f, ip, 8 + 28, 1);
}

static void
op_raw(struct fz *f)
{
	uint8_t *ip = f->frame + 14;
	uint32_t len = rd16(f) % 1480, i;

	for (i = 0; i < len; i++)
		ip[20 + i] = rd8(f);
	if (len >= 4) {
		ip[20 + 2] = 0;
		ip[20 + 3] = 80;
	}
	ip[9] = 6;
	send_ip(f, ip, len, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz fz;
	struct fz *f = &fz;
	struct shunt_stack_config c;
	struct shunt_pool_usage u;
	int i, steps = 0;

	memset(f, 0, sizeof(*f));
	memset(edges, 0, sizeof(edges));
	g_fz = f;
	f->d = data;
	f->n = size;
	shunt_stack_config_init(&c);
	shunt_vclock_init(&f->vc, 1000000000ull);
	c.clock = &f->vc.clock;
	c.seed = 1;
	c.pbuf_count = 1024;
	c.pbuf_hdr_count = 2048;
	c.tcp_syn_backlog = 2;		/* reach SYN cookies quickly */
	c.tcp_max_time_wait = 2;
	c.tcp_sndbuf = 16384;
	c.tcp_rcvbuf = 8192;
	c.tcp_ooo_max_bytes = 12000;
	c.tcp_max_pcbs = 16;
	c.tcp_challenge_ack_per_sec = 100;
	c.tcp_cc = (size > 0 && (data[0] & 1)) ? "newreno" : "cubic";
	f->s = shunt_stack_create(&c, NULL);
	if (f->s == NULL)
		abort();
	f->nif = shunt_script_netif_create(f->s, our_mac, 1500, 0, NULL);
	f->me = htonl(0xc6120002);
	f->peer = htonl(0xc6120001);
	shunt_netif_set_ip4(f->nif, f->me, htonl(0xffffff00), 0);
	shunt_netif_up(f->nif);
	shunt_arp_add_static(f->s, f->peer, peer_mac);
	memset(f->wbuf, 'w', sizeof(f->wbuf));
	f->lpcb = shunt_tcp_new(f->s);
	shunt_tcp_bind(f->lpcb, 0, htons(80));
	shunt_tcp_listen(f->lpcb, 3);
	shunt_tcp_arg(f->lpcb, f);
	shunt_tcp_accept(f->lpcb, on_accept);
	f->pos = 1;

	while (f->pos < f->n && steps++ < 2000) {
		uint8_t op = rd8(f);
		int si;
		struct shunt_tcp_pcb *pcb;

		if (getenv("FUZZ_TCP_TRACE") != NULL) {
			const struct shunt_tcp_pcb *q;

			for (q = f->s->tcp->all; q != NULL; q = q->anext)
				fprintf(stderr, "  pcb %p state %d una %u nxt %u sb %u flags %#x\n", (void *)q,
				    q->state, q->snd_una - q->iss, q->snd_nxt - q->iss, q->sb_len, q->flags);
			fprintf(stderr, "op %d at %zu\n", op % 12, f->pos - 1);
		}

		switch (op % 12) {
		case 0:
			op_segment(f);
			break;
		case 1: {
			uint8_t a = rd8(f);

			shunt_vclock_advance(&f->vc, a == 255 ? 120000000000ull : (uint64_t)a * 3000000ull);
			shunt_stack_poll(f->s);
			break;
		}
		case 2: {
			uint16_t len;
			uint8_t fl;

			si = rd8(f) % NSLOT;
			len = rd16(f);
			fl = rd8(f);
			if (f->slot[si].pcb != NULL) {
				if (fl & 0x80) {
					struct shunt_pbuf *p = shunt_pbuf_alloc(f->s, 0, len % 5000 + 1);

					if (p != NULL && shunt_tcp_write_pbuf(f->slot[si].pcb, p, fl & 1) != 0)
						shunt_pbuf_free(p);
				} else {
					shunt_tcp_write(f->slot[si].pcb, f->wbuf, len % 40000, fl & 1);
				}
			}
			break;
		}
		case 3:
			si = rd8(f) % NSLOT;
			f->slot[si].mode = rd8(f);
			break;
		case 4:
			si = rd8(f) % NSLOT;
			if ((pcb = f->slot[si].pcb) != NULL) {
				f->slot[si].pcb = NULL;
				shunt_tcp_close(pcb);
			}
			break;
		case 5: {
			uint8_t how;

			si = rd8(f) % NSLOT;
			how = rd8(f);
			if (f->slot[si].pcb != NULL)
				shunt_tcp_shutdown(f->slot[si].pcb, how & 1, (how >> 1) & 1);
			break;
		}
		case 6:
			si = rd8(f) % NSLOT;
			if ((pcb = f->slot[si].pcb) != NULL) {
				f->slot[si].pcb = NULL;
				shunt_tcp_abort(pcb);
			}
			break;
		case 7: {
			uint8_t port = rd8(f);

			si = free_slot(f);
			if (si < 0)
				break;
			pcb = shunt_tcp_new(f->s);
			if (pcb == NULL)
				break;
			attach(f, si, pcb);
			if (shunt_tcp_connect(pcb, f->peer, htons((uint16_t)(40000 + (port & 3))), on_connected) != 0) {
				f->slot[si].pcb = NULL;
				shunt_tcp_close(pcb);
			}
			break;
		}
		case 8: {
			uint8_t opt, v;

			si = rd8(f) % NSLOT;
			opt = rd8(f);
			v = rd8(f);
			if (f->slot[si].pcb != NULL)
				shunt_tcp_setopt(f->slot[si].pcb, 1 + opt % 19, (opt & 0x80) ? v * 100 : v);
			break;
		}
		case 9:
			op_icmp(f);
			break;
		case 10: {
			uint16_t len;

			si = rd8(f) % NSLOT;
			len = rd16(f);
			if (f->slot[si].pcb != NULL) {
				uint32_t n = len > f->slot[si].unread ? f->slot[si].unread : len;

				f->slot[si].unread -= n;
				shunt_tcp_recved(f->slot[si].pcb, n);
			}
			break;
		}
		case 11:
			op_raw(f);
			break;
		}
		drain(f);
		if (getenv("FUZZ_TCP_TRACE") != NULL) {
			const struct shunt_tcp_pcb *q;

			for (q = f->s->tcp->all; q != NULL; q = q->anext)
				fprintf(stderr, "  -> pcb %p state %d una %u nxt %u sb %u flags %#x\n", (void *)q,
				    q->state, q->snd_una - q->iss, q->snd_nxt - q->iss, q->sb_len, q->flags);
		}
		check_all(f);
	}
	/* Close what the app holds, let every timer run out. */
	for (i = 0; i < NSLOT; i++) {
		struct shunt_tcp_pcb *pcb = f->slot[i].pcb;

		if (pcb != NULL) {
			f->slot[i].pcb = NULL;
			shunt_tcp_close(pcb);
		}
	}
	shunt_tcp_close(f->lpcb);
	/* 40 minutes: beyond the longest retry run (15 RTOs, up to 120 s each) and 2 MSL. */
	for (i = 0; i < 80; i++) {
		shunt_vclock_advance(&f->vc, 30000000000ull);
		shunt_stack_poll(f->s);
		shunt_script_clear(f->nif);
		check_all(f);
	}
	if (f->s->tcp->npcbs != 0)
		FAIL("%u PCBs left after every timer ran out (first: state %d flags %#x sb %u timers %d %d %d)",
		    f->s->tcp->npcbs, f->s->tcp->all->state, f->s->tcp->all->flags, f->s->tcp->all->sb_len,
		    timer_pending(&f->s->tcp->all->t_rexmt), timer_pending(&f->s->tcp->all->t_delack),
		    timer_pending(&f->s->tcp->all->t_misc));
	if (shunt_stack_destroy_checked(f->s, &u) != 0) {
		fprintf(stderr, "leak: %u pbufs %u headers\n", u.pbuf_in_use, u.pbuf_hdr_in_use);
		abort();
	}
	return 0;
}
