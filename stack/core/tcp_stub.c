/*
 * TCP placeholder until the TCP engine lands: segments are counted and
 * dropped.  Replaced by tcp_*.c.
 */
#include "priv/stack.h"

int
tcp_stack_init(struct shunt_stack *s)
{
	(void)s;
	return 0;
}

void
tcp_stack_fini(struct shunt_stack *s)
{
	(void)s;
}

void
tcp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip)
{
	(void)ip;
	STAT_INC(s, tcp_rx);
	STAT_INC(s, tcp_drop_noport);
	shunt_pbuf_free(p);
}

void
tcp_icmp_error(struct shunt_stack *s, uint32_t src, uint32_t dst, const uint8_t *l4, uint32_t len, int err,
    uint32_t mtu)
{
	(void)s; (void)src; (void)dst; (void)l4; (void)len; (void)err; (void)mtu;
}
