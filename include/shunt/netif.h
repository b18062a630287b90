/*
 * shunt public API: network interfaces.
 *
 * A netif is the boundary between the stack and a device: a small ops table
 * (receive a burst, transmit a burst) plus capabilities (MAC, MTU, checksum and
 * segmentation offloads).  Drivers: dpdk_netif (any DPDK PMD), the in-memory
 * link below (two stacks in one process, with a fault injector), and the pcap
 * tap that records what passes through another netif.
 */
#ifndef SHUNT_NETIF_H
#define SHUNT_NETIF_H

#include <shunt/stack.h>
#include <shunt/pbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Capabilities a driver reports. */
#define SHUNT_NETIF_CAP_TX_IP4_CSUM	0x01
#define SHUNT_NETIF_CAP_TX_UDP_CSUM	0x02
#define SHUNT_NETIF_CAP_TX_TCP_CSUM	0x04
#define SHUNT_NETIF_CAP_TSO		0x08
#define SHUNT_NETIF_CAP_RX_CSUM		0x10	/* sets SHUNT_PBUF_RX_* on received frames */
#define SHUNT_NETIF_CAP_MULTISEG	0x20	/* accepts pbuf chains on transmit */

struct shunt_netif_ops {
	/* Fill pkts with up to max received frames (pbufs of the netif's stack); return the count. */
	int (*rx_burst)(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max);
	/*
	 * Transmit n frames.  The driver takes ownership of all n, whether it
	 * could send them or not (those it could not, it frees).  Returns how
	 * many went out.
	 */
	int (*tx_burst)(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n);
	/* Link state: 1 up, 0 down.  NULL means always up. */
	int (*link_up)(struct shunt_netif *nif);
	/* Release the driver's resources (called by shunt_netif_remove). */
	void (*destroy)(struct shunt_netif *nif);
	/*
	 * Optional receive interrupt, for a poller that sleeps when idle (see
	 * shunt_stack_sleep_prepare).  rx_intr_arm asks to be woken by the
	 * next frame and returns a descriptor that becomes readable then
	 * (poll(2) it for POLLIN), or a negative errno: -ENOTSUP if the device
	 * has no interrupt, -EBUSY if the driver has work that no interrupt
	 * will announce (frames held back, a transmit backlog).  rx_intr_disarm
	 * returns to polling and clears what the descriptor reported.
	 */
	int (*rx_intr_arm)(struct shunt_netif *nif);
	void (*rx_intr_disarm)(struct shunt_netif *nif);
};

struct shunt_netif_info {
	uint8_t mac[6];
	uint16_t mtu;			/* IP MTU, e.g. 1500 */
	uint32_t caps;			/* SHUNT_NETIF_CAP_* */
	uint32_t tso_max;		/* largest TSO packet the device takes */
	const char *name;
};

/*
 * Attach a driver to a stack.  priv is the driver's, returned by shunt_netif_priv().
 * Returns NULL and *err < 0 on failure.
 */
SHUNT_API struct shunt_netif *shunt_netif_add(struct shunt_stack *s, const struct shunt_netif_ops *ops,
    const struct shunt_netif_info *info, void *priv, int *err);
SHUNT_API void shunt_netif_remove(struct shunt_netif *nif);
SHUNT_API void *shunt_netif_priv(struct shunt_netif *nif);
SHUNT_API struct shunt_stack *shunt_netif_stack(struct shunt_netif *nif);
SHUNT_API const struct shunt_netif_info *shunt_netif_get_info(struct shunt_netif *nif);
/*
 * Back-pressure from a driver whose transmit queue is nearly full (on = 1)
 * or has drained (on = 0): TCP holds back new data meanwhile, as Linux's TCP
 * small queues do, instead of handing the driver frames it would drop, and
 * sends it once the queue drains (within the next poll round).
 */
SHUNT_API void shunt_netif_tx_pressure(struct shunt_netif *nif, int on);

/*
 * IPv4 configuration, network byte order.  gw may be 0 (no default route).
 * The interface goes up with shunt_netif_up(), which announces the address with
 * a gratuitous ARP.
 */
SHUNT_API int shunt_netif_set_ip4(struct shunt_netif *nif, uint32_t addr, uint32_t netmask, uint32_t gw);
SHUNT_API void shunt_netif_get_ip4(struct shunt_netif *nif, uint32_t *addr, uint32_t *netmask, uint32_t *gw);
SHUNT_API int shunt_netif_up(struct shunt_netif *nif);
SHUNT_API void shunt_netif_down(struct shunt_netif *nif);
/* Restrict the offloads the stack uses below what the driver offers. */
SHUNT_API void shunt_netif_set_caps(struct shunt_netif *nif, uint32_t caps);

/* Static ARP entries never expire. */
SHUNT_API int shunt_arp_add_static(struct shunt_stack *s, uint32_t ip, const uint8_t mac[6]);
SHUNT_API int shunt_arp_remove(struct shunt_stack *s, uint32_t ip);
/* 0 and the MAC if ip is resolved, -ENOENT otherwise. */
SHUNT_API int shunt_arp_lookup(struct shunt_stack *s, uint32_t ip, uint8_t mac[6]);

/*
 * In-memory link: a virtual wire joining one netif of stack a with one of
 * stack b.  Frames are copied (as on a real wire), so corrupting them never
 * touches the sender's buffers.  Delivery obeys the fault injector and the
 * link's clock (the stacks' clock): a delayed frame arrives when its time comes.
 */
struct shunt_link_faults {
	uint32_t loss_ppm;		/* drop probability, parts per million */
	uint32_t dup_ppm;		/* duplicate probability */
	uint32_t reorder_ppm;		/* probability a frame is held back and overtaken */
	uint32_t corrupt_ppm;		/* probability one random byte is flipped */
	uint64_t delay_ns;		/* base one-way delay */
	uint64_t jitter_ns;		/* uniform extra delay in [0, jitter) */
	uint64_t reorder_delay_ns;	/* extra delay of a reordered frame */
	uint64_t seed;
	uint64_t rate_bps;		/* 0: infinite; else serialisation delay */
	uint32_t queue_max;		/* frames in flight per direction before tail drop (0: 4096) */
};

struct shunt_link_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops;
};

struct shunt_link;
SHUNT_API struct shunt_link *shunt_link_create(struct shunt_stack *a, struct shunt_stack *b,
    const uint8_t mac_a[6], const uint8_t mac_b[6], uint16_t mtu, int *err);
SHUNT_API void shunt_link_destroy(struct shunt_link *l);
SHUNT_API struct shunt_netif *shunt_link_netif(struct shunt_link *l, int side);	/* side 0 = a, 1 = b */
/* Faults for frames sent by side (0: a→b, 1: b→a). */
SHUNT_API void shunt_link_set_faults(struct shunt_link *l, int side, const struct shunt_link_faults *f);
SHUNT_API void shunt_link_get_stats(struct shunt_link *l, int side, struct shunt_link_stats *st);
/* Frames still in flight in both directions. */
SHUNT_API uint32_t shunt_link_in_flight(struct shunt_link *l);
/* Earliest time a frame in flight is due, UINT64_MAX if none. */
SHUNT_API uint64_t shunt_link_next_due(struct shunt_link *l);
/*
 * Observe or alter every frame on the wire (tests): the hook sees each frame
 * after the fault injector; it may change the bytes and returns 0 to deliver,
 * nonzero to drop.
 */
typedef int (*shunt_link_hook_fn)(void *arg, int side, uint8_t *frame, uint32_t *len, uint32_t cap);
SHUNT_API void shunt_link_set_hook(struct shunt_link *l, shunt_link_hook_fn fn, void *arg);

/*
 * Fault injection on any netif (a DPDK port too): dir 0 judges the frames it
 * receives, dir 1 the frames it sends.  f == NULL turns a direction off.
 * Corrupting sent frames switches the netif's checksum offloads off, so the
 * damage happens after the checksums are computed, as on a wire.
 */
SHUNT_API int shunt_netif_faults(struct shunt_netif *nif, int dir, const struct shunt_link_faults *f);
SHUNT_API void shunt_netif_fault_stats(struct shunt_netif *nif, int dir, struct shunt_link_stats *st);

/*
 * Scripted netif, for tests and fuzzers: frames injected by the caller are
 * received by the stack at its next poll; frames the stack sends are kept
 * until the caller takes them.  Packetdrill-style tests are written on it.
 */
SHUNT_API struct shunt_netif *shunt_script_netif_create(struct shunt_stack *s, const uint8_t mac[6],
    uint16_t mtu, uint32_t caps, int *err);
/* Copies a frame into the receive queue.  0, or -ENOBUFS if the stack's pool is empty. */
SHUNT_API int shunt_script_inject(struct shunt_netif *nif, const void *frame, uint32_t len);
/* Copies out the oldest sent frame; returns its length, or -1 when none is queued. */
SHUNT_API int shunt_script_take(struct shunt_netif *nif, void *buf, uint32_t cap);
/* The same, and the offload requests the stack left on the frame (SHUNT_PBUF_TX_*, TSO segment size). */
SHUNT_API int shunt_script_take_flags(struct shunt_netif *nif, void *buf, uint32_t cap, uint8_t *ol_flags,
    uint16_t *tso_mss);
/* Frames sent and not yet taken. */
SHUNT_API uint32_t shunt_script_pending(struct shunt_netif *nif);
/* Drops every sent frame not yet taken. */
SHUNT_API void shunt_script_clear(struct shunt_netif *nif);

/*
 * pcap tap: records every frame the netif sends and receives to a
 * classic pcap file (tcpdump -r reads it).  Wraps the netif's ops.
 */
SHUNT_API int shunt_pcap_attach(struct shunt_netif *nif, const char *path);
SHUNT_API void shunt_pcap_detach(struct shunt_netif *nif);

#ifdef __cplusplus
}
#endif
#endif
