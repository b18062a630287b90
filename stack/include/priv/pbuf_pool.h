/*
 * The pbuf pools of one stack: data buffers (pbuf header followed by
 * headroom and data room) and bare headers (for EXT and REF pbufs).  Objects
 * come from a free list, else from a bump pointer over memory reserved once,
 * so untouched objects cost no resident memory.
 */
#ifndef SHUNT_PRIV_PBUF_POOL_H
#define SHUNT_PRIV_PBUF_POOL_H

#include <shunt/pbuf.h>

struct pool_part {
	uint8_t *mem;
	uint32_t obj_size;
	uint32_t count;		/* objects in all */
	uint32_t bumped;	/* objects handed out at least once */
	uint32_t nfree;		/* objects on the free list */
	struct shunt_pbuf *free;
};

struct shunt_pbuf_pool {
	struct pool_part data;
	struct pool_part hdr;
	uint32_t data_room;	/* headroom + data bytes of a data buffer */
	struct shunt_stack *stack;
};

int pbuf_pool_init(struct shunt_pbuf_pool *pp, struct shunt_stack *s, uint32_t ndata, uint32_t nhdr,
    uint32_t data_room);
void pbuf_pool_fini(struct shunt_pbuf_pool *pp);
/* Drops n bytes from the front of a chain; returns the new head (NULL if nothing is left). */
struct shunt_pbuf *pbuf_drop_front(struct shunt_pbuf *p, uint32_t n);
/*
 * The memory a queued packet pins: the whole buffers it holds, whatever
 * part of them it uses (a REF pins only its window of someone else's).
 */
uint32_t pbuf_truesize(const struct shunt_pbuf *p);

#endif
