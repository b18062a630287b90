/*
 * A raw-API TCP application for tests: streams `tx_total` bytes of a seeded
 * pattern and checks, byte by byte, that what it receives is the peer's
 * pattern.  Two of them on two stacks make a bidirectional bulk transfer.
 */
#ifndef SHUNT_TEST_TCPAPP_H
#define SHUNT_TEST_TCPAPP_H

#include <shunt/tcp.h>

struct tapp {
	struct shunt_tcp_pcb *pcb;
	uint32_t tx_seed, rx_seed;
	uint64_t tx_total, tx_queued, tx_acked;
	uint64_t rx_expect, rx_got;
	uint64_t rx_bad;		/* bytes that differed from the pattern */
	int connected, got_fin, err, closed, accepted;
	int close_when_done;		/* close after sending everything and receiving the FIN */
	int refuse_next;		/* refuse one delivery (tests the refused-data path) */
	uint32_t chunk;			/* write size, 0 = as much as fits */
	int manual_recved;		/* do not give the window back: the test calls shunt_tcp_recved */
	uint64_t unread;		/* received and not given back (manual_recved) */
	int recv_calls;
	struct tapp *accept_into;	/* listeners: the app that takes the next connection */
};

uint8_t tapp_byte(uint32_t seed, uint64_t i);
void tapp_attach(struct tapp *a, struct shunt_tcp_pcb *pcb);
/* Writes what the send buffer takes. */
void tapp_pump(struct tapp *a);
/* Listener whose accept hands the connection to *l->accept_into. */
void tapp_listen(struct tapp *l, struct shunt_tcp_pcb *pcb);
int tapp_done(const struct tapp *a);
/* Attaches and starts an active open. */
int tapp_connect(struct tapp *a, struct shunt_tcp_pcb *pcb, uint32_t ip, uint16_t port);	/* all sent and acked, all received */

#endif
