/*
 * Waiting on mixed descriptors: poll, ppoll, select, pselect, and epoll.
 *
 * poll/select: descriptors are translated (a shunt socket to its shunt-layer
 * descriptor, a dual socket to both sides) and handed to shunt_ppoll, which
 * sleeps in the kernel on the kernel's descriptors and on shunt's readiness.
 *
 * epoll: the user's epoll stays a kernel epoll.  When a shunt socket is first
 * added, a shunt epoll instance is created and its descriptor (an eventfd,
 * readable while any of its sockets is ready) is added to the kernel epoll
 * under a private cookie.  epoll_wait sleeps in the kernel; when the cookie
 * comes back, the shunt instance's events fill the rest of the array.  Nested
 * epolls, timeouts, signals and EPOLLET/ONESHOT/RDHUP/EXCLUSIVE keep the
 * kernel's (or the socket layer's) semantics.
 */
/* glibc declares poll()'s array write-only; reading the caller's events is what poll does. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shim.h"

static char sep_cookie;	/* its address marks our eventfd in a user's epoll */

static int
any_ours_poll(const struct pollfd *p, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		if (fd_kind(p[i].fd) >= FD_SHUNT && fd_kind(p[i].fd) != FD_KEPOLL)
			return 1;
	return 0;
}

/* Translates, waits, and maps the results back onto the caller's array. */
static int
mixed_ppoll(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s)
{
	struct pollfd small[64], *q = small;
	nfds_t i, m = 0;
	int r, cnt = 0;

	if (2 * n > 64 && (q = malloc(2 * n * sizeof(*q))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		enum fd_kind k = fd_kind(p[i].fd);

		q[m] = p[i];
		q[m].revents = 0;
		if (k == FD_SHUNT)
			q[m].fd = fd_info(p[i].fd)->sfd;
		else if (k == FD_ORPHAN)
			q[m].fd = -1;
		m++;
		if (k == FD_DUAL) {
			q[m] = p[i];
			q[m].fd = fd_info(p[i].fd)->sfd;
			q[m].revents = 0;
			m++;
		}
	}
	r = shunt_ppoll(shim.sys, q, m, t, s);
	if (r < 0) {
		if (q != small)
			free(q);
		return r;
	}
	for (i = 0, m = 0; i < n; i++) {
		enum fd_kind k = fd_kind(p[i].fd);

		p[i].revents = q[m++].revents;
		if (k == FD_DUAL)
			p[i].revents |= q[m++].revents;
		if (k == FD_ORPHAN && p[i].fd >= 0)
			p[i].revents = POLLNVAL;
		cnt += p[i].revents != 0;
	}
	if (q != small)
		free(q);
	return cnt;
}

EXPORT int
poll(struct pollfd *p, nfds_t n, int t)
{
	struct timespec ts;

	if (likely(!any_ours_poll(p, n)))
		return REAL(poll)(p, n, t);
	if (t < 0)
		return mixed_ppoll(p, n, NULL, NULL);
	ts.tv_sec = t / 1000;
	ts.tv_nsec = (long)(t % 1000) * 1000000;
	return mixed_ppoll(p, n, &ts, NULL);
}

EXPORT int
__poll_chk(struct pollfd *p, nfds_t n, int t, size_t pl)
{
	extern void __chk_fail(void) __attribute__((noreturn));

	if (pl / sizeof(*p) < n)
		__chk_fail();
	return poll(p, n, t);
}

EXPORT int
ppoll(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s)
{
	if (likely(!any_ours_poll(p, n)))
		return REAL(ppoll)(p, n, t, s);
	return mixed_ppoll(p, n, t, s);
}

EXPORT int
__ppoll_chk(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s, size_t pl)
{
	extern void __chk_fail(void) __attribute__((noreturn));

	if (pl / sizeof(*p) < n)
		__chk_fail();
	return ppoll(p, n, t, s);
}

static int
any_ours_sets(int n, fd_set *r, fd_set *w, fd_set *e)
{
	int i;

	for (i = 0; i < n; i++) {
		enum fd_kind k = fd_kind(i);

		if (k >= FD_SHUNT && k != FD_KEPOLL &&
		    ((r != NULL && FD_ISSET(i, r)) || (w != NULL && FD_ISSET(i, w)) || (e != NULL && FD_ISSET(i, e))))
			return 1;
	}
	return 0;
}

/* select on mixed descriptors, through poll (the kernel's mapping of poll bits to sets). */
static int
mixed_select(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *s)
{
	struct pollfd *p = calloc((size_t)(n > 0 ? n : 1), sizeof(*p));
	int i, m = 0, res, cnt = 0;

	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		short ev = 0;

		if (r != NULL && FD_ISSET(i, r))
			ev |= POLLIN;
		if (w != NULL && FD_ISSET(i, w))
			ev |= POLLOUT;
		if (e != NULL && FD_ISSET(i, e))
			ev |= POLLPRI;
		if (ev) {
			p[m].fd = i;
			p[m].events = ev;
			m++;
		}
	}
	res = mixed_ppoll(p, (nfds_t)m, t, s);
	if (res < 0) {
		free(p);
		return -1;
	}
	for (i = 0; i < m; i++) {
		if (p[i].revents & POLLNVAL) {
			free(p);
			errno = EBADF;
			return -1;
		}
	}
	if (r != NULL)
		FD_ZERO(r);
	if (w != NULL)
		FD_ZERO(w);
	if (e != NULL)
		FD_ZERO(e);
	for (i = 0; i < m; i++) {
		short rv = p[i].revents;

		if ((p[i].events & POLLIN) && (rv & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, r);
			cnt++;
		}
		if ((p[i].events & POLLOUT) && (rv & (POLLOUT | POLLWRNORM | POLLERR))) {
			FD_SET(p[i].fd, w);
			cnt++;
		}
		if ((p[i].events & POLLPRI) && (rv & POLLPRI)) {
			FD_SET(p[i].fd, e);
			cnt++;
		}
	}
	free(p);
	return cnt;
}

EXPORT int
select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
	struct timespec ts;
	int res;

	if (likely(!any_ours_sets(n, r, w, e)))
		return REAL(select)(n, r, w, e, t);
	if (t != NULL) {
		if (t->tv_sec < 0 || t->tv_usec < 0 || t->tv_usec >= 1000000) {
			errno = EINVAL;
			return -1;
		}
		ts.tv_sec = t->tv_sec;
		ts.tv_nsec = t->tv_usec * 1000;
	}
	res = mixed_select(n, r, w, e, t != NULL ? &ts : NULL, NULL);
	if (res == 0 && t != NULL)
		t->tv_sec = t->tv_usec = 0;	/* Linux reports the time left */
	return res;
}

EXPORT int
pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *s)
{
	if (likely(!any_ours_sets(n, r, w, e)))
		return REAL(pselect)(n, r, w, e, t, s);
	return mixed_select(n, r, w, e, t, s);
}

/* ---- epoll ---- */

EXPORT int
epoll_create(int size)
{
	return REAL(epoll_create)(size);
}

EXPORT int
epoll_create1(int f)
{
	return REAL(epoll_create1)(f);
}

/* The shunt instance inside a user's epoll, created on first need. */
static int
shunt_side(int ep)
{
	struct fdinfo *fi;
	struct epoll_event ev;
	int sep;

	pthread_mutex_lock(&shim.lock);
	if (fd_kind(ep) == FD_KEPOLL) {
		sep = fd_info(ep)->sep;
		pthread_mutex_unlock(&shim.lock);
		return sep;
	}
	sep = shunt_epoll_create1(shim.sys, EPOLL_CLOEXEC);
	fi = sep >= 0 ? fdinfo_new(0, 0, 0) : NULL;
	if (fi == NULL) {
		pthread_mutex_unlock(&shim.lock);
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &sep_cookie;
	if (REAL(epoll_ctl)(ep, EPOLL_CTL_ADD, sep, &ev) != 0) {
		int e = errno;

		shunt_close(shim.sys, sep);
		fdinfo_put(fi);
		pthread_mutex_unlock(&shim.lock);
		errno = e;
		return -1;
	}
	fi->sep = sep;
	fd_set_kind(ep, FD_KEPOLL, fi);
	pthread_mutex_unlock(&shim.lock);
	return sep;
}

int
shim_epoll_pending(int ep, int op, int fd, struct epoll_event *e)
{
	struct fdinfo *fi;
	int r = REAL(epoll_ctl)(ep, op, fd, e), i;

	if (r != 0)
		return r;
	pthread_mutex_lock(&shim.lock);
	fi = fd_kind(fd) == FD_PENDING ? fd_info(fd) : NULL;
	for (i = 0; fi != NULL && i < fi->neps && fi->eps[i].ep != ep; i++)
		;
	if (fi != NULL) {
		if (op == EPOLL_CTL_DEL && i < fi->neps) {
			fi->eps[i] = fi->eps[--fi->neps];
		} else if (op != EPOLL_CTL_DEL && e != NULL) {
			if (i == fi->neps && fi->neps < (int)(sizeof(fi->eps) / sizeof(fi->eps[0])))
				fi->neps++;
			if (i < fi->neps) {
				fi->eps[i].ep = ep;
				fi->eps[i].ev = *e;
			}
		}
	}
	pthread_mutex_unlock(&shim.lock);
	return 0;
}

void
shim_epoll_move(int fd, struct fdinfo *fi)
{
	int i;

	/*
	 * Epolls that watched the socket while its way was open watch the kernel
	 * socket that now only holds its number: move them to the shunt side.
	 * (Called with shim.lock held, so shunt_side() is done by hand.)
	 */
	for (i = 0; i < fi->neps; i++) {
		int ep = fi->eps[i].ep, sep;
		struct epoll_event ev;

		REAL(epoll_ctl)(ep, EPOLL_CTL_DEL, fd, NULL);
		if (fd_kind(ep) == FD_KEPOLL) {
			sep = fd_info(ep)->sep;
		} else {
			struct fdinfo *efi = fdinfo_new(0, 0, 0);

			sep = shunt_epoll_create1(shim.sys, EPOLL_CLOEXEC);
			if (sep < 0 || efi == NULL) {
				fdinfo_put(efi);
				continue;
			}
			ev.events = EPOLLIN;
			ev.data.ptr = &sep_cookie;
			if (REAL(epoll_ctl)(ep, EPOLL_CTL_ADD, sep, &ev) != 0) {
				shunt_close(shim.sys, sep);
				fdinfo_put(efi);
				continue;
			}
			efi->sep = sep;
			fd_set_kind(ep, FD_KEPOLL, efi);
		}
		ev = fi->eps[i].ev;
		shunt_epoll_ctl(shim.sys, sep, EPOLL_CTL_ADD, fi->sfd, &ev);
	}
	fi->neps = 0;
}

EXPORT int
epoll_ctl(int ep, int op, int fd, struct epoll_event *e)
{
	enum fd_kind k = fd_kind(fd);
	int sep, r;

	if (likely(k == FD_KERNEL || k == FD_KEPOLL))
		return REAL(epoll_ctl)(ep, op, fd, e);
	if (k == FD_PENDING)
		return shim_epoll_pending(ep, op, fd, e);
	if (k == FD_ORPHAN) {
		errno = EBADF;
		return -1;
	}
	if (REAL(fcntl)(ep, F_GETFD, 0) < 0) {
		errno = EBADF;
		return -1;
	}
	sep = shunt_side(ep);
	if (sep < 0)
		return -1;
	if (k == FD_DUAL) {
		/* Both sides report under the program's data; the kernel side first, for its errors. */
		r = REAL(epoll_ctl)(ep, op, fd, e);
		if (r != 0)
			return r;
	}
	r = shunt_epoll_ctl(shim.sys, sep, op, fd_info(fd)->sfd, e);
	if (r != 0 && k == FD_DUAL && op == EPOLL_CTL_ADD) {
		int er = errno;

		REAL(epoll_ctl)(ep, EPOLL_CTL_DEL, fd, NULL);
		errno = er;
	}
	return r;
}

/* Replaces our cookie in the kernel's results with the shunt instance's events. */
static int
merge(int ep, struct epoll_event *e, int n, int max, int *had_cookie)
{
	int i, j = 0, m;

	*had_cookie = 0;
	for (i = 0; i < n; i++) {
		if (e[i].data.ptr == &sep_cookie) {
			*had_cookie = 1;
			continue;
		}
		e[j++] = e[i];
	}
	if (!*had_cookie || j >= max)
		return j;
	m = shunt_epoll_wait(shim.sys, fd_info(ep)->sep, e + j, max - j, 0);
	return m > 0 ? j + m : j;
}

static int
kepoll_wait(int ep, struct epoll_event *e, int max, const struct timespec *t, const sigset_t *s)
{
	struct timespec end, now;
	int n, had, sep = shim.sys != NULL && !shim.in_child ? fd_info(ep)->sep : -1;

	if (t != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += t->tv_sec;
		end.tv_nsec += t->tv_nsec;
		if (end.tv_nsec >= 1000000000) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000;
		}
	}
	for (;;) {
		int ms = -1;

		if (t != NULL) {
			long long left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = (long long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
			ms = left < 0 ? 0 : (int)left;
			if (left > 0 && ms == 0)
				ms = 1;
		}
		/* A thread waits on the shunt instance too: EPOLLEXCLUSIVE may pick it alone. */
		if (sep >= 0 && ms != 0)
			shunt_epoll_waiting(shim.sys, sep, 1);
		n = s != NULL ? REAL(epoll_pwait)(ep, e, max, ms, s) : REAL(epoll_wait)(ep, e, max, ms);
		if (sep >= 0 && ms != 0) {
			int er = errno;

			shunt_epoll_waiting(shim.sys, sep, -1);
			errno = er;
		}
		if (n <= 0)
			return n;
		n = merge(ep, e, n, max, &had);
		/* Only our cookie, and its sockets were no longer ready: keep waiting out the time. */
		if (n > 0 || ms == 0)
			return n;
	}
}

EXPORT int
epoll_wait(int ep, struct epoll_event *e, int m, int t)
{
	struct timespec ts;

	if (likely(fd_kind(ep) != FD_KEPOLL))
		return REAL(epoll_wait)(ep, e, m, t);
	ts.tv_sec = t / 1000;
	ts.tv_nsec = (long)(t % 1000) * 1000000;
	return kepoll_wait(ep, e, m, t < 0 ? NULL : &ts, NULL);
}

EXPORT int
epoll_pwait(int ep, struct epoll_event *e, int m, int t, const sigset_t *s)
{
	struct timespec ts;

	if (likely(fd_kind(ep) != FD_KEPOLL))
		return REAL(epoll_pwait)(ep, e, m, t, s);
	ts.tv_sec = t / 1000;
	ts.tv_nsec = (long)(t % 1000) * 1000000;
	return kepoll_wait(ep, e, m, t < 0 ? NULL : &ts, s);
}

EXPORT int
epoll_pwait2(int ep, struct epoll_event *e, int m, const struct timespec *t, const sigset_t *s)
{
	if (likely(fd_kind(ep) != FD_KEPOLL)) {
		if (REAL(epoll_pwait2) == NULL) {
			errno = ENOSYS;
			return -1;
		}
		return REAL(epoll_pwait2)(ep, e, m, t, s);
	}
	return kepoll_wait(ep, e, m, t, s);
}
