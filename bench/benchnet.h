/*
 * Two shunt stacks on a virtual clock, joined by a pass-through wire made for
 * timing: the bench netif.  Unlike the in-memory link of the unit tests
 * (stack/netif/link.c: malloc and copy on transmit, pool buffer and copy on
 * receive, fault injector on the way), its transmit keeps the stack's frame
 * as it is and its receive hands over frames that are already in the
 * receiver's pool.  Moving frames across is a separate step, so a benchmark
 * times the stacks and leaves the wire out:
 *
 *	write / poll on side 0      (timed: sender)
 *	benchnet_copy(bn, 0)        (untimed: the wire, a copy as DMA would make)
 *	benchnet_release(bn, 0)     (timed: the sender frees its frames, as at Tx completion)
 *	shunt_stack_poll(side 1)    (timed: receiver)
 */
#ifndef SHUNT_BENCHNET_H
#define SHUNT_BENCHNET_H

#include <shunt/stack.h>
#include <shunt/netif.h>

struct bench_port;

struct benchnet {
	struct shunt_vclock clock;
	struct shunt_stack *s[2];
	struct shunt_netif *nif[2];
	struct bench_port *port[2];
	uint32_t ip[2];			/* 198.18.0.1, 198.18.0.2, network order */
	uint8_t mac[2][6];
	int csum_offload;
};

/*
 * cfg may be NULL (defaults); the clock and seeds are set here.  With
 * csum_offload the netifs offer checksum offload both ways, as a DPDK NIC
 * does: senders leave IPv4/TCP/UDP checksums to the "NIC", and received
 * frames come marked as verified (the wire does not fill the sums in: the
 * receiver never looks).  0 or -errno.
 */
int benchnet_init(struct benchnet *bn, const struct shunt_stack_config *cfg, int csum_offload);
/* Destroys both stacks; returns the pool objects they left in use (leaks). */
uint32_t benchnet_fini(struct benchnet *bn);
/* Frames side has sent (and not yet released). */
uint32_t benchnet_sent(const struct benchnet *bn, int side);
/* Copies the frames side sent, not yet copied, into the peer's receive queue; returns how many. */
uint32_t benchnet_copy(struct benchnet *bn, int side);
/* Frames waiting in side's receive queue for its next poll. */
uint32_t benchnet_rx_pending(const struct benchnet *bn, int side);
/* Frees every frame side sent. */
void benchnet_release(struct benchnet *bn, int side);
/* Frames dropped because a queue was full (a benchmark bug if nonzero). */
uint64_t benchnet_drops(const struct benchnet *bn);
/* Polls both sides and moves frames until nothing moves, advancing the clock by step_ns per round. */
void benchnet_settle(struct benchnet *bn, uint64_t step_ns, int max_rounds);

#endif
