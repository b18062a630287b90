/*
 * A small HTTP/1.1 file server on shunt's raw (callback) API over a DPDK
 * port: GET and HEAD of the files under one directory, Content-Length,
 * keep-alive and pipelining, 404 for what is not there.  One thread, one poll
 * loop.  Bodies are sent without a copy: the file is mmap'd and the send
 * buffer gets EXT pbufs pointing into the mapping (shunt_tcp_write_pbuf),
 * which hold a reference on it until TCP has the bytes acknowledged -- the
 * raw-API cousin of sendfile().
 * Uses: the raw TCP API (<shunt/tcp.h>), EXT pbufs (<shunt/pbuf.h>) and the
 * DPDK driver (<shunt/dpdk.h>); request parsing is in http_util.h.
 *
 * Over net_tap, as root (the kernel is the peer on interface sh0):
 *   scripts/testbed.sh build/examples/http_raw --dpdk @EAL@ --ip 198.18.0.2/24 --root /usr/share/doc -- \
 *       curl -s http://198.18.0.2/bash/README
 *
 *   http_raw --dpdk 'EAL ARGS' --ip A.B.C.D/len [--root DIR] [--port 80] [--gw G] [--pcap FILE]
 *            [--faults SPEC] [--stats] [--sndbuf B] [--rcvbuf B] [--dev NAME] [--mtu N] ...
 *
 * Runs until SIGINT or SIGTERM, then prints what it served and the stack's
 * nonzero counters and exits 0.  A file truncated while it is being sent
 * faults the mapping (SIGBUS), as with any mmap-based server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <shunt/stack.h>
#include <shunt/netif.h>
#include <shunt/pbuf.h>
#include <shunt/tcp.h>
#include <shunt/dpdk.h>
#include "example_util.h"
#include "http_util.h"

/* Body bytes per EXT pbuf (a pbuf's length is 16 bits), and the least send-buffer room worth filling. */
#define BODY_CHUNK	(60 * 1024)
#define MIN_ROOM	(16 * 1024)

/* A mapped file, alive while a response or a pbuf in a send buffer uses it. */
struct fmap {
	uint8_t *addr;
	size_t len;
	uint32_t refs;
};

struct hconn;

struct server {
	struct shunt_stack *s;
	int rootfd;
	struct hconn *conns;
	uint64_t accepted, requests, ok, not_found, errors, body_bytes, reset;
};

struct hconn {
	struct server *srv;
	struct hconn *next, **prevp;
	struct shunt_tcp_pcb *pcb;
	struct shunt_pbuf *pending;	/* received, not yet parsed (window not reopened for it) */
	char req[HTTP_HEAD_MAX];	/* the request head being collected */
	uint32_t req_len;
	/* the response being queued */
	int responding;
	char head[512];
	uint32_t head_len, head_off;
	struct fmap *map;
	uint64_t body_off, body_left;
	int keep_alive;
	int eof;			/* the client's FIN came */
};

static void
fmap_unref(struct fmap *m)
{
	if (--m->refs > 0)
		return;
	if (m->addr != NULL)
		munmap(m->addr, m->len);
	free(m);
}

/* Free function of the body's EXT pbufs: runs when TCP lets go of the bytes. */
static void
body_pbuf_free(void *a, void *b)
{
	(void)b;
	fmap_unref(a);
}

static void
conn_free(struct hconn *c)
{
	if (c->pending != NULL)
		shunt_pbuf_free(c->pending);
	if (c->map != NULL)
		fmap_unref(c->map);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	free(c);
}

/* Maps a whole file; NULL on failure. */
static struct fmap *
fmap_open(int fd, uint64_t size)
{
	struct fmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->refs = 1;
	m->len = (size_t)size;
	if (size > 0) {
		m->addr = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
		if (m->addr == MAP_FAILED) {
			free(m);
			return NULL;
		}
		madvise(m->addr, m->len, MADV_SEQUENTIAL);
	}
	return m;
}

/* Sets up the response to the request r: head, and the file's bytes for a GET. */
static void
start_response(struct hconn *c, struct http_req *r)
{
	struct server *srv = c->srv;
	char body[64];
	uint64_t size = 0;
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
			c->map = fmap_open(fd, size);
			close(fd);
			status = c->map != NULL ? 200 : 500;
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
	/* Error bodies are short: they go in the head buffer, copied like the head. */
	n = http_error_body(body, sizeof(body), status);
	c->head_len = (uint32_t)http_head(c->head, sizeof(c->head), status, "text/plain; charset=utf-8",
	    (uint64_t)n, c->keep_alive);
	if (r->method != HTTP_HEAD && c->head_len + (uint32_t)n < sizeof(c->head)) {
		memcpy(c->head + c->head_len, body, (size_t)n);
		c->head_len += (uint32_t)n;
	}
}

/*
 * Queues as much of the response as the send buffer takes: the head by
 * copy, the body as EXT pbufs over the mapping.  Returns 1 when all of it is
 * queued, 0 when the sent callback must bring us back, <0 on error.
 */
static int
push_response(struct hconn *c)
{
	struct shunt_pbuf *p;
	int r;

	while (c->head_off < c->head_len) {
		r = shunt_tcp_write(c->pcb, c->head + c->head_off, c->head_len - c->head_off,
		    c->body_left > 0 ? SHUNT_TCP_WRITE_MORE : 0);
		if (r == -EAGAIN || r == -ENOBUFS)
			return 0;
		if (r < 0)
			return r;
		c->head_off += (uint32_t)r;
	}
	while (c->body_left > 0) {
		uint32_t room = shunt_tcp_sndbuf(c->pcb);
		uint32_t n = c->body_left < BODY_CHUNK ? (uint32_t)c->body_left : BODY_CHUNK;

		if (room < n && room < MIN_ROOM)
			return 0;
		if (n > room)
			n = room;
		p = shunt_pbuf_alloc_ext(c->srv->s, c->map->addr + c->body_off, (uint16_t)n, body_pbuf_free,
		    c->map, NULL);
		if (p == NULL)
			return 0;	/* out of pbuf headers: try again when ACKs free some */
		c->map->refs++;
		/* On success the stack owns p (and returns 0); on failure it is still ours. */
		r = shunt_tcp_write_pbuf(c->pcb, p, c->body_left > n ? SHUNT_TCP_WRITE_MORE : 0);
		if (r != 0) {
			shunt_pbuf_free(p);
			return r == -EAGAIN ? 0 : r;
		}
		c->body_off += n;
		c->body_left -= n;
		c->srv->body_bytes += n;
	}
	if (c->map != NULL) {
		fmap_unref(c->map);
		c->map = NULL;
	}
	c->responding = 0;
	return 1;
}

/* Moves received bytes into the request buffer, reopening the window for them. */
static void
fill_request(struct hconn *c)
{
	uint32_t moved = 0;

	while (c->pending != NULL && c->req_len < sizeof(c->req)) {
		struct shunt_pbuf *q = c->pending;
		uint32_t n = sizeof(c->req) - c->req_len, got;

		if (n > q->tot_len)
			n = q->tot_len;
		got = shunt_pbuf_copy_out(q, 0, c->req + c->req_len, n);
		c->req_len += got;
		moved += got;
		if (got == q->tot_len) {
			shunt_pbuf_free(q);
			c->pending = NULL;
		} else {
			/* Keep the rest: a slice of the chain beyond what we took. */
			struct shunt_pbuf *rest = shunt_pbuf_slice(c->srv->s, q, got, q->tot_len - got);

			if (rest == NULL)
				break;
			shunt_pbuf_free(q);
			c->pending = rest;
		}
	}
	if (moved > 0)
		shunt_tcp_recved(c->pcb, moved);
}

/*
 * The connection's state machine: finish the response in progress, then
 * parse and answer the next request (pipelined ones too), then close if the
 * client is done or did not want keep-alive.  Returns SHUNT_TCP_ABORTED if
 * the connection is gone.
 */
static int
conn_work(struct hconn *c)
{
	struct http_req r;
	int n;

	for (;;) {
		if (c->responding) {
			n = push_response(c);
			if (n < 0)
				goto abort;
			if (n == 0)
				return 0;
			if (!c->keep_alive)
				goto close;
		}
		fill_request(c);
		n = http_parse(c->req, c->req_len, &r);
		if (n == 0) {
			if (c->eof)
				goto close;
			return 0;
		}
		c->srv->requests++;
		if (n < 0) {
			memset(&r, 0, sizeof(r));
			r.status = 431;
			n = (int)c->req_len;
		}
		memmove(c->req, c->req + n, c->req_len - (uint32_t)n);
		c->req_len -= (uint32_t)n;
		start_response(c, &r);
	}
close:
	/* Queued data still goes out, then our FIN; the PCB is the stack's from here on. */
	shunt_tcp_close(c->pcb);
	conn_free(c);
	return 0;
abort:
	shunt_tcp_abort(c->pcb);	/* the err callback frees c */
	return SHUNT_TCP_ABORTED;
}

static int
conn_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct hconn *c = arg;

	(void)pcb;
	(void)err;
	if (p == NULL)
		c->eof = 1;
	else if (c->pending == NULL)
		c->pending = p;
	else
		shunt_pbuf_cat(c->pending, p);
	return conn_work(c);
}

static int
conn_sent(void *arg, struct shunt_tcp_pcb *pcb, uint32_t len)
{
	struct hconn *c = arg;

	(void)pcb;
	(void)len;
	return c->responding ? conn_work(c) : 0;
}

static void
conn_err(void *arg, int err)
{
	struct hconn *c = arg;

	if (err == -ECONNRESET)
		c->srv->reset++;
	conn_free(c);
}

static int
srv_accept(void *arg, struct shunt_tcp_pcb *newpcb, int err)
{
	struct server *srv = arg;
	struct hconn *c;

	if (err != 0)
		return err;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->srv = srv;
	c->pcb = newpcb;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &srv->conns;
	srv->conns = c;
	srv->accepted++;
	/* Responses are whole writes: no need to wait for more (Nagle would hold a head back). */
	shunt_tcp_setopt(newpcb, SHUNT_TCP_OPT_NODELAY, 1);
	shunt_tcp_arg(newpcb, c);
	shunt_tcp_recv(newpcb, conn_recv);
	shunt_tcp_sent(newpcb, conn_sent);
	shunt_tcp_err(newpcb, conn_err);
	return 0;
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
	struct shunt_tcp_pcb *lpcb;
	struct shunt_netif *nif;
	struct shunt_stack *s;
	struct ex_poller pl;
	struct server srv;
	struct ex_opts o;
	char what[HTTP_PATH_MAX + 32];
	int r, err;

	ex_opts_init(&o, "http_raw", 80);
	r = ex_parse_args(&o, argc, argv, root_option, &root, usage);
	if (r >= 0)
		return r;
	memset(&srv, 0, sizeof(srv));
	srv.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv.rootfd < 0) {
		fprintf(stderr, "%s: --root %s: %s\n", o.prog, root, strerror(errno));
		return 1;
	}
	s = ex_start(&o, &nif);
	if (s == NULL)
		return 1;
	srv.s = s;
	lpcb = shunt_tcp_new(s);
	if (lpcb == NULL) {
		fprintf(stderr, "%s: shunt_tcp_new: out of memory\n", o.prog);
		ex_finish(&o, s, nif);
		return 1;
	}
	shunt_tcp_setopt(lpcb, SHUNT_TCP_OPT_REUSEADDR, 1);
	err = shunt_tcp_bind(lpcb, 0, htons(o.port));
	if (err == 0)
		err = shunt_tcp_listen(lpcb, 128);
	if (err != 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", o.prog, o.port, strerror(-err));
		shunt_tcp_close(lpcb);
		ex_finish(&o, s, nif);
		return 1;
	}
	shunt_tcp_arg(lpcb, &srv);
	shunt_tcp_accept(lpcb, srv_accept);
	ex_catch_signals();
	snprintf(what, sizeof(what), "serving %s over HTTP", root);
	ex_announce(&o, nif, what);
	ex_poller_init(&pl, s);
	while (!ex_stopped())
		ex_poll(&pl);
	printf("%s: stopping: %llu connections, %llu requests (%llu ok, %llu not found, %llu refused), "
	    "%llu body bytes, %llu connections reset by clients\n", o.prog, (unsigned long long)srv.accepted,
	    (unsigned long long)srv.requests, (unsigned long long)srv.ok, (unsigned long long)srv.not_found,
	    (unsigned long long)srv.errors, (unsigned long long)srv.body_bytes, (unsigned long long)srv.reset);
	shunt_tcp_close(lpcb);
	while (srv.conns != NULL)
		shunt_tcp_abort(srv.conns->pcb);
	/* The stack lets go of the body pbufs still queued: that unmaps the last files. */
	ex_finish(&o, s, nif);
	close(srv.rootfd);
	return 0;
}
