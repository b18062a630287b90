/*
 * UDP (RFC 768; RFC 1122 §4.1) and its raw (callback) API.
 * Below: ip4.c.  Above: the application's callbacks, or netconn.
 *
 * PCBs hang in a hash of local ports.  A unicast datagram goes to the most
 * specific match (connected 4-tuple, then bound address, then wildcard); a
 * broadcast goes to every PCB bound to the port.  Nobody listening: ICMP port
 * unreachable (RFC 1122 §4.1.3.1), except for broadcasts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "priv/stack.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/udp.h"
#include "wire/icmp4.h"

#define EPH_LOW		32768	/* Linux ip_local_port_range */
#define EPH_HIGH	60999

static inline unsigned
port_hash(uint16_t port_be)
{
	return (unsigned)(ntohs(port_be) * 2654435761u >> 24) & (UDP_HASH - 1);
}

struct shunt_udp_pcb *
shunt_udp_new(struct shunt_stack *s)
{
	struct shunt_udp_pcb *pcb = calloc(1, sizeof(*pcb));

	if (pcb == NULL)
		return NULL;
	pcb->stack = s;
	pcb->ttl = s->cfg.ip_ttl;
	return pcb;
}

static void
pcb_unhash(struct shunt_udp_pcb *pcb)
{
	struct shunt_udp_pcb **pp;

	if (!pcb->bound)
		return;
	for (pp = &pcb->stack->udp.hash[port_hash(pcb->local_port)]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == pcb) {
			*pp = pcb->hnext;
			break;
		}
	}
	pcb->bound = 0;
	pcb->stack->udp.count--;
}

void
shunt_udp_remove(struct shunt_udp_pcb *pcb)
{
	if (pcb == NULL)
		return;
	pcb_unhash(pcb);
	free(pcb);
}

void
udp_fini(struct shunt_stack *s)
{
	/* PCBs belong to their owners; unhook any left so no callback can fire. */
	int i;

	for (i = 0; i < UDP_HASH; i++) {
		while (s->udp.hash[i] != NULL) {
			struct shunt_udp_pcb *pcb = s->udp.hash[i];

			s->udp.hash[i] = pcb->hnext;
			pcb->bound = 0;
		}
	}
}

static int
port_conflict(struct shunt_stack *s, const struct shunt_udp_pcb *self, uint32_t ip, uint16_t port)
{
	struct shunt_udp_pcb *p;

	for (p = s->udp.hash[port_hash(port)]; p != NULL; p = p->hnext) {
		if (p == self || p->local_port != port)
			continue;
		if (p->local_ip != 0 && ip != 0 && p->local_ip != ip)
			continue;
		if ((p->flags & SHUNT_UDP_F_REUSEADDR) && (self->flags & SHUNT_UDP_F_REUSEADDR))
			continue;
		return 1;
	}
	return 0;
}

static int
pick_ephemeral(struct shunt_stack *s, struct shunt_udp_pcb *pcb, uint32_t ip, uint16_t *port_be)
{
	uint32_t range = EPH_HIGH - EPH_LOW + 1, i;

	for (i = 0; i < range; i++) {
		uint16_t cand = s->udp.next_ephemeral;

		s->udp.next_ephemeral = cand >= EPH_HIGH ? EPH_LOW : (uint16_t)(cand + 1);
		if (cand < EPH_LOW || cand > EPH_HIGH)
			continue;
		if (!port_conflict(s, pcb, ip, htons(cand))) {
			*port_be = htons(cand);
			return 0;
		}
	}
	return -EADDRINUSE;
}

int
shunt_udp_bind(struct shunt_udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	struct shunt_stack *s = pcb->stack;
	unsigned h;
	int err, port_chosen;

	if (pcb->bound)
		return -EINVAL;
	if (ip != 0 && ip != IP4_BCAST && !netif_is_local_ip(s, ip)) {
		int i, bc = 0;

		for (i = 0; i < s->nnetifs; i++)
			bc |= netif_is_bcast(s->netifs[i], ip);
		if (!bc)
			return -EADDRNOTAVAIL;
	}
	port_chosen = port == 0;
	if (port == 0) {
		err = pick_ephemeral(s, pcb, ip, &port);
		if (err != 0)
			return err;
	} else if (port_conflict(s, pcb, ip, port)) {
		return -EADDRINUSE;
	}
	/* Linux's SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK: what disconnect() must not undo. */
	pcb->addr_locked = ip != 0;
	pcb->port_locked = !port_chosen;
	pcb->local_ip = ip;
	pcb->local_port = port;
	h = port_hash(port);
	pcb->hnext = s->udp.hash[h];
	s->udp.hash[h] = pcb;
	pcb->bound = 1;
	s->udp.count++;
	return 0;
}

int
shunt_udp_connect(struct shunt_udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	struct ip4_route rt;
	int err;

	if (ip == 0 && port == 0) {
		shunt_udp_disconnect(pcb);
		return 0;
	}
	if (port == 0 || ip == 0)
		return -EINVAL;
	err = ip4_route_lookup(pcb->stack, ip, &rt);
	if (err != 0)
		return err;
	if (!pcb->bound) {
		err = shunt_udp_bind(pcb, 0, 0);
		if (err != 0)
			return err;
	}
	/* The route fixes the source address, as ip4_datagram_connect does: getsockname() shows it. */
	if (pcb->local_ip == 0) {
		pcb->local_ip = rt.src;
		pcb->addr_auto = 1;
	}
	pcb->remote_ip = ip;
	pcb->remote_port = port;
	pcb->connected = 1;
	return 0;
}

void
shunt_udp_disconnect(struct shunt_udp_pcb *pcb)
{
	pcb->remote_ip = 0;
	pcb->remote_port = 0;
	pcb->connected = 0;
	/* Linux's udp_disconnect: what connect() chose implicitly goes; what the user bound stays. */
	if (pcb->addr_auto && !pcb->addr_locked) {
		pcb->local_ip = 0;
		pcb->addr_auto = 0;
	}
	if (pcb->bound && !pcb->port_locked) {
		pcb_unhash(pcb);
		pcb->local_ip = pcb->addr_locked ? pcb->local_ip : 0;
		pcb->local_port = 0;
	}
}

void
shunt_udp_recv(struct shunt_udp_pcb *pcb, shunt_udp_recv_fn fn, void *arg)
{
	pcb->recv = fn;
	pcb->arg = arg;
}

void
shunt_udp_err(struct shunt_udp_pcb *pcb, shunt_udp_err_fn fn)
{
	pcb->err = fn;
}

void
shunt_udp_set_flags(struct shunt_udp_pcb *pcb, uint32_t flags)
{
	pcb->flags = flags;
}

uint32_t
shunt_udp_get_flags(struct shunt_udp_pcb *pcb)
{
	return pcb->flags;
}

void
shunt_udp_set_ttl(struct shunt_udp_pcb *pcb, uint8_t ttl)
{
	pcb->ttl = ttl;
}

void
shunt_udp_set_tos(struct shunt_udp_pcb *pcb, uint8_t tos)
{
	pcb->tos = tos;
}

void
shunt_udp_local(struct shunt_udp_pcb *pcb, uint32_t *ip, uint16_t *port)
{
	*ip = pcb->local_ip;
	*port = pcb->local_port;
}

void
shunt_udp_remote(struct shunt_udp_pcb *pcb, uint32_t *ip, uint16_t *port)
{
	*ip = pcb->remote_ip;
	*port = pcb->remote_port;
}

int
shunt_udp_sendto(struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port)
{
	struct shunt_stack *s = pcb->stack;
	struct ip4_route rt;
	struct shunt_pbuf *hp;
	struct udp_hdr uh;
	struct ip4_tx tx;
	uint32_t len = UDP_HDR_LEN + p->tot_len;
	int err, bcast = 0, i;

	stack_refresh_now(s);
	if (ip == 0 || port == 0)
		return -EDESTADDRREQ;
	if (len > 65535 - IP4_HDR_LEN)
		return -EMSGSIZE;
	err = ip4_route_lookup(s, ip, &rt);
	if (err != 0)
		return err;
	for (i = 0; i < s->nnetifs && !bcast; i++)
		bcast = netif_is_bcast(s->netifs[i], ip);
	if (bcast && !(pcb->flags & SHUNT_UDP_F_BROADCAST))
		return -EACCES;
	if (!pcb->bound) {
		err = shunt_udp_bind(pcb, 0, 0);
		if (err != 0)
			return err;
	}
	hp = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM - UDP_HDR_LEN, UDP_HDR_LEN);
	if (hp == NULL) {
		STAT_INC(s, udp_drop_nobuf);
		return -ENOBUFS;
	}
	shunt_pbuf_ref(p);
	shunt_pbuf_cat(hp, p);
	tx.src = pcb->local_ip != 0 && pcb->local_ip != IP4_BCAST ? pcb->local_ip : rt.src;
	tx.dst = ip;
	tx.proto = IP4_PROTO_UDP;
	tx.ttl = pcb->ttl;
	tx.tos = pcb->tos;
	tx.df = 0;
	uh.sport = ntohs(pcb->local_port);
	uh.dport = ntohs(port);
	uh.len = (uint16_t)len;
	uh.csum = 0;
	if (pcb->flags & SHUNT_UDP_F_NOCHKSUM) {
		udp_emit(&uh, hp->payload);
	} else if ((rt.nif->caps & SHUNT_NETIF_CAP_TX_UDP_CSUM) && len + IP4_HDR_LEN <= rt.nif->info.mtu) {
		/* The NIC finishes the sum; we leave the pseudo-header sum in the field. */
		uh.csum = (uint16_t)~csum_fold(csum_pseudo(tx.src, tx.dst, IP4_PROTO_UDP, len));
		udp_emit(&uh, hp->payload);
		hp->ol_flags |= SHUNT_PBUF_TX_L4_CSUM | SHUNT_PBUF_TX_UDP;
		hp->l4_len = UDP_HDR_LEN;
	} else {
		uint16_t c;

		udp_emit(&uh, hp->payload);
		c = csum_fold(csum_pbuf(csum_pseudo(tx.src, tx.dst, IP4_PROTO_UDP, len), hp, 0, len));
		/* RFC 768: a computed zero is sent as all ones. */
		wire_put16(hp->payload + 6, c == 0 ? 0xffff : c);
	}
	STAT_INC(s, udp_tx);
	err = ip4_output(s, hp, &tx, &rt);
	stack_api_done(s);
	return err;
}

int
shunt_udp_send(struct shunt_udp_pcb *pcb, struct shunt_pbuf *p)
{
	if (!pcb->connected)
		return -EDESTADDRREQ;
	return shunt_udp_sendto(pcb, p, pcb->remote_ip, pcb->remote_port);
}

int
shunt_udp_sendto_buf(struct shunt_udp_pcb *pcb, const void *data, uint32_t len, uint32_t ip, uint16_t port)
{
	struct shunt_pbuf *p;
	int err;

	if (len > 65535)
		return -EMSGSIZE;
	p = shunt_pbuf_alloc(pcb->stack, SHUNT_PBUF_HEADROOM, len);
	if (p == NULL)
		return -ENOBUFS;
	shunt_pbuf_copy_in(p, 0, data, len);
	err = shunt_udp_sendto(pcb, p, ip, port);
	shunt_pbuf_free(p);
	return err;
}

/* How well pcb matches a datagram: -1 not at all, higher is more specific. */
static inline int
match_score(const struct shunt_udp_pcb *pcb, uint16_t dport, const struct ip4_rx *ip, uint16_t sport)
{
	int score = 0;

	if (pcb->local_port != dport)
		return -1;
	if (pcb->local_ip != 0) {
		if (pcb->local_ip != ip->dst)
			return -1;
		score += 2;
	}
	if (pcb->connected) {
		if (pcb->remote_ip != ip->src || pcb->remote_port != sport)
			return -1;
		score += 4;
	}
	return score;
}

void
udp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip)
{
	struct shunt_udp_pcb *pcb, *best = NULL;
	struct udp_hdr uh;
	uint16_t dport, sport;
	int best_score = -1, sc;

	STAT_INC(s, udp_rx);
	if ((p->len < UDP_HDR_LEN && shunt_pbuf_pullup(p, UDP_HDR_LEN) != 0) ||
	    udp_parse(p->payload, ip->len, &uh) < 0) {
		STAT_INC(s, udp_drop_malformed);
		goto drop;
	}
	if (uh.len < p->tot_len)
		shunt_pbuf_trim(p, uh.len);
	if (uh.csum != 0 && !(p->ol_flags & SHUNT_PBUF_RX_L4_OK) &&
	    csum_fold(csum_pbuf(csum_pseudo(ip->src, ip->dst, IP4_PROTO_UDP, uh.len), p, 0, uh.len)) != 0) {
		STAT_INC(s, udp_drop_csum);
		goto drop;
	}
	dport = htons(uh.dport);
	sport = htons(uh.sport);
	if (unlikely(ip->bcast)) {
		/* Every PCB bound to the port gets a copy. */
		struct shunt_udp_pcb *next;
		int delivered = 0;

		shunt_pbuf_header(p, -UDP_HDR_LEN);
		for (pcb = s->udp.hash[port_hash(dport)]; pcb != NULL; pcb = next) {
			next = pcb->hnext;
			if (pcb->local_port != dport || pcb->recv == NULL ||
			    (pcb->local_ip != 0 && pcb->local_ip != ip->dst && pcb->local_ip != IP4_BCAST))
				continue;
			shunt_pbuf_ref(p);
			delivered++;
			pcb->recv(pcb->arg, pcb, p, ip->src, sport);
		}
		if (!delivered)
			STAT_INC(s, udp_drop_noport);
		goto drop;
	}
	for (pcb = s->udp.hash[port_hash(dport)]; pcb != NULL; pcb = pcb->hnext) {
		sc = match_score(pcb, dport, ip, sport);
		if (sc > best_score) {
			best_score = sc;
			best = pcb;
		}
	}
	if (best == NULL) {
		STAT_INC(s, udp_drop_noport);
		icmp_send_error(s, p, ip, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH);
		goto drop;
	}
	if (best->recv == NULL) {
		STAT_INC(s, udp_drop_noport);
		goto drop;
	}
	shunt_pbuf_header(p, -UDP_HDR_LEN);
	best->recv(best->arg, best, p, ip->src, sport);
	return;
drop:
	shunt_pbuf_free(p);
}

void
udp_icmp_error(struct shunt_stack *s, uint32_t src, uint32_t dst, const uint8_t *l4, uint32_t len, int err)
{
	struct shunt_udp_pcb *pcb;
	uint16_t sport, dport;

	if (len < 4)
		return;
	sport = htons(wire_get16(l4));
	dport = htons(wire_get16(l4 + 2));
	/* As on Linux, only connected sockets hear about errors. */
	for (pcb = s->udp.hash[port_hash(sport)]; pcb != NULL; pcb = pcb->hnext) {
		if (pcb->local_port == sport && pcb->connected && pcb->remote_ip == dst &&
		    pcb->remote_port == dport && (pcb->local_ip == 0 || pcb->local_ip == src)) {
			if (pcb->err != NULL)
				pcb->err(pcb->arg, pcb, -err);
			return;
		}
	}
}
