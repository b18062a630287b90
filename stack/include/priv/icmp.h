/* ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo, errors out (rate-limited), errors in. */
#ifndef SHUNT_PRIV_ICMP_H
#define SHUNT_PRIV_ICMP_H

#include <shunt/pbuf.h>

struct ip4_rx;
struct shunt_stack;

void icmp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip);
/*
 * Sends an ICMP error about the datagram orig (orig->payload at the L4 header
 * of the offending datagram, its IP header right in front, hlen long).  Never
 * about ICMP errors, broadcasts or non-first fragments.  Does not consume orig.
 */
void icmp_send_error(struct shunt_stack *s, struct shunt_pbuf *orig, const struct ip4_rx *ip,
    uint8_t type, uint8_t code);

struct icmp_state {
	uint64_t tokens_ns;		/* token bucket kept in time units */
	uint64_t last;
};

#endif
