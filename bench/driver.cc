/*
 * The benchmark driver: the only C++ of bench/.  It takes the C benchmarks
 * registered through bench.h, hands them to Google Benchmark, and adds what
 * the project wants from every run:
 *   - the process is pinned to one core, and every run says which core it ran on;
 *   - repetitions run interleaved at random (--benchmark_enable_random_interleaving),
 *     so a kernel run and its shunt counterpart see the same machine;
 *   - a closing summary sets "shunt" (and every "shunt-<how>" variant) against
 *     its baseline ("kernel" or "ref") for each family and arguments, and
 *     prints baseline time / variant time, but only when the repetitions of
 *     both agree (coefficient of variation below --bench_max_cv): a figure
 *     that moves more than that is no figure.
 *
 * Own flags (all others go to Google Benchmark):
 *   --bench_cpu=N          pin to CPU N (default: the highest CPU we may use)
 *   --bench_nice=N         run at this nice level where allowed (default -20: other
 *                          work on our core then takes a sliver of it, not half)
 *   --bench_max_cv=X       largest coefficient of variation reported (default 0.2)
 *   --bench_markdown=FILE  also write the summary as a Markdown table
 *   --bench_strict         exit nonzero when a figure is unstable
 *   --bench_all_runs       print every repetition, not only the aggregates
 *   --bench_macro=full|smoke|off   macro (multi-process) benchmarks: all, the
 *                          smoke subset once each with a short phase, or none
 *   --bench_macro_reps=N   repetitions of each macro benchmark (default 5)
 *   --bench_macro_ms=N     measured phase of a macro run (default 500)
 *   --bench_figures=FILE   macro figures as tab-separated values (bench/plot.sh)
 *
 * Macro benchmarks (BENCH_F_MACRO) report named figures (latency
 * percentiles, messages per second, bytes per connection ...) rather than a
 * time per item; the summary prints them in a table of their own, kernel and
 * shunt side by side with their ratio, oriented so that more than 1 means
 * shunt is better.
 */
#include <benchmark/benchmark.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bench.h"

struct bench_state {
	benchmark::State *st;
	const struct bench_def *def;
};

/* ---- the registry: filled from C constructors, before main ---- */

#define MAX_DEFS 256
static const struct bench_def *registry[MAX_DEFS];
static size_t nregistry;
static int harness_failed;

extern "C" void
bench_register(const struct bench_def *defs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (nregistry == MAX_DEFS) {
			fprintf(stderr, "bench: more than %d benchmarks registered\n", MAX_DEFS);
			abort();
		}
		registry[nregistry++] = &defs[i];
	}
}

/* ---- the C view of benchmark::State ---- */

extern "C" int
bench_keep_running(struct bench_state *st)
{
	return st->st->KeepRunning();
}

extern "C" int
bench_keep_running_batch(struct bench_state *st, uint64_t n)
{
	return st->st->KeepRunningBatch((benchmark::IterationCount)n);
}

extern "C" uint64_t
bench_iterations(const struct bench_state *st)
{
	return (uint64_t)st->st->iterations();
}

extern "C" int64_t
bench_arg(const struct bench_state *st, int i)
{
	return st->st->range((size_t)i);
}

extern "C" const void *
bench_udata(const struct bench_state *st)
{
	return st->def->udata;
}

extern "C" void
bench_pause(struct bench_state *st)
{
	st->st->PauseTiming();
}

extern "C" void
bench_resume(struct bench_state *st)
{
	st->st->ResumeTiming();
}

extern "C" void
bench_set_iteration_time(struct bench_state *st, double seconds)
{
	st->st->SetIterationTime(seconds);
}

extern "C" void
bench_set_items(struct bench_state *st, uint64_t items)
{
	/* The plain total is what the summary divides the time by; the rate is for the eye. */
	st->st->SetItemsProcessed((int64_t)items);
	st->st->counters["items"] = benchmark::Counter((double)items);
}

extern "C" void
bench_set_bytes(struct bench_state *st, uint64_t bytes)
{
	st->st->SetBytesProcessed((int64_t)bytes);
}

extern "C" void
bench_counter(struct bench_state *st, const char *name, double value, unsigned int flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & BENCH_C_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & BENCH_C_PER_ITER)
		f |= benchmark::Counter::kAvgIterations;
	if (flags & BENCH_C_INVERT)
		f |= benchmark::Counter::kInvert;
	st->st->counters[name] = benchmark::Counter(value, (benchmark::Counter::Flags)f,
	    (flags & BENCH_C_1024) ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000);
}

extern "C" void
bench_label(struct bench_state *st, const char *label)
{
	st->st->SetLabel(label);
}

extern "C" void
bench_error(struct bench_state *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->st->SkipWithError(msg);
}

extern "C" void
bench_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	harness_failed = 1;
}

extern "C" void
bench_skip(struct bench_state *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "skipped: ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	st->st->SkipWithError(msg);
}

static int macro_mode = 2;		/* 0 off, 1 smoke, 2 full */
static int macro_reps = 5;
static int macro_ms = 500;
static char bin_dir[PATH_MAX] = ".";

extern "C" int
bench_macro_ms(void)
{
	return macro_ms;
}

extern "C" int
bench_smoke(void)
{
	return macro_mode == 1;
}

extern "C" const char *
bench_bin_dir(void)
{
	return bin_dir;
}

extern "C" uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- pinning ---- */

static int main_cpu = -1, peer_cpu = -1;

extern "C" int
bench_cpu(void)
{
	return main_cpu;
}

extern "C" int
bench_peer_cpu(void)
{
	return peer_cpu;
}

extern "C" int
bench_pin_thread(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	return 0;
}

/*
 * One core for the benchmark, another (if there is one) for the peer threads
 * of later benchmarks.  The highest CPU by default: CPU 0 takes most of the
 * machine's interrupts and housekeeping.
 */
static int
pin_process(int want)
{
	cpu_set_t allowed;
	int c, last = -1, first = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
		fprintf(stderr, "bench: sched_getaffinity: %s\n", strerror(errno));
		return -1;
	}
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed))
			continue;
		if (first < 0)
			first = c;
		last = c;
	}
	if (want < 0)
		want = last;
	if (want < 0 || !CPU_ISSET(want, &allowed)) {
		fprintf(stderr, "bench: CPU %d is not one we may run on\n", want);
		return -1;
	}
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && c != want) {
			peer_cpu = c;
			break;
		}
	if (bench_pin_thread(want) != 0) {
		fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", want, strerror(errno));
		return -1;
	}
	main_cpu = want;
	printf("bench: pinned pid %d to CPU %d (allowed: %d..%d, %d online); peer CPU %d\n", (int)getpid(), want,
	    first, last, (int)sysconf(_SC_NPROCESSORS_ONLN), peer_cpu);
	return 0;
}

/* ---- latency percentiles ---- */

extern "C" int
bench_lat_init(struct bench_lat *l, size_t cap)
{
	l->v = (uint64_t *)calloc(cap, sizeof(*l->v));
	l->n = 0;
	l->next = 0;
	l->cap = l->v != NULL ? cap : 0;
	return l->v != NULL ? 0 : -ENOMEM;
}

extern "C" void
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	if (l->cap == 0)
		return;
	l->v[l->next] = ns;
	l->next = (l->next + 1) % l->cap;
	if (l->n < l->cap)
		l->n++;
}

extern "C" void
bench_lat_reset(struct bench_lat *l)
{
	l->n = 0;
	l->next = 0;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)ceil(p * (double)n);

	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return (double)v[i];
}

extern "C" void
bench_lat_report(struct bench_state *st, struct bench_lat *l, const char *prefix)
{
	std::string p = prefix != NULL ? prefix : "";

	if (l->n == 0)
		return;
	std::sort(l->v, l->v + l->n);
	st->st->counters[p + "p50"] = benchmark::Counter(pct(l->v, l->n, 0.50));
	st->st->counters[p + "p99"] = benchmark::Counter(pct(l->v, l->n, 0.99));
	st->st->counters[p + "p99.9"] = benchmark::Counter(pct(l->v, l->n, 0.999));
}

extern "C" void
bench_lat_fini(struct bench_lat *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = l->next = 0;
}

/* ---- the summary ---- */

static double max_cv = 0.20;
static int nice_level = -20;
static int strict, all_runs;
static const char *markdown_path, *figures_path;

struct figure {
	std::vector<double> ns;		/* time per item of each repetition */
	std::vector<int> cpus;
	std::map<std::string, std::vector<double>> figs;	/* macro figures of each repetition */
	std::vector<std::string> pins;		/* macro: "server CPU/client CPU" of each repetition */
	std::string error;
	bool skipped = false;
};

struct row {
	std::string family, args;
	std::map<std::string, figure> variants;
	std::vector<std::string> order;	/* variants in registration order (some may not have run) */
	std::vector<const char *> notes;
	const struct bench_def *macro = NULL;	/* a macro row: its figures come from this def */
};

static std::map<std::string, const struct bench_def *> def_by_name;
static std::vector<row> rows;

static row &
row_for(const std::string &family, const std::string &args, const char *variant, const char *note)
{
	row *r = NULL;

	for (row &x : rows)
		if (x.family == family && x.args == args)
			r = &x;
	if (r == NULL) {
		rows.push_back(row());
		r = &rows.back();
		r->family = family;
		r->args = args;
	}
	if (note != NULL && std::find(r->notes.begin(), r->notes.end(), note) == r->notes.end())
		r->notes.push_back(note);
	if (std::find(r->order.begin(), r->order.end(), variant) == r->order.end())
		r->order.push_back(variant);
	return *r;
}

static int
is_baseline(const std::string &v)
{
	return v == "kernel" || v == "ref";
}

class SummaryReporter : public benchmark::ConsoleReporter {
public:
	SummaryReporter() : benchmark::ConsoleReporter(OO_Tabular) {}

	void
	ReportRuns(const std::vector<Run> &runs) override
	{
		std::vector<Run> shown;

		for (const Run &r : runs) {
			if (all_runs || r.run_type == Run::RT_Aggregate || r.repetitions <= 1 || r.error_occurred)
				shown.push_back(r);
			if (r.run_type != Run::RT_Iteration)
				continue;
			record(r);
		}
		if (!shown.empty())
			benchmark::ConsoleReporter::ReportRuns(shown);
	}

private:
	void
	record(const Run &r)
	{
		auto it = def_by_name.find(r.run_name.function_name);

		if (it == def_by_name.end())
			return;
		const struct bench_def *d = it->second;
		row &rw = row_for(d->family, r.run_name.args, d->variant, d->note);
		figure &f = rw.variants[d->variant];
		if (r.error_occurred) {
			f.error = r.error_message;
			if (f.error.compare(0, 9, "skipped: ") == 0)
				f.skipped = true;
			else
				harness_failed = 1;
			return;
		}
		for (int k = 0; k < d->nfigs; k++) {
			auto c = r.counters.find(d->figs[k].name);

			if (c != r.counters.end())
				f.figs[d->figs[k].name].push_back(c->second.value);
		}
		auto cs = r.counters.find("cpu_srv"), cc = r.counters.find("cpu_cli");
		if (cs != r.counters.end() && cc != r.counters.end()) {
			/* Macro runs: where the two processes ran (the harness itself only waits). */
			f.pins.push_back(std::to_string((int)cs->second.value) + "/" +
			    std::to_string((int)cc->second.value));
			return;
		}
		auto items = r.counters.find("items");
		if (items == r.counters.end() || items->second.value <= 0) {
			harness_failed = 1;
			f.error = "reported no items";
			return;
		}
		f.ns.push_back(r.real_accumulated_time * 1e9 / items->second.value);
		auto cpu = r.counters.find("cpu");
		if (cpu != r.counters.end())
			f.cpus.push_back((int)cpu->second.value);
	}
};

struct figstat {
	double median, cv;
	int n;
	bool ok;
	std::string why;
};

/* The p-quantile of sorted values, interpolating linearly between ranks. */
static double
quantile(const std::vector<double> &v, double p)
{
	double pos = p * (double)(v.size() - 1);
	size_t i = (size_t)pos;

	if (i + 1 >= v.size())
		return v.back();
	return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/*
 * Median and spread of one figure's repetitions.  Micro figures: the spread
 * is the coefficient of variation.  Macro figures (robust): half the
 * interquartile range over the median -- one run that a neighbour's burst of
 * work on our cores spoilt does not make five disagree, two do.
 */
static figstat
stats_of_values(const figure &f, std::vector<double> v, double limit, bool robust = false)
{
	figstat s = { 0, 0, 0, false, "" };
	double mean = 0, var = 0;

	if (f.skipped) {
		s.why = f.error;
		return s;
	}
	if (!f.error.empty()) {
		s.why = "error: " + f.error;
		return s;
	}
	s.n = (int)v.size();
	if (v.empty()) {
		s.why = "no runs";
		return s;
	}
	std::sort(v.begin(), v.end());
	s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
	for (double x : v)
		mean += x;
	mean /= (double)v.size();
	for (double x : v)
		var += (x - mean) * (x - mean);
	if (v.size() > 1)
		var /= (double)(v.size() - 1);
	s.cv = mean > 0 ? sqrt(var) / mean : 0;
	if (robust)
		s.cv = s.median > 0 ? (quantile(v, 0.75) - quantile(v, 0.25)) / (2 * s.median) : 0;
	s.ok = s.cv <= limit;
	if (!s.ok) {
		char b[64];

		snprintf(b, sizeof(b), "unstable (%s %.0f%%)", robust ? "spread" : "cv", s.cv * 100);
		s.why = b;
	}
	return s;
}

static figstat
stats_of(const figure &f)
{
	return stats_of_values(f, f.ns, max_cv);
}

static std::string
fmt_ns(double ns)
{
	char b[32];

	if (ns >= 100000)
		snprintf(b, sizeof(b), "%.1f us", ns / 1000);
	else if (ns >= 100)
		snprintf(b, sizeof(b), "%.0f ns", ns);
	else
		snprintf(b, sizeof(b), "%.1f ns", ns);
	return b;
}

static std::string
fmt_fig(const figstat &s)
{
	char b[64];

	if (!s.ok && s.n == 0)
		return s.why;
	snprintf(b, sizeof(b), "%s ±%.0f%%%s", fmt_ns(s.median).c_str(), s.cv * 100, s.ok ? "" : " UNSTABLE");
	return b;
}

/* Macro rows: the server/client CPU pairs the runs had. */
static std::string
pins_of(const row &r)
{
	std::vector<std::string> all;
	std::string out;

	for (const auto &kv : r.variants)
		all.insert(all.end(), kv.second.pins.begin(), kv.second.pins.end());
	std::sort(all.begin(), all.end());
	all.erase(std::unique(all.begin(), all.end()), all.end());
	for (const std::string &p : all)
		out += (out.empty() ? "" : ",") + p;
	return out.empty() ? "?" : out;
}

static std::string
cpus_of(const row &r)
{
	std::vector<int> all;
	std::string out;

	for (const auto &kv : r.variants)
		all.insert(all.end(), kv.second.cpus.begin(), kv.second.cpus.end());
	std::sort(all.begin(), all.end());
	all.erase(std::unique(all.begin(), all.end()), all.end());
	for (int c : all)
		out += (out.empty() ? "" : ",") + std::to_string(c);
	return out.empty() ? "?" : out;
}

/*
 * One line per contender: every variant named "shunt" or "shunt-<how>" is
 * set against the row's baseline; variants that are neither get a line of
 * their own, without a ratio.
 */
struct line {
	std::string name, base, base_fig, variant, fig, ratio, cpus;
	std::vector<const char *> notes;
};

static int
is_contender(const std::string &v)
{
	return v == "shunt" || v.compare(0, 6, "shunt-") == 0;
}

static std::vector<line>
summary_lines(int *unstable)
{
	std::vector<line> out;

	for (const row &r : rows) {
		std::string name = r.family + (r.args.empty() ? "" : "/" + r.args);
		std::string base;
		const figure *bf = NULL;
		figstat bs = {};
		int first = 1;

		if (r.variants.empty() || r.macro != NULL)
			continue;	/* filtered out, or a macro row (macro_lines) */
		for (const std::string &v : r.order) {
			if (is_baseline(v) && bf == NULL && r.variants.count(v) != 0) {
				base = v;
				bf = &r.variants.at(v);
			}
		}
		if (bf != NULL) {
			bs = stats_of(*bf);
			if (!bs.ok)
				(*unstable)++;
		}
		for (const std::string &v : r.order) {
			if (v == base || r.variants.count(v) == 0)
				continue;
			figstat vs = stats_of(r.variants.at(v));
			line l;

			if (!vs.ok)
				(*unstable)++;
			l.name = name;
			l.cpus = cpus_of(r);
			if (first)
				l.notes = r.notes;
			l.variant = v;
			l.fig = fmt_fig(vs);
			if (is_contender(v) && bf != NULL) {
				l.base = base;
				l.base_fig = fmt_fig(bs);
				if (bs.ok && vs.ok && vs.median > 0) {
					char b[32];

					snprintf(b, sizeof(b), "%.2fx", bs.median / vs.median);
					l.ratio = b;
				} else {
					l.ratio = "refused";	/* one side is unstable or failed */
				}
			} else {
				l.base = "-";
				l.base_fig = "-";
				l.ratio = "-";
			}
			out.push_back(l);
			first = 0;
		}
		if (first) {
			/* A baseline with nothing to set against it. */
			line l;

			l.name = name;
			l.cpus = cpus_of(r);
			l.notes = r.notes;
			l.base = base;
			l.base_fig = fmt_fig(bs);
			l.variant = "-";
			l.fig = "-";
			l.ratio = "-";
			out.push_back(l);
		}
	}
	return out;
}

/* ---- the macro summary: named figures, kernel and shunt side by side ---- */

struct mline {
	std::string name, fig, base, base_fig, variant, val, ratio, cpus;
	std::vector<const char *> notes;
};

static std::string
fmt_val(double v, const char *unit)
{
	char b[48];
	double a = fabs(v);

	if (a >= 100 || a == 0)
		snprintf(b, sizeof(b), "%.0f %s", v, unit);
	else if (a >= 10)
		snprintf(b, sizeof(b), "%.1f %s", v, unit);
	else
		snprintf(b, sizeof(b), "%.2f %s", v, unit);
	return b;
}

static std::string
fmt_mfig(const figstat &s, const struct bench_fig *fg)
{
	char b[96];

	if (s.n == 0)
		return s.why.empty() ? "no runs" : s.why;
	if (s.n == 1)
		return fmt_val(s.median / fg->scale, fg->unit) + " (1 run)";
	snprintf(b, sizeof(b), "%s ±%.0f%%%s", fmt_val(s.median / fg->scale, fg->unit).c_str(), s.cv * 100,
	    s.ok ? "" : " UNSTABLE");
	return b;
}

static double
fig_limit(const struct bench_fig *fg)
{
	return fg->max_cv > 0 ? fg->max_cv : max_cv;
}

/* The order of the macro table: the figures first, latency before throughput. */
static size_t
macro_rank(const std::string &family)
{
	static const char *order[] = { "tcp_rr/", "tcp_msgs", "tcp_bulk", "tcp_cps", "sockperf/", "inproc",
	    "intercept/", "conn_memory", "idle_cpu" };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (family.compare(0, strlen(order[i]), order[i]) == 0)
			return i;
	return i;
}

static std::vector<mline>
macro_lines(int *unstable, FILE *tsv)
{
	std::vector<mline> out;
	std::vector<const row *> sorted;

	for (const row &r : rows)
		sorted.push_back(&r);
	std::stable_sort(sorted.begin(), sorted.end(),
	    [](const row *a, const row *b) { return macro_rank(a->family) < macro_rank(b->family); });
	for (const row *rp : sorted) {
		const row &r = *rp;
		const struct bench_def *d = r.macro;
		std::string name = r.family + (r.args.empty() ? "" : "/" + r.args);
		std::string base;
		int k, first = 1;

		if (r.variants.empty() || d == NULL)
			continue;
		for (const std::string &v : r.order)
			if (is_baseline(v) && base.empty() && r.variants.count(v) != 0)
				base = v;
		for (k = 0; k < d->nfigs; k++) {
			const struct bench_fig *fg = &d->figs[k];
			figstat bs = {};
			bool have_base = false;

			if (!base.empty()) {
				const figure &bf = r.variants.at(base);

				if (bf.figs.count(fg->name) != 0 || !bf.error.empty()) {
					bs = stats_of_values(bf, bf.figs.count(fg->name) ? bf.figs.at(fg->name) :
					    std::vector<double>(), fig_limit(fg), true);
					have_base = true;
					if (bs.n > 1 && !bs.ok)
						(*unstable)++;
					if (tsv != NULL && bs.n > 0)
						fprintf(tsv, "%s\t%s\t%s\t%g\t%s\t%g\t%d\n", name.c_str(), fg->name,
						    base.c_str(), bs.median / fg->scale, fg->unit, bs.cv, bs.ok ? 1 : 0);
				}
			}
			int lines_here = 0;

			for (const std::string &v : r.order) {
				if (v == base || r.variants.count(v) == 0)
					continue;
				const figure &vf = r.variants.at(v);

				if (vf.figs.count(fg->name) == 0 && vf.error.empty())
					continue;	/* this variant does not have the figure */
				figstat vs = stats_of_values(vf, vf.figs.count(fg->name) ? vf.figs.at(fg->name) :
				    std::vector<double>(), fig_limit(fg), true);
				mline l;

				if (vs.n > 1 && !vs.ok)
					(*unstable)++;
				if (tsv != NULL && vs.n > 0)
					fprintf(tsv, "%s\t%s\t%s\t%g\t%s\t%g\t%d\n", name.c_str(), fg->name, v.c_str(),
					    vs.median / fg->scale, fg->unit, vs.cv, vs.ok ? 1 : 0);
				l.name = name;
				l.fig = fg->name;
				l.cpus = pins_of(r);
				if (first)
					l.notes = r.notes;
				first = 0;
				l.variant = v;
				l.val = fmt_mfig(vs, fg);
				l.base = have_base ? base : "-";
				l.base_fig = have_base ? fmt_mfig(bs, fg) : "-";
				l.ratio = "-";
				if (have_base && is_contender(v) && fg->higher_better >= 0) {
					if (bs.n > 0 && vs.n > 0 && bs.ok && vs.ok && bs.median > 0 && vs.median > 0) {
						char b[32];
						double x = fg->higher_better ? vs.median / bs.median : bs.median / vs.median;

						snprintf(b, sizeof(b), x >= 10 ? "%.1fx" : "%.2fx", x);
						l.ratio = b;
					} else if (vs.n == 0 || bs.n == 0 || bs.median == 0 || vs.median == 0) {
						l.ratio = "-";	/* nothing to divide */
					} else {
						l.ratio = "refused";
					}
				}
				out.push_back(l);
				lines_here++;
			}
			if (lines_here == 0 && have_base) {
				mline l;

				l.name = name;
				l.fig = fg->name;
				l.cpus = pins_of(r);
				if (first)
					l.notes = r.notes;
				first = 0;
				l.base = base;
				l.base_fig = fmt_mfig(bs, fg);
				l.variant = "-";
				l.val = "-";
				l.ratio = "-";
				out.push_back(l);
			}
		}
	}
	return out;
}

static void
print_macro(const std::vector<mline> &lines)
{
	std::vector<const char *> notes;

	if (lines.empty())
		return;
	printf("\n== macro figures: median of the repetitions, ± half the interquartile range over the median;\n"
	    "   ratio oriented so that > 1 means shunt is better; refused when either side's runs disagree\n");
	printf("%-28s %-7s %-9s %-24s %-13s %-24s %-8s %s\n", "benchmark", "figure", "baseline", "value", "variant",
	    "value", "ratio", "cpus srv/cli");
	for (const mline &l : lines) {
		printf("%-28s %-7s %-9s %-24s %-13s %-24s %-8s %s\n", l.name.c_str(), l.fig.c_str(), l.base.c_str(),
		    l.base_fig.c_str(), l.variant.c_str(), l.val.c_str(), l.ratio.c_str(), l.cpus.c_str());
		for (const char *n : l.notes)
			if (std::find(notes.begin(), notes.end(), n) == notes.end())
				notes.push_back(n);
	}
	for (const char *n : notes)
		printf("  note: %s\n", n);
}

static void
write_macro_markdown(FILE *f, const std::vector<mline> &lines)
{
	std::vector<const char *> notes;

	if (lines.empty())
		return;
	fprintf(f, "\nMacro figures: median of the repetitions, ± half their interquartile range over the median "
	    "(spread). Ratio > 1: shunt is better (baseline/variant for times and sizes, variant/baseline for rates); "
	    "refused when either side's spread exceeds the figure's limit (%.0f%%; p99 35%%, p99.9 50%%).\n\n",
	    max_cv * 100);
	fprintf(f, "| benchmark | figure | baseline | value | variant | value | ratio | CPUs server/client |\n");
	fprintf(f, "| --- | --- | --- | ---: | --- | ---: | ---: | --- |\n");
	for (const mline &l : lines) {
		fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", l.name.c_str(), l.fig.c_str(),
		    l.base.c_str(), l.base_fig.c_str(), l.variant.c_str(), l.val.c_str(), l.ratio.c_str(),
		    l.cpus.c_str());
		for (const char *n : l.notes)
			if (std::find(notes.begin(), notes.end(), n) == notes.end())
				notes.push_back(n);
	}
	if (!notes.empty())
		fprintf(f, "\n");
	for (const char *n : notes)
		fprintf(f, "- %s\n", n);
}

static void
print_summary(const std::vector<line> &lines, int reps)
{
	std::vector<const char *> notes;

	if (lines.empty())
		return;
	printf("\n== summary: time per item, median of %d repetitions, ± coefficient of variation;\n"
	    "   speed-up = baseline time / variant time, refused when either side's cv exceeds %.0f%%\n", reps, max_cv * 100);
	printf("%-26s %-8s %-20s %-9s %-20s %-9s %s\n", "benchmark", "baseline", "time", "variant", "time",
	    "speed-up", "cpu");
	for (const line &l : lines) {
		printf("%-26s %-8s %-20s %-9s %-20s %-9s %s\n", l.name.c_str(), l.base.c_str(), l.base_fig.c_str(),
		    l.variant.c_str(), l.fig.c_str(), l.ratio.c_str(), l.cpus.c_str());
		for (const char *n : l.notes)
			if (std::find(notes.begin(), notes.end(), n) == notes.end())
				notes.push_back(n);
	}
	for (size_t i = 0; i < notes.size(); i++)
		printf("  note: %s\n", notes[i]);
}

static std::string load_start, load_end;

/* The first three fields of /proc/loadavg: how busy the machine was with work other than ours too. */
static std::string
loadavg(void)
{
	char b[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	double a1, a5, a15;

	if (f != NULL) {
		if (fscanf(f, "%lf %lf %lf", &a1, &a5, &a15) == 3)
			snprintf(b, sizeof(b), "%.2f %.2f %.2f", a1, a5, a15);
		fclose(f);
	}
	return b;
}

static void
write_markdown(const char *path, const std::vector<line> &lines, const std::vector<mline> &mlines, int reps)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		harness_failed = 1;
		return;
	}
	fprintf(f, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n\n", load_start.c_str(),
	    load_end.c_str());
	if (!lines.empty()) {
		fprintf(f, "Time per item: median of %d repetitions, ± coefficient of variation. "
		    "Speed-up = baseline time / variant time (refused when either cv > %.0f%%).\n\n", reps, max_cv * 100);
		fprintf(f, "| benchmark | baseline | time | variant | time | speed-up | cpu |\n");
		fprintf(f, "| --- | --- | ---: | --- | ---: | ---: | --- |\n");
		std::vector<const char *> notes;

		for (const line &l : lines) {
			fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s |\n", l.name.c_str(), l.base.c_str(),
			    l.base_fig.c_str(), l.variant.c_str(), l.fig.c_str(), l.ratio.c_str(), l.cpus.c_str());
			for (const char *n : l.notes)
				if (std::find(notes.begin(), notes.end(), n) == notes.end())
					notes.push_back(n);
		}
		if (!notes.empty())
			fprintf(f, "\n");
		for (const char *n : notes)
			fprintf(f, "- %s\n", n);
	}
	write_macro_markdown(f, mlines);
	fclose(f);
}

/* ---- registration with Google Benchmark ---- */

static void
run_def(benchmark::State &st, const struct bench_def *d)
{
	struct bench_state bs = { &st, d };

	d->fn(&bs);
	/* Where the run really was (the pinning should make this bench_cpu() every time). */
	st.counters["cpu"] = benchmark::Counter((double)sched_getcpu());
}

static void
register_all(void)
{
	size_t i;
	int j, k;

	for (i = 0; i < nregistry; i++) {
		const struct bench_def *d = registry[i];
		std::string name = std::string(d->family) + "/" + d->variant;
		benchmark::internal::Benchmark *b;
		int macro = (d->flags & BENCH_F_MACRO) != 0;

		if (macro && (macro_mode == 0 || (macro_mode == 1 && !(d->flags & BENCH_F_SMOKE))))
			continue;
		def_by_name[name] = d;
		/* Rows in registration order, whatever order the interleaved runs come in. */
		for (j = 0; j < d->nargsets; j++) {
			std::string a;

			for (k = 0; k < d->nargs; k++)
				a += (k > 0 ? "/" : "") + std::to_string(d->args[j][k]);
			row_for(d->family, a, d->variant, d->note).macro = d->nfigs > 0 ? d : NULL;
		}
		if (d->nargsets == 0)
			row_for(d->family, "", d->variant, d->note).macro = d->nfigs > 0 ? d : NULL;
		b = benchmark::RegisterBenchmark(name.c_str(), [d](benchmark::State &st) { run_def(st, d); });
		for (j = 0; j < d->nargsets; j++) {
			std::vector<int64_t> args;

			for (k = 0; k < d->nargs; k++)
				args.push_back(d->args[j][k]);
			b->Args(args);
		}
		if (macro) {
			/* One run of processes per repetition; it times itself. */
			b->Iterations(1);
			b->Repetitions(macro_mode == 1 ? 1 : d->reps > 0 ? d->reps : macro_reps);
			b->UseManualTime();
			continue;
		}
		if (d->flags & BENCH_F_MANUAL_TIME)
			b->UseManualTime();
		else
			b->UseRealTime();
	}
}

static int
flag_value(const char *arg, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '\0') {
		*val = NULL;
		return 1;
	}
	if (arg[n] != '=')
		return 0;
	*val = arg + n + 1;
	return 1;
}

static void
help(void)
{
	benchmark::PrintDefaultHelp();
	fprintf(stdout, "shunt-bench flags:\n"
	    "  [--bench_cpu=N]          pin to CPU N (default: the highest allowed)\n"
	    "  [--bench_nice=N]         nice level where allowed (default -20)\n"
	    "  [--bench_max_cv=X]       refuse figures whose repetitions vary more (default 0.2)\n"
	    "  [--bench_markdown=FILE]  write the summary table as Markdown\n"
	    "  [--bench_strict]         exit nonzero when a figure is unstable\n"
	    "  [--bench_all_runs]       print every repetition, not only aggregates\n"
	    "  [--bench_macro=full|smoke|off]  multi-process benchmarks: all, the smoke subset, none\n"
	    "  [--bench_macro_reps=N]   repetitions of each macro benchmark (default 5)\n"
	    "  [--bench_macro_ms=N]     measured phase of a macro run in ms (default 500; smoke 100)\n"
	    "  [--bench_figures=FILE]   macro figures as tab-separated values (for bench/plot.sh)\n");
}

int
main(int argc, char **argv)
{
	int i, n = 1, cpu = -1, unstable = 0;
	const char *v;
	char **args = (char **)calloc((size_t)argc + 1, sizeof(char *));

	if (args == NULL)
		return 2;
	args[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (flag_value(argv[i], "--bench_cpu", &v) && v != NULL)
			cpu = atoi(v);
		else if (flag_value(argv[i], "--bench_nice", &v) && v != NULL)
			nice_level = atoi(v);
		else if (flag_value(argv[i], "--bench_max_cv", &v) && v != NULL)
			max_cv = atof(v);
		else if (flag_value(argv[i], "--bench_markdown", &v) && v != NULL)
			markdown_path = v;
		else if (flag_value(argv[i], "--bench_strict", &v))
			strict = 1;
		else if (flag_value(argv[i], "--bench_all_runs", &v))
			all_runs = 1;
		else if (flag_value(argv[i], "--bench_macro", &v) && v != NULL &&
		    (strcmp(v, "off") == 0 || strcmp(v, "smoke") == 0 || strcmp(v, "full") == 0))
			macro_mode = strcmp(v, "off") == 0 ? 0 : strcmp(v, "smoke") == 0 ? 1 : 2;
		else if (flag_value(argv[i], "--bench_macro_reps", &v) && v != NULL && atoi(v) > 0)
			macro_reps = atoi(v);
		else if (flag_value(argv[i], "--bench_macro_ms", &v) && v != NULL && atoi(v) > 0)
			macro_ms = atoi(v);
		else if (flag_value(argv[i], "--bench_figures", &v) && v != NULL)
			figures_path = v;
		else
			args[n++] = argv[i];
	}
	{
		char self[PATH_MAX];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (len > 0) {
			self[len] = '\0';
			snprintf(bin_dir, sizeof(bin_dir), "%s", dirname(self));
		}
	}
	if (macro_mode == 1 && macro_ms == 500)
		macro_ms = 100;
	benchmark::Initialize(&n, args, help);
	if (benchmark::ReportUnrecognizedArguments(n, args))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pin_process(cpu) != 0)
		return 2;
	if (setpriority(PRIO_PROCESS, 0, nice_level) == 0)
		printf("bench: running at nice %d\n", nice_level);
	else
		printf("bench: nice %d not allowed (%s): running at nice %d\n", nice_level, strerror(errno),
		    getpriority(PRIO_PROCESS, 0));
	{
		char c[16];

		snprintf(c, sizeof(c), "%d", main_cpu);
		benchmark::AddCustomContext("pinned_cpu", c);
	}
	register_all();
	load_start = loadavg();

	SummaryReporter rep;
	if (benchmark::RunSpecifiedBenchmarks(&rep) == 0)
		harness_failed = 1;	/* a filter that matches nothing is a typo, not a pass */

	int reps = 1;
	for (const row &r : rows)
		for (const auto &kv : r.variants)
			reps = std::max(reps, (int)kv.second.ns.size());
	load_end = loadavg();
	printf("bench: load average at the start %s, at the end %s\n", load_start.c_str(), load_end.c_str());
	std::vector<line> lines = summary_lines(&unstable);
	FILE *tsv = NULL;

	if (figures_path != NULL && (tsv = fopen(figures_path, "w")) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", figures_path, strerror(errno));
		harness_failed = 1;
	}
	if (tsv != NULL)
		fprintf(tsv, "# benchmark\tfigure\tvariant\tmedian\tunit\tcv\tok\n");
	std::vector<mline> mlines = macro_lines(&unstable, tsv);
	if (tsv != NULL)
		fclose(tsv);
	print_summary(lines, reps);
	print_macro(mlines);
	if (markdown_path != NULL)
		write_markdown(markdown_path, lines, mlines, reps);
	for (size_t k = 0; k < nregistry; k++) {
		size_t m;

		/* Several entries share one fini; call each once. */
		for (m = 0; m < k; m++)
			if (registry[m]->fini == registry[k]->fini)
				break;
		if (m == k && registry[k]->fini != NULL)
			registry[k]->fini();
	}
	benchmark::Shutdown();
	free(args);
	if (harness_failed) {
		printf("bench: FAILED (errors above)\n");
		return 1;
	}
	if (unstable > 0) {
		printf("bench: %d figure(s) unstable%s\n", unstable, strict ? ": failing (--bench_strict)" : "");
		if (strict)
			return 1;
	}
	return 0;
}
