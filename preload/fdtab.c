/*
 * Which way each descriptor goes.  One byte per descriptor, read with one
 * atomic load on every intercepted call, so a program's kernel descriptors pay
 * a load and a branch for being under shunt.  The byte table is reserved for
 * the process's descriptor limit but only touched pages cost memory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "shim.h"

_Atomic(uint8_t) *shim_fdk;
struct fdinfo **shim_fdi;
int shim_maxfd;

__attribute__((constructor(101))) static void
fdtab_init(void)
{
	struct rlimit rl;
	size_t n = 1 << 20;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		n = rl.rlim_max;
	shim_fdk = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	shim_fdi = mmap(NULL, n * sizeof(*shim_fdi), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (shim_fdk == MAP_FAILED || shim_fdi == MAP_FAILED) {
		shim_fdk = NULL;
		shim_fdi = NULL;
		return;
	}
	shim_maxfd = (int)n;
}

void
fd_set_kind(int fd, enum fd_kind k, struct fdinfo *fi)
{
	if ((unsigned)fd >= (unsigned)shim_maxfd || shim_fdk == NULL)
		return;
	shim_fdi[fd] = fi;
	atomic_store_explicit(&shim_fdk[fd], (uint8_t)k, memory_order_release);
}

struct fdinfo *
fd_info(int fd)
{
	if ((unsigned)fd >= (unsigned)shim_maxfd || shim_fdk == NULL)
		return NULL;
	return shim_fdi[fd];
}

struct fdinfo *
fdinfo_new(int domain, int type, int protocol)
{
	struct fdinfo *fi = calloc(1, sizeof(*fi));

	if (fi == NULL)
		return NULL;
	fi->refs = 1;
	fi->domain = domain;
	fi->type = type;
	fi->protocol = protocol;
	fi->sfd = -1;
	fi->sep = -1;
	fi->relay_fd = -1;
	return fi;
}

void
fdinfo_put(struct fdinfo *fi)
{
	if (fi != NULL && --fi->refs == 0) {
		if (fi->relay_fd >= 0)
			REAL(close)(fi->relay_fd);
		free(fi);
	}
}
