/*
 * shunt public API: the DPDK driver.
 *
 * Brings up DPDK's environment (EAL) once per process and turns one DPDK
 * ethdev port -- a real NIC or a virtual one (net_tap, net_af_packet,
 * net_memif, virtio_user) -- into a shunt netif.  Received mbufs reach the
 * stack without a copy; sent payload leaves without one where the PMD can take
 * chained and external buffers.
 *
 * Every function returns a negative errno on failure and, when given a buffer,
 * writes one line saying what went wrong; none of them ever exits the process.
 * Like the rest of the stack, a DPDK netif is only touched by whoever holds its
 * stack.
 */
#ifndef SHUNT_DPDK_H
#define SHUNT_DPDK_H

#include <shunt/stack.h>
#include <shunt/netif.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Starts the EAL from a string of EAL arguments, split at blanks (single
 * and double quotes group), e.g.
 *   "--no-huge -m 256 --no-pci --vdev=net_tap0,iface=sh0 --file-prefix=demo -l 0"
 * Once per process: a second call returns -EALREADY (as does a call after
 * the application started DPDK itself, whose EAL is then used); after a
 * failure or shunt_dpdk_fini(), DPDK cannot start again (-EPERM).  Every
 * DPDK process on a machine needs its own --file-prefix.
 */
SHUNT_API int shunt_dpdk_eal_init(const char *eal_args, char *errbuf, size_t errlen);

/*
 * Sends DPDK's own log lines (EAL, PMDs) to fn, one line per call, instead of
 * stderr.  Call before shunt_dpdk_eal_init to catch what it logs.
 */
typedef void (*shunt_dpdk_log_fn)(const char *line, void *arg);
SHUNT_API int shunt_dpdk_set_log(shunt_dpdk_log_fn fn, void *arg);

struct shunt_dpdk_port_config {
	const char *port_name;		/* ethdev name ("net_tap0"); NULL: use port_id */
	uint16_t port_id;
	uint16_t rx_desc;		/* ring sizes; 0: the PMD's preference, else 1024 */
	uint16_t tx_desc;
	uint16_t mtu;			/* IP MTU; 0: 1500 */
	uint32_t mbuf_count;		/* mbufs in the port's pool (at least 2 * rx_desc + tx_desc); 0: 8191 */
	/*
	 * Data bytes per mbuf; 0: one whole frame of the MTU.  More is needed
	 * where the PMD hands over more than a frame: net_af_packet lets the
	 * kernel reassemble IP fragments (PACKET_FANOUT_FLAG_DEFRAG) and copies
	 * up to its framesz into one mbuf, so give it framesz here.
	 */
	uint32_t rx_buf_size;
	/*
	 * Offloads the stack may use (SHUNT_NETIF_CAP_*); 0: all the PMD offers,
	 * less those it offers but gets wrong (net_tap's TSO in DPDK 22.11).
	 */
	uint32_t caps_mask;
	int promiscuous;		/* accept frames for any MAC (the stack still filters) */
	/*
	 * A wire that cannot corrupt, to a peer that trusts it too (net_memif
	 * between two shunt processes): no checksums are computed on send nor
	 * verified on receive, as Linux does across a veth pair.  Never for a
	 * wire that leaves the machine, nor for a peer that checks sums (VPP,
	 * a kernel behind net_tap): it would drop every frame.
	 */
	int trust_csum;
	const char *name;		/* netif name in logs; NULL: the ethdev name */
};

/* Defaults: port 0, PMD ring sizes, MTU 1500, 8191 mbufs, every offload the PMD offers. */
SHUNT_API void shunt_dpdk_port_config_init(struct shunt_dpdk_port_config *cfg);

/*
 * Configures and starts a port and attaches it to s as a netif (MAC and
 * offloads from the device).  NULL and *err < 0 on failure.
 * shunt_netif_remove() (or destroying the stack) stops and closes the port.
 */
SHUNT_API struct shunt_netif *shunt_dpdk_netif_create(struct shunt_stack *s,
    const struct shunt_dpdk_port_config *cfg, int *err, char *errbuf, size_t errlen);

/* 1 if the port reports its link up, 0 if not (a memif peer not yet connected). */
SHUNT_API int shunt_dpdk_link_up(struct shunt_netif *nif);

/*
 * The driver's own counters, then the device's (rte_eth_stats).  One X-macro
 * list, as for the stack's counters, so that names and fields never disagree.
 */
#define SHUNT_DPDK_STATS_LIST(X) \
	X(rx_frames)		/* frames handed to the stack */ \
	X(rx_drop_nopbuf)	/* frames dropped: no pbuf header to wrap them in */ \
	X(rx_drop_empty)	/* frames dropped: no bytes */ \
	X(rx_copied)		/* frames copied out of their mbufs: the port's pool ran low */ \
	X(tx_frames)		/* frames the PMD accepted */ \
	X(tx_copied)		/* frames sent as copies only (small, or no chaining) */ \
	X(tx_zc_segs)		/* segments sent without copying their bytes */ \
	X(tx_drop_nombuf)	/* frames dropped: mbuf pool empty */ \
	X(tx_deferred)		/* frames the ring did not take at once: held in the port's backlog */ \
	X(tx_drop_full)		/* frames dropped: ring and backlog full, or the PMD refused them */ \
	X(tx_drop_link)		/* frames dropped: link down */ \
	X(tx_drop_bad)		/* frames dropped: unsendable (size, offload, segments) */ \
	X(dev_ipackets) X(dev_opackets) X(dev_ibytes) X(dev_obytes) \
	X(dev_imissed) X(dev_ierrors) X(dev_oerrors) X(dev_rx_nombuf)

struct shunt_dpdk_stats {
#define SHUNT_DPDK_STATS_FIELD(n) uint64_t n;
	SHUNT_DPDK_STATS_LIST(SHUNT_DPDK_STATS_FIELD)
#undef SHUNT_DPDK_STATS_FIELD
};
SHUNT_API void shunt_dpdk_netif_stats(struct shunt_netif *nif, struct shunt_dpdk_stats *st);
/* Calls fn for every counter of st, skipping zeros if nonzero_only (like shunt_stats_foreach). */
SHUNT_API void shunt_dpdk_stats_foreach(const struct shunt_dpdk_stats *st, int nonzero_only,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg);

/*
 * Releases what the EAL holds.  Call last: after every DPDK netif is removed
 * and every stack that had one destroyed.
 */
SHUNT_API void shunt_dpdk_fini(void);

#ifdef __cplusplus
}
#endif
#endif
