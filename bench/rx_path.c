/*
 * rx_path: the per-frame cost of shunt's receive path for UDP, from the
 * netif's rx burst to the application's callback: shunt_stack_poll() over a
 * burst of 32 frames injected through the scripted netif (Ethernet, IPv4
 * header checks and checksum, UDP checksum, PCB lookup, delivery; the
 * callback frees the pbuf).  The injection (a pool buffer and a copy, the
 * NIC's work) is not timed.  Payload 64 and 1448 bytes; "udp-nocsum" sends
 * datagrams with checksum 0, which shows what the UDP checksum costs.
 *
 * kernel: recv() of a datagram already queued on a loopback UDP socket.
 * Over loopback the kernel's IP and UDP receive processing ran inside the
 * sender's send() and is not counted, so this is a lower bound of what the
 * kernel spends per datagram received (one system call and a copy out).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/udp.h>
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ip4.h"
#include "wire/udp.h"
#include "bench.h"
#include "kernsock.h"

#define BURST		32		/* frames per iteration: one rx burst of the stack */
#define NFIX		8
#define MAX_FRAME	1514
#define UDP_PORT	7

struct rx_cfg {
	int kernel;
	int no_csum;
};

struct rxfix {
	int used, kernel, no_csum;
	int broken;			/* setup failed (-errno) */
	uint32_t size;
	struct shunt_vclock clock;
	struct shunt_stack *s;
	struct shunt_netif *nif;
	struct shunt_udp_pcb *pcb;
	uint8_t frame[MAX_FRAME];
	uint32_t frame_len;
	uint64_t got, got_bytes;
	int ktx, krx;			/* kernel side */
};

static struct rxfix fixes[NFIX];
static uint8_t kbuf[65536];

static void
on_datagram(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src_ip, uint16_t src_port)
{
	struct rxfix *fx = arg;

	(void)pcb;
	(void)src_ip;
	(void)src_port;
	fx->got++;
	fx->got_bytes += p->tot_len;
	shunt_pbuf_free(p);
}

/* One Ethernet/IPv4/UDP frame from 198.18.0.99:40000 to the stack's 198.18.0.1:7. */
static void
build_frame(struct rxfix *fx, const uint8_t mac[6], uint32_t dst)
{
	struct eth_hdr eh;
	struct ip4_hdr ih;
	struct udp_hdr uh;
	uint32_t src, ulen = UDP_HDR_LEN + fx->size, i;
	uint8_t *b = fx->frame;

	shunt_ip4_parse("198.18.0.99", &src);
	memcpy(eh.dst, mac, 6);
	memcpy(eh.src, (uint8_t[]){ 0x02, 0, 0, 0, 0xbe, 0x99 }, 6);
	eh.type = ETH_TYPE_IP4;
	eth_emit(&eh, b);
	memset(&ih, 0, sizeof(ih));
	ih.hlen = IP4_HDR_LEN;
	ih.tot_len = (uint16_t)(IP4_HDR_LEN + ulen);
	ih.id = 1;
	ih.frag = IP4_FLAG_DF;
	ih.ttl = 64;
	ih.proto = IP4_PROTO_UDP;
	ih.src = src;
	ih.dst = dst;
	ip4_emit(&ih, b + ETH_HDR_LEN, 0);
	for (i = 0; i < fx->size; i++)
		b[ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN + i] = (uint8_t)(i * 7 + 1);
	uh.sport = 40000;
	uh.dport = UDP_PORT;
	uh.len = (uint16_t)ulen;
	uh.csum = 0;
	udp_emit(&uh, b + ETH_HDR_LEN + IP4_HDR_LEN);
	if (!fx->no_csum) {
		uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, IP4_PROTO_UDP, ulen),
		    b + ETH_HDR_LEN + IP4_HDR_LEN, ulen));

		wire_put16(b + ETH_HDR_LEN + IP4_HDR_LEN + 6, c == 0 ? 0xffff : c);
	}
	fx->frame_len = ETH_HDR_LEN + IP4_HDR_LEN + ulen;
}

static int
shunt_setup(struct rxfix *fx)
{
	struct shunt_stack_config c;
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0xbe, 0x01 };
	uint32_t ip, mask;
	int err = 0;

	shunt_vclock_init(&fx->clock, 1000000000ull);
	shunt_stack_config_init(&c);
	c.clock = &fx->clock.clock;
	c.seed = 7;
	fx->s = shunt_stack_create(&c, &err);
	if (fx->s == NULL)
		return err;
	fx->nif = shunt_script_netif_create(fx->s, mac, 1500, 0, &err);
	if (fx->nif == NULL)
		return err;
	shunt_ip4_parse("198.18.0.1", &ip);
	shunt_ip4_parse("255.255.255.0", &mask);
	err = shunt_netif_set_ip4(fx->nif, ip, mask, 0);
	if (err == 0)
		err = shunt_netif_up(fx->nif);
	if (err != 0)
		return err;
	shunt_script_clear(fx->nif);	/* the gratuitous ARP */
	fx->pcb = shunt_udp_new(fx->s);
	if (fx->pcb == NULL)
		return -ENOMEM;
	err = shunt_udp_bind(fx->pcb, 0, htons(UDP_PORT));
	if (err != 0)
		return err;
	shunt_udp_recv(fx->pcb, on_datagram, fx);
	build_frame(fx, mac, ip);
	return 0;
}

static struct rxfix *
fix_get(uint32_t size, const struct rx_cfg *cfg, int *errp)
{
	struct rxfix *fx;
	int i, err;

	for (i = 0; i < NFIX; i++) {
		fx = &fixes[i];
		if (fx->used && fx->size == size && fx->no_csum == cfg->no_csum && fx->kernel == cfg->kernel) {
			*errp = fx->broken;
			return fx->broken ? NULL : fx;
		}
	}
	for (i = 0; i < NFIX && fixes[i].used; i++)
		;
	if (i == NFIX) {
		*errp = -ENOSPC;
		return NULL;
	}
	fx = &fixes[i];
	memset(fx, 0, sizeof(*fx));
	fx->used = 1;
	fx->size = size;
	fx->kernel = cfg->kernel;
	fx->no_csum = cfg->no_csum;
	fx->ktx = fx->krx = -1;
	err = cfg->kernel ? kern_udp_pair(&fx->ktx, &fx->krx) : shunt_setup(fx);
	if (err != 0) {
		/* Keep it, marked: later runs fail fast, and fini frees what was made. */
		fx->broken = err;
		*errp = err;
		return NULL;
	}
	return fx;
}

static void
fini_all(void)
{
	struct shunt_pool_usage u;
	int i;

	for (i = 0; i < NFIX; i++) {
		struct rxfix *fx = &fixes[i];

		if (!fx->used)
			continue;
		if (fx->pcb != NULL)
			shunt_udp_remove(fx->pcb);
		if (fx->s != NULL && shunt_stack_destroy_checked(fx->s, &u) != 0)
			bench_fail("rx_path/%u: %u pbufs, %u headers leaked", fx->size, u.pbuf_in_use, u.pbuf_hdr_in_use);
		if (fx->ktx >= 0)
			close(fx->ktx);
		if (fx->krx >= 0)
			close(fx->krx);
		memset(fx, 0, sizeof(*fx));
	}
}

static int
shunt_burst(struct rxfix *fx, uint64_t *ns)
{
	uint64_t t0, got = fx->got;
	int i, err;

	for (i = 0; i < BURST; i++) {
		err = shunt_script_inject(fx->nif, fx->frame, fx->frame_len);
		if (err != 0)
			return err;
	}
	t0 = bench_now_ns();
	shunt_stack_poll(fx->s);
	*ns = bench_now_ns() - t0;
	/* Nothing may answer (no ICMP, no ARP), and every frame must reach the PCB. */
	if (shunt_script_pending(fx->nif) != 0)
		shunt_script_clear(fx->nif);
	return fx->got - got == BURST ? 0 : -EPROTO;
}

static int
kernel_burst(struct rxfix *fx, uint64_t *ns)
{
	uint64_t t0;
	ssize_t r;
	int i;

	for (i = 0; i < BURST; i++)
		if (send(fx->ktx, kbuf, fx->size, MSG_DONTWAIT) != (ssize_t)fx->size)
			return -errno;
	t0 = bench_now_ns();
	for (i = 0; i < BURST; i++) {
		r = recv(fx->krx, kbuf, sizeof(kbuf), MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN && kern_wait_readable(fx->krx, 1000) > 0)
			r = recv(fx->krx, kbuf, sizeof(kbuf), MSG_DONTWAIT);
		if (r != (ssize_t)fx->size)
			return r < 0 ? -errno : -EPROTO;
	}
	*ns = bench_now_ns() - t0;
	fx->got += BURST;
	fx->got_bytes += (uint64_t)BURST * fx->size;
	return 0;
}

static void
bm_rx_path(struct bench_state *st)
{
	const struct rx_cfg *cfg = bench_udata(st);
	uint32_t size = (uint32_t)bench_arg(st, 0);
	struct rxfix *fx;
	uint64_t ns, frames;
	int err = 0, i;

	fx = fix_get(size, cfg, &err);
	if (fx == NULL) {
		bench_error(st, "fixture: %s", strerror(-err));
		return;
	}
	/* Warm the pools and caches before the clock runs. */
	for (i = 0; i < 64 && err == 0; i++)
		err = cfg->kernel ? kernel_burst(fx, &ns) : shunt_burst(fx, &ns);
	while (err == 0 && bench_keep_running(st)) {
		err = cfg->kernel ? kernel_burst(fx, &ns) : shunt_burst(fx, &ns);
		if (err == 0)
			bench_set_iteration_time(st, (double)ns * 1e-9);
	}
	if (err != 0) {
		bench_error(st, "burst: %s", strerror(-err));
		return;
	}
	frames = bench_iterations(st) * BURST;
	bench_set_items(st, frames);
	bench_set_bytes(st, frames * size);
}

static const struct rx_cfg shunt_csum = { 0, 0 }, shunt_nocsum = { 0, 1 }, kernel_csum = { 1, 0 };

#define SIZES .nargs = 1, .nargsets = 2, .args = { { 64 }, { 1448 } }

static const struct bench_def defs[] = {
	{ .family = "rx_path/udp", .variant = "kernel", .fn = bm_rx_path, .udata = &kernel_csum,
	  .flags = BENCH_F_MANUAL_TIME, SIZES, .fini = fini_all,
	  .note = "rx_path kernel: recv() of a datagram already queued on loopback; the kernel's IP/UDP input "
	  "ran in the sender's send() and is not counted, so the ratio understates shunt's lead" },
	{ .family = "rx_path/udp", .variant = "shunt", .fn = bm_rx_path, .udata = &shunt_csum,
	  .flags = BENCH_F_MANUAL_TIME, SIZES, .fini = fini_all },
	{ .family = "rx_path/udp-nocsum", .variant = "shunt", .fn = bm_rx_path, .udata = &shunt_nocsum,
	  .flags = BENCH_F_MANUAL_TIME, SIZES, .fini = fini_all,
	  .note = "rx_path/udp-nocsum: datagrams with UDP checksum 0 (IPv4 header sum still checked)" },
};

static void __attribute__((constructor))
rx_path_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
