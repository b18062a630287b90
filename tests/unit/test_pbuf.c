/* pbufs and timers: reference counting, slicing, headroom, chain operations, the timer wheel. */
#include <shunt/stack.h>
#include <shunt/pbuf.h>
#include "testnet.h"
#include "priv/stack.h"
#include "wire/csum.h"

static struct shunt_stack *
mkstack(struct shunt_vclock *vc, uint32_t npbuf)
{
	struct shunt_stack_config c;
	struct shunt_stack *s;
	int err;

	shunt_stack_config_init(&c);
	shunt_vclock_init(vc, 5000000000ull);
	c.clock = &vc->clock;
	c.seed = 42;
	if (npbuf)
		c.pbuf_count = npbuf;
	s = shunt_stack_create(&c, &err);
	CHECKF(s != NULL, "create: %d", err);
	return s;
}

TEST(pbuf_alloc_chain_and_free)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	struct shunt_pbuf *p = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM, 5000), *q;
	uint8_t src[5000], dst[5000];
	uint32_t n = 0;
	int i;

	CHECK(p != NULL);
	CHECK_EQ(p->tot_len, 5000);
	for (q = p; q != NULL; q = q->next)
		n += q->len;
	CHECK_EQ(n, 5000);
	CHECK(p->next != NULL);		/* 5000 bytes need more than one 2 KiB buffer */
	CHECK_EQ(shunt_pbuf_headroom(p), SHUNT_PBUF_HEADROOM);
	for (i = 0; i < 5000; i++)
		src[i] = (uint8_t)(i * 13);
	CHECK_EQ(shunt_pbuf_copy_in(p, 0, src, 5000), 5000);
	CHECK_EQ(shunt_pbuf_copy_out(p, 0, dst, 5000), 5000);
	CHECK_MEM(src, dst, 5000);
	CHECK_EQ(shunt_pbuf_copy_out(p, 4990, dst, 100), 10);
	CHECK_MEM(dst, src + 4990, 10);
	shunt_pbuf_free(p);
	check_no_leaks(s);
	shunt_stack_destroy(s);
}

TEST(pbuf_slice_holds_references)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	struct shunt_pbuf *p = shunt_pbuf_alloc(s, 0, 4000), *sl, *sl2;
	uint8_t src[4000], dst[4000];
	int i;

	for (i = 0; i < 4000; i++)
		src[i] = (uint8_t)(i ^ (i >> 8));
	shunt_pbuf_copy_in(p, 0, src, 4000);
	sl = shunt_pbuf_slice(s, p, 1000, 2500);	/* crosses a buffer boundary */
	CHECK(sl != NULL);
	CHECK_EQ(sl->tot_len, 2500);
	CHECK_EQ(sl->kind, SHUNT_PBUF_REF);
	shunt_pbuf_free(p);				/* the slice keeps the data alive */
	CHECK_EQ(shunt_pbuf_copy_out(sl, 0, dst, 2500), 2500);
	CHECK_MEM(dst, src + 1000, 2500);
	sl2 = shunt_pbuf_slice(s, sl, 100, 50);		/* a slice of a slice */
	CHECK_EQ(sl2->u.ref->kind, SHUNT_PBUF_POOL);
	shunt_pbuf_free(sl);
	CHECK_EQ(shunt_pbuf_copy_out(sl2, 0, dst, 50), 50);
	CHECK_MEM(dst, src + 1100, 50);
	shunt_pbuf_free(sl2);
	check_no_leaks(s);
	shunt_stack_destroy(s);
}

static int ext_freed;

static void
ext_free(void *a, void *b)
{
	ext_freed += (int)(intptr_t)a;
	(void)b;
}

TEST(pbuf_ext_header_trim_pullup)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	static uint8_t mem[300];
	struct shunt_pbuf *e = shunt_pbuf_alloc_ext(s, mem, 300, ext_free, (void *)(intptr_t)1, NULL);
	struct shunt_pbuf *a, *b;
	uint8_t out[64];

	CHECK(e != NULL);
	CHECK_EQ(shunt_pbuf_header(e, 1), -ENOBUFS);	/* no headroom in front of external data */
	CHECK_EQ(shunt_pbuf_header(e, -20), 0);
	CHECK_EQ(e->len, 280);
	CHECK_EQ(shunt_pbuf_header(e, 20), 0);
	shunt_pbuf_free(e);
	CHECK_EQ(ext_freed, 1);

	a = shunt_pbuf_alloc(s, 64, 10);
	b = shunt_pbuf_alloc(s, 0, 40);
	memset(a->payload, 'a', 10);
	memset(b->payload, 'b', 40);
	shunt_pbuf_cat(a, b);
	CHECK_EQ(a->tot_len, 50);
	CHECK_EQ(shunt_pbuf_pullup(a, 30), 0);
	CHECK_EQ(a->len, 30);
	CHECK_EQ(a->tot_len, 50);
	CHECK_EQ(a->next->len, 20);
	shunt_pbuf_copy_out(a, 0, out, 50);
	CHECK(out[9] == 'a' && out[10] == 'b' && out[49] == 'b');
	CHECK_EQ(shunt_pbuf_pullup(a, 51), -EINVAL);
	shunt_pbuf_trim(a, 25);
	CHECK_EQ(a->tot_len, 25);
	CHECK(a->next == NULL);
	shunt_pbuf_free(a);
	check_no_leaks(s);
	shunt_stack_destroy(s);
}

TEST(pbuf_pool_exhaustion_and_recovery)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 64);
	struct shunt_pbuf *held[64], *p;
	int i;

	for (i = 0; i < 64; i++) {
		held[i] = shunt_pbuf_alloc(s, 0, 100);
		CHECK(held[i] != NULL);
	}
	CHECK(shunt_pbuf_alloc(s, 0, 100) == NULL);
	/* A chain that cannot be completed gives back what it took. */
	shunt_pbuf_free(held[0]);
	shunt_pbuf_free(held[1]);
	CHECK(shunt_pbuf_alloc(s, 0, 3 * 2048) == NULL);
	p = shunt_pbuf_alloc(s, 0, 2 * 2048);
	CHECK(p != NULL);
	shunt_pbuf_free(p);
	for (i = 2; i < 64; i++)
		shunt_pbuf_free(held[i]);
	check_no_leaks(s);
	shunt_stack_destroy(s);
}

TEST(pbuf_checksum_over_odd_chain)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	uint8_t d[777];
	struct shunt_pbuf *a, *b, *c;
	int i;

	for (i = 0; i < 777; i++)
		d[i] = (uint8_t)(i * 31 + 7);
	a = shunt_pbuf_alloc(s, 0, 101);
	b = shunt_pbuf_alloc(s, 0, 333);
	c = shunt_pbuf_alloc(s, 0, 343);
	shunt_pbuf_cat(a, b);
	shunt_pbuf_cat(a, c);
	shunt_pbuf_copy_in(a, 0, d, 777);
	CHECK_EQ(csum_fold(csum_pbuf(0, a, 0, 777)), csum_fold(csum_add(0, d, 777)));
	CHECK_EQ(csum_fold(csum_pbuf(0, a, 51, 600)), csum_fold(csum_add(0, d + 51, 600)));
	shunt_pbuf_free(a);
	check_no_leaks(s);
	shunt_stack_destroy(s);
}

static int fired[8];
static uint64_t fired_at[8];
static struct shunt_timer timers[8];

static void
on_timer(struct shunt_stack *s, struct shunt_timer *t)
{
	int i = (int)(t - timers);

	fired[i]++;
	fired_at[i] = s->now;
	if (i == 3 && fired[i] < 3)
		timer_arm(s, t, 0);	/* re-arming for "now" must not loop */
}

TEST(timer_wheel_exact_and_far)
{
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	uint64_t t0 = vc.now;
	int i;

	for (i = 0; i < 8; i++)
		timer_init(&timers[i], on_timer);
	stack_refresh_now(s);
	timer_arm(s, &timers[0], 200000000);		/* 200 ms */
	timer_arm(s, &timers[1], 5000000000ull);	/* 5 s: beyond one turn of the wheel */
	timer_arm(s, &timers[2], 300000);		/* 0.3 ms: inside the first tick */
	timer_arm(s, &timers[3], 1000000);
	timer_arm(s, &timers[4], 50000000);
	timer_cancel(s, &timers[4]);
	CHECK_EQ(shunt_stack_next_deadline(s), t0 + 300000);
	shunt_vclock_advance(&vc, 299999);
	shunt_stack_poll(s);
	CHECK_EQ(fired[2], 0);				/* never early */
	shunt_vclock_advance(&vc, 1);
	shunt_stack_poll(s);
	CHECK_EQ(fired[2], 1);
	shunt_vclock_advance(&vc, 700000);
	shunt_stack_poll(s);
	CHECK_EQ(fired[3], 1);				/* fired once, re-armed, waits for the next round */
	shunt_stack_poll(s);
	shunt_stack_poll(s);
	CHECK_EQ(fired[3], 3);
	shunt_vclock_advance(&vc, 199000000 - 1);
	shunt_stack_poll(s);
	CHECK_EQ(fired[0], 0);
	shunt_vclock_advance(&vc, 1);
	shunt_stack_poll(s);
	CHECK_EQ(fired[0], 1);
	CHECK_EQ(fired_at[0], t0 + 200000000);
	/* Jump far ahead in one step: the 5 s timer fires, the cancelled one never does. */
	shunt_vclock_advance(&vc, 10000000000ull);
	shunt_stack_poll(s);
	CHECK_EQ(fired[1], 1);
	CHECK_EQ(fired[4], 0);
	CHECK_EQ(shunt_stack_next_deadline(s), UINT64_MAX);
	shunt_stack_destroy(s);
}

/*
 * The wheel against a model: 256 timers armed, re-armed and cancelled at
 * random over delays from 0 to 40 minutes (both levels, and past one turn of
 * the far level), the clock moved by steps from 0 to 30 minutes.  Every
 * armed timer fires exactly once, in the first round whose clock has reached
 * its expiry, and the next deadline is always the earliest armed expiry.
 */
#define MODEL_N 256
static struct shunt_timer mtimers[MODEL_N];
static uint64_t mexp[MODEL_N];		/* 0 = not armed (in the model) */
static int mbad, mfires;

static void
on_model_timer(struct shunt_stack *s, struct shunt_timer *t)
{
	int i = (int)(t - mtimers);

	if (mexp[i] == 0 || mexp[i] > s->now)
		mbad++;				/* not armed, or early */
	mexp[i] = 0;
	mfires++;
}

static uint64_t
model_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

TEST(timer_wheel_against_model)
{
	static const uint64_t scale[] = { 1000000ull, 1100000000ull, 60000000000ull, 2400000000000ull };
	struct shunt_vclock vc;
	struct shunt_stack *s = mkstack(&vc, 0);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int i, round, late = 0, wrong_deadline = 0;

	stack_refresh_now(s);
	for (i = 0; i < MODEL_N; i++) {
		timer_init(&mtimers[i], on_model_timer);
		mexp[i] = 0;
	}
	mbad = mfires = 0;
	for (round = 0; round < 4000; round++) {
		uint64_t best = UINT64_MAX, r = model_rand(&rng);
		int ops = (int)(r % 8), k;

		for (k = 0; k < ops; k++) {
			uint64_t v = model_rand(&rng);

			i = (int)(v % MODEL_N);
			if ((v >> 20) % 5 == 0) {
				timer_cancel(s, &mtimers[i]);
				mexp[i] = 0;
			} else {
				uint64_t d = (v >> 24) % scale[(v >> 12) % 4];

				timer_arm(s, &mtimers[i], d);
				mexp[i] = s->now + d;
			}
		}
		for (i = 0; i < MODEL_N; i++)
			if (mexp[i] != 0 && mexp[i] < best)
				best = mexp[i];
		if (shunt_stack_next_deadline(s) != best)
			wrong_deadline++;
		/* Mostly small steps, sometimes exactly to the deadline, now and then a long jump. */
		r = model_rand(&rng);
		if (r % 16 == 0 && best != UINT64_MAX)
			shunt_vclock_advance(&vc, best - s->now);
		else
			shunt_vclock_advance(&vc, (r >> 8) % scale[(r >> 4) % 4 == 3 ? 3 : (r >> 4) % 3]);
		shunt_stack_poll(s);
		for (i = 0; i < MODEL_N; i++)
			if (mexp[i] != 0 && mexp[i] <= s->now)
				late++;
	}
	CHECK_EQ(mbad, 0);
	CHECK_EQ(late, 0);
	CHECK_EQ(wrong_deadline, 0);
	CHECK(mfires > 1000);
	for (i = 0; i < MODEL_N; i++)
		timer_cancel(s, &mtimers[i]);
	CHECK_EQ(shunt_stack_next_deadline(s), UINT64_MAX);
	shunt_stack_destroy(s);
}
