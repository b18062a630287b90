/*
 * UDP echo checker on shunt's raw API over a DPDK port: sends datagrams of
 * many sizes with pseudo-random content to an echo server, one at a time,
 * and compares every byte that comes back.  The interop tests run it against
 * examples/udp_echo_raw over net_memif: two shunt stacks, no kernel between.
 *
 *   udp_client_raw --dpdk 'EAL ARGS' --ip A.B.C.D/len --server A.B.C.D [--port 7]
 *       [--count 1000] [--max-size 8000] [--seed 1] [--timeout-ms 300] [--tries 5]
 *       [--link-wait-ms 10000] [--stats] [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]
 *
 * Datagram i has size EDGES[i] for the first few (sizes around segment,
 * fragment and buffer boundaries), then 1 + (i * 7919) % max-size.  A datagram
 * not answered within the timeout is sent again, at most --tries times in all.
 * An answer that matches an earlier datagram is a late duplicate (counted,
 * harmless); one that matches nothing is corruption.  Exit 0 only if every
 * datagram came back intact and nothing corrupt arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/udp.h>
#include <shunt/dpdk.h>
#include "../../examples/example_util.h"

#define MAX_DGRAM	65507
#define LATE_WINDOW	16	/* earlier datagrams an answer is checked against */

static const uint32_t edges[] = {
	1, 2, 3, 7, 8, 9, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 1023, 1024,
	1471, 1472, 1473, 1479, 1480, 1481, 2047, 2048, 2049, 2951, 2952, 2953, 4095, 4096, 4097,
	7999, 8000,
};

struct client {
	struct shunt_udp_pcb *pcb;
	uint64_t seed;
	uint32_t max_size;
	uint32_t cur;			/* index of the datagram awaiting its echo */
	int answered;
	uint8_t *want;			/* its bytes */
	uint32_t want_len;
	uint8_t *got;			/* scratch for what came back */
	uint8_t *scratch;		/* scratch for regenerating an earlier datagram */
	uint64_t ok, late, corrupt, stray;
	uint32_t server;
	uint16_t port;
};

static uint32_t
dgram_size(uint32_t i, uint32_t max)
{
	if (i < sizeof(edges) / sizeof(edges[0]) && edges[i] <= max)
		return edges[i];
	return 1 + (uint32_t)(((uint64_t)i * 7919u) % max);
}

/* Content of datagram i: a splitmix64 stream keyed by seed and i. */
static void
dgram_fill(uint64_t seed, uint32_t i, uint8_t *buf, uint32_t len)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + i + 1;
	uint32_t k;

	for (k = 0; k < len; k += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		uint32_t n = len - k < 8 ? len - k : 8;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(buf + k, &z, n);
	}
}

static void
client_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src_ip, uint16_t src_port)
{
	struct client *c = arg;
	uint32_t len = p->tot_len, j;

	(void)pcb;
	if (src_ip != c->server || src_port != c->port) {
		c->stray++;
		goto out;
	}
	if (len > MAX_DGRAM || shunt_pbuf_copy_out(p, 0, c->got, len) != len) {
		c->corrupt++;
		goto out;
	}
	if (!c->answered && len == c->want_len && memcmp(c->got, c->want, len) == 0) {
		c->answered = 1;
		c->ok++;
		goto out;
	}
	/* An echo of a datagram we sent again after giving up on it once is late, not wrong. */
	for (j = c->cur + 1 > LATE_WINDOW ? c->cur + 1 - LATE_WINDOW : 0; j <= c->cur; j++) {
		if (dgram_size(j, c->max_size) != len)
			continue;
		dgram_fill(c->seed, j, c->scratch, len);
		if (memcmp(c->scratch, c->got, len) == 0) {
			c->late++;
			goto out;
		}
	}
	c->corrupt++;
	fprintf(stderr, "udp_client_raw: datagram %u: %u bytes came back that match nothing sent\n", c->cur, len);
out:
	shunt_pbuf_free(p);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: udp_client_raw --dpdk 'EAL ARGS' --ip A.B.C.D/len --server A.B.C.D [--port N]\n"
	    "       [--count N] [--max-size N] [--seed N] [--timeout-ms N] [--tries N] [--link-wait-ms N]\n"
	    "       [--stats] [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]\n");
}

static uint64_t
arg_num(const char *s, uint64_t lo, uint64_t hi, int *bad)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		*bad = 1;
	return v;
}

int
main(int argc, char **argv)
{
	const char *prog = "udp_client_raw", *eal = NULL, *cidr = NULL, *server = NULL;
	struct shunt_dpdk_port_config pc;
	uint64_t count = 1000, timeout_ms = 300, tries = 5, link_wait_ms = 10000, t0, t1, deadline;
	uint64_t resent = 0, lost = 0, bytes = 0;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct ex_poller pl;
	struct client c;
	int i, err, bad = 0, stats = 0, rc = 1, po;
	uint32_t k;

	shunt_dpdk_port_config_init(&pc);
	memset(&c, 0, sizeof(c));
	c.seed = 1;
	c.max_size = 8000;
	c.port = htons(7);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--stats") == 0) {
			stats = 1;
			continue;
		}
		if (v == NULL) {
			usage();
			return 2;
		}
		i++;
		po = ex_port_option(&pc, a, v);
		if (po < 0)
			bad = 1;
		else if (po > 0)
			;
		else if (strcmp(a, "--dpdk") == 0)
			eal = v;
		else if (strcmp(a, "--ip") == 0)
			cidr = v;
		else if (strcmp(a, "--server") == 0)
			server = v;
		else if (strcmp(a, "--port") == 0)
			c.port = htons((uint16_t)arg_num(v, 1, 65535, &bad));
		else if (strcmp(a, "--count") == 0)
			count = arg_num(v, 1, 100000000, &bad);
		else if (strcmp(a, "--max-size") == 0)
			c.max_size = (uint32_t)arg_num(v, 1, MAX_DGRAM, &bad);
		else if (strcmp(a, "--seed") == 0)
			c.seed = arg_num(v, 0, UINT64_MAX, &bad);
		else if (strcmp(a, "--timeout-ms") == 0)
			timeout_ms = arg_num(v, 1, 60000, &bad);
		else if (strcmp(a, "--tries") == 0)
			tries = arg_num(v, 1, 100, &bad);
		else if (strcmp(a, "--link-wait-ms") == 0)
			link_wait_ms = arg_num(v, 0, 600000, &bad);
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "%s: bad argument %s %s\n", prog, a, v);
			usage();
			return 2;
		}
	}
	if (eal == NULL || cidr == NULL || server == NULL || shunt_ip4_parse(server, &c.server) != 0) {
		usage();
		return 2;
	}
	c.want = malloc(MAX_DGRAM);
	c.got = malloc(MAX_DGRAM);
	c.scratch = malloc(MAX_DGRAM);
	s = shunt_stack_create(NULL, &err);
	if (c.want == NULL || c.got == NULL || c.scratch == NULL || s == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	nif = ex_dpdk_up(s, prog, eal, &pc, cidr, NULL);
	if (nif == NULL)
		goto out_stack;
	c.pcb = shunt_udp_new(s);
	if (c.pcb == NULL || shunt_udp_bind(c.pcb, 0, 0) != 0) {
		fprintf(stderr, "%s: cannot open a UDP pcb\n", prog);
		goto out_pcb;
	}
	shunt_udp_recv(c.pcb, client_recv, &c);
	ex_catch_signals();
	ex_poller_init(&pl, s);

	/* A memif link comes up when the peer connects; sending before that is sending into nothing. */
	deadline = shunt_stack_now(s) + link_wait_ms * 1000000ull;
	while (!shunt_dpdk_link_up(nif) && shunt_stack_now(s) < deadline && !ex_stopped())
		ex_poll(&pl);
	if (!shunt_dpdk_link_up(nif)) {
		fprintf(stderr, "%s: link of %s still down after %llu ms\n", prog, shunt_netif_get_info(nif)->name,
		    (unsigned long long)link_wait_ms);
		goto out_pcb;
	}
	t0 = shunt_stack_now(s);
	for (k = 0; k < count && !ex_stopped(); k++) {
		uint64_t attempt;

		c.cur = k;
		c.answered = 0;
		c.want_len = dgram_size(k, c.max_size);
		dgram_fill(c.seed, k, c.want, c.want_len);
		for (attempt = 0; attempt < tries && !c.answered && !ex_stopped(); attempt++) {
			if (attempt > 0)
				resent++;
			err = shunt_udp_sendto_buf(c.pcb, c.want, c.want_len, c.server, c.port);
			if (err != 0)
				fprintf(stderr, "%s: datagram %u (%u bytes): send: %s\n", prog, k, c.want_len,
				    strerror(-err));
			ex_poller_kick(&pl);
			deadline = shunt_stack_now(s) + timeout_ms * 1000000ull;
			while (!c.answered && shunt_stack_now(s) < deadline && !ex_stopped())
				ex_poll(&pl);
		}
		if (!c.answered) {
			lost++;
			fprintf(stderr, "%s: datagram %u (%u bytes): no echo after %llu tries\n", prog, k, c.want_len,
			    (unsigned long long)tries);
		} else {
			bytes += c.want_len;
		}
	}
	/* Late echoes still on their way are counted, not mistaken for loss. */
	deadline = shunt_stack_now(s) + 50000000ull;
	while (shunt_stack_now(s) < deadline && !ex_stopped())
		ex_poll(&pl);
	t1 = shunt_stack_now(s);
	printf("%s: %llu/%llu datagrams echoed intact (sizes 1..%u, %llu bytes each way) in %.2f s: "
	    "%llu resent, %llu late duplicates, %llu corrupt, %llu lost, %llu stray\n", prog,
	    (unsigned long long)c.ok, (unsigned long long)count, c.max_size, (unsigned long long)bytes,
	    (double)(t1 - t0) / 1e9, (unsigned long long)resent, (unsigned long long)c.late,
	    (unsigned long long)c.corrupt, (unsigned long long)lost, (unsigned long long)c.stray);
	if (stats)
		ex_print_stats(stdout, s, nif);
	rc = c.ok == count && c.corrupt == 0 && lost == 0 && k == count ? 0 : 1;
out_pcb:
	shunt_udp_remove(c.pcb);
out_stack:
	shunt_stack_destroy(s);
	shunt_dpdk_fini();
	free(c.want);
	free(c.got);
	free(c.scratch);
	return rc;
}
