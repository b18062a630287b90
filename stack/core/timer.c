/*
 * Timers of one stack: a two-level hashed timing wheel (see priv/timer.h).
 * Called by every protocol that needs time (ARP, reassembly, TCP); run by
 * shunt_stack_poll().
 *
 * Due timers are first unlinked into a private list and only then fired, so a
 * callback that re-arms its timer (even for "now") runs again in a later
 * round, never in a loop within this one.
 *
 * Invariant: a timer is on the near level exactly when its page is at or
 * before the current one (the clock only moves forward, and entering a page
 * moves that page's timers down), so unlinking knows which count to drop.
 */
#include <stdint.h>
#include <string.h>
#include "priv/stack.h"

#define SLOT_MASK	(TIMER_SLOTS - 1)

static inline uint64_t
tick_of(uint64_t ns)
{
	return ns >> TIMER_SHIFT;
}

static inline uint64_t
page_of_tick(uint64_t tick)
{
	return tick >> TIMER_PAGE_SHIFT;
}

static inline int
on_near(const struct timer_wheel *w, const struct shunt_timer *t)
{
	return page_of_tick(tick_of(t->expires)) <= page_of_tick(w->cur_tick);
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
push(struct timer_level *l, unsigned idx, struct shunt_timer *t)
{
	struct shunt_timer **slot = &l->slot[idx];

	t->next = *slot;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	t->pprev = slot;
	*slot = t;
	l->map[idx / 64] |= 1ull << (idx % 64);
	l->count++;
}

static void
unlink_timer(struct timer_wheel *w, struct shunt_timer *t)
{
	if (on_near(w, t)) {
		w->near.count--;
	} else {
		w->far.count--;
		if (t->expires == w->far_min)
			w->far_min = 0;
	}
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	*t->pprev = t->next;
	t->next = NULL;
	t->pprev = NULL;
}

/* Links an unlinked timer on the level its expiry belongs to. */
static void
place(struct timer_wheel *w, struct shunt_timer *t)
{
	uint64_t tick = tick_of(t->expires);

	if (page_of_tick(tick) <= page_of_tick(w->cur_tick)) {
		/* A timer due in a tick already run goes into the next tick to run. */
		if (tick < w->cur_tick)
			tick = w->cur_tick;
		push(&w->near, (unsigned)(tick & SLOT_MASK), t);
	} else {
		push(&w->far, (unsigned)(page_of_tick(tick) & SLOT_MASK), t);
		if (w->far_min != 0 && t->expires < w->far_min)
			w->far_min = t->expires;
	}
}

void
timer_arm_at(struct shunt_stack *s, struct shunt_timer *t, uint64_t when)
{
	struct timer_wheel *w = &s->timers;

	if (t->pprev != NULL)
		unlink_timer(w, t);
	t->expires = when;
	place(w, t);
	/* The poller sleeps on interrupts past this timer: it must come back for it. */
	if (unlikely(when < s->wake_at)) {
		s->wake_at = when;
		if (s->kick != NULL)
			s->kick(s->kick_arg);
	}
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

/*
 * The first slot at or after idx (up to the end of the level) that holds a
 * timer, or -1.  Bits of slots found empty are cleared on the way.
 */
static int
next_slot(struct timer_level *l, unsigned idx)
{
	while (idx < TIMER_SLOTS) {
		uint64_t bits = l->map[idx / 64] & (~0ull << (idx % 64));

		if (bits == 0) {
			idx = (idx / 64 + 1) * 64;
			continue;
		}
		idx = (idx / 64) * 64 + (unsigned)__builtin_ctzll(bits);
		if (l->slot[idx] != NULL)
			return (int)idx;
		l->map[idx / 64] &= ~(1ull << (idx % 64));
		idx++;
	}
	return -1;
}

/* The clock enters the page of w->cur_tick: its timers move to the near level. */
static void
enter_page(struct timer_wheel *w)
{
	uint64_t page = page_of_tick(w->cur_tick);
	struct shunt_timer **pp = &w->far.slot[page & SLOT_MASK];
	struct shunt_timer *t;

	if (w->far.count == 0)
		return;
	while ((t = *pp) != NULL) {
		if (page_of_tick(tick_of(t->expires)) == page) {
			/* Unlinked by hand: by the invariant it would now count as near. */
			*pp = t->next;
			if (t->next != NULL)
				t->next->pprev = pp;
			w->far.count--;
			place(w, t);
			w->far_min = 0;
		} else {
			pp = &t->next;
		}
	}
}

/* The earliest expiry on the far level (kept until a far timer leaves or moves down). */
static uint64_t
far_deadline(struct timer_wheel *w)
{
	uint64_t page = page_of_tick(w->cur_tick), best = UINT64_MAX, i;

	if (w->far.count == 0)
		return UINT64_MAX;
	if (w->far_min != 0)
		return w->far_min;
	/* Pages in order; a slot may also hold a timer a whole turn (or more) later. */
	for (i = 1; i <= TIMER_SLOTS; i++) {
		uint64_t p = page + i;
		struct shunt_timer *t;
		int own = 0;

		for (t = w->far.slot[p & SLOT_MASK]; t != NULL; t = t->next) {
			if (t->expires < best)
				best = t->expires;
			own |= page_of_tick(tick_of(t->expires)) == p;
		}
		if (own)
			break;
	}
	w->far_min = best;
	return best;
}

int
timer_run(struct shunt_stack *s, uint64_t now)
{
	struct timer_wheel *w = &s->timers;
	uint64_t end = tick_of(now);
	struct shunt_timer *due = NULL, *t;
	uint64_t next;
	int fired = 0;

	if (end < w->cur_tick)
		return 0;
	if (w->near.count + w->far.count == 0) {
		w->cur_tick = end;
		return 0;
	}
	for (;;) {
		uint64_t page_last = w->cur_tick | SLOT_MASK;
		unsigned last = (unsigned)((end < page_last ? end : page_last) & SLOT_MASK);
		int idx = w->near.count ? next_slot(&w->near, (unsigned)(w->cur_tick & SLOT_MASK)) : -1;

		for (; idx >= 0 && (unsigned)idx <= last; idx = next_slot(&w->near, (unsigned)idx + 1)) {
			struct shunt_timer **pp = &w->near.slot[idx];

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
		if (end <= page_last) {
			/* The current tick stays open: timers due later within it are found next round. */
			w->cur_tick = end;
			break;
		}
		/*
		 * Every near timer was due (its tick is at most page_last < end):
		 * on to the next page, or straight to the page of the earliest far
		 * timer (no later than end's page) -- the pages between hold none.
		 */
		if (w->far.count == 0) {
			w->cur_tick = end;
			break;
		}
		next = page_of_tick(tick_of(far_deadline(w))) << TIMER_PAGE_SHIFT;
		if (next > (end & ~(uint64_t)SLOT_MASK))
			next = end & ~(uint64_t)SLOT_MASK;
		w->cur_tick = next > page_last + 1 ? next : page_last + 1;
		enter_page(w);
	}
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

	if (w->near.count != 0) {
		int idx = next_slot(&w->near, (unsigned)(w->cur_tick & SLOT_MASK));

		if (idx >= 0) {
			uint64_t best = UINT64_MAX;
			struct shunt_timer *t;

			/* One tick's timers; every later slot is a later tick. */
			for (t = w->near.slot[idx]; t != NULL; t = t->next)
				if (t->expires < best)
					best = t->expires;
			return best;
		}
	}
	return far_deadline(w);
}
