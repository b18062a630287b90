/*
 * The stack's side of a netif: addressing, transmit batch, pcap tap.
 */
#ifndef SHUNT_PRIV_NETIF_H
#define SHUNT_PRIV_NETIF_H

#include <shunt/netif.h>

#define NETIF_TX_BATCH	64
#define NETIF_RX_BURST	32
#define SHUNT_MAX_NETIFS 8

struct pcap_tap;
struct fault_netif;

struct shunt_netif {
	struct shunt_stack *stack;
	const struct shunt_netif_ops *ops;
	void *priv;
	struct shunt_netif_info info;
	char name[32];
	uint32_t caps;			/* offloads in use (subset of info.caps) */
	uint32_t ip, netmask, gw;	/* network order */
	uint32_t bcast;
	int up;
	int announce_pending;		/* up, but the link was down: announce when it comes up */
	int tx_pressure;		/* the driver asked TCP to hold back (shunt_netif_tx_pressure) */
	int index;
	int ntx;
	struct shunt_pbuf *txq[NETIF_TX_BATCH];
	struct pcap_tap *pcap;
	struct fault_netif *faults;	/* fault injector wrapped around the driver, or NULL */
};

/* Queues a complete frame for transmission; sends at once outside a poll round. */
void netif_tx(struct shunt_netif *nif, struct shunt_pbuf *frame);
void netif_flush(struct shunt_netif *nif);
void netif_flush_all(struct shunt_stack *s);
/* The netif whose subnet holds ip, or NULL. */
struct shunt_netif *netif_for_subnet(struct shunt_stack *s, uint32_t ip);
/* 1 if ip is one of our addresses. */
int netif_is_local_ip(struct shunt_stack *s, uint32_t ip);
/* 1 if ip is a broadcast address for nif (limited or directed). */
int netif_is_bcast(const struct shunt_netif *nif, uint32_t ip);

void pcap_record(struct pcap_tap *t, const struct shunt_pbuf *p);

#endif
