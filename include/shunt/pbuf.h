/*
 * shunt public API: packet buffers.
 *
 * A packet is a chain of pbufs linked by `next`; the head's tot_len is the
 * length of the whole packet.  Each pbuf has its own reference count: freeing
 * a chain drops one reference from the head and walks on only through pbufs
 * that reached zero.  Three kinds of pbuf exist:
 *   POOL  data lives in a fixed-size buffer from the stack's pool, with
 *         headroom in front so headers are prepended without copying;
 *   EXT   data lives elsewhere (a DPDK mbuf, application memory) and a
 *         callback releases it when the pbuf dies;
 *   REF   a window onto another pbuf's data, holding a reference on it
 *         (TCP keeps the send buffer and transmits slices of it this way).
 * pbufs belong to one stack and are only touched under that stack's lock.
 */
#ifndef SHUNT_PBUF_H
#define SHUNT_PBUF_H

#include <shunt/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

enum shunt_pbuf_kind {
	SHUNT_PBUF_POOL = 0,
	SHUNT_PBUF_EXT = 1,
	SHUNT_PBUF_REF = 2,
};

/* Offload flags: on transmit, work the NIC is asked to do; on receive, what it already checked. */
#define SHUNT_PBUF_TX_IP4_CSUM	0x01	/* fill the IPv4 header checksum */
#define SHUNT_PBUF_TX_L4_CSUM	0x02	/* fill the TCP/UDP checksum (pseudo-header sum is preset) */
#define SHUNT_PBUF_TX_TSO	0x04	/* segment into tso_mss-sized TCP segments */
#define SHUNT_PBUF_RX_IP4_OK	0x10	/* NIC verified the IPv4 header checksum */
#define SHUNT_PBUF_RX_L4_OK	0x20	/* NIC verified the TCP/UDP checksum */
#define SHUNT_PBUF_TX_UDP	0x40	/* L4 of a TX_L4_CSUM request is UDP (else TCP) */

typedef void (*shunt_pbuf_free_fn)(void *a, void *b);

struct shunt_pbuf_pool;

struct shunt_pbuf {
	struct shunt_pbuf *next;	/* next piece of the same packet */
	uint8_t *payload;		/* current start of data */
	uint32_t tot_len;		/* bytes in this pbuf and all after it */
	uint16_t len;			/* bytes in this pbuf */
	uint16_t refcnt;
	uint8_t kind;			/* enum shunt_pbuf_kind */
	uint8_t ol_flags;		/* SHUNT_PBUF_TX_* / RX_* */
	uint16_t tso_mss;		/* TSO segment size */
	uint8_t l2_len, l3_len, l4_len;	/* header lengths for offloads */
	uint8_t reserved;
	uint32_t buf_len;		/* size of the underlying buffer */
	uint8_t *buf;			/* start of the underlying buffer (headroom bound) */
	struct shunt_pbuf_pool *pool;	/* where the header (and POOL data) goes back */
	struct shunt_pbuf *qnext;	/* link for queues of whole packets */
	union {
		struct { shunt_pbuf_free_fn fn; void *a, *b; } ext;
		struct shunt_pbuf *ref;	/* REF: the pbuf whose data we show */
	} u;
	uint32_t cb[4];			/* scratch for the layer owning the packet */
};

/* Headroom reserved in front of new POOL buffers: Ethernet + IPv4 + TCP with options. */
#define SHUNT_PBUF_HEADROOM 128

/*
 * Allocate a packet of `len` bytes with `headroom` bytes free in front of the
 * first buffer; longer packets become chains of pool buffers.  NULL if the
 * pool is empty.
 */
SHUNT_API struct shunt_pbuf *shunt_pbuf_alloc(struct shunt_stack *s, uint32_t headroom, uint32_t len);
/* Wrap external memory; fn(a, b) runs when the pbuf is freed. */
SHUNT_API struct shunt_pbuf *shunt_pbuf_alloc_ext(struct shunt_stack *s, void *data, uint16_t len,
    shunt_pbuf_free_fn fn, void *a, void *b);
/* A new chain showing bytes [off, off+len) of p without copying them. */
SHUNT_API struct shunt_pbuf *shunt_pbuf_slice(struct shunt_stack *s, struct shunt_pbuf *p, uint32_t off, uint32_t len);

SHUNT_API void shunt_pbuf_ref(struct shunt_pbuf *p);
/* Drops a reference from the head; frees every pbuf of the chain whose count reaches zero. */
SHUNT_API void shunt_pbuf_free(struct shunt_pbuf *p);
/* Appends tail to head (tail's reference moves to head's chain). */
SHUNT_API void shunt_pbuf_cat(struct shunt_pbuf *head, struct shunt_pbuf *tail);

/* Grows (delta > 0, into headroom) or shrinks (delta < 0) the front of the head pbuf. 0 or -ENOBUFS. */
SHUNT_API int shunt_pbuf_header(struct shunt_pbuf *p, int delta);
/* Cuts the packet to `len` bytes, freeing pbufs past the end. */
SHUNT_API void shunt_pbuf_trim(struct shunt_pbuf *p, uint32_t len);
/* Copies bytes out of / into the chain; returns the number copied. */
SHUNT_API uint32_t shunt_pbuf_copy_out(const struct shunt_pbuf *p, uint32_t off, void *dst, uint32_t len);
SHUNT_API uint32_t shunt_pbuf_copy_in(struct shunt_pbuf *p, uint32_t off, const void *src, uint32_t len);
/* Makes the first len bytes contiguous in the head pbuf; 0 or -ENOBUFS / -EINVAL. */
SHUNT_API int shunt_pbuf_pullup(struct shunt_pbuf *p, uint32_t len);
/* A fresh POOL copy of the whole packet with the given headroom. */
SHUNT_API struct shunt_pbuf *shunt_pbuf_clone(struct shunt_stack *s, const struct shunt_pbuf *p, uint32_t headroom);

static inline uint32_t
shunt_pbuf_headroom(const struct shunt_pbuf *p)
{
	return (uint32_t)(p->payload - p->buf);
}

static inline uint32_t
shunt_pbuf_tailroom(const struct shunt_pbuf *p)
{
	return (uint32_t)(p->buf + p->buf_len - (p->payload + p->len));
}

#ifdef __cplusplus
}
#endif
#endif
