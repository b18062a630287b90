/*
 * Logging for the shim: one line per event on stderr (or SHUNT_LOG_FILE),
 * written with the real write() so that logging never re-enters a wrapper.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "shim.h"

static int log_fd = 2;

void
shim_log(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (level > shim.cfg.loglevel)
		return;
	n = snprintf(buf, sizeof(buf), "shunt[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!REAL(write)(log_fd, buf, (size_t)n);
}

void shim_log_set_fd(int fd);

void
shim_log_set_fd(int fd)
{
	log_fd = fd;
}
