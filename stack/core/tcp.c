/*
 * TCP: control blocks, lookup tables, ports, initial sequence numbers and the
 * raw (callback) API.  Below: tcp_output.c for everything that goes on the
 * wire.  Above: the application, or netconn.
 *
 * Lookup is by hash only (DESIGN.md §2): established connections by their
 * 4-tuple, listeners by local port, and a bind table by local port for the
 * EADDRINUSE rules and ephemeral port choice (RFC 6056 algorithm 3), which
 * lets many connections share a local port as long as their 4-tuples differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "priv/stack.h"
#include "priv/tcp.h"
#include "wire/ip4.h"

#define EPH_LOW		32768
#define EPH_HIGH	60999

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

const char *
shunt_tcp_state_name(enum shunt_tcp_state st)
{
	return (unsigned)st <= SHUNT_TCP_TIME_WAIT ? state_names[st] : "?";
}

int
tcp_stack_init(struct shunt_stack *s)
{
	struct tcp_stack *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->conn = calloc(s->cfg.tcp_conn_hash, sizeof(*t->conn));
	if (t->conn == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->conn_mask = s->cfg.tcp_conn_hash - 1;
	t->default_cc = tcp_cc_find(s->cfg.tcp_cc != NULL ? s->cfg.tcp_cc : "cubic");
	if (t->default_cc == NULL) {
		free(t->conn);
		free(t);
		return -EINVAL;
	}
	t->next_ephemeral = stack_rand(s) % (EPH_HIGH - EPH_LOW + 1);
	t->hash_seed = (uint32_t)stack_rand(s) | 1;
	s->tcp = t;
	return 0;
}

void
tcp_stack_fini(struct shunt_stack *s)
{
	struct tcp_stack *t = s->tcp;

	if (t == NULL)
		return;
	/* Everything goes, owned by the application or not; no callbacks run now. */
	while (t->all != NULL) {
		t->all->err_fn = NULL;
		t->all->flags |= TF_CLOSED;
		tcp_pcb_free(t->all);
	}
	free(t->conn);
	free(t);
	s->tcp = NULL;
}

/* ---- lookup tables ---- */

static inline uint32_t
conn_hash(const struct tcp_stack *t, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	/* Multiply-xorshift with a secret seed: cheap, and not steerable from outside. */
	uint64_t h = ((uint64_t)(rip ^ t->hash_seed) << 32 | ((uint32_t)lport << 16 | rport)) ^ lip;

	h *= 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h & t->conn_mask;
}

void
tcp_conn_hash_insert(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;
	struct shunt_tcp_pcb **head = &t->conn[conn_hash(t, pcb->local_ip, pcb->local_port, pcb->remote_ip,
	    pcb->remote_port)];

	pcb->cnext = *head;
	if (*head != NULL)
		(*head)->cpprev = &pcb->cnext;
	pcb->cpprev = head;
	*head = pcb;
	pcb->flags |= TF_IN_CONN_HASH;
}

void
tcp_conn_hash_remove(struct shunt_tcp_pcb *pcb)
{
	if (!(pcb->flags & TF_IN_CONN_HASH))
		return;
	if (pcb->cnext != NULL)
		pcb->cnext->cpprev = pcb->cpprev;
	*pcb->cpprev = pcb->cnext;
	pcb->flags &= ~TF_IN_CONN_HASH;
}

struct shunt_tcp_pcb *
tcp_conn_lookup(struct shunt_stack *s, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct tcp_stack *t = s->tcp;
	struct shunt_tcp_pcb *pcb;

	for (pcb = t->conn[conn_hash(t, lip, lport, rip, rport)]; pcb != NULL; pcb = pcb->cnext)
		if (pcb->remote_ip == rip && pcb->remote_port == rport && pcb->local_port == lport &&
		    pcb->local_ip == lip)
			return pcb;
	return NULL;
}

void
tcp_bind_hash_insert(struct shunt_tcp_pcb *pcb)
{
	struct shunt_tcp_pcb **head = &pcb->stack->tcp->bind[ntohs(pcb->local_port) & (TCP_BIND_HASH - 1)];

	pcb->bnext = *head;
	if (*head != NULL)
		(*head)->bpprev = &pcb->bnext;
	pcb->bpprev = head;
	*head = pcb;
	pcb->flags |= TF_IN_BIND_HASH;
}

static void
bind_hash_remove(struct shunt_tcp_pcb *pcb)
{
	if (!(pcb->flags & TF_IN_BIND_HASH))
		return;
	if (pcb->bnext != NULL)
		pcb->bnext->bpprev = pcb->bpprev;
	*pcb->bpprev = pcb->bnext;
	pcb->flags &= ~TF_IN_BIND_HASH;
}

static void
listen_hash_insert(struct shunt_tcp_pcb *pcb)
{
	struct shunt_tcp_pcb **head = &pcb->stack->tcp->listen[ntohs(pcb->local_port) & (TCP_LISTEN_HASH - 1)];

	pcb->lnext = *head;
	if (*head != NULL)
		(*head)->lpprev = &pcb->lnext;
	pcb->lpprev = head;
	*head = pcb;
	pcb->flags |= TF_IN_LISTEN;
}

/* Unlinks from the listen hash or from the listener's children: both use lnext. */
static void
lnext_remove(struct shunt_tcp_pcb *pcb)
{
	if (pcb->lpprev == NULL)
		return;
	if (pcb->lnext != NULL)
		pcb->lnext->lpprev = pcb->lpprev;
	*pcb->lpprev = pcb->lnext;
	pcb->lnext = NULL;
	pcb->lpprev = NULL;
	pcb->flags &= ~TF_IN_LISTEN;
}

struct shunt_tcp_pcb *
tcp_listen_lookup(struct shunt_stack *s, uint32_t lip, uint16_t lport)
{
	struct shunt_tcp_pcb *pcb, *wild = NULL;

	for (pcb = s->tcp->listen[ntohs(lport) & (TCP_LISTEN_HASH - 1)]; pcb != NULL; pcb = pcb->lnext) {
		if (pcb->local_port != lport)
			continue;
		if (pcb->local_ip == lip)
			return pcb;
		if (pcb->local_ip == 0 && wild == NULL)
			wild = pcb;
	}
	return wild;
}

static void
child_link(struct shunt_tcp_pcb *child, struct shunt_tcp_pcb *lpcb)
{
	child->listener = lpcb;
	child->lnext = lpcb->children;
	if (lpcb->children != NULL)
		lpcb->children->lpprev = &child->lnext;
	child->lpprev = &lpcb->children;
	lpcb->children = child;
}

/* ---- PCB lifecycle ---- */

void
tcp_set_state(struct shunt_tcp_pcb *pcb, uint8_t state)
{
	struct tcp_stack *t = pcb->stack->tcp;

	t->count[pcb->state]--;
	t->count[state]++;
	if (pcb->listener != NULL) {
		if (pcb->state == SHUNT_TCP_SYN_RECEIVED) {
			pcb->listener->syn_pending--;
			t->syn_pending--;
		}
		if (state == SHUNT_TCP_SYN_RECEIVED) {
			pcb->listener->syn_pending++;
			t->syn_pending++;
		}
	}
	pcb->state = state;
}

struct shunt_tcp_pcb *
tcp_pcb_alloc(struct shunt_stack *s)
{
	struct tcp_stack *t = s->tcp;
	struct shunt_tcp_pcb *pcb;

	if (t->npcbs >= s->cfg.tcp_max_pcbs)
		return NULL;
	pcb = calloc(1, sizeof(*pcb));
	if (pcb == NULL)
		return NULL;
	pcb->stack = s;
	pcb->state = SHUNT_TCP_CLOSED;
	pcb->flags = TF_OFFER_SACK | TF_OFFER_TS | TF_OFFER_WS;
	pcb->sb_max = s->cfg.tcp_sndbuf;
	pcb->rcv_buf = s->cfg.tcp_rcvbuf;
	pcb->ttl = s->cfg.ip_ttl;
	pcb->cc = t->default_cc;
	pcb->rto_us = tcp_rto_initial_us(s);
	pcb->keepidle_s = s->cfg.tcp_keepidle_s;
	pcb->keepintvl_s = s->cfg.tcp_keepintvl_s;
	pcb->keepcnt = (uint8_t)(s->cfg.tcp_keepcnt > 255 ? 255 : s->cfg.tcp_keepcnt);
	pcb->mss = 536;
	pcb->rcv_mss = 536;
	pcb->quickack = 16;
	pcb->linger_s = -1;
	pcb->reordering = TCP_REORDER_INIT;
	tcp_timers_init(pcb);
	pcb->anext = t->all;
	if (t->all != NULL)
		t->all->apprev = &pcb->anext;
	pcb->apprev = &t->all;
	t->all = pcb;
	t->npcbs++;
	t->count[SHUNT_TCP_CLOSED]++;
	return pcb;
}

static void
tw_unlink(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;

	if (pcb->twpprev == NULL)
		return;
	if (pcb->twnext != NULL)
		pcb->twnext->twpprev = pcb->twpprev;
	else
		t->tw_tail = pcb->twpprev == &t->tw_head ? NULL :
		    (struct shunt_tcp_pcb *)((char *)pcb->twpprev - offsetof(struct shunt_tcp_pcb, twnext));
	*pcb->twpprev = pcb->twnext;
	pcb->twnext = NULL;
	pcb->twpprev = NULL;
}

static void
queue_free(struct shunt_pbuf *p)
{
	struct shunt_pbuf *n;

	for (; p != NULL; p = n) {
		n = p->qnext;
		p->qnext = NULL;
		shunt_pbuf_free(p);
	}
}

/* Frees what an ended connection no longer needs: buffers and the scoreboard. */
static void
pcb_release_buffers(struct shunt_tcp_pcb *pcb)
{
	queue_free(pcb->sb_head);
	pcb->sb_head = pcb->sb_tail = pcb->sb_cur = NULL;
	pcb->sb_len = 0;
	pcb->sb_cur_off = 0;
	tcp_reass_flush(pcb);
	if (pcb->refused != NULL) {
		shunt_pbuf_free(pcb->refused);
		pcb->refused = NULL;
	}
	free(pcb->sacked);
	pcb->sacked = NULL;
	pcb->nsacked = 0;
}

void
tcp_pcb_free(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;
	struct shunt_tcp_pcb *c;

	tcp_timers_stop(pcb);
	tcp_conn_hash_remove(pcb);
	bind_hash_remove(pcb);
	/* A listener's children lose their parent: half-open ones die, accepted ones live on. */
	while ((c = pcb->children) != NULL) {
		lnext_remove(c);
		c->listener = NULL;
		if (c->state == SHUNT_TCP_SYN_RECEIVED || !(c->flags & (TF_BACKLOG_HELD | TF_ACCEPTING))) {
			t->syn_pending -= c->state == SHUNT_TCP_SYN_RECEIVED;
			if (c->state >= SHUNT_TCP_SYN_RECEIVED && c->state != SHUNT_TCP_TIME_WAIT)
				tcp_send_rst(c);
			c->flags |= TF_CLOSED;
			tcp_pcb_free(c);
		} else {
			c->flags &= ~TF_BACKLOG_HELD;
		}
	}
	if (pcb->listener != NULL) {
		if (pcb->state == SHUNT_TCP_SYN_RECEIVED) {
			pcb->listener->syn_pending--;
			t->syn_pending--;
		}
		if (pcb->flags & TF_BACKLOG_HELD)
			pcb->listener->accept_pending--;
	}
	lnext_remove(pcb);
	tw_unlink(pcb);
	tcp_defer_forget(pcb);
	pcb_release_buffers(pcb);
	t->count[pcb->state]--;
	if (pcb->anext != NULL)
		pcb->anext->apprev = pcb->apprev;
	*pcb->apprev = pcb->anext;
	t->npcbs--;
	free(pcb);
}

/* Does the application hold this PCB (so that it must hear of its end)? */
static int
app_owns(const struct shunt_tcp_pcb *pcb)
{
	return !(pcb->flags & TF_CLOSED) && (pcb->listener == NULL || (pcb->flags & (TF_BACKLOG_HELD | TF_ACCEPTING)));
}

/*
 * The connection ended normally (LAST_ACK acknowledged, TIME_WAIT over or
 * recycled).  A PCB nobody holds is freed; one the application still holds
 * (it shut both directions down without closing) becomes CLOSED and waits
 * for its close: a PCB never vanishes under its owner without a callback.
 */
void
tcp_finished(struct shunt_tcp_pcb *pcb)
{
	if (!app_owns(pcb)) {
		tcp_pcb_free(pcb);
		return;
	}
	tcp_timers_stop(pcb);
	tw_unlink(pcb);
	tcp_conn_hash_remove(pcb);
	pcb_release_buffers(pcb);
	tcp_set_state(pcb, SHUNT_TCP_CLOSED);
}

void
tcp_drop(struct shunt_tcp_pcb *pcb, int err)
{
	shunt_tcp_err_fn fn = pcb->err_fn;
	void *arg = pcb->arg;
	int owned = app_owns(pcb);

	if (err == -ECONNRESET)
		STAT_INC(pcb->stack, tcp_conn_reset);
	else if (err == -ETIMEDOUT)
		STAT_INC(pcb->stack, tcp_conn_timeout);
	tcp_pcb_free(pcb);
	if (owned && fn != NULL && err != 0)
		fn(arg, err);
}

void
tcp_time_wait_enter(struct shunt_tcp_pcb *pcb)
{
	struct tcp_stack *t = pcb->stack->tcp;

	tcp_set_state(pcb, SHUNT_TCP_TIME_WAIT);
	timer_cancel(pcb->stack, &pcb->t_rexmt);
	timer_cancel(pcb->stack, &pcb->t_delack);
	pcb_release_buffers(pcb);
	timer_arm(pcb->stack, &pcb->t_misc, 2 * TCP_MSL_NS(pcb->stack));
	/* Newest at the head: the oldest is recycled when there are too many. */
	pcb->twnext = t->tw_head;
	if (t->tw_head != NULL)
		t->tw_head->twpprev = &pcb->twnext;
	else
		t->tw_tail = pcb;
	pcb->twpprev = &t->tw_head;
	t->tw_head = pcb;
	while (t->count[SHUNT_TCP_TIME_WAIT] > pcb->stack->cfg.tcp_max_time_wait && t->tw_tail != NULL &&
	    t->tw_tail != pcb) {
		struct shunt_tcp_pcb *old = t->tw_tail;

		STAT_INC(pcb->stack, tcp_time_wait_overflow);
		tcp_finished(old);
	}
}

/* ---- sequence numbers, windows, MSS ---- */

uint32_t
tcp_new_isn(struct shunt_stack *s, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. */
	uint8_t buf[12];

	memcpy(buf, &lip, 4);
	memcpy(buf + 4, &rip, 4);
	memcpy(buf + 8, &lport, 2);
	memcpy(buf + 10, &rport, 2);
	return (uint32_t)(s->now / 4000) + (uint32_t)siphash24(s->secret, buf, sizeof(buf));
}

/*
 * The offset of our timestamp clock towards one peer: a keyed hash of the
 * address pair, the same for every connection between the two (as Linux
 * does).  A random offset per connection would hide it from a peer that
 * still holds the previous incarnation of a 4-tuple in TIME_WAIT whether the
 * new SYN is newer (RFC 6191), and the SYN would be refused half of the time.
 */
uint32_t
tcp_ts_offset(struct shunt_stack *s, uint32_t lip, uint32_t rip)
{
	uint8_t buf[9];

	buf[0] = 'T';
	memcpy(buf + 1, &lip, 4);
	memcpy(buf + 5, &rip, 4);
	return (uint32_t)siphash24(s->secret, buf, sizeof(buf));
}

uint32_t
tcp_ts_now(struct shunt_tcp_pcb *pcb)
{
	/* A 1 ms timestamp clock (RFC 7323 §5.4 allows 1 ms to 1 s). */
	return (uint32_t)(pcb->stack->now / 1000000ull) + pcb->ts_offset;
}

int
tcp_choose_wscale(uint32_t rcvbuf)
{
	int ws = 0;

	/* Large enough for the buffer, and at least 7 so autotuned growth fits (as Linux). */
	while (ws < TCP_MAX_WSCALE && (65535u << ws) < rcvbuf)
		ws++;
	return ws < 7 ? 7 : ws;
}

uint16_t
tcp_route_mss(struct shunt_stack *s, uint32_t dst)
{
	struct ip4_route rt;

	if (ip4_route_lookup(s, dst, &rt) != 0)
		return 536;
	return (uint16_t)(rt.nif->info.mtu - IP4_HDR_LEN - TCP_HDR_LEN);
}

static int
pick_port(struct shunt_stack *s, struct shunt_tcp_pcb *pcb, uint32_t lip, uint32_t rip, uint16_t rport,
    uint16_t *out);

/* ---- the raw API ---- */

struct shunt_tcp_pcb *
shunt_tcp_new(struct shunt_stack *s)
{
	return tcp_pcb_alloc(s);
}

static int
addr_overlap(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || a == b;
}

/* May pcb take local (ip, port)?  The rules of Linux's inet_csk_bind_conflict, simplified. */
static int
bind_conflict(struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port)
{
	struct shunt_tcp_pcb *q;

	for (q = pcb->stack->tcp->bind[ntohs(port) & (TCP_BIND_HASH - 1)]; q != NULL; q = q->bnext) {
		if (q == pcb || q->local_port != port || !addr_overlap(q->local_ip, ip))
			continue;
		if ((pcb->flags & TF_REUSEPORT) && (q->flags & TF_REUSEPORT))
			continue;
		if ((pcb->flags & TF_REUSEADDR) && (q->flags & TF_REUSEADDR) && q->state != SHUNT_TCP_LISTEN)
			continue;
		return 1;
	}
	return 0;
}

int
shunt_tcp_bind(struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port)
{
	struct shunt_stack *s = pcb->stack;
	int err;

	if (pcb->state != SHUNT_TCP_CLOSED || (pcb->flags & TF_IN_BIND_HASH))
		return -EINVAL;
	if (ip != 0 && !netif_is_local_ip(s, ip))
		return -EADDRNOTAVAIL;
	if (port == 0) {
		err = pick_port(s, pcb, ip, 0, 0, &port);
		if (err != 0)
			return err;
	} else if (bind_conflict(pcb, ip, port)) {
		return -EADDRINUSE;
	}
	pcb->local_ip = ip;
	pcb->local_port = port;
	tcp_bind_hash_insert(pcb);
	return 0;
}

int
shunt_tcp_listen(struct shunt_tcp_pcb *pcb, int backlog)
{
	struct shunt_tcp_pcb *q;
	int err;

	if (pcb->state == SHUNT_TCP_LISTEN) {
		pcb->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
		return 0;
	}
	if (pcb->state != SHUNT_TCP_CLOSED)
		return -EINVAL;
	if (!(pcb->flags & TF_IN_BIND_HASH)) {
		err = shunt_tcp_bind(pcb, 0, 0);
		if (err != 0)
			return err;
	}
	/* Two listeners on one address need SO_REUSEPORT on both. */
	for (q = pcb->stack->tcp->listen[ntohs(pcb->local_port) & (TCP_LISTEN_HASH - 1)]; q != NULL; q = q->lnext)
		if (q->local_port == pcb->local_port && addr_overlap(q->local_ip, pcb->local_ip) &&
		    !((q->flags & TF_REUSEPORT) && (pcb->flags & TF_REUSEPORT)))
			return -EADDRINUSE;
	pcb->cookie_sent = 0;	/* shares its word with first_rtx_time, which a listener never uses */
	tcp_set_state(pcb, SHUNT_TCP_LISTEN);
	pcb->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
	listen_hash_insert(pcb);
	return 0;
}

/* RFC 6056 algorithm 3: a keyed offset per destination, then a linear probe. */
static int
pick_port(struct shunt_stack *s, struct shunt_tcp_pcb *pcb, uint32_t lip, uint32_t rip, uint16_t rport,
    uint16_t *out)
{
	struct tcp_stack *t = s->tcp;
	uint32_t range = EPH_HIGH - EPH_LOW + 1, i, offset;
	uint8_t key[10];

	memcpy(key, &lip, 4);
	memcpy(key + 4, &rip, 4);
	memcpy(key + 8, &rport, 2);
	offset = (uint32_t)siphash24(s->secret, key, sizeof(key));
	for (i = 0; i < range; i++) {
		uint16_t port = htons((uint16_t)(EPH_LOW + (offset + t->next_ephemeral + i) % range));
		struct shunt_tcp_pcb *q;
		int busy = 0;

		for (q = t->bind[ntohs(port) & (TCP_BIND_HASH - 1)]; q != NULL && !busy; q = q->bnext) {
			if (q == pcb || q->local_port != port || !addr_overlap(q->local_ip, lip))
				continue;
			/* Shared only among connections to different places. */
			if (rip == 0 || q->state == SHUNT_TCP_LISTEN || q->remote_port == 0)
				busy = 1;
		}
		if (busy)
			continue;
		if (rip != 0 && tcp_conn_lookup(s, lip, port, rip, rport) != NULL)
			continue;
		t->next_ephemeral = (t->next_ephemeral + i + 1) % range;
		*out = port;
		return 0;
	}
	return rip != 0 ? -EADDRNOTAVAIL : -EADDRINUSE;
}

int
shunt_tcp_connect(struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port, shunt_tcp_connected_fn connected)
{
	struct shunt_stack *s = pcb->stack;
	struct ip4_route rt;
	uint32_t lip;
	int err;

	switch (pcb->state) {
	case SHUNT_TCP_CLOSED:
		break;
	case SHUNT_TCP_SYN_SENT:
		return -EALREADY;
	case SHUNT_TCP_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (pcb->remote_port != 0)
		return -EISCONN;	/* a connection that ended: Linux wants a new socket */
	if (ip == 0 || port == 0 || ip == IP4_BCAST)
		return -EINVAL;
	stack_refresh_now(s);
	err = ip4_route_lookup(s, ip, &rt);
	if (err != 0)
		return err;
	lip = pcb->local_ip != 0 ? pcb->local_ip : rt.src;
	if (pcb->flags & TF_IN_BIND_HASH) {
		if (tcp_conn_lookup(s, lip, pcb->local_port, ip, port) != NULL)
			return -EADDRNOTAVAIL;
		bind_hash_remove(pcb);
	} else {
		err = pick_port(s, pcb, lip, ip, port, &pcb->local_port);
		if (err != 0)
			return err;
	}
	pcb->local_ip = lip;
	pcb->remote_ip = ip;
	pcb->remote_port = port;
	tcp_bind_hash_insert(pcb);
	pcb->connected_fn = connected;
	pcb->iss = tcp_new_isn(s, lip, pcb->local_port, ip, port);
	pcb->snd_una = pcb->iss;
	pcb->snd_nxt = pcb->iss;
	pcb->high_rxt = pcb->iss;	/* nothing retransmitted yet: Karn's rule must not discard the first sample */
	pcb->ts_offset = tcp_ts_offset(s, lip, ip);
	pcb->mss = tcp_route_mss(s, ip);
	if (pcb->mss_clamp != 0 && pcb->mss_clamp < pcb->mss)
		pcb->mss = pcb->mss_clamp;
	pcb->adv_mss = pcb->mss;
	pcb->rcv_wnd = pcb->rcv_buf;
	pcb->rcv_wscale = (pcb->flags & TF_OFFER_WS) ? (uint8_t)tcp_choose_wscale(pcb->rcv_buf) : 0;
	pcb->cwnd = 10u * pcb->mss;	/* RFC 6928 */
	pcb->ssthresh = UINT32_MAX;
	pcb->cc->init(pcb);
	tcp_set_state(pcb, SHUNT_TCP_SYN_SENT);
	tcp_conn_hash_insert(pcb);
	STAT_INC(s, tcp_active_open);
	pcb->first_rtx_time = s->now;	/* TCP_USER_TIMEOUT counts from the first SYN */
	err = tcp_send_syn(pcb);
	stack_api_done(s);
	return err;
}

int
shunt_tcp_write(struct shunt_tcp_pcb *pcb, const void *data, uint32_t len, int flags)
{
	struct shunt_stack *s = pcb->stack;
	const uint8_t *d = data;
	uint32_t space, done = 0;

	switch (pcb->state) {
	case SHUNT_TCP_ESTABLISHED:
	case SHUNT_TCP_CLOSE_WAIT:
	case SHUNT_TCP_SYN_SENT:
	case SHUNT_TCP_SYN_RECEIVED:
		break;
	case SHUNT_TCP_CLOSED:
	case SHUNT_TCP_LISTEN:
		return -ENOTCONN;
	default:
		return -EPIPE;
	}
	if (pcb->flags & TF_FIN_QUEUED)
		return -EPIPE;
	if (len == 0)
		return 0;
	space = pcb->sb_max > pcb->sb_len ? pcb->sb_max - pcb->sb_len : 0;
	if (space == 0)
		return -EAGAIN;
	if (len > space)
		len = space;
	/* Small writes coalesce into the tail buffer: fewer pbufs, fuller segments. */
	if (pcb->sb_tail != NULL && pcb->sb_tail->kind == SHUNT_PBUF_POOL) {
		struct shunt_pbuf *tp = pcb->sb_tail;
		uint32_t room = shunt_pbuf_tailroom(tp), n = len < room ? len : room;

		if (n > 0) {
			memcpy(tp->payload + tp->len, d, n);
			tp->len = (uint16_t)(tp->len + n);
			tp->tot_len += n;
			done = n;
		}
	}
	while (done < len) {
		struct shunt_pbuf *p = shunt_pbuf_alloc(s, 0, 0);
		uint32_t n;

		if (p == NULL)
			break;
		n = shunt_pbuf_tailroom(p);
		if (n > len - done)
			n = len - done;
		memcpy(p->payload, d + done, n);
		p->len = (uint16_t)n;
		p->tot_len = n;
		p->qnext = NULL;
		if (pcb->sb_tail != NULL)
			pcb->sb_tail->qnext = p;
		else
			pcb->sb_head = p;
		pcb->sb_tail = p;
		done += n;
	}
	pcb->sb_len += done;
	if (done == 0)
		return -ENOBUFS;
	if (flags & SHUNT_TCP_WRITE_MORE)
		pcb->flags |= TF_PUSH_MORE;
	else
		pcb->flags &= ~TF_PUSH_MORE;
	if (pcb->state >= SHUNT_TCP_ESTABLISHED)
		tcp_output(pcb);
	stack_api_done(s);
	return (int)done;
}

int
shunt_tcp_write_pbuf(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int flags)
{
	struct shunt_pbuf *q, *n;

	if (pcb->state == SHUNT_TCP_CLOSED || pcb->state == SHUNT_TCP_LISTEN)
		return -ENOTCONN;
	if (pcb->state > SHUNT_TCP_CLOSE_WAIT || (pcb->flags & TF_FIN_QUEUED))
		return -EPIPE;
	if (pcb->sb_len + p->tot_len > pcb->sb_max)
		return -EAGAIN;
	/* The send buffer holds single pbufs: unchain (each link's reference moves to the queue). */
	for (q = p; q != NULL; q = n) {
		n = q->next;
		q->next = NULL;
		q->tot_len = q->len;
		if (q->len == 0) {
			shunt_pbuf_free(q);
			continue;
		}
		q->qnext = NULL;
		if (pcb->sb_tail != NULL)
			pcb->sb_tail->qnext = q;
		else
			pcb->sb_head = q;
		pcb->sb_tail = q;
		pcb->sb_len += q->len;
	}
	if (flags & SHUNT_TCP_WRITE_MORE)
		pcb->flags |= TF_PUSH_MORE;
	else
		pcb->flags &= ~TF_PUSH_MORE;
	if (pcb->state >= SHUNT_TCP_ESTABLISHED)
		tcp_output(pcb);
	stack_api_done(pcb->stack);
	return 0;
}

int
shunt_tcp_output(struct shunt_tcp_pcb *pcb)
{
	int err;

	stack_refresh_now(pcb->stack);
	err = tcp_output(pcb);
	stack_api_done(pcb->stack);
	return err;
}

void
shunt_tcp_recved(struct shunt_tcp_pcb *pcb, uint32_t len)
{
	uint32_t before = pcb->rcv_adv - pcb->rcv_nxt, after, thresh, clamp;

	if (pcb->state == SHUNT_TCP_LISTEN || pcb->state == SHUNT_TCP_CLOSED)
		return;
	pcb->rcv_wnd += len;
	if (pcb->rcv_wnd > pcb->rcv_buf)
		pcb->rcv_wnd = pcb->rcv_buf;
	/*
	 * Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce only a
	 * worthwhile opening.  And spend an ACK of its own on it only when the
	 * window the peer knows has run low and at least doubles (Linux's rule
	 * in tcp_cleanup_rbuf); otherwise the next ACK carries it, and delayed
	 * ACKs stay delayed for an application that reads at once.
	 */
	after = tcp_rcv_window(pcb);
	thresh = pcb->rcv_buf / 2 < pcb->rcv_mss ? pcb->rcv_buf / 2 : pcb->rcv_mss;
	clamp = 65535u << pcb->rcv_wscale;
	if (clamp > pcb->rcv_buf)
		clamp = pcb->rcv_buf;
	if (pcb->state >= SHUNT_TCP_ESTABLISHED && after >= before + thresh && 2 * before <= clamp &&
	    after >= 2 * before) {
		/* Called from the recv callback: the ACK that ends this input carries the window. */
		if (pcb->stack->tcp->input_pcb == pcb) {
			pcb->flags |= TF_WND_UPDATE;
			return;
		}
		stack_refresh_now(pcb->stack);
		tcp_send_ack(pcb);
		stack_api_done(pcb->stack);
	}
}

int
tcp_deliver(struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p)
{
	int r;

	if (pcb->refused != NULL) {
		/* Order is kept: new data, and the FIN, queue behind what was refused. */
		if (p != NULL)
			shunt_pbuf_cat(pcb->refused, p);
		else
			pcb->flags |= TF_FIN_HELD;
		return 0;
	}
	if ((pcb->flags & TF_RX_SHUT) || pcb->recv_fn == NULL) {
		/* Nobody will read it: consume (and on FIN, nothing more to do); the window stays within the buffer. */
		if (p != NULL) {
			pcb->rcv_wnd += p->tot_len;
			if (pcb->rcv_wnd > pcb->rcv_buf)
				pcb->rcv_wnd = pcb->rcv_buf;
			shunt_pbuf_free(p);
		}
		return 0;
	}
	r = pcb->recv_fn(pcb->arg, pcb, p, 0);
	if (r == SHUNT_TCP_ABORTED)
		return r;
	if (r != 0 && p != NULL) {
		pcb->refused = p;
		tcp_misc_update(pcb);	/* offer it again soon */
	}
	return 0;
}

int
tcp_retry_refused(struct shunt_tcp_pcb *pcb)
{
	struct shunt_pbuf *r = pcb->refused;

	if (r != NULL) {
		pcb->refused = NULL;
		if (tcp_deliver(pcb, r) == SHUNT_TCP_ABORTED)
			return SHUNT_TCP_ABORTED;
	}
	if (pcb->refused == NULL && (pcb->flags & TF_FIN_HELD)) {
		pcb->flags &= ~TF_FIN_HELD;
		if (!(pcb->flags & TF_CLOSED))
			return tcp_deliver(pcb, NULL);
	}
	return 0;
}

int
tcp_notify_sent(struct shunt_tcp_pcb *pcb, uint32_t len)
{
	if (pcb->sent_fn == NULL || (pcb->flags & TF_CLOSED))
		return 0;
	return pcb->sent_fn(pcb->arg, pcb, len) == SHUNT_TCP_ABORTED ? SHUNT_TCP_ABORTED : 0;
}

void
tcp_established(struct shunt_tcp_pcb *pcb)
{
	/* A close or shutdown during the handshake queued a FIN: it goes now. */
	tcp_set_state(pcb, (pcb->flags & TF_FIN_QUEUED) ? SHUNT_TCP_FIN_WAIT_1 : SHUNT_TCP_ESTABLISHED);
	pcb->last_recv = pcb->stack->now;
	tcp_misc_update(pcb);
}

int
shunt_tcp_close(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;

	stack_refresh_now(s);
	pcb->flags |= TF_CLOSED;
	pcb->recv_fn = NULL;
	pcb->sent_fn = NULL;
	pcb->err_fn = NULL;
	pcb->connected_fn = NULL;
	pcb->poll_fn = NULL;
	pcb->accept_fn = NULL;
	switch (pcb->state) {
	case SHUNT_TCP_CLOSED:
	case SHUNT_TCP_LISTEN:
	case SHUNT_TCP_SYN_SENT:
		tcp_pcb_free(pcb);
		break;
	case SHUNT_TCP_SYN_RECEIVED:
	case SHUNT_TCP_ESTABLISHED:
	case SHUNT_TCP_CLOSE_WAIT:
		/*
		 * Unread data at close means the peer's bytes were lost: say so with
		 * a RST (RFC 2525 §2.17).  SO_LINGER 0 asks for the same.
		 */
		if (pcb->refused != NULL || pcb->ooo != NULL || pcb->linger_s == 0) {
			tcp_send_rst(pcb);
			tcp_close_reset(pcb);
			break;
		}
		pcb->flags |= TF_FIN_QUEUED;
		/* RFC 9293 §3.10.4: in SYN_RECEIVED the FIN waits until the handshake completes. */
		if (pcb->state != SHUNT_TCP_SYN_RECEIVED)
			tcp_set_state(pcb, pcb->state == SHUNT_TCP_CLOSE_WAIT ? SHUNT_TCP_LAST_ACK :
			    SHUNT_TCP_FIN_WAIT_1);
		tcp_output(pcb);
		tcp_misc_update(pcb);
		break;
	case SHUNT_TCP_TIME_WAIT:
		if (!timer_pending(&pcb->t_misc))
			tcp_pcb_free(pcb);
		break;
	default:
		/* Already closing: the stack finishes it (or, with SO_LINGER 0, ends it now). */
		if (pcb->linger_s == 0 && pcb->state != SHUNT_TCP_TIME_WAIT) {
			tcp_send_rst(pcb);
			tcp_close_reset(pcb);
			break;
		}
		tcp_misc_update(pcb);
		break;
	}
	stack_api_done(s);
	return 0;
}

/*
 * Ends a connection the application let go of, without freeing it yet: close
 * may be called from inside a callback of this very PCB, while input still
 * holds it.  It leaves the tables at once (so nothing more reaches it) and is
 * freed from the timer wheel at the next poll.
 */
void
tcp_close_reset(struct shunt_tcp_pcb *pcb)
{
	pcb->flags |= TF_CLOSED;
	tcp_conn_hash_remove(pcb);
	bind_hash_remove(pcb);
	timer_cancel(pcb->stack, &pcb->t_rexmt);
	timer_cancel(pcb->stack, &pcb->t_delack);
	pcb_release_buffers(pcb);
	tcp_set_state(pcb, SHUNT_TCP_CLOSED);
	timer_arm(pcb->stack, &pcb->t_misc, 0);
}

int
shunt_tcp_shutdown(struct shunt_tcp_pcb *pcb, int shut_rx, int shut_tx)
{
	if (pcb->state == SHUNT_TCP_LISTEN && shut_rx) {
		/* shutdown(SHUT_RD) on a listener stops it, as on Linux; the PCB stays the app's. */
		return 0;
	}
	if (pcb->state < SHUNT_TCP_SYN_RECEIVED || pcb->state == SHUNT_TCP_TIME_WAIT)
		return -ENOTCONN;
	stack_refresh_now(pcb->stack);
	if (shut_rx)
		pcb->flags |= TF_RX_SHUT;
	if (shut_tx && !(pcb->flags & TF_FIN_QUEUED)) {
		pcb->flags |= TF_FIN_QUEUED;
		/* In SYN_RECEIVED the FIN waits for the handshake to complete (tcp_established). */
		if (pcb->state == SHUNT_TCP_ESTABLISHED)
			tcp_set_state(pcb, SHUNT_TCP_FIN_WAIT_1);
		else if (pcb->state == SHUNT_TCP_CLOSE_WAIT)
			tcp_set_state(pcb, SHUNT_TCP_LAST_ACK);
		tcp_output(pcb);
	}
	stack_api_done(pcb->stack);
	return 0;
}

void
shunt_tcp_abort(struct shunt_tcp_pcb *pcb)
{
	struct shunt_stack *s = pcb->stack;	/* the PCB is gone before the batch is flushed */

	stack_refresh_now(s);
	if (pcb->state >= SHUNT_TCP_SYN_RECEIVED && pcb->state != SHUNT_TCP_TIME_WAIT)
		tcp_send_rst(pcb);
	tcp_drop(pcb, -ECONNABORTED);
	stack_api_done(s);
}

void
shunt_tcp_arg(struct shunt_tcp_pcb *pcb, void *arg)
{
	pcb->arg = arg;
}

void
shunt_tcp_accept(struct shunt_tcp_pcb *pcb, shunt_tcp_accept_fn fn)
{
	pcb->accept_fn = fn;
}

void
shunt_tcp_recv(struct shunt_tcp_pcb *pcb, shunt_tcp_recv_fn fn)
{
	pcb->recv_fn = fn;
}

void
shunt_tcp_sent(struct shunt_tcp_pcb *pcb, shunt_tcp_sent_fn fn)
{
	pcb->sent_fn = fn;
}

void
shunt_tcp_err(struct shunt_tcp_pcb *pcb, shunt_tcp_err_fn fn)
{
	pcb->err_fn = fn;
}

void
shunt_tcp_poll(struct shunt_tcp_pcb *pcb, shunt_tcp_poll_fn fn, uint32_t interval_ms)
{
	pcb->poll_fn = fn;
	pcb->poll_ms = fn != NULL ? (interval_ms ? interval_ms : 500) : 0;
	pcb->poll_next = pcb->stack->now + (uint64_t)pcb->poll_ms * 1000000ull;
	tcp_misc_update(pcb);
}

void
shunt_tcp_backlog_delayed(struct shunt_tcp_pcb *pcb)
{
	if (pcb->listener != NULL && !(pcb->flags & TF_BACKLOG_HELD)) {
		pcb->flags |= TF_BACKLOG_HELD;
		pcb->listener->accept_pending++;
	}
}

void
shunt_tcp_backlog_accepted(struct shunt_tcp_pcb *pcb)
{
	if (pcb->listener != NULL && (pcb->flags & TF_BACKLOG_HELD)) {
		pcb->listener->accept_pending--;
		pcb->flags &= ~TF_BACKLOG_HELD;
	}
	if (pcb->listener != NULL) {
		lnext_remove(pcb);
		pcb->listener = NULL;
	}
}

void
tcp_init_child(struct shunt_tcp_pcb *child, struct shunt_tcp_pcb *lpcb, const struct tcp_seg *seg)
{
	struct shunt_stack *s = lpcb->stack;

	child->local_ip = seg->ip->dst;
	child->local_port = htons(seg->h.dport);
	child->remote_ip = seg->ip->src;
	child->remote_port = htons(seg->h.sport);
	child->flags = (lpcb->flags & (TF_OFFER_SACK | TF_OFFER_TS | TF_OFFER_WS | TF_NODELAY | TF_KEEPALIVE |
	    TF_REUSEADDR | TF_REUSEPORT));
	child->sb_max = lpcb->sb_max;
	child->rcv_buf = lpcb->rcv_buf;
	child->ttl = lpcb->ttl;
	child->tos = lpcb->tos;
	child->cc = lpcb->cc;
	child->keepidle_s = lpcb->keepidle_s;
	child->keepintvl_s = lpcb->keepintvl_s;
	child->keepcnt = lpcb->keepcnt;
	child->mss_clamp = lpcb->mss_clamp;
	child->user_timeout_ms = lpcb->user_timeout_ms;
	child->linger_s = lpcb->linger_s;
	child->arg = lpcb->arg;
	child->irs = seg->seq;
	child->rcv_nxt = seg->seq + 1;
	child->rcv_wnd = child->rcv_buf;
	child->ts_offset = tcp_ts_offset(s, child->local_ip, child->remote_ip);
	child->mss = tcp_route_mss(s, child->remote_ip);
	if (child->mss_clamp != 0 && child->mss_clamp < child->mss)
		child->mss = child->mss_clamp;
	child->adv_mss = child->mss;
	child->peer_mss = (seg->o.present & TCPO_MSS) ? seg->o.mss : 536;
	child_link(child, lpcb);
}

/* ---- options and information ---- */

int
shunt_tcp_setopt(struct shunt_tcp_pcb *pcb, int opt, int v)
{
	uint32_t bit = 0;

	switch (opt) {
	case SHUNT_TCP_OPT_NODELAY:
		bit = TF_NODELAY;
		break;
	case SHUNT_TCP_OPT_CORK:
		if (v)
			pcb->flags |= TF_CORK;
		else if (pcb->flags & TF_CORK) {
			pcb->flags &= ~TF_CORK;
			if (pcb->state >= SHUNT_TCP_ESTABLISHED) {
				stack_refresh_now(pcb->stack);
				tcp_output(pcb);
				stack_api_done(pcb->stack);
			}
		}
		return 0;
	case SHUNT_TCP_OPT_KEEPALIVE:
		bit = TF_KEEPALIVE;
		break;
	case SHUNT_TCP_OPT_KEEPIDLE:
		if (v < 1 || v > 32767)
			return -EINVAL;
		pcb->keepidle_s = (uint32_t)v;
		tcp_misc_update(pcb);
		return 0;
	case SHUNT_TCP_OPT_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		pcb->keepintvl_s = (uint32_t)v;
		return 0;
	case SHUNT_TCP_OPT_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		pcb->keepcnt = (uint8_t)v;
		return 0;
	case SHUNT_TCP_OPT_SNDBUF:
		if (v < 0)
			return -EINVAL;
		pcb->sb_max = (uint32_t)v < 4096 ? 4096 : (uint32_t)v;
		return 0;
	case SHUNT_TCP_OPT_RCVBUF:
		if (v < 0)
			return -EINVAL;
		/* The window scale is fixed in the SYN; later the buffer may only change within it. */
		pcb->rcv_buf = (uint32_t)v < 4096 ? 4096 : (uint32_t)v;
		if (pcb->state >= SHUNT_TCP_SYN_SENT && pcb->rcv_buf > (65535u << pcb->rcv_wscale))
			pcb->rcv_buf = 65535u << pcb->rcv_wscale;
		/* A smaller buffer shrinks the free space (the announced right edge stays where it is). */
		if (pcb->state < SHUNT_TCP_SYN_SENT || pcb->rcv_wnd > pcb->rcv_buf)
			pcb->rcv_wnd = pcb->rcv_buf;
		return 0;
	case SHUNT_TCP_OPT_MAXSEG:
		if (v != 0 && (v < 88 || v > 65535))
			return -EINVAL;
		pcb->mss_clamp = (uint16_t)v;
		return 0;
	case SHUNT_TCP_OPT_REUSEADDR:
		bit = TF_REUSEADDR;
		break;
	case SHUNT_TCP_OPT_REUSEPORT:
		bit = TF_REUSEPORT;
		break;
	case SHUNT_TCP_OPT_TTL:
		if (v < 1 || v > 255)
			return -EINVAL;
		pcb->ttl = (uint8_t)v;
		return 0;
	case SHUNT_TCP_OPT_TOS:
		pcb->tos = (uint8_t)v;
		return 0;
	case SHUNT_TCP_OPT_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		pcb->user_timeout_ms = (uint32_t)v;
		return 0;
	case SHUNT_TCP_OPT_SACK:
		bit = TF_OFFER_SACK;
		break;
	case SHUNT_TCP_OPT_TIMESTAMPS:
		bit = TF_OFFER_TS;
		break;
	case SHUNT_TCP_OPT_WSCALE:
		bit = TF_OFFER_WS;
		break;
	case SHUNT_TCP_OPT_QUICKACK:
		/* As Linux's TCP_QUICKACK: on, ACK the next segments at once; off, delay from now on. */
		pcb->quickack = v ? 16 : 0;
		return 0;
	case SHUNT_TCP_OPT_LINGER:
		if (v < -1)
			return -EINVAL;
		pcb->linger_s = v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
	if (v)
		pcb->flags |= bit;
	else
		pcb->flags &= ~bit;
	if (opt == SHUNT_TCP_OPT_KEEPALIVE)
		tcp_misc_update(pcb);
	if (opt == SHUNT_TCP_OPT_NODELAY && v && pcb->state >= SHUNT_TCP_ESTABLISHED) {
		stack_refresh_now(pcb->stack);
		tcp_output(pcb);
		stack_api_done(pcb->stack);
	}
	return 0;
}

int
shunt_tcp_getopt(struct shunt_tcp_pcb *pcb, int opt, int *v)
{
	switch (opt) {
	case SHUNT_TCP_OPT_NODELAY:
		*v = !!(pcb->flags & TF_NODELAY);
		return 0;
	case SHUNT_TCP_OPT_CORK:
		*v = !!(pcb->flags & TF_CORK);
		return 0;
	case SHUNT_TCP_OPT_KEEPALIVE:
		*v = !!(pcb->flags & TF_KEEPALIVE);
		return 0;
	case SHUNT_TCP_OPT_KEEPIDLE:
		*v = (int)pcb->keepidle_s;
		return 0;
	case SHUNT_TCP_OPT_KEEPINTVL:
		*v = (int)pcb->keepintvl_s;
		return 0;
	case SHUNT_TCP_OPT_KEEPCNT:
		*v = pcb->keepcnt;
		return 0;
	case SHUNT_TCP_OPT_SNDBUF:
		*v = (int)pcb->sb_max;
		return 0;
	case SHUNT_TCP_OPT_RCVBUF:
		*v = (int)pcb->rcv_buf;
		return 0;
	case SHUNT_TCP_OPT_MAXSEG:
		*v = pcb->state >= SHUNT_TCP_ESTABLISHED ? pcb->mss : (pcb->mss_clamp ? pcb->mss_clamp : 536);
		return 0;
	case SHUNT_TCP_OPT_REUSEADDR:
		*v = !!(pcb->flags & TF_REUSEADDR);
		return 0;
	case SHUNT_TCP_OPT_REUSEPORT:
		*v = !!(pcb->flags & TF_REUSEPORT);
		return 0;
	case SHUNT_TCP_OPT_TTL:
		*v = pcb->ttl;
		return 0;
	case SHUNT_TCP_OPT_TOS:
		*v = pcb->tos;
		return 0;
	case SHUNT_TCP_OPT_USER_TIMEOUT:
		*v = (int)pcb->user_timeout_ms;
		return 0;
	case SHUNT_TCP_OPT_LINGER:
		*v = pcb->linger_s;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int
shunt_tcp_set_cc(struct shunt_tcp_pcb *pcb, const char *name)
{
	const struct tcp_cc_ops *cc = tcp_cc_find(name);

	if (cc == NULL)
		return -ENOENT;
	pcb->cc = cc;
	if (pcb->state >= SHUNT_TCP_SYN_SENT)
		cc->init(pcb);
	return 0;
}

const char *
shunt_tcp_get_cc(struct shunt_tcp_pcb *pcb)
{
	return pcb->cc->name;
}

enum shunt_tcp_state
shunt_tcp_state(struct shunt_tcp_pcb *pcb)
{
	return (enum shunt_tcp_state)pcb->state;
}

uint32_t
shunt_tcp_sndbuf(struct shunt_tcp_pcb *pcb)
{
	return pcb->sb_max > pcb->sb_len ? pcb->sb_max - pcb->sb_len : 0;
}

uint32_t
shunt_tcp_outq(struct shunt_tcp_pcb *pcb)
{
	return pcb->sb_len;
}

void
shunt_tcp_local(struct shunt_tcp_pcb *pcb, uint32_t *ip, uint16_t *port)
{
	*ip = pcb->local_ip;
	*port = pcb->local_port;
}

void
shunt_tcp_remote(struct shunt_tcp_pcb *pcb, uint32_t *ip, uint16_t *port)
{
	*ip = pcb->remote_ip;
	*port = pcb->remote_port;
}

void
shunt_tcp_get_info(struct shunt_tcp_pcb *pcb, struct shunt_tcp_info *i)
{
	uint32_t sacked = tcp_sacked_bytes(pcb);

	memset(i, 0, sizeof(*i));
	i->state = pcb->state;
	i->ca_state = pcb->ca_state;
	i->retransmits = pcb->nrtx;
	i->probes = pcb->nprobes;
	i->backoff = pcb->nrtx;
	i->options = (uint8_t)(((pcb->flags & TF_TS_OK) ? 1 : 0) | ((pcb->flags & TF_SACK_OK) ? 2 : 0) |
	    ((pcb->flags & TF_WS_OK) ? 4 : 0));
	i->snd_wscale = pcb->snd_wscale;
	i->rcv_wscale = pcb->rcv_wscale;
	i->rto_us = pcb->rto_us;
	i->ato_us = pcb->stack->cfg.tcp_delack_ms * 1000;
	i->snd_mss = pcb->mss;
	i->rcv_mss = pcb->rcv_mss;
	i->unacked = pcb->snd_nxt - pcb->snd_una;
	i->sacked = sacked;
	i->lost = pcb->ca_state >= CA_RECOVERY ? tcp_sack_unsacked_between(pcb, pcb->snd_una,
	    seq_min(pcb->lost_to, pcb->snd_nxt)) : 0;
	i->retrans = seq_gt(pcb->high_rxt, pcb->snd_una) ? pcb->high_rxt - pcb->snd_una : 0;
	i->rtt_us = pcb->srtt_us;
	i->rttvar_us = pcb->rttvar_us;
	i->snd_ssthresh = pcb->ssthresh;
	i->snd_cwnd = pcb->cwnd;
	i->rcv_space = pcb->rcv_buf;
	i->snd_wnd = pcb->snd_wnd;
	i->rcv_wnd = pcb->rcv_wnd;
	i->segs_in = pcb->segs_in;
	i->segs_out = pcb->segs_out;
	i->data_segs_in = pcb->data_segs_in;
	i->data_segs_out = pcb->data_segs_out;
	i->bytes_acked = pcb->bytes_acked_total;
	i->bytes_received = pcb->bytes_received;
	i->bytes_sent = pcb->bytes_sent;
	i->bytes_retrans = pcb->bytes_retrans;
	i->total_retrans = pcb->total_retrans;
	i->ooo_segs_in = pcb->ooo_segs_in;
	i->dup_segs_in = pcb->dup_segs_in;
	i->sack_blocks_in = pcb->sack_blocks_in;
}

uint32_t
shunt_tcp_count(struct shunt_stack *s, enum shunt_tcp_state st)
{
	return (unsigned)st <= SHUNT_TCP_TIME_WAIT ? s->tcp->count[st] : 0;
}
