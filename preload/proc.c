/*
 * Processes: fork, vfork, daemon and the exec family.
 *
 * fork: the stack and its NIC queues belong to the process that started
 * them.  A child never touches them: shunt is off in the child (its new
 * sockets go to the kernel).  Connected TCP shunt sockets (up to RELAY_MAX of
 * them) reach the child as Unix sockets relayed by the parent once the parent
 * lets go (relay.c), so a forking server works; every other inherited shunt
 * socket is an orphan: using one fails with EBADF, closing one only closes the
 * child's descriptor, so the parent's connections carry on undisturbed.  The parent takes the
 * stack's lock across fork() so that the child's copy of the stack is never
 * caught half-updated (nobody in the child uses it, but its memory is freed
 * from a consistent state).  A program that forks before its first socket
 * (daemonizing) is unaffected: the stack starts later, in the child.
 *
 * exec: the new program gets shunt again from the environment; if the caller
 * passes an environment without our variables, they are put back.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "shim.h"

static void
orphan_inherited(void)
{
	int fd;

	for (fd = 0; fd < shim_maxfd; fd++) {
		enum fd_kind k = fd_kind(fd);

		if (k == FD_KERNEL)
			continue;
		if (k == FD_KEPOLL) {
			/* The kernel epoll is the child's; the shunt side in it never fires again. */
			fd_set_kind(fd, FD_KERNEL, NULL);
		} else if (k == FD_PENDING) {
			fd_set_kind(fd, FD_KERNEL, NULL);
		} else if (k == FD_DUAL) {
			/* The kernel half of a dual listener still works in the child. */
			struct fdinfo *fi = fd_info(fd);

			if (!fi->nonblock) {
				int fl = REAL(fcntl)(fd, F_GETFL, 0);

				if (fl >= 0)
					REAL(fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK);
			}
			fd_set_kind(fd, FD_KERNEL, NULL);
		} else {
			fd_set_kind(fd, FD_ORPHAN, fd_info(fd));
		}
	}
}

struct pending_relay {
	int fd, near, far, cloexec;
};

/* Before fork: a socketpair for each connected TCP shunt socket, unless there are too many. */
static int
prepare_relays(struct pending_relay *pr)
{
	int fd, n = 0;

	for (fd = 0; fd < shim_maxfd; fd++) {
		struct fdinfo *fi;
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int sv[2];

		if (fd_kind(fd) != FD_SHUNT)
			continue;
		fi = fd_info(fd);
		if (fi->type != SOCK_STREAM || shunt_getpeername(shim.sys, fi->sfd, (struct sockaddr *)&peer, &pl) != 0)
			continue;
		if (n == RELAY_MAX) {
			/* Many connections (a database's snapshot child): the child gets none. */
			while (n > 0) {
				n--;
				REAL(close)(pr[n].near);
				REAL(close)(pr[n].far);
			}
			shim_log(LOG_INFO, "fork: more than %d connections; the child gets none of them", RELAY_MAX);
			return 0;
		}
		if (REAL(socketpair)(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			continue;
		pr[n].fd = fd;
		pr[n].near = sv[0];
		pr[n].far = sv[1];
		pr[n].cloexec = (REAL(fcntl)(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
		n++;
	}
	return n;
}

EXPORT pid_t
fork(void)
{
	struct pending_relay pr[RELAY_MAX];
	pid_t pid;
	int up = shim.init_state == 1 && !shim.in_child, n, i;

	if (!up)
		return REAL(fork)();
	pthread_mutex_lock(&shim.lock);
	n = prepare_relays(pr);
	shunt_sys_lock(shim.sys);
	pid = REAL(fork)();
	if (pid == 0) {
		pthread_mutex_init(&shim.lock, NULL);
		shim.in_child = 1;
		shim.init_state = -1;
		for (i = 0; i < n; i++) {
			/* The descriptor becomes the far end: a kernel socket the child owns. */
			REAL(dup2)(pr[i].far, pr[i].fd);
			if (pr[i].cloexec)
				REAL(fcntl)(pr[i].fd, F_SETFD, FD_CLOEXEC);
			REAL(close)(pr[i].far);
			REAL(close)(pr[i].near);
			fd_set_kind(pr[i].fd, FD_KERNEL, NULL);
		}
		orphan_inherited();
		shim_log(LOG_INFO, "forked from %d: shunt is off in this process; %d connections relayed, other "
		    "inherited shunt sockets are the parent's", (int)shim.pid, n);
		return 0;
	}
	shunt_sys_unlock(shim.sys);
	for (i = 0; i < n; i++) {
		struct fdinfo *fi = fd_info(pr[i].fd);

		REAL(close)(pr[i].far);
		if (pid < 0 || fi == NULL) {
			REAL(close)(pr[i].near);
			continue;
		}
		/* One child per connection gets the relay: an older one sees the end of its stream. */
		if (fi->relay_fd >= 0)
			REAL(close)(fi->relay_fd);
		fi->relay_fd = pr[i].near;
	}
	pthread_mutex_unlock(&shim.lock);
	return pid;
}

/* A process leaving by _exit (not exit) delivers what its sockets hold too. */
EXPORT void
_exit(int status)
{
	shim_exit_drain();
	REAL(_exit)(status);
	__builtin_unreachable();
}

EXPORT pid_t
vfork(void)
{
	/* vfork's shared address space cannot return through our frames: a plain fork is always allowed. */
	return fork();
}

EXPORT int
daemon(int nochdir, int noclose)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (!nochdir && chdir("/") != 0)
		return -1;
	if (!noclose && (fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* ---- exec: keep shunt in the environment ---- */

static const char *const keep[] = {
	"LD_PRELOAD", "SHUNT_IP", "SHUNT_GW", "SHUNT_MAC", "SHUNT_DPDK", "SHUNT_PORT", "SHUNT_POLL",
	"SHUNT_SPIN_US", "SHUNT_SNDBUF", "SHUNT_RCVBUF", "SHUNT_CC", "SHUNT_PCAP", "SHUNT_RULES", "SHUNT_LOG",
	"SHUNT_STATS", "SHUNT_CONFIG", "SHUNT_DISABLE", "SHUNT_EXIT_DRAIN_MS", "SHUNT_TRUST_CSUM",
};

static int
env_has(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return 1;
	return 0;
}

/* A copy of envp with our variables (as this process has them) added where missing; NULL if none missing. */
static char **
with_shunt_env(char *const *envp)
{
	size_t n = 0, i, add = 0, j;
	char **out;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (getenv(keep[i]) != NULL && !env_has(envp, keep[i]))
			add++;
	if (add == 0)
		return NULL;
	while (envp != NULL && envp[n] != NULL)
		n++;
	out = malloc((n + add + 1) * sizeof(*out));
	if (out == NULL)
		return NULL;
	for (j = 0; j < n; j++)
		out[j] = envp[j];
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *v = getenv(keep[i]);

		if (v != NULL && !env_has(envp, keep[i])) {
			size_t len = strlen(keep[i]) + strlen(v) + 2;
			char *s = malloc(len);

			if (s == NULL)
				continue;
			strcpy(s, keep[i]);
			strcat(s, "=");
			strcat(s, v);
			out[j++] = s;
		}
	}
	out[j] = NULL;
	return out;
}

EXPORT int
execve(const char *p, char *const a[], char *const e[])
{
	char **ne = with_shunt_env(e);
	int r = REAL(execve)(p, a, ne != NULL ? ne : e);

	free(ne);
	return r;
}

EXPORT int
execvpe(const char *p, char *const a[], char *const e[])
{
	char **ne = with_shunt_env(e);
	int r = REAL(execvpe)(p, a, ne != NULL ? ne : e);

	free(ne);
	return r;
}

EXPORT int
fexecve(int fd, char *const a[], char *const e[])
{
	char **ne = with_shunt_env(e);
	int r = REAL(fexecve)(fd, a, ne != NULL ? ne : e);

	free(ne);
	return r;
}

extern char **environ;

EXPORT int
execv(const char *p, char *const a[])
{
	return execve(p, a, environ);
}

EXPORT int
execvp(const char *p, char *const a[])
{
	return execvpe(p, a, environ);
}

/* The list forms: collect the arguments, then the vector forms above. */
static char **
collect(const char *a0, va_list ap, char ***envp)
{
	size_t n = 1, cap = 16;
	char **v = malloc(cap * sizeof(*v));
	char *s;

	if (v == NULL)
		return NULL;
	v[0] = (char *)(uintptr_t)a0;
	if (a0 != NULL) {
		while ((s = va_arg(ap, char *)) != NULL) {
			if (n + 2 > cap) {
				char **nv = realloc(v, (cap *= 2) * sizeof(*v));

				if (nv == NULL) {
					free(v);
					return NULL;
				}
				v = nv;
			}
			v[n++] = s;
		}
	}
	v[n] = NULL;
	if (envp != NULL)
		*envp = va_arg(ap, char **);
	return v;
}

EXPORT int
execl(const char *p, const char *a0, ...)
{
	va_list ap;
	char **v;
	int r;

	va_start(ap, a0);
	v = collect(a0, ap, NULL);
	va_end(ap);
	if (v == NULL) {
		errno = ENOMEM;
		return -1;
	}
	r = execve(p, v, environ);
	free(v);
	return r;
}

EXPORT int
execlp(const char *p, const char *a0, ...)
{
	va_list ap;
	char **v;
	int r;

	va_start(ap, a0);
	v = collect(a0, ap, NULL);
	va_end(ap);
	if (v == NULL) {
		errno = ENOMEM;
		return -1;
	}
	r = execvpe(p, v, environ);
	free(v);
	return r;
}

EXPORT int
execle(const char *p, const char *a0, ...)
{
	va_list ap;
	char **v, **e = NULL;
	int r;

	va_start(ap, a0);
	v = collect(a0, ap, &e);
	va_end(ap);
	if (v == NULL) {
		errno = ENOMEM;
		return -1;
	}
	r = execve(p, v, e);
	free(v);
	return r;
}
