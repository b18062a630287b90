/*
 * SYN cookies (RFC 4987 §3.6): when a listener's half-open queue is full,
 * the SYN-ACK's sequence number carries what we would have stored, and the
 * connection is created when a valid ACK comes back.  Called by tcp_input.c.
 *
 * Cookie (our ISN), 32 bits:
 *   bits 31..27  a minute counter (valid for the current and two previous minutes)
 *   bits 26..24  index of the MSS in a table of common values
 *   bits 23..0   SipHash(secret; addresses, ports, peer ISN, counter, MSS index)
 * Window scale and SACK-permitted ride in the low 5 bits of the timestamp we
 * send (echoed back in TSecr), as Linux does; without timestamps they are off.
 */
#include <string.h>
#include "priv/stack.h"
#include "priv/tcp.h"

static const uint16_t mss_table[8] = { 536, 1200, 1360, 1400, 1440, 1452, 1460, 8960 };

static uint32_t
minute(const struct shunt_stack *s)
{
	return (uint32_t)(s->now / 60000000000ull) & 31;
}

static uint32_t
cookie_hash(struct shunt_stack *s, const struct tcp_seg *seg, uint32_t peer_isn, uint32_t t, uint32_t idx)
{
	uint8_t b[24];
	uint16_t sp = seg->h.sport, dp = seg->h.dport;

	memcpy(b, &seg->ip->src, 4);
	memcpy(b + 4, &seg->ip->dst, 4);
	memcpy(b + 8, &sp, 2);
	memcpy(b + 10, &dp, 2);
	memcpy(b + 12, &peer_isn, 4);
	memcpy(b + 16, &t, 4);
	memcpy(b + 20, &idx, 4);
	return (uint32_t)siphash24(s->secret, b, sizeof(b)) & 0xffffff;
}

uint32_t
tcp_cookie_make(struct shunt_stack *s, const struct tcp_seg *seg, uint16_t *mss)
{
	uint16_t peer = (seg->o.present & TCPO_MSS) ? seg->o.mss : 536;
	uint32_t idx = 0, t = minute(s);

	while (idx < 7 && mss_table[idx + 1] <= peer)
		idx++;
	*mss = mss_table[idx];
	return t << 27 | idx << 24 | cookie_hash(s, seg, seg->seq, t, idx);
}

int
tcp_cookie_check(struct shunt_stack *s, const struct tcp_seg *seg, uint16_t *mss)
{
	uint32_t cookie = seg->ack - 1, t = cookie >> 27, idx = (cookie >> 24) & 7;
	uint32_t age = (minute(s) - t) & 31;

	if (age > 2)
		return 0;
	if (cookie_hash(s, seg, seg->seq - 1, t, idx) != (cookie & 0xffffff))
		return 0;
	*mss = mss_table[idx];
	return 1;
}
