/*
 * The benchmark harness as C sees it.  Benchmarks are C functions; the only
 * C++ is driver.cc, which hands them to Google Benchmark, pins the process to
 * a core, and prints the kernel-versus-shunt summary at the end.
 *
 * A benchmark is one entry of a module's static table, registered from a
 * constructor in the module, so a bench binary runs exactly the modules it
 * links (the core binary: everything over libshunt-core.a; a later DPDK
 * binary: the memif ones over libshunt.so).  Its full name is
 *
 *	family/variant/arg0/arg1...
 *
 * e.g. "tcp_segment/send/shunt/64".  The summary pairs the variants of one
 * family and arguments: "shunt", and "shunt-<how>" (shunt-ol: with checksum
 * offload), against the baseline "kernel" (or "ref" where the kernel has no
 * equivalent), and prints baseline time / variant time.  Other variant names
 * are reported without a ratio.
 *
 * Every benchmark reports how many items (segments, frames, buffers) it
 * processed with bench_set_items(); the summary compares time per item.
 */
#ifndef SHUNT_BENCH_H
#define SHUNT_BENCH_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_state;

#define BENCH_MAX_ARGS		4
#define BENCH_MAX_ARGSETS	8

/* bench_def.flags */
#define BENCH_F_MANUAL_TIME	0x01	/* the body times itself: bench_set_iteration_time() */
/*
 * A macro benchmark: each repetition is one iteration -- a whole run of
 * processes in namespaces of its own, which times itself (manual time) --
 * repeated --bench_macro_reps times (or def.reps), interleaved with the
 * others.  --bench_macro=off leaves them out; the smoke run keeps only those
 * also marked BENCH_F_SMOKE, once each, with a short measured phase.
 */
#define BENCH_F_MACRO		0x02
#define BENCH_F_SMOKE		0x04

/*
 * A figure a macro benchmark reports (as a counter of that name), printed
 * for the baseline and each contender with their ratio, oriented so that
 * more than 1 means shunt is better.  Its median over the repetitions is the
 * figure; a figure whose repetitions spread more than max_cv is refused
 * (spread: half the interquartile range over the median, which one spoilt
 * run in five does not move, where a coefficient of variation would).
 */
struct bench_fig {
	const char *name;		/* counter name, e.g. "p50" */
	const char *unit;		/* shown after the value, e.g. "us" */
	double scale;			/* shown value = counter / scale */
	int higher_better;		/* throughput: 1; latency, cost, memory: 0; -1: shown, never compared */
	double max_cv;			/* largest spread reported; 0: --bench_max_cv */
};
#define BENCH_MAX_FIGS		6

struct bench_def {
	const char *family;		/* "tcp_segment/send" */
	const char *variant;		/* "shunt", "kernel", "ref", ... */
	void (*fn)(struct bench_state *st);
	const void *udata;		/* handed to fn through bench_udata() */
	unsigned int flags;		/* BENCH_F_* */
	int nargs;			/* arguments per set */
	int nargsets;			/* one benchmark instance per set */
	int64_t args[BENCH_MAX_ARGSETS][BENCH_MAX_ARGS];
	const char *note;		/* caveat printed under the summary */
	/* Called once after all benchmarks ran (release cached fixtures); may be NULL. */
	void (*fini)(void);
	/* Macro benchmarks: the figures of the summary, and a fixed repetition count (0: --bench_macro_reps). */
	struct bench_fig figs[BENCH_MAX_FIGS];
	int nfigs;
	int reps;
};

/* Registers n benchmarks; call from a module's constructor.  The table must outlive the run. */
void bench_register(const struct bench_def *defs, size_t n);

/* The loop: true while more iterations are wanted.  Timing starts at the first call. */
int bench_keep_running(struct bench_state *st);
/* Runs iterations in batches of n (the count may overshoot by up to n). */
int bench_keep_running_batch(struct bench_state *st, uint64_t n);
uint64_t bench_iterations(const struct bench_state *st);
int64_t bench_arg(const struct bench_state *st, int i);
const void *bench_udata(const struct bench_state *st);

/* Leave setup work out of the figure (costly: ~µs; keep it out of tight loops). */
void bench_pause(struct bench_state *st);
void bench_resume(struct bench_state *st);
/* With BENCH_F_MANUAL_TIME: the time this iteration took, in seconds. */
void bench_set_iteration_time(struct bench_state *st, double seconds);

/* Totals over the whole run (not per iteration). */
void bench_set_items(struct bench_state *st, uint64_t items);
void bench_set_bytes(struct bench_state *st, uint64_t bytes);

/* bench_counter() flags, a subset of benchmark::Counter's */
#define BENCH_C_PLAIN		0x00	/* reported as given */
#define BENCH_C_RATE		0x01	/* divided by the run's time: per second */
#define BENCH_C_PER_ITER	0x02	/* divided by the iterations */
#define BENCH_C_INVERT		0x04	/* 1 / value (with RATE: seconds per thing) */
#define BENCH_C_1024		0x08	/* shown with binary prefixes */
void bench_counter(struct bench_state *st, const char *name, double value, unsigned int flags);
void bench_label(struct bench_state *st, const char *label);
/* The run failed: it is reported as an error and the harness exits nonzero.  Return right after. */
void bench_error(struct bench_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Outside a run (a fini that found a leak): print, and make the harness exit nonzero. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The run cannot happen here (no root, no DPDK PMD, a program missing): it
 * is reported as skipped with the reason, and does not fail the harness.
 * Return right after.
 */
void bench_skip(struct bench_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Macro benchmarks: length of the measured phase of a run, in ms (--bench_macro_ms). */
int bench_macro_ms(void);
/* 1 in the smoke run (--bench_macro=smoke). */
int bench_smoke(void);
/* The directory of the harness binary: the helper programs (shunt-peer ...) live there. */
const char *bench_bin_dir(void);

/* Monotonic nanoseconds (vDSO clock_gettime: ~20 ns, far below what we time). */
uint64_t bench_now_ns(void);

/* The CPU the harness pinned the process to, and a second one for peer threads (-1: none). */
int bench_cpu(void);
int bench_peer_cpu(void);
/* Pins the calling thread to cpu; 0 or -errno. */
int bench_pin_thread(int cpu);

/* Keep the compiler from optimising a value or the memory behind it away. */
static inline void
bench_keep(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Latency samples: collect one per event (or per batch), then report
 * percentiles as counters "<prefix>p50", "<prefix>p99", "<prefix>p99.9" (ns).
 * Sampling keeps the most recent `cap` values.
 */
struct bench_lat {
	uint64_t *v;
	size_t n, cap, next;
};

int bench_lat_init(struct bench_lat *l, size_t cap);
void bench_lat_add(struct bench_lat *l, uint64_t ns);
void bench_lat_reset(struct bench_lat *l);
/* Sorts the samples (in place) and sets the percentile counters. */
void bench_lat_report(struct bench_state *st, struct bench_lat *l, const char *prefix);
void bench_lat_fini(struct bench_lat *l);

#ifdef __cplusplus
}
#endif
#endif
