/* UDP (RFC 768): PCB table, input demultiplexing, output. */
#ifndef SHUNT_PRIV_UDP_H
#define SHUNT_PRIV_UDP_H

#include <shunt/udp.h>

struct ip4_rx;

#define UDP_HASH 256

struct shunt_udp_pcb {
	struct shunt_udp_pcb *hnext;	/* bucket chain, by local port */
	struct shunt_stack *stack;
	uint32_t local_ip, remote_ip;	/* network order */
	uint16_t local_port, remote_port; /* network order */
	uint32_t flags;
	uint8_t ttl, tos;
	uint8_t bound, connected;
	uint8_t addr_locked, port_locked;	/* bound by the user to an address / a port number */
	uint8_t addr_auto;			/* local_ip chosen by connect(), not by bind() */
	shunt_udp_recv_fn recv;
	shunt_udp_err_fn err;
	void *arg;
};

struct udp_table {
	struct shunt_udp_pcb *hash[UDP_HASH];
	uint16_t next_ephemeral;
	uint32_t count;
};

void udp_input(struct shunt_stack *s, struct shunt_pbuf *p, const struct ip4_rx *ip);
/* An ICMP error quoting a datagram we sent: hdr is the quoted UDP header. */
void udp_icmp_error(struct shunt_stack *s, uint32_t src, uint32_t dst, const uint8_t *l4, uint32_t len, int err);
void udp_fini(struct shunt_stack *s);

#endif
