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
 */
#include <benchmark/benchmark.h>

#include <errno.h>
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
static const char *markdown_path;

struct figure {
	std::vector<double> ns;		/* time per item of each repetition */
	std::vector<int> cpus;
	std::string error;
};

struct row {
	std::string family, args;
	std::map<std::string, figure> variants;
	std::vector<std::string> order;	/* variants in registration order (some may not have run) */
	std::vector<const char *> notes;
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
			harness_failed = 1;
			f.error = r.error_message;
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

static figstat
stats_of(const figure &f)
{
	figstat s = { 0, 0, 0, false, "" };
	std::vector<double> v = f.ns;
	double mean = 0, var = 0;

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
	s.ok = s.cv <= max_cv;
	if (!s.ok) {
		char b[64];

		snprintf(b, sizeof(b), "unstable (cv %.0f%%)", s.cv * 100);
		s.why = b;
	}
	return s;
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

		if (r.variants.empty())
			continue;	/* filtered out */
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

static void
print_summary(const std::vector<line> &lines, int reps)
{
	std::vector<const char *> notes;

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

static void
write_markdown(const char *path, const std::vector<line> &lines, int reps)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		harness_failed = 1;
		return;
	}
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

		def_by_name[name] = d;
		/* Rows in registration order, whatever order the interleaved runs come in. */
		for (j = 0; j < d->nargsets; j++) {
			std::string a;

			for (k = 0; k < d->nargs; k++)
				a += (k > 0 ? "/" : "") + std::to_string(d->args[j][k]);
			row_for(d->family, a, d->variant, d->note);
		}
		if (d->nargsets == 0)
			row_for(d->family, "", d->variant, d->note);
		b = benchmark::RegisterBenchmark(name.c_str(), [d](benchmark::State &st) { run_def(st, d); });
		for (j = 0; j < d->nargsets; j++) {
			std::vector<int64_t> args;

			for (k = 0; k < d->nargs; k++)
				args.push_back(d->args[j][k]);
			b->Args(args);
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
	    "  [--bench_all_runs]       print every repetition, not only aggregates\n");
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
		else
			args[n++] = argv[i];
	}
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

	SummaryReporter rep;
	if (benchmark::RunSpecifiedBenchmarks(&rep) == 0)
		harness_failed = 1;	/* a filter that matches nothing is a typo, not a pass */

	int reps = 1;
	for (const row &r : rows)
		for (const auto &kv : r.variants)
			reps = std::max(reps, (int)kv.second.ns.size());
	std::vector<line> lines = summary_lines(&unstable);
	print_summary(lines, reps);
	if (markdown_path != NULL)
		write_markdown(markdown_path, lines, reps);
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
