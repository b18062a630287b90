/*
 * The real libc functions behind every wrapper, found with dlsym(RTLD_NEXT)
 * once each: eagerly in the constructor, lazily if a wrapper runs first (a
 * library constructor calling socket() before ours).  dlsym may allocate, and
 * allocation never re-enters a socket call, so no recursion guard is needed
 * beyond resolving each name once.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "shim.h"

struct real_fns shim_real;

void *
shim_resolve(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		/* Not in this libc (e.g. epoll_pwait2 on an old one): a wrapper calling it gets ENOSYS. */
		static const char msg[] = "shunt: a libc function is missing; that call will fail\n";

		(void)!write(2, msg, sizeof(msg) - 1);
	}
	return p;
}

void
shim_resolve_all(void)
{
#define RESOLVE(name, ret, params, args) \
	if (shim_real.name == NULL) \
		shim_real.name = (__typeof__(shim_real.name))dlsym(RTLD_NEXT, #name);
	SHUNT_CALLS(RESOLVE)
#undef RESOLVE
}
