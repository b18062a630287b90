/*
 * A user-space impairment bridge, for tests on a kernel without netem: two
 * AF_PACKET sockets on two interfaces (veth ends in a namespace of their
 * own), every frame that arrives on one forwarded to the other after the
 * dice have spoken -- loss, duplication, reordering, corruption, delay with
 * jitter, a rate limit -- with the semantics of struct shunt_link_faults and
 * the same order of the dice as shunt's fault injector (stack/netif/faults.c):
 * loss, corruption (one bit of one byte past the Ethernet header), wire
 * time at the rate, delay, jitter, reordering (extra delay), duplication.
 * Frames wait in a queue per direction sorted by due time, bounded by
 * queue=N (tail drop).  Standalone: it uses no part of shunt, so it impairs a
 * kernel peer and a shunt peer alike.
 *
 *   impair_bridge IF_A IF_B [--faults 'loss=5%,reorder=25%,dup=1%,corrupt=0.1%,delay=1ms,jitter=500us,
 *                 reorder-delay=2ms,rate=1G,queue=N,seed=N'] [--seconds N] [--stats-file F]
 *
 * The faults apply to both directions (each with its own dice, seeded from
 * seed).  Runs until SIGINT/SIGTERM or --seconds; then prints, per
 * direction, frames in, lost, duplicated, reordered, corrupted, tail-dropped,
 * forwarded (also to --stats-file, one "key value" per line).  The interfaces
 * should have GRO, GSO/TSO and TX checksumming off on the veth ends that face
 * the bridge and its peers, so that every frame is a real one with its
 * checksums in place (a corrupted frame must be caught by its receiver).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#define MAX_FRAME	65536
#define BATCH		64

struct faults {
	uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	uint64_t delay_ns, jitter_ns, reorder_delay_ns, rate_bps, seed;
	uint32_t queue_max;
};

struct frame {
	uint64_t due;
	uint64_t order;			/* tie-break: equal due times keep arrival order */
	uint32_t len;
	uint8_t data[];
};

struct dir {
	int in_fd, out_fd;
	uint64_t rng, wire_free_at, order;
	struct frame **heap;
	uint32_t n, cap;
	/* counters */
	uint64_t in, lost, dup, reord, corrupt, qdrop, fwd, send_err;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(struct dir *d)
{
	uint64_t x = d->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int
chance(struct dir *d, uint32_t ppm)
{
	return ppm != 0 && rnd(d) % 1000000 < ppm;
}

/* ---- the queue: a binary heap on (due, order) ---- */

static int
before(const struct frame *a, const struct frame *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static int
push(struct dir *d, struct frame *f)
{
	uint32_t i;

	if (d->n == d->cap) {
		uint32_t nc = d->cap ? d->cap * 2 : 1024;
		struct frame **nh = realloc(d->heap, nc * sizeof(*nh));

		if (nh == NULL)
			return -1;
		d->heap = nh;
		d->cap = nc;
	}
	i = d->n++;
	while (i > 0 && before(f, d->heap[(i - 1) / 2])) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = f;
	return 0;
}

static struct frame *
pop(struct dir *d)
{
	struct frame *top = d->heap[0], *last;
	uint32_t i = 0;

	last = d->heap[--d->n];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!before(d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n > 0)
		d->heap[i] = last;
	return top;
}

static void
enqueue(struct dir *d, const struct faults *fl, const uint8_t *data, uint32_t len, uint64_t due)
{
	struct frame *f;

	if (d->n >= fl->queue_max) {
		d->qdrop++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (f == NULL) {
		d->qdrop++;
		return;
	}
	f->due = due;
	f->order = d->order++;
	f->len = len;
	memcpy(f->data, data, len);
	if (push(d, f) != 0) {
		free(f);
		d->qdrop++;
	}
}

/* The dice, in the order of shunt's fault injector. */
static void
judge(struct dir *d, const struct faults *fl, uint8_t *data, uint32_t len, uint64_t now)
{
	uint64_t due = now;
	int dup;

	d->in++;
	if (chance(d, fl->loss_ppm)) {
		d->lost++;
		return;
	}
	if (chance(d, fl->corrupt_ppm) && len > 14) {
		uint32_t off = 14 + (uint32_t)(rnd(d) % (len - 14));

		data[off] ^= (uint8_t)(1u << (rnd(d) % 8));
		d->corrupt++;
	}
	if (fl->rate_bps != 0) {
		uint64_t start = d->wire_free_at > now ? d->wire_free_at : now;

		d->wire_free_at = start + (uint64_t)len * 8 * 1000000000ull / fl->rate_bps;
		due = d->wire_free_at;
	}
	due += fl->delay_ns;
	if (fl->jitter_ns != 0)
		due += rnd(d) % fl->jitter_ns;
	if (chance(d, fl->reorder_ppm)) {
		due += fl->reorder_delay_ns ? fl->reorder_delay_ns : 1000000;
		d->reord++;
	}
	dup = chance(d, fl->dup_ppm);
	enqueue(d, fl, data, len, due);
	if (dup) {
		d->dup++;
		enqueue(d, fl, data, len, due);
	}
}

static void
release(struct dir *d, uint64_t now)
{
	while (d->n > 0 && d->heap[0]->due <= now) {
		struct frame *f = pop(d);

		if (send(d->out_fd, f->data, f->len, MSG_DONTWAIT) == (ssize_t)f->len)
			d->fwd++;
		else
			d->send_err++;
		free(f);
	}
}

/* ---- set-up ---- */

static int
open_if(const char *name)
{
	struct sockaddr_ll sll;
	int fd, one = 1, sz = 8 << 20;
	unsigned idx = if_nametoindex(name);

	if (idx == 0) {
		fprintf(stderr, "impair_bridge: no interface %s\n", name);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("impair_bridge: socket(AF_PACKET)");
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		perror("impair_bridge: bind");
		close(fd);
		return -1;
	}
	/* What we send ourselves must not come back to us as input. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

static int
parse_ppm(const char *v, uint32_t *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x < 0)
		return -1;
	if (strcmp(end, "ppm") == 0) {
		if (x > 1e6)
			return -1;
		*out = (uint32_t)(x + 0.5);
		return 0;
	}
	if ((*end != '\0' && strcmp(end, "%") != 0) || x > 100)
		return -1;
	*out = (uint32_t)(x * 1e4 + 0.5);
	return 0;
}

static int
parse_ns(const char *v, uint64_t *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x < 0)
		return -1;
	if (strcmp(end, "ns") == 0)
		*out = (uint64_t)x;
	else if (strcmp(end, "us") == 0 || *end == '\0')
		*out = (uint64_t)(x * 1e3);
	else if (strcmp(end, "ms") == 0)
		*out = (uint64_t)(x * 1e6);
	else if (strcmp(end, "s") == 0)
		*out = (uint64_t)(x * 1e9);
	else
		return -1;
	return 0;
}

static int
parse_rate(const char *v, uint64_t *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': x *= 1e3; end++; break;
	case 'm': case 'M': x *= 1e6; end++; break;
	case 'g': case 'G': x *= 1e9; end++; break;
	default: break;
	}
	if (*end != '\0')
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int
parse_faults(char *spec, struct faults *f)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(spec, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int bad = 0;

		if (eq == NULL)
			return -1;
		*eq++ = '\0';
		if (strcmp(tok, "loss") == 0)
			bad = parse_ppm(eq, &f->loss_ppm);
		else if (strcmp(tok, "dup") == 0)
			bad = parse_ppm(eq, &f->dup_ppm);
		else if (strcmp(tok, "reorder") == 0)
			bad = parse_ppm(eq, &f->reorder_ppm);
		else if (strcmp(tok, "corrupt") == 0)
			bad = parse_ppm(eq, &f->corrupt_ppm);
		else if (strcmp(tok, "delay") == 0)
			bad = parse_ns(eq, &f->delay_ns);
		else if (strcmp(tok, "jitter") == 0)
			bad = parse_ns(eq, &f->jitter_ns);
		else if (strcmp(tok, "reorder-delay") == 0)
			bad = parse_ns(eq, &f->reorder_delay_ns);
		else if (strcmp(tok, "rate") == 0)
			bad = parse_rate(eq, &f->rate_bps);
		else if (strcmp(tok, "seed") == 0)
			f->seed = strtoull(eq, NULL, 0);
		else if (strcmp(tok, "queue") == 0)
			f->queue_max = (uint32_t)strtoul(eq, NULL, 0);
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "impair_bridge: bad fault item %s=%s\n", tok, eq);
			return -1;
		}
	}
	return 0;
}

static void
report(FILE *out, const char *name, const struct dir *d)
{
	fprintf(out, "impair_bridge %s: %llu in, %llu lost, %llu duplicated, %llu reordered, %llu corrupted, "
	    "%llu tail-dropped, %llu forwarded, %llu send errors\n", name, (unsigned long long)d->in,
	    (unsigned long long)d->lost, (unsigned long long)d->dup, (unsigned long long)d->reord,
	    (unsigned long long)d->corrupt, (unsigned long long)d->qdrop, (unsigned long long)d->fwd,
	    (unsigned long long)d->send_err);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[MAX_FRAME];
	struct faults fl;
	struct dir dir[2];
	struct sigaction sa;
	const char *stats_file = NULL;
	uint64_t deadline = 0;
	char *spec = NULL;
	int fa, fb, i;

	memset(&fl, 0, sizeof(fl));
	fl.queue_max = 65536;
	if (argc < 3) {
		fprintf(stderr, "usage: impair_bridge IF_A IF_B [--faults SPEC] [--seconds N] [--stats-file F]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--faults") == 0 && i + 1 < argc)
			spec = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			deadline = now_ns() + strtoull(argv[++i], NULL, 10) * 1000000000ull;
		else if (strcmp(argv[i], "--stats-file") == 0 && i + 1 < argc)
			stats_file = argv[++i];
		else {
			fprintf(stderr, "impair_bridge: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (spec != NULL && parse_faults(spec, &fl) != 0)
		return 2;
	fa = open_if(argv[1]);
	fb = open_if(argv[2]);
	if (fa < 0 || fb < 0)
		return 1;
	memset(dir, 0, sizeof(dir));
	dir[0].in_fd = fa;
	dir[0].out_fd = fb;
	dir[1].in_fd = fb;
	dir[1].out_fd = fa;
	for (i = 0; i < 2; i++) {
		dir[i].rng = ((fl.seed ? fl.seed : 0x9e3779b97f4a7c15ull) * 2 + 1) ^ ((uint64_t)(i + 1) *
		    0xbf58476d1ce4e5b9ull);
		if (dir[i].rng == 0)
			dir[i].rng = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("impair_bridge: %s <-> %s, loss %u ppm, dup %u ppm, reorder %u ppm (+%llu ns), corrupt %u ppm, "
	    "delay %llu ns, jitter %llu ns, rate %llu bit/s, seed %llu: running\n", argv[1], argv[2], fl.loss_ppm,
	    fl.dup_ppm, fl.reorder_ppm, (unsigned long long)fl.reorder_delay_ns, fl.corrupt_ppm,
	    (unsigned long long)fl.delay_ns, (unsigned long long)fl.jitter_ns, (unsigned long long)fl.rate_bps,
	    (unsigned long long)fl.seed);
	fflush(stdout);
	while (!stop) {
		struct pollfd pfd[2] = { { fa, POLLIN, 0 }, { fb, POLLIN, 0 } };
		uint64_t now = now_ns(), next = UINT64_MAX, wait;
		struct timespec ts;

		if (deadline != 0 && now >= deadline)
			break;
		for (i = 0; i < 2; i++)
			if (dir[i].n > 0 && dir[i].heap[0]->due < next)
				next = dir[i].heap[0]->due;
		/* ppoll sleeps to the nanosecond: no spinning while frames wait out their delay. */
		wait = next == UINT64_MAX ? 100000000ull : next > now ? next - now : 0;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		if (ppoll(pfd, 2, &ts, NULL) < 0 && errno != EINTR)
			break;
		now = now_ns();
		for (i = 0; i < 2; i++) {
			int k;

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (k = 0; k < BATCH; k++) {
				ssize_t n = recv(dir[i].in_fd, buf, sizeof(buf), MSG_DONTWAIT);

				if (n <= 0)
					break;
				judge(&dir[i], &fl, buf, (uint32_t)n, now);
			}
		}
		for (i = 0; i < 2; i++)
			release(&dir[i], now_ns());
	}
	report(stdout, "a->b", &dir[0]);
	report(stdout, "b->a", &dir[1]);
	if (stats_file != NULL) {
		FILE *f = fopen(stats_file, "w");

		if (f != NULL) {
			for (i = 0; i < 2; i++)
				fprintf(f, "%s_in %llu\n%s_lost %llu\n%s_dup %llu\n%s_reordered %llu\n%s_corrupted %llu\n"
				    "%s_tail_dropped %llu\n%s_forwarded %llu\n", i ? "ba" : "ab",
				    (unsigned long long)dir[i].in, i ? "ba" : "ab", (unsigned long long)dir[i].lost,
				    i ? "ba" : "ab", (unsigned long long)dir[i].dup, i ? "ba" : "ab",
				    (unsigned long long)dir[i].reord, i ? "ba" : "ab",
				    (unsigned long long)dir[i].corrupt, i ? "ba" : "ab", (unsigned long long)dir[i].qdrop,
				    i ? "ba" : "ab", (unsigned long long)dir[i].fwd);
			fclose(f);
		}
	}
	fflush(stdout);
	return 0;
}
