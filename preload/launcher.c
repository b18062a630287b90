/*
 * The shunt launcher:  shunt [options] [--] program [args...]
 * Sets the SHUNT_* environment and LD_PRELOAD=libshunt-preload.so, then
 * executes the program, which runs unmodified with its sockets over shunt.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SHUNT_VERSION
#define SHUNT_VERSION "0.1.0"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: shunt [options] [--] program [args...]\n"
	    "Runs an unmodified program with its TCP and UDP sockets over shunt (DPDK).\n\n"
	    "  --ip A.B.C.D/N     shunt's address on the DPDK port (SHUNT_IP)\n"
	    "  --gw A.B.C.D       default gateway: route everything not local through shunt (SHUNT_GW)\n"
	    "  --mac XX:..:XX     MAC address to use (SHUNT_MAC)\n"
	    "  --dpdk 'ARGS'      DPDK EAL arguments, e.g. '--no-huge -m 512 --vdev=net_tap0,iface=sh0' (SHUNT_DPDK)\n"
	    "  --port NAME        ethdev to use (SHUNT_PORT; default: the first)\n"
	    "  --poll MODE        thread (a poller thread, default) or inline (waiting threads poll) (SHUNT_POLL)\n"
	    "  --spin-us N        how long a waiting call spins before sleeping (SHUNT_SPIN_US)\n"
	    "  --rule R           shunt|kernel:A.B.C.D/N[:port], repeatable, first match wins (SHUNT_RULES)\n"
	    "  --pcap FILE        record shunt's traffic (SHUNT_PCAP)\n"
	    "  --trust-csum       the DPDK wire is memory shared with another shunt (net_memif): no checksums\n"
	    "                     (SHUNT_TRUST_CSUM=1; never for a wire to anything else)\n"
	    "  --log LEVEL        error, warn, info or debug (SHUNT_LOG)\n"
	    "  --stats            print shunt's counters when the program exits (SHUNT_STATS)\n"
	    "  --config FILE      read KEY=VALUE settings from FILE (SHUNT_CONFIG)\n"
	    "  --help, --version\n\n"
	    "Sockets on shunt's address and routes go over shunt; loopback, AF_UNIX, DNS and everything else stay\n"
	    "on the kernel.  A listener on INADDR_ANY listens on both.\n");
}

/* libshunt-preload.so next to this program, or in ../lib, or where SHUNT_PRELOAD_LIB says. */
static int
find_lib(const char *argv0, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("SHUNT_PRELOAD_LIB");
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(self, sizeof(self), "%s", argv0);
	} else {
		self[n] = '\0';
	}
	snprintf(dir, sizeof(dir), "%s", self);
	snprintf(out, len, "%s/libshunt-preload.so", dirname(dir));
	if (access(out, R_OK) == 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s", self);
	snprintf(out, len, "%s/../lib/libshunt-preload.so", dirname(dir));
	return access(out, R_OK) == 0 ? 0 : -1;
}

static void
append_rule(char *rules, size_t len, const char *r)
{
	size_t n = strlen(rules);

	snprintf(rules + n, len - n, "%s%s", n ? "," : "", r);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gw", required_argument, NULL, 'g' },
		{ "mac", required_argument, NULL, 'm' },
		{ "dpdk", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'P' },
		{ "poll", required_argument, NULL, 'p' },
		{ "spin-us", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'r' },
		{ "pcap", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "stats", no_argument, NULL, 'S' },
		{ "trust-csum", no_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char lib[PATH_MAX], preload[PATH_MAX * 2], rules[2048] = "";
	const char *old;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': setenv("SHUNT_IP", optarg, 1); break;
		case 'g': setenv("SHUNT_GW", optarg, 1); break;
		case 'm': setenv("SHUNT_MAC", optarg, 1); break;
		case 'd': setenv("SHUNT_DPDK", optarg, 1); break;
		case 'P': setenv("SHUNT_PORT", optarg, 1); break;
		case 'p': setenv("SHUNT_POLL", optarg, 1); break;
		case 's': setenv("SHUNT_SPIN_US", optarg, 1); break;
		case 'r': append_rule(rules, sizeof(rules), optarg); break;
		case 'c': setenv("SHUNT_PCAP", optarg, 1); break;
		case 'l': setenv("SHUNT_LOG", optarg, 1); break;
		case 'S': setenv("SHUNT_STATS", "1", 1); break;
		case 'T': setenv("SHUNT_TRUST_CSUM", "1", 1); break;
		case 'C': setenv("SHUNT_CONFIG", optarg, 1); break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("shunt %s\n", SHUNT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (rules[0])
		setenv("SHUNT_RULES", rules, 1);
	if (find_lib(argv[0], lib, sizeof(lib)) != 0) {
		fprintf(stderr, "shunt: cannot find libshunt-preload.so (set SHUNT_PRELOAD_LIB)\n");
		return 127;
	}
	old = getenv("LD_PRELOAD");
	if (old != NULL && *old != '\0')
		snprintf(preload, sizeof(preload), "%s:%s", lib, old);
	else
		snprintf(preload, sizeof(preload), "%s", lib);
	setenv("LD_PRELOAD", preload, 1);
	execvp(argv[optind], &argv[optind]);
	fprintf(stderr, "shunt: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
