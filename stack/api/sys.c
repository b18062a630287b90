/*
 * The sys wrapper: one stack made usable from many threads.  Below: the core
 * (shunt_stack_poll, raw API).  Above: netconn.c and the socket layer.
 *
 * Threads enter the core under one mutex and call the raw API directly, as
 * lwIP's core locking does: a message hop to a stack thread on every call
 * would cost a cross-core round trip.  The poller thread polls the NICs while
 * there is traffic and, once idle for poller_spin_us, sleeps in growing steps
 * up to poller_max_sleep_us or the stack's next timer; once the steps reach
 * that cap, it sleeps on the NICs' receive interrupts (where every NIC has
 * one) until a frame, the next timer or a kick, so an idle program does not
 * burn a core.  Waiters sleep on futex words (struct waitq) that the core's
 * callbacks bump: a timed futex wait returns EINTR when a signal handler runs,
 * an untimed one is restarted under SA_RESTART — exactly the rules of recv()
 * with and without SO_RCVTIMEO.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include "priv/api.h"
#include "priv/stack.h"

uint64_t
sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
sys_deadline(uint32_t timeout_ms)
{
	return timeout_ms == 0 ? 0 : sys_now() + (uint64_t)timeout_ms * 1000000ull;
}

static long
futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

void
waitq_init(struct waitq *w)
{
	atomic_store(&w->seq, 0);
	atomic_store(&w->sleepers, 0);
}

void
waitq_wake(struct waitq *w)
{
	atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
	if (atomic_load_explicit(&w->sleepers, memory_order_acquire) != 0)
		futex(&w->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int
sys_wait(struct shunt_sys *sys, struct waitq *w, uint64_t deadline, int always_eintr)
{
	uint32_t seq = atomic_load_explicit(&w->seq, memory_order_acquire);
	int inl = sys->cfg.mode == SHUNT_POLL_INLINE;
	uint64_t now, spin_end;
	int ret = 0;

	__atomic_fetch_add(&sys->st.waits, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sys->lock);
	now = sys_now();
	spin_end = now + (uint64_t)(inl ? sys->cfg.inline_poll_us : sys->cfg.spin_us) * 1000ull;
	if (inl || sys->cfg.shared_cpu) {
		/*
		 * Poll the NIC ourselves until our condition changes (lowest
		 * latency, one busy core), for inline_poll_us at most: then sleep
		 * like a thread-mode waiter and leave the NIC to the poller.  A
		 * thread-mode waiter whose poller shares its CPU does the same
		 * for its spin: watching a word that only the poller can change,
		 * on the poller's own CPU, would only delay it; polling in its
		 * place saves the two context switches of a hand-over.
		 */
		unsigned rounds = 0;

		while (now < spin_end) {
			if (atomic_load_explicit(&w->seq, memory_order_acquire) != seq)
				goto woken;
			if (pthread_mutex_trylock(&sys->lock) == 0) {
				shunt_stack_poll(sys->stack);
				pthread_mutex_unlock(&sys->lock);
			} else {
				/* Someone else is polling: give them the core rather than spin against them. */
				sched_yield();
			}
			if (atomic_load_explicit(&w->seq, memory_order_acquire) != seq)
				goto woken;
			if ((++rounds & 63) != 0)
				continue;
			now = sys_now();
			if (deadline != 0 && now >= deadline) {
				ret = -ETIMEDOUT;
				goto out;
			}
		}
	}
	/* Another core polls: watch the word for the spin. */
	while (!inl && !sys->cfg.shared_cpu && now < spin_end) {
		int i;

		for (i = 0; i < 64; i++) {
			if (atomic_load_explicit(&w->seq, memory_order_acquire) != seq) {
				__atomic_fetch_add(&sys->st.spin_hits, 1, __ATOMIC_RELAXED);
				goto woken;
			}
			cpu_relax();
		}
		now = sys_now();
	}
	atomic_fetch_add(&w->sleepers, 1);
	for (;;) {
		struct timespec ts, *tsp = NULL;
		long r;

		if (atomic_load_explicit(&w->seq, memory_order_acquire) != seq)
			break;
		if (deadline != 0 || always_eintr) {
			/* A timed wait: signals end it with EINTR whatever SA_RESTART says. */
			uint64_t left;

			now = sys_now();
			if (deadline != 0 && now >= deadline) {
				ret = -ETIMEDOUT;
				break;
			}
			left = deadline != 0 ? deadline - now : 3600ull * 1000000000ull;
			ts.tv_sec = (time_t)(left / 1000000000ull);
			ts.tv_nsec = (long)(left % 1000000000ull);
			tsp = &ts;
		}
		r = futex(&w->seq, FUTEX_WAIT_PRIVATE, seq, tsp);
		if (r == -1 && errno == EINTR) {
			ret = -EINTR;
			break;
		}
		if (r == -1 && errno == ETIMEDOUT && deadline != 0 && sys_now() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	atomic_fetch_sub(&w->sleepers, 1);
	goto out;
woken:
	ret = 0;
out:
	pthread_mutex_lock(&sys->lock);
	if (ret == 0)
		__atomic_fetch_add(&sys->st.wakeups, 1, __ATOMIC_RELAXED);
	return ret;
}

void
shunt_sys_config_init(struct shunt_sys_config *cfg)
{
	cpu_set_t set;
	int one_cpu = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = SHUNT_POLL_THREAD;
	/*
	 * Spinning on a word pays only when what it waits for runs on another
	 * core.  On one CPU the poller and the application take turns, and a
	 * waiter spinning on its word only delays the poller it waits for (a
	 * connection took 238 µs instead of 66 µs): there the waiter polls the
	 * NIC itself for its spin, as an inline waiter does.
	 */
	cfg->shared_cpu = one_cpu;
	cfg->spin_us = one_cpu ? 50 : 20;
	/*
	 * The poller, though, must keep looking at the NIC for a while after
	 * traffic even then: a memif or af_packet port has no interrupt to wake
	 * it, and a reply that lands while it sleeps waits for the sleep's end
	 * (86 µs ping-pong instead of 21).  Sharing the CPU, it yields on every
	 * round, so an application thread that has work runs first.
	 */
	cfg->poller_spin_us = 200;
	/* An idle inline program must not keep a core busy for ever (Onload's and VMA's polls are bounded too). */
	cfg->inline_poll_us = 100000;
	cfg->poller_max_sleep_us = 1000;
	cfg->poller_cpu = -1;
}

#define SYS_MAX_NETIFS	16

/*
 * One sleep on receive interrupts: 0 after it, -EAGAIN if frames came in
 * while arming (poll on), another negative errno if the NICs cannot wake us.
 */
static int
intr_sleep(struct shunt_sys *sys)
{
	struct pollfd pfd[SYS_MAX_NETIFS + 1];
	int fds[SYS_MAX_NETIFS], k, i;
	uint64_t until, snow;
	struct timespec ts, *tsp = NULL;
	uint64_t junk;

	pthread_mutex_lock(&sys->lock);
	k = shunt_stack_sleep_prepare(sys->stack, fds, SYS_MAX_NETIFS, &until);
	if (k < 0) {
		pthread_mutex_unlock(&sys->lock);
		return k;
	}
	snow = shunt_stack_now(sys->stack);
	atomic_store(&sys->intr_sleeping, 1);
	pthread_mutex_unlock(&sys->lock);
	for (i = 0; i < k; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[k].fd = sys->wake_fd;
	pfd[k].events = POLLIN;
	if (until != UINT64_MAX) {
		uint64_t d = until > snow ? until - snow : 0;

		ts.tv_sec = (time_t)(d / 1000000000ull);
		ts.tv_nsec = (long)(d % 1000000000ull);
		tsp = &ts;
	}
	__atomic_fetch_add(&sys->st.poller_sleeps, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sys->st.poller_intr_sleeps, 1, __ATOMIC_RELAXED);
	if (!atomic_load(&sys->stop))
		ppoll(pfd, (nfds_t)k + 1, tsp, NULL);
	pthread_mutex_lock(&sys->lock);
	atomic_store(&sys->intr_sleeping, 0);
	shunt_stack_sleep_end(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	if (read(sys->wake_fd, &junk, sizeof(junk)) < 0) {
		/* nothing was written: EAGAIN */
	}
	return 0;
}

/*
 * A timed sleep of the poller: *step, doubled each time up to the cap, never
 * past next.  deep: idle for a second or more, the cap doubles -- a NIC
 * without receive interrupts (memif, af_packet) is looked at 500 times a
 * second instead of 1,000 (each look costs ~20 µs of a VM's CPU in wake-ups:
 * 2 % of a core), at the price of up to 2 ms more for the first frame after
 * a long silence.
 */
static void
sleep_clock(struct shunt_sys *sys, uint64_t *step, uint64_t next, uint64_t snow, int deep)
{
	uint64_t us = *step, cap = (sys->cfg.poller_max_sleep_us ? sys->cfg.poller_max_sleep_us : 1000) << (deep ? 1 : 0);
	struct timespec ts;
	uint32_t seq = atomic_load(&sys->poller_wq.seq);

	if (us > cap)
		us = cap;
	if (next != UINT64_MAX) {
		uint64_t till = next > snow ? (next - snow) / 1000 : 0;

		if (till < us)
			us = till;
	}
	if (*step < cap)
		*step *= 2;
	if (us == 0)
		return;
	__atomic_fetch_add(&sys->st.poller_sleeps, 1, __ATOMIC_RELAXED);
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	atomic_fetch_add(&sys->poller_wq.sleepers, 1);
	futex(&sys->poller_wq.seq, FUTEX_WAIT_PRIVATE, seq, &ts);
	atomic_fetch_sub(&sys->poller_wq.sleepers, 1);
}

static void *
poller_main(void *arg)
{
	struct shunt_sys *sys = arg;
	uint64_t last_busy = sys_now(), sleep_us = 1;

	atomic_store(&sys->poller_tid, (int)syscall(SYS_gettid));
	if (sys->cfg.poller_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sys->cfg.poller_cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load(&sys->stop)) {
		uint64_t next, now, snow;
		int n;

		/*
		 * Inline mode: a caller that holds the lock is most likely polling
		 * the NIC itself while it waits.  Blocking on the lock would only
		 * make its every unlock a futex wake and let this thread preempt
		 * it (a 37 µs p99 in ping-pong): stay out of its way instead.
		 */
		if (sys->cfg.mode == SHUNT_POLL_INLINE && pthread_mutex_trylock(&sys->lock) != 0) {
			sleep_clock(sys, &sleep_us, UINT64_MAX, 0, 0);
			continue;
		}
		if (sys->cfg.mode != SHUNT_POLL_INLINE)
			pthread_mutex_lock(&sys->lock);
		n = shunt_stack_poll(sys->stack);
		__atomic_fetch_add(&sys->st.poll_rounds, 1, __ATOMIC_RELAXED);
		if (n > 0)
			__atomic_fetch_add(&sys->st.poll_busy, 1, __ATOMIC_RELAXED);
		next = shunt_stack_next_deadline(sys->stack);
		snow = shunt_stack_now(sys->stack);	/* it writes the stack's clock: under the lock */
		pthread_mutex_unlock(&sys->lock);
		now = sys_now();
		if (n > 0) {
			last_busy = now;
			sleep_us = 1;
			continue;
		}
		if (sys->cfg.mode == SHUNT_POLL_THREAD && now - last_busy < (uint64_t)sys->cfg.poller_spin_us * 1000ull) {
			if (sys->cfg.shared_cpu)
				sched_yield();
			else
				cpu_relax();
			continue;
		}
		/*
		 * Idle for a while (the back-off reached its cap): sleep until a
		 * frame, a timer or a kick, if every NIC has a receive interrupt.
		 */
		if (sleep_us >= (sys->cfg.poller_max_sleep_us ? sys->cfg.poller_max_sleep_us : 1000) &&
		    !sys->cfg.no_rx_intr && sys->wake_fd >= 0) {
			int r = intr_sleep(sys);

			if (r == -EAGAIN) {
				last_busy = sys_now();
				sleep_us = 1;
			}
			if (r != -ENOTSUP && r != -EBUSY && r != -ENOSPC)
				continue;
		}
		/* Idle: sleep, longer each time, never past the next timer. */
		sleep_clock(sys, &sleep_us, next, snow, now - last_busy >= 1000000000ull);
	}
	return NULL;
}

static void
wake_fd_write(struct shunt_sys *sys)
{
	uint64_t one = 1;

	if (sys->wake_fd >= 0 && write(sys->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the poller is woken anyway */
	}
}

/*
 * The stack has work that no NIC will announce (a datagram to itself, a
 * timer due before the poller means to wake): wake the poller.
 */
static void
kick_poller(void *arg)
{
	struct shunt_sys *sys = arg;

	waitq_wake(&sys->poller_wq);
	if (atomic_load(&sys->intr_sleeping))
		wake_fd_write(sys);
}

struct shunt_sys *
shunt_sys_create(struct shunt_stack *s, const struct shunt_sys_config *cfg, int *err)
{
	struct shunt_sys *sys = calloc(1, sizeof(*sys));
	pthread_mutexattr_t ma;
	int e;

	if (sys == NULL) {
		if (err != NULL)
			*err = -ENOMEM;
		return NULL;
	}
	if (cfg != NULL)
		sys->cfg = *cfg;
	else
		shunt_sys_config_init(&sys->cfg);
	sys->stack = s;
	sys->udp_rcvbuf_default = 212992;	/* Linux rmem_default */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&sys->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	waitq_init(&sys->poller_wq);
	sys->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);	/* without one: sleeps by the clock only */
	shunt_stack_set_kick(s, kick_poller, sys);
	if (!sys->cfg.no_poller) {
		e = pthread_create(&sys->poller, NULL, poller_main, sys);
		if (e != 0) {
			shunt_stack_set_kick(s, NULL, NULL);
			pthread_mutex_destroy(&sys->lock);
			if (sys->wake_fd >= 0)
				close(sys->wake_fd);
			free(sys);
			if (err != NULL)
				*err = -e;
			return NULL;
		}
		sys->poller_running = 1;
	}
	return sys;
}

void
shunt_sys_destroy(struct shunt_sys *sys)
{
	int i;

	if (sys == NULL)
		return;
	atomic_store(&sys->stop, 1);
	waitq_wake(&sys->poller_wq);
	wake_fd_write(sys);
	if (sys->poller_running)
		pthread_join(sys->poller, NULL);
	/* Close what the application left open: sockets first (they own netconns), then bare netconns. */
	for (i = 0; i < FDTAB_CHUNKS; i++) {
		struct shunt_sock **chunk = atomic_load(&sys->fdtab[i]);
		int j;

		if (chunk == NULL)
			continue;
		for (j = 0; j < FDTAB_CHUNK; j++)
			if (chunk[j] != NULL)
				shunt_close(sys, i * FDTAB_CHUNK + j);
		free(chunk);
	}
	pthread_mutex_lock(&sys->lock);
	while (sys->all != NULL) {
		struct shunt_netconn *nc = sys->all;

		nc->refs = 1;
		nc_close_locked(nc);
	}
	shunt_stack_set_kick(sys->stack, NULL, NULL);
	pthread_mutex_unlock(&sys->lock);
	pthread_mutex_destroy(&sys->lock);
	if (sys->wake_fd >= 0)
		close(sys->wake_fd);
	free(sys);
}

int
shunt_sys_poller_tid(struct shunt_sys *sys)
{
	int tid, i;

	/* The thread records its id as it starts: wait for it briefly. */
	for (i = 0; i < 1000 && sys->poller_running && (tid = atomic_load(&sys->poller_tid)) == 0; i++)
		usleep(1000);
	return sys->poller_running ? atomic_load(&sys->poller_tid) : 0;
}

struct shunt_stack *
shunt_sys_stack(struct shunt_sys *sys)
{
	return sys->stack;
}

void
shunt_sys_lock(struct shunt_sys *sys)
{
	pthread_mutex_lock(&sys->lock);
	stack_refresh_now(sys->stack);
}

void
shunt_sys_unlock(struct shunt_sys *sys)
{
	netif_flush_all(sys->stack);
	pthread_mutex_unlock(&sys->lock);
}

int
shunt_sys_poll(struct shunt_sys *sys)
{
	int n;

	pthread_mutex_lock(&sys->lock);
	n = shunt_stack_poll(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	return n;
}

void
shunt_sys_get_stats(struct shunt_sys *sys, struct shunt_sys_stats *st)
{
	st->poll_rounds = __atomic_load_n(&sys->st.poll_rounds, __ATOMIC_RELAXED);
	st->poll_busy = __atomic_load_n(&sys->st.poll_busy, __ATOMIC_RELAXED);
	st->poller_sleeps = __atomic_load_n(&sys->st.poller_sleeps, __ATOMIC_RELAXED);
	st->waits = __atomic_load_n(&sys->st.waits, __ATOMIC_RELAXED);
	st->wakeups = __atomic_load_n(&sys->st.wakeups, __ATOMIC_RELAXED);
	st->spin_hits = __atomic_load_n(&sys->st.spin_hits, __ATOMIC_RELAXED);
	st->poller_intr_sleeps = __atomic_load_n(&sys->st.poller_intr_sleeps, __ATOMIC_RELAXED);
}
