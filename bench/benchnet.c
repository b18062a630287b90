/*
 * The bench netif and the two-stack fixture on it: see benchnet.h.  A netif
 * driver on the public API only (shunt_netif_add with an ops table), as an
 * out-of-tree driver would be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <shunt/pbuf.h>
#include "benchnet.h"

#define PORT_QUEUE	4096

struct bench_port {
	int side;
	struct shunt_pbuf *tx[PORT_QUEUE];	/* frames the stack sent, until released */
	uint32_t ntx, ncopied;
	struct shunt_pbuf *rx[PORT_QUEUE];	/* ring of frames for the stack, in its pool */
	uint32_t rx_head, nrx;
	uint64_t drops;
};

static int
port_rx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max)
{
	struct bench_port *bp = shunt_netif_priv(nif);
	int n = 0;

	while (n < max && bp->nrx > 0) {
		pkts[n++] = bp->rx[bp->rx_head];
		bp->rx_head = (bp->rx_head + 1) % PORT_QUEUE;
		bp->nrx--;
	}
	return n;
}

static int
port_tx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n)
{
	struct bench_port *bp = shunt_netif_priv(nif);
	int i;

	for (i = 0; i < n; i++) {
		if (bp->ntx == PORT_QUEUE) {
			bp->drops++;
			shunt_pbuf_free(pkts[i]);
			continue;
		}
		bp->tx[bp->ntx++] = pkts[i];
	}
	return n;
}

static void
port_destroy(struct shunt_netif *nif)
{
	struct bench_port *bp = shunt_netif_priv(nif);
	uint32_t i;

	for (i = 0; i < bp->ntx; i++)
		shunt_pbuf_free(bp->tx[i]);
	while (bp->nrx > 0) {
		shunt_pbuf_free(bp->rx[bp->rx_head]);
		bp->rx_head = (bp->rx_head + 1) % PORT_QUEUE;
		bp->nrx--;
	}
	free(bp);
}

static const struct shunt_netif_ops port_ops = {
	.rx_burst = port_rx,
	.tx_burst = port_tx,
	.link_up = NULL,
	.destroy = port_destroy,
};

int
benchnet_init(struct benchnet *bn, const struct shunt_stack_config *cfg, int csum_offload)
{
	struct shunt_stack_config c;
	struct shunt_netif_info info;
	uint32_t mask;
	int i, err = 0;

	memset(bn, 0, sizeof(*bn));
	bn->csum_offload = csum_offload;
	shunt_vclock_init(&bn->clock, 1000000000ull);
	shunt_ip4_parse("255.255.255.0", &mask);
	shunt_ip4_parse("198.18.0.1", &bn->ip[0]);
	shunt_ip4_parse("198.18.0.2", &bn->ip[1]);
	for (i = 0; i < 2; i++) {
		if (cfg != NULL)
			c = *cfg;
		else
			shunt_stack_config_init(&c);
		c.clock = &bn->clock.clock;
		c.seed = 0x5eed0 + (uint64_t)i;
		bn->s[i] = shunt_stack_create(&c, &err);
		if (bn->s[i] == NULL)
			goto fail;
		memcpy(bn->mac[i], (uint8_t[]){ 0x02, 0, 0, 0, 0xbe, (uint8_t)(i + 1) }, 6);
		bn->port[i] = calloc(1, sizeof(*bn->port[i]));
		if (bn->port[i] == NULL) {
			err = -ENOMEM;
			goto fail;
		}
		bn->port[i]->side = i;
		memset(&info, 0, sizeof(info));
		memcpy(info.mac, bn->mac[i], 6);
		info.mtu = 1500;
		info.caps = SHUNT_NETIF_CAP_MULTISEG;
		if (csum_offload)
			info.caps |= SHUNT_NETIF_CAP_TX_IP4_CSUM | SHUNT_NETIF_CAP_TX_UDP_CSUM |
			    SHUNT_NETIF_CAP_TX_TCP_CSUM | SHUNT_NETIF_CAP_RX_CSUM;
		info.name = i == 0 ? "bench0" : "bench1";
		bn->nif[i] = shunt_netif_add(bn->s[i], &port_ops, &info, bn->port[i], &err);
		if (bn->nif[i] == NULL) {
			free(bn->port[i]);
			bn->port[i] = NULL;
			goto fail;
		}
		err = shunt_netif_set_ip4(bn->nif[i], bn->ip[i], mask, 0);
		if (err == 0)
			err = shunt_netif_up(bn->nif[i]);
		if (err != 0)
			goto fail;
	}
	/* Static neighbours: no ARP exchange in the way of the first segments. */
	for (i = 0; i < 2; i++) {
		err = shunt_arp_add_static(bn->s[i], bn->ip[!i], bn->mac[!i]);
		if (err != 0)
			goto fail;
	}
	/* The gratuitous ARPs of netif_up are of no interest. */
	benchnet_release(bn, 0);
	benchnet_release(bn, 1);
	return 0;

fail:
	benchnet_fini(bn);
	return err != 0 ? err : -ENOMEM;
}

uint32_t
benchnet_fini(struct benchnet *bn)
{
	struct shunt_pool_usage u;
	uint32_t left = 0;
	int i;

	for (i = 0; i < 2; i++)
		if (bn->s[i] != NULL)
			shunt_stack_poll(bn->s[i]);
	/* A port's queues hold only its own stack's buffers (the wire copies), so each stack goes on its own. */
	for (i = 0; i < 2; i++) {
		if (bn->s[i] == NULL)
			continue;
		left += shunt_stack_destroy_checked(bn->s[i], &u);
		bn->s[i] = NULL;
	}
	return left;
}

uint32_t
benchnet_sent(const struct benchnet *bn, int side)
{
	return bn->port[side]->ntx;
}

uint32_t
benchnet_copy(struct benchnet *bn, int side)
{
	struct bench_port *from = bn->port[side], *to = bn->port[!side];
	struct shunt_stack *dst = bn->s[!side];
	uint32_t moved = 0;

	for (; from->ncopied < from->ntx; from->ncopied++) {
		struct shunt_pbuf *f = from->tx[from->ncopied], *x, *q;
		uint32_t off = 0;

		if (to->nrx == PORT_QUEUE) {
			from->drops++;
			continue;
		}
		/* Headroom as a NIC leaves it, so replies can be built in place. */
		q = shunt_pbuf_alloc(dst, SHUNT_PBUF_HEADROOM - 14, f->tot_len);
		if (q == NULL) {
			from->drops++;
			continue;
		}
		for (x = f; x != NULL; x = x->next) {
			shunt_pbuf_copy_in(q, off, x->payload, x->len);
			off += x->len;
		}
		if (bn->csum_offload)
			q->ol_flags |= SHUNT_PBUF_RX_IP4_OK | SHUNT_PBUF_RX_L4_OK;
		to->rx[(to->rx_head + to->nrx) % PORT_QUEUE] = q;
		to->nrx++;
		moved++;
	}
	return moved;
}

uint32_t
benchnet_rx_pending(const struct benchnet *bn, int side)
{
	return bn->port[side]->nrx;
}

void
benchnet_release(struct benchnet *bn, int side)
{
	struct bench_port *bp = bn->port[side];
	uint32_t i;

	for (i = 0; i < bp->ntx; i++)
		shunt_pbuf_free(bp->tx[i]);
	bp->ntx = 0;
	bp->ncopied = 0;
}

uint64_t
benchnet_drops(const struct benchnet *bn)
{
	return bn->port[0]->drops + bn->port[1]->drops;
}

void
benchnet_settle(struct benchnet *bn, uint64_t step_ns, int max_rounds)
{
	int r, i;

	for (r = 0; r < max_rounds; r++) {
		uint32_t moved = 0;

		for (i = 0; i < 2; i++) {
			shunt_stack_poll(bn->s[i]);
			moved += benchnet_copy(bn, i);
			benchnet_release(bn, i);
		}
		shunt_vclock_advance(&bn->clock, step_ns);
		if (moved == 0 && bn->port[0]->nrx == 0 && bn->port[1]->nrx == 0)
			return;
	}
}
