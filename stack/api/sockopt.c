/*
 * Socket options with Linux's semantics: which exist at which level, their
 * sizes, their errno values, and Linux's conventions (SO_RCVBUF/SO_SNDBUF
 * report twice what was asked, within limits; bad timevals give EDOM).
 * Below: the raw TCP/UDP option calls and the netconn.  Above: socket.c.
 *
 * The socket keeps what was set so that a PCB created later (a reconnect
 * after a failed attempt) gets the same options (sock_apply_opts).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "priv/api.h"
#include "priv/stack.h"


#define WMEM_MAX	212992	/* Linux net.core.wmem_max / rmem_max */
#define SNDBUF_MIN	4608
#define RCVBUF_MIN	2304

static int
get_int(const void *val, socklen_t len, int *out)
{
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int
put_int(void *val, socklen_t *len, int v)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len >= (socklen_t)sizeof(int)) {
		memcpy(val, &v, sizeof(int));
		*len = sizeof(int);
	} else {
		/* Linux copies what fits of a shorter buffer (one byte for booleans). */
		if (*len > 0)
			memcpy(val, &v, *len);
	}
	return 0;
}

static int
timeval_ms(const void *val, socklen_t len, uint32_t *ms)
{
	struct timeval tv;

	if (len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*ms = 1;	/* Linux: a negative timeout means "no wait" */
		return 0;
	}
	*ms = (uint32_t)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
	if (*ms == 0 && tv.tv_usec > 0)
		*ms = 1;
	return 0;
}

static int
put_timeval(void *val, socklen_t *len, uint32_t ms)
{
	struct timeval tv;
	socklen_t n;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	n = *len < (socklen_t)sizeof(tv) ? *len : (socklen_t)sizeof(tv);
	memcpy(val, &tv, n);
	*len = n;
	return 0;
}

static int
tcp_opt(struct shunt_sock *sk, int opt, int v)
{
	struct shunt_tcp_pcb *pcb = sk->nc->pcb.tcp;

	return pcb != NULL ? shunt_tcp_setopt(pcb, opt, v) : 0;
}

void
sock_apply_opts(struct shunt_sock *sk)
{
	struct shunt_netconn *nc = sk->nc;

	if (nc->type == SHUNT_NETCONN_TCP && nc->pcb.tcp != NULL) {
		tcp_opt(sk, SHUNT_TCP_OPT_REUSEADDR, sk->reuseaddr);
		tcp_opt(sk, SHUNT_TCP_OPT_REUSEPORT, sk->reuseport);
		tcp_opt(sk, SHUNT_TCP_OPT_KEEPALIVE, sk->keepalive);
		tcp_opt(sk, SHUNT_TCP_OPT_NODELAY, sk->nodelay);
		tcp_opt(sk, SHUNT_TCP_OPT_CORK, sk->cork);
		if (sk->keepidle)
			tcp_opt(sk, SHUNT_TCP_OPT_KEEPIDLE, sk->keepidle);
		if (sk->keepintvl)
			tcp_opt(sk, SHUNT_TCP_OPT_KEEPINTVL, sk->keepintvl);
		if (sk->keepcnt)
			tcp_opt(sk, SHUNT_TCP_OPT_KEEPCNT, sk->keepcnt);
		if (sk->maxseg)
			tcp_opt(sk, SHUNT_TCP_OPT_MAXSEG, sk->maxseg);
		if (sk->sndbuf)
			tcp_opt(sk, SHUNT_TCP_OPT_SNDBUF, sk->sndbuf);
		if (sk->rcvbuf)
			tcp_opt(sk, SHUNT_TCP_OPT_RCVBUF, sk->rcvbuf);
		if (sk->ttl > 0)
			tcp_opt(sk, SHUNT_TCP_OPT_TTL, sk->ttl);
		tcp_opt(sk, SHUNT_TCP_OPT_TOS, sk->tos);
		if (sk->cc != 0)
			shunt_tcp_set_cc(nc->pcb.tcp, sk->cc == SOCK_CC_CUBIC ? "cubic" : "newreno");
	}
}

static uint8_t
linux_state(uint8_t st)
{
	/* Linux's TCP_* state numbers (include/net/tcp_states.h). */
	static const uint8_t map[] = {
		[SHUNT_TCP_CLOSED] = 7, [SHUNT_TCP_LISTEN] = 10, [SHUNT_TCP_SYN_SENT] = 2,
		[SHUNT_TCP_SYN_RECEIVED] = 3, [SHUNT_TCP_ESTABLISHED] = 1, [SHUNT_TCP_FIN_WAIT_1] = 4,
		[SHUNT_TCP_FIN_WAIT_2] = 5, [SHUNT_TCP_CLOSE_WAIT] = 8, [SHUNT_TCP_CLOSING] = 11,
		[SHUNT_TCP_LAST_ACK] = 9, [SHUNT_TCP_TIME_WAIT] = 6,
	};

	return st < sizeof(map) ? map[st] : 7;
}

static int
get_tcp_info(struct shunt_sock *sk, void *val, socklen_t *len)
{
	struct tcp_info ti;
	struct shunt_tcp_info si;
	socklen_t n;

	memset(&ti, 0, sizeof(ti));
	if (sk->nc->pcb.tcp != NULL) {
		uint32_t mss;

		shunt_tcp_get_info(sk->nc->pcb.tcp, &si);
		mss = si.snd_mss ? si.snd_mss : 536;
		ti.tcpi_state = linux_state(si.state);
		ti.tcpi_ca_state = si.ca_state;
		ti.tcpi_retransmits = si.retransmits;
		ti.tcpi_probes = si.probes;
		ti.tcpi_backoff = si.backoff;
		ti.tcpi_options = (uint8_t)(((si.options & 1) ? TCPI_OPT_TIMESTAMPS : 0) |
		    ((si.options & 2) ? TCPI_OPT_SACK : 0) | ((si.options & 4) ? TCPI_OPT_WSCALE : 0));
		ti.tcpi_snd_wscale = si.snd_wscale;
		ti.tcpi_rcv_wscale = si.rcv_wscale;
		ti.tcpi_rto = si.rto_us;
		ti.tcpi_ato = si.ato_us;
		ti.tcpi_snd_mss = si.snd_mss;
		ti.tcpi_rcv_mss = si.rcv_mss;
		/* Linux counts these in segments. */
		ti.tcpi_unacked = (si.unacked + mss - 1) / mss;
		ti.tcpi_sacked = si.sacked / mss;
		ti.tcpi_lost = si.lost / mss;
		ti.tcpi_retrans = si.retrans / mss;
		ti.tcpi_rtt = si.rtt_us;
		ti.tcpi_rttvar = si.rttvar_us;
		ti.tcpi_snd_ssthresh = si.snd_ssthresh == UINT32_MAX ? 0x7fffffff : si.snd_ssthresh / mss;
		ti.tcpi_snd_cwnd = si.snd_cwnd / mss;
		ti.tcpi_advmss = si.rcv_mss;
		ti.tcpi_reordering = 3;
		ti.tcpi_rcv_space = si.rcv_space;
		ti.tcpi_total_retrans = (uint32_t)si.total_retrans;
		ti.tcpi_pmtu = 1500;
	} else {
		ti.tcpi_state = 7;
	}
	n = *len < (socklen_t)sizeof(ti) ? *len : (socklen_t)sizeof(ti);
	memcpy(val, &ti, n);
	*len = n;
	return 0;
}

int
sock_setopt(struct shunt_sock *sk, int level, int name, const void *val, socklen_t len)
{
	struct shunt_netconn *nc = sk->nc;
	int v = 0, r, tcp = nc->type == SHUNT_NETCONN_TCP;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
			return timeval_ms(val, len, &nc->rcv_timeout_ms);
		case SO_SNDTIMEO:
			return timeval_ms(val, len, &nc->snd_timeout_ms);
		case SO_LINGER: {
			struct linger l;

			if (len < (socklen_t)sizeof(l))
				return -EINVAL;
			memcpy(&l, val, sizeof(l));
			nc->linger_on = l.l_onoff != 0;
			nc->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
			return 0;
		}
		default:
			break;
		}
		if ((r = get_int(val, len, &v)) != 0)
			return r;
		switch (name) {
		case SO_REUSEADDR:
			sk->reuseaddr = v != 0;
			if (tcp)
				return tcp_opt(sk, SHUNT_TCP_OPT_REUSEADDR, v != 0);
			shunt_udp_set_flags(nc->pcb.udp, (shunt_udp_get_flags(nc->pcb.udp) & ~SHUNT_UDP_F_REUSEADDR) |
			    (v ? SHUNT_UDP_F_REUSEADDR : 0));
			return 0;
		case SO_REUSEPORT:
			sk->reuseport = v != 0;
			if (tcp)
				return tcp_opt(sk, SHUNT_TCP_OPT_REUSEPORT, v != 0);
			shunt_udp_set_flags(nc->pcb.udp, (shunt_udp_get_flags(nc->pcb.udp) & ~SHUNT_UDP_F_REUSEADDR) |
			    (v ? SHUNT_UDP_F_REUSEADDR : 0));
			return 0;
		case SO_KEEPALIVE:
			sk->keepalive = v != 0;
			return tcp ? tcp_opt(sk, SHUNT_TCP_OPT_KEEPALIVE, v != 0) : 0;
		case SO_BROADCAST:
			sk->broadcast = v != 0;
			if (!tcp)
				shunt_udp_set_flags(nc->pcb.udp, (shunt_udp_get_flags(nc->pcb.udp) &
				    ~SHUNT_UDP_F_BROADCAST) | (v ? SHUNT_UDP_F_BROADCAST : 0));
			return 0;
		case SO_SNDBUF:
			v = v < 0 ? 0 : v > WMEM_MAX ? WMEM_MAX : v;
			v = v * 2 < SNDBUF_MIN ? SNDBUF_MIN : v * 2;
			sk->sndbuf = v;
			return tcp ? tcp_opt(sk, SHUNT_TCP_OPT_SNDBUF, v) : 0;
		case SO_RCVBUF:
			v = v < 0 ? 0 : v > WMEM_MAX ? WMEM_MAX : v;
			v = v * 2 < RCVBUF_MIN ? RCVBUF_MIN : v * 2;
			sk->rcvbuf = v;
			if (!tcp)
				nc->rcvbuf = (uint32_t)v;
			return tcp ? tcp_opt(sk, SHUNT_TCP_OPT_RCVBUF, v) : 0;
		case SO_RCVLOWAT:
			nc->lowat = v < 1 ? 1 : (uint32_t)v;
			nc_event_key(nc, EPOLLIN | EPOLLRDNORM);	/* tcp_set_rcvlowat re-checks readiness */
			return 0;
		case SO_ERROR:
		case SO_TYPE:
		case SO_ACCEPTCONN:
		case SO_DOMAIN:
		case SO_PROTOCOL:
			return -ENOPROTOOPT;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_IP) {
		if ((r = get_int(val, len, &v)) != 0) {
			/* IP_TOS and IP_TTL also take a single byte. */
			if (len >= 1) {
				v = *(const uint8_t *)val;
				r = 0;
			} else {
				return r;
			}
		}
		switch (name) {
		case IP_TTL:
			if (v == -1)
				v = 64;
			if (v < 1 || v > 255)
				return -EINVAL;
			sk->ttl = v;
			if (tcp)
				return tcp_opt(sk, SHUNT_TCP_OPT_TTL, v);
			shunt_udp_set_ttl(nc->pcb.udp, (uint8_t)v);
			return 0;
		case IP_TOS:
			/* Linux keeps the ECN bits for TCP to itself. */
			sk->tos = tcp ? (v & ~3) : v & 0xff;
			if (tcp)
				return tcp_opt(sk, SHUNT_TCP_OPT_TOS, sk->tos);
			shunt_udp_set_tos(nc->pcb.udp, (uint8_t)sk->tos);
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		if (!tcp)
			return -ENOPROTOOPT;	/* ip_setsockopt: not its level */
		if (name == TCP_CONGESTION) {
			char name_buf[16];
			size_t n = len < sizeof(name_buf) - 1 ? len : sizeof(name_buf) - 1;

			memcpy(name_buf, val, n);
			name_buf[n] = '\0';
			if (strcmp(name_buf, "reno") == 0)
				strcpy(name_buf, "newreno");
			if (strcmp(name_buf, "cubic") != 0 && strcmp(name_buf, "newreno") != 0)
				return -ENOENT;	/* Linux: no such algorithm */
			if (nc->pcb.tcp != NULL && (r = shunt_tcp_set_cc(nc->pcb.tcp, name_buf)) != 0)
				return r;
			sk->cc = strcmp(name_buf, "cubic") == 0 ? SOCK_CC_CUBIC : SOCK_CC_NEWRENO;
			return 0;
		}
		if ((r = get_int(val, len, &v)) != 0)
			return r;
		switch (name) {
		case TCP_NODELAY:
			sk->nodelay = v != 0;
			return tcp_opt(sk, SHUNT_TCP_OPT_NODELAY, v != 0);
		case TCP_CORK:
			sk->cork = v != 0;
			return tcp_opt(sk, SHUNT_TCP_OPT_CORK, v != 0);
		case TCP_KEEPIDLE:
			if (v < 1 || v > 32767)
				return -EINVAL;
			sk->keepidle = v;
			return tcp_opt(sk, SHUNT_TCP_OPT_KEEPIDLE, v);
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767)
				return -EINVAL;
			sk->keepintvl = v;
			return tcp_opt(sk, SHUNT_TCP_OPT_KEEPINTVL, v);
		case TCP_KEEPCNT:
			if (v < 1 || v > 127)
				return -EINVAL;
			sk->keepcnt = v;
			return tcp_opt(sk, SHUNT_TCP_OPT_KEEPCNT, v);
		case TCP_MAXSEG:
			if (v != 0 && (v < 88 || v > 32767))
				return -EINVAL;
			sk->maxseg = v;
			return tcp_opt(sk, SHUNT_TCP_OPT_MAXSEG, v);
		case TCP_QUICKACK:
			return tcp_opt(sk, SHUNT_TCP_OPT_QUICKACK, v != 0);
		case TCP_USER_TIMEOUT:
			if (v < 0)
				return -EINVAL;
			return tcp_opt(sk, SHUNT_TCP_OPT_USER_TIMEOUT, v);
		default:
			return -ENOPROTOOPT;
		}
	}
	return -ENOPROTOOPT;
}

int
sock_getopt(struct shunt_sock *sk, int level, int name, void *val, socklen_t *len)
{
	struct shunt_netconn *nc = sk->nc;
	struct shunt_tcp_pcb *pcb = nc->type == SHUNT_NETCONN_TCP ? nc->pcb.tcp : NULL;
	int tcp = nc->type == SHUNT_NETCONN_TCP, v = 0;

	if ((int)*len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
			return put_timeval(val, len, nc->rcv_timeout_ms);
		case SO_SNDTIMEO:
			return put_timeval(val, len, nc->snd_timeout_ms);
		case SO_LINGER: {
			struct linger l = { nc->linger_on, nc->linger_s };
			socklen_t n = *len < (socklen_t)sizeof(l) ? *len : (socklen_t)sizeof(l);

			memcpy(val, &l, n);
			*len = n;
			return 0;
		}
		case SO_ERROR:
			v = nc->err;
			nc->err = 0;
			break;
		case SO_TYPE:
			v = sk->type;
			break;
		case SO_DOMAIN:
			v = sk->domain;
			break;
		case SO_PROTOCOL:
			v = sk->protocol;
			break;
		case SO_ACCEPTCONN:
			v = (nc->flags & NC_LISTENING) != 0;
			break;
		case SO_REUSEADDR:
			v = sk->reuseaddr;
			break;
		case SO_REUSEPORT:
			v = sk->reuseport;
			break;
		case SO_KEEPALIVE:
			v = sk->keepalive;
			break;
		case SO_BROADCAST:
			v = sk->broadcast;
			break;
		case SO_SNDBUF:
			if (sk->sndbuf)
				v = sk->sndbuf;
			else if (pcb != NULL)
				shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_SNDBUF, &v);
			else
				v = (int)nc->sys->udp_rcvbuf_default;
			break;
		case SO_RCVBUF:
			if (sk->rcvbuf)
				v = sk->rcvbuf;
			else if (pcb != NULL)
				shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_RCVBUF, &v);
			else
				v = (int)nc->rcvbuf;
			break;
		case SO_RCVLOWAT:
			v = nc->lowat ? (int)nc->lowat : 1;
			break;
		case SO_SNDLOWAT:
			v = 1;
			break;
		default:
			return -ENOPROTOOPT;
		}
		return put_int(val, len, v);
	}
	if (level == IPPROTO_IP) {
		switch (name) {
		case IP_TTL:
			v = sk->ttl > 0 ? sk->ttl : 64;
			break;
		case IP_TOS:
			v = sk->tos;
			break;
		default:
			return -ENOPROTOOPT;
		}
		return put_int(val, len, v);
	}
	if (level == IPPROTO_TCP) {
		if (!tcp)
			return -EOPNOTSUPP;	/* ip_getsockopt: not its level (set says ENOPROTOOPT) */
		switch (name) {
		case TCP_INFO:
			return get_tcp_info(sk, val, len);
		case TCP_CONGESTION: {
			const char *n = pcb != NULL ? shunt_tcp_get_cc(pcb) :
			    sk->cc == SOCK_CC_NEWRENO ? "newreno" : "cubic";
			char out[16] = { 0 };
			socklen_t k = *len < 16 ? *len : 16;

			snprintf(out, sizeof(out), "%s", strcmp(n, "newreno") == 0 ? "reno" : n);
			memcpy(val, out, k);
			*len = k;
			return 0;
		}
		case TCP_NODELAY:
			v = sk->nodelay;
			break;
		case TCP_CORK:
			v = sk->cork;
			break;
		case TCP_KEEPIDLE:
			v = sk->keepidle ? sk->keepidle : (int)nc->sys->stack->cfg.tcp_keepidle_s;
			break;
		case TCP_KEEPINTVL:
			v = sk->keepintvl ? sk->keepintvl : (int)nc->sys->stack->cfg.tcp_keepintvl_s;
			break;
		case TCP_KEEPCNT:
			v = sk->keepcnt ? sk->keepcnt : (int)nc->sys->stack->cfg.tcp_keepcnt;
			break;
		case TCP_MAXSEG:
			if (pcb != NULL)
				shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_MAXSEG, &v);
			else
				v = 536;
			break;
		case TCP_QUICKACK:
			v = 1;
			break;
		case TCP_USER_TIMEOUT:
			if (pcb != NULL)
				shunt_tcp_getopt(pcb, SHUNT_TCP_OPT_USER_TIMEOUT, &v);
			break;
		default:
			return -ENOPROTOOPT;
		}
		return put_int(val, len, v);
	}
	return -EOPNOTSUPP;	/* an unknown level: ip_getsockopt */
}

void
sock_inherit_opts(struct shunt_sock *child, const struct shunt_sock *l)
{
	struct shunt_netconn *nc = child->nc;

	/* The PCB got its copy in tcp_init_child; this is the socket layer's record of them. */
	child->reuseaddr = l->reuseaddr;
	child->reuseport = l->reuseport;
	child->keepalive = l->keepalive;
	child->nodelay = l->nodelay;
	child->cork = l->cork;
	child->keepidle = l->keepidle;
	child->keepintvl = l->keepintvl;
	child->keepcnt = l->keepcnt;
	child->maxseg = l->maxseg;
	child->sndbuf = l->sndbuf;
	child->rcvbuf = l->rcvbuf;
	child->ttl = l->ttl;
	child->tos = l->tos;
	child->cc = l->cc;
	nc->rcv_timeout_ms = l->nc->rcv_timeout_ms;
	nc->snd_timeout_ms = l->nc->snd_timeout_ms;
	nc->lowat = l->nc->lowat;
	nc->linger_on = l->nc->linger_on;
	nc->linger_s = l->nc->linger_s;
}
