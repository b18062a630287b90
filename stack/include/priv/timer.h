/*
 * Timers of one stack: a hashed timing wheel of 1024 slots of 2^20 ns
 * (about 1 ms).  Timers are intrusive (embedded in the object they serve), so
 * arming and cancelling never allocate.  A timer due beyond one turn of the
 * wheel waits in its slot and is skipped until its turn comes.
 */
#ifndef SHUNT_PRIV_TIMER_H
#define SHUNT_PRIV_TIMER_H

#include <stdint.h>

struct shunt_stack;
struct shunt_timer;

typedef void (*shunt_timer_fn)(struct shunt_stack *s, struct shunt_timer *t);

struct shunt_timer {
	struct shunt_timer *next;
	struct shunt_timer **pprev;	/* NULL when not armed */
	uint64_t expires;		/* absolute clock ns */
	shunt_timer_fn fn;
};

#define TIMER_SLOTS	1024
#define TIMER_SHIFT	20

struct timer_wheel {
	struct shunt_timer *slot[TIMER_SLOTS];
	uint64_t cur_tick;		/* every tick before this one has run */
	uint32_t count;
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now);
void timer_init(struct shunt_timer *t, shunt_timer_fn fn);
/* (Re)arms t to fire at absolute time `when`. */
void timer_arm_at(struct shunt_stack *s, struct shunt_timer *t, uint64_t when);
void timer_arm(struct shunt_stack *s, struct shunt_timer *t, uint64_t delay_ns);
void timer_cancel(struct shunt_stack *s, struct shunt_timer *t);
/* Runs every timer due at or before now; returns the number fired. */
int timer_run(struct shunt_stack *s, uint64_t now);
uint64_t timer_next_deadline(struct shunt_stack *s);

static inline int
timer_pending(const struct shunt_timer *t)
{
	return t->pprev != NULL;
}

#endif
