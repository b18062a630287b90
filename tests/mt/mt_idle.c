/*
 * An idle sys must not burn a core (DESIGN.md §3: the poller backs off to
 * sleep when there is no traffic).  Measured: the process's CPU time over
 * 5 s of wall time with the stacks up, a listener and an established
 * connection open, and nothing sent.  The bound is 2 % of one core.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "../unit/sysnet.h"

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
idle_run(int nsys)
{
	static struct sysnet n;
	struct shunt_sys_stats st0, st1;
	double c0, c1, w0, w1, share;
	int lfd, cfd, sfd, i;

	sysnet_init(&n, NULL);
	sysnet_tcp_pair(&n, &lfd, &cfd, &sfd);
	if (nsys == 1) {
		/* Only stack 1's sys keeps running: stack 0's poller stops (its sockets stay open). */
		shunt_close(n.sys[0], cfd);
		shunt_sys_destroy(n.sys[0]);
		n.sys[0] = NULL;
	}
	usleep(300000);	/* the handshake's delayed ACKs and the pollers' back-off settle */
	shunt_sys_get_stats(n.sys[1], &st0);
	c0 = cpu_s();
	w0 = wall_s();
	sleep(5);
	c1 = cpu_s();
	w1 = wall_s();
	shunt_sys_get_stats(n.sys[1], &st1);
	share = (c1 - c0) / (w1 - w0);
	printf("    %d idle sys: %.3f s CPU in %.2f s = %.2f %% of a core; poller: %.0f rounds/s, %.0f sleeps/s\n",
	    nsys, c1 - c0, w1 - w0, share * 100.0, (double)(st1.poll_rounds - st0.poll_rounds) / (w1 - w0),
	    (double)(st1.poller_sleeps - st0.poller_sleeps) / (w1 - w0));
	CHECKF(share < 0.02 * nsys, "%d idle sys used %.2f %% of a core (bound %d %%)", nsys, share * 100.0, 2 * nsys);
	shunt_close(n.sys[1], sfd);
	shunt_close(n.sys[1], lfd);
	if (nsys == 2)
		shunt_close(n.sys[0], cfd);
	for (i = 0; i < 2; i++)
		if (n.sys[i] == NULL)
			n.sys[i] = shunt_sys_create(n.s[i], NULL, NULL);
	sysnet_fini(&n);
}

TEST(mt_idle_sys_cpu)
{
#ifdef __SANITIZE_THREAD__
	test_skip("CPU time under ThreadSanitizer says nothing about shunt's (the plain binary measures it)");
#endif
	idle_run(1);
}

TEST(mt_idle_two_sys_cpu)
{
#ifdef __SANITIZE_THREAD__
	test_skip("CPU time under ThreadSanitizer says nothing about shunt's (the plain binary measures it)");
#endif
	idle_run(2);
}

/*
 * An idle poller sleeps on the NICs' receive interrupts with no deadline at
 * all when no timer is armed.  A timer armed meanwhile by an application
 * thread (here: the retransmission timer of a send into a link that now
 * loses everything) must still fire on time: arming it kicks the poller.
 */
TEST(mt_idle_timer_armed_during_interrupt_sleep)
{
	static struct sysnet n;
	struct shunt_sys_stats st0, st1;
	struct shunt_link_faults f;
	struct shunt_stats ss;
	int lfd, cfd, sfd;

	sysnet_init(&n, NULL);
	sysnet_tcp_pair(&n, &lfd, &cfd, &sfd);
	usleep(300000);		/* delayed ACKs done: no timer left, the pollers sleep on interrupts */
	shunt_sys_get_stats(n.sys[0], &st0);
	usleep(100000);
	shunt_sys_get_stats(n.sys[0], &st1);
	CHECK(st1.poller_intr_sleeps >= 1);
	CHECKF(st1.poll_rounds - st0.poll_rounds <= 2, "an idle poller polled %llu times in 100 ms",
	    (unsigned long long)(st1.poll_rounds - st0.poll_rounds));
	memset(&f, 0, sizeof(f));
	f.loss_ppm = 1000000;
	shunt_link_set_faults(n.link, 0, &f);
	CHECK_EQ(shunt_send(n.sys[0], cfd, "hello", 5, 0), 5);
	/* The RTO (at least 200 ms) fires within a second, twice within two (backed off to 400 ms). */
	usleep(1000000);
	shunt_sys_lock(n.sys[0]);
	shunt_stack_stats(n.s[0], &ss);
	shunt_sys_unlock(n.sys[0]);
	CHECKF(ss.tcp_rto >= 1, "no RTO fired in 1 s while the poller slept on interrupts (%llu)",
	    (unsigned long long)ss.tcp_rto);
	f.loss_ppm = 0;
	shunt_link_set_faults(n.link, 0, &f);
	shunt_close(n.sys[0], cfd);
	shunt_close(n.sys[1], sfd);
	shunt_close(n.sys[1], lfd);
	sysnet_fini(&n);
}

struct blocked_recv {
	struct shunt_sys *sys;
	int fd;
	ssize_t r;
	double cpu;	/* the thread's CPU time while it waited, seconds */
};

static void *
blocked_recv_main(void *arg)
{
	struct blocked_recv *b = arg;
	struct timespec ts;
	char c;

	b->r = shunt_recv(b->sys, b->fd, &c, 1, 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	b->cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return NULL;
}

/*
 * Inline mode: a waiting call polls the NIC itself, but only for
 * inline_poll_us; then it sleeps and the poller thread wakes it.  A recv()
 * that waits 1 s with a 20 ms poll must take far less than 1 s of CPU, and
 * still get its byte when it comes.
 */
TEST(mt_idle_inline_waiter_stops_polling)
{
	static struct sysnet n;
	struct shunt_sys_config cfg;
	struct blocked_recv b;
	pthread_t th;
	int lfd, cfd;

#ifdef __SANITIZE_THREAD__
	test_skip("CPU time under ThreadSanitizer says nothing about shunt's (the plain binary measures it)");
#endif
	shunt_sys_config_init(&cfg);
	cfg.mode = SHUNT_POLL_INLINE;
	cfg.inline_poll_us = 20000;
	sysnet_init(&n, &cfg);
	sysnet_tcp_pair(&n, &lfd, &cfd, &b.fd);
	b.sys = n.sys[1];
	b.r = -2;
	CHECK_EQ(pthread_create(&th, NULL, blocked_recv_main, &b), 0);
	usleep(1000000);
	CHECK_EQ(shunt_send(n.sys[0], cfd, "x", 1, 0), 1);
	pthread_join(th, NULL);
	CHECK_EQ(b.r, 1);
	printf("    inline waiter: %.3f s of CPU in a 1 s wait (poll bound 20 ms)\n", b.cpu);
	CHECKF(b.cpu < 0.3, "an inline waiter took %.3f s of CPU in a 1 s wait: it never stopped polling", b.cpu);
	shunt_close(n.sys[0], cfd);
	shunt_close(n.sys[1], b.fd);
	shunt_close(n.sys[1], lfd);
	sysnet_fini(&n);
}
