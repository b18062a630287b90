/*
 * Scripted netif: the test or fuzzer is the wire.  Injected frames wait in a
 * receive queue for the stack's next poll; transmitted frames wait in a send
 * queue until taken.  Frames are kept as pbufs of the stack's own pool, so the
 * leak check after each test also covers what the script did not collect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"

struct script_q {
	struct shunt_pbuf *head, *tail;
	uint32_t n;
};

struct script_port {
	struct script_q rx, tx;
};

static void
q_push(struct script_q *q, struct shunt_pbuf *p)
{
	p->qnext = NULL;
	if (q->tail != NULL)
		q->tail->qnext = p;
	else
		q->head = p;
	q->tail = p;
	q->n++;
}

static struct shunt_pbuf *
q_pop(struct script_q *q)
{
	struct shunt_pbuf *p = q->head;

	if (p == NULL)
		return NULL;
	q->head = p->qnext;
	if (q->head == NULL)
		q->tail = NULL;
	p->qnext = NULL;
	q->n--;
	return p;
}

static void
q_clear(struct script_q *q)
{
	struct shunt_pbuf *p;

	while ((p = q_pop(q)) != NULL)
		shunt_pbuf_free(p);
}

static int
script_rx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max)
{
	struct script_port *sp = shunt_netif_priv(nif);
	int n = 0;

	while (n < max && sp->rx.head != NULL)
		pkts[n++] = q_pop(&sp->rx);
	return n;
}

static int
script_tx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n)
{
	struct script_port *sp = shunt_netif_priv(nif);
	int i;

	for (i = 0; i < n; i++)
		q_push(&sp->tx, pkts[i]);
	return n;
}

static void
script_destroy(struct shunt_netif *nif)
{
	struct script_port *sp = shunt_netif_priv(nif);

	q_clear(&sp->rx);
	q_clear(&sp->tx);
	free(sp);
}

static const struct shunt_netif_ops script_ops = {
	.rx_burst = script_rx,
	.tx_burst = script_tx,
	.destroy = script_destroy,
};

struct shunt_netif *
shunt_script_netif_create(struct shunt_stack *s, const uint8_t mac[6], uint16_t mtu, uint32_t caps, int *err)
{
	struct script_port *sp = calloc(1, sizeof(*sp));
	struct shunt_netif_info info;
	struct shunt_netif *nif;

	if (sp == NULL) {
		if (err != NULL)
			*err = -ENOMEM;
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	memcpy(info.mac, mac, 6);
	info.mtu = mtu ? mtu : 1500;
	info.caps = caps;
	info.tso_max = 65535;
	info.name = "script";
	nif = shunt_netif_add(s, &script_ops, &info, sp, err);
	if (nif == NULL)
		free(sp);
	return nif;
}

int
shunt_script_inject(struct shunt_netif *nif, const void *frame, uint32_t len)
{
	struct script_port *sp = shunt_netif_priv(nif);
	struct shunt_pbuf *p = shunt_pbuf_alloc(nif->stack, SHUNT_PBUF_HEADROOM - 14, len);

	if (p == NULL)
		return -ENOBUFS;
	shunt_pbuf_copy_in(p, 0, frame, len);
	q_push(&sp->rx, p);
	return 0;
}

int
shunt_script_take_flags(struct shunt_netif *nif, void *buf, uint32_t cap, uint8_t *ol_flags, uint16_t *tso_mss)
{
	struct script_port *sp = shunt_netif_priv(nif);
	struct shunt_pbuf *p = q_pop(&sp->tx);
	int n;

	if (p == NULL)
		return -1;
	n = (int)shunt_pbuf_copy_out(p, 0, buf, cap);
	if (ol_flags != NULL)
		*ol_flags = p->ol_flags;
	if (tso_mss != NULL)
		*tso_mss = p->tso_mss;
	shunt_pbuf_free(p);
	return n;
}

int
shunt_script_take(struct shunt_netif *nif, void *buf, uint32_t cap)
{
	return shunt_script_take_flags(nif, buf, cap, NULL, NULL);
}

uint32_t
shunt_script_pending(struct shunt_netif *nif)
{
	return ((struct script_port *)shunt_netif_priv(nif))->tx.n;
}

void
shunt_script_clear(struct shunt_netif *nif)
{
	q_clear(&((struct script_port *)shunt_netif_priv(nif))->tx);
}
