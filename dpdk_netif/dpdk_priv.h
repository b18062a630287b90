/*
 * The DPDK driver's private state: the process-wide EAL record (eal.c), one
 * struct per port (port.c), and the burst functions (rxtx.c) the port's netif
 * ops point at.  Nothing here is seen by the stack, which knows a DPDK port
 * only through struct shunt_netif_ops.
 */
#ifndef SHUNT_DPDK_PRIV_H
#define SHUNT_DPDK_PRIV_H

#include <pthread.h>
#include <stdarg.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <shunt/dpdk.h>
#include <shunt/pbuf.h>

#define DPDK_MAX_GRAVES	64

enum dpdk_eal_state {
	DPDK_EAL_NONE = 0,
	DPDK_EAL_UP,
	DPDK_EAL_FAILED,		/* rte_eal_init failed: it cannot be retried */
	DPDK_EAL_DONE,			/* cleaned up: DPDK cannot start again in this process */
};

/*
 * The only process-wide state of the driver, inherent in DPDK: one EAL per
 * process.  Mempools that still had mbufs out when their port went away
 * (held by pbufs an application had not freed yet) wait in graves until
 * shunt_dpdk_fini(), because freeing a pool under live mbufs corrupts memory.
 */
struct dpdk_proc {
	pthread_mutex_t lock;
	enum dpdk_eal_state state;
	int iova_va;			/* IOVA = virtual address: any memory can be given to the NIC */
	uint32_t pool_seq;		/* makes mempool names unique */
	char *argbuf;			/* EAL argv strings, kept for the process's life */
	char **argv;
	struct rte_mempool *graves[DPDK_MAX_GRAVES];
	int ngraves;
};

extern struct dpdk_proc dpdk_proc;

#define DPDK_TX_BACKLOG	2048	/* frames; a power of two */

struct dpdk_port {
	struct shunt_stack *stack;
	struct shunt_netif *nif;	/* ours in the stack, for back-pressure */
	int pressured;			/* we asked the stack to hold TCP data back */
	uint16_t port_id;
	uint16_t queue;
	struct rte_mempool *pool;	/* receive buffers and transmit copies */
	struct rte_mempool *shells;	/* data-less mbufs that carry pbuf data out */
	uint32_t mbuf_room;		/* data bytes a fresh pool mbuf holds after its headroom */
	uint32_t rx_copy_below;		/* fewer free mbufs than this: copy received frames out */
	uint64_t tx_offloads;		/* RTE_ETH_TX_OFFLOAD_* enabled on the port */
	uint64_t rx_offloads;
	uint16_t max_segs;		/* segments per frame the PMD takes */
	uint16_t max_segs_tso;
	int multiseg;			/* the PMD takes mbuf chains */
	int zero_copy;			/* pbuf payload may be attached as external buffers */
	int need_prepare;		/* offloads in use: run rte_eth_tx_prepare */
	int trust_csum;			/* shunt_dpdk_port_config.trust_csum: no sums either way */
	/*
	 * The PMD's (software) L4 checksum sums every segment as if it began
	 * at an even offset of the payload: wrong whenever a segment before
	 * the last has an odd length.  Such frames get their sum from us.
	 */
	int l4_csum_odd_segs_broken;
	struct shunt_dpdk_stats st;
	char name[RTE_ETH_NAME_MAX_LEN];
	/*
	 * Transmit backlog: frames the ring had no room for, in order, sent
	 * before anything newer (rxtx.c).  A ring (head, count) of TX_BACKLOG.
	 */
	int intr_epfd;			/* epoll set holding the Rx queue's interrupt, -1: none */
	int intr_qfd;			/* the queue's interrupt descriptor itself (for a level check), -1: unknown */
	uint16_t bl_head, bl_count;
	uint64_t bl_stall_since;	/* TSC cycles: the oldest frame has waited since (0: moving) */
	struct rte_mbuf *backlog[DPDK_TX_BACKLOG];
};

/* rxtx.c */
int dpdk_rx_burst(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max);
int dpdk_tx_burst(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n);
/* Frees what the transmit backlog holds (port teardown). */
void dpdk_tx_backlog_drop(struct dpdk_port *dp);

/* port.c */
int dpdk_link_is_up(struct dpdk_port *dp);

/* eal.c */
/* Writes one line into errbuf (if any) and returns err (a negative errno). */
int dpdk_error(char *errbuf, size_t errlen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees mp now if every mbuf is home, else keeps it until shunt_dpdk_fini(). */
void dpdk_pool_release(struct rte_mempool *mp);

#endif
