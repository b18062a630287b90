/*
 * Selective acknowledgements (RFC 2018) and the sender's scoreboard for
 * SACK-based loss recovery (RFC 6675).  Called by tcp_input.c (blocks in,
 * out-of-order data) and tcp_output.c (holes to retransmit, pipe).
 *
 * Receiver: up to four blocks describing out-of-order data; the block holding
 * the newest segment goes first (RFC 2018 §4).
 * Sender: a sorted array of SACKed ranges above snd_una.  Blocks that make no
 * sense (beyond snd_nxt, inverted, below snd_una) are ignored, so a hostile
 * peer cannot grow or corrupt it.
 */
#include <stdlib.h>
#include <string.h>
#include "priv/stack.h"
#include "priv/tcp.h"

/* ---- receiver side ---- */

void
tcp_sack_update_out(struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t end)
{
	struct tcp_sack_block blk = { seq, end }, out[TCP_MAX_SACK_BLOCKS];
	struct shunt_pbuf *q;
	int n = 0, i;

	/* Grow the new segment's block to the contiguous run of queued data around it. */
	for (q = pcb->ooo; q != NULL; q = q->qnext) {
		uint32_t qs = q->cb[0], qe = q->cb[0] + q->cb[1];

		if (seq_leq(qs, blk.end) && seq_geq(qe, blk.start)) {
			blk.start = seq_min(blk.start, qs);
			blk.end = seq_max(blk.end, qe);
		}
	}
	out[n++] = blk;
	for (i = 0; i < pcb->nsack_out && n < TCP_MAX_SACK_BLOCKS; i++) {
		struct tcp_sack_block *b = &pcb->sack_out[i];

		if (seq_leq(b->end, pcb->rcv_nxt))
			continue;
		if (seq_leq(blk.start, b->start) && seq_geq(blk.end, b->end))
			continue;	/* swallowed by the new block */
		out[n++] = *b;
	}
	memcpy(pcb->sack_out, out, sizeof(out[0]) * (size_t)n);
	pcb->nsack_out = (uint8_t)n;
}

void
tcp_sack_trim_out(struct shunt_tcp_pcb *pcb)
{
	int i, n = 0;

	for (i = 0; i < pcb->nsack_out; i++) {
		if (seq_leq(pcb->sack_out[i].end, pcb->rcv_nxt))
			continue;
		pcb->sack_out[n] = pcb->sack_out[i];
		if (seq_lt(pcb->sack_out[n].start, pcb->rcv_nxt))
			pcb->sack_out[n].start = pcb->rcv_nxt;
		n++;
	}
	pcb->nsack_out = (uint8_t)n;
}

/* ---- sender side: the scoreboard ---- */

static void
sb_insert(struct shunt_tcp_pcb *pcb, uint32_t start, uint32_t end)
{
	struct sack_range *r = pcb->sacked;
	int n = pcb->nsacked, i, j;

	/* Find the first range that ends at or after start. */
	for (i = 0; i < n && seq_lt(r[i].end, start); i++)
		;
	if (i < n && seq_leq(r[i].start, end)) {
		/* Overlaps or touches r[i]: merge, then swallow followers it now reaches. */
		r[i].start = seq_min(r[i].start, start);
		r[i].end = seq_max(r[i].end, end);
		for (j = i + 1; j < n && seq_leq(r[j].start, r[i].end); j++)
			r[i].end = seq_max(r[i].end, r[j].end);
		if (j > i + 1) {
			memmove(&r[i + 1], &r[j], sizeof(r[0]) * (size_t)(n - j));
			pcb->nsacked = (uint8_t)(n - (j - i - 1));
		}
		return;
	}
	if (n == TCP_SACK_MAX)
		return;		/* full: forgetting a SACK only costs a spurious retransmission */
	memmove(&r[i + 1], &r[i], sizeof(r[0]) * (size_t)(n - i));
	r[i].start = start;
	r[i].end = end;
	pcb->nsacked = (uint8_t)(n + 1);
}

int
tcp_sack_scoreboard_add(struct shunt_tcp_pcb *pcb, const struct tcp_opts *o, uint32_t ack)
{
	int k = 0, dsack = 0;

	/* RFC 2883 §4: a first block below the ACK, or inside the second block, reports a duplicate. */
	if (o->nsack > 0 && seq_lt(o->sack[0].start, o->sack[0].end) &&
	    (seq_lt(o->sack[0].start, ack) || (o->nsack > 1 && seq_geq(o->sack[0].start, o->sack[1].start) &&
	    seq_leq(o->sack[0].end, o->sack[1].end)))) {
		dsack = 1;
		k = 1;
	}
	for (; k < o->nsack; k++) {
		uint32_t start = o->sack[k].start, end = o->sack[k].end;

		if (!seq_lt(start, end) || seq_gt(end, pcb->snd_nxt) || seq_leq(end, pcb->snd_una) ||
		    end - start > 0x40000000u)
			continue;	/* D-SACK, stale or nonsense */
		if (seq_lt(start, pcb->snd_una))
			start = pcb->snd_una;
		if (pcb->sacked == NULL) {
			pcb->sacked = malloc(sizeof(*pcb->sacked) * TCP_SACK_MAX);
			if (pcb->sacked == NULL)
				return dsack;
		}
		pcb->sack_blocks_in++;
		sb_insert(pcb, start, end);
	}
	return dsack;
}

void
tcp_sack_scoreboard_trim(struct shunt_tcp_pcb *pcb)
{
	int i, n = 0;

	for (i = 0; i < pcb->nsacked; i++) {
		if (seq_leq(pcb->sacked[i].end, pcb->snd_una))
			continue;
		pcb->sacked[n] = pcb->sacked[i];
		if (seq_lt(pcb->sacked[n].start, pcb->snd_una))
			pcb->sacked[n].start = pcb->snd_una;
		n++;
	}
	pcb->nsacked = (uint8_t)n;
}

void
tcp_sack_scoreboard_clear(struct shunt_tcp_pcb *pcb)
{
	pcb->nsacked = 0;
}

uint32_t
tcp_sacked_bytes(const struct shunt_tcp_pcb *pcb)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < pcb->nsacked; i++)
		sum += pcb->sacked[i].end - pcb->sacked[i].start;
	return sum;
}

uint32_t
tcp_sack_highest(const struct shunt_tcp_pcb *pcb)
{
	return pcb->nsacked ? pcb->sacked[pcb->nsacked - 1].end : pcb->snd_una;
}

int
tcp_sack_is_sacked(const struct shunt_tcp_pcb *pcb, uint32_t seq)
{
	int i;

	for (i = 0; i < pcb->nsacked; i++)
		if (seq_in(seq, pcb->sacked[i].start, pcb->sacked[i].end))
			return 1;
	return 0;
}

int
tcp_sack_next_hole(const struct shunt_tcp_pcb *pcb, uint32_t seq, uint32_t lim, uint32_t *start, uint32_t *end)
{
	int i;

	for (i = 0; i < pcb->nsacked && seq_lt(seq, lim); i++) {
		const struct sack_range *r = &pcb->sacked[i];

		if (seq_leq(r->end, seq))
			continue;
		if (seq_lt(seq, r->start)) {
			*start = seq;
			*end = seq_min(r->start, lim);
			return 1;
		}
		seq = r->end;	/* inside a SACKed range: the hole starts after it */
	}
	if (seq_lt(seq, lim)) {
		*start = seq;
		*end = lim;
		return 1;
	}
	return 0;
}

uint32_t
tcp_sack_unsacked_between(const struct shunt_tcp_pcb *pcb, uint32_t a, uint32_t b)
{
	uint32_t total = b - a;
	int i;

	for (i = 0; i < pcb->nsacked; i++) {
		uint32_t s = seq_max(pcb->sacked[i].start, a), e = seq_min(pcb->sacked[i].end, b);

		if (seq_lt(s, e))
			total -= e - s;
	}
	return total;
}

uint32_t
tcp_sack_lost_boundary(const struct shunt_tcp_pcb *pcb)
{
	/*
	 * RFC 6675 IsLost(): a sequence number is lost once DupThresh
	 * discontiguous SACKed ranges, or more than (DupThresh - 1) * SMSS SACKed
	 * bytes, lie above it.  Walking down from the highest range, the first
	 * range where that becomes true bounds the lost region from above.
	 * DupThresh is 3 until the path is seen to reorder further.
	 */
	uint32_t above = 0, thresh = pcb->reordering;
	int i, ranges = 0;

	for (i = pcb->nsacked - 1; i >= 0; i--) {
		above += pcb->sacked[i].end - pcb->sacked[i].start;
		ranges++;
		if ((uint32_t)ranges >= thresh || above > (thresh - 1) * pcb->mss)
			return pcb->sacked[i].start;
	}
	return pcb->snd_una;
}
