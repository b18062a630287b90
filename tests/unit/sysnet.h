/*
 * Two stacks on the real clock over the in-memory link, each wrapped in a
 * sys with its own poller thread: the fixture for netconn and socket tests.
 * Stack 0 is 198.18.0.1, stack 1 is 198.18.0.2.
 */
#ifndef SHUNT_TEST_SYSNET_H
#define SHUNT_TEST_SYSNET_H

#include <netinet/in.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include "testnet.h"

struct sysnet {
	struct shunt_stack *s[2];
	struct shunt_link *link;
	struct shunt_sys *sys[2];
	uint32_t ip[2];
};

void sysnet_init(struct sysnet *n, const struct shunt_sys_config *scfg);
void sysnet_fini(struct sysnet *n);
struct sockaddr_in sysnet_addr(const struct sysnet *n, int side, uint16_t port);
/* A TCP connection through the socket API: a listener on stack 1 (any port), stack 0's socket, stack 1's accepted one. */
void sysnet_tcp_pair(struct sysnet *n, int *lfd, int *cfd, int *sfd);

#endif
