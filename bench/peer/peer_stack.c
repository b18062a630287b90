/*
 * shunt-peer's stack: DPDK (the EAL arguments of --dpdk: net_memif in the
 * benchmarks) and one shunt stack on its port with the address of --ip.
 * The client waits for the link (a memif client is up once it reached the
 * server's socket) before it sends anything: a SYN sent into a down link
 * would only leave after the retransmission timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/dpdk.h>
#include "peer.h"

#define LINK_WAIT_MS	10000

struct shunt_netif *peer_nif;

static int
parse_cidr(const char *str, uint32_t *addr, uint32_t *mask)
{
	char buf[32];
	const char *slash = strchr(str, '/');
	long len;

	if (slash == NULL || (size_t)(slash - str) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, str, (size_t)(slash - str));
	buf[slash - str] = '\0';
	len = strtol(slash + 1, NULL, 10);
	if (len < 1 || len > 32 || shunt_ip4_parse(buf, addr) != 0)
		return -EINVAL;
	*mask = htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len));
	return 0;
}

static void
dpdk_log(const char *line, void *arg)
{
	(void)arg;
	/* DPDK's notices are noise here; its errors are what we want to see. */
	if (strstr(line, "rror") != NULL || strstr(line, "ERR") != NULL)
		fprintf(stderr, "dpdk: %s\n", line);
}

struct shunt_stack *
peer_stack_up(const struct peer_opts *o, struct shunt_netif **nifp)
{
	struct shunt_stack_config cfg;
	struct shunt_dpdk_port_config pc;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	uint32_t addr, mask;
	char eb[256];
	uint64_t t0;
	int err;

	if (parse_cidr(o->ip, &addr, &mask) != 0)
		peer_die("bad --ip %s", o->ip);
	shunt_dpdk_set_log(dpdk_log, NULL);
	err = shunt_dpdk_eal_init(o->dpdk, eb, sizeof(eb));
	if (err != 0)
		peer_die("EAL: %s", eb);
	shunt_stack_config_init(&cfg);
	s = shunt_stack_create(&cfg, &err);
	if (s == NULL)
		peer_die("shunt_stack_create: %s", strerror(-err));
	shunt_dpdk_port_config_init(&pc);
	/*
	 * A memif wire joins two shunt-peers through memory: no checksums either
	 * way (SHUNT_TRUST_CSUM), as the kernel's veth, the baseline, computes
	 * none.  PEER_CSUM=1 computes them anyway (what that costs: BENCHMARKS.md).
	 */
	pc.trust_csum = strstr(o->dpdk, "net_memif") != NULL && getenv("PEER_CSUM") == NULL;
	nif = shunt_dpdk_netif_create(s, &pc, &err, eb, sizeof(eb));
	if (nif == NULL)
		peer_die("DPDK port: %s", eb);
	err = shunt_netif_set_ip4(nif, addr, mask, 0);
	if (err == 0)
		err = shunt_netif_up(nif);
	if (err != 0)
		peer_die("address %s: %s", o->ip, strerror(-err));
	if (!o->server) {
		t0 = peer_now();
		while (!shunt_dpdk_link_up(nif)) {
			struct timespec ts = { 0, 1000000 };

			if (peer_now() - t0 > LINK_WAIT_MS * 1000000ull)
				peer_die("link did not come up within %d ms", LINK_WAIT_MS);
			shunt_stack_poll(s);
			nanosleep(&ts, NULL);
		}
	}
	*nifp = nif;
	peer_nif = nif;
	return s;
}

void
peer_stack_down(struct shunt_stack *s, struct shunt_netif *nif)
{
	peer_nif = NULL;
	shunt_netif_remove(nif);
	shunt_stack_destroy(s);
	shunt_dpdk_fini();
}
