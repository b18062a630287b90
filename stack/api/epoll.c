/*
 * Readiness: epoll instances, poll and select over shunt sockets, mixed with
 * kernel descriptors.  Below: the netconns' readiness (nc_poll_events) and the
 * events they publish (sock_event).  Above: socket.c's callers, the preload.
 *
 * Sockets push themselves onto the ready lists of the epoll instances that
 * watch them when their state changes (as Linux's ep_poll_callback does), so
 * epoll_wait never scans the sockets it watches: waiting on 10,000 sockets
 * costs what the ready ones cost.  Each instance's descriptor is an eventfd
 * that is readable while its ready list is non-empty, so a kernel epoll, poll
 * or select can wait on shunt sockets through it.  poll() and select() build
 * a temporary instance for the duration of the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "priv/api.h"
#include "priv/stack.h"

#define EV_FLAGS	(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

static inline uint32_t
item_mask(const struct epitem *it)
{
	return (it->events & ~EV_FLAGS) | EPOLLERR | EPOLLHUP;
}

static void
efd_arm(struct shunt_epoll *ep)
{
	uint64_t one = 1;

	if (ep->efd >= 0 && !ep->efd_armed) {
		ep->efd_armed = 1;
		if (write(ep->efd, &one, sizeof(one)) < 0)
			ep->efd_armed = 0;
	}
}

static void
efd_drain(struct shunt_epoll *ep)
{
	uint64_t v;

	if (ep->efd >= 0 && ep->efd_armed) {
		ep->efd_armed = 0;
		if (read(ep->efd, &v, sizeof(v)) < 0)
			ep->efd_armed = 0;
	}
}

static void
ready_add(struct shunt_epoll *ep, struct epitem *it)
{
	int was_empty = ep->ready == NULL;

	it->ready = 1;
	it->rd_next = NULL;
	it->rd_pprev = ep->ready_tail;
	*ep->ready_tail = it;
	ep->ready_tail = &it->rd_next;
	if (was_empty) {
		efd_arm(ep);
		/* An instance inside another instance is ready now. */
		if (ep->self != NULL && ep->self->items != NULL)
			sock_event(ep->self, EPOLLIN | EPOLLRDNORM);
	}
	waitq_wake(&ep->wq);
}

static void
ready_del(struct shunt_epoll *ep, struct epitem *it)
{
	if (!it->ready)
		return;
	it->ready = 0;
	if (it->rd_next != NULL)
		it->rd_next->rd_pprev = it->rd_pprev;
	else
		ep->ready_tail = it->rd_pprev;
	*it->rd_pprev = it->rd_next;
	it->rd_next = NULL;
	it->rd_pprev = NULL;
}

/* Does this event concern the watcher: the kind it asked for (key 0: any), and ready now? */
static int
item_hears(const struct epitem *it, uint32_t rev, uint32_t key)
{
	uint32_t m = item_mask(it);

	return !it->disabled && (key == 0 || (key & m)) && (rev & m);
}

static void
item_signal(struct epitem *it)
{
	if (!it->ready)
		ready_add(it->ep, it);
	else
		waitq_wake(&it->ep->wq);
}

/*
 * A socket's readiness may have changed (key: what happened).  As Linux's
 * ep_poll_callback runs through a wait queue: every plain watcher hears it;
 * exclusive ones in turn, until one whose instance has a thread waiting in
 * epoll_wait took the wake-up.  With nobody waiting, all of them hear it.
 */
void
sock_event(struct shunt_sock *sk, uint32_t key)
{
	uint32_t rev;
	struct epitem *it;

	if (sk == NULL || sk->items == NULL)
		return;
	rev = sock_poll_events(sk);
	for (it = sk->items; it != NULL; it = it->sk_next)
		if (!(it->events & EPOLLEXCLUSIVE) && item_hears(it, rev, key))
			item_signal(it);
	for (it = sk->items; it != NULL; it = it->sk_next) {
		if (!(it->events & EPOLLEXCLUSIVE) || !item_hears(it, rev, key))
			continue;
		item_signal(it);
		if (it->ep->nwaiters > 0)
			break;
	}
}

static struct epitem *
item_find(struct shunt_epoll *ep, struct shunt_sock *sk)
{
	struct epitem *it;

	for (it = sk->items; it != NULL; it = it->sk_next)
		if (it->ep == ep)
			return it;
	return NULL;
}

static void
item_unlink(struct epitem *it)
{
	struct epitem **pp;

	ready_del(it->ep, it);
	for (pp = &it->sk->items; *pp != NULL; pp = &(*pp)->sk_next) {
		if (*pp == it) {
			*pp = it->sk_next;
			break;
		}
	}
	for (pp = &it->ep->items; *pp != NULL; pp = &(*pp)->ep_next) {
		if (*pp == it) {
			*pp = it->ep_next;
			break;
		}
	}
	it->ep->nitems--;
	if (it->ep->ready == NULL)
		efd_drain(it->ep);
}

void
epoll_sock_gone(struct shunt_sock *sk)
{
	/* A closed socket leaves every instance that watched it (close() removes it, as on Linux). */
	while (sk->items != NULL) {
		struct epitem *it = sk->items;

		item_unlink(it);
		free(it);
	}
}

static void
ep_free(struct shunt_epoll *ep)
{
	while (ep->items != NULL) {
		struct epitem *it = ep->items;

		item_unlink(it);
		free(it);
	}
	if (ep->efd >= 0 && ep->self == NULL)
		close(ep->efd);
	free(ep);
}

void
epoll_destroy(struct shunt_sys *sys, struct shunt_epoll *ep)
{
	(void)sys;
	ep->closed = 1;
	ep->self = NULL;
	waitq_wake(&ep->wq);
	if (--ep->refs == 0) {
		while (ep->items != NULL) {
			struct epitem *it = ep->items;

			item_unlink(it);
			free(it);
		}
		free(ep);
	}
}

static struct shunt_epoll *
ep_new(int efd)
{
	struct shunt_epoll *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		return NULL;
	ep->efd = efd;
	ep->ready_tail = &ep->ready;
	ep->refs = 1;
	waitq_init(&ep->wq);
	return ep;
}

int
shunt_epoll_create1(struct shunt_sys *sys, int flags)
{
	struct shunt_sock *sk;
	struct shunt_epoll *ep;
	int fd, r;

	if (flags & ~EPOLL_CLOEXEC)
		return set_errno_ret(-EINVAL);
	fd = eventfd(0, EFD_NONBLOCK | ((flags & EPOLL_CLOEXEC) ? EFD_CLOEXEC : 0));
	if (fd < 0)
		return -1;
	sk = calloc(1, sizeof(*sk));
	ep = ep_new(fd);
	if (sk == NULL || ep == NULL) {
		free(sk);
		free(ep);
		close(fd);
		return set_errno_ret(-ENOMEM);
	}
	sk->fd = fd;
	sk->own_fd = 1;
	sk->kind = SOCK_KIND_EPOLL;
	sk->ep = ep;
	ep->self = sk;
	pthread_mutex_lock(&sys->lock);
	r = sock_install(sys, sk);
	pthread_mutex_unlock(&sys->lock);
	if (r != 0) {
		free(sk);
		free(ep);
		close(fd);
		return set_errno_ret(r);
	}
	return fd;
}

static int
item_add(struct shunt_epoll *ep, struct shunt_sock *sk, int fd, const struct epoll_event *ev)
{
	struct epitem *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return -ENOMEM;
	it->ep = ep;
	it->sk = sk;
	it->fd = fd;
	it->events = ev->events;
	it->data = ev->data;
	it->sk_next = sk->items;
	sk->items = it;
	it->ep_next = ep->items;
	ep->items = it;
	ep->nitems++;
	/* Already ready: report it at the next wait (Linux checks at insertion too). */
	if (sock_poll_events(sk) & item_mask(it))
		ready_add(ep, it);
	return 0;
}

int
shunt_epoll_ctl(struct shunt_sys *sys, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct shunt_sock *esk, *sk;
	struct shunt_epoll *ep;
	struct epitem *it;
	int r = 0;

	pthread_mutex_lock(&sys->lock);
	esk = sock_lookup(sys, epfd);
	sk = sock_lookup(sys, fd);
	if (esk == NULL) {
		r = -EBADF;
		goto out;
	}
	if (esk->kind != SOCK_KIND_EPOLL || fd == epfd) {
		r = -EINVAL;
		goto out;
	}
	if (sk == NULL) {
		/* A kernel descriptor: only a kernel epoll can watch it (the preload shim mixes them). */
		r = fcntl(fd, F_GETFD) < 0 ? -EBADF : -EPERM;
		goto out;
	}
	ep = esk->ep;
	it = item_find(ep, sk);
	if (op != EPOLL_CTL_DEL && ev == NULL) {
		r = -EFAULT;
		goto out;
	}
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it != NULL) {
			r = -EEXIST;
			break;
		}
		if ((ev->events & EPOLLEXCLUSIVE) && ((ev->events & EPOLLONESHOT) || sk->kind == SOCK_KIND_EPOLL)) {
			r = -EINVAL;
			break;
		}
		if (sk->kind == SOCK_KIND_EPOLL && item_find(sk->ep, esk) != NULL) {
			r = -ELOOP;
			break;
		}
		r = item_add(ep, sk, fd, ev);
		break;
	case EPOLL_CTL_MOD:
		if (it == NULL) {
			r = -ENOENT;
			break;
		}
		if ((ev->events & EPOLLEXCLUSIVE) || (it->events & EPOLLEXCLUSIVE)) {
			r = -EINVAL;
			break;
		}
		it->events = ev->events;
		it->data = ev->data;
		it->disabled = 0;
		ready_del(ep, it);
		if (sock_poll_events(sk) & item_mask(it))
			ready_add(ep, it);
		else if (ep->ready == NULL)
			efd_drain(ep);
		break;
	case EPOLL_CTL_DEL:
		if (it == NULL) {
			r = -ENOENT;
			break;
		}
		item_unlink(it);
		free(it);
		break;
	default:
		r = -EINVAL;
		break;
	}
out:
	pthread_mutex_unlock(&sys->lock);
	return set_errno_ret(r);
}

/* Reports ready items; level-triggered ones go back to the tail for the next wait. */
static int
ep_collect(struct shunt_epoll *ep, struct epoll_event *events, int max)
{
	struct epitem *it, *end = NULL;
	int n = 0;

	while ((it = ep->ready) != NULL && it != end && n < max) {
		uint32_t rev;

		ready_del(ep, it);
		rev = sock_poll_events(it->sk) & item_mask(it);
		if (rev == 0 || it->disabled)
			continue;
		events[n].events = rev;
		events[n].data = it->data;
		n++;
		if (it->events & EPOLLONESHOT) {
			it->disabled = 1;
		} else if (!(it->events & EPOLLET)) {
			ready_add(ep, it);
			if (end == NULL)
				end = it;	/* each item once per call */
		}
	}
	if (ep->ready == NULL)
		efd_drain(ep);
	return n;
}

/* The epoll instance behind epfd, with the lock taken; NULL (lock released, errno set) if there is none. */
static struct shunt_epoll *
ep_lock(struct shunt_sys *sys, int epfd)
{
	struct shunt_sock *esk;

	pthread_mutex_lock(&sys->lock);
	esk = sock_lookup(sys, epfd);
	if (esk == NULL || esk->kind != SOCK_KIND_EPOLL) {
		pthread_mutex_unlock(&sys->lock);
		set_errno_ret(esk == NULL ? -EBADF : -EINVAL);
		return NULL;
	}
	return esk->ep;
}

int
shunt_epoll_pwait(struct shunt_sys *sys, int epfd, struct epoll_event *events, int maxevents, int timeout_ms,
    const sigset_t *sigmask)
{
	struct shunt_epoll *ep;
	sigset_t old;
	uint64_t deadline = timeout_ms > 0 ? sys_now() + (uint64_t)timeout_ms * 1000000ull : 0;
	int n = 0, r;

	if (maxevents <= 0)
		return set_errno_ret(-EINVAL);
	if (events == NULL)
		return set_errno_ret(-EFAULT);
	ep = ep_lock(sys, epfd);
	if (ep == NULL)
		return -1;
	ep->refs++;
	if (sigmask != NULL)
		pthread_sigmask(SIG_SETMASK, sigmask, &old);
	for (;;) {
		n = ep_collect(ep, events, maxevents);
		if (n > 0 || timeout_ms == 0)
			break;
		if (ep->closed) {
			n = -EBADF;
			break;
		}
		ep->nwaiters++;
		r = sys_wait(sys, &ep->wq, deadline, 1);
		ep->nwaiters--;
		if (r == -EINTR) {
			n = -EINTR;
			break;
		}
		if (r == -ETIMEDOUT) {
			n = ep_collect(ep, events, maxevents);
			break;
		}
	}
	if (sigmask != NULL)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (--ep->refs == 0)
		ep_free(ep);
	netif_flush_all(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	return set_errno_ret(n);
}

int
shunt_epoll_waiting(struct shunt_sys *sys, int epfd, int delta)
{
	struct shunt_epoll *ep = ep_lock(sys, epfd);

	if (ep == NULL)
		return -1;
	if (delta > 0)
		ep->nwaiters++;
	else if (delta < 0 && ep->nwaiters > 0)
		ep->nwaiters--;
	pthread_mutex_unlock(&sys->lock);
	return 0;
}

int
shunt_epoll_wait(struct shunt_sys *sys, int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
	return shunt_epoll_pwait(sys, epfd, events, maxevents, timeout_ms, NULL);
}

/* ---- poll and select ---- */

static int
kernel_poll_now(struct pollfd *fds, nfds_t nfds, const char *is_shunt)
{
	struct pollfd stackbuf[64], *k = stackbuf;
	nfds_t i, nk = 0, j = 0;
	int r;

	for (i = 0; i < nfds; i++)
		nk += !is_shunt[i];
	if (nk == 0)
		return 0;
	if (nk > 64 && (k = malloc(nk * sizeof(*k))) == NULL)
		return -ENOMEM;
	for (i = 0; i < nfds; i++)
		if (!is_shunt[i])
			k[j++] = fds[i];
	r = poll(k, nk, 0);
	for (i = 0, j = 0; i < nfds; i++)
		if (!is_shunt[i])
			fds[i].revents = k[j++].revents;
	if (k != stackbuf)
		free(k);
	return r < 0 ? -errno : 0;
}

static int
count_ready(struct shunt_sys *sys, struct pollfd *fds, nfds_t nfds, const char *is_shunt)
{
	nfds_t i;
	int n = 0;

	for (i = 0; i < nfds; i++) {
		if (is_shunt[i]) {
			struct shunt_sock *sk = sock_lookup(sys, fds[i].fd);

			fds[i].revents = sk == NULL ? POLLNVAL :
			    (short)(sock_poll_events(sk) & ((uint32_t)(uint16_t)fds[i].events | POLLERR | POLLHUP));
		}
		n += fds[i].revents != 0;
	}
	return n;
}

int
shunt_ppoll(struct shunt_sys *sys, struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *sigmask)
{
	char small[64], *is_shunt = small;
	struct shunt_epoll *tmp = NULL;
	struct pollfd *k = NULL;
	uint64_t deadline = 0;
	int nshunt = 0, nkern = 0, r, n = 0;
	nfds_t i;
	sigset_t old;

	if (nfds > 1048576)
		return set_errno_ret(-EINVAL);
	if (nfds > sizeof(small) && (is_shunt = malloc(nfds)) == NULL)
		return set_errno_ret(-ENOMEM);
	pthread_mutex_lock(&sys->lock);
	for (i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		is_shunt[i] = fds[i].fd >= 0 && sock_lookup(sys, fds[i].fd) != NULL;
		nshunt += is_shunt[i];
		nkern += fds[i].fd >= 0 && !is_shunt[i];
	}
	if (nshunt == 0) {
		/* Nothing of ours: the kernel alone. */
		pthread_mutex_unlock(&sys->lock);
		if (is_shunt != small)
			free(is_shunt);
		return ppoll(fds, nfds, ts, sigmask);
	}
	if (ts != NULL)
		deadline = sys_now() + (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
	if (sigmask != NULL)
		pthread_sigmask(SIG_SETMASK, sigmask, &old);
	for (;;) {
		if (nkern > 0 && (r = kernel_poll_now(fds, nfds, is_shunt)) < 0) {
			n = r;
			break;
		}
		n = count_ready(sys, fds, nfds, is_shunt);
		if (n > 0 || (ts != NULL && ts->tv_sec == 0 && ts->tv_nsec == 0) ||
		    (deadline != 0 && sys_now() >= deadline))
			break;
		if (tmp == NULL) {
			/* Watch our sockets through a private instance until something happens. */
			tmp = ep_new(nkern > 0 ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1);
			if (tmp == NULL || (nkern > 0 && tmp->efd < 0)) {
				n = -ENOMEM;
				break;
			}
			for (i = 0; i < nfds; i++) {
				struct epoll_event ev = { (uint32_t)(uint16_t)fds[i].events, { 0 } };

				if (is_shunt[i] && item_find(tmp, sock_lookup(sys, fds[i].fd)) == NULL)
					item_add(tmp, sock_lookup(sys, fds[i].fd), fds[i].fd, &ev);
			}
			continue;
		}
		if (nkern > 0) {
			/* Sleep in the kernel on its descriptors and on our instance's eventfd. */
			struct timespec left, *lp = NULL;
			nfds_t j = 0;

			if (k == NULL && (k = malloc((size_t)(nkern + 1) * sizeof(*k))) == NULL) {
				n = -ENOMEM;
				break;
			}
			for (i = 0; i < nfds; i++)
				if (!is_shunt[i] && fds[i].fd >= 0)
					k[j++] = fds[i];
			k[j].fd = tmp->efd;
			k[j].events = POLLIN;
			k[j].revents = 0;
			if (deadline != 0) {
				uint64_t now = sys_now(), l = deadline > now ? deadline - now : 0;

				left.tv_sec = (time_t)(l / 1000000000ull);
				left.tv_nsec = (long)(l % 1000000000ull);
				lp = &left;
			}
			pthread_mutex_unlock(&sys->lock);
			r = ppoll(k, j + 1, lp, NULL);
			pthread_mutex_lock(&sys->lock);
			if (r < 0 && errno == EINTR) {
				n = -EINTR;
				break;
			}
			if (r == 0 && deadline != 0)
				deadline = sys_now();	/* timed out: one last look */
			continue;
		}
		r = sys_wait(sys, &tmp->wq, deadline, 1);
		if (r == -EINTR) {
			n = -EINTR;
			break;
		}
	}
	if (tmp != NULL)
		ep_free(tmp);
	if (sigmask != NULL)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	netif_flush_all(sys->stack);
	pthread_mutex_unlock(&sys->lock);
	free(k);
	if (is_shunt != small)
		free(is_shunt);
	return set_errno_ret(n);
}

int
shunt_poll(struct shunt_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct timespec ts;

	if (timeout_ms < 0)
		return shunt_ppoll(sys, fds, nfds, NULL, NULL);
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
	return shunt_ppoll(sys, fds, nfds, &ts, NULL);
}

#define SEL_IN	(POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SEL_OUT	(POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SEL_EX	(POLLPRI)

int
shunt_select(struct shunt_sys *sys, int nfds, fd_set *rs, fd_set *ws, fd_set *es, struct timeval *tv)
{
	struct pollfd *p;
	struct timespec ts;
	int i, n = 0, r, cnt = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return set_errno_ret(-EINVAL);
	if (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return set_errno_ret(-EINVAL);
	p = calloc((size_t)(nfds ? nfds : 1), sizeof(*p));
	if (p == NULL)
		return set_errno_ret(-ENOMEM);
	for (i = 0; i < nfds; i++) {
		short ev = 0;

		if (rs != NULL && FD_ISSET(i, rs))
			ev |= POLLIN;
		if (ws != NULL && FD_ISSET(i, ws))
			ev |= POLLOUT;
		if (es != NULL && FD_ISSET(i, es))
			ev |= POLLPRI;
		if (ev) {
			p[n].fd = i;
			p[n].events = ev;
			n++;
		}
	}
	if (tv != NULL) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	r = shunt_ppoll(sys, p, (nfds_t)n, tv != NULL ? &ts : NULL, NULL);
	if (r < 0) {
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i].revents & POLLNVAL) {
			free(p);
			return set_errno_ret(-EBADF);
		}
	}
	if (rs != NULL)
		FD_ZERO(rs);
	if (ws != NULL)
		FD_ZERO(ws);
	if (es != NULL)
		FD_ZERO(es);
	for (i = 0; i < n; i++) {
		if (rs != NULL && (p[i].events & POLLIN) && (p[i].revents & SEL_IN)) {
			FD_SET(p[i].fd, rs);
			cnt++;
		}
		if (ws != NULL && (p[i].events & POLLOUT) && (p[i].revents & SEL_OUT)) {
			FD_SET(p[i].fd, ws);
			cnt++;
		}
		if (es != NULL && (p[i].events & POLLPRI) && (p[i].revents & SEL_EX)) {
			FD_SET(p[i].fd, es);
			cnt++;
		}
	}
	if (tv != NULL && cnt == 0) {
		tv->tv_sec = 0;
		tv->tv_usec = 0;
	}
	free(p);
	return cnt;
}
