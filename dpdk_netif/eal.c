/*
 * The DPDK environment of the process (EAL): started once from a string of
 * arguments, torn down last.  Below: rte_eal_init / rte_eal_cleanup.  Above:
 * the application or the preload shim, before it creates any DPDK netif
 * (port.c).
 *
 * Nothing here exits the process: rte_eal_init reports failure by return
 * value, and so do we, with one line of text for the user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include "dpdk_priv.h"

struct dpdk_proc dpdk_proc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

int
dpdk_error(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * Splits s in place into words at blanks; '...' and "..." group (for vdev
 * arguments that hold commas or paths).  Returns the word count, or -1 if a
 * quote is left open.  argv has room for max words.
 */
static int
split_args(char *s, char **argv, int max)
{
	int argc = 0;
	char *r = s, *w = s;

	for (;;) {
		char quote = 0;

		while (*r == ' ' || *r == '\t' || *r == '\n')
			r++;
		if (*r == '\0')
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = w;
		while (*r != '\0' && (quote != 0 || (*r != ' ' && *r != '\t' && *r != '\n'))) {
			if (quote == 0 && (*r == '\'' || *r == '"')) {
				quote = *r++;
			} else if (quote != 0 && *r == quote) {
				quote = 0;
				r++;
			} else {
				*w++ = *r++;
			}
		}
		if (quote != 0)
			return -1;
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
}

int
shunt_dpdk_eal_init(const char *eal_args, char *errbuf, size_t errlen)
{
	struct dpdk_proc *pr = &dpdk_proc;
	char *buf = NULL;
	char **argv = NULL;
	int argc, max, rc, err;

	if (eal_args == NULL)
		eal_args = "";
	pthread_mutex_lock(&pr->lock);
	if (pr->state == DPDK_EAL_UP) {
		err = dpdk_error(errbuf, errlen, -EALREADY, "DPDK EAL already initialised in this process");
		goto out;
	}
	if (pr->state == DPDK_EAL_DONE || pr->state == DPDK_EAL_FAILED) {
		err = dpdk_error(errbuf, errlen, -EPERM, "DPDK EAL %s; it cannot start again in this process",
		    pr->state == DPDK_EAL_DONE ? "was cleaned up" : "failed to start earlier");
		goto out;
	}
	/* A word needs at least two characters of the string (itself and a blank). */
	max = (int)(strlen(eal_args) / 2) + 2;
	buf = malloc(strlen("shunt") + 1 + strlen(eal_args) + 1);
	argv = calloc((size_t)max + 2, sizeof(*argv));
	if (buf == NULL || argv == NULL) {
		err = dpdk_error(errbuf, errlen, -ENOMEM, "out of memory for the EAL arguments");
		goto out;
	}
	strcpy(buf, "shunt");
	argv[0] = buf;
	strcpy(buf + 6, eal_args);
	argc = split_args(buf + 6, argv + 1, max);
	if (argc < 0) {
		err = dpdk_error(errbuf, errlen, -EINVAL, "EAL arguments: unbalanced quote in \"%s\"", eal_args);
		goto out;
	}
	argc++;
	/* rte_eal_init permutes argv: keep the strings, and the array, for the EAL's lifetime. */
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		int e = rte_errno > 0 ? rte_errno : EINVAL;

		if (e == EALREADY) {
			/* The application started DPDK itself: use its EAL. */
			pr->state = DPDK_EAL_UP;
			pr->iova_va = rte_eal_iova_mode() == RTE_IOVA_VA;
			err = dpdk_error(errbuf, errlen, -EALREADY, "DPDK EAL already initialised by the application");
			goto out;
		}
		/* rte_eal_init runs once per process, successful or not. */
		pr->state = DPDK_EAL_FAILED;
		err = dpdk_error(errbuf, errlen, -e, "rte_eal_init(\"%s\") failed: %s (see the EAL's messages above)",
		    eal_args, rte_strerror(e));
		goto out;
	}
	if (rc != argc - 1) {
		/*
		 * Words the EAL did not consume are not ours to guess at; the EAL
		 * is up regardless, so the process must not call init again.
		 */
		pr->state = DPDK_EAL_UP;
		pr->argbuf = buf;
		pr->argv = argv;
		pthread_mutex_unlock(&pr->lock);
		return dpdk_error(errbuf, errlen, -EINVAL, "EAL arguments: \"%s\" is not an EAL option", argv[rc + 1]);
	}
	pr->state = DPDK_EAL_UP;
	pr->iova_va = rte_eal_iova_mode() == RTE_IOVA_VA;
	pr->argbuf = buf;
	pr->argv = argv;
	pthread_mutex_unlock(&pr->lock);
	return 0;
out:
	pthread_mutex_unlock(&pr->lock);
	free(buf);
	free(argv);
	return err;
}

void
dpdk_pool_release(struct rte_mempool *mp)
{
	struct dpdk_proc *pr = &dpdk_proc;

	if (mp == NULL)
		return;
	if (rte_mempool_full(mp)) {
		rte_mempool_free(mp);
		return;
	}
	pthread_mutex_lock(&pr->lock);
	if (pr->ngraves < DPDK_MAX_GRAVES)
		pr->graves[pr->ngraves++] = mp;
	/* else: leak the pool rather than free it under live mbufs. */
	pthread_mutex_unlock(&pr->lock);
}

void
shunt_dpdk_fini(void)
{
	struct dpdk_proc *pr = &dpdk_proc;
	int i;

	pthread_mutex_lock(&pr->lock);
	if (pr->state != DPDK_EAL_UP) {
		pthread_mutex_unlock(&pr->lock);
		return;
	}
	for (i = 0; i < pr->ngraves; i++)
		rte_mempool_free(pr->graves[i]);
	pr->ngraves = 0;
	rte_eal_cleanup();
	pr->state = DPDK_EAL_DONE;
	free(pr->argv);
	free(pr->argbuf);
	pr->argv = NULL;
	pr->argbuf = NULL;
	pthread_mutex_unlock(&pr->lock);
}
