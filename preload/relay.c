/*
 * Connections shared with a forked child: the compatibility path for forking
 * servers (fork per connection), not a fast path.
 *
 * A child never drives the parent's stack.  So at fork() each connected TCP
 * shunt socket gets a Unix socketpair; in the child the descriptor becomes
 * the pair's far end, a kernel socket it can read, write, poll and close
 * like any other.  The parent keeps using the shunt socket as before.  When
 * the parent closes its descriptor (what a forking server does right after
 * fork), two relay threads start moving bytes between the shunt connection
 * and the near end, each direction on its own, passing half-closes along; when
 * both directions are done the shunt socket is closed.  If the parent never
 * closes it, the child's end simply carries nothing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shim.h"

struct relay {
	int sfd;		/* the shunt socket (the relay owns it now) */
	int ufd;		/* our end of the socketpair */
	int done;		/* directions finished, under shim.lock */
};

static void
relay_finish(struct relay *r)
{
	int last;

	pthread_mutex_lock(&shim.lock);
	last = ++r->done == 2;
	pthread_mutex_unlock(&shim.lock);
	if (!last)
		return;
	shunt_close(shim.sys, r->sfd);
	REAL(close)(r->ufd);
	free(r);
}

/* Network to child. */
static void *
relay_down(void *arg)
{
	struct relay *r = arg;
	char buf[65536];

	shim_busy = 1;
	for (;;) {
		ssize_t n = shunt_recv(shim.sys, r->sfd, buf, sizeof(buf), 0), off = 0;

		if (n <= 0) {
			/* The peer's FIN (or reset): the child reads end of stream. */
			shutdown(r->ufd, SHUT_WR);
			break;
		}
		while (off < n) {
			ssize_t w = REAL(write)(r->ufd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;	/* the child is gone: stop reading for it */
			off += w;
		}
	}
out:
	relay_finish(r);
	return NULL;
}

/* Child to network. */
static void *
relay_up(void *arg)
{
	struct relay *r = arg;
	char buf[65536];

	shim_busy = 1;
	for (;;) {
		ssize_t n = REAL(read)(r->ufd, buf, sizeof(buf)), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The child closed or shut down writing: so do we. */
			shunt_shutdown(shim.sys, r->sfd, SHUT_WR);
			break;
		}
		while (off < n) {
			ssize_t w = shunt_send(shim.sys, r->sfd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	relay_finish(r);
	return NULL;
}

int
shim_relay_start(int sfd, int ufd)
{
	struct relay *r = calloc(1, sizeof(*r));
	pthread_attr_t at;
	sigset_t all, old;
	pthread_t t;
	int fl;

	if (r == NULL)
		return -1;
	r->sfd = sfd;
	r->ufd = ufd;
	/* The relay blocks; whatever the program had set on the socket does not apply any more. */
	fl = shunt_fcntl(shim.sys, sfd, F_GETFL, 0);
	if (fl >= 0)
		shunt_fcntl(shim.sys, sfd, F_SETFL, fl & ~O_NONBLOCK);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* Relay threads never take the program's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, &at, relay_down, r) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&at);
		free(r);
		return -1;
	}
	if (pthread_create(&t, &at, relay_up, r) != 0)
		relay_finish(r);	/* one direction only: the other counts as done */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	shim_log(LOG_INFO, "fd %d: the parent let go; relaying it for a forked child", sfd);
	return 0;
}
