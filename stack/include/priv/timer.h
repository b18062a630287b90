/*
 * Timers of one stack: a two-level hashed timing wheel.  Timers are
 * intrusive (embedded in the object they serve), so arming and cancelling
 * never allocate.
 *
 * Time is cut into ticks of 2^20 ns (about 1 ms) and ticks into pages of
 * 1024 ticks (about 1.07 s).  The first level holds only the timers due in
 * the current page, one slot per tick; the second holds later timers, one
 * slot per page (a turn of 1024 pages is about 18 minutes; a timer further
 * out waits in its slot and is skipped until its turn comes).  When the
 * clock enters a page, that page's timers move down to the first level.
 * So a slot of the first level never holds a timer of another page, and the
 * next deadline is found with a bitmap of non-empty slots instead of a walk
 * over every armed timer -- which matters with tens of thousands of
 * connections in TIME_WAIT.
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

#define TIMER_SLOTS	1024		/* per level */
#define TIMER_SHIFT	20		/* ns per tick, log2 */
#define TIMER_PAGE_SHIFT 10		/* ticks per page, log2 (= log2 TIMER_SLOTS) */

struct timer_level {
	struct shunt_timer *slot[TIMER_SLOTS];
	uint64_t map[TIMER_SLOTS / 64];	/* bit set: the slot may be non-empty (cleared lazily) */
	uint32_t count;
};

struct timer_wheel {
	struct timer_level near;	/* ticks of the current page */
	struct timer_level far;		/* later pages */
	uint64_t cur_tick;		/* every tick before this one has run */
	uint64_t far_min;		/* earliest expiry on the far level, 0 = not known */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now);
void timer_init(struct shunt_timer *t, shunt_timer_fn fn);
/* (Re)arms t to fire at absolute time `when`. */
void timer_arm_at(struct shunt_stack *s, struct shunt_timer *t, uint64_t when);
void timer_arm(struct shunt_stack *s, struct shunt_timer *t, uint64_t delay_ns);
void timer_cancel(struct shunt_stack *s, struct shunt_timer *t);
/* Runs every timer due at or before now; returns the number fired. */
int timer_run(struct shunt_stack *s, uint64_t now);
/* The earliest expiry of any armed timer, UINT64_MAX if none. */
uint64_t timer_next_deadline(struct shunt_stack *s);

static inline int
timer_pending(const struct shunt_timer *t)
{
	return t->pprev != NULL;
}

#endif
