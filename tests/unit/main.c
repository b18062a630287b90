/*
 * Unit-test runner: forks one child per test (optionally filtered by
 * substring arguments), reports each, and ends with the summary line.
 */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"

#define MAX_TESTS 4096
#define EXIT_SKIP 77

struct test_entry {
	const char *name;
	const char *file;
	test_fn fn;
};

static struct test_entry tests[MAX_TESTS];
static int ntests;

void
test_register(const char *name, test_fn fn, const char *file)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].file = file;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

void
test_skip(const char *why)
{
	fprintf(stderr, "    skipped: %s\n", why);
	fflush(stderr);
	exit(EXIT_SKIP);
}

static int
selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 1)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0, i;
	unsigned timeout = 300;
	const char *t = getenv("SHUNT_TEST_TIMEOUT");

	if (t != NULL)
		timeout = (unsigned)atoi(t);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < ntests; i++) {
		struct timespec a, b;
		pid_t pid;
		int st;
		double ms;

		if (!selected(tests[i].name, argc, argv))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &a);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			alarm(timeout);
			tests[i].fn();
			fflush(stdout);
			exit(0);
		}
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("PASS %s (%.0f ms)\n", tests[i].name, ms);
			passed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SKIP) {
			printf("SKIP %s\n", tests[i].name);
			skipped++;
		} else {
			if (WIFSIGNALED(st))
				printf("FAIL %s (signal %d%s)\n", tests[i].name, WTERMSIG(st),
				    WTERMSIG(st) == SIGALRM ? ", timed out" : "");
			else
				printf("FAIL %s (%s)\n", tests[i].name, tests[i].file);
			failed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed != 0;
}
