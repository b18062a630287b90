/* Fixture: see sysnet.h. */
#include <arpa/inet.h>
#include <string.h>
#include "sysnet.h"

void
sysnet_init(struct sysnet *n, const struct shunt_sys_config *scfg)
{
	struct shunt_stack_config c;
	uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
	int i, err = 0;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < 2; i++) {
		shunt_stack_config_init(&c);
		c.seed = (uint64_t)i + 100;
		n->s[i] = shunt_stack_create(&c, &err);
		CHECKF(n->s[i] != NULL, "stack: %d", err);
	}
	n->link = shunt_link_create(n->s[0], n->s[1], mac[0], mac[1], 1500, &err);
	CHECK(n->link != NULL);
	for (i = 0; i < 2; i++) {
		struct shunt_netif *nif = shunt_link_netif(n->link, i);

		n->ip[i] = ip4(i == 0 ? "198.18.0.1" : "198.18.0.2");
		CHECK_EQ(shunt_netif_set_ip4(nif, n->ip[i], ip4("255.255.255.0"), 0), 0);
		CHECK_EQ(shunt_netif_up(nif), 0);
		n->sys[i] = shunt_sys_create(n->s[i], scfg, &err);
		CHECKF(n->sys[i] != NULL, "sys: %d", err);
	}
}

void
sysnet_fini(struct sysnet *n)
{
	int i;

	for (i = 0; i < 2; i++)
		shunt_sys_destroy(n->sys[i]);
	shunt_link_destroy(n->link);
	for (i = 0; i < 2; i++)
		destroy_no_leaks(n->s[i]);
}

struct sockaddr_in
sysnet_addr(const struct sysnet *n, int side, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = n->ip[side];
	a.sin_port = htons(port);
	return a;
}

void
sysnet_tcp_pair(struct sysnet *n, int *lfd, int *cfd, int *sfd)
{
	struct sockaddr_in sa = sysnet_addr(n, 1, 0);
	socklen_t l = sizeof(sa);

	*lfd = shunt_socket(n->sys[1], AF_INET, SOCK_STREAM, 0);
	CHECK(*lfd >= 0);
	CHECK_EQ(shunt_bind(n->sys[1], *lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(shunt_listen(n->sys[1], *lfd, 4), 0);
	CHECK_EQ(shunt_getsockname(n->sys[1], *lfd, (struct sockaddr *)&sa, &l), 0);
	*cfd = shunt_socket(n->sys[0], AF_INET, SOCK_STREAM, 0);
	CHECK(*cfd >= 0);
	CHECK_EQ(shunt_connect(n->sys[0], *cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*sfd = shunt_accept(n->sys[1], *lfd, NULL, NULL);
	CHECK(*sfd >= 0);
}
