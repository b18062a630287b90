/*
 * Congestion window growth is earned (RFC 7661): an application that never
 * fills the window must not inflate cwnd, however many ACKs come back.
 */
#include <arpa/inet.h>
#include "testnet.h"
#include "tcpapp.h"

static int
connected(void *arg)
{
	struct tapp *a = arg;

	return a[0].connected && a[1].accepted;
}

TEST(tcp_cwnd_does_not_grow_when_app_limited)
{
	static struct testnet tn;
	static struct tapp app[3];
	struct shunt_tcp_pcb *l, *c;
	struct shunt_tcp_info ti;
	int i;

	testnet_init(&tn, NULL, 21);
	memset(app, 0, sizeof(app));
	l = shunt_tcp_new(tn.s[1]);
	CHECK_EQ(shunt_tcp_bind(l, 0, htons(81)), 0);
	CHECK_EQ(shunt_tcp_listen(l, 4), 0);
	app[2].accept_into = &app[1];
	tapp_listen(&app[2], l);
	c = shunt_tcp_new(tn.s[0]);
	CHECK_EQ(tapp_connect(&app[0], c, tn.ip[1], htons(81)), 0);
	CHECK(testnet_run(&tn, 100000, 1000, connected, app) >= 0);
	shunt_tcp_setopt(c, SHUNT_TCP_OPT_NODELAY, 1);
	app[1].rx_seed = 1;
	/* 20,000 small writes, each acknowledged before the next: one segment in flight at a time. */
	for (i = 0; i < 20000; i++) {
		uint8_t b[100];
		int k;

		for (k = 0; k < 100; k++)
			b[k] = tapp_byte(1, (uint64_t)i * 100 + (uint64_t)k);
		CHECK_EQ(shunt_tcp_write(c, b, sizeof(b), 0), 100);
		app[1].rx_expect += 100;
		testnet_settle(&tn, 100000000);
	}
	CHECK_EQ(app[1].rx_got, 2000000);
	CHECK_EQ(app[1].rx_bad, 0);
	shunt_tcp_get_info(c, &ti);
	CHECKF(ti.snd_cwnd <= 20u * ti.snd_mss, "cwnd grew to %u bytes (mss %u) without ever being used",
	    ti.snd_cwnd, ti.snd_mss);
	shunt_tcp_abort(c);
	shunt_tcp_abort(app[1].pcb);
	shunt_tcp_close(l);
	testnet_fini(&tn);
}
