/*
 * Bringing the stack up, lazily: on the first socket call that needs it, not
 * at load, so that a program that daemonizes (forks) before it opens sockets
 * starts DPDK in the process that will use it, and a program that never
 * touches the network never starts DPDK at all.  Failure at any step is one
 * log line and the kernel for everything, never an abort.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <shunt/dpdk.h>
#include <shunt/netif.h>
#include <shunt/tcp.h>
#include "shim.h"

__thread int shim_busy;
char **shim_saved_env;

static void print_stats(void);

__attribute__((constructor(102))) static void
shim_init(void)
{
	shim_resolve_all();
	shim_read_config();
	shim.pid = getpid();
}

/*
 * Some PMDs (net_tap) learn of arriving frames by signal-driven I/O on their
 * descriptors.  Such a signal may land on any thread, and there it cuts the
 * program's poll() or epoll_wait() short with EINTR.  Descriptors that got
 * O_ASYNC while DPDK started are pointed at the poller thread instead, which
 * also turns the signal into a wake-up for the poller.
 */
static void
route_nic_signals(int first_fd, int tid)
{
	struct f_owner_ex own = { F_OWNER_TID, tid };
	int fd, n = 0;

	for (fd = first_fd; fd < first_fd + 4096; fd++) {
		int fl = REAL(fcntl)(fd, F_GETFL, 0);

		if (fl < 0 || !(fl & O_ASYNC))
			continue;
		if (REAL(fcntl)(fd, F_SETOWN_EX, (long)(uintptr_t)&own) == 0)
			n++;
	}
	if (n > 0)
		shim_log(LOG_DEBUG, "routed the NIC's I/O signals of %d descriptors to the poller (tid %d)", n, tid);
}

static void
dpdk_log(const char *line, void *arg)
{
	(void)arg;
	shim_log(LOG_DEBUG, "dpdk: %s", line);
}

/* The signals DPDK's drivers asked for on the descriptors they opened (F_SETSIG). */
static void
nic_signals(int first_fd, sigset_t *set)
{
	int fd;

	sigemptyset(set);
	for (fd = first_fd; fd < first_fd + 4096; fd++) {
		int fl = REAL(fcntl)(fd, F_GETFL, 0), sig;

		if (fl < 0 || !(fl & O_ASYNC))
			continue;
		sig = REAL(fcntl)(fd, F_GETSIG, 0);
		sigaddset(set, sig > 0 ? sig : SIGIO);
	}
}

static int
bring_up(void)
{
	struct shim_config *c = &shim.cfg;
	struct shunt_stack_config scfg;
	struct shunt_dpdk_port_config pcfg;
	struct shunt_sys_config ycfg;
	char args[1200], errbuf[256] = "";
	cpu_set_t saved;
	sigset_t all, app_mask, nic, poller_mask;
	int err = 0, have_affinity, first_fd;

	/* Every DPDK process needs its own file prefix; telemetry would open a socket of its own. */
	{
		char prefix[64] = "";

		if (strstr(c->dpdk, "--file-prefix") == NULL)
			snprintf(prefix, sizeof(prefix), " --file-prefix=shunt%d", (int)getpid());
		snprintf(args, sizeof(args), "%s%s%s", c->dpdk, prefix,
		    strstr(c->dpdk, "telemetry") ? "" : " --no-telemetry");
	}
	/* The EAL pins its calling thread to the main lcore: the application's thread must not stay pinned. */
	have_affinity = sched_getaffinity(0, sizeof(saved), &saved) == 0;
	/*
	 * Threads started from here on (DPDK's, our poller) must never take the
	 * program's signals: a signal the program blocks to read it from a
	 * signalfd would otherwise kill or confuse one of ours.  They start with
	 * every signal blocked; the poller then takes only the NIC's own.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &app_mask);
	first_fd = dup(0);
	if (first_fd >= 0)
		REAL(close)(first_fd);
	else
		first_fd = 3;
	shunt_dpdk_set_log(dpdk_log, NULL);
	err = shunt_dpdk_eal_init(args, errbuf, sizeof(errbuf));
	if (have_affinity)
		sched_setaffinity(0, sizeof(saved), &saved);
	if (err != 0 && err != -EALREADY) {
		pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
		shim_log(LOG_ERR, "SHUNT_DPDK: EAL init failed: %s; running on the kernel", errbuf);
		return -1;
	}
	shunt_stack_config_init(&scfg);
	if (c->sndbuf)
		scfg.tcp_sndbuf = (uint32_t)c->sndbuf;
	if (c->rcvbuf)
		scfg.tcp_rcvbuf = (uint32_t)c->rcvbuf;
	if (c->cc[0])
		scfg.tcp_cc = c->cc;
	shim.stack = shunt_stack_create(&scfg, &err);
	if (shim.stack == NULL) {
		shim_log(LOG_ERR, "stack: cannot create (%s); running on the kernel", strerror(-err));
		pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
		return -1;
	}
	shunt_dpdk_port_config_init(&pcfg);
	if (c->port[0])
		pcfg.port_name = c->port;
	pcfg.trust_csum = c->trust_csum;
	shim.nif = shunt_dpdk_netif_create(shim.stack, &pcfg, &err, errbuf, sizeof(errbuf));
	if (shim.nif == NULL) {
		shim_log(LOG_ERR, "SHUNT_DPDK: port: %s; running on the kernel", errbuf);
		shunt_stack_destroy(shim.stack);
		shim.stack = NULL;
		pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
		return -1;
	}
	if (c->pcap[0] && shunt_pcap_attach(shim.nif, c->pcap) != 0)
		shim_log(LOG_WARN, "SHUNT_PCAP: cannot write '%s'", c->pcap);
	err = shunt_netif_set_ip4(shim.nif, c->ip, c->mask, c->gw);
	if (err == 0)
		err = shunt_netif_up(shim.nif);
	if (err != 0) {
		shim_log(LOG_ERR, "SHUNT_IP/SHUNT_GW: rejected by the stack (%s); running on the kernel", strerror(-err));
		shunt_stack_destroy(shim.stack);
		shim.stack = NULL;
		pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
		return -1;
	}
	/* The poller: everything blocked but the NIC's I/O signals, which are routed to it below. */
	nic_signals(first_fd, &nic);
	poller_mask = all;
	{
		int sig;

		for (sig = 1; sig < NSIG; sig++)
			if (sigismember(&nic, sig))
				sigdelset(&poller_mask, sig);
	}
	pthread_sigmask(SIG_SETMASK, &poller_mask, NULL);
	shunt_sys_config_init(&ycfg);
	ycfg.mode = c->poll_inline ? SHUNT_POLL_INLINE : SHUNT_POLL_THREAD;
	if (c->spin_us >= 0 && c->poll_inline)
		ycfg.inline_poll_us = (uint32_t)c->spin_us;	/* a waiting call polls the NIC, this long */
	else if (c->spin_us >= 0)
		ycfg.spin_us = (uint32_t)c->spin_us;
	shim.sys = shunt_sys_create(shim.stack, &ycfg, &err);
	pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
	if (shim.sys == NULL) {
		shim_log(LOG_ERR, "poller: cannot start (%s); running on the kernel", strerror(-err));
		shunt_stack_destroy(shim.stack);
		shim.stack = NULL;
		pthread_sigmask(SIG_SETMASK, &app_mask, NULL);
		return -1;
	}
	if (shunt_sys_poller_tid(shim.sys) > 0)
		route_nic_signals(first_fd, shunt_sys_poller_tid(shim.sys));
	/* Registered after print_stats, so it runs first: the counters then include the drain. */
	if (c->stats_at_exit)
		atexit(print_stats);
	atexit(shim_exit_drain);
	{
		char a[16];

		shim_log(LOG_INFO, "up: %s on %s, poll %s", shunt_ip4_str(c->ip, a),
		    shunt_netif_get_info(shim.nif)->name, c->poll_inline ? "inline" : "thread");
	}
	return 0;
}

int
shim_ready(void)
{
	int st = __atomic_load_n(&shim.init_state, __ATOMIC_ACQUIRE);

	if (likely(st == 1))
		return !shim.in_child;
	if (st < 0 || shim_busy)
		return 0;
	pthread_mutex_lock(&shim.lock);
	if (!shim.config_read)
		shim_read_config();	/* a socket call before our constructor ran */
	if (shim.init_state == 0) {
		shim_busy = 1;
		st = bring_up() == 0 ? 1 : -1;
		shim_busy = 0;
		__atomic_store_n(&shim.init_state, st, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&shim.lock);
	return shim.init_state == 1 && !shim.in_child;
}

/* Connections that still owe the peer something: data or a FIN not yet acknowledged. */
static uint32_t
undelivered(void)
{
	static const enum shunt_tcp_state owing[] = {
		SHUNT_TCP_SYN_SENT, SHUNT_TCP_FIN_WAIT_1, SHUNT_TCP_CLOSING, SHUNT_TCP_LAST_ACK,
	};
	uint32_t n = 0;
	size_t i;

	shunt_sys_lock(shim.sys);
	for (i = 0; i < sizeof(owing) / sizeof(owing[0]); i++)
		n += shunt_tcp_count(shim.stack, owing[i]);
	shunt_sys_unlock(shim.sys);
	return n;
}

/*
 * When a process exits, the kernel closes its sockets and goes on
 * delivering what they hold after the process is gone.  shunt's connections
 * live in the process, so exit waits for them instead: every shunt socket
 * still open is closed (a FIN after its data, as the kernel's close at exit),
 * then exit waits until the closed connections have had their data and FIN
 * acknowledged, for at most SHUNT_EXIT_DRAIN_MS.  Runs from exit() (atexit)
 * and from _exit(); never in a fork's child or a vfork child, which share
 * or copied the descriptors but do not own the stack.
 */
void
shim_exit_drain(void)
{
	static int done;
	int fd, closed = 0;
	uint32_t left;
	struct timespec t0, t;

	if (__atomic_load_n(&shim.init_state, __ATOMIC_ACQUIRE) != 1 || shim.in_child || getpid() != shim.pid ||
	    __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL) || shim.cfg.exit_drain_ms == 0)
		return;
	for (fd = 0; fd < shim_maxfd; fd++) {
		enum fd_kind k = fd_kind(fd);

		if (k == FD_SHUNT || k == FD_DUAL) {
			close(fd);
			closed++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = undelivered()) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= shim.cfg.exit_drain_ms) {
			shim_log(LOG_WARN, "exit: %u connection(s) still undelivered after %d ms; cut off "
			    "(SHUNT_EXIT_DRAIN_MS)", left, shim.cfg.exit_drain_ms);
			return;
		}
		usleep(1000);
	}
	if (closed > 0)
		shim_log(LOG_DEBUG, "exit: closed %d shunt socket(s), all delivered", closed);
}

static void
stat_line(const char *name, uint64_t v, void *arg)
{
	(void)arg;
	fprintf(stderr, "  %-28s %llu\n", name, (unsigned long long)v);
}

static void
print_stats(void)
{
	struct shunt_stats st;

	if (shim.stack == NULL || shim.in_child)
		return;
	shunt_sys_lock(shim.sys);
	shunt_stack_stats(shim.stack, &st);
	shunt_sys_unlock(shim.sys);
	fprintf(stderr, "shunt[%d]: counters:\n", (int)getpid());
	shunt_stats_foreach(&st, 1, stat_line, NULL);
}
