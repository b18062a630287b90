/* Test fixtures: see testnet.h. */
#include <arpa/inet.h>
#include "testnet.h"

uint32_t
ip4(const char *dotted)
{
	uint32_t a;

	if (shunt_ip4_parse(dotted, &a) != 0)
		test_fail(__FILE__, __LINE__, "bad address %s", dotted);
	return a;
}

void
check_no_leaks(struct shunt_stack *s)
{
	struct shunt_pool_usage u;

	shunt_stack_pool_usage(s, &u);
	CHECKF(u.pbuf_in_use == 0 && u.pbuf_hdr_in_use == 0, "leak: %u pbufs, %u headers still in use",
	    u.pbuf_in_use, u.pbuf_hdr_in_use);
}

void
destroy_no_leaks(struct shunt_stack *s)
{
	struct shunt_pool_usage u;

	CHECKF(shunt_stack_destroy_checked(s, &u) == 0, "leak: %u pbufs, %u headers never freed",
	    u.pbuf_in_use, u.pbuf_hdr_in_use);
}

void
testnet_init(struct testnet *tn, const struct shunt_stack_config *cfg, uint64_t seed)
{
	struct shunt_stack_config c;
	int i, err = 0;

	memset(tn, 0, sizeof(*tn));
	shunt_vclock_init(&tn->clock, 1000000000ull);
	for (i = 0; i < 2; i++) {
		if (cfg != NULL)
			c = *cfg;
		else
			shunt_stack_config_init(&c);
		c.clock = &tn->clock.clock;
		c.seed = seed * 2 + (uint64_t)i + 1;
		tn->s[i] = shunt_stack_create(&c, &err);
		CHECKF(tn->s[i] != NULL, "stack create: %d", err);
		memcpy(tn->mac[i], (uint8_t[]){ 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) }, 6);
	}
	tn->link = shunt_link_create(tn->s[0], tn->s[1], tn->mac[0], tn->mac[1], 1500, &err);
	CHECKF(tn->link != NULL, "link create: %d", err);
	for (i = 0; i < 2; i++) {
		tn->nif[i] = shunt_link_netif(tn->link, i);
		tn->ip[i] = ip4(i == 0 ? "198.18.0.1" : "198.18.0.2");
		CHECK_EQ(shunt_netif_set_ip4(tn->nif[i], tn->ip[i], ip4("255.255.255.0"), 0), 0);
		CHECK_EQ(shunt_netif_up(tn->nif[i]), 0);
	}
}

void
testnet_fini(struct testnet *tn)
{
	int i;

	/* Let everything in flight land and be freed. */
	for (i = 0; i < 2; i++)
		shunt_stack_poll(tn->s[i]);
	shunt_link_destroy(tn->link);
	for (i = 0; i < 2; i++)
		destroy_no_leaks(tn->s[i]);
}

int
testnet_run(struct testnet *tn, uint64_t step_ns, int rounds, int (*done)(void *), void *arg)
{
	int r;

	for (r = 0; r < rounds; r++) {
		if (done != NULL && done(arg))
			return r;
		shunt_stack_poll(tn->s[0]);
		shunt_stack_poll(tn->s[1]);
		shunt_vclock_advance(&tn->clock, step_ns);
	}
	return done != NULL && done(arg) ? r : -1;
}

void
testnet_settle(struct testnet *tn, uint64_t horizon_ns)
{
	int guard;

	for (guard = 0; guard < 1000000; guard++) {
		uint64_t now = tn->clock.now;
		uint64_t next = shunt_link_next_due(tn->link);
		uint64_t d0 = shunt_stack_next_deadline(tn->s[0]);
		uint64_t d1 = shunt_stack_next_deadline(tn->s[1]);

		if (d0 < next)
			next = d0;
		if (d1 < next)
			next = d1;
		if (next == UINT64_MAX || next > now + horizon_ns)
			return;
		if (next > now)
			tn->clock.now = next;
		shunt_stack_poll(tn->s[0]);
		shunt_stack_poll(tn->s[1]);
	}
	test_fail(__FILE__, __LINE__, "network did not settle");
}
