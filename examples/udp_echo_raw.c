/*
 * UDP echo server on shunt's raw (callback) API over a DPDK port: every
 * datagram is sent back to where it came from, its payload untouched (the
 * echo reuses the received buffers: no byte of it is copied).
 * Uses: the raw UDP API (<shunt/udp.h>) and the DPDK driver (<shunt/dpdk.h>).
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   udp_echo_raw --dpdk '--no-huge -m 256 --no-pci --vdev=net_tap0,iface=sh0 --file-prefix=echo -l 0' \
 *       --ip 198.18.0.2/24 &  ip addr add 198.18.0.1/24 dev sh0 && ip link set sh0 up
 * then anything that speaks UDP to 198.18.0.2 port 7 (socat, nc -u) gets its bytes back.
 *
 *   udp_echo_raw --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port 7] [--pcap FILE] [--stats]
 *                [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]
 *
 * Runs until SIGINT or SIGTERM, then prints the stack's nonzero counters
 * (and the driver's with --stats) and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/udp.h>
#include <shunt/dpdk.h>
#include "example_util.h"

struct echo {
	struct shunt_udp_pcb *pcb;
	uint64_t echoed;
	uint64_t failed;
};

static void
echo_recv(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src_ip, uint16_t src_port)
{
	struct echo *e = arg;

	/* sendto takes its own reference: the reply goes out on the very buffers that came in. */
	if (shunt_udp_sendto(pcb, p, src_ip, src_port) == 0)
		e->echoed++;
	else
		e->failed++;
	shunt_pbuf_free(p);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s --dpdk 'EAL ARGS' --ip A.B.C.D/len [--gw G] [--port N] [--pcap FILE] [--stats]\n"
	    "       [--dev NAME] [--mtu N] [--mbufs N] [--rx-buf BYTES]\n", prog);
}

int
main(int argc, char **argv)
{
	const char *prog = "udp_echo_raw", *eal = NULL, *cidr = NULL, *gw = NULL, *pcap = NULL;
	struct shunt_dpdk_port_config pc;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct ex_poller pl;
	struct echo e;
	uint16_t port = 7;
	uint32_t addr;
	char ab[16], mb[18], cb[128];
	int i, err, stats = 0, rc = 0, po;

	shunt_dpdk_port_config_init(&pc);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--stats") == 0) {
			stats = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(prog);
			return 0;
		}
		if (v == NULL) {
			usage(prog);
			return 2;
		}
		i++;
		po = ex_port_option(&pc, a, v);
		if (po > 0)
			continue;
		if (po == 0 && strcmp(a, "--dpdk") == 0)
			eal = v;
		else if (po == 0 && strcmp(a, "--ip") == 0)
			cidr = v;
		else if (po == 0 && strcmp(a, "--gw") == 0)
			gw = v;
		else if (po == 0 && strcmp(a, "--pcap") == 0)
			pcap = v;
		else if (po == 0 && strcmp(a, "--port") == 0 && ex_parse_port(v, &port) == 0)
			;
		else {
			fprintf(stderr, "%s: bad argument %s %s\n", prog, a, v);
			usage(prog);
			return 2;
		}
	}
	if (eal == NULL || cidr == NULL) {
		usage(prog);
		return 2;
	}
	s = shunt_stack_create(NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "%s: shunt_stack_create: %s\n", prog, strerror(-err));
		return 1;
	}
	nif = ex_dpdk_up(s, prog, eal, &pc, cidr, gw);
	if (nif == NULL) {
		rc = 1;
		goto out_stack;
	}
	if (pcap != NULL && (err = shunt_pcap_attach(nif, pcap)) != 0) {
		fprintf(stderr, "%s: pcap %s: %s\n", prog, pcap, strerror(-err));
		rc = 1;
		goto out_stack;
	}
	memset(&e, 0, sizeof(e));
	e.pcb = shunt_udp_new(s);
	if (e.pcb == NULL) {
		fprintf(stderr, "%s: shunt_udp_new: out of memory\n", prog);
		rc = 1;
		goto out_stack;
	}
	err = shunt_udp_bind(e.pcb, 0, htons(port));
	if (err != 0) {
		fprintf(stderr, "%s: bind port %u: %s\n", prog, port, strerror(-err));
		rc = 1;
		goto out_pcb;
	}
	shunt_udp_recv(e.pcb, echo_recv, &e);
	ex_catch_signals();
	shunt_netif_get_ip4(nif, &addr, NULL, NULL);
	printf("%s: echoing UDP on %s:%u via %s (mac %s, mtu %u, offloads %s)\n", prog,
	    shunt_ip4_str(addr, ab), port, shunt_netif_get_info(nif)->name,
	    ex_mac_str(shunt_netif_get_info(nif)->mac, mb), shunt_netif_get_info(nif)->mtu,
	    ex_caps_str(shunt_netif_get_info(nif)->caps, cb, sizeof(cb)));
	fflush(stdout);
	ex_poller_init(&pl, s);
	while (!ex_stopped())
		ex_poll(&pl);
	printf("%s: stopping: %llu datagrams echoed, %llu could not be sent\n", prog,
	    (unsigned long long)e.echoed, (unsigned long long)e.failed);
	ex_print_stats(stdout, s, stats ? nif : NULL);
out_pcb:
	shunt_udp_remove(e.pcb);
out_stack:
	/* Removes the netif too, which stops and closes the port (and closes the pcap file). */
	shunt_stack_destroy(s);
	shunt_dpdk_fini();
	return rc;
}
