/*
 * Configuration: SHUNT_* environment variables, optionally a file of
 * KEY=VALUE lines (SHUNT_CONFIG; the environment wins over the file).  Read
 * once, at load.  A bad value stops shunt from accelerating, with one line
 * naming the setting, and the program runs on the kernel.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "shim.h"

struct shim shim = { .lock = PTHREAD_MUTEX_INITIALIZER, .cfg.loglevel = LOG_WARN };

static int
parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[64], *slash;
	long bits = 32;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end;

		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > 32)
			return -1;
	}
	if (shunt_ip4_parse(buf, ip) != 0)
		return -1;
	*mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
	return 0;
}

static int
parse_rule(const char *s, struct rule *r)
{
	char buf[96], *colon, *port;
	uint32_t ip, mask;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	if (strcmp(buf, "shunt") == 0)
		r->to_shunt = 1;
	else if (strcmp(buf, "kernel") == 0)
		r->to_shunt = 0;
	else
		return -1;
	port = strchr(colon + 1, ':');
	r->port = 0;
	if (port != NULL) {
		long p;
		char *end;

		*port++ = '\0';
		p = strtol(port, &end, 10);
		if (*end != '\0' || p < 1 || p > 65535)
			return -1;
		r->port = htons((uint16_t)p);
	}
	if (parse_cidr(colon + 1, &ip, &mask) != 0)
		return -1;
	r->net = ip & mask;
	r->mask = mask;
	return 0;
}

static int
parse_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = (int)x;
	return 0;
}

/* Applies one setting; on a bad value writes a message to err and returns -1. */
static int
apply(struct shim_config *c, const char *key, const char *v, char *err, size_t errlen)
{
#define BAD(want) do { snprintf(err, errlen, "%s: bad value '%.80s' (want %s)", key, v, want); return -1; } while (0)
	if (strcmp(key, "SHUNT_IP") == 0) {
		if (parse_cidr(v, &c->ip, &c->mask) != 0 || c->ip == 0)
			BAD("A.B.C.D/N");
		c->enabled = 1;
	} else if (strcmp(key, "SHUNT_GW") == 0) {
		if (shunt_ip4_parse(v, &c->gw) != 0)
			BAD("A.B.C.D");
	} else if (strcmp(key, "SHUNT_MAC") == 0) {
		unsigned int m[6];
		int i;

		if (sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
			BAD("xx:xx:xx:xx:xx:xx");
		for (i = 0; i < 6; i++) {
			if (m[i] > 255)
				BAD("xx:xx:xx:xx:xx:xx");
			c->mac[i] = (uint8_t)m[i];
		}
		c->have_mac = 1;
	} else if (strcmp(key, "SHUNT_DPDK") == 0) {
		if (strlen(v) >= sizeof(c->dpdk) || *v == '\0')
			BAD("DPDK EAL arguments");
		strcpy(c->dpdk, v);
	} else if (strcmp(key, "SHUNT_PORT") == 0) {
		if (strlen(v) >= sizeof(c->port))
			BAD("an ethdev name");
		strcpy(c->port, v);
	} else if (strcmp(key, "SHUNT_POLL") == 0) {
		if (strcmp(v, "thread") == 0)
			c->poll_inline = 0;
		else if (strcmp(v, "inline") == 0)
			c->poll_inline = 1;
		else
			BAD("thread or inline");
	} else if (strcmp(key, "SHUNT_SPIN_US") == 0) {
		if (parse_int(v, 0, 1000000, &c->spin_us) != 0)
			BAD("0..1000000");
	} else if (strcmp(key, "SHUNT_SNDBUF") == 0) {
		if (parse_int(v, 4096, 1 << 30, &c->sndbuf) != 0)
			BAD("4096..2^30 bytes");
	} else if (strcmp(key, "SHUNT_RCVBUF") == 0) {
		if (parse_int(v, 4096, 1 << 30, &c->rcvbuf) != 0)
			BAD("4096..2^30 bytes");
	} else if (strcmp(key, "SHUNT_CC") == 0) {
		if (strcmp(v, "cubic") != 0 && strcmp(v, "newreno") != 0 && strcmp(v, "reno") != 0)
			BAD("cubic or newreno");
		snprintf(c->cc, sizeof(c->cc), "%s", strcmp(v, "reno") == 0 ? "newreno" : v);
	} else if (strcmp(key, "SHUNT_PCAP") == 0) {
		if (strlen(v) >= sizeof(c->pcap))
			BAD("a file path");
		strcpy(c->pcap, v);
	} else if (strcmp(key, "SHUNT_LOG") == 0) {
		if (strcmp(v, "error") == 0)
			c->loglevel = LOG_ERR;
		else if (strcmp(v, "warn") == 0)
			c->loglevel = LOG_WARN;
		else if (strcmp(v, "info") == 0)
			c->loglevel = LOG_INFO;
		else if (strcmp(v, "debug") == 0)
			c->loglevel = LOG_DEBUG;
		else
			BAD("error, warn, info or debug");
	} else if (strcmp(key, "SHUNT_EXIT_DRAIN_MS") == 0) {
		if (parse_int(v, 0, 600000, &c->exit_drain_ms) != 0)
			BAD("0..600000 ms");
	} else if (strcmp(key, "SHUNT_TRUST_CSUM") == 0) {
		if (parse_int(v, 0, 1, &c->trust_csum) != 0)
			BAD("0 or 1");
	} else if (strcmp(key, "SHUNT_STATS") == 0) {
		if (parse_int(v, 0, 1, &c->stats_at_exit) != 0)
			BAD("0 or 1");
	} else if (strcmp(key, "SHUNT_RULES") == 0) {
		char buf[1024], *tok, *save = NULL;

		if (strlen(v) >= sizeof(buf))
			BAD("rules");
		strcpy(buf, v);
		for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
			if (c->nrules == (int)(sizeof(c->rules) / sizeof(c->rules[0])) ||
			    parse_rule(tok, &c->rules[c->nrules]) != 0)
				BAD("shunt|kernel:A.B.C.D/N[:port],...");
			c->nrules++;
		}
	} else if (strcmp(key, "SHUNT_DISABLE") == 0) {
		int off;

		if (parse_int(v, 0, 1, &off) != 0)
			BAD("0 or 1");
		if (off)
			c->enabled = -1;
	} else {
		snprintf(err, errlen, "%s: unknown setting", key);
		return -1;
	}
	return 0;
#undef BAD
}

static const char *const keys[] = {
	"SHUNT_LOG", "SHUNT_IP", "SHUNT_GW", "SHUNT_MAC", "SHUNT_DPDK", "SHUNT_PORT", "SHUNT_POLL",
	"SHUNT_SPIN_US", "SHUNT_SNDBUF", "SHUNT_RCVBUF", "SHUNT_CC", "SHUNT_PCAP", "SHUNT_RULES",
	"SHUNT_STATS", "SHUNT_DISABLE", "SHUNT_EXIT_DRAIN_MS", "SHUNT_TRUST_CSUM",
};

static int
read_file(struct shim_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1200];
	int n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "SHUNT_CONFIG: cannot open '%.160s'", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *eq, *v, *end;

		n++;
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '#' || *k == '\0')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "SHUNT_CONFIG: %.160s line %d: want KEY=VALUE", path, n);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		v = eq + 1;
		for (end = eq; end > k && isspace((unsigned char)end[-1]); end--)
			end[-1] = '\0';
		end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (apply(c, k, v, err, errlen) != 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

void
shim_read_config(void)
{
	struct shim_config *c = &shim.cfg;
	char err[256] = "";
	const char *path = getenv("SHUNT_CONFIG");
	size_t i;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	c->loglevel = LOG_WARN;
	c->spin_us = -1;
	c->exit_drain_ms = 2000;
	if (path != NULL && *path != '\0')
		bad = read_file(c, path, err, sizeof(err));
	for (i = 0; !bad && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = getenv(keys[i]);

		if (v != NULL && apply(c, keys[i], v, err, sizeof(err)) != 0)
			bad = 1;
	}
	shim.config_read = 1;
	if (bad) {
		c->enabled = 0;
		shim.init_state = -1;
		shim_log(LOG_ERR, "%s; running on the kernel", err);
		return;
	}
	if (c->enabled == 1 && c->dpdk[0] == '\0') {
		c->enabled = 0;
		shim.init_state = -1;
		shim_log(LOG_ERR, "SHUNT_DPDK: not set (DPDK EAL arguments, e.g. '--no-huge --vdev=net_tap0'); "
		    "running on the kernel");
		return;
	}
	if (c->enabled != 1) {
		c->enabled = 0;
		shim.init_state = -1;
		shim_log(LOG_INFO, "no SHUNT_IP: running on the kernel");
		return;
	}
	{
		char a[16], m[16], g[16];

		shim_log(LOG_INFO, "config: ip %s mask %s gw %s dpdk '%s' poll %s spin_us %d log %d rules %d%s%s%s",
		    shunt_ip4_str(c->ip, a), shunt_ip4_str(c->mask, m), c->gw ? shunt_ip4_str(c->gw, g) : "none",
		    c->dpdk, c->poll_inline ? "inline" : "thread", c->spin_us, c->loglevel, c->nrules,
		    c->pcap[0] ? " pcap " : "", c->pcap, c->trust_csum ? " trust_csum" : "");
	}
}

int
shim_is_local(uint32_t ip)
{
	return ip == shim.cfg.ip;
}

int
shim_route(uint32_t ip, uint16_t port)
{
	const struct shim_config *c = &shim.cfg;
	uint8_t first = ((const uint8_t *)&ip)[0];
	int i;

	for (i = 0; i < c->nrules; i++)
		if ((ip & c->rules[i].mask) == c->rules[i].net && (c->rules[i].port == 0 || c->rules[i].port == port))
			return c->rules[i].to_shunt;
	if (first == 127 || ip == 0 || port == htons(53))
		return 0;
	if ((ip & c->mask) == (c->ip & c->mask))
		return 1;
	/* With a gateway, shunt is the default route. */
	return c->gw != 0;
}
