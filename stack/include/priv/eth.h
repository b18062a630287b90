/* Ethernet layer: demultiplexing received frames and framing sent packets. */
#ifndef SHUNT_PRIV_ETH_H
#define SHUNT_PRIV_ETH_H

#include <shunt/pbuf.h>

struct shunt_netif;

void eth_input(struct shunt_netif *nif, struct shunt_pbuf *p);
/* Prepends an Ethernet header and queues the frame.  Consumes p. */
void eth_output(struct shunt_netif *nif, struct shunt_pbuf *p, const uint8_t dst[6], uint16_t type);

#endif
