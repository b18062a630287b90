/*
 * In-memory link: a virtual Ethernet wire between two stacks of one process,
 * with a seeded fault injector (loss, duplication, reordering, corruption,
 * delay, jitter, rate).  The kernel here has no netem; this is our impairment
 * tool for unit tests.  It is a netif driver: the stacks see an ordinary NIC.
 *
 * The two stacks may be driven by different threads (each under its own
 * lock), so the wire has a lock of its own.
 *
 * Frames are copied onto the wire as a real NIC would serialise them, so a
 * corrupted frame never alters the sender's retransmission buffers.  Time is
 * the stacks' clock (they share it in tests): a frame is received once its due
 * time has come.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "priv/stack.h"
#include "priv/faults.h"

struct link_frame {
	struct link_frame *next;
	uint64_t due;
	uint32_t len;
	uint8_t data[];
};

struct link_dir {
	struct fault_dice dice;		/* faults of frames sent this way */
	struct link_frame *head, *tail;	/* sorted by due time */
	uint32_t inflight;
};

struct shunt_link {
	pthread_mutex_t lock;
	struct shunt_stack *stack[2];
	struct shunt_netif *nif[2];
	struct link_dir dir[2];		/* dir[i]: frames sent by side i */
	shunt_link_hook_fn hook;
	void *hook_arg;
	struct link_port *port[2];
};

struct link_port {
	struct shunt_link *l;
	int side;
	int armed;			/* receive interrupt armed (under the wire's lock) */
	int efd;			/* eventfd the interrupt writes, -1 until first armed */
};

static void
enqueue(struct link_dir *d, struct link_frame *f)
{
	struct link_frame **pp;

	if (d->tail == NULL || d->tail->due <= f->due) {
		f->next = NULL;
		if (d->tail != NULL)
			d->tail->next = f;
		else
			d->head = f;
		d->tail = f;
	} else {
		for (pp = &d->head; (*pp)->due <= f->due; pp = &(*pp)->next)
			;
		f->next = *pp;
		*pp = f;
	}
	d->inflight++;
}

static struct link_frame *
frame_copy(const struct link_frame *src, uint32_t cap)
{
	struct link_frame *f = malloc(sizeof(*f) + cap);

	if (f != NULL)
		memcpy(f, src, sizeof(*f) + src->len);
	return f;
}

/* The test hook sees every copy that goes on the wire, and may alter or drop it. */
static void
link_deliver(struct shunt_link *l, struct link_dir *d, int side, struct link_frame *f, uint32_t cap)
{
	if (l->hook != NULL && l->hook(l->hook_arg, side, f->data, &f->len, cap) != 0) {
		free(f);
		return;
	}
	enqueue(d, f);
}

static void
link_interrupt(struct link_port *port)
{
	uint64_t one = 1;

	port->armed = 0;
	if (write(port->efd, &one, sizeof(one)) < 0) {
		/* counter full: the reader is woken anyway */
	}
}

/*
 * Receive interrupt: the side is woken when a frame is put on the wire
 * towards it.  Frames already on the wire (delayed by the fault injector, due
 * later) announce nothing: then the poller must sleep by the clock.
 */
static int
link_intr_arm(struct shunt_netif *nif)
{
	struct link_port *port = shunt_netif_priv(nif);
	struct shunt_link *l = port->l;
	int r;

	pthread_mutex_lock(&l->lock);
	if (port->efd < 0)
		port->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (port->efd < 0)
		r = -ENOTSUP;
	else if (l->dir[!port->side].head != NULL)
		r = -EBUSY;
	else {
		port->armed = 1;
		r = port->efd;
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

static void
link_intr_disarm(struct shunt_netif *nif)
{
	struct link_port *port = shunt_netif_priv(nif);
	uint64_t junk;

	pthread_mutex_lock(&port->l->lock);
	port->armed = 0;
	if (read(port->efd, &junk, sizeof(junk)) < 0) {
		/* nothing written: EAGAIN */
	}
	pthread_mutex_unlock(&port->l->lock);
}

static int
link_tx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int n)
{
	struct link_port *port = shunt_netif_priv(nif);
	struct shunt_link *l = port->l;
	struct link_dir *d = &l->dir[port->side];
	uint64_t now = shunt_netif_stack(nif)->now;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < n; i++) {
		struct shunt_pbuf *p = pkts[i];
		uint32_t len = p->tot_len, cap = len + 64;
		struct fault_verdict v;
		struct link_frame *f;

		fault_roll(&d->dice, now, len, &v);
		if (v.drop) {
			shunt_pbuf_free(p);
			continue;
		}
		if (d->inflight >= (d->dice.f.queue_max ? d->dice.f.queue_max : 4096)) {
			d->dice.st.queue_drops++;
			shunt_pbuf_free(p);
			continue;
		}
		f = malloc(sizeof(*f) + cap);
		if (f == NULL) {
			d->dice.st.queue_drops++;
			shunt_pbuf_free(p);
			continue;
		}
		f->len = shunt_pbuf_copy_out(p, 0, f->data, len);
		shunt_pbuf_free(p);
		if (v.corrupt)
			f->data[v.corrupt_off] ^= v.corrupt_mask;
		f->due = v.due;
		if (v.dup) {
			struct link_frame *g = frame_copy(f, cap);

			if (g != NULL)
				link_deliver(l, d, port->side, g, cap);
		}
		link_deliver(l, d, port->side, f, cap);
	}
	if (l->port[!port->side]->armed && d->head != NULL)
		link_interrupt(l->port[!port->side]);
	pthread_mutex_unlock(&l->lock);
	return n;	/* the wire took them all; losses are the wire's business */
}

static int
link_rx(struct shunt_netif *nif, struct shunt_pbuf **pkts, int max)
{
	struct link_port *port = shunt_netif_priv(nif);
	struct shunt_link *l = port->l;
	struct link_dir *d = &l->dir[!port->side];
	struct shunt_stack *s = shunt_netif_stack(nif);
	uint64_t now = s->now;
	int n = 0;

	pthread_mutex_lock(&l->lock);
	while (n < max && d->head != NULL && d->head->due <= now) {
		struct link_frame *f = d->head;
		struct shunt_pbuf *p;

		d->head = f->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->inflight--;
		/* Leave headroom as a NIC does, so replies can be built in place. */
		p = shunt_pbuf_alloc(s, SHUNT_PBUF_HEADROOM - 14, f->len);
		if (p == NULL) {
			d->dice.st.queue_drops++;
			free(f);
			continue;
		}
		shunt_pbuf_copy_in(p, 0, f->data, f->len);
		free(f);
		d->dice.st.delivered++;
		pkts[n++] = p;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

static const struct shunt_netif_ops link_ops = {
	.rx_burst = link_rx,
	.tx_burst = link_tx,
	.link_up = NULL,
	.destroy = NULL,
	.rx_intr_arm = link_intr_arm,
	.rx_intr_disarm = link_intr_disarm,
};

struct shunt_link *
shunt_link_create(struct shunt_stack *a, struct shunt_stack *b, const uint8_t mac_a[6], const uint8_t mac_b[6],
    uint16_t mtu, int *err)
{
	struct shunt_link *l = calloc(1, sizeof(*l) + 2 * sizeof(struct link_port));
	struct link_port *ports;
	struct shunt_netif_info info;
	int i, e = 0;

	if (l == NULL) {
		if (err != NULL)
			*err = -ENOMEM;
		return NULL;
	}
	ports = (struct link_port *)(l + 1);
	pthread_mutex_init(&l->lock, NULL);
	l->stack[0] = a;
	l->stack[1] = b;
	for (i = 0; i < 2; i++) {
		struct shunt_link_faults none;

		memset(&none, 0, sizeof(none));
		ports[i].l = l;
		ports[i].side = i;
		ports[i].efd = -1;
		l->port[i] = &ports[i];
		fault_dice_init(&l->dir[i].dice, &none, (uint64_t)i);
		memset(&info, 0, sizeof(info));
		memcpy(info.mac, i == 0 ? mac_a : mac_b, 6);
		info.mtu = mtu ? mtu : 1500;
		info.caps = SHUNT_NETIF_CAP_MULTISEG;
		info.name = i == 0 ? "link-a" : "link-b";
		l->nif[i] = shunt_netif_add(l->stack[i], &link_ops, &info, &ports[i], &e);
		if (l->nif[i] == NULL) {
			if (i == 1)
				shunt_netif_remove(l->nif[0]);
			free(l);
			if (err != NULL)
				*err = e;
			return NULL;
		}
	}
	return l;
}

static void
dir_clear(struct link_dir *d)
{
	struct link_frame *f, *n;

	for (f = d->head; f != NULL; f = n) {
		n = f->next;
		free(f);
	}
	d->head = d->tail = NULL;
	d->inflight = 0;
}

void
shunt_link_destroy(struct shunt_link *l)
{
	if (l == NULL)
		return;
	shunt_netif_remove(l->nif[0]);
	shunt_netif_remove(l->nif[1]);
	dir_clear(&l->dir[0]);
	dir_clear(&l->dir[1]);
	for (int i = 0; i < 2; i++)
		if (l->port[i]->efd >= 0)
			close(l->port[i]->efd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

struct shunt_netif *
shunt_link_netif(struct shunt_link *l, int side)
{
	return l->nif[side != 0];
}

void
shunt_link_set_faults(struct shunt_link *l, int side, const struct shunt_link_faults *f)
{
	struct link_dir *d = &l->dir[side != 0];
	struct shunt_link_stats st;

	pthread_mutex_lock(&l->lock);
	st = d->dice.st;
	fault_dice_init(&d->dice, f, (uint64_t)(side != 0));
	d->dice.st = st;
	pthread_mutex_unlock(&l->lock);
}

void
shunt_link_get_stats(struct shunt_link *l, int side, struct shunt_link_stats *st)
{
	pthread_mutex_lock(&l->lock);
	*st = l->dir[side != 0].dice.st;
	pthread_mutex_unlock(&l->lock);
}

uint32_t
shunt_link_in_flight(struct shunt_link *l)
{
	return l->dir[0].inflight + l->dir[1].inflight;
}

uint64_t
shunt_link_next_due(struct shunt_link *l)
{
	uint64_t a = l->dir[0].head ? l->dir[0].head->due : UINT64_MAX;
	uint64_t b = l->dir[1].head ? l->dir[1].head->due : UINT64_MAX;

	return a < b ? a : b;
}

void
shunt_link_set_hook(struct shunt_link *l, shunt_link_hook_fn fn, void *arg)
{
	l->hook = fn;
	l->hook_arg = arg;
}
