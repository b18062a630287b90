/*
 * A DPDK ethdev port as a shunt netif: configuration (queues, descriptors,
 * the offloads the PMD reports), the port's mempools, link state, teardown.
 * Below: rte_ethdev.  Above: the stack's netif layer, through the ops table
 * below; the per-packet work is in rxtx.c.
 *
 * One Rx and one Tx queue per port: one stack polls one port.  Spreading a
 * port over several stacks (RSS, one stack per core) is a later step.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include "dpdk_priv.h"

#define DEF_MTU		1500
#define DEF_MBUFS	8191
#define DEF_DESC	1024
#define POOL_CACHE	256
/* Ethernet header, one VLAN tag and the CRC some PMDs leave in the buffer. */
#define FRAME_OVERHEAD	(14 + 4 + 4)

int
dpdk_link_is_up(struct dpdk_port *dp)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(dp->port_id, &link) != 0)
		return 0;
	return link.link_status == RTE_ETH_LINK_UP;
}

static int
dpdk_link_op(struct shunt_netif *nif)
{
	return dpdk_link_is_up(shunt_netif_priv(nif));
}

/*
 * Receive interrupts (for a poller that sleeps when idle).  The queue's
 * interrupt descriptor -- the tap's own fd, memif's eventfd -- is added to an
 * epoll set of ours, which is what the stack's poller waits on; DPDK's
 * rte_epoll_wait on that set then does what each kind of descriptor needs to
 * be cleared.  A PMD without Rx interrupts (af_packet) leaves intr_epfd at -1
 * and the poller sleeps by the clock.
 */
static void
intr_setup(struct dpdk_port *dp)
{
	int rc;

	dp->intr_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dp->intr_epfd < 0)
		return;
	rc = rte_eth_dev_rx_intr_ctl_q(dp->port_id, dp->queue, dp->intr_epfd, RTE_INTR_EVENT_ADD, NULL);
	if (rc != 0) {
		close(dp->intr_epfd);
		dp->intr_epfd = -1;
	} else {
		dp->intr_qfd = rte_eth_dev_rx_intr_ctl_q_get_fd(dp->port_id, dp->queue);
	}
	rte_log(RTE_LOG_INFO, RTE_LOGTYPE_USER1, "shunt: %s: Rx interrupts %s%s\n", dp->name,
	    rc == 0 ? "on: an idle poller sleeps until a frame" : "unavailable: an idle poller naps by the clock, ",
	    rc == 0 ? "" : rte_strerror(-rc));
}

static int
dpdk_intr_arm(struct shunt_netif *nif)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);

	if (dp->intr_epfd < 0)
		return -ENOTSUP;
	/* A backlog waits for room in the ring, and a dead link for a peer: nothing announces either. */
	if (dp->bl_count > 0 || !dpdk_link_is_up(dp))
		return -EBUSY;
	/* -ENOTSUP: the PMD cannot mask its interrupt (tap): it is always live. */
	if (rte_eth_dev_rx_intr_enable(dp->port_id, dp->queue) == -EIO)
		return -ENOTSUP;
	/*
	 * Our set hears of the descriptor edge-triggered (DPDK registers it so),
	 * and an edge that came before is gone.  net_tap's descriptor is the tap
	 * itself, and its receive burst reads nothing until the PMD's SIGIO
	 * handler has run in some thread: a frame that woke us before that looked
	 * like no frame, and sleeping now would leave it in the tap until the
	 * next one came (seen under CPU load: a datagram answered a second
	 * late; tests/interop/tap_intr_wakeup.sh).  A descriptor still readable
	 * now holds work: do not sleep on it.
	 */
	if (dp->intr_qfd >= 0) {
		struct pollfd pfd = { .fd = dp->intr_qfd, .events = POLLIN };

		if (poll(&pfd, 1, 0) > 0) {
			rte_eth_dev_rx_intr_disable(dp->port_id, dp->queue);
			return -EBUSY;
		}
	}
	return dp->intr_epfd;
}

static void
dpdk_intr_disarm(struct shunt_netif *nif)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);
	struct rte_epoll_event ev[4];

	rte_eth_dev_rx_intr_disable(dp->port_id, dp->queue);
	while (rte_epoll_wait(dp->intr_epfd, ev, 4, 0) == 4)
		;
}

static void
port_free(struct dpdk_port *dp)
{
	if (dp->intr_epfd >= 0)
		close(dp->intr_epfd);
	dpdk_pool_release(dp->pool);
	dpdk_pool_release(dp->shells);
	free(dp);
}

/*
 * Stopping and closing the port frees the mbufs left in its rings, which runs
 * the shell mbufs' free callbacks and so drops pbuf references: this is
 * called by shunt_netif_remove, under the stack, before the stack's pools go.
 */
static void
dpdk_destroy_op(struct shunt_netif *nif)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);

	dpdk_tx_backlog_drop(dp);
	rte_eth_dev_stop(dp->port_id);
	rte_eth_dev_close(dp->port_id);
	port_free(dp);
}

static const struct shunt_netif_ops dpdk_ops = {
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.link_up = dpdk_link_op,
	.destroy = dpdk_destroy_op,
	.rx_intr_arm = dpdk_intr_arm,
	.rx_intr_disarm = dpdk_intr_disarm,
};

void
shunt_dpdk_port_config_init(struct shunt_dpdk_port_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = DEF_MTU;
	cfg->mbuf_count = DEF_MBUFS;
}

static int
pools_create(struct dpdk_port *dp, uint32_t nmbufs, uint32_t room, int socket, char *eb, size_t el)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t seq = __atomic_fetch_add(&dpdk_proc.pool_seq, 1, __ATOMIC_RELAXED);
	uint16_t shinfo_sz = RTE_ALIGN(sizeof(struct rte_mbuf_ext_shared_info), RTE_MBUF_PRIV_ALIGN);

	if (room < RTE_MBUF_DEFAULT_DATAROOM)
		room = RTE_MBUF_DEFAULT_DATAROOM;
	if (room > UINT16_MAX - RTE_PKTMBUF_HEADROOM)
		return dpdk_error(eb, el, -EINVAL, "%s: %u bytes per mbuf is more than an mbuf holds", dp->name,
		    room);
	/* Room for a whole frame in one mbuf, so that no PMD has to scatter and copies stay linear. */
	snprintf(name, sizeof(name), "shunt_p%u_%u", dp->port_id, seq);
	dp->pool = rte_pktmbuf_pool_create(name, nmbufs, POOL_CACHE, 0,
	    (uint16_t)(RTE_PKTMBUF_HEADROOM + room), socket);
	if (dp->pool == NULL)
		return dpdk_error(eb, el, -rte_errno, "%s: mempool of %u mbufs: %s", dp->name, nmbufs,
		    rte_strerror(rte_errno));
	dp->mbuf_room = room;
	/*
	 * The shells carry no data of their own: each points at a pbuf's bytes,
	 * and its private area holds the shared info whose callback lets go of
	 * the pbuf once the NIC is done with it.
	 */
	snprintf(name, sizeof(name), "shunt_s%u_%u", dp->port_id, seq);
	dp->shells = rte_pktmbuf_pool_create(name, nmbufs, POOL_CACHE, shinfo_sz, 0, socket);
	if (dp->shells == NULL)
		return dpdk_error(eb, el, -rte_errno, "%s: mempool of %u shell mbufs: %s", dp->name, nmbufs,
		    rte_strerror(rte_errno));
	return 0;
}

/*
 * Offloads a PMD reports but does not deliver, by driver name.
 * net_tap (DPDK 22.11) compares MSS + L2..L4 headers of a TSO packet with the
 * IP MTU and refuses -- and stops its burst at -- every packet whose
 * segments are full-sized, that is every useful one.  Its software TCP/UDP
 * checksum of a chained mbuf adds up each segment with __rte_raw_cksum as if
 * it started on an even byte, so a segment of odd length before the last
 * one leaves a wrong sum on the wire (the kernel counts TcpInCsumErrors and
 * drops the segment -- every retransmission of it too, so the connection
 * stalls).  The offload stays on; rxtx.c sums such frames itself.
 */
static const struct {
	const char *driver;
	uint64_t tx_broken;
	int l4_csum_odd_segs_broken;
} pmd_quirks[] = {
	{ "net_tap", RTE_ETH_TX_OFFLOAD_TCP_TSO, 1 },
};

/* The offloads we would use, as far as the PMD offers them and the caller allows them. */
static void
pick_offloads(struct dpdk_port *dp, const struct rte_eth_dev_info *info, uint32_t mask, uint32_t *caps)
{
	uint64_t tx = info->tx_offload_capa, rx = info->rx_offload_capa;
	size_t i;

	dp->l4_csum_odd_segs_broken = 0;
	for (i = 0; i < sizeof(pmd_quirks) / sizeof(pmd_quirks[0]); i++) {
		if (info->driver_name != NULL && strcmp(info->driver_name, pmd_quirks[i].driver) == 0) {
			tx &= ~pmd_quirks[i].tx_broken;
			dp->l4_csum_odd_segs_broken = pmd_quirks[i].l4_csum_odd_segs_broken;
		}
	}
	*caps = 0;
	dp->tx_offloads = 0;
	dp->rx_offloads = 0;
	if ((tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) && (mask & SHUNT_NETIF_CAP_MULTISEG)) {
		dp->tx_offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		*caps |= SHUNT_NETIF_CAP_MULTISEG;
	}
	if ((tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) && (mask & SHUNT_NETIF_CAP_TX_IP4_CSUM)) {
		dp->tx_offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		*caps |= SHUNT_NETIF_CAP_TX_IP4_CSUM;
	}
	if ((tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) && (mask & SHUNT_NETIF_CAP_TX_UDP_CSUM)) {
		dp->tx_offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		*caps |= SHUNT_NETIF_CAP_TX_UDP_CSUM;
	}
	if ((tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) && (mask & SHUNT_NETIF_CAP_TX_TCP_CSUM)) {
		dp->tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		*caps |= SHUNT_NETIF_CAP_TX_TCP_CSUM;
	}
	/* A TSO packet is larger than any mbuf: without chains there is no TSO. */
	if ((tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) && (mask & SHUNT_NETIF_CAP_TSO) &&
	    (dp->tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		dp->tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		*caps |= SHUNT_NETIF_CAP_TSO;
	}
	/* Rx checksums are only worth reporting if IPv4 and both L4 protocols are covered. */
	if ((mask & SHUNT_NETIF_CAP_RX_CSUM) && (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) &&
	    (rx & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) && (rx & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) {
		dp->rx_offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
		    RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		*caps |= SHUNT_NETIF_CAP_RX_CSUM;
	}
	dp->need_prepare = (dp->tx_offloads & ~RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
}

static int
port_setup(struct dpdk_port *dp, const struct shunt_dpdk_port_config *cfg, struct shunt_netif_info *ni,
    char *eb, size_t el)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	struct rte_ether_addr mac;
	uint16_t nrx, ntx, mtu = cfg->mtu != 0 ? cfg->mtu : DEF_MTU;
	uint32_t nmbufs = cfg->mbuf_count != 0 ? cfg->mbuf_count : DEF_MBUFS;
	uint32_t mask = cfg->caps_mask != 0 ? cfg->caps_mask : ~0u, caps, room;
	int socket, rc;

	rc = rte_eth_dev_info_get(dp->port_id, &info);
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: rte_eth_dev_info_get: %s", dp->name, rte_strerror(-rc));
	if (mtu < info.min_mtu || mtu > info.max_mtu)
		return dpdk_error(eb, el, -EINVAL, "%s: MTU %u outside the device's range %u..%u", dp->name, mtu,
		    info.min_mtu, info.max_mtu);
	nrx = cfg->rx_desc != 0 ? cfg->rx_desc :
	    info.default_rxportconf.ring_size != 0 ? info.default_rxportconf.ring_size : DEF_DESC;
	ntx = cfg->tx_desc != 0 ? cfg->tx_desc :
	    info.default_txportconf.ring_size != 0 ? info.default_txportconf.ring_size : DEF_DESC;
	pick_offloads(dp, &info, mask, &caps);
	dp->trust_csum = cfg->trust_csum;
	if (dp->trust_csum)
		caps |= SHUNT_NETIF_CAP_TX_IP4_CSUM | SHUNT_NETIF_CAP_TX_UDP_CSUM | SHUNT_NETIF_CAP_TX_TCP_CSUM |
		    SHUNT_NETIF_CAP_RX_CSUM;
	dp->multiseg = (dp->tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	/*
	 * Handing pbuf memory to the device needs its IO address.  With IOVA as
	 * VA (--no-huge, virtual PMDs, a NIC behind an IOMMU) that is the virtual
	 * address; with physical addresses the stack's pool memory, which is not
	 * DPDK memory and not physically contiguous, would need a page walk per
	 * buffer and might cross pages, so such chains are copied instead.
	 */
	dp->zero_copy = dp->multiseg && dpdk_proc.iova_va;
	dp->max_segs = info.tx_desc_lim.nb_mtu_seg_max != 0 ? info.tx_desc_lim.nb_mtu_seg_max : UINT16_MAX;
	dp->max_segs_tso = info.tx_desc_lim.nb_seg_max != 0 ? info.tx_desc_lim.nb_seg_max : UINT16_MAX;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	conf.rxmode.offloads = dp->rx_offloads;
	conf.txmode.offloads = dp->tx_offloads;
	conf.intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(dp->port_id, 1, 1, &conf);
	if (rc != 0) {
		/* No Rx interrupts then: the poller sleeps by the clock. */
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(dp->port_id, 1, 1, &conf);
	}
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: rte_eth_dev_configure: %s%s", dp->name, rte_strerror(-rc),
		    rc == -EBUSY ? " (port already started: in use by another netif?)" : "");
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &nrx, &ntx);
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: descriptor counts: %s", dp->name, rte_strerror(-rc));
	/* Every Rx descriptor holds an mbuf; keep as many again for packets in the stack and copies out. */
	if (nmbufs < 2u * nrx + ntx)
		nmbufs = 2u * nrx + ntx;
	socket = rte_eth_dev_socket_id(dp->port_id);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	room = (uint32_t)mtu + FRAME_OVERHEAD;
	if (cfg->rx_buf_size > room)
		room = cfg->rx_buf_size;
	rc = pools_create(dp, nmbufs, room, socket, eb, el);
	if (rc != 0)
		return rc;
	/* Past three quarters of the pool held by the stack, receive copies (rxtx.c). */
	dp->rx_copy_below = nmbufs / 4;
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	rc = rte_eth_rx_queue_setup(dp->port_id, 0, nrx, (unsigned)socket, &rxc, dp->pool);
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: Rx queue (%u descriptors): %s", dp->name, nrx, rte_strerror(-rc));
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	rc = rte_eth_tx_queue_setup(dp->port_id, 0, ntx, (unsigned)socket, &txc);
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: Tx queue (%u descriptors): %s", dp->name, ntx, rte_strerror(-rc));
	if (cfg->promiscuous) {
		rc = rte_eth_promiscuous_enable(dp->port_id);
		if (rc != 0 && rc != -ENOTSUP)
			return dpdk_error(eb, el, rc, "%s: promiscuous mode: %s", dp->name, rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(dp->port_id);
	if (rc != 0)
		return dpdk_error(eb, el, rc, "%s: rte_eth_dev_start: %s", dp->name, rte_strerror(-rc));
	if (conf.intr_conf.rxq)
		intr_setup(dp);
	rc = rte_eth_macaddr_get(dp->port_id, &mac);
	if (rc != 0) {
		rte_eth_dev_stop(dp->port_id);
		return dpdk_error(eb, el, rc, "%s: MAC address: %s", dp->name, rte_strerror(-rc));
	}
	memset(ni, 0, sizeof(*ni));
	memcpy(ni->mac, mac.addr_bytes, 6);
	ni->mtu = mtu;
	ni->caps = caps;
	/* An IPv4 datagram is at most 65535 bytes; the Ethernet header comes on top. */
	ni->tso_max = (caps & SHUNT_NETIF_CAP_TSO) ? 65535 - 14 : 0;
	return 0;
}

struct shunt_netif *
shunt_dpdk_netif_create(struct shunt_stack *s, const struct shunt_dpdk_port_config *cfg, int *errp,
    char *eb, size_t el)
{
	struct shunt_dpdk_port_config defcfg;
	struct shunt_netif_info ni;
	struct shunt_netif *nif;
	struct dpdk_port *dp;
	int err;

	if (eb != NULL && el > 0)
		eb[0] = '\0';
	if (cfg == NULL) {
		shunt_dpdk_port_config_init(&defcfg);
		cfg = &defcfg;
	}
	if (s == NULL) {
		err = dpdk_error(eb, el, -EINVAL, "no stack given");
		goto fail;
	}
	if (dpdk_proc.state != DPDK_EAL_UP) {
		err = dpdk_error(eb, el, -ENODEV, "DPDK EAL not initialised (call shunt_dpdk_eal_init first)");
		goto fail;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL) {
		err = dpdk_error(eb, el, -ENOMEM, "out of memory");
		goto fail;
	}
	dp->stack = s;
	dp->intr_epfd = -1;
	dp->intr_qfd = -1;
	if (cfg->port_name != NULL) {
		if (rte_eth_dev_get_port_by_name(cfg->port_name, &dp->port_id) != 0) {
			err = dpdk_error(eb, el, -ENODEV, "no DPDK port named \"%s\" (%u port(s) available)",
			    cfg->port_name, rte_eth_dev_count_avail());
			free(dp);
			goto fail;
		}
	} else {
		dp->port_id = cfg->port_id;
		if (!rte_eth_dev_is_valid_port(dp->port_id)) {
			err = dpdk_error(eb, el, -ENODEV, "no DPDK port %u (%u port(s) available; check --vdev / -a)",
			    dp->port_id, rte_eth_dev_count_avail());
			free(dp);
			goto fail;
		}
	}
	if (rte_eth_dev_get_name_by_port(dp->port_id, dp->name) != 0)
		snprintf(dp->name, sizeof(dp->name), "dpdk%u", dp->port_id);
	err = port_setup(dp, cfg, &ni, eb, el);
	if (err != 0) {
		port_free(dp);
		goto fail;
	}
	ni.name = cfg->name != NULL ? cfg->name : dp->name;
	nif = shunt_netif_add(s, &dpdk_ops, &ni, dp, &err);
	if (nif == NULL) {
		rte_eth_dev_stop(dp->port_id);
		port_free(dp);
		err = dpdk_error(eb, el, err, "%s: shunt_netif_add: %s", dp->name, strerror(-err));
		goto fail;
	}
	dp->nif = nif;
	return nif;
fail:
	if (errp != NULL)
		*errp = err;
	return NULL;
}

int
shunt_dpdk_link_up(struct shunt_netif *nif)
{
	return dpdk_link_op(nif);
}

void
shunt_dpdk_netif_stats(struct shunt_netif *nif, struct shunt_dpdk_stats *st)
{
	struct dpdk_port *dp = shunt_netif_priv(nif);
	struct rte_eth_stats es;

	*st = dp->st;
	if (rte_eth_stats_get(dp->port_id, &es) == 0) {
		st->dev_ipackets = es.ipackets;
		st->dev_opackets = es.opackets;
		st->dev_ibytes = es.ibytes;
		st->dev_obytes = es.obytes;
		st->dev_imissed = es.imissed;
		st->dev_ierrors = es.ierrors;
		st->dev_oerrors = es.oerrors;
		st->dev_rx_nombuf = es.rx_nombuf;
	}
}

void
shunt_dpdk_stats_foreach(const struct shunt_dpdk_stats *st, int nonzero_only,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg)
{
#define SHUNT_DPDK_STATS_VISIT(n) \
	if (!nonzero_only || st->n != 0) \
		fn(#n, st->n, arg);
	SHUNT_DPDK_STATS_LIST(SHUNT_DPDK_STATS_VISIT)
#undef SHUNT_DPDK_STATS_VISIT
}
