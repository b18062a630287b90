/*
 * platform/line_rtt: what the machine charges for talking across cores, the
 * floor under every cross-process figure -- the round trip of one cache line
 * between the harness's CPU and the peer CPU (where the macro benchmarks'
 * server runs): this thread writes a counter, a thread on the other CPU
 * copies it to a second cache line, this thread spins until it sees it.
 *
 * A VM's vCPUs are threads of the host, placed where the host likes: on
 * sibling cores of one cache complex a line crosses in tens of ns, across
 * complexes or sockets in hundreds.  Printed with every run (repetitions
 * interleaved with the others, so its median is the run's placement, its cv
 * tells whether the placement moved during the run).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "bench.h"

#define BATCH	1024

static _Alignas(64) _Atomic uint64_t ping;
static _Alignas(64) _Atomic uint64_t pong;
static _Alignas(64) _Atomic int stop;

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *
echo(void *arg)
{
	/* What we last echoed (set before we started): a ping that came before we looked is still new. */
	uint64_t last = atomic_load(&pong);

	(void)arg;
	if (bench_pin_thread(bench_peer_cpu()) != 0)
		return NULL;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t v = atomic_load_explicit(&ping, memory_order_acquire);

		if (v != last) {
			atomic_store_explicit(&pong, v, memory_order_release);
			last = v;
		} else {
			relax();
		}
	}
	return NULL;
}

static void
bm_line_rtt(struct bench_state *st)
{
	pthread_t t;
	uint64_t i, k, n = 0;

	if (bench_peer_cpu() < 0) {
		bench_skip(st, "one CPU: nothing to cross");
		return;
	}
	atomic_store(&stop, 0);
	i = atomic_load(&ping);
	atomic_store(&pong, i);
	if (pthread_create(&t, NULL, echo, NULL) != 0) {
		bench_error(st, "pthread_create failed");
		return;
	}
	/* The first crossing includes the thread's start: leave it out. */
	atomic_store_explicit(&ping, ++i, memory_order_release);
	while (atomic_load_explicit(&pong, memory_order_acquire) != i)
		relax();
	while (bench_keep_running_batch(st, BATCH)) {
		for (k = 0; k < BATCH; k++) {
			atomic_store_explicit(&ping, ++i, memory_order_release);
			while (atomic_load_explicit(&pong, memory_order_acquire) != i)
				relax();
		}
		n += BATCH;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	bench_set_items(st, n);
}

static const struct bench_def defs[] = {
	{ .family = "platform/line_rtt", .variant = "cpu", .fn = bm_line_rtt,
	  .note = "platform/line_rtt: round trip of one cache line between CPU 1 (the harness) and CPU 0 (a thread of "
	    "it): a store, the other core's copy to a second line, a spin; no shunt, no kernel: the floor under the "
	    "cross-process figures, which move with it (the host places the vCPUs)" },
};

static void __attribute__((constructor))
platform_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
