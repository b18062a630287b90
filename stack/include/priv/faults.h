/*
 * The fault dice: one seeded decision per frame (lose it? duplicate it?
 * corrupt which bit? hold it back how long?), shared by the in-memory link
 * and the fault injector that wraps any netif.
 */
#ifndef SHUNT_PRIV_FAULTS_H
#define SHUNT_PRIV_FAULTS_H

#include <shunt/netif.h>

struct fault_dice {
	struct shunt_link_faults f;
	uint64_t rng;
	uint64_t wire_free_at;		/* rate limiting: when the serialiser is idle again */
	struct shunt_link_stats st;
};

struct fault_verdict {
	uint8_t drop;
	uint8_t dup;
	uint8_t corrupt;
	uint8_t corrupt_mask;
	uint32_t corrupt_off;
	uint64_t due;			/* when the frame may go on */
};

void fault_dice_init(struct fault_dice *d, const struct shunt_link_faults *f, uint64_t salt);
/* Rolls for one frame of len bytes at time now; counts what it decided in d->st. */
void fault_roll(struct fault_dice *d, uint64_t now, uint32_t len, struct fault_verdict *v);
uint64_t fault_rand(struct fault_dice *d);

#endif
