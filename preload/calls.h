/*
 * The one list of libc entry points the preload shim intercepts:
 *   X(name, return type, parameters, arguments)
 * It generates the table of real functions (real.c), and the Makefile turns it
 * into the export list, so only these names leave libshunt-preload.so.
 * Variadic calls (fcntl, ioctl, open-ended exec) appear with the fixed
 * signature their real counterpart is called with; their wrappers are
 * written by hand.
 */
#ifndef SHUNT_PRELOAD_CALLS_H
#define SHUNT_PRELOAD_CALLS_H

#define SHUNT_CALLS(X) \
	X(socket, int, (int d, int t, int p), (d, t, p)) \
	X(socketpair, int, (int d, int t, int p, int sv[2]), (d, t, p, sv)) \
	X(bind, int, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l)) \
	X(listen, int, (int fd, int b), (fd, b)) \
	X(accept, int, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l)) \
	X(accept4, int, (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f)) \
	X(connect, int, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l)) \
	X(read, ssize_t, (int fd, void *b, size_t n), (fd, b, n)) \
	X(write, ssize_t, (int fd, const void *b, size_t n), (fd, b, n)) \
	X(readv, ssize_t, (int fd, const struct iovec *v, int c), (fd, v, c)) \
	X(writev, ssize_t, (int fd, const struct iovec *v, int c), (fd, v, c)) \
	X(pread, ssize_t, (int fd, void *b, size_t n, off_t o), (fd, b, n, o)) \
	X(pread64, ssize_t, (int fd, void *b, size_t n, off_t o), (fd, b, n, o)) \
	X(pwrite, ssize_t, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o)) \
	X(pwrite64, ssize_t, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o)) \
	X(send, ssize_t, (int fd, const void *b, size_t n, int f), (fd, b, n, f)) \
	X(recv, ssize_t, (int fd, void *b, size_t n, int f), (fd, b, n, f)) \
	X(sendto, ssize_t, (int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l), \
	    (fd, b, n, f, a, l)) \
	X(recvfrom, ssize_t, (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l), \
	    (fd, b, n, f, a, l)) \
	X(sendmsg, ssize_t, (int fd, const struct msghdr *m, int f), (fd, m, f)) \
	X(recvmsg, ssize_t, (int fd, struct msghdr *m, int f), (fd, m, f)) \
	X(sendmmsg, int, (int fd, struct mmsghdr *v, unsigned int n, int f), (fd, v, n, f)) \
	X(recvmmsg, int, (int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t), (fd, v, n, f, t)) \
	X(sendfile, ssize_t, (int o, int i, off_t *off, size_t n), (o, i, off, n)) \
	X(sendfile64, ssize_t, (int o, int i, off_t *off, size_t n), (o, i, off, n)) \
	X(close, int, (int fd), (fd)) \
	X(shutdown, int, (int fd, int how), (fd, how)) \
	X(getsockname, int, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l)) \
	X(getpeername, int, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l)) \
	X(getsockopt, int, (int fd, int lv, int nm, void *v, socklen_t *l), (fd, lv, nm, v, l)) \
	X(setsockopt, int, (int fd, int lv, int nm, const void *v, socklen_t l), (fd, lv, nm, v, l)) \
	X(fcntl, int, (int fd, int cmd, long arg), (fd, cmd, arg)) \
	X(fcntl64, int, (int fd, int cmd, long arg), (fd, cmd, arg)) \
	X(ioctl, int, (int fd, unsigned long req, void *arg), (fd, req, arg)) \
	X(dup, int, (int fd), (fd)) \
	X(dup2, int, (int fd, int nfd), (fd, nfd)) \
	X(dup3, int, (int fd, int nfd, int f), (fd, nfd, f)) \
	X(poll, int, (struct pollfd *p, nfds_t n, int t), (p, n, t)) \
	X(ppoll, int, (struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s), (p, n, t, s)) \
	X(select, int, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t), (n, r, w, e, t)) \
	X(pselect, int, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *s), \
	    (n, r, w, e, t, s)) \
	X(epoll_create, int, (int size), (size)) \
	X(epoll_create1, int, (int f), (f)) \
	X(epoll_ctl, int, (int ep, int op, int fd, struct epoll_event *e), (ep, op, fd, e)) \
	X(epoll_wait, int, (int ep, struct epoll_event *e, int m, int t), (ep, e, m, t)) \
	X(epoll_pwait, int, (int ep, struct epoll_event *e, int m, int t, const sigset_t *s), (ep, e, m, t, s)) \
	X(epoll_pwait2, int, (int ep, struct epoll_event *e, int m, const struct timespec *t, const sigset_t *s), \
	    (ep, e, m, t, s)) \
	X(fork, pid_t, (void), ()) \
	X(vfork, pid_t, (void), ()) \
	X(daemon, int, (int nochdir, int noclose), (nochdir, noclose)) \
	X(execve, int, (const char *p, char *const a[], char *const e[]), (p, a, e)) \
	X(execv, int, (const char *p, char *const a[]), (p, a)) \
	X(execvp, int, (const char *p, char *const a[]), (p, a)) \
	X(execvpe, int, (const char *p, char *const a[], char *const e[]), (p, a, e)) \
	X(execl, int, (const char *p, const char *a0, char *end), (p, a0, end)) \
	X(execlp, int, (const char *p, const char *a0, char *end), (p, a0, end)) \
	X(execle, int, (const char *p, const char *a0, char *end), (p, a0, end)) \
	X(fexecve, int, (int fd, char *const a[], char *const e[]), (fd, a, e)) \
	X(_exit, void, (int status), (status)) \
	X(__read_chk, ssize_t, (int fd, void *b, size_t n, size_t bl), (fd, b, n, bl)) \
	X(__recv_chk, ssize_t, (int fd, void *b, size_t n, size_t bl, int f), (fd, b, n, bl, f)) \
	X(__recvfrom_chk, ssize_t, (int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a, socklen_t *l), \
	    (fd, b, n, bl, f, a, l)) \
	X(__poll_chk, int, (struct pollfd *p, nfds_t n, int t, size_t pl), (p, n, t, pl)) \
	X(__ppoll_chk, int, (struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *s, size_t pl), \
	    (p, n, t, s, pl))

#endif
