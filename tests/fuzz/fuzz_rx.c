/*
 * libFuzzer harness: the receive path of a stack built without DPDK.
 *
 * Input: a sequence of records.  Each record is [op][len lo][len hi][bytes]:
 *   op & 0x80 clear: a frame.  Bits say what to repair before injecting, so
 *     that most inputs get past the checksums and reach deeper code:
 *     0x01 IPv4 header checksum, 0x02 UDP/ICMP checksum, 0x04 Ethernet
 *     destination = our MAC, 0x08 EtherType IPv4, 0x10 IP addresses ours/peer.
 *   op & 0x80 set: advance the virtual clock by len * 7 ms, then poll.
 * After the input: everything is torn down and the pools must be whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/udp.h>
#include "wire/csum.h"

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

static void
on_udp(void *arg, struct shunt_udp_pcb *pcb, struct shunt_pbuf *p, uint32_t src, uint16_t sport)
{
	uint8_t buf[64];

	/* Echo like a server would, exercising the send path with fuzzed sizes. */
	shunt_pbuf_copy_out(p, 0, buf, sizeof(buf));
	shunt_udp_sendto(pcb, p, src, sport);
	shunt_pbuf_free(p);
	(void)arg;
}

static void
fix(uint8_t *f, size_t len, uint8_t op, uint32_t me, uint32_t peer)
{
	uint8_t *ip = f + 14;
	size_t hl, tot;

	if (len < 14)
		return;
	if (op & 0x04)
		memcpy(f, our_mac, 6);
	if (op & 0x08) {
		f[12] = 0x08;
		f[13] = 0x00;
	}
	if (len < 34)
		return;
	if (op & 0x10) {
		memcpy(ip + 12, &peer, 4);
		memcpy(ip + 16, &me, 4);
	}
	hl = (size_t)(ip[0] & 15) * 4;
	if (hl < 20 || 14 + hl > len)
		return;
	if (op & 0x01) {
		ip[10] = ip[11] = 0;
		uint16_t c = csum_fold(csum_add(0, ip, hl));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	}
	tot = (size_t)(ip[2] << 8 | ip[3]);
	if (tot > len - 14)
		tot = len - 14;
	if ((op & 0x02) && tot > hl && !(ip[6] & 0x3f) && !ip[7]) {
		uint8_t *l4 = ip + hl;
		size_t l4len = tot - hl;
		uint32_t src, dst;

		memcpy(&src, ip + 12, 4);
		memcpy(&dst, ip + 16, 4);
		if (ip[9] == 17 && l4len >= 8) {
			l4[6] = l4[7] = 0;
			uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, 17, (uint32_t)l4len), l4, l4len));
			l4[6] = (uint8_t)(c >> 8);
			l4[7] = (uint8_t)c;
		} else if (ip[9] == 1 && l4len >= 8) {
			l4[2] = l4[3] = 0;
			uint16_t c = csum_fold(csum_add(0, l4, l4len));
			l4[2] = (uint8_t)(c >> 8);
			l4[3] = (uint8_t)c;
		} else if (ip[9] == 6 && l4len >= 20) {
			l4[16] = l4[17] = 0;
			uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint32_t)l4len), l4, l4len));
			l4[16] = (uint8_t)(c >> 8);
			l4[17] = (uint8_t)c;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[65536 + 64];
	struct shunt_stack_config c;
	struct shunt_vclock vc;
	struct shunt_pool_usage u;
	struct shunt_stack *s;
	struct shunt_netif *nif;
	struct shunt_udp_pcb *u7, *u9;
	uint32_t me = htonl(0xc6120002), peer = htonl(0xc6120001);
	size_t pos = 0;

	shunt_stack_config_init(&c);
	shunt_vclock_init(&vc, 1000000000ull);
	c.clock = &vc.clock;
	c.seed = 1;
	c.pbuf_count = 512;
	c.pbuf_hdr_count = 512;
	c.reass_max_bytes = 256 * 1024;
	s = shunt_stack_create(&c, NULL);
	if (s == NULL)
		abort();
	nif = shunt_script_netif_create(s, our_mac, 1500, 0, NULL);
	shunt_netif_set_ip4(nif, me, htonl(0xffffff00), htonl(0xc61200fe));
	shunt_netif_up(nif);
	shunt_arp_add_static(s, peer, peer_mac);
	u7 = shunt_udp_new(s);
	shunt_udp_bind(u7, 0, htons(7));
	shunt_udp_recv(u7, on_udp, NULL);
	u9 = shunt_udp_new(s);
	shunt_udp_bind(u9, me, htons(9));
	shunt_udp_connect(u9, peer, htons(9));
	shunt_udp_recv(u9, on_udp, NULL);

	while (pos + 3 <= size) {
		uint8_t op = data[pos];
		size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;

		pos += 3;
		if (op & 0x80) {
			shunt_vclock_advance(&vc, (uint64_t)len * 7000000ull);
			shunt_stack_poll(s);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		memcpy(frame, data + pos, len);
		pos += len;
		fix(frame, len, op, me, peer);
		shunt_script_inject(nif, frame, (uint32_t)len);
		shunt_stack_poll(s);
		shunt_script_clear(nif);
	}
	/* Let every timer run out: reassembly, ARP. */
	shunt_vclock_advance(&vc, 120000000000ull);
	shunt_stack_poll(s);
	shunt_script_clear(nif);
	shunt_udp_remove(u7);
	shunt_udp_remove(u9);
	if (shunt_stack_destroy_checked(s, &u) != 0) {
		fprintf(stderr, "leak: %u pbufs %u headers\n", u.pbuf_in_use, u.pbuf_hdr_in_use);
		abort();
	}
	return 0;
}
