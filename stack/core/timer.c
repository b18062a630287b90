/*
 * Timers of one stack: a hashed timing wheel.  Called by every protocol that
 * needs time (ARP, reassembly, TCP); run by shunt_stack_poll().
 *
 * Due timers are first unlinked into a private list and only then fired, so a
 * callback that re-arms its timer (even for "now") runs again in a later
 * round, never in a loop within this one.
 */
#include <stdint.h>
#include <string.h>
#include "priv/stack.h"

static inline uint64_t
tick_of(uint64_t ns)
{
	return ns >> TIMER_SHIFT;
}

void
timer_wheel_init(struct timer_wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->cur_tick = tick_of(now);
}

void
timer_init(struct shunt_timer *t, shunt_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}

static void
unlink_timer(struct timer_wheel *w, struct shunt_timer *t)
{
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	*t->pprev = t->next;
	t->next = NULL;
	t->pprev = NULL;
	w->count--;
}

void
timer_arm_at(struct shunt_stack *s, struct shunt_timer *t, uint64_t when)
{
	struct timer_wheel *w = &s->timers;
	uint64_t tick = tick_of(when);
	struct shunt_timer **slot;

	if (t->pprev != NULL)
		unlink_timer(w, t);
	/* A timer due in a tick already run goes into the next tick to run. */
	if (tick < w->cur_tick)
		tick = w->cur_tick;
	t->expires = when;
	slot = &w->slot[tick & (TIMER_SLOTS - 1)];
	t->next = *slot;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	t->pprev = slot;
	*slot = t;
	w->count++;
}

void
timer_arm(struct shunt_stack *s, struct shunt_timer *t, uint64_t delay_ns)
{
	timer_arm_at(s, t, s->now + delay_ns);
}

void
timer_cancel(struct shunt_stack *s, struct shunt_timer *t)
{
	if (t->pprev != NULL)
		unlink_timer(&s->timers, t);
}

int
timer_run(struct shunt_stack *s, uint64_t now)
{
	struct timer_wheel *w = &s->timers;
	uint64_t end = tick_of(now);
	struct shunt_timer *due = NULL, *t;
	uint64_t tick, last;
	int fired = 0;

	if (end < w->cur_tick)
		return 0;
	if (w->count == 0) {
		w->cur_tick = end;
		return 0;
	}
	/* Visiting more than one turn of slots finds nothing new. */
	last = end - w->cur_tick >= TIMER_SLOTS ? w->cur_tick + TIMER_SLOTS - 1 : end;
	for (tick = w->cur_tick; tick <= last; tick++) {
		struct shunt_timer **pp = &w->slot[tick & (TIMER_SLOTS - 1)];

		while ((t = *pp) != NULL) {
			if (t->expires <= now) {
				unlink_timer(w, t);
				t->next = due;
				due = t;
			} else {
				pp = &t->next;
			}
		}
	}
	/* The current tick stays open: timers due later within it are found next round. */
	w->cur_tick = end;
	while ((t = due) != NULL) {
		due = t->next;
		t->next = NULL;
		fired++;
		t->fn(s, t);
	}
	return fired;
}

uint64_t
timer_next_deadline(struct shunt_stack *s)
{
	struct timer_wheel *w = &s->timers;
	uint64_t best = UINT64_MAX, tick;

	if (w->count == 0)
		return UINT64_MAX;
	for (tick = w->cur_tick; tick < w->cur_tick + TIMER_SLOTS; tick++) {
		struct shunt_timer *t;

		for (t = w->slot[tick & (TIMER_SLOTS - 1)]; t != NULL; t = t->next)
			if (t->expires < best)
				best = t->expires;
		/* Anything in a later slot of this turn is due later than this slot's tick. */
		if (best != UINT64_MAX && tick_of(best) <= tick)
			break;
	}
	return best;
}
