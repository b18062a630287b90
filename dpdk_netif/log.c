/*
 * DPDK's log stream, redirected: the EAL and the PMDs write to a FILE; we
 * give them one whose writes go to a callback of the embedding program (the
 * preload shim shows them only when asked), so a program under shunt never
 * finds DPDK's messages on its own stderr.
 */
#include <stdio.h>
#include <string.h>
#include <rte_log.h>
#include <shunt/dpdk.h>

struct log_sink {
	shunt_dpdk_log_fn fn;
	void *arg;
	char line[512];
	size_t len;
};

/* The one sink: DPDK's log stream is itself process-wide. */
static struct log_sink sink;

static ssize_t
sink_write(void *cookie, const char *buf, size_t size)
{
	struct log_sink *s = cookie;
	size_t i;

	for (i = 0; i < size; i++) {
		if (buf[i] == '\n' || s->len == sizeof(s->line) - 1) {
			s->line[s->len] = '\0';
			if (s->len > 0 && s->fn != NULL)
				s->fn(s->line, s->arg);
			s->len = 0;
			if (buf[i] == '\n')
				continue;
		}
		s->line[s->len++] = buf[i];
	}
	return (ssize_t)size;
}

int
shunt_dpdk_set_log(shunt_dpdk_log_fn fn, void *arg)
{
	static const cookie_io_functions_t io = { .write = sink_write };
	FILE *f;

	sink.fn = fn;
	sink.arg = arg;
	sink.len = 0;
	f = fopencookie(&sink, "w", io);
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	return rte_openlog_stream(f);
}
