/* Test TCP application: see tcpapp.h. */
#include <string.h>
#include "test.h"
#include "tcpapp.h"

uint8_t
tapp_byte(uint32_t seed, uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull + seed;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i & 7)));
}

void
tapp_pump(struct tapp *a)
{
	uint8_t buf[16384];

	while (a->pcb != NULL && a->tx_queued < a->tx_total) {
		uint32_t room = shunt_tcp_sndbuf(a->pcb), n, k;
		uint64_t left = a->tx_total - a->tx_queued;
		int r;

		n = room < sizeof(buf) ? room : sizeof(buf);
		if (a->chunk && n > a->chunk)
			n = a->chunk;
		if (n > left)
			n = (uint32_t)left;
		if (n == 0)
			break;
		for (k = 0; k < n; k++)
			buf[k] = tapp_byte(a->tx_seed, a->tx_queued + k);
		r = shunt_tcp_write(a->pcb, buf, n, 0);
		if (r <= 0)
			break;
		a->tx_queued += (uint64_t)r;
	}
	if (a->pcb != NULL && a->close_when_done && !a->closed && a->tx_queued == a->tx_total && a->got_fin) {
		a->closed = 1;
		shunt_tcp_close(a->pcb);
		a->pcb = NULL;
	}
}

static int
on_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct tapp *a = arg;
	struct shunt_pbuf *q;
	uint32_t n;

	(void)err;
	if (p == NULL) {
		a->got_fin = 1;
		tapp_pump(a);
		return 0;
	}
	if (a->refuse_next) {
		a->refuse_next = 0;
		return -12;	/* -ENOMEM: keep it for later */
	}
	n = p->tot_len;
	for (q = p; q != NULL; q = q->next) {
		uint32_t k;

		for (k = 0; k < q->len; k++)
			if (q->payload[k] != tapp_byte(a->rx_seed, a->rx_got + k))
				a->rx_bad++;
		a->rx_got += q->len;
	}
	shunt_pbuf_free(p);
	a->recv_calls++;
	if (a->manual_recved)
		a->unread += n;
	else
		shunt_tcp_recved(pcb, n);
	return 0;
}

static int
on_sent(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	struct tapp *a = arg;

	(void)pcb;
	a->tx_acked += len;
	tapp_pump(a);
	return 0;
}

static void
on_err(void *arg, int err)
{
	struct tapp *a = arg;

	a->err = err;
	a->pcb = NULL;
}

static int
on_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct tapp *a = arg;

	(void)pcb;
	a->connected = err == 0;
	tapp_pump(a);
	return 0;
}

void
tapp_attach(struct tapp *a, struct shunt_tcp_pcb *pcb)
{
	a->pcb = pcb;
	shunt_tcp_arg(pcb, a);
	shunt_tcp_recv(pcb, on_recv);
	shunt_tcp_sent(pcb, on_sent);
	shunt_tcp_err(pcb, on_err);
}

static int
on_accept(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct tapp *l = arg, *a = l->accept_into;

	(void)err;
	if (a == NULL)
		return -111;
	l->accept_into = NULL;
	tapp_attach(a, newpcb);
	a->connected = 1;
	a->accepted = 1;
	tapp_pump(a);
	return 0;
}

void
tapp_listen(struct tapp *l, struct shunt_tcp_pcb *pcb)
{
	l->pcb = pcb;
	shunt_tcp_arg(pcb, l);
	shunt_tcp_accept(pcb, on_accept);
}

int
tapp_done(const struct tapp *a)
{
	return a->tx_acked == a->tx_total && a->rx_got == a->rx_expect;
}

int
tapp_connect(struct tapp *a, struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port)
{
	tapp_attach(a, pcb);
	return shunt_tcp_connect(pcb, ip, port, on_connected);
}
