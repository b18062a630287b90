/*
 * shunt public API: UDP, raw (callback) flavour.
 *
 * Runs in the stack's execution context only: callbacks fire from inside
 * shunt_stack_poll(), and the functions below must be called by whoever holds
 * the stack.  Addresses and ports are in network byte order.
 */
#ifndef SHUNT_UDP_H
#define SHUNT_UDP_H

#include <shunt/stack.h>
#include <shunt/pbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shunt_udp_pcb;

/*
 * Receive callback: the callee owns p (free it with shunt_pbuf_free).
 * p->payload is the UDP payload; src is the sender.
 */
typedef void (*shunt_udp_recv_fn)(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p,
    uint32_t src_ip, uint16_t src_port);

/* Delivered when an ICMP error quotes a datagram this PCB sent (connected PCBs). */
typedef void (*shunt_udp_err_fn)(void *arg, struct shunt_udp_pcb *pcb, int err);

#define SHUNT_UDP_F_BROADCAST	0x01	/* SO_BROADCAST: may send to broadcast addresses */
#define SHUNT_UDP_F_REUSEADDR	0x02	/* SO_REUSEADDR */
#define SHUNT_UDP_F_NOCHKSUM	0x04	/* send with checksum 0 */

SHUNT_API struct shunt_udp_pcb *shunt_udp_new(struct shunt_stack *s);
SHUNT_API void shunt_udp_remove(struct shunt_udp_pcb *pcb);
/* port 0 picks an ephemeral port. -EADDRINUSE, -EADDRNOTAVAIL. */
SHUNT_API int shunt_udp_bind(struct shunt_udp_pcb *pcb, uint32_t ip, uint16_t port);
/* Fixes the remote end; binds an ephemeral port if unbound.  ip 0 port 0 disconnects. */
SHUNT_API int shunt_udp_connect(struct shunt_udp_pcb *pcb, uint32_t ip, uint16_t port);
SHUNT_API void shunt_udp_disconnect(struct shunt_udp_pcb *pcb);
/*
 * Sends p's bytes as one datagram.  The caller keeps its reference to p
 * (headers go in front of it, into its headroom or a new pbuf).
 * -EDESTADDRREQ, -EMSGSIZE, -ENETUNREACH, -EACCES (broadcast without the flag), -ENOBUFS.
 */
SHUNT_API int shunt_udp_send(struct shunt_udp_pcb *pcb, struct shunt_pbuf *p);
SHUNT_API int shunt_udp_sendto(struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t ip, uint16_t port);
/* Copies len bytes from data; convenience for small datagrams. */
SHUNT_API int shunt_udp_sendto_buf(struct shunt_udp_pcb *pcb, const void *data, uint32_t len,
    uint32_t ip, uint16_t port);
SHUNT_API void shunt_udp_recv(struct shunt_udp_pcb *pcb, shunt_udp_recv_fn fn, void *arg);
SHUNT_API void shunt_udp_err(struct shunt_udp_pcb *pcb, shunt_udp_err_fn fn);
SHUNT_API void shunt_udp_set_flags(struct shunt_udp_pcb *pcb, uint32_t flags);
SHUNT_API uint32_t shunt_udp_get_flags(struct shunt_udp_pcb *pcb);
SHUNT_API void shunt_udp_set_ttl(struct shunt_udp_pcb *pcb, uint8_t ttl);
SHUNT_API void shunt_udp_set_tos(struct shunt_udp_pcb *pcb, uint8_t tos);
SHUNT_API void shunt_udp_local(struct shunt_udp_pcb *pcb, uint32_t *ip, uint16_t *port);
SHUNT_API void shunt_udp_remote(struct shunt_udp_pcb *pcb, uint32_t *ip, uint16_t *port);

#ifdef __cplusplus
}
#endif
#endif
