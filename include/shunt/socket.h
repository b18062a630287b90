/*
 * shunt public API: BSD sockets with Linux semantics and errno.
 *
 * Every call takes the struct shunt_sys whose stack carries the socket (so no
 * state is process-wide); otherwise names, arguments, return values and errno
 * are those of the Linux calls they mirror.  Socket descriptors are real
 * kernel file descriptors (an eventfd stands in for the socket, or the caller
 * hands over a kernel socket's number with shunt_socket_on_fd), so they never
 * collide with the process's other descriptors and fit select()'s FD_SETSIZE.
 *
 * shunt_epoll_* instances are kernel eventfds too, readable while any of their
 * sockets is ready: a kernel epoll, poll or select can wait on them alongside
 * kernel descriptors.
 */
#ifndef SHUNT_SOCKET_H
#define SHUNT_SOCKET_H

#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/select.h>
#include <time.h>
#include <shunt/stack.h>
#include <shunt/netconn.h>

#ifdef __cplusplus
extern "C" {
#endif

SHUNT_API int shunt_socket(struct shunt_sys *sys, int domain, int type, int protocol);
/* Makes the kernel descriptor fd (already open) a shunt socket; closing it closes fd too. */
SHUNT_API int shunt_socket_on_fd(struct shunt_sys *sys, int fd, int domain, int type, int protocol);
/* 1 if fd is a shunt socket or epoll instance of sys. */
SHUNT_API int shunt_is_socket(struct shunt_sys *sys, int fd);
SHUNT_API int shunt_is_epoll(struct shunt_sys *sys, int fd);
/* Forgets fd without touching the kernel descriptor (the preload shim after fork). */
SHUNT_API int shunt_socket_detach(struct shunt_sys *sys, int fd);

SHUNT_API int shunt_bind(struct shunt_sys *sys, int fd, const struct sockaddr *addr, socklen_t len);
SHUNT_API int shunt_listen(struct shunt_sys *sys, int fd, int backlog);
SHUNT_API int shunt_accept(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len);
SHUNT_API int shunt_accept4(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len, int flags);
SHUNT_API int shunt_connect(struct shunt_sys *sys, int fd, const struct sockaddr *addr, socklen_t len);
SHUNT_API ssize_t shunt_read(struct shunt_sys *sys, int fd, void *buf, size_t len);
SHUNT_API ssize_t shunt_write(struct shunt_sys *sys, int fd, const void *buf, size_t len);
SHUNT_API ssize_t shunt_readv(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt);
SHUNT_API ssize_t shunt_writev(struct shunt_sys *sys, int fd, const struct iovec *iov, int iovcnt);
SHUNT_API ssize_t shunt_send(struct shunt_sys *sys, int fd, const void *buf, size_t len, int flags);
SHUNT_API ssize_t shunt_recv(struct shunt_sys *sys, int fd, void *buf, size_t len, int flags);
SHUNT_API ssize_t shunt_sendto(struct shunt_sys *sys, int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen);
SHUNT_API ssize_t shunt_recvfrom(struct shunt_sys *sys, int fd, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen);
SHUNT_API ssize_t shunt_sendmsg(struct shunt_sys *sys, int fd, const struct msghdr *msg, int flags);
SHUNT_API ssize_t shunt_recvmsg(struct shunt_sys *sys, int fd, struct msghdr *msg, int flags);
SHUNT_API int shunt_sendmmsg(struct shunt_sys *sys, int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
SHUNT_API int shunt_recvmmsg(struct shunt_sys *sys, int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout);
SHUNT_API int shunt_close(struct shunt_sys *sys, int fd);
SHUNT_API int shunt_shutdown(struct shunt_sys *sys, int fd, int how);
SHUNT_API int shunt_getsockname(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len);
SHUNT_API int shunt_getpeername(struct shunt_sys *sys, int fd, struct sockaddr *addr, socklen_t *len);
SHUNT_API int shunt_getsockopt(struct shunt_sys *sys, int fd, int level, int name, void *val, socklen_t *len);
SHUNT_API int shunt_setsockopt(struct shunt_sys *sys, int fd, int level, int name, const void *val, socklen_t len);
SHUNT_API int shunt_fcntl(struct shunt_sys *sys, int fd, int cmd, long arg);
SHUNT_API int shunt_ioctl(struct shunt_sys *sys, int fd, unsigned long req, void *arg);

/*
 * Readiness.  poll and select accept kernel descriptors too: they wait on
 * both kinds at once.
 */
SHUNT_API int shunt_poll(struct shunt_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms);
SHUNT_API int shunt_ppoll(struct shunt_sys *sys, struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
    const sigset_t *sigmask);
SHUNT_API int shunt_select(struct shunt_sys *sys, int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
SHUNT_API int shunt_epoll_create1(struct shunt_sys *sys, int flags);
SHUNT_API int shunt_epoll_ctl(struct shunt_sys *sys, int epfd, int op, int fd, struct epoll_event *ev);
SHUNT_API int shunt_epoll_wait(struct shunt_sys *sys, int epfd, struct epoll_event *events, int maxevents,
    int timeout_ms);
SHUNT_API int shunt_epoll_pwait(struct shunt_sys *sys, int epfd, struct epoll_event *events, int maxevents,
    int timeout_ms, const sigset_t *sigmask);
/*
 * For a caller that waits for epfd's readiness elsewhere (the preload shim
 * sleeps in a kernel epoll holding epfd's descriptor): count a thread as
 * waiting (+1) or no longer (-1), so that EPOLLEXCLUSIVE wakes one waiting
 * instance rather than every instance watching the socket.
 */
SHUNT_API int shunt_epoll_waiting(struct shunt_sys *sys, int epfd, int delta);
/* Current readiness of a shunt socket (EPOLLIN | EPOLLOUT | ...), without waiting. */
SHUNT_API uint32_t shunt_socket_events(struct shunt_sys *sys, int fd);

#ifdef __cplusplus
}
#endif
#endif
