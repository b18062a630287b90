/*
 * The fault injector wrapped around a netif: what the stack sends through a
 * scripted netif arrives lost, doubled, damaged or late exactly as the dice
 * said, and received frames are judged the same way.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "pkt.h"

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

static struct shunt_stack *
mk(struct shunt_vclock *vc, struct shunt_netif **nif, uint32_t caps)
{
	struct shunt_stack_config c;
	struct shunt_stack *s;

	shunt_stack_config_init(&c);
	shunt_vclock_init(vc, 1000000000ull);
	c.clock = &vc->clock;
	c.seed = 3;
	s = shunt_stack_create(&c, NULL);
	*nif = shunt_script_netif_create(s, our_mac, 1500, caps, NULL);
	CHECK_EQ(shunt_netif_set_ip4(*nif, ip4("198.18.0.2"), ip4("255.255.255.0"), 0), 0);
	CHECK_EQ(shunt_netif_up(*nif), 0);
	shunt_script_clear(*nif);
	CHECK_EQ(shunt_arp_add_static(s, ip4("198.18.0.1"), peer_mac), 0);
	return s;
}

TEST(faults_tx_loss_dup_delay)
{
	struct shunt_vclock vc;
	struct shunt_netif *nif;
	struct shunt_stack *s = mk(&vc, &nif, 0);
	struct shunt_udp_pcb *u = shunt_udp_new(s);
	struct shunt_link_faults f;
	struct shunt_link_stats st;
	uint8_t buf[2000];
	int i, got = 0;

	memset(&f, 0, sizeof(f));
	f.seed = 11;
	f.loss_ppm = 100000;
	f.dup_ppm = 50000;
	f.delay_ns = 5000000;		/* 5 ms */
	CHECK_EQ(shunt_netif_faults(nif, 1, &f), 0);
	for (i = 0; i < 1000; i++)
		CHECK_EQ(shunt_udp_sendto_buf(u, "d", 1, ip4("198.18.0.1"), htons(9)), 0);
	/* Nothing leaves before the delay has passed. */
	shunt_stack_poll(s);
	CHECK_EQ(shunt_script_pending(nif), 0);
	shunt_vclock_advance(&vc, 5000000);
	shunt_stack_poll(s);
	while (shunt_script_take(nif, buf, sizeof(buf)) > 0)
		got++;
	shunt_netif_fault_stats(nif, 1, &st);
	CHECK_EQ(st.sent, 1000);
	CHECK(st.lost > 50 && st.lost < 150);
	CHECK(st.duplicated > 20 && st.duplicated < 90);
	CHECK_EQ(got, (int)(st.sent - st.lost + st.duplicated));
	shunt_udp_remove(u);
	destroy_no_leaks(s);
}

TEST(faults_tx_corruption_is_caught_and_disables_offload)
{
	struct shunt_vclock vc;
	struct shunt_netif *nif;
	struct shunt_stack *s = mk(&vc, &nif, SHUNT_NETIF_CAP_TX_UDP_CSUM | SHUNT_NETIF_CAP_TX_IP4_CSUM);
	struct shunt_udp_pcb *u = shunt_udp_new(s);
	struct shunt_link_faults f;
	uint8_t buf[2000];
	int i, bad = 0, n;

	memset(&f, 0, sizeof(f));
	f.seed = 5;
	f.corrupt_ppm = 1000000;	/* every frame */
	CHECK_EQ(shunt_netif_faults(nif, 1, &f), 0);
	for (i = 0; i < 200; i++) {
		uint8_t d[64];

		memset(d, i, sizeof(d));
		CHECK_EQ(shunt_udp_sendto_buf(u, d, sizeof(d), ip4("198.18.0.1"), htons(9)), 0);
	}
	shunt_stack_poll(s);
	while ((n = shunt_script_take(nif, buf, sizeof(buf))) > 0) {
		struct pkt_view v;

		/* One flipped bit: the Ethernet header, or a checksum that no longer adds up. */
		if (pkt_parse(buf, (size_t)n, &v) != 0 || !v.ip_csum_ok || !v.l4_csum_ok ||
		    memcmp(v.dmac, peer_mac, 6) != 0 || memcmp(v.smac, our_mac, 6) != 0 || v.eth_type != 0x0800)
			bad++;
	}
	CHECK_EQ(bad, 200);
	/* Off again (the wrapper goes away with its last direction). */
	CHECK_EQ(shunt_netif_faults(nif, 1, NULL), 0);
	shunt_udp_remove(u);
	destroy_no_leaks(s);
}

TEST(faults_rx_reorder_and_loss)
{
	struct shunt_vclock vc;
	struct shunt_netif *nif;
	struct shunt_stack *s = mk(&vc, &nif, 0);
	struct shunt_link_faults f;
	struct shunt_link_stats st;
	struct shunt_stats ss;
	uint8_t fr[128];
	size_t n;
	int i;

	memset(&f, 0, sizeof(f));
	f.seed = 9;
	f.loss_ppm = 200000;
	f.reorder_ppm = 300000;
	f.reorder_delay_ns = 2000000;
	CHECK_EQ(shunt_netif_faults(nif, 0, &f), 0);
	n = pkt_ping(fr, our_mac, peer_mac, ip4("198.18.0.1"), ip4("198.18.0.2"), 1, 1, "abcdefgh", 8);
	for (i = 0; i < 500; i++) {
		CHECK_EQ(shunt_script_inject(nif, fr, (uint32_t)n), 0);
		shunt_stack_poll(s);
	}
	shunt_vclock_advance(&vc, 3000000);
	for (i = 0; i < 20; i++)
		shunt_stack_poll(s);
	shunt_netif_fault_stats(nif, 0, &st);
	shunt_stack_stats(s, &ss);
	CHECK_EQ(st.sent, 500);
	CHECK(st.reordered > 50);
	/* Every ping that was not lost was answered, the held ones too. */
	CHECK_EQ(ss.icmp_echo_reply, 500 - st.lost);
	shunt_script_clear(nif);
	destroy_no_leaks(s);
}
