/*
 * shunt-callcost: what a call on a kernel descriptor costs, to be run once
 * plainly and once under the preload shim (LD_PRELOAD=libshunt-preload.so);
 * bench/intercept.c does both and takes the difference.
 *
 * Each round times a batch of libc calls on a pipe -- fcntl(F_GETFL) and a
 * zero-byte read(), which the shim intercepts -- and a batch of the same
 * system calls made through syscall(2), which it does not.  Batches
 * alternate within one process, so the difference libc - syscall() cancels
 * the machine's drift; between the plain and the preloaded process it is
 * the shim's price per call.
 *
 *   shunt-callcost [--rounds N]
 * prints: result rounds=N batch=B fcntl=ns fcntl_sys=ns read=ns read_sys=ns
 * (medians over the rounds, per call).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define BATCH		64
#define ROUNDS		4000

enum { T_FCNTL, T_FCNTL_SYS, T_READ, T_READ_SYS, NT };

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One batch of one kind; returns ns per call.  The results feed sink so that no call is dropped. */
static double
batch(int kind, int fd, long *sink)
{
	char b;
	uint64_t t0 = now_ns();
	long acc = 0;
	int i;

	switch (kind) {
	case T_FCNTL:
		for (i = 0; i < BATCH; i++)
			acc += fcntl(fd, F_GETFL);
		break;
	case T_FCNTL_SYS:
		for (i = 0; i < BATCH; i++)
			acc += syscall(SYS_fcntl, fd, F_GETFL);
		break;
	case T_READ:
		for (i = 0; i < BATCH; i++)
			acc += read(fd, &b, 0);
		break;
	case T_READ_SYS:
		for (i = 0; i < BATCH; i++)
			acc += syscall(SYS_read, fd, &b, 0);
		break;
	}
	*sink += acc;
	return (double)(now_ns() - t0) / BATCH;
}

int
main(int argc, char **argv)
{
	static const char *names[NT] = { "fcntl", "fcntl_sys", "read", "read_sys" };
	int rounds = ROUNDS, p[2], r, k;
	double *v[NT];
	long sink = 0;

	if (argc == 3 && strcmp(argv[1], "--rounds") == 0)
		rounds = atoi(argv[2]);
	if (rounds < 10 || pipe(p) != 0) {
		fprintf(stderr, "usage: shunt-callcost [--rounds N>=10]\n");
		return 2;
	}
	for (k = 0; k < NT; k++)
		if ((v[k] = calloc((size_t)rounds, sizeof(double))) == NULL)
			return 1;
	/* Warm up the paths (and the shim's lazy symbol resolution). */
	for (k = 0; k < NT; k++)
		batch(k, p[0], &sink);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < NT; k++) {
			/* Rotate the order, so that no kind always follows the same one. */
			int kind = (k + r) % NT;

			v[kind][r] = batch(kind, p[0], &sink);
		}
	printf("result rounds=%d batch=%d", rounds, BATCH);
	for (k = 0; k < NT; k++) {
		qsort(v[k], (size_t)rounds, sizeof(double), cmp_dbl);
		printf(" %s=%.2f", names[k], v[k][rounds / 2]);
	}
	printf(" sink=%ld\n", sink);
	return 0;
}
