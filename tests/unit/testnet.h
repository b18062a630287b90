/*
 * Test fixtures: stacks on a virtual clock, two of them joined by the
 * in-memory link (198.18.0.1 and 198.18.0.2 on 198.18.0.0/24), and a loop
 * that polls both while advancing time.  Every fixture checks at teardown
 * that all pbufs went back to their pools.
 */
#ifndef SHUNT_TESTNET_H
#define SHUNT_TESTNET_H

#include <shunt/stack.h>
#include <shunt/pbuf.h>
#include <shunt/netif.h>
#include <shunt/udp.h>
#include "test.h"

struct testnet {
	struct shunt_vclock clock;
	struct shunt_stack *s[2];
	struct shunt_link *link;
	struct shunt_netif *nif[2];
	uint32_t ip[2];			/* network order */
	uint8_t mac[2][6];
};

/* cfg may be NULL (defaults); seed keys both stacks. */
void testnet_init(struct testnet *tn, const struct shunt_stack_config *cfg, uint64_t seed);
/* Destroys everything; fails the test if any pbuf is still in use. */
void testnet_fini(struct testnet *tn);
/* Polls both stacks; advances the clock by step_ns each round.  Stops after `rounds` or when done(arg) is true. */
int testnet_run(struct testnet *tn, uint64_t step_ns, int rounds, int (*done)(void *), void *arg);
/* Polls until nothing moves on the link and no timer is due within horizon_ns. */
void testnet_settle(struct testnet *tn, uint64_t horizon_ns);
/* Fails the test if any pbuf of s is in use now (the stack should be quiet). */
void check_no_leaks(struct shunt_stack *s);
/* Destroys s; fails the test if anything was left in use after the stack let go of what it held. */
void destroy_no_leaks(struct shunt_stack *s);
uint32_t ip4(const char *dotted);

#endif
