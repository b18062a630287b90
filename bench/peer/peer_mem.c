/*
 * shunt-peer --test mem: the memory of N idle established TCP connections,
 * both ends in this process, so that every byte they cost is ours to count.
 *
 *	kernel  N connections over loopback (the harness runs us in a namespace
 *	        of our own): slab memory before and after, from /proc/slabinfo
 *	        (whole slabs: what the kernel really holds), counting the caches
 *	        that grew with the connections
 *	raw     two shunt stacks on the in-memory link, raw API: heap in use
 *	        before and after (mallinfo2: chunks with their malloc overhead)
 *	socket  two shunt stacks, each under a struct shunt_sys (poller thread),
 *	        shunt's socket API: heap, and slab for the eventfd each socket
 *	        holds as its descriptor
 * Idle means no data queued: the figures are the connection's own state,
 * without buffers.  Both ends count, so an "end" is one socket or PCB.
 *
 * result items=N ends=2N heap=BYTES slab=BYTES ns=...
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/tcp.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include "peer.h"

#define NPORTS		4		/* listeners: N spread over them keeps each below the ephemeral range */
#define PER_PROC	8000		/* kernel: connections per holding process (2 descriptors each) */
#define BATCH		256
#define SETTLE_MS	300

static int64_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (int64_t)(mi.uordblks + mi.hblkhd);
}

/* The kernel's slab caches: name, objects, memory held (whole slabs). */
#define MAX_CACHES	512
struct slabs {
	int n;
	struct {
		char name[64];
		int64_t objs, bytes, objsize;
	} c[MAX_CACHES];
};

static int
slab_read(struct slabs *sl)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	long page = sysconf(_SC_PAGESIZE);

	sl->n = 0;
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL && sl->n < MAX_CACHES) {
		unsigned long active, num, objsize, perslab, pages, aslabs, nslabs;
		const char *sd = strstr(line, "slabdata");

		if (line[0] == '#' || sd == NULL)
			continue;
		if (sscanf(line, "%63s %lu %lu %lu %lu %lu", sl->c[sl->n].name, &active, &num, &objsize, &perslab,
		    &pages) != 6 || sscanf(sd, "slabdata %lu %lu", &aslabs, &nslabs) != 2)
			continue;
		sl->c[sl->n].objs = (int64_t)active;
		sl->c[sl->n].objsize = (int64_t)objsize;
		sl->c[sl->n].bytes = (int64_t)nslabs * (int64_t)pages * page;
		sl->n++;
	}
	fclose(f);
	return 0;
}

static int
slab_find(const struct slabs *sl, const char *name)
{
	int i;

	for (i = 0; i < sl->n; i++)
		if (strcmp(sl->c[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * Slab growth of the caches that grew with the connections: at least one
 * object per four ends (sockets, inodes, files, dentries, TCP control
 * blocks, eventfd contexts ...).  The machine's other work moves other
 * caches by a few MB; those are left out.
 *
 * Also left out: /proc entries.  Something on the machine this was written
 * on looks at every process's /proc/PID/fd as soon as descriptors appear,
 * which instantiates a proc inode (with its LSM blob) and a dentry per
 * descriptor; that is the observer's memory, not the connection's.  It is
 * subtracted as the proc_inode_cache growth, plus as many dentries and LSM
 * inode blobs.  Every cache counted is printed on stderr.
 */
static int64_t
slab_growth(const struct slabs *a, const struct slabs *b, uint64_t ends)
{
	int64_t sum = 0, procobjs = 0;
	int i, j;

	for (j = 0; j < b->n; j++) {
		int64_t dobj, dbytes;

		if ((i = slab_find(a, b->c[j].name)) < 0)
			continue;
		dobj = b->c[j].objs - a->c[i].objs;
		dbytes = b->c[j].bytes - a->c[i].bytes;
		if (dobj < (int64_t)(ends / 4))
			continue;
		fprintf(stderr, "slab %-24s +%lld objects +%lld bytes\n", b->c[j].name, (long long)dobj,
		    (long long)dbytes);
		if (strcmp(b->c[j].name, "proc_inode_cache") == 0) {
			procobjs = dobj;
			continue;
		}
		sum += dbytes;
	}
	if (procobjs > 0) {
		int d = slab_find(b, "dentry"), l = slab_find(b, "lsm_inode_cache");
		int64_t art = procobjs * ((d >= 0 ? b->c[d].objsize : 0) + (l >= 0 ? b->c[l].objsize : 0));

		fprintf(stderr, "slab: /proc entries of %lld descriptors left out (%lld bytes besides their inodes)\n",
		    (long long)procobjs, (long long)art);
		sum -= art;
	}
	return sum;
}

static struct slabs slab0, slab1;

static void
settle(void)
{
	struct timespec ts = { 0, SETTLE_MS * 1000000L };

	nanosleep(&ts, NULL);
}

static void
report(uint64_t n, int64_t heap, int64_t slab, uint64_t ns)
{
	printf("result items=%llu ends=%llu heap=%lld slab=%lld ns=%llu bytes=0\n", (unsigned long long)n,
	    (unsigned long long)(2 * n), (long long)heap, (long long)slab, (unsigned long long)ns);
	fflush(stdout);
}

/* ---- kernel ---- */

/*
 * Connections made and held by one process, both ends: as many as its
 * descriptor limit allows.  The limit (RLIMIT_NOFILE) may be low and fixed
 * (no CAP_SYS_RESOURCE in a container), so the kernel's N connections are
 * spread over several such processes.
 */
static void
kernel_hold(const struct peer_opts *o, uint64_t first, uint64_t n, int ready_fd)
{
	struct sockaddr_in sa;
	int lfd[NPORTS], i, j, one = 1;
	uint64_t made = 0;
	uint16_t base = (uint16_t)(ntohs(o->port) + NPORTS * (first / PER_PROC));
	char c = 'k';

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NPORTS; i++) {
		lfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_port = htons((uint16_t)(base + i));
		if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd[i], 4096) != 0)
			peer_die("listen on %u: %s", base + i, strerror(errno));
	}
	while (made < n) {
		uint64_t b = n - made < BATCH ? n - made : BATCH;

		/* Over loopback the handshake completes inside connect(); accept() then takes it. */
		for (j = 0; j < (int)b; j++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			sa.sin_port = htons((uint16_t)(base + (made + (uint64_t)j) % NPORTS));
			if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
				peer_die("connect #%llu: %s", (unsigned long long)(first + made + (uint64_t)j),
				    strerror(errno));
		}
		for (j = 0; j < (int)b; j++)
			if (accept(lfd[(made + (uint64_t)j) % NPORTS], NULL, NULL) < 0)
				peer_die("accept: %s", strerror(errno));
		made += b;
	}
	/* Listeners go: what stays is the connections. */
	for (i = 0; i < NPORTS; i++)
		close(lfd[i]);
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static int
mem_kernel(const struct peer_opts *o)
{
	uint64_t n = o->conns, first, t0;
	int p[2], nkids = 0, i;
	pid_t kids[1024];
	char c;

	if (pipe(p) != 0)
		peer_die("pipe: %s", strerror(errno));
	settle();
	slab_read(&slab0);
	t0 = peer_now();
	for (first = 0; first < n; first += PER_PROC) {
		pid_t pid;

		if (nkids == (int)(sizeof(kids) / sizeof(kids[0])))
			peer_die("too many connections");
		pid = fork();
		if (pid < 0)
			peer_die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(p[0]);
			kernel_hold(o, first, n - first < PER_PROC ? n - first : PER_PROC, p[1]);
		}
		kids[nkids++] = pid;
		/* One at a time: they would only fight over the two cores. */
		if (read(p[0], &c, 1) != 1)
			peer_die("a holder process failed");
	}
	settle();
	slab_read(&slab1);
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
	printf("procs %d\n", nkids);
	report(n, 0, slab_growth(&slab0, &slab1, 2 * n), peer_now() - t0);
	return 0;
}

/* ---- shunt, raw API ---- */

struct rawmem {
	uint64_t accepted, connected, failed;
};

static int
rm_accept(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct rawmem *m = arg;

	m->accepted++;
	/* Idle: no callbacks needed; the stack consumes anything that would arrive. */
	return 0;
}

static int
rm_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct rawmem *m = arg;

	if (err == 0)
		m->connected++;
	else
		m->failed++;
	return 0;
}

static void
rm_err(void *arg, int err)
{
	struct rawmem *m = arg;

	m->failed++;
}

static void
two_stacks(uint64_t n, struct shunt_stack **a, struct shunt_stack **b, struct shunt_link **l)
{
	static const uint8_t mac[2][6] = { { 2, 0, 0xc6, 0x12, 4, 1 }, { 2, 0, 0xc6, 0x12, 4, 2 } };
	struct shunt_stack_config c;
	struct shunt_stack **s[2] = { a, b };
	uint32_t ip, mask;
	int i, err;

	for (i = 0; i < 2; i++) {
		shunt_stack_config_init(&c);
		c.seed = 100 + (uint64_t)i;
		c.tcp_max_pcbs = (uint32_t)(n + 1024);
		/* A big table, as a server with this many connections would size it. */
		c.tcp_conn_hash = 1u << 18;
		c.tcp_syn_backlog = 4096;
		*s[i] = shunt_stack_create(&c, &err);
		if (*s[i] == NULL)
			peer_die("shunt_stack_create: %s", strerror(-err));
	}
	*l = shunt_link_create(*a, *b, mac[0], mac[1], 1500, &err);
	if (*l == NULL)
		peer_die("shunt_link_create: %s", strerror(-err));
	shunt_ip4_parse("255.255.255.0", &mask);
	for (i = 0; i < 2; i++) {
		shunt_ip4_parse(i == 0 ? "198.18.4.1" : "198.18.4.2", &ip);
		if (shunt_netif_set_ip4(shunt_link_netif(*l, i), ip, mask, 0) != 0 ||
		    shunt_netif_up(shunt_link_netif(*l, i)) != 0)
			peer_die("link address");
		/* Each knows the other's MAC: a burst of SYNs must not queue behind ARP. */
		shunt_arp_add_static(*s[1 - i], ip, mac[i]);
	}
}

static int
mem_raw(const struct peer_opts *o)
{
	struct shunt_stack *a, *b;
	struct shunt_link *l;
	struct shunt_tcp_pcb **cli, *lst[NPORTS];
	struct rawmem m;
	uint64_t n = o->conns, made = 0, t0;
	uint32_t srv_ip;
	int64_t h0, h1;
	int i, err;

	memset(&m, 0, sizeof(m));
	two_stacks(n, &a, &b, &l);
	shunt_ip4_parse("198.18.4.2", &srv_ip);
	cli = calloc(n, sizeof(*cli));
	if (cli == NULL)
		peer_die("out of memory");
	for (i = 0; i < NPORTS; i++) {
		lst[i] = shunt_tcp_new(b);
		shunt_tcp_arg(lst[i], &m);
		shunt_tcp_accept(lst[i], rm_accept);
		err = shunt_tcp_bind(lst[i], srv_ip, htons((uint16_t)(ntohs(o->port) + i)));
		if (err == 0)
			err = shunt_tcp_listen(lst[i], 4096);
		if (err != 0)
			peer_die("listen: %s", strerror(-err));
	}
	/* ARP and the pools' first touch before the count starts. */
	for (i = 0; i < 100; i++) {
		shunt_stack_poll(a);
		shunt_stack_poll(b);
	}
	h0 = heap_bytes();
	t0 = peer_now();
	while (made < n) {
		uint64_t bt = n - made < BATCH ? n - made : BATCH, j, spins = 0;

		for (j = 0; j < bt; j++) {
			struct shunt_tcp_pcb *p = shunt_tcp_new(a);

			if (p == NULL)
				peer_die("shunt_tcp_new #%llu failed", (unsigned long long)(made + j));
			shunt_tcp_arg(p, &m);
			shunt_tcp_err(p, rm_err);
			err = shunt_tcp_connect(p, srv_ip, htons((uint16_t)(ntohs(o->port) + (made + j) % NPORTS)),
			    rm_connected);
			if (err != 0)
				peer_die("connect #%llu: %s", (unsigned long long)(made + j), strerror(-err));
			cli[made + j] = p;
		}
		made += bt;
		while (m.connected < made || m.accepted < made) {
			shunt_stack_poll(a);
			shunt_stack_poll(b);
			if (m.failed != 0 || ++spins > 10000000)
				peer_die("%llu connections failed (%llu connected, %llu accepted of %llu)",
				    (unsigned long long)m.failed, (unsigned long long)m.connected,
				    (unsigned long long)m.accepted, (unsigned long long)made);
		}
	}
	/* The handshakes' last ACKs, and nothing left in flight. */
	for (i = 0; i < 1000; i++) {
		shunt_stack_poll(a);
		shunt_stack_poll(b);
	}
	h1 = heap_bytes();
	report(n, h1 - h0, 0, peer_now() - t0);
	return 0;
}

/* ---- shunt, socket API ---- */

static int
mem_socket(const struct peer_opts *o)
{
	struct shunt_stack *a, *b;
	struct shunt_link *l;
	struct shunt_sys *sa_, *sb;
	struct sockaddr_in sin;
	int lfd[NPORTS], *fds, i, err, one = 1;
	uint64_t n = o->conns, made = 0, t0;
	int64_t h0, h1;

	/* Every shunt socket is a descriptor (an eventfd): both ends must fit under our limit. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && 2 * n + 64 > rl.rlim_cur) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			if (rl.rlim_cur != RLIM_INFINITY && 2 * n + 64 > rl.rlim_cur)
				n = (rl.rlim_cur - 64) / 2 / NPORTS * NPORTS;
		}
	}
	two_stacks(n, &a, &b, &l);
	sa_ = shunt_sys_create(a, NULL, &err);
	sb = sa_ != NULL ? shunt_sys_create(b, NULL, &err) : NULL;
	if (sb == NULL)
		peer_die("shunt_sys_create: %s", strerror(-err));
	fds = calloc(2 * n, sizeof(*fds));
	if (fds == NULL)
		peer_die("out of memory");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	shunt_ip4_parse("198.18.4.2", &sin.sin_addr.s_addr);
	for (i = 0; i < NPORTS; i++) {
		lfd[i] = shunt_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		shunt_setsockopt(sb, lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sin.sin_port = htons((uint16_t)(ntohs(o->port) + i));
		if (lfd[i] < 0 || shunt_bind(sb, lfd[i], (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    shunt_listen(sb, lfd[i], 4096) != 0)
			peer_die("listen: %s", strerror(errno));
	}
	settle();
	h0 = heap_bytes();
	slab_read(&slab0);
	t0 = peer_now();
	while (made < n) {
		uint64_t bt = n - made < BATCH ? n - made : BATCH, j, got = 0, t1;

		for (j = 0; j < bt; j++) {
			int fd = shunt_socket(sa_, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			sin.sin_port = htons((uint16_t)(ntohs(o->port) + (made + j) % NPORTS));
			if (fd < 0 || (shunt_connect(sa_, fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
			    errno != EINPROGRESS))
				peer_die("connect #%llu: %s", (unsigned long long)(made + j), strerror(errno));
			fds[2 * (made + j)] = fd;
		}
		/* The pollers carry the handshakes; take the connections as they come. */
		t1 = peer_now();
		while (got < bt) {
			int fd = shunt_accept4(sb, lfd[(made + got) % NPORTS], NULL, NULL, SOCK_NONBLOCK);

			if (fd >= 0) {
				fds[2 * (made + got) + 1] = fd;
				got++;
				continue;
			}
			if (errno != EAGAIN)
				peer_die("accept: %s", strerror(errno));
			if (peer_now() - t1 > 10000000000ull)
				peer_die("accepted %llu of %llu", (unsigned long long)(made + got), (unsigned long long)n);
			sched_yield();
		}
		made += bt;
	}
	settle();
	h1 = heap_bytes();
	slab_read(&slab1);
	report(n, h1 - h0, slab_growth(&slab0, &slab1, 2 * n), peer_now() - t0);
	return 0;
}

int
mem_test(const struct peer_opts *o)
{
	switch (o->api) {
	case API_KERNEL:
		return mem_kernel(o);
	case API_RAW:
		return mem_raw(o);
	case API_SOCKET:
		return mem_socket(o);
	}
	return 1;
}
