/*
 * A small HTTP/1.1 file server on shunt's socket API with shunt_epoll over a
 * DPDK port: one thread, non-blocking sockets, a level-triggered event loop
 * -- the shape of nginx's worker, written against shunt_* calls.  GET and
 * HEAD of the files under one directory, Content-Length, keep-alive and
 * pipelining, 404 for what is not there.  Files are mmap'd and written from
 * the mapping (the socket layer copies them into the stack's buffers).
 * Uses: the socket and epoll API (<shunt/socket.h>), the netconn layer's
 * poller thread (<shunt/netconn.h>) and the DPDK driver (<shunt/dpdk.h>);
 * request parsing is in http_util.h.
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/http_epoll --dpdk @EAL@ --ip 198.18.0.2/24 --root /usr/share/doc -- \
 *       curl -s http://198.18.0.2/bash/README
 *
 *   http_epoll --dpdk 'EAL ARGS' --ip A.B.C.D/len [--root DIR] [--port 80] [--gw G] [--pcap FILE]
 *              [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] [--dev NAME] [--mtu N] ...
 *
 * Runs until SIGINT or SIGTERM (the wait wakes every STOP_POLL_MS to look),
 * then prints what it served and the stack's nonzero counters and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/netconn.h>
#include <shunt/socket.h>
#include <shunt/dpdk.h>
#include "example_util.h"
#include "http_util.h"

#define STOP_POLL_MS	200
#define MAX_EVENTS	64
#define WRITE_CHUNK	(256 * 1024)

struct hconn {
	struct hconn *next, **prevp;
	int fd;
	uint32_t events;		/* what epoll watches for it now */
	char req[HTTP_HEAD_MAX];
	uint32_t req_len;
	int eof;			/* the client's FIN came */
	/* the response being written */
	int responding;
	int keep_alive;
	char head[512];
	uint32_t head_len, head_off;
	uint8_t *map;
	size_t map_len;
	uint64_t body_off, body_left;
};

struct server {
	struct shunt_sys *sys;
	int epfd, lfd, rootfd;
	struct hconn *conns;
	uint64_t accepted, requests, ok, not_found, errors, body_bytes, closed, failed;
};

static void
unmap(struct hconn *c)
{
	if (c->map != NULL)
		munmap(c->map, c->map_len);
	c->map = NULL;
	c->map_len = 0;
}

static void
conn_close(struct server *srv, struct hconn *c, int ok)
{
	/* Closing the socket takes it out of the epoll set too (as on Linux, once the last fd goes). */
	shunt_close(srv->sys, c->fd);
	unmap(c);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	if (ok)
		srv->closed++;
	else
		srv->failed++;
	free(c);
}

/* Watches c for input while it has no response to write, for room to write while it has one. */
static int
conn_watch(struct server *srv, struct hconn *c, uint32_t want)
{
	struct epoll_event ev;

	if (want == c->events)
		return 0;
	ev.events = want;
	ev.data.ptr = c;
	if (shunt_epoll_ctl(srv->sys, srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return -errno;
	c->events = want;
	return 0;
}

static void
start_response(struct server *srv, struct hconn *c, const struct http_req *r)
{
	uint64_t size = 0;
	char body[64];
	int fd, status = r->status, n;

	c->keep_alive = r->keep_alive;
	c->responding = 1;
	c->head_off = 0;
	c->body_off = 0;
	c->body_left = 0;
	if (status == 0) {
		fd = http_open(srv->rootfd, r->path, &size);
		if (fd < 0) {
			status = 404;
		} else {
			status = 200;
			if (size > 0 && r->method == HTTP_GET) {
				c->map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
				if (c->map == MAP_FAILED) {
					c->map = NULL;
					status = 500;
				} else {
					c->map_len = (size_t)size;
					madvise(c->map, c->map_len, MADV_SEQUENTIAL);
				}
			}
			close(fd);
		}
	}
	if (status == 200) {
		srv->ok++;
		c->head_len = (uint32_t)http_head(c->head, sizeof(c->head), 200, http_mime(r->path), size,
		    c->keep_alive);
		if (r->method == HTTP_GET)
			c->body_left = size;
		return;
	}
	if (status == 404)
		srv->not_found++;
	else
		srv->errors++;
	n = http_error_body(body, sizeof(body), status);
	c->head_len = (uint32_t)http_head(c->head, sizeof(c->head), status, "text/plain; charset=utf-8",
	    (uint64_t)n, c->keep_alive);
	if (r->method != HTTP_HEAD && c->head_len + (uint32_t)n < sizeof(c->head)) {
		memcpy(c->head + c->head_len, body, (size_t)n);
		c->head_len += (uint32_t)n;
	}
}

/* Writes what the socket takes.  1: response done; 0: would block; <0: the connection failed. */
static int
push_response(struct server *srv, struct hconn *c)
{
	ssize_t n;

	while (c->head_off < c->head_len || c->body_left > 0) {
		if (c->head_off < c->head_len) {
			/* MSG_MORE: the head and the first body bytes share segments. */
			n = shunt_send(srv->sys, c->fd, c->head + c->head_off, c->head_len - c->head_off,
			    c->body_left > 0 ? MSG_MORE : 0);
			if (n > 0)
				c->head_off += (uint32_t)n;
		} else {
			size_t k = c->body_left < WRITE_CHUNK ? (size_t)c->body_left : WRITE_CHUNK;

			n = shunt_write(srv->sys, c->fd, c->map + c->body_off, k);
			if (n > 0) {
				c->body_off += (uint64_t)n;
				c->body_left -= (uint64_t)n;
				srv->body_bytes += (uint64_t)n;
			}
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -EPIPE;
	}
	unmap(c);
	c->responding = 0;
	return 1;
}

/*
 * Advances c as far as it can go without blocking: finish the response in
 * progress, then read, parse and answer further requests.  Returns 0 to keep
 * the connection, 1 to close it gracefully, <0 to close it as failed.
 */
static int
conn_run(struct server *srv, struct hconn *c)
{
	struct http_req r;
	int n;

	for (;;) {
		if (c->responding) {
			n = push_response(srv, c);
			if (n < 0)
				return n;
			if (n == 0)
				return conn_watch(srv, c, EPOLLOUT);
			if (!c->keep_alive)
				return 1;
		}
		n = http_parse(c->req, c->req_len, &r);
		if (n == 0) {
			ssize_t got;

			if (c->eof)
				return 1;
			got = shunt_read(srv->sys, c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len);
			if (got > 0) {
				c->req_len += (uint32_t)got;
				continue;
			}
			if (got == 0) {
				c->eof = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				return conn_watch(srv, c, EPOLLIN);
			return -errno;
		}
		srv->requests++;
		if (n < 0) {
			memset(&r, 0, sizeof(r));
			r.status = 431;
			n = (int)c->req_len;
		}
		memmove(c->req, c->req + n, c->req_len - (uint32_t)n);
		c->req_len -= (uint32_t)n;
		start_response(srv, c, &r);
	}
}

static void
accept_all(struct server *srv)
{
	for (;;) {
		struct epoll_event ev;
		struct hconn *c;
		int fd = shunt_accept4(srv->sys, srv->lfd, NULL, NULL, SOCK_NONBLOCK), one = 1;

		if (fd < 0)
			return;	/* EAGAIN: all taken */
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			shunt_close(srv->sys, fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		shunt_setsockopt(srv->sys, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (shunt_epoll_ctl(srv->sys, srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			shunt_close(srv->sys, fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		if (c->next != NULL)
			c->next->prevp = &c->next;
		c->prevp = &srv->conns;
		srv->conns = c;
		srv->accepted++;
	}
}

/* --root DIR */
static int
root_option(void *arg, int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], "--root") != 0 || *i + 1 >= argc)
		return 0;
	*(const char **)arg = argv[++*i];
	return 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--root DIR] %s\n", prog, EX_COMMON_USAGE);
}

int
main(int argc, char **argv)
{
	const char *root = ".";
	struct epoll_event evs[MAX_EVENTS], ev;
	struct sockaddr_in sa;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct server srv;
	struct ex_opts o;
	char what[HTTP_PATH_MAX + 32];
	int i, r, one = 1, rc = 0;

	ex_opts_init(&o, "http_epoll", 80);
	r = ex_parse_args(&o, argc, argv, root_option, &root, usage);
	if (r >= 0)
		return r;
	memset(&srv, 0, sizeof(srv));
	srv.lfd = srv.epfd = -1;
	srv.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv.rootfd < 0) {
		fprintf(stderr, "%s: --root %s: %s\n", o.prog, root, strerror(errno));
		return 1;
	}
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	srv.sys = ex_sys_start(&o, s, nif);
	if (srv.sys == NULL)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(o.port);
	srv.lfd = shunt_socket(srv.sys, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	srv.epfd = shunt_epoll_create1(srv.sys, 0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (srv.lfd < 0 || srv.epfd < 0 ||
	    shunt_setsockopt(srv.sys, srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    shunt_bind(srv.sys, srv.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    shunt_listen(srv.sys, srv.lfd, 511) != 0 ||
	    shunt_epoll_ctl(srv.sys, srv.epfd, EPOLL_CTL_ADD, srv.lfd, &ev) != 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", o.prog, o.port, strerror(errno));
		rc = 1;
		goto out;
	}
	ex_catch_signals();
	snprintf(what, sizeof(what), "serving %s over HTTP (epoll)", root);
	ex_announce(&o, nif, what);
	while (!ex_stopped()) {
		int n = shunt_epoll_wait(srv.sys, srv.epfd, evs, MAX_EVENTS, STOP_POLL_MS);

		for (i = 0; i < n; i++) {
			struct hconn *c = evs[i].data.ptr;

			if (c == NULL) {
				accept_all(&srv);
				continue;
			}
			/* Errors and hang-ups show as a failing read or write in conn_run. */
			r = conn_run(&srv, c);
			if (r != 0)
				conn_close(&srv, c, r > 0);
		}
	}
	printf("%s: stopping: %llu connections (%llu closed, %llu failed), %llu requests (%llu ok, "
	    "%llu not found, %llu refused), %llu body bytes\n", o.prog, (unsigned long long)srv.accepted,
	    (unsigned long long)srv.closed, (unsigned long long)srv.failed, (unsigned long long)srv.requests,
	    (unsigned long long)srv.ok, (unsigned long long)srv.not_found, (unsigned long long)srv.errors,
	    (unsigned long long)srv.body_bytes);
out:
	while (srv.conns != NULL)
		conn_close(&srv, srv.conns, 1);
	if (srv.lfd >= 0)
		shunt_close(srv.sys, srv.lfd);
	if (srv.epfd >= 0)
		shunt_close(srv.sys, srv.epfd);
	shunt_sys_destroy(srv.sys);
	ex_finish(&o, s, nif);
	close(srv.rootfd);
	return rc;
}
