/*
 * Packet buffers: the pools of one stack and the pbuf operations every layer
 * uses.  Below: nothing (memory).  Above: every protocol and every netif.
 *
 * Memory for each pool is reserved once with mmap; objects are taken from a
 * free list or, while the pool is young, from a bump index, so a large pool
 * costs resident memory only as far as it is used.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "priv/stack.h"

#define CACHELINE 64

static int
part_init(struct pool_part *pp, uint32_t count, uint32_t obj_size)
{
	size_t bytes = (size_t)count * obj_size;

	memset(pp, 0, sizeof(*pp));
	pp->obj_size = obj_size;
	pp->count = count;
	if (count == 0)
		return 0;
	pp->mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pp->mem == MAP_FAILED) {
		pp->mem = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void
part_fini(struct pool_part *pp)
{
	if (pp->mem != NULL)
		munmap(pp->mem, (size_t)pp->count * pp->obj_size);
	pp->mem = NULL;
}

static inline struct shunt_pbuf *
part_get(struct pool_part *pp)
{
	struct shunt_pbuf *p = pp->free;

	if (p != NULL) {
		pp->free = p->qnext;
		pp->nfree--;
		return p;
	}
	if (pp->bumped < pp->count)
		return (struct shunt_pbuf *)(pp->mem + (size_t)pp->bumped++ * pp->obj_size);
	return NULL;
}

static inline void
part_put(struct pool_part *pp, struct shunt_pbuf *p)
{
	p->qnext = pp->free;
	pp->free = p;
	pp->nfree++;
}

int
pbuf_pool_init(struct shunt_pbuf_pool *pp, struct shunt_stack *s, uint32_t ndata, uint32_t nhdr,
    uint32_t data_room)
{
	uint32_t hsz = (sizeof(struct shunt_pbuf) + CACHELINE - 1) & ~(CACHELINE - 1);
	uint32_t dsz = (hsz + data_room + CACHELINE - 1) & ~(CACHELINE - 1);
	int err;

	memset(pp, 0, sizeof(*pp));
	pp->stack = s;
	pp->data_room = dsz - hsz;
	err = part_init(&pp->data, ndata, dsz);
	if (err == 0)
		err = part_init(&pp->hdr, nhdr, hsz);
	if (err != 0)
		pbuf_pool_fini(pp);
	return err;
}

void
pbuf_pool_fini(struct shunt_pbuf_pool *pp)
{
	part_fini(&pp->data);
	part_fini(&pp->hdr);
}

void
shunt_stack_pool_usage(struct shunt_stack *s, struct shunt_pool_usage *u)
{
	struct shunt_pbuf_pool *pp = &s->pool;

	u->pbuf_in_use = pp->data.bumped - pp->data.nfree;
	u->pbuf_hdr_in_use = pp->hdr.bumped - pp->hdr.nfree;
	u->pbuf_free = pp->data.count - u->pbuf_in_use;
	u->pbuf_hdr_free = pp->hdr.count - u->pbuf_hdr_in_use;
}

static inline void
pbuf_init_common(struct shunt_pbuf *p, struct shunt_pbuf_pool *pool, uint8_t kind)
{
	p->next = NULL;
	p->qnext = NULL;
	p->refcnt = 1;
	p->kind = kind;
	p->ol_flags = 0;
	p->tso_mss = 0;
	p->l2_len = p->l3_len = p->l4_len = 0;
	p->pool = pool;
}

/* One data buffer with `headroom` bytes in front of up to `len` bytes. */
static struct shunt_pbuf *
pbuf_get_data(struct shunt_pbuf_pool *pool, uint32_t headroom, uint32_t len)
{
	struct shunt_pbuf *p = part_get(&pool->data);
	uint32_t hsz;

	if (p == NULL)
		return NULL;
	hsz = pool->data.obj_size - pool->data_room;
	pbuf_init_common(p, pool, SHUNT_PBUF_POOL);
	p->buf = (uint8_t *)p + hsz;
	p->buf_len = pool->data_room;
	p->payload = p->buf + headroom;
	p->len = (uint16_t)len;
	p->tot_len = len;
	return p;
}

struct shunt_pbuf *
shunt_pbuf_alloc(struct shunt_stack *s, uint32_t headroom, uint32_t len)
{
	struct shunt_pbuf_pool *pool = &s->pool;
	struct shunt_pbuf *head = NULL, *tail = NULL;
	uint32_t left = len;

	if (headroom >= pool->data_room)
		return NULL;
	do {
		uint32_t room = pool->data_room - headroom;
		uint32_t n = left < room ? left : room;
		struct shunt_pbuf *p;

		if (n > UINT16_MAX)
			n = UINT16_MAX;
		p = pbuf_get_data(pool, headroom, n);
		if (p == NULL) {
			if (head != NULL)
				shunt_pbuf_free(head);
			return NULL;
		}
		p->tot_len = left;
		if (tail == NULL)
			head = p;
		else
			tail->next = p;
		tail = p;
		left -= n;
		headroom = 0;
	} while (left > 0);
	return head;
}

struct shunt_pbuf *
shunt_pbuf_alloc_ext(struct shunt_stack *s, void *data, uint16_t len, shunt_pbuf_free_fn fn, void *a, void *b)
{
	struct shunt_pbuf *p = part_get(&s->pool.hdr);

	if (p == NULL)
		return NULL;
	pbuf_init_common(p, &s->pool, SHUNT_PBUF_EXT);
	p->buf = data;
	p->buf_len = len;
	p->payload = data;
	p->len = len;
	p->tot_len = len;
	p->u.ext.fn = fn;
	p->u.ext.a = a;
	p->u.ext.b = b;
	return p;
}

struct shunt_pbuf *
shunt_pbuf_slice(struct shunt_stack *s, struct shunt_pbuf *p, uint32_t off, uint32_t len)
{
	struct shunt_pbuf *head = NULL, *tail = NULL;
	uint32_t total = len;

	while (p != NULL && off >= p->len) {
		off -= p->len;
		p = p->next;
	}
	while (len > 0) {
		struct shunt_pbuf *r, *src;
		uint32_t n;

		if (p == NULL) {
			if (head != NULL)
				shunt_pbuf_free(head);
			return NULL;
		}
		n = p->len - off;
		if (n > len)
			n = len;
		r = part_get(&s->pool.hdr);
		if (r == NULL) {
			if (head != NULL)
				shunt_pbuf_free(head);
			return NULL;
		}
		/* A slice of a slice refers to the original, so chains stay one level deep. */
		src = p->kind == SHUNT_PBUF_REF ? p->u.ref : p;
		src->refcnt++;
		pbuf_init_common(r, &s->pool, SHUNT_PBUF_REF);
		r->u.ref = src;
		r->payload = p->payload + off;
		r->buf = r->payload;
		r->buf_len = n;
		r->len = (uint16_t)n;
		r->tot_len = len;
		if (tail == NULL)
			head = r;
		else
			tail->next = r;
		tail = r;
		len -= n;
		off = 0;
		p = p->next;
	}
	if (head == NULL) {
		/* An empty slice is a zero-length REF-less buffer. */
		head = shunt_pbuf_alloc(s, 0, 0);
	}
	if (head != NULL)
		head->tot_len = total;
	return head;
}

void
shunt_pbuf_ref(struct shunt_pbuf *p)
{
	p->refcnt++;
}

static void
pbuf_release_one(struct shunt_pbuf *p)
{
	struct shunt_pbuf_pool *pool = p->pool;

	switch (p->kind) {
	case SHUNT_PBUF_POOL:
		part_put(&pool->data, p);
		return;
	case SHUNT_PBUF_EXT:
		if (p->u.ext.fn != NULL)
			p->u.ext.fn(p->u.ext.a, p->u.ext.b);
		break;
	case SHUNT_PBUF_REF:
		/*
		 * The referenced pbuf may still head the rest of its own chain: drop
		 * our reference with chain semantics so that link is released too.
		 * It is never a REF itself, so this recurses one level at most.
		 */
		shunt_pbuf_free(p->u.ref);
		break;
	}
	part_put(&pool->hdr, p);
}

void
shunt_pbuf_free(struct shunt_pbuf *p)
{
	while (p != NULL) {
		struct shunt_pbuf *next = p->next;

		if (--p->refcnt != 0)
			return;
		pbuf_release_one(p);
		p = next;
	}
}

void
shunt_pbuf_cat(struct shunt_pbuf *head, struct shunt_pbuf *tail)
{
	struct shunt_pbuf *p;

	for (p = head; p->next != NULL; p = p->next)
		p->tot_len += tail->tot_len;
	p->tot_len += tail->tot_len;
	p->next = tail;
}

int
shunt_pbuf_header(struct shunt_pbuf *p, int delta)
{
	if (delta > 0) {
		if ((uint32_t)delta > shunt_pbuf_headroom(p) || p->kind == SHUNT_PBUF_REF)
			return -ENOBUFS;
	} else if ((uint32_t)-delta > p->len) {
		return -EINVAL;
	}
	p->payload -= delta;
	p->len = (uint16_t)(p->len + delta);
	p->tot_len = (uint32_t)((int64_t)p->tot_len + delta);
	return 0;
}

void
shunt_pbuf_trim(struct shunt_pbuf *p, uint32_t len)
{
	struct shunt_pbuf *rest;

	if (len >= p->tot_len)
		return;
	while (len > p->len) {
		p->tot_len = len;
		len -= p->len;
		p = p->next;
	}
	p->len = (uint16_t)len;
	p->tot_len = len;
	rest = p->next;
	p->next = NULL;
	if (rest != NULL)
		shunt_pbuf_free(rest);
}

struct shunt_pbuf *
pbuf_drop_front(struct shunt_pbuf *p, uint32_t n)
{
	while (p != NULL && n >= p->len) {
		struct shunt_pbuf *next = p->next;

		n -= p->len;
		p->next = NULL;		/* the chain's reference to next passes to the caller */
		shunt_pbuf_free(p);
		p = next;
	}
	if (p != NULL && n > 0) {
		p->payload += n;
		p->len = (uint16_t)(p->len - n);
		p->tot_len -= n;
	}
	return p;
}

uint32_t
pbuf_truesize(const struct shunt_pbuf *p)
{
	uint32_t n = 0;

	for (; p != NULL; p = p->next)
		n += p->kind == SHUNT_PBUF_REF ? p->len : p->buf_len;
	return n;
}

uint32_t
shunt_pbuf_copy_out(const struct shunt_pbuf *p, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;
	uint32_t done = 0;

	while (p != NULL && off >= p->len) {
		off -= p->len;
		p = p->next;
	}
	while (p != NULL && done < len) {
		uint32_t n = p->len - off;

		if (n > len - done)
			n = len - done;
		memcpy(d + done, p->payload + off, n);
		done += n;
		off = 0;
		p = p->next;
	}
	return done;
}

uint32_t
shunt_pbuf_copy_in(struct shunt_pbuf *p, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	uint32_t done = 0;

	while (p != NULL && off >= p->len) {
		off -= p->len;
		p = p->next;
	}
	while (p != NULL && done < len) {
		uint32_t n = p->len - off;

		if (n > len - done)
			n = len - done;
		memcpy(p->payload + off, s + done, n);
		done += n;
		off = 0;
		p = p->next;
	}
	return done;
}

int
shunt_pbuf_pullup(struct shunt_pbuf *p, uint32_t len)
{
	if (len <= p->len)
		return 0;
	if (len > p->tot_len)
		return -EINVAL;
	if (p->kind == SHUNT_PBUF_REF || shunt_pbuf_tailroom(p) < len - p->len)
		return -ENOBUFS;
	/* Move bytes from the following pbufs into our tailroom, dropping emptied ones. */
	while (p->len < len) {
		struct shunt_pbuf *q = p->next;
		uint32_t n = len - p->len;

		if (n > q->len)
			n = q->len;
		memcpy(p->payload + p->len, q->payload, n);
		p->len = (uint16_t)(p->len + n);
		q->payload += n;
		q->len = (uint16_t)(q->len - n);
		q->tot_len -= n;
		if (q->len == 0) {
			p->next = q->next;
			q->next = NULL;
			shunt_pbuf_free(q);
		}
	}
	return 0;
}

struct shunt_pbuf *
shunt_pbuf_clone(struct shunt_stack *s, const struct shunt_pbuf *p, uint32_t headroom)
{
	struct shunt_pbuf *c = shunt_pbuf_alloc(s, headroom, p->tot_len);
	struct shunt_pbuf *q;
	uint32_t off = 0;

	if (c == NULL)
		return NULL;
	for (q = c; q != NULL; q = q->next) {
		shunt_pbuf_copy_out(p, off, q->payload, q->len);
		off += q->len;
	}
	return c;
}
