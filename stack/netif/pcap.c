/*
 * pcap tap: records every frame a netif sends or receives into a classic
 * pcap file with nanosecond timestamps (magic a1b23c4d), which tcpdump -r
 * reads.  Hooked in by netif_tx() and shunt_stack_poll(); costs one branch
 * per frame when no tap is attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "priv/stack.h"

#define PCAP_SNAPLEN 65535

struct pcap_tap {
	FILE *f;
	struct shunt_stack *s;
	int64_t wall_offset;		/* stack clock to wall clock, fixed at attach */
	uint8_t buf[PCAP_SNAPLEN];
};

static void
put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);	/* pcap is written in the writer's byte order */
}

int
shunt_pcap_attach(struct shunt_netif *nif, const char *path)
{
	struct pcap_tap *t;
	uint8_t gh[24];

	if (nif->pcap != NULL)
		return -EBUSY;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->f = fopen(path, "wb");
	if (t->f == NULL) {
		int e = errno;

		free(t);
		return -e;
	}
	t->s = nif->stack;
	{
		/* Records carry the stack's clock (virtual in tests), anchored to the wall clock. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		t->wall_offset = (int64_t)((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) -
		    (int64_t)shunt_stack_now(nif->stack);
	}
	put32(gh, 0xa1b23c4d);
	{
		uint16_t maj = 2, min = 4;	/* version 2.4, in our byte order */

		memcpy(gh + 4, &maj, 2);
		memcpy(gh + 6, &min, 2);
	}
	put32(gh + 8, 0);
	put32(gh + 12, 0);
	put32(gh + 16, PCAP_SNAPLEN);
	put32(gh + 20, 1);		/* LINKTYPE_ETHERNET */
	fwrite(gh, 1, sizeof(gh), t->f);
	nif->pcap = t;
	return 0;
}

void
shunt_pcap_detach(struct shunt_netif *nif)
{
	struct pcap_tap *t = nif->pcap;

	if (t == NULL)
		return;
	nif->pcap = NULL;
	fclose(t->f);
	free(t);
}

void
pcap_record(struct pcap_tap *t, const struct shunt_pbuf *p)
{
	uint64_t now = (uint64_t)((int64_t)t->s->now + t->wall_offset);
	uint32_t cap = shunt_pbuf_copy_out(p, 0, t->buf, PCAP_SNAPLEN);
	uint8_t rh[16];

	put32(rh, (uint32_t)(now / 1000000000ull));
	put32(rh + 4, (uint32_t)(now % 1000000000ull));
	put32(rh + 8, cap);
	put32(rh + 12, p->tot_len);
	fwrite(rh, 1, sizeof(rh), t->f);
	fwrite(t->buf, 1, cap, t->f);
}
